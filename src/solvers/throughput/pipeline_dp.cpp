// pipeline-dp: see pipeline_dp.h and docs/throughput.md ("pipeline-dp").
//
// Cost of a stage S = ops at topological positions [j, i) on device d (kind q):
//   compute   sum_{v in S} p[v][d]
//   E         tensors produced before j (by an op) with a consumer in S, each at
//             max_{k != d} c[t][k][d]: bounds every link into d from an earlier stage
//   Inp       graph inputs consumed in S, c[t][io][d] (0 when d is the I/O device)
//   Out       graph outputs produced in S, c[t][d][io] (0 when d is the I/O device)
//   G         tensors produced in S with a consumer after S, c[t][d][io]: charged only when the
//             I/O device hosts a later stage (its link from d carries them and the outputs)
//   in  = E on the I/O device; E + Inp when the I/O device hosts an earlier stage (link io->d
//         carries both); max(E, Inp) otherwise
//   out = Out (+ G as above)
//   U(S) = max(compute, in, out); U(split) = max over stages.
// Every device and link direction of the analytic period is covered by one of these terms, so
// the period is <= U. The DP is exact for U: its state is (boundary i, number of devices used of
// each kind), U of a stage depends only on its own boundaries, its kind and whether the I/O
// device is already used (part of the state), and G depends on whether the I/O device is used
// at all, so the DP runs twice (I/O device excluded; I/O device required) and keeps the better.
#include "solvers/throughput/pipeline_dp.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace diviml {

namespace {

bool same_kind(const ThroughputInstance& in, int a, int b) {
  if (a == in.io || b == in.io || in.capacity[a] != in.capacity[b]) return false;
  for (int v = 0; v < in.n; ++v)
    if (in.exec(v, a) != in.exec(v, b)) return false;
  for (size_t t = 0; t < in.tensors.size(); ++t) {
    const int ti = static_cast<int>(t);
    if (in.comm(ti, a, b) != in.comm(ti, b, a)) return false;
    for (int x = 0; x < in.K; ++x) {
      if (x == a || x == b) continue;
      if (in.comm(ti, a, x) != in.comm(ti, b, x) || in.comm(ti, x, a) != in.comm(ti, x, b)) return false;
    }
  }
  return true;
}

/// Per tensor: topological position of the producer (-1: graph input) and of its consumers.
struct TensorPos {
  int producer = -1;
  std::vector<int> consumers;  // sorted
};

std::vector<TensorPos> tensor_positions(const ThroughputInstance& in, const std::vector<int>& pos) {
  std::vector<TensorPos> tp(in.tensors.size());
  for (size_t t = 0; t < in.tensors.size(); ++t) {
    const auto& ts = in.tensors[t];
    tp[t].producer = ts.producer < 0 ? -1 : pos[ts.producer];
    for (int c : ts.consumers) tp[t].consumers.push_back(pos[c]);
    std::sort(tp[t].consumers.begin(), tp[t].consumers.end());
  }
  return tp;
}

/// max over sources k != d of c[t][k][d].
double max_in_cost(const ThroughputInstance& in, int t, int d) {
  double m = 0;
  for (int k = 0; k < in.K; ++k)
    if (k != d) m = std::max(m, in.comm(t, k, d));
  return m;
}

}  // namespace

std::vector<std::vector<int>> device_kinds(const ThroughputInstance& in) {
  std::vector<std::vector<int>> kinds;
  std::vector<char> used(in.K, 0);
  for (int a = 0; a < in.K; ++a) {
    if (used[a]) continue;
    std::vector<int> cls{a};
    used[a] = 1;
    for (int b = a + 1; b < in.K; ++b)
      if (!used[b] && same_kind(in, a, b)) cls.push_back(b), used[b] = 1;
    kinds.push_back(std::move(cls));
  }
  return kinds;
}

PipelineDpResult pipeline_dp(const ThroughputInstance& in) {
  const int n = in.n, io = in.io;
  const auto kinds = device_kinds(in);
  const int Q = static_cast<int>(kinds.size());
  int qio = -1;
  for (int q = 0; q < Q; ++q)
    if (kinds[q][0] == io) qio = q;
  // Mixed-radix index of the devices-used-per-kind vector.
  std::vector<long long> mult(Q);
  long long C = 1;
  for (int q = 0; q < Q; ++q) {
    mult[q] = C;
    C *= static_cast<long long>(kinds[q].size()) + 1;
    if (C > 1000000) break;
  }
  const double work = static_cast<double>(C) * Q * (static_cast<double>(n) + 1) * (n + 1) / 2;
  if (C > 1000000 || work > 4e9)
    throw InputError(fmt::format("pipeline-dp: {} device kinds give too many states ({} per boundary, {} ops); "
                                 "identical devices are counted by kind, distinct ones are not",
                                 Q, C, n));
  auto count = [&](long long cv, int q) { return static_cast<int>((cv / mult[q]) % (static_cast<long long>(kinds[q].size()) + 1)); };

  std::vector<int> pos(n);
  for (int i = 0; i < n; ++i) pos[in.topo[i]] = i;
  const std::vector<TensorPos> tp = tensor_positions(in, pos);
  const int T = static_cast<int>(in.tensors.size());
  // Per kind (its first device stands for all): prefix sums of compute and memory, per-tensor costs.
  std::vector<std::vector<double>> comp(Q, std::vector<double>(n + 1, 0)), mem(Q, std::vector<double>(n + 1, 0));
  std::vector<std::vector<double>> cin(Q, std::vector<double>(T, 0)), cio_in(Q, std::vector<double>(T, 0)),
      cio_out(Q, std::vector<double>(T, 0));
  std::vector<double> mem_cap(Q);
  for (int q = 0; q < Q; ++q) {
    const int d = kinds[q][0];
    for (int i = 0; i < n; ++i) {
      const int v = in.topo[i];
      comp[q][i + 1] = comp[q][i] + in.exec(v, d);
      mem[q][i + 1] = mem[q][i] + in.weight[v] + (in.activation.empty() ? 0.0 : in.activation[v]);
    }
    mem_cap[q] = in.capacity[d] * (1 + 1e-12) - (d == io ? in.io_activation : 0.0);
    for (int t = 0; t < T; ++t) {
      cin[q][t] = max_in_cost(in, t, d);
      if (io >= 0 && d != io) {
        cio_in[q][t] = in.comm(t, io, d);
        cio_out[q][t] = in.comm(t, d, io);
      }
    }
  }

  PipelineDpResult best;
  best.cost = kInf;
  const size_t S = static_cast<size_t>(n + 1) * C;
  // Variant 0: the I/O device hosts no stage (or there is none); variant 1: it hosts one.
  for (int variant = 0; variant < (io >= 0 && qio >= 0 ? 2 : 1); ++variant) {
    const bool io_stage = variant == 1;
    std::vector<double> f(S, kInf);
    std::vector<int> from_j(S, -1), from_q(S, -1);
    f[0] = 0;
    // Per start j: stage terms for every end i, per kind (E, Inp, Out, G as deltas, then sums).
    std::vector<std::vector<double>> E(Q), Inp(Q), Out(Q), G(Q);
    for (int q = 0; q < Q; ++q) E[q].resize(n + 2), Inp[q].resize(n + 2), Out[q].resize(n + 2), G[q].resize(n + 2);
    for (int j = 0; j < n; ++j) {
      bool any = false;
      for (long long cv = 0; cv < C && !any; ++cv) any = std::isfinite(f[static_cast<size_t>(j) * C + cv]);
      if (!any) continue;
      for (int q = 0; q < Q; ++q) {
        std::fill(E[q].begin(), E[q].end(), 0.0);
        std::fill(Inp[q].begin(), Inp[q].end(), 0.0);
        std::fill(Out[q].begin(), Out[q].end(), 0.0);
        std::fill(G[q].begin(), G[q].end(), 0.0);
      }
      for (int t = 0; t < T; ++t) {
        const TensorPos& x = tp[t];
        if (x.producer < j) {
          // Enters the stage [j, i) for every i beyond its first consumer at or after j.
          const auto it = std::lower_bound(x.consumers.begin(), x.consumers.end(), j);
          if (it == x.consumers.end()) continue;
          const int at = *it + 1;
          for (int q = 0; q < Q; ++q) (x.producer < 0 ? Inp[q] : E[q])[at] += x.producer < 0 ? cio_in[q][t] : cin[q][t];
        } else {
          const int at = x.producer + 1;
          if (in.tensors[t].output)
            for (int q = 0; q < Q; ++q) Out[q][at] += cio_out[q][t];
          if (io_stage && !x.consumers.empty() && x.consumers.back() >= at)
            for (int q = 0; q < Q; ++q) G[q][at] += cio_out[q][t], G[q][x.consumers.back() + 1] -= cio_out[q][t];
        }
      }
      for (int q = 0; q < Q; ++q)
        for (int i = j + 1; i <= n; ++i) {
          E[q][i] += E[q][i - 1];
          Inp[q][i] += Inp[q][i - 1];
          Out[q][i] += Out[q][i - 1];
          G[q][i] += G[q][i - 1];
        }
      for (long long cv = 0; cv < C; ++cv) {
        const double base = f[static_cast<size_t>(j) * C + cv];
        if (!std::isfinite(base)) continue;
        const bool io_before = qio >= 0 && count(cv, qio) > 0;
        for (int q = 0; q < Q; ++q) {
          if (count(cv, q) >= static_cast<int>(kinds[q].size())) continue;
          if (q == qio && !io_stage) continue;
          const bool on_io = q == qio;
          const long long ncv = cv + mult[q];
          for (int i = j + 1; i <= n; ++i) {
            const double cp = comp[q][i] - comp[q][j];
            if (!std::isfinite(cp) || mem[q][i] - mem[q][j] > mem_cap[q]) break;  // only grows with i
            const double in_cost = on_io ? E[q][i] : io_before ? E[q][i] + Inp[q][i] : std::max(E[q][i], Inp[q][i]);
            const double out_cost = on_io ? 0.0 : Out[q][i] + (io_stage && !io_before ? G[q][i] : 0.0);
            const double val = std::max({base, cp, in_cost, out_cost});
            const size_t s = static_cast<size_t>(i) * C + ncv;
            if (val < f[s]) f[s] = val, from_j[s] = j, from_q[s] = q;
          }
        }
      }
    }
    for (long long cv = 0; cv < C; ++cv) {
      const size_t s = static_cast<size_t>(n) * C + cv;
      if (std::isfinite(f[s])) ++best.states;
      if (io_stage && count(cv, qio) == 0) continue;  // G was charged for an I/O stage that never came
      if (f[s] < best.cost) {
        best.cost = f[s];
        // Walk back: stages from the last to the first; devices of a kind in order of use.
        std::vector<std::pair<int, int>> stages;  // (start, kind), last first
        int i = n;
        long long c = cv;
        while (i > 0) {
          const size_t st = static_cast<size_t>(i) * C + c;
          stages.push_back({from_j[st], from_q[st]});
          c -= mult[from_q[st]];
          i = from_j[st];
        }
        std::reverse(stages.begin(), stages.end());
        best.place.assign(n, -1);
        std::vector<int> used(Q, 0);
        for (size_t k = 0; k < stages.size(); ++k) {
          const int start = stages[k].first, end = k + 1 < stages.size() ? stages[k + 1].first : n;
          const int q = stages[k].second;
          const int d = kinds[q][used[q]++];
          for (int p = start; p < end; ++p) best.place[in.topo[p]] = d;
        }
      }
    }
  }
  if (best.place.empty()) throw InputError("pipeline-dp: no contiguous pipeline fits the devices' memory");
  return best;
}

double contiguous_split_cost(const ThroughputInstance& in, const std::vector<int>& place) {
  const int n = in.n, io = in.io, K = in.K;
  std::vector<int> pos(n);
  for (int i = 0; i < n; ++i) pos[in.topo[i]] = i;
  // Stages as runs of one device along the topological order.
  std::vector<std::pair<int, int>> stages;  // (start position, device)
  for (int i = 0; i < n; ++i)
    if (i == 0 || place[in.topo[i]] != place[in.topo[i - 1]]) stages.push_back({i, place[in.topo[i]]});
  std::vector<char> seen(K, 0);
  bool io_used = false;
  for (auto [s, d] : stages) {
    if (seen[d]) return kInf;
    seen[d] = 1;
    io_used = io_used || d == io;
  }
  const std::vector<TensorPos> tp = tensor_positions(in, pos);
  double U = 0;
  bool io_before = false;
  for (size_t k = 0; k < stages.size(); ++k) {
    const int j = stages[k].first, i = k + 1 < stages.size() ? stages[k + 1].first : n, d = stages[k].second;
    double cp = 0, m = d == io ? in.io_activation : 0.0;
    for (int p = j; p < i; ++p) {
      const int v = in.topo[p];
      cp += in.exec(v, d);
      m += in.weight[v] + (in.activation.empty() ? 0.0 : in.activation[v]);
    }
    if (!std::isfinite(cp) || m > in.capacity[d] * (1 + 1e-12)) return kInf;
    double E = 0, Inp = 0, Out = 0, G = 0;
    for (size_t t = 0; t < tp.size(); ++t) {
      const int ti = static_cast<int>(t);
      const TensorPos& x = tp[t];
      bool consumed_here = false, consumed_after = false;
      for (int c : x.consumers) consumed_here = consumed_here || (c >= j && c < i), consumed_after = consumed_after || c >= i;
      if (x.producer < j && consumed_here) {
        if (x.producer >= 0) E += max_in_cost(in, ti, d);
        else if (io >= 0 && d != io) Inp += in.comm(ti, io, d);
      }
      if (x.producer >= j && x.producer < i && io >= 0 && d != io) {
        if (in.tensors[t].output) Out += in.comm(ti, d, io);
        if (consumed_after) G += in.comm(ti, d, io);
      }
    }
    const bool on_io = d == io;
    const double in_cost = on_io ? E : io_before ? E + Inp : std::max(E, Inp);
    const double out_cost = on_io ? 0.0 : Out + (io_used && !io_before ? G : 0.0);
    U = std::max({U, cp, in_cost, out_cost});
    io_before = io_before || on_io;
  }
  return U;
}

}  // namespace diviml

#include "schedule/simulator.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include <fmt/format.h>

#include "platform/units.h"
#include "schedule/timing.h"

namespace diviml {

void check_schedule_structure(const Problem& pb, const Schedule& s) {
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  if (static_cast<int>(s.device.size()) != n)
    throw ScheduleError(fmt::format("schedule places {} ops but graph '{}' has {}", s.device.size(), g.name, n));
  if (static_cast<int>(s.order.size()) != K)
    throw ScheduleError(fmt::format("schedule has orders for {} devices but the platform has {}", s.order.size(), K));
  for (OpId v = 0; v < n; ++v) {
    const int k = s.device[v];
    if (k < 0 || k >= K) throw ScheduleError(fmt::format("op '{}' is on device #{}, which does not exist", g.ops[v].name, k));
    if (!pb.can_run(v, k))
      throw ScheduleError(fmt::format("op '{}' (type {}) is on device '{}', which cannot run it", g.ops[v].name,
                                      g.ops[v].type, pb.platform().devices[k].name));
  }
  std::vector<int> seen(n, 0);
  for (int k = 0; k < K; ++k)
    for (OpId v : s.order[k]) {
      if (v < 0 || v >= n) throw ScheduleError(fmt::format("device '{}' orders op #{}, which does not exist", pb.platform().devices[k].name, v));
      if (s.device[v] != k)
        throw ScheduleError(fmt::format("op '{}' is placed on '{}' but ordered on '{}'", g.ops[v].name,
                                        pb.platform().devices[s.device[v]].name, pb.platform().devices[k].name));
      if (seen[v]++) throw ScheduleError(fmt::format("op '{}' appears twice in the order of '{}'", g.ops[v].name, pb.platform().devices[k].name));
    }
  for (OpId v = 0; v < n; ++v)
    if (!seen[v]) throw ScheduleError(fmt::format("op '{}' is missing from the order of its device", g.ops[v].name));
}

namespace {

/// Names the ops of a wait-for cycle among the ops that never started.
std::string describe_deadlock(const Problem& pb, const Schedule& s, const std::vector<OpId>& prev,
                              const std::vector<bool>& done) {
  const Graph& g = pb.graph();
  OpId v = 0;
  while (done[v]) ++v;
  std::vector<int> pos(pb.num_ops(), -1);
  std::vector<OpId> path;
  while (pos[v] < 0) {
    pos[v] = static_cast<int>(path.size());
    path.push_back(v);
    OpId next = kNoOp;
    if (prev[v] != kNoOp && !done[prev[v]]) next = prev[v];
    for (OpId u : g.pred(v))
      if (next == kNoOp && !done[u]) next = u;
    v = next;
  }
  std::string cyc;
  for (size_t i = pos[v]; i < path.size(); ++i)
    cyc += fmt::format("'{}' on {} waits for ", g.ops[path[i]].name, pb.platform().devices[s.device[path[i]]].name);
  return fmt::format("schedule deadlocks: the device orders contradict the dependencies: {}'{}'", cyc, g.ops[v].name);
}

}  // namespace

LatencyResult simulate_latency(const Problem& pb, const Schedule& s, const SimOptions& opt) {
  check_schedule_structure(pb, s);
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  const int io = pb.io_device();
  LatencyResult r;
  r.start.assign(n, 0);
  r.finish.assign(n, 0);
  r.device_busy.assign(K, 0);

  std::vector<OpId> prev(n, kNoOp), next(n, kNoOp);
  for (int k = 0; k < K; ++k)
    for (size_t i = 1; i < s.order[k].size(); ++i) {
      prev[s.order[k][i]] = s.order[k][i - 1];
      next[s.order[k][i - 1]] = s.order[k][i];
    }
  // waiting[v]: input tensors not yet arrived + 1 if the previous op on the device is unfinished.
  std::vector<int> waiting(n, 0);
  std::vector<double> ready(n, 0);  // max arrival of inputs so far
  for (OpId v = 0; v < n; ++v) {
    const auto& in = g.ops[v].inputs;
    for (size_t i = 0; i < in.size(); ++i)
      if (g.tensors[in[i]].producer != kNoOp && std::find(in.begin(), in.begin() + i, in[i]) == in.begin() + i)
        ++waiting[v];
    if (prev[v] != kNoOp) ++waiting[v];
  }
  // Times follow the rules of timing.h; contention only delays when a transfer leaves.
  std::vector<double> link_free(static_cast<size_t>(K) * K, 0);
  auto send = [&](TensorId t, int from, int to, double ready_time, bool is_io) {
    double start = ready_time;
    const double bytes = g.tensors[t].bytes;
    if (opt.contention) {
      double& free_at = link_free[static_cast<size_t>(from) * K + to];
      start = std::max(start, free_at);
      free_at = timing::transfer_finish(pb, bytes, from, to, start);
    }
    const double finish = timing::transfer_finish(pb, bytes, from, to, start);
    r.transfers.push_back(Transfer{t, from, to, start, finish, is_io});
    return finish;
  };

  using Item = std::pair<double, int>;  // (finish, topo rank): deterministic tie-break
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  const auto& rank = g.topo_rank();
  auto try_start = [&](OpId v) {
    if (waiting[v] != 0) return;
    const double st = timing::op_start(prev[v] != kNoOp ? r.finish[prev[v]] : 0.0, ready[v]);
    r.start[v] = st;
    r.finish[v] = st + pb.exec(v, s.device[v]);
    heap.emplace(r.finish[v], rank[v]);
  };

  // Graph inputs leave the I/O device at time 0 (timing::input_arrival), once per consumer device.
  for (TensorId t : g.graph_inputs()) {
    std::vector<int> dests;
    for (OpId c : g.tensors[t].consumers) dests.push_back(s.device[c]);
    std::sort(dests.begin(), dests.end());
    dests.erase(std::unique(dests.begin(), dests.end()), dests.end());
    for (int l : dests) {
      const double arrive = (io < 0 || io == l) ? 0.0 : send(t, io, l, 0.0, true);
      for (OpId c : g.tensors[t].consumers)
        if (s.device[c] == l) ready[c] = std::max(ready[c], arrive);
    }
  }
  for (OpId v = 0; v < n; ++v) try_start(v);

  double makespan = 0;
  std::vector<bool> done(n, false);
  int finished = 0;
  const auto& topo = g.topo_order();
  while (!heap.empty()) {
    const OpId u = topo[heap.top().second];
    heap.pop();
    done[u] = true;
    ++finished;
    const int ku = s.device[u];
    const double fu = r.finish[u];
    r.device_busy[ku] += fu - r.start[u];
    makespan = std::max(makespan, fu);
    for (TensorId t : g.ops[u].outputs) {
      const Tensor& ts = g.tensors[t];
      std::vector<double> arrival(K, -1);
      arrival[ku] = fu;
      for (OpId c : ts.consumers) {
        const int l = s.device[c];
        if (arrival[l] < 0) arrival[l] = send(t, ku, l, fu, false);
        ready[c] = std::max(ready[c], arrival[l]);
        --waiting[c];
        try_start(c);
      }
      if (ts.is_graph_output) {  // timing::output_delivered, through the link model
        const double delivered = (io < 0 || io == ku) ? fu : send(t, ku, io, fu, true);
        makespan = std::max(makespan, delivered);
      }
    }
    if (next[u] != kNoOp) {
      --waiting[next[u]];
      try_start(next[u]);
    }
  }
  if (finished != n) throw ScheduleError(describe_deadlock(pb, s, prev, done));
  r.makespan = makespan;

  // Memory: weights once per device, plus the peak of live activation tensors.
  r.memory.assign(K, {});
  for (int k = 0; k < K; ++k) {
    r.memory[k].capacity_bytes = pb.platform().devices[k].memory_bytes;
    r.memory[k].reserve_bytes = pb.platform().devices[k].reserve_bytes;
  }
  for (OpId v = 0; v < n; ++v) r.memory[s.device[v]].weight_bytes += g.ops[v].weight_bytes;
  // Residency of tensor t on device k: [alloc, free). Events (time, +/-bytes).
  std::vector<std::vector<std::pair<double, double>>> events(K);
  std::vector<double> alloc(K), release(K);
  std::vector<std::vector<int>> transfers_of(g.num_tensors());
  for (size_t i = 0; i < r.transfers.size(); ++i) transfers_of[r.transfers[i].tensor].push_back(static_cast<int>(i));
  for (TensorId t = 0; t < g.num_tensors(); ++t) {
    const Tensor& ts = g.tensors[t];
    if (ts.bytes <= 0 || (ts.producer == kNoOp && ts.consumers.empty())) continue;
    std::fill(alloc.begin(), alloc.end(), kInf);
    std::fill(release.begin(), release.end(), -kInf);
    if (ts.producer != kNoOp) {
      const int k = s.device[ts.producer];
      alloc[k] = r.start[ts.producer];
      release[k] = r.finish[ts.producer];
    } else if (io >= 0) {
      alloc[io] = 0;
      release[io] = 0;
    }
    for (OpId c : ts.consumers) {
      const int k = s.device[c];
      if (ts.producer == kNoOp && io < 0) alloc[k] = 0;
      release[k] = std::max(release[k], r.finish[c]);
    }
    if (ts.is_graph_output && io >= 0) release[io] = r.makespan;
    for (int xi : transfers_of[t]) {
      const Transfer& x = r.transfers[xi];
      alloc[x.to] = std::min(alloc[x.to], x.start);
      release[x.to] = std::max(release[x.to], x.finish);
      release[x.from] = std::max(release[x.from], x.finish);
    }
    for (int k = 0; k < K; ++k)
      if (alloc[k] < kInf) {
        events[k].emplace_back(alloc[k], ts.bytes);
        events[k].emplace_back(std::max(alloc[k], release[k]), -ts.bytes);
      }
  }
  for (int k = 0; k < K; ++k) {
    std::sort(events[k].begin(), events[k].end());  // frees (negative) first at equal times
    double live = 0, peak = 0;
    for (const auto& [time, delta] : events[k]) {
      live += delta;
      peak = std::max(peak, live);
    }
    r.memory[k].peak_activation_bytes = peak;
    if (r.memory[k].used() > r.memory[k].capacity_bytes * (1 + 1e-12))
      r.memory_violations.push_back(fmt::format(
          "device '{}' needs {} (weights {} + peak activations {} + reserve {}) but has {}",
          pb.platform().devices[k].name, format_bytes(r.memory[k].used()), format_bytes(r.memory[k].weight_bytes),
          format_bytes(peak), format_bytes(r.memory[k].reserve_bytes), format_bytes(r.memory[k].capacity_bytes)));
  }
  return r;
}

std::vector<std::string> check_claimed_times(const Problem& pb, const Schedule& s, double tol) {
  std::vector<std::string> errs;
  if (s.start.empty()) return errs;
  const Graph& g = pb.graph();
  auto slack = [&](double a) { return tol * std::max(1.0, std::abs(a)); };
  std::vector<double> finish(pb.num_ops());
  for (OpId v = 0; v < pb.num_ops(); ++v) finish[v] = s.start[v] + pb.exec(v, s.device[v]);
  for (OpId v = 0; v < pb.num_ops(); ++v) {
    const int kv = s.device[v];
    if (s.start[v] < -slack(0)) errs.push_back(fmt::format("op '{}' starts before 0", g.ops[v].name));
    for (TensorId t : g.ops[v].inputs) {
      const double avail =
          timing::arrival(pb, g.tensors[t].producer, g.tensors[t].bytes, kv, s.device.data(), finish.data());
      if (s.start[v] < avail - slack(avail))
        errs.push_back(fmt::format("precedence violated: op '{}' starts at {:.9g} but input '{}' arrives at {:.9g}",
                                   g.ops[v].name, s.start[v], g.tensors[t].name, avail));
    }
  }
  for (int k = 0; k < pb.num_devices(); ++k)
    for (size_t i = 1; i < s.order[k].size(); ++i) {
      const OpId a = s.order[k][i - 1], b = s.order[k][i];
      const double fa = finish[a];
      if (s.start[b] < fa - slack(fa))
        errs.push_back(fmt::format("overlap on '{}': op '{}' starts at {:.9g} before '{}' finishes at {:.9g}",
                                   pb.platform().devices[k].name, g.ops[b].name, s.start[b], g.ops[a].name, fa));
    }
  return errs;
}

double critical_path_fastest(const Problem& pb) {
  const Graph& g = pb.graph();
  std::vector<double> finish(pb.num_ops(), 0);
  double cp = 0;
  for (OpId v : g.topo_order()) {
    double st = 0;
    for (OpId u : g.pred(v)) st = std::max(st, finish[u]);
    finish[v] = st + pb.min_exec(v);
    cp = std::max(cp, finish[v]);
  }
  return cp;
}

}  // namespace diviml

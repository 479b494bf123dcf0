// Throughput methods: see throughput_solvers.h and docs/throughput.md.
#include "solvers/throughput/throughput_solvers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "solvers/bounds/bounds.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/llm/llm_methods.h"
#include "solvers/milp/cbc_backend.h"
#include "solvers/split/split.h"
#include "solvers/throughput/throughput_model.h"

namespace diviml {

namespace {

using Place = std::vector<std::vector<int>>;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double period_of(const ThroughputInstance& in, const Place& p) { return compute_loads(in, p).period; }
double throughput_of(const ThroughputInstance& in, const Place& p) {
  const double P = period_of(in, p);
  return P > 0 ? static_cast<double>(p.size()) / P : std::numeric_limits<double>::infinity();
}

Place replicate(const std::vector<int>& one, int R) { return Place(R, one); }

/// Device classes usable for symmetry breaking (the I/O device is never swapped).
std::vector<std::vector<int>> symmetry_classes(const Problem& pb) {
  std::vector<std::vector<int>> out;
  for (auto cls : pb.identical_device_classes()) {
    cls.erase(std::remove(cls.begin(), cls.end(), pb.io_device()), cls.end());
    if (cls.size() >= 2) out.push_back(cls);
  }
  return out;
}

bool hosts_all(const ThroughputInstance& in, int k) {
  double w = 0;
  for (int v = 0; v < in.n; ++v) {
    if (!std::isfinite(in.exec(v, k))) return false;
    w += in.weight[v];
  }
  return w <= in.capacity[k];
}

/// Single-inference latency of every replica (latency simulator), max over replicas.
double max_replica_latency(const Problem& pb, const Place& p) {
  double worst = 0;
  std::map<std::vector<int>, double> seen;
  for (const auto& rep : p) {
    auto it = seen.find(rep);
    if (it == seen.end()) {
      const Schedule s = schedule_from_order(pb, rep, pb.graph().topo_order());
      it = seen.emplace(rep, simulate_latency(pb, s).makespan).first;
    }
    worst = std::max(worst, it->second);
  }
  return worst;
}

struct Ctx {
  const Problem& pb;
  const ThroughputInstance& in;
  const ThroughputOptions& opt;
  clock_type::time_point t0;
  bool latency_ok(const Place& p) const {
    return opt.max_latency_s <= 0 || max_replica_latency(pb, p) <= opt.max_latency_s * (1 + 1e-9);
  }
  bool interrupted() const { return opt.solve.interrupt && opt.solve.interrupt->load(); }
  double time_left() const { return opt.solve.time_limit_s - seconds_since(t0); }
};

// ---------------------------------------------------------------------------------------------
// Baselines.

/// Per device alone: the period of the whole model on it (compute, input and output links).
std::vector<double> single_device_periods(const Ctx& c) {
  std::vector<double> P(c.in.K, kInf);
  for (int k = 0; k < c.in.K; ++k) {
    if (!hosts_all(c.in, k)) continue;
    const Place p = replicate(std::vector<int>(c.in.n, k), 1);
    if (!c.latency_ok(p)) continue;
    P[k] = period_of(c.in, p);
  }
  return P;
}

std::string device_list_reason(const Ctx& c) {
  return fmt::format("no device can hold the whole model (weights {:.4g} bytes){}",
                     std::accumulate(c.in.weight.begin(), c.in.weight.end(), 0.0),
                     c.opt.max_latency_s > 0 ? fmt::format(" within the latency cap {:.6g} s", c.opt.max_latency_s) : "");
}

Place fastest_device(const Ctx& c, int R) {
  const auto P = single_device_periods(c);
  const int k = static_cast<int>(std::min_element(P.begin(), P.end()) - P.begin());
  if (!std::isfinite(P[k])) throw InputError("fastest-device: " + device_list_reason(c));
  return replicate(std::vector<int>(c.in.n, k), std::max(1, R));
}

/// Replica counts per device minimising max_k n_k P_k for a total of R.
std::vector<int> split_replicas(const std::vector<double>& P, int R) {
  std::vector<int> cnt(P.size(), 0);
  for (int i = 0; i < R; ++i) {
    int best = -1;
    for (int k = 0; k < static_cast<int>(P.size()); ++k)
      if (std::isfinite(P[k]) && (best < 0 || (cnt[k] + 1) * P[k] < (cnt[best] + 1) * P[best])) best = k;
    ++cnt[best];
  }
  return cnt;
}

Place data_parallel(const Ctx& c, int R) {
  const auto P = single_device_periods(c);
  if (std::none_of(P.begin(), P.end(), [](double x) { return std::isfinite(x); }))
    throw InputError("data-parallel: " + device_list_reason(c));
  auto build = [&](int r) {
    const auto cnt = split_replicas(P, r);
    Place p;
    for (int k = 0; k < c.in.K; ++k)
      for (int i = 0; i < cnt[k]; ++i) p.push_back(std::vector<int>(c.in.n, k));
    return p;
  };
  if (R > 0) return build(R);
  Place best;
  double best_thr = -1;
  for (int r = 1; r <= 16; ++r) {
    const Place p = build(r);
    const double thr = throughput_of(c.in, p);
    if (thr > best_thr * (1 + 1e-9)) {
      best_thr = thr;
      best = p;
    }
  }
  return best;
}

/// Contiguous stages over the topological order, one stage per device at most, by dynamic
/// programming on (boundary, set of devices used, device of the last stage). The stage cost
/// is max(compute, transfers from the previous stage's device, inputs from and outputs to I/O);
/// the result is re-evaluated exactly.
std::vector<int> pipeline_dp(const Ctx& c) {
  const ThroughputInstance& in = c.in;
  const int n = in.n, K = in.K, io = in.io;
  if (K > 12) throw InputError("pipeline-dp: more than 12 devices");
  const int maxB = K <= 4 ? 240 : K <= 6 ? 120 : 50;
  // Candidate boundaries: positions in the topological order, evenly spaced by fastest work.
  std::vector<int> bnd;
  if (n + 1 <= maxB) {
    for (int i = 0; i <= n; ++i) bnd.push_back(i);
  } else {
    std::vector<double> cum(n + 1, 0);
    for (int i = 0; i < n; ++i) {
      double mn = kInf;
      for (int k = 0; k < K; ++k) mn = std::min(mn, in.exec(in.topo[i], k));
      cum[i + 1] = cum[i] + (std::isfinite(mn) ? mn : 0) + 1e-12;
    }
    bnd.push_back(0);
    for (int s = 1; s < maxB - 1; ++s) {
      const double target = cum[n] * s / (maxB - 1);
      const int i = static_cast<int>(std::lower_bound(cum.begin(), cum.end(), target) - cum.begin());
      if (i > bnd.back() && i < n) bnd.push_back(i);
    }
    bnd.push_back(n);
  }
  const int B = static_cast<int>(bnd.size());
  std::vector<int> pos(n);
  for (int i = 0; i < n; ++i) pos[in.topo[i]] = i;
  // Prefix sums of compute and weight per device.
  std::vector<std::vector<double>> comp(K, std::vector<double>(n + 1, 0)), wsum(K, std::vector<double>(n + 1, 0));
  for (int k = 0; k < K; ++k)
    for (int i = 0; i < n; ++i) {
      comp[k][i + 1] = comp[k][i] + in.exec(in.topo[i], k);
      wsum[k][i + 1] = wsum[k][i] + in.weight[in.topo[i]];
    }
  // Transfer cost into stage [bj, bi) from the previous stage (on kp), per (j, i, kp, k); inputs
  // from I/O per (j, i, k); outputs to I/O per (j, i, k).
  const size_t KK = static_cast<size_t>(K) * K;
  auto idx = [&](int j, int i) { return static_cast<size_t>(j) * B + i; };
  std::vector<double> tin(static_cast<size_t>(B) * B * KK, 0), tio(static_cast<size_t>(B) * B * K, 0),
      tout(static_cast<size_t>(B) * B * K, 0);
  for (int j = 0; j < B; ++j) {
    const int bj = bnd[j];
    // For each tensor: first consumer position >= bj, if its producer is before bj (or an input).
    std::vector<std::vector<std::pair<int, int>>> at(B + 1);  // by boundary index of the first consumer: (tensor, kind)
    for (int t = 0; t < static_cast<int>(in.tensors.size()); ++t) {
      const auto& ts = in.tensors[t];
      if (ts.producer >= 0 && pos[ts.producer] >= bj) continue;
      int first = n;
      for (int cc : ts.consumers)
        if (pos[cc] >= bj) first = std::min(first, pos[cc]);
      if (first == n) continue;
      const int bi = static_cast<int>(std::upper_bound(bnd.begin(), bnd.end(), first) - bnd.begin());  // stage end index
      at[bi].push_back({t, ts.producer < 0 ? 1 : 0});
    }
    std::vector<double> acc_in(KK, 0), acc_io(K, 0);
    for (int i = j + 1; i < B; ++i) {
      for (auto [t, kind] : at[i]) {
        if (kind == 0) {
          for (size_t q = 0; q < KK; ++q) acc_in[q] += in.tensors[t].c[q];
        } else if (io >= 0) {
          for (int k = 0; k < K; ++k) acc_io[k] += in.comm(t, io, k);
        }
      }
      std::copy(acc_in.begin(), acc_in.end(), tin.begin() + idx(j, i) * KK);
      std::copy(acc_io.begin(), acc_io.end(), tio.begin() + idx(j, i) * K);
    }
  }
  if (io >= 0)
    for (int t = 0; t < static_cast<int>(in.tensors.size()); ++t) {
      const auto& ts = in.tensors[t];
      if (!ts.output || ts.producer < 0) continue;
      const int ps = pos[ts.producer];
      for (int j = 0; j < B; ++j)
        for (int i = j + 1; i < B; ++i)
          if (bnd[j] <= ps && ps < bnd[i])
            for (int k = 0; k < K; ++k) tout[idx(j, i) * K + k] += in.comm(t, k, io);
    }
  const int S = 1 << K;
  // f[(i * S + mask) * K + last]
  std::vector<double> f(static_cast<size_t>(B) * S * K, kInf);
  std::vector<int> from_j(f.size(), -1), from_k(f.size(), -1);
  auto F = [&](int i, int mask, int k) -> size_t { return (static_cast<size_t>(i) * S + mask) * K + k; };
  auto stage_cost = [&](int j, int i, int k, int kp) {
    const int bj = bnd[j], bi = bnd[i];
    const double cp = comp[k][bi] - comp[k][bj];
    if (!std::isfinite(cp) || wsum[k][bi] - wsum[k][bj] > in.capacity[k]) return kInf;
    double cost = cp;
    const double inputs = io >= 0 ? tio[idx(j, i) * K + k] : 0;
    if (kp >= 0) {
      double l = tin[idx(j, i) * KK + static_cast<size_t>(kp) * K + k];
      if (kp == io) l += inputs;
      else cost = std::max(cost, inputs);
      cost = std::max(cost, l);
    } else {
      cost = std::max(cost, inputs);
    }
    if (io >= 0 && k != io) cost = std::max(cost, tout[idx(j, i) * K + k]);
    return cost;
  };
  for (int i = 1; i < B; ++i)
    for (int k = 0; k < K; ++k) {
      const double cost = stage_cost(0, i, k, -1);
      if (cost < f[F(i, 1 << k, k)]) f[F(i, 1 << k, k)] = cost, from_j[F(i, 1 << k, k)] = 0;
    }
  for (int j = 1; j < B; ++j)
    for (int mask = 1; mask < S; ++mask)
      for (int kp = 0; kp < K; ++kp) {
        const double base = f[F(j, mask, kp)];
        if (!std::isfinite(base)) continue;
        for (int k = 0; k < K; ++k) {
          if (mask & (1 << k)) continue;
          const int nm = mask | (1 << k);
          for (int i = j + 1; i < B; ++i) {
            const double val = std::max(base, stage_cost(j, i, k, kp));
            if (val < f[F(i, nm, k)]) {
              f[F(i, nm, k)] = val;
              from_j[F(i, nm, k)] = j;
              from_k[F(i, nm, k)] = kp;
            }
          }
        }
      }
  double best = kInf;
  int bm = -1, bk = -1;
  for (int mask = 1; mask < S; ++mask)
    for (int k = 0; k < K; ++k)
      if (f[F(B - 1, mask, k)] < best) best = f[F(B - 1, mask, k)], bm = mask, bk = k;
  if (bm < 0) throw InputError("pipeline-dp: no contiguous pipeline fits the devices' memory");
  std::vector<int> place(n, -1);
  int i = B - 1, mask = bm, k = bk;
  while (i > 0) {
    const size_t s = F(i, mask, k);
    const int j = from_j[s];
    for (int q = bnd[j]; q < bnd[i]; ++q) place[in.topo[q]] = k;
    const int kp = from_k[s];
    mask &= ~(1 << k);
    i = j;
    k = kp;
    if (j == 0) break;
  }
  return place;
}

// ---------------------------------------------------------------------------------------------
// The MILP for one R on an instance (fine or coarse).

struct MilpOutcome {
  Place place;
  double claimed = kInf, bound = 0;
  bool optimal = false;
  bool solved = false;  // the MILP produced a solution (not only the warm start)
  std::string notes;
};

ThroughputInstance scaled_instance(const ThroughputInstance& in, double unit) {
  ThroughputInstance s = in;
  for (double& x : s.p) x /= unit;
  for (auto& t : s.tensors)
    for (double& x : t.c) x /= unit;
  return s;
}

MilpOutcome solve_milp_R(const ThroughputInstance& in, int R, const Place& warm, double period_lb,
                         const std::vector<std::vector<int>>& classes, double max_latency_s, double time_limit,
                         const SolveOptions& so, const std::string& stage) {
  MilpOutcome out;
  const double warm_P = period_of(in, warm);
  const double unit = warm_P > 0 ? warm_P / 100 : 1;
  const ThroughputInstance si = scaled_instance(in, unit);
  ThroughputModelOptions mo;
  mo.replicas = R;
  mo.device_classes = classes;
  mo.period_lb = period_lb / unit;
  mo.max_latency_s = max_latency_s > 0 ? max_latency_s / unit : 0;
  ThroughputModel tm = build_throughput_model(si, mo);
  Place w = warm;
  canonicalize_placement(si, classes, w);
  tm.model.initial = tm.assignment(si, w);
  milp::BackendOptions bo;
  bo.time_limit_s = std::max(0.05, 0.85 * time_limit);
  bo.threads = so.threads;
  bo.objective_unit = unit;
  bo.stage = stage;
  bo.progress = so.progress;
  bo.interrupt = so.interrupt;
  bo.absolute_gap = 1e-7;
  bo.relative_gap = 1e-7;
  auto backend = milp::make_cbc_backend();
  const milp::MilpSolution sol = backend->solve(tm.model, bo);
  out.notes = fmt::format("{}: {} vars ({} binary), {} rows, cbc {} in {:.2f} s, {} nodes", stage, tm.model.num_vars(),
                          tm.model.num_integer(), tm.model.num_rows(), milp::to_string(sol.status), sol.seconds, sol.nodes);
  out.place = warm;
  out.claimed = warm_P;
  if (!sol.values.empty()) {
    Place p = tm.placement(sol.values);
    const double P = period_of(in, p);
    if (P <= warm_P * (1 + 1e-12)) {
      out.place = p;
      out.claimed = sol.objective * unit;
      out.solved = !sol.initial_accepted;
    }
  }
  out.bound = std::isfinite(sol.bound) ? std::max(period_lb, sol.bound * unit) : period_lb;
  out.optimal = sol.status == milp::MilpStatus::Optimal;
  return out;
}

/// The best baseline placement with R replicas (memory-feasible, latency cap met), or empty.
Place best_baseline(const Ctx& c, int R) {
  Place best;
  double best_thr = -1;
  auto consider = [&](Place p) {
    if (p.empty() || !weights_fit(c.in, p) || !c.latency_ok(p)) return;
    const double thr = throughput_of(c.in, p);
    if (thr > best_thr) best_thr = thr, best = std::move(p);
  };
  try { consider(data_parallel(c, R)); } catch (const InputError&) {}
  try { consider(replicate(pipeline_dp(c), R)); } catch (const InputError&) {}
  try {
    Place h = replicate(heft_schedule(c.pb).device, 1);
    if (repair_memory(c.in, h)) consider(replicate(h[0], R));
  } catch (const InputError&) {}
  return best;
}

// ---------------------------------------------------------------------------------------------
// Splitting: coarsen by modules/parts into super-ops.

struct Coarse {
  ThroughputInstance inst;
  std::vector<int> group;  // op -> super-op
};

Coarse coarsen(const Problem& pb, const ThroughputInstance& in, const SolveOptions& so, int max_groups) {
  const Graph& g = pb.graph();
  Coarse c;
  std::vector<std::vector<int>> groups;
  if (in.n <= max_groups) {
    for (int v : in.topo) groups.push_back({v});
  } else {
    const SeriesDecomposition sd = series_decomposition(g);
    const Partition part = split_into_parts(pb, sd, so);
    std::vector<std::vector<int>> parts(part.parts.begin(), part.parts.end());
    // Merge consecutive parts (a topological order of parts) into at most max_groups groups of
    // roughly equal fastest work.
    std::vector<double> work(parts.size(), 0);
    double total = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      for (int v : parts[i]) {
        double mn = kInf;
        for (int k = 0; k < in.K; ++k) mn = std::min(mn, in.exec(v, k));
        work[i] += std::isfinite(mn) ? mn : 0;
      }
      total += work[i];
    }
    if (static_cast<int>(parts.size()) <= max_groups) {
      groups = parts;
    } else {
      const double target = total / max_groups;
      std::vector<int> cur;
      double acc = 0;
      for (size_t i = 0; i < parts.size(); ++i) {
        if (!cur.empty() && acc + work[i] > target * 1.0001 &&
            static_cast<int>(groups.size()) < max_groups - 1) {
          groups.push_back(cur);
          cur.clear();
          acc = 0;
        }
        cur.insert(cur.end(), parts[i].begin(), parts[i].end());
        acc += work[i];
      }
      if (!cur.empty()) groups.push_back(cur);
    }
  }
  const int G = static_cast<int>(groups.size()), K = in.K;
  c.group.assign(in.n, -1);
  for (int gi = 0; gi < G; ++gi)
    for (int v : groups[gi]) c.group[v] = gi;
  ThroughputInstance& ci = c.inst;
  ci.n = G;
  ci.K = K;
  ci.io = in.io;
  ci.capacity = in.capacity;
  ci.p.assign(static_cast<size_t>(G) * K, 0);
  ci.weight.assign(G, 0);
  for (int v = 0; v < in.n; ++v) {
    const int gi = c.group[v];
    ci.weight[gi] += in.weight[v];
    for (int k = 0; k < K; ++k) ci.p[static_cast<size_t>(gi) * K + k] += in.exec(v, k);
  }
  ci.in_tensors.assign(G, {});
  ci.out_tensors.assign(G, {});
  for (const auto& ts : in.tensors) {
    ThroughputInstance::Ten t;
    t.producer = ts.producer < 0 ? -1 : c.group[ts.producer];
    for (int cc : ts.consumers) {
      const int gc = c.group[cc];
      if (gc != t.producer && std::find(t.consumers.begin(), t.consumers.end(), gc) == t.consumers.end())
        t.consumers.push_back(gc);
    }
    t.output = ts.output;
    t.bytes = ts.bytes;
    t.c = ts.c;
    if (t.consumers.empty() && !t.output) continue;
    const int id = static_cast<int>(ci.tensors.size());
    for (int gc : t.consumers) ci.in_tensors[gc].push_back(id);
    if (t.producer >= 0) ci.out_tensors[t.producer].push_back(id);
    ci.tensors.push_back(std::move(t));
  }
  // Groups are intervals of a topological order of parts: 0..G-1 is topological.
  ci.topo.resize(G);
  std::iota(ci.topo.begin(), ci.topo.end(), 0);
  ci.topo_rank = ci.topo;
  (void)g;
  return c;
}

/// Coarse placement from a fine one: the device holding most of each group's fastest work.
Place to_coarse(const Coarse& c, const ThroughputInstance& in, const Place& fine) {
  Place out(fine.size(), std::vector<int>(c.inst.n, 0));
  for (size_t r = 0; r < fine.size(); ++r) {
    std::vector<double> score(static_cast<size_t>(c.inst.n) * in.K, 0);
    for (int v = 0; v < in.n; ++v) score[static_cast<size_t>(c.group[v]) * in.K + fine[r][v]] += 1 + in.exec(v, fine[r][v]);
    for (int gi = 0; gi < c.inst.n; ++gi) {
      int best = -1;
      for (int k = 0; k < in.K; ++k)
        if (std::isfinite(c.inst.exec(gi, k)) && c.inst.weight[gi] <= c.inst.capacity[k] &&
            (best < 0 || score[static_cast<size_t>(gi) * in.K + k] > score[static_cast<size_t>(gi) * in.K + best]))
          best = k;
      out[r][gi] = best < 0 ? 0 : best;
    }
  }
  return out;
}

Place to_fine(const Coarse& c, const Place& coarse) {
  Place out(coarse.size(), std::vector<int>(c.group.size(), 0));
  for (size_t r = 0; r < coarse.size(); ++r)
    for (size_t v = 0; v < c.group.size(); ++v) out[r][v] = coarse[r][c.group[v]];
  return out;
}

/// Auto: R = 1..max_auto_replicas, limited to about 2000 binaries (CBC's root processing, which
/// ignores the time limit, grows quickly beyond that).
std::vector<int> replica_candidates(const ThroughputOptions& opt, int n, int K) {
  std::vector<int> rs;
  if (opt.replicas > 0) return {opt.replicas};
  const int cap = std::max(1, 2000 / std::max(1, n * K));
  for (int r = 1; r <= std::max(1, std::min(cap, opt.max_auto_replicas)); ++r) rs.push_back(r);
  return rs;
}

ThroughputSchedule make_result(const ThroughputInstance& in, Place p, SolveStatus st) {
  ThroughputSchedule s;
  s.replicas = static_cast<int>(p.size());
  s.device = std::move(p);
  s.status = st;
  s.claimed_period = period_of(in, s.device);
  return s;
}

ThroughputSchedule run_milp_method(const Ctx& c, bool split) {
  const auto classes = symmetry_classes(c.pb);
  const ThroughputBound fine_bound = throughput_bound(c.in);
  Coarse coarse;
  const ThroughputInstance* inst = &c.in;
  ThroughputBound bound = fine_bound;
  if (split) {
    coarse = coarsen(c.pb, c.in, c.opt.solve, 120);
    inst = &coarse.inst;
    bound = throughput_bound(coarse.inst);
  }
  const auto rs = replica_candidates(c.opt, inst->n, inst->K);
  ThroughputSchedule best;
  double best_thr = -1;
  std::string notes;
  bool all_optimal = true;
  const double refine_share = split ? 0.3 : 0.0;
  double first_budget = 0;
  for (size_t i = 0; i < rs.size(); ++i) {
    const int R = rs[i];
    // Out of time (CBC can overrun a small limit in its root processing): keep the best so far.
    if (i > 0 && c.time_left() < 0.5 * first_budget) break;
    const double budget =
        std::max(0.05, (c.time_left() - 0.3) * (1 - refine_share) / static_cast<double>(rs.size() - i));
    if (i == 0) first_budget = budget;
    Place warm = best_baseline(c, R);
    if (warm.empty()) continue;
    Place warm_inst = split ? to_coarse(coarse, c.in, warm) : warm;
    if (split && (!weights_fit(*inst, warm_inst) || !c.latency_ok(to_fine(coarse, warm_inst)))) {
      // The coarse image of the baseline may break memory or the cap: start from a whole-model
      // placement when one exists, else from a repaired image.
      if (!repair_memory(*inst, warm_inst)) continue;
    }
    MilpOutcome mo = c.interrupted() ? MilpOutcome{warm_inst, period_of(*inst, warm_inst), 0, false, false, "interrupted"}
                                     : solve_milp_R(*inst, R, warm_inst, bound.period_bound(R), classes,
                                                    c.opt.max_latency_s, budget, c.opt.solve,
                                                    fmt::format("{} R={}", split ? "split" : "milp", R));
    Place fine = split ? to_fine(coarse, mo.place) : mo.place;
    if (!c.latency_ok(fine)) fine = warm;  // the serial-latency rows are conservative; keep the checked one
    if (split) {
      const double left = c.time_left() / static_cast<double>(rs.size() - i);
      Place polished = fine;
      improve_throughput_placement(c.in, polished, std::max(0.05, left * 0.5), c.opt.solve.interrupt);
      if (c.latency_ok(polished) && period_of(c.in, polished) < period_of(c.in, fine)) fine = polished;
    }
    if (period_of(c.in, warm) < period_of(c.in, fine)) fine = warm;
    all_optimal = all_optimal && mo.optimal && !split;
    notes += (notes.empty() ? "" : "; ") + mo.notes;
    const double thr = throughput_of(c.in, fine);
    if (thr > best_thr * (1 + 1e-9)) {
      best_thr = thr;
      best = make_result(c.in, fine, SolveStatus::Feasible);
      if (!split) {
        best.claimed_period = mo.claimed;
        best.lower_bound_period = mo.bound;
        best.status = mo.optimal ? SolveStatus::Optimal : SolveStatus::TimeLimit;
      }
    }
  }
  if (c.opt.replicas == 0) {
    // Auto: data parallelism may prefer more replicas than the MILP range; keep its schedule
    // when it is better, so that the result is never worse than any baseline.
    try {
      Place dp = data_parallel(c, 0);
      if (weights_fit(c.in, dp) && c.latency_ok(dp) && throughput_of(c.in, dp) > best_thr * (1 + 1e-9)) {
        best_thr = throughput_of(c.in, dp);
        best = make_result(c.in, dp, SolveStatus::Feasible);
        notes += "; data-parallel schedule kept (better than the MILP range)";
      }
    } catch (const InputError&) {
    }
  }
  if (best.device.empty()) throw InputError("no schedule meets the memory limits and the latency cap");
  if (!split && rs.size() > 1 && best.status == SolveStatus::Optimal && !all_optimal) best.status = SolveStatus::TimeLimit;
  if (split) best.status = SolveStatus::Heuristic;
  best.notes = fmt::format("{}{}", split ? fmt::format("{} super-ops; ", inst->n) : "", notes);
  return best;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

bool weights_fit(const ThroughputInstance& in, const Place& place) {
  std::vector<double> mem(in.K, 0);
  std::vector<char> res(static_cast<size_t>(in.n) * in.K, 0);
  for (const auto& rep : place)
    for (int v = 0; v < in.n; ++v) {
      char& f = res[static_cast<size_t>(v) * in.K + rep[v]];
      if (!f) f = 1, mem[rep[v]] += in.weight[v];
    }
  for (int k = 0; k < in.K; ++k)
    if (mem[k] > in.capacity[k] * (1 + 1e-12)) return false;
  return true;
}

namespace {

/// Incremental loads for local search.
class LoadState {
 public:
  LoadState(const ThroughputInstance& in, Place& place) : in_(in), pl_(place) {
    R_ = static_cast<int>(place.size());
    K_ = in.K;
    const int T = static_cast<int>(in.tensors.size());
    dev_.assign(K_, 0);
    link_.assign(static_cast<size_t>(K_) * K_, 0);
    cnt_.assign(static_cast<size_t>(R_) * T * K_, 0);
    res_.assign(static_cast<size_t>(in.n) * K_, 0);
    mem_.assign(K_, 0);
    for (int r = 0; r < R_; ++r) {
      for (int v = 0; v < in.n; ++v) {
        dev_[pl_[r][v]] += in.exec(v, pl_[r][v]);
        if (res_[static_cast<size_t>(v) * K_ + pl_[r][v]]++ == 0) mem_[pl_[r][v]] += in.weight[v];
      }
      for (int t = 0; t < T; ++t) {
        for (int c : in.tensors[t].consumers) ++cnt(r, t, pl_[r][c]);
        for_dests(r, t, src(r, t), [&](int s, int d) { link_[static_cast<size_t>(s) * K_ + d] += in.comm(t, s, d); });
      }
    }
  }
  double period() const {
    double P = 0;
    for (double x : dev_) P = std::max(P, x);
    for (double x : link_) P = std::max(P, x);
    return P;
  }
  double sumsq() const {
    double s = 0;
    for (double x : dev_) s += x * x;
    for (double x : link_) s += x * x;
    return s;
  }
  bool mem_ok(int k) const { return mem_[k] <= in_.capacity[k] * (1 + 1e-12); }
  double mem_over(int k) const { return mem_[k] - in_.capacity[k]; }
  int residents(int v, int k) const { return res_[static_cast<size_t>(v) * K_ + k]; }
  /// Moves op v of replica r to device b.
  void move(int r, int v, int b) {
    const int a = pl_[r][v];
    if (a == b) return;
    dev_[a] -= in_.exec(v, a);
    dev_[b] += in_.exec(v, b);
    if (--res_[static_cast<size_t>(v) * K_ + a] == 0) mem_[a] -= in_.weight[v];
    if (res_[static_cast<size_t>(v) * K_ + b]++ == 0) mem_[b] += in_.weight[v];
    // Remove the transfers of every tensor touching v, move, add them back.
    for (int t : in_.in_tensors[v]) account(r, t, -1);
    for (int t : in_.out_tensors[v]) account(r, t, -1);
    for (int t : in_.in_tensors[v]) --cnt(r, t, a), ++cnt(r, t, b);
    pl_[r][v] = b;
    for (int t : in_.in_tensors[v]) account(r, t, +1);
    for (int t : in_.out_tensors[v]) account(r, t, +1);
  }

 private:
  int src(int r, int t) const {
    const auto& ts = in_.tensors[t];
    return ts.producer < 0 ? in_.io : pl_[r][ts.producer];
  }
  int& cnt(int r, int t, int k) { return cnt_[(static_cast<size_t>(r) * in_.tensors.size() + t) * K_ + k]; }
  template <class F>
  void for_dests(int r, int t, int s, F f) {
    if (s < 0) return;
    const auto& ts = in_.tensors[t];
    for (int d = 0; d < K_; ++d)
      if (d != s && (cnt(r, t, d) > 0 || (ts.output && d == in_.io))) f(s, d);
  }
  void account(int r, int t, double sign) {
    for_dests(r, t, src(r, t), [&](int s, int d) { link_[static_cast<size_t>(s) * K_ + d] += sign * in_.comm(t, s, d); });
  }
  const ThroughputInstance& in_;
  Place& pl_;
  int R_ = 0, K_ = 0;
  std::vector<double> dev_, link_, mem_;
  std::vector<int> cnt_, res_;
};

}  // namespace

bool repair_memory(const ThroughputInstance& in, Place& place) {
  LoadState st(in, place);
  for (int guard = 0; guard < in.n * static_cast<int>(place.size()) * in.K + 10; ++guard) {
    int over = -1;
    for (int k = 0; k < in.K; ++k)
      if (!st.mem_ok(k)) over = k;
    if (over < 0) return true;
    // Move every replica's copy of the op (freeing its weights) whose move hurts the period least,
    // preferring heavy weights.
    int bv = -1, bk = -1;
    double best = kInf;
    for (int v = 0; v < in.n; ++v) {
      if (st.residents(v, over) == 0 || in.weight[v] <= 0) continue;
      for (int k = 0; k < in.K; ++k) {
        if (k == over || !std::isfinite(in.exec(v, k))) continue;
        if (st.residents(v, k) == 0 && st.mem_over(k) + in.weight[v] > 0) continue;
        std::vector<int> moved;
        for (size_t r = 0; r < place.size(); ++r)
          if (place[r][v] == over) st.move(static_cast<int>(r), v, k), moved.push_back(static_cast<int>(r));
        const double score = st.period() / (1 + in.weight[v] / std::max(1.0, in.capacity[over]));
        for (int r : moved) st.move(r, v, over);
        if (score < best) best = score, bv = v, bk = k;
      }
    }
    if (bv < 0) return false;
    for (size_t r = 0; r < place.size(); ++r)
      if (place[r][bv] == over) st.move(static_cast<int>(r), bv, bk);
  }
  return weights_fit(in, place);
}

bool improve_throughput_placement(const ThroughputInstance& in, Place& place, double time_limit_s,
                                  const std::atomic<bool>* interrupt) {
  if (!weights_fit(in, place)) return false;
  const auto t0 = clock_type::now();
  LoadState st(in, place);
  double P = st.period(), SS = st.sumsq();
  bool changed = false, improved = true;
  const int R = static_cast<int>(place.size());
  while (improved) {
    improved = false;
    for (int r = 0; r < R; ++r)
      for (int v : in.topo) {
        if (seconds_since(t0) > time_limit_s || (interrupt && interrupt->load())) return changed;
        const int a = place[r][v];
        for (int b = 0; b < in.K; ++b) {
          if (b == a || !std::isfinite(in.exec(v, b))) continue;
          st.move(r, v, b);
          const double nP = st.period(), nSS = st.sumsq();
          if (st.mem_ok(b) && (nP < P * (1 - 1e-12) || (nP <= P * (1 + 1e-12) && nSS < SS * (1 - 1e-9)))) {
            P = nP, SS = nSS;
            improved = changed = true;
            break;
          }
          st.move(r, v, a);
        }
      }
  }
  return changed;
}

const std::vector<ThroughputMethodInfo>& throughput_methods() {
  static const std::vector<ThroughputMethodInfo> m = {
      {"fastest-device", "the whole model on the single device with the shortest period (R = 1)"},
      {"data-parallel", "the whole model on each device that can hold it, replicas split in proportion to speed"},
      {"pipeline-dp", "contiguous pipeline stages over a topological order, by dynamic programming (R = 1)"},
      {"heft-pipeline", "HEFT's placement used as a pipeline (R = 1)"},
      {"milp", "the throughput MILP (DESIGN section 5) on CBC, warm-started from the best baseline"},
      {"split", "modules/parts as super-ops, coarse throughput MILP, then refinement of single ops"},
      {"llm-symmetric", "LLM on identical servers: one server's share of layers solved once (DP), replicated, "
                        "pipelined; pipelines side by side"},
      {"uniform-layers", "equal decoder layers per GPU over all GPUs (pipeline-parallel serving default)"},
  };
  return m;
}

ThroughputSchedule solve_throughput(const Problem& pb, const std::string& method, const ThroughputOptions& opt) {
  const auto t0 = clock_type::now();
  if (opt.replicas < 0 || opt.replicas > kMaxReplicas)
    throw InputError(fmt::format("--replicas {} is out of range: R must be in 1..{} (or auto)", opt.replicas, kMaxReplicas));
  bool known = false;
  for (const auto& m : throughput_methods()) known = known || m.name == method;
  if (!known) {
    std::string names;
    for (const auto& m : throughput_methods()) names += (names.empty() ? "" : ", ") + m.name;
    throw InputError(fmt::format("unknown throughput method '{}' (valid: {})", method, names));
  }
  if (opt.max_latency_s < 0) throw InputError("--max-latency must be positive");
  if (opt.max_latency_s > 0) {
    const double lb = latency_lower_bounds(pb).best;
    if (opt.max_latency_s < lb * (1 - 1e-9))
      throw InputError(fmt::format("--max-latency {:.6g} s cannot be met: no schedule of one inference is faster than {:.6g} s "
                                   "(latency lower bound)", opt.max_latency_s, lb));
  }
  const ThroughputInstance in = ThroughputInstance::from_problem(pb);
  for (int v = 0; v < in.n; ++v) {
    bool fits = false;
    for (int k = 0; k < in.K; ++k) fits = fits || (std::isfinite(in.exec(v, k)) && in.weight[v] <= in.capacity[k]);
    if (!fits)
      throw InputError(fmt::format("memory limit cannot be met: op '{}' needs {:.4g} bytes of weights and no device that "
                                   "can run it has that much memory", pb.graph().ops[v].name, in.weight[v]));
  }
  Ctx c{pb, in, opt, t0};
  const int R = opt.replicas;
  ThroughputSchedule s;
  auto checked = [&](Place p, const std::string& what) {
    if (!repair_memory(in, p))
      throw InputError(fmt::format("{}: memory limit cannot be met (weights once per device exceed a device's capacity)", what));
    if (!c.latency_ok(p))
      throw InputError(fmt::format("{}: latency cap {:.6g} s cannot be met (its placement needs {:.6g} s per inference)", what,
                                   opt.max_latency_s, max_replica_latency(pb, p)));
    return make_result(in, std::move(p), SolveStatus::Heuristic);
  };
  if (method == "fastest-device") {
    s = make_result(in, fastest_device(c, std::max(1, R)), SolveStatus::Heuristic);
  } else if (method == "data-parallel") {
    s = make_result(in, data_parallel(c, R), SolveStatus::Heuristic);
  } else if (method == "pipeline-dp") {
    s = checked(replicate(pipeline_dp(c), std::max(1, R)), method);
  } else if (method == "heft-pipeline") {
    s = checked(replicate(heft_schedule(pb).device, std::max(1, R)), method);
  } else if (method == "llm-symmetric") {
    s = llm_symmetric_throughput(pb, opt);
  } else if (method == "uniform-layers") {
    s = uniform_layers_throughput(pb, opt);
  } else if (method == "milp") {
    s = run_milp_method(c, false);
  } else {
    s = run_milp_method(c, true);
  }
  s.method = method;
  s.solve_seconds = seconds_since(t0);
  return s;
}

void export_throughput_milp(const Problem& pb, int replicas, const std::string& path, double max_latency_s) {
  if (replicas < 1 || replicas > kMaxReplicas)
    throw InputError(fmt::format("--replicas {} is out of range: R must be in 1..{}", replicas, kMaxReplicas));
  const ThroughputInstance in = scaled_instance(ThroughputInstance::from_problem(pb), 1e-3);
  ThroughputModelOptions mo;
  mo.replicas = replicas;
  mo.max_latency_s = max_latency_s * 1e3;
  mo.device_classes = symmetry_classes(pb);
  ThroughputModel tm = build_throughput_model(in, mo);
  tm.model.comments.push_back("time unit: milliseconds");
  milp::write_model(tm.model, path);
}

}  // namespace diviml

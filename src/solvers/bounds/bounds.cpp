// Lower bounds on the latency of any schedule (DESIGN section 7; proofs in docs/split.md).
//
// Every bound here is a relaxation of the execution model of DESIGN section 3, in which the
// latency is at least the finish of every op and the delivery of every graph output:
//  * CP   critical path at the fastest devices without transfers (critical_path_fastest).
//  * CPc  the same longest path with devices and transfers: a per (op, device) earliest finish
//         that takes the cheapest choice of the predecessors' devices, the graph inputs' arrival
//         from the I/O device and the outputs' delivery to it. It drops only device contention.
//  * W    the fractional load-balance LP. It is solved with CLP, but the value reported is
//         recomputed from the LP's dual multipliers lambda (lambda >= 0, sum 1):
//         sum_v min_k lambda_k p[v][k] is a lower bound on the LP by weak duality for ANY such
//         lambda, so LP tolerances can never make W invalid. lambda = 1/K (the average load) is
//         the fallback.
//  * per-module MILP bound: each series module solved alone (a sub-Problem: devices free, free
//         I/O, transfers from outside the module dropped), its proven best bound.
//  * decomposition: modules occupy disjoint time intervals ending at their cut vertex (every op
//         of M_i is an ancestor of c_i and every op of M_(i+1) a descendant). The duration of
//         M_i is at least max(CP(M_i), W(M_i), MILP(M_i)) and, given the devices k' of c_(i-1)
//         and k of c_i, at least the module's CPc from c_(i-1) on k' to c_i on k; a shortest path
//         over the cut vertices' devices sums these durations. It dominates the plain sum of
//         max(CP, W, MILP) over modules.
#include "solvers/bounds/bounds.h"

#include <ClpSimplex.hpp>
#include <CoinError.hpp>
#include <CoinPackedMatrix.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "graph/series.h"
#include "schedule/simulator.h"
#include "schedule/timing.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/milp/latency_milp.h"
#include "solvers/split/series_dp.h"
#include "solvers/split/split.h"

namespace diviml {

namespace {

/// Modules with more incomparable pairs than this get no MILP bound (see latency_lower_bounds).
constexpr long long kMaxModuleBoundPairs = 5000;

/// Longest path at fastest devices, no transfers, over `ops` (topo order); edges from outside
/// the set are ignored.
double critical_path_of(const Problem& pb, const std::vector<OpId>& ops, std::vector<double>& scratch,
                        const std::vector<int>& local) {
  const Graph& g = pb.graph();
  double cp = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const OpId v = ops[i];
    double st = 0;
    for (OpId u : g.pred(v))
      if (local[u] >= 0) st = std::max(st, scratch[local[u]]);
    scratch[i] = st + pb.min_exec(v);
    cp = std::max(cp, scratch[i]);
  }
  return cp;
}

/// Value of the load-balance dual for multipliers lam (>= 0, normalised here).
double load_dual_value(const Problem& pb, const std::vector<OpId>& ops, std::vector<double> lam) {
  const int K = pb.num_devices();
  double s = 0;
  for (double& l : lam) l = std::isfinite(l) ? std::max(0.0, l) : 0.0;
  for (double l : lam) s += l;
  if (!(s > 0)) return 0;
  for (double& l : lam) l /= s;
  double total = 0;
  for (OpId v : ops) {
    double best = kInf;
    for (int k = 0; k < K; ++k)
      if (pb.can_run(v, k)) best = std::min(best, lam[k] * pb.exec(v, k));
    if (std::isfinite(best)) total += best;
  }
  return total;
}

}  // namespace

/// W(A): fractional load balance. Returns a value certified by weak duality (see the header).
double load_balance_bound(const Problem& pb, const std::vector<OpId>& ops) {
  const int K = pb.num_devices();
  if (ops.empty() || K == 0) return 0;
  double best = load_dual_value(pb, ops, std::vector<double>(K, 1.0));
  if (K == 1) return best;
  // Scale times so the LP is well conditioned.
  double scale = 0;
  for (OpId v : ops)
    for (int k = 0; k < K; ++k)
      if (pb.can_run(v, k)) scale = std::max(scale, pb.exec(v, k));
  if (!(scale > 0)) return best;
  try {
    const int m = static_cast<int>(ops.size());
    std::vector<CoinBigIndex> start{0};
    std::vector<int> index;
    std::vector<double> value, collb, colub, obj;
    for (int i = 0; i < m; ++i)
      for (int k = 0; k < K; ++k) {
        if (!pb.can_run(ops[i], k)) continue;
        index.push_back(i);
        value.push_back(1.0);
        index.push_back(m + k);
        value.push_back(pb.exec(ops[i], k) / scale);
        start.push_back(static_cast<CoinBigIndex>(index.size()));
        collb.push_back(0);
        colub.push_back(1);
        obj.push_back(0);
      }
    for (int k = 0; k < K; ++k) {
      index.push_back(m + k);
      value.push_back(-1.0);
    }
    start.push_back(static_cast<CoinBigIndex>(index.size()));
    collb.push_back(0);
    colub.push_back(COIN_DBL_MAX);
    obj.push_back(1);
    const int ncols = static_cast<int>(obj.size());
    std::vector<double> rowlb(m + K), rowub(m + K);
    for (int i = 0; i < m; ++i) rowlb[i] = rowub[i] = 1;
    for (int k = 0; k < K; ++k) {
      rowlb[m + k] = -COIN_DBL_MAX;
      rowub[m + k] = 0;
    }
    ClpSimplex lp;
    lp.setLogLevel(0);
    lp.loadProblem(ncols, m + K, start.data(), index.data(), value.data(), collb.data(), colub.data(),
                   obj.data(), rowlb.data(), rowub.data());
    lp.setOptimizationDirection(1);
    lp.dual();
    if (lp.isProvenOptimal()) {
      const double* dual = lp.dualRowSolution();
      std::vector<double> lam(K);
      for (int k = 0; k < K; ++k) lam[k] = std::fabs(dual[m + k]);
      best = std::max(best, load_dual_value(pb, ops, lam));
    }
  } catch (const CoinError&) {
    // CLP failed on this LP: keep the closed-form value (valid for any multipliers)
  }
  return best;
}

double module_critical_path(const Problem& pb, const std::vector<OpId>& ops) {
  std::vector<int> local(pb.num_ops(), -1);
  for (size_t i = 0; i < ops.size(); ++i) local[ops[i]] = static_cast<int>(i);
  std::vector<double> scratch(ops.size(), 0.0);
  return critical_path_of(pb, ops, scratch, local);
}

namespace {

/// Earliest finish per (op of `ops`, device), relative to time 0, ignoring device contention.
/// Tensors from `entry` (an op outside `ops`) arrive from device entry_dev (entry_dev < 0: present
/// everywhere at 0); tensors from other ops outside the set are ignored (present at 0); graph
/// inputs arrive from the I/O device when inputs_from_io, else are present at 0.
std::vector<double> earliest_finish(const Problem& pb, const std::vector<OpId>& ops, const std::vector<int>& local,
                                    OpId entry, int entry_dev, bool inputs_from_io) {
  const Graph& g = pb.graph();
  const int K = pb.num_devices();
  std::vector<double> ef(ops.size() * K, kInf);
  std::vector<double> ready(K);
  for (size_t i = 0; i < ops.size(); ++i) {
    const OpId v = ops[i];
    std::fill(ready.begin(), ready.end(), 0.0);
    for (TensorId t : g.ops[v].inputs) {
      const OpId u = g.tensors[t].producer;
      if (u == kNoOp) {
        if (inputs_from_io)
          for (int k = 0; k < K; ++k) ready[k] = std::max(ready[k], timing::input_arrival(pb, g.tensors[t].bytes, k));
      } else if (local[u] >= 0) {
        const double* eu = &ef[static_cast<size_t>(local[u]) * K];
        for (int k = 0; k < K; ++k) {
          double arr = kInf;
          for (int k2 = 0; k2 < K; ++k2)
            if (std::isfinite(eu[k2])) arr = std::min(arr, timing::transfer_finish(pb, g.tensors[t].bytes, k2, k, eu[k2]));
          ready[k] = std::max(ready[k], arr);
        }
      } else if (u == entry && entry_dev >= 0) {
        for (int k = 0; k < K; ++k)
          ready[k] = std::max(ready[k], timing::transfer_finish(pb, g.tensors[t].bytes, entry_dev, k, 0.0));
      }
    }
    for (int k = 0; k < K; ++k)
      if (pb.can_run(v, k)) ef[i * K + k] = ready[k] + pb.exec(v, k);
  }
  return ef;
}

/// max over ops of the earliest finish including the delivery of the op's graph outputs.
double end_bound(const Problem& pb, const std::vector<OpId>& ops, const std::vector<double>& ef) {
  const Graph& g = pb.graph();
  const int K = pb.num_devices();
  double lb = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    double best = kInf;
    for (int k = 0; k < K; ++k) {
      const double f = ef[i * K + k];
      if (!std::isfinite(f)) continue;
      double end = f;
      for (TensorId t : g.ops[ops[i]].outputs)
        if (g.tensors[t].is_graph_output) end = std::max(end, timing::output_delivered(pb, g.tensors[t].bytes, k, f));
      best = std::min(best, end);
    }
    if (std::isfinite(best)) lb = std::max(lb, best);
  }
  return lb;
}

/// Euclid on doubles: remainders within `tol` of 0 or of the divisor count as exact.
double approx_gcd(double a, double b, double tol) {
  if (a < b) std::swap(a, b);
  while (b > tol) {
    double r = std::fmod(a, b);
    if (r > b - tol) r = 0;
    a = b;
    b = r;
  }
  return a;
}

}  // namespace

DeviceWindows device_windows(const Problem& pb) {
  const Graph& g = pb.graph();
  const int N = pb.num_ops(), K = pb.num_devices();
  std::vector<OpId> all(N);
  std::vector<int> local(N);
  for (OpId v = 0; v < N; ++v) all[v] = local[v] = v;
  const std::vector<double> ef = earliest_finish(pb, all, local, kNoOp, -1, /*inputs_from_io=*/true);
  // rest[v * K + k]: the least time from v's finish on k to the end of the schedule.
  std::vector<double> rest(static_cast<size_t>(N) * K, kInf);
  const std::vector<OpId>& topo = g.topo_order();
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    const OpId v = *it;
    for (int k = 0; k < K; ++k) {
      if (!pb.can_run(v, k)) continue;
      double r = 0;
      for (TensorId t : g.ops[v].outputs) {
        const Tensor& x = g.tensors[t];
        if (x.is_graph_output) r = std::max(r, timing::output_delivered(pb, x.bytes, k, 0.0));
        for (OpId w : x.consumers) {
          double via = kInf;
          for (int k2 = 0; k2 < K; ++k2)
            if (pb.can_run(w, k2))
              via = std::min(via, timing::transfer_finish(pb, x.bytes, k, k2, 0.0) + pb.exec(w, k2) +
                                      rest[static_cast<size_t>(w) * K + k2]);
          r = std::max(r, via);
        }
      }
      rest[static_cast<size_t>(v) * K + k] = r;
    }
  }
  DeviceWindows w;
  w.head.assign(K, kInf);
  w.tail.assign(K, kInf);
  for (OpId v = 0; v < N; ++v)
    for (int k = 0; k < K; ++k) {
      const size_t i = static_cast<size_t>(v) * K + k;
      if (!std::isfinite(ef[i])) continue;
      // Lowered by a rounding margin: ef - exec need not give back the ready time exactly.
      w.head[k] = std::min(w.head[k], std::max(0.0, (ef[i] - pb.exec(v, k)) * (1 - 1e-12)));
      w.tail[k] = std::min(w.tail[k], rest[i] * (1 - 1e-12));
    }
  return w;
}

double common_time_unit(const Problem& pb) {
  // Every latency is a sum of op times, transfer times, input arrivals and output deliveries
  // (the as-soon-as-possible timing of the simulator starts each op at 0 or at a finish plus a
  // transfer), so when all of them are multiples of u, so is every schedule's latency.
  const Graph& g = pb.graph();
  const int K = pb.num_devices();
  std::vector<double> vals;
  for (OpId v = 0; v < pb.num_ops(); ++v)
    for (int k = 0; k < K; ++k)
      if (pb.can_run(v, k) && pb.exec(v, k) > 0) vals.push_back(pb.exec(v, k));
  std::vector<double> bytes;
  for (const Tensor& t : g.tensors) bytes.push_back(t.bytes);
  std::sort(bytes.begin(), bytes.end());
  bytes.erase(std::unique(bytes.begin(), bytes.end()), bytes.end());
  if (bytes.size() > 20000) return 0;  // not a task graph: not worth it
  for (double b : bytes)
    for (int k = 0; k < K; ++k)
      for (int l = 0; l < K; ++l)
        if (k != l && pb.comm_bytes(b, k, l) > 0) vals.push_back(pb.comm_bytes(b, k, l));
  if (vals.empty()) return 0;
  double mx = 0;
  for (double v : vals) {
    if (!std::isfinite(v)) return 0;
    mx = std::max(mx, v);
  }
  const double tol = 1e-9 * mx;
  double u = 0;
  for (double v : vals) {
    u = u == 0 ? v : approx_gcd(u, v, tol);
    if (u < 1e-7 * mx) return 0;
  }
  for (double v : vals)
    if (std::fabs(v / u - std::round(v / u)) > 1e-6) return 0;
  return u;
}

namespace {

/// Rounds a lower bound up to the common unit of the instance's times (0: none).
double round_up_to_unit(const Problem& pb, double lb) {
  if (!(lb > 0)) return lb;
  const double u = common_time_unit(pb);
  if (!(u > 0)) return lb;
  // The slack of 1e-6 units absorbs floating-point error in lb (a value a hair above k*u
  // that means k*u must not round up to (k+1)*u).
  return std::max(lb, std::ceil(lb / u - 1e-6) * u);
}

}  // namespace

/// The latency MILP of a set of ops alone (a convex set: a series module): devices free, I/O
/// free, tensors from outside dropped. Returns a proven lower bound on that sub-problem's
/// optimum, or 0 when the MILP cannot run (not linked, sub-problem mismatch, failure).
double isolated_milp_bound(const Problem& pb, const std::vector<OpId>& ops, double time_limit_s, int threads);

double isolated_milp_bound(const Problem& pb, const std::vector<OpId>& ops, double time_limit_s, int threads) {
  if (ops.empty() || time_limit_s <= 0) return 0;
  const Graph& g = pb.graph();
  const int K = pb.num_devices();
  try {
    auto sg = std::make_shared<Graph>();
    sg->name = g.name + "/module";
    std::vector<int> local(g.num_ops(), -1);
    for (size_t i = 0; i < ops.size(); ++i) local[ops[i]] = static_cast<int>(i);
    std::vector<TensorId> tmap(g.num_tensors(), -1);
    for (OpId v : ops) {
      const Op& src = g.ops[v];
      Op op;
      op.name = src.name;
      op.type = src.type;
      op.op_class = src.op_class;
      op.flops = src.flops;
      op.macs = src.macs;
      op.bytes_accessed = src.bytes_accessed;
      op.weight_bytes = src.weight_bytes;
      for (int k = 0; k < K; ++k)
        if (pb.can_run(v, k)) op.device_times[pb.platform().devices[k].name] = pb.exec(v, k);
      sg->add_op(std::move(op));
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      const OpId v = ops[i];
      bool has_inside_consumer = false;
      for (TensorId t : g.ops[v].outputs) {
        bool inside = false;
        for (OpId c : g.tensors[t].consumers) inside = inside || local[c] >= 0;
        if (!inside) continue;
        has_inside_consumer = true;
        Tensor nt;
        nt.name = g.tensors[t].name;
        nt.bytes = g.tensors[t].bytes;
        nt.producer = static_cast<OpId>(i);
        tmap[t] = sg->add_tensor(nt);
        sg->ops[i].outputs.push_back(tmap[t]);
      }
      if (!has_inside_consumer) {  // a sink of the module: its finish counts in the makespan
        Tensor nt;
        nt.name = g.ops[v].name + "/__module_out";
        nt.bytes = 0;
        nt.producer = static_cast<OpId>(i);
        nt.is_graph_output = true;
        const TensorId id = sg->add_tensor(nt);
        sg->ops[i].outputs.push_back(id);
      }
    }
    for (size_t i = 0; i < ops.size(); ++i)
      for (TensorId t : g.ops[ops[i]].inputs)
        if (tmap[t] >= 0) sg->ops[i].inputs.push_back(tmap[t]);
    sg->finalize();
    auto plat = std::make_shared<Platform>(pb.platform());
    plat->io_device = -1;
    Problem sub(sg, plat);
    for (size_t i = 0; i < ops.size(); ++i)
      for (int k = 0; k < K; ++k) {
        const double a = pb.exec(ops[i], k), b = sub.exec(static_cast<OpId>(i), k);
        if (std::isfinite(a) != std::isfinite(b) || (std::isfinite(a) && std::fabs(a - b) > 1e-12 * std::max(1.0, a)))
          return 0;
      }
    // Warm start from HEFT on the sub-problem.
    Schedule warm = heft_schedule(sub);
    const LatencyResult wr = simulate_latency(sub, warm);
    LatencyMilpRequest req;
    req.warm_device = warm.device;
    req.warm_start = wr.start;
    SolveOptions so;
    so.time_limit_s = time_limit_s;
    so.threads = std::max(1, threads);
    const LatencyMilpResult res = solve_latency_milp(sub, req, so);
    double b = res.bound;
    if (!std::isfinite(b) || b < 0) return 0;
    b = std::min(b, wr.makespan);
    return b * (1 - 1e-6);  // solver tolerances
  } catch (const InputError&) {
    return 0;  // the MILP rejected the module (memory infeasible, beyond its size limits)
  }
}

LatencyBounds latency_lower_bounds(const Problem& pb, const BoundOptions& opt) {
  LatencyBounds lb;
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  if (n == 0 || K == 0) return lb;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  lb.critical_path = critical_path_fastest(pb);
  std::vector<OpId> all(g.topo_order().begin(), g.topo_order().end());
  std::vector<int> local(n, -1);
  for (int i = 0; i < n; ++i) local[all[i]] = i;
  const double cpc = end_bound(pb, all, earliest_finish(pb, all, local, kNoOp, -1, true));
  lb.load_balance = load_balance_bound(pb, all);

  const SeriesDecomposition d = series_decomposition(g);
  const int m = static_cast<int>(d.modules.size());
  lb.modules = m;
  std::fill(local.begin(), local.end(), -1);

  // Per-module MILP bounds (time shared in proportion to incomparable pairs, unused time rolls over).
  std::vector<long long> pairs(m, 0);
  long long total_pairs = 0;
  if (opt.milp_time_limit_s > 0) {
    for (int i = 0; i < m; ++i) {
      pairs[i] = count_incomparable_pairs(g, d.modules[i]);
      // A module far above what CBC can bound in seconds only costs time to build (a 1000-op
      // RandWire stage has ~250k pairs, millions of rows): it keeps its closed-form bounds.
      if (pairs[i] > kMaxModuleBoundPairs) pairs[i] = 0;
      total_pairs += pairs[i];
    }
  }
  std::vector<double> milp(m, 0);
  std::vector<double> scratch(n, 0);
  // DP over the devices of the cut vertices: f[k] = lower bound on the finish of the last cut
  // vertex when it runs on k.
  std::vector<double> f(K, 0.0), nf(K);
  double decomposition = 0, module_milp_sum = 0;
  long long pairs_left = total_pairs;
  for (int i = 0; i < m; ++i) {
    const auto& mod = d.modules[i];
    for (size_t j = 0; j < mod.size(); ++j) local[mod[j]] = static_cast<int>(j);
    const bool last = i == m - 1;
    const bool ends_with_cut = i < static_cast<int>(d.cut_vertices.size());
    const OpId entry = i > 0 ? d.cut_vertices[i - 1] : kNoOp;
    const double cp_i = critical_path_of(pb, mod, scratch, local);
    const double w_i = load_balance_bound(pb, mod);
    // Isolated module (no entry transfer): exact for a chain, a bound otherwise.
    const std::vector<double> ef_iso = earliest_finish(pb, mod, local, kNoOp, -1, false);
    double iso = 0;
    if (ends_with_cut && !last) {
      iso = kInf;
      for (int k = 0; k < K; ++k) iso = std::min(iso, ef_iso[local[d.cut_vertices[i]] * static_cast<size_t>(K) + k]);
      if (!std::isfinite(iso)) iso = 0;
    } else {
      // same as end_bound without deliveries
      for (size_t j = 0; j < mod.size(); ++j) {
        double b = kInf;
        for (int k = 0; k < K; ++k) b = std::min(b, ef_iso[j * K + k]);
        if (std::isfinite(b)) iso = std::max(iso, b);
      }
    }
    double milp_i = iso;
    if (opt.milp_time_limit_s > 0 && pairs[i] > 0) {
      const double left = std::max(0.0, opt.milp_time_limit_s - elapsed());
      const double share = pairs_left > 0 ? left * static_cast<double>(pairs[i]) / static_cast<double>(pairs_left) : 0;
      pairs_left -= pairs[i];
      if (share >= 0.25) milp_i = std::max(milp_i, isolated_milp_bound(pb, mod, share, opt.threads));
    }
    milp[i] = milp_i;
    module_milp_sum += milp_i;
    const double base = std::max({cp_i, w_i, milp_i});

    // Entry devices: none for the first module, each device of the previous cut vertex after.
    const int n_entry = i == 0 ? 1 : K;
    std::fill(nf.begin(), nf.end(), kInf);
    double end_best = kInf;
    for (int e = 0; e < n_entry; ++e) {
      const double fe = i == 0 ? 0.0 : f[e];
      if (!std::isfinite(fe)) continue;
      const std::vector<double> ef = earliest_finish(pb, mod, local, entry, i == 0 ? -1 : e, i == 0);
      if (last) {
        end_best = std::min(end_best, fe + std::max(base, end_bound(pb, mod, ef)));
      } else {
        const size_t c = static_cast<size_t>(local[d.cut_vertices[i]]);
        for (int k = 0; k < K; ++k) {
          const double efk = ef[c * K + k];
          if (std::isfinite(efk)) nf[k] = std::min(nf[k], fe + std::max(base, efk));
        }
      }
    }
    if (last) decomposition = std::isfinite(end_best) ? end_best : 0;
    else f.swap(nf);
    for (OpId v : mod) local[v] = -1;
  }
  lb.module_milp = opt.milp_time_limit_s > 0 ? module_milp_sum : 0;
  lb.decomposition = decomposition;
  lb.critical_path_comm = cpc;
  if (opt.series_dp) {
    SeriesDpOptions so;
    so.max_nodes = opt.series_max_nodes;
    so.max_module_pairs = opt.series_max_module_pairs;
    so.milp_fallback = opt.series_milp;
    so.bnb_max_nodes = opt.series_bnb_max_nodes;
    so.interrupt = opt.interrupt;
    const SeriesDpResult r = series_dp(pb, so);
    lb.series_dp = r.bound;
    lb.series_dp_exact = r.exact && !r.timed_out;
  }
  lb.best = std::max({lb.critical_path, lb.critical_path_comm, lb.load_balance, lb.module_milp, lb.decomposition,
                      lb.series_dp});
  lb.best = round_up_to_unit(pb, lb.best);
  return lb;
}

LatencyBounds reported_latency_bounds(const Problem& pb, BoundLevel level, int threads, double extra_milp_time_s) {
  if (level == BoundLevel::None) return {};
  BoundOptions bo;
  bo.threads = threads;
  bo.milp_time_limit_s = extra_milp_time_s;
  bo.series_dp = level == BoundLevel::Series && pb.num_ops() <= kSeriesBoundMaxOps;
  // Module solves by the branch and bound alone: it proves every module of the CNNs and
  // transformers, and where it does not (32-node RandWire stages) CBC's node budget did not
  // bound the time (3-stage RandWire: 90 s of module MILPs, each stopped by the 30 s guard, so
  // no bound of theirs counted; the same 427.81 us in 0.8 s without them). `series-dp` and
  // `split` still run CBC after the branch and bound, and their bound joins this one.
  bo.series_milp = false;
  return latency_lower_bounds(pb, bo);
}

SolveStatus certified_status(SolveStatus status, double makespan, double lower_bound) {
  return meets_bound(makespan, lower_bound) ? SolveStatus::Optimal : status;
}

}  // namespace diviml

// Throughput methods: see throughput_solvers.h and docs/throughput.md.
#include "solvers/throughput/throughput_solvers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "graph/series.h"
#include "solvers/bounds/bounds.h"
#include "solvers/bounds/throughput_bound.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/llm/llm_methods.h"
#include "solvers/milp/cbc_backend.h"
#include "solvers/split/split.h"
#include "solvers/throughput/pipeline_dp.h"
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

}  // namespace

/// What every method run sees (opaque in the header; the methods table points at functions of it).
struct ThroughputRunContext {
  const Problem& pb;
  const ThroughputInstance& in;
  const ThroughputOptions& opt;
  clock_type::time_point t0;
  /// Per device: peak activations of one inference of the whole model on it alone (latency
  /// simulator); +inf where the device cannot run every op.
  std::vector<double> whole_model_activation;
  bool latency_ok(const Place& p) const {
    return opt.max_latency_s <= 0 || max_replica_latency(pb, p) <= opt.max_latency_s * (1 + 1e-9);
  }
  /// Memory exactly as analyze_throughput counts it (weights, activations, reserve).
  bool mem_ok(const Place& p) const { return throughput_memory(pb, p).violations.empty(); }
  bool interrupted() const { return opt.solve.interrupt && opt.solve.interrupt->load(); }
  double time_left() const { return opt.solve.time_limit_s - seconds_since(t0); }
  /// Copies of the whole model device k holds (weights once, activations per copy, reserve).
  int max_copies(int k) const {
    if (!std::isfinite(whole_model_activation[k])) return 0;
    const auto& d = pb.platform().devices[k];
    double w = 0;
    for (int v = 0; v < in.n; ++v) w += in.weight[v];
    const double room = d.memory_bytes * (1 + 1e-12) - d.reserve_bytes - w;
    if (room < whole_model_activation[k]) return 0;
    if (whole_model_activation[k] <= 0) return kMaxReplicas * 16;
    return static_cast<int>(std::min<double>(kMaxReplicas * 16, std::floor(room / whole_model_activation[k])));
  }
};

namespace {

using Ctx = ThroughputRunContext;

// ---------------------------------------------------------------------------------------------
// Baselines.

/// Per device alone: the period of the whole model on it (compute, input and output links).
std::vector<double> single_device_periods(const Ctx& c) {
  std::vector<double> P(c.in.K, kInf);
  for (int k = 0; k < c.in.K; ++k) {
    if (c.max_copies(k) < 1) continue;
    const Place p = replicate(std::vector<int>(c.in.n, k), 1);
    if (!c.latency_ok(p)) continue;
    P[k] = period_of(c.in, p);
  }
  return P;
}

std::string device_list_reason(const Ctx& c) {
  return fmt::format("memory limit cannot be met: no device can hold the whole model (weights {:.4g} bytes and "
                     "its activations){}",
                     std::accumulate(c.in.weight.begin(), c.in.weight.end(), 0.0),
                     c.opt.max_latency_s > 0 ? fmt::format(" within the latency cap {:.6g} s", c.opt.max_latency_s) : "");
}

Place fastest_device(const Ctx& c, int R) {
  R = std::max(1, R);
  const auto P = single_device_periods(c);
  int k = -1;
  for (int d = 0; d < c.in.K; ++d)
    if (std::isfinite(P[d]) && c.max_copies(d) >= R && (k < 0 || P[d] < P[k])) k = d;
  if (k < 0) {
    if (std::none_of(P.begin(), P.end(), [](double x) { return std::isfinite(x); }))
      throw InputError("fastest-device: " + device_list_reason(c));
    throw InputError(fmt::format("fastest-device: memory limit cannot be met: no device holds {} copies of the model "
                                 "(weights once, activations per copy)", R));
  }
  return replicate(std::vector<int>(c.in.n, k), R);
}

/// Replica counts per device minimising max_k n_k P_k for a total of R, n_k <= cap[k].
std::vector<int> split_replicas(const std::vector<double>& P, const std::vector<int>& cap, int R) {
  std::vector<int> cnt(P.size(), 0);
  for (int i = 0; i < R; ++i) {
    int best = -1;
    for (int k = 0; k < static_cast<int>(P.size()); ++k)
      if (std::isfinite(P[k]) && cnt[k] < cap[k] && (best < 0 || (cnt[k] + 1) * P[k] < (cnt[best] + 1) * P[best])) best = k;
    if (best < 0) return {};
    ++cnt[best];
  }
  return cnt;
}

Place data_parallel(const Ctx& c, int R) {
  const auto P = single_device_periods(c);
  if (std::none_of(P.begin(), P.end(), [](double x) { return std::isfinite(x); }))
    throw InputError("data-parallel: " + device_list_reason(c));
  std::vector<int> cap(c.in.K);
  int total = 0;
  for (int k = 0; k < c.in.K; ++k) total += (cap[k] = std::isfinite(P[k]) ? c.max_copies(k) : 0);
  if (R > total)
    throw InputError(fmt::format("data-parallel: memory limit cannot be met: the devices hold {} copies of the model "
                                 "in all, {} requested", total, R));
  auto build = [&](int r) {
    const auto cnt = split_replicas(P, cap, r);
    Place p;
    for (int k = 0; k < c.in.K; ++k)
      for (int i = 0; i < cnt[k]; ++i) p.push_back(std::vector<int>(c.in.n, k));
    return p;
  };
  if (R > 0) return build(R);
  Place best;
  double best_thr = -1;
  for (int r = 1; r <= std::min(16, total); ++r) {
    const Place p = build(r);
    const double thr = throughput_of(c.in, p);
    if (thr > best_thr * (1 + 1e-9)) {
      best_thr = thr;
      best = p;
    }
  }
  return best;
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
  // Memory rows with the activation estimate are conservative: they can cut off placements that
  // fit, so CBC's proof and bound hold for the restricted model only; keep the LP bound then.
  if (tm.activation_rows) {
    out.bound = period_lb;
    out.optimal = false;
    out.notes += " (memory rows with the activation estimate: optimal for that model only)";
  } else {
    out.bound = std::isfinite(sol.bound) ? std::max(period_lb, sol.bound * unit) : period_lb;
    out.optimal = sol.status == milp::MilpStatus::Optimal;
  }
  return out;
}

/// The best baseline placement with R replicas (memory-feasible, latency cap met), or empty.
Place best_baseline(const Ctx& c, int R) {
  Place best;
  double best_thr = -1;
  auto consider = [&](Place p) {
    if (p.empty() || !c.mem_ok(p) || !c.latency_ok(p)) return;
    const double thr = throughput_of(c.in, p);
    if (thr > best_thr) best_thr = thr, best = std::move(p);
  };
  try { consider(data_parallel(c, R)); } catch (const InputError&) {}
  try { consider(replicate(pipeline_dp(c.in).place, R)); } catch (const InputError&) {}
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
  ci.activation.assign(G, 0);
  ci.io_activation = in.io_activation;
  for (int v = 0; v < in.n; ++v) {
    const int gi = c.group[v];
    ci.weight[gi] += in.weight[v];
    ci.activation[gi] += in.activation[v];  // still an upper estimate: a sum over the group's ops
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
  // Every phase shares the time limit: the bound LP gets a fifth of it (a bound that cannot
  // finish falls back to the load balance), coarsening a tenth.
  ThroughputBoundOptions bopt;
  bopt.time_limit_s = std::max(0.01, 0.2 * c.time_left());
  const ThroughputBound fine_bound = c.opt.known_bound ? *c.opt.known_bound : throughput_bound(c.in, bopt);
  Coarse coarse;
  const ThroughputInstance* inst = &c.in;
  ThroughputBound bound = fine_bound;
  if (split) {
    SolveOptions so = c.opt.solve;
    so.time_limit_s = std::max(0.01, 0.1 * c.time_left());
    coarse = coarsen(c.pb, c.in, so, 120);
    inst = &coarse.inst;
    bopt.time_limit_s = std::max(0.01, 0.1 * c.time_left());
    bound = throughput_bound(coarse.inst, bopt);
    // The coarse LP bounds coarse placements only; the fine one is valid for them too.
    bound.best = std::max(bound.best, fine_bound.best);
    bound.max_op = std::max(bound.max_op, fine_bound.max_op);
  }
  const auto rs = replica_candidates(c.opt, inst->n, inst->K);
  ThroughputSchedule best;
  double best_thr = -1;
  std::string notes = fine_bound.lp_complete ? "" : "bound: " + fine_bound.note;
  bool all_optimal = true;
  const double refine_share = split ? 0.3 : 0.0;
  double first_budget = 0;
  for (size_t i = 0; i < rs.size(); ++i) {
    const int R = rs[i];
    // Out of time (CBC can overrun a small limit in its root processing): keep the best so far.
    if (i > 0 && (c.time_left() < 0.5 * first_budget || c.interrupted())) break;
    const double budget =
        std::max(0.05, (c.time_left() - 0.3) * (1 - refine_share) / static_cast<double>(rs.size() - i));
    if (i == 0) first_budget = budget;
    Place warm = best_baseline(c, R);  // fits memory exactly, meets the cap
    if (warm.empty()) continue;
    Place warm_inst = split ? to_coarse(coarse, c.in, warm) : warm;
    if (split && !estimated_memory_fits(*inst, warm_inst)) {
      // The coarse image of the baseline may break the MILP's memory rows: repair it so that CBC
      // accepts it as an incumbent (if that fails the MILP starts without one; warm is kept).
      Place repaired = warm_inst;
      if (repair_memory(*inst, repaired)) warm_inst = repaired;
    }
    MilpOutcome mo = c.interrupted() || c.time_left() <= 0
                         ? MilpOutcome{warm_inst, period_of(*inst, warm_inst), 0, false, false, "interrupted"}
                         : solve_milp_R(*inst, R, warm_inst, bound.period_bound(R), classes, c.opt.max_latency_s,
                                        budget, c.opt.solve, fmt::format("{} R={}", split ? "split" : "milp", R));
    Place fine = split ? to_fine(coarse, mo.place) : mo.place;
    // The serial-latency rows and the memory rows are conservative, but the fallback (warm
    // start, or its repaired coarse image) need not be: keep only what the checks accept.
    bool from_milp = true;
    if (!c.latency_ok(fine) || !c.mem_ok(fine)) fine = warm, from_milp = false;
    if (split && !c.interrupted()) {
      const double left = c.time_left() / static_cast<double>(rs.size() - i);
      Place polished = fine;
      improve_throughput_placement(c.in, polished, std::max(0.05, left * 0.5), c.opt.solve.interrupt);
      if (period_of(c.in, polished) < period_of(c.in, fine) && c.latency_ok(polished) && c.mem_ok(polished)) fine = polished;
    }
    if (period_of(c.in, warm) < period_of(c.in, fine)) fine = warm, from_milp = false;
    all_optimal = all_optimal && mo.optimal && !split;
    notes += (notes.empty() ? "" : "; ") + mo.notes;
    const double thr = throughput_of(c.in, fine);
    if (thr > best_thr * (1 + 1e-9)) {
      best_thr = thr;
      best = make_result(c.in, fine, SolveStatus::Feasible);
      if (!split) {
        best.lower_bound_period = mo.bound;
        best.status = mo.optimal && from_milp ? SolveStatus::Optimal : SolveStatus::TimeLimit;
      }
    }
  }
  if (c.opt.replicas == 0) {
    // Auto: data parallelism may prefer more replicas than the MILP range; keep its schedule
    // when it is better, so that the result is never worse than any baseline.
    try {
      Place dp = data_parallel(c, 0);
      if (c.mem_ok(dp) && c.latency_ok(dp) && throughput_of(c.in, dp) > best_thr * (1 + 1e-9)) {
        best_thr = throughput_of(c.in, dp);
        best = make_result(c.in, dp, SolveStatus::Feasible);
        notes += "; data-parallel schedule kept (better than the MILP range)";
      }
    } catch (const InputError&) {
    }
  }
  if (best.device.empty())
    throw InputError("memory limit or latency cap cannot be met: no baseline placement fits the devices' memory "
                     "(weights and activations) within the cap");
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
        mem_[pl_[r][v]] += act(v);
      }
      if (in.io >= 0) mem_[in.io] += in.io_activation;
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
  /// Memory as estimated_memory() counts it (weights once, activation estimates, I/O).
  bool mem_ok(int k) const { return mem_[k] <= in_.capacity[k] * (1 + 1e-12); }
  double act(int v) const { return in_.activation.empty() ? 0.0 : in_.activation[v]; }
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
    mem_[a] -= act(v);
    mem_[b] += act(v);
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
    // Move every replica's copy of the op off the device (freeing its weights and activations)
    // whose move hurts the period least, preferring ops that free much memory.
    int bv = -1, bk = -1;
    double best = kInf;
    for (int v = 0; v < in.n; ++v) {
      if (st.residents(v, over) == 0) continue;
      const double freed = in.weight[v] + st.residents(v, over) * st.act(v);
      if (freed <= 0) continue;
      for (int k = 0; k < in.K; ++k) {
        if (k == over || !std::isfinite(in.exec(v, k))) continue;
        const double added = (st.residents(v, k) == 0 ? in.weight[v] : 0.0) + st.residents(v, over) * st.act(v);
        if (st.mem_over(k) + added > in.capacity[k] * 1e-12) continue;
        std::vector<int> moved;
        for (size_t r = 0; r < place.size(); ++r)
          if (place[r][v] == over) st.move(static_cast<int>(r), v, k), moved.push_back(static_cast<int>(r));
        const double score = st.period() / (1 + freed / std::max(1.0, in.capacity[over]));
        for (int r : moved) st.move(r, v, over);
        if (score < best) best = score, bv = v, bk = k;
      }
    }
    if (bv < 0) return false;
    for (size_t r = 0; r < place.size(); ++r)
      if (place[r][bv] == over) st.move(static_cast<int>(r), bv, bk);
  }
  return estimated_memory_fits(in, place);
}

bool improve_throughput_placement(const ThroughputInstance& in, Place& place, double time_limit_s,
                                  const std::atomic<bool>* interrupt) {
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

namespace {

/// A heuristic placement after the same checks as every result: memory repaired when needed,
/// latency cap met.
ThroughputSchedule checked_result(const Ctx& c, Place p, const std::string& what) {
  if (!c.mem_ok(p) && !repair_memory(c.in, p))
    throw InputError(fmt::format("{}: memory limit cannot be met (weights and activations exceed a device's capacity "
                                 "and no op can move)", what));
  if (!c.latency_ok(p))
    throw InputError(fmt::format("{}: latency cap {:.6g} s cannot be met (its placement needs {:.6g} s per inference)", what,
                                 c.opt.max_latency_s, max_replica_latency(c.pb, p)));
  return make_result(c.in, std::move(p), SolveStatus::Heuristic);
}

ThroughputSchedule run_fastest_device(const Ctx& c) {
  return make_result(c.in, fastest_device(c, std::max(1, c.opt.replicas)), SolveStatus::Heuristic);
}
ThroughputSchedule run_data_parallel(const Ctx& c) {
  return make_result(c.in, data_parallel(c, c.opt.replicas), SolveStatus::Heuristic);
}
ThroughputSchedule run_pipeline_dp(const Ctx& c) {
  return checked_result(c, replicate(pipeline_dp(c.in).place, std::max(1, c.opt.replicas)), "pipeline-dp");
}
ThroughputSchedule run_heft_pipeline(const Ctx& c) {
  return checked_result(c, replicate(heft_schedule(c.pb).device, std::max(1, c.opt.replicas)), "heft-pipeline");
}
ThroughputSchedule run_milp(const Ctx& c) { return run_milp_method(c, false); }
ThroughputSchedule run_split(const Ctx& c) { return run_milp_method(c, true); }
ThroughputSchedule run_llm_symmetric(const Ctx& c) { return llm_symmetric_throughput(c.pb, c.opt); }
ThroughputSchedule run_uniform_layers(const Ctx& c) { return uniform_layers_throughput(c.pb, c.opt); }

/// Whatever a method returned: memory as analyze_throughput counts it, or a repair, or the
/// memory error naming what does not fit.
void ensure_memory(const Ctx& c, ThroughputSchedule& s, const std::string& method) {
  const ThroughputMemory mem = throughput_memory(c.pb, s.device);
  if (mem.violations.empty()) return;
  Place p = s.device;
  if (repair_memory(c.in, p) && c.mem_ok(p) && c.latency_ok(p)) {
    s.device = std::move(p);
    s.claimed_period = period_of(c.in, s.device);
    if (s.status == SolveStatus::Optimal) s.status = SolveStatus::Feasible;
    s.notes += (s.notes.empty() ? "" : "; ") + std::string("memory repaired (activations)");
    return;
  }
  std::string what;
  for (const auto& v : mem.violations) what += (what.empty() ? "" : "; ") + v;
  throw InputError(fmt::format("{}: memory limit cannot be met: {}", method, what));
}

}  // namespace

const std::vector<ThroughputMethodInfo>& throughput_methods() {
  // name, description, exact, randomised, uses MILP, default in compare, run
  static const std::vector<ThroughputMethodInfo> m = {
      {"fastest-device", "the whole model on the single device with the shortest period (R copies)", false, false, false,
       true, run_fastest_device},
      {"data-parallel", "the whole model on each device that can hold it, replicas split in proportion to speed", false,
       false, false, true, run_data_parallel},
      {"pipeline-dp", "contiguous pipeline stages over a topological order, exact dynamic program over boundaries and "
                      "devices used per kind (R copies)", false, false, false, true, run_pipeline_dp},
      {"heft-pipeline", "HEFT's placement used as a pipeline (R copies)", false, false, false, true, run_heft_pipeline},
      {"milp", "the throughput MILP (DESIGN section 5) on CBC, warm-started from the best baseline", true, false, true,
       true, run_milp},
      {"split", "modules/parts as super-ops, coarse throughput MILP, then refinement of single ops", false, false, true,
       true, run_split},
      {"llm-symmetric", "LLM on identical servers: one server's share of layers solved once (DP), replicated, "
                        "pipelined; pipelines side by side", false, false, false, false, run_llm_symmetric},
      {"uniform-layers", "equal decoder layers per GPU over all GPUs (pipeline-parallel serving default)", false, false,
       false, false, run_uniform_layers},
  };
  return m;
}

const ThroughputMethodInfo& find_throughput_method(const std::string& name) {
  for (const auto& m : throughput_methods())
    if (m.name == name) return m;
  throw InputError(fmt::format("unknown throughput method '{}' (valid: {})", name, throughput_method_names()));
}

std::string throughput_method_names() {
  std::string names;
  for (const auto& m : throughput_methods()) names += (names.empty() ? "" : ", ") + m.name;
  return names;
}

ThroughputSchedule solve_throughput(const Problem& pb, const std::string& method, const ThroughputOptions& opt) {
  const auto t0 = clock_type::now();
  if (opt.replicas < 0 || opt.replicas > kMaxReplicas)
    throw InputError(fmt::format("--replicas {} is out of range: R must be in 1..{} (or auto)", opt.replicas, kMaxReplicas));
  const ThroughputMethodInfo& info = find_throughput_method(method);
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
  Ctx c{pb, in, opt, t0, std::vector<double>(in.K, kInf)};
  for (int k = 0; k < in.K; ++k) {
    bool runs_all = true;
    for (int v = 0; v < in.n && runs_all; ++v) runs_all = std::isfinite(in.exec(v, k));
    if (runs_all)
      c.whole_model_activation[k] =
          throughput_memory(pb, replicate(std::vector<int>(in.n, k), 1)).memory[k].peak_activation_bytes;
  }
  ThroughputSchedule s = info.run(c);
  ensure_memory(c, s, method);
  s.method = method;
  s.solve_seconds = seconds_since(t0);
  // Stopped by Ctrl-C / the caller's interrupt: say so rather than time_limit (issue 12.13).
  if (c.interrupted() && s.status != SolveStatus::Optimal) s.status = SolveStatus::Interrupted;
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

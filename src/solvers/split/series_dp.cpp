// The series DP (docs/split.md section 4 has the proof and its preconditions).
//
// State: the device of cut vertex c_i. f_i(k) = a lower bound on (and, where exact, the optimum
// of) the finish of c_i over all schedules with c_i on k. Arc (k', k) of module i: the optimal
// makespan S_i(k', k; L) of module i alone, started at L = f_(i-1)(k') with c_(i-1)'s tensors on
// k' at relative time 0, every device free, graph inputs arriving at max(0, arrival - L), and
// c_i pinned on k. f_i(k) = min_k' f_(i-1)(k') + S_i(k', k; L).
//
// The pairs are evaluated lazily: every pair starts with a closed-form bound (CP, load balance,
// the transfer-aware earliest finish); the argmin path is computed, and each pair on it that is
// not yet exact is solved (first one MILP per entry device with the exit free, which is exact for
// the exit it picks and a bound for the others; then the exit pinned where the path needs
// another). Pairs off the path keep their bounds, which are valid, so the DP value is a lower
// bound at every step and exact once the path is.
#include "solvers/split/series_dp.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "graph/series.h"
#include "platform/units.h"
#include "schedule/run_order.h"
#include "schedule/simulator.h"
#include "solvers/bounds/bounds.h"
#include "solvers/exact/bnb.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/heuristics/local_search.h"
#include "solvers/memory/memory.h"
#include "solvers/milp/latency_milp.h"
#include "solvers/milp/milp_settings.h"
#include "solvers/split/split.h"

namespace diviml {

namespace {

using Clock = std::chrono::steady_clock;

/// Modules of at most this many ops are solved with CBC's cut generators off.
constexpr int kNoCutsMaxOps = 10;

/// A module's schedule relative to its start: device and start per local op, and the local ops
/// in run order (start times cannot order a zero-duration op against its device's next op).
/// Local indices, so that identical modules share it.
struct ModuleSchedule {
  std::vector<int> dev;
  std::vector<double> start;
  std::vector<int> order;
};

struct PairValue {
  double lb = 0;          ///< lower bound on S_i(k', k; L)
  bool exact = false;     ///< lb is the optimum (solved)
  bool final = false;     ///< no further solve will improve it (too large, budget, failure)
  int solution = -1;      ///< index into Solver::solutions_ (a schedule achieving <= ... for this exit)
};

/// What one module solve returns, whichever exact method ran (indices of the whole graph).
struct ModuleSolve {
  std::vector<int> device;
  std::vector<double> start;
  std::vector<OpId> order;
  double bound = 0;  ///< proven lower bound (valid whatever stopped the solve)
  SolveStatus status = SolveStatus::Feasible;
};

struct Module {
  std::vector<OpId> ops;
  OpId entry = kNoOp, exit = kNoOp;  ///< previous and own cut vertex (exit: none for the last)
  bool last = false;
  bool path = false;                 ///< a path whose exact DP is closed-form
  bool too_large = false;            ///< above max_module_pairs (or the MILP's limits)
  std::string signature;             ///< equal for modules with the same costs and structure
  double cp = 0, w = 0;              ///< critical path and load-balance bounds of the module
  std::vector<TensorId> graph_inputs;  ///< graph inputs read by the module (for the release key)
};

class Solver {
 public:
  Solver(const Problem& pb, const SeriesDpOptions& opt) : pb_(pb), g_(pb.graph()), opt_(opt), t0_(Clock::now()) {}
  SeriesDpResult run();

 private:
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  bool out_of_time() const {
    return (opt_.interrupt && opt_.interrupt->load()) || elapsed() >= opt_.time_limit_s;
  }
  void build_modules();
  std::string release_key(const Module& md, double L) const;
  std::string key(int i, int e, int x, double L) const {
    return fmt::format("{}|{}|{}|{}", modules_[i].signature, e, x, release_key(modules_[i], L));
  }
  /// The pair's value, computing the closed-form bounds of (i, e, L) on first use.
  PairValue& pair(int i, int e, int x, double L);
  void closed_form(int i, int e, double L);
  bool solve_path(int i, int e, double L);
  void solve_module(int i, int e, int x, double L);
  std::vector<int> warm_devices(const Module& md, const ModuleSchedule& w, int x) const;
  std::optional<ModuleSolve> run_bnb(const Module& md, const FixedContext& ctx, int x, double L,
                                     const ModuleSchedule* warm);
  std::optional<ModuleSolve> run_milp(const Module& md, const FixedContext& ctx, int x, double L,
                                      const ModuleSolve* warm_bnb, const ModuleSchedule* warm);
  int exits(int i) const { return modules_[i].last ? 1 : pb_.num_devices(); }
  int entries(int i) const { return i == 0 ? 1 : pb_.num_devices(); }
  /// Releases (relative to L) and entry arrivals of the module's ops on each device.
  std::vector<double> op_ready(const Module& md, int j, int e, double L) const;

  const Problem& pb_;
  const Graph& g_;
  const SeriesDpOptions& opt_;
  Clock::time_point t0_;
  std::vector<Module> modules_;
  std::vector<int> local_;  ///< op -> index within its module
  std::map<std::string, PairValue> pairs_;
  std::map<std::string, bool> free_solved_;
  std::map<std::string, int> best_solution_;  ///< per module signature: a solution to warm-start from
  std::vector<ModuleSchedule> solutions_;
  int milp_solves_ = 0;
  int bnb_solves_ = 0, bnb_proofs_ = 0;
  bool timing_dependent_ = false;  ///< a module solve was cut by the wall clock or an interrupt
};

void Solver::build_modules() {
  const SeriesDecomposition d = series_decomposition(g_);
  const int m = static_cast<int>(d.modules.size());
  const int K = pb_.num_devices();
  local_.assign(g_.num_ops(), -1);
  for (int i = 0; i < m; ++i) {
    Module md;
    md.ops = d.modules[i];
    md.entry = i > 0 ? d.cut_vertices[i - 1] : kNoOp;
    md.last = i == m - 1;
    md.exit = (!md.last && i < static_cast<int>(d.cut_vertices.size())) ? d.cut_vertices[i] : kNoOp;
    for (size_t j = 0; j < md.ops.size(); ++j) local_[md.ops[j]] = static_cast<int>(j);
    // Path: op j reads local tensors only from op j-1; in the last module only the last op
    // delivers graph outputs (so the closed-form DP is exact).
    md.path = true;
    for (size_t j = 0; j < md.ops.size() && md.path; ++j) {
      const OpId v = md.ops[j];
      bool reads_prev = false;
      for (TensorId t : g_.ops[v].inputs) {
        const OpId u = g_.tensors[t].producer;
        if (u == kNoOp || u == md.entry) continue;
        if (j == 0 || u != md.ops[j - 1]) md.path = false;
        else reads_prev = true;
      }
      if (j > 0 && !reads_prev) md.path = false;
      if (md.last && j + 1 < md.ops.size())
        for (TensorId t : g_.ops[v].outputs)
          if (g_.tensors[t].is_graph_output) md.path = false;
    }
    const long long pairs = md.path ? 0 : count_incomparable_pairs(g_, md.ops);
    md.too_large = !md.path && (pairs > opt_.max_module_pairs || static_cast<long long>(md.ops.size()) > 5000 ||
                                 (!opt_.milp_fallback && static_cast<int>(md.ops.size()) > opt_.bnb_max_ops));
    md.cp = module_critical_path(pb_, md.ops);
    md.w = md.ops.size() > 1 ? load_balance_bound(pb_, md.ops) : 0;
    // Signature: per local op its times, weight, local inputs (producer, bytes), entry reads,
    // graph inputs and outputs; plus the module's role (first, last).
    std::string sig = fmt::format("{}{}{}:", i == 0 ? 'F' : 'M', md.last ? 'L' : 'M', md.path ? 'P' : 'G');
    for (size_t j = 0; j < md.ops.size(); ++j) {
      const OpId v = md.ops[j];
      sig += fmt::format("[{:a}", pb_.weight_bytes(v));
      for (int k = 0; k < K; ++k) sig += pb_.can_run(v, k) ? fmt::format(",{:a}", pb_.exec(v, k)) : ",x";
      for (TensorId t : g_.ops[v].inputs) {
        const OpId u = g_.tensors[t].producer;
        const double b = g_.tensors[t].bytes;
        if (u == kNoOp) {
          sig += fmt::format(";i{:a}", b);
          md.graph_inputs.push_back(t);
        } else if (u == md.entry) {
          sig += fmt::format(";e{:a}", b);
        } else {
          sig += fmt::format(";{}:{:a}", local_[u], b);
        }
      }
      for (TensorId t : g_.ops[v].outputs)
        if (g_.tensors[t].is_graph_output) sig += fmt::format(";o{:a}", g_.tensors[t].bytes);
      sig += ']';
    }
    md.signature = std::move(sig);
    modules_.push_back(std::move(md));
  }
}

std::string Solver::release_key(const Module& md, double L) const {
  // Graph inputs' releases relative to L; empty when all are 0 (then the module's cost does not
  // depend on L and identical modules share their solves).
  std::string k;
  bool any = false;
  for (TensorId t : md.graph_inputs)
    for (int d = 0; d < pb_.num_devices(); ++d) {
      const double r = std::max(0.0, pb_.input_arrival(t, d) - L);
      if (r > 0) any = true;
      k += fmt::format("{:a},", r);
    }
  return any ? k : std::string();
}

std::vector<double> Solver::op_ready(const Module& md, int j, int e, double L) const {
  // Ready time of op j on every device from the entry tensor and graph inputs.
  const int K = pb_.num_devices();
  std::vector<double> r(K, 0.0);
  const OpId v = md.ops[j];
  for (TensorId t : g_.ops[v].inputs) {
    const OpId u = g_.tensors[t].producer;
    if (u == kNoOp) {
      for (int l = 0; l < K; ++l) r[l] = std::max(r[l], pb_.input_arrival(t, l) - L);
    } else if (u == md.entry && e >= 0) {
      for (int l = 0; l < K; ++l) r[l] = std::max(r[l], pb_.comm(t, e, l));
    }
  }
  return r;
}

void Solver::closed_form(int i, int e, double L) {
  // Transfer-aware earliest finish per (op, device), relative to the module's start: drops only
  // device contention, so it bounds every exit's finish.
  const Module& md = modules_[i];
  const int K = pb_.num_devices();
  const int n = static_cast<int>(md.ops.size());
  std::vector<double> ef(static_cast<size_t>(n) * K, kInf);
  for (int j = 0; j < n; ++j) {
    const OpId v = md.ops[j];
    std::vector<double> ready = op_ready(md, j, i == 0 ? -1 : e, L);
    for (TensorId t : g_.ops[v].inputs) {
      const OpId u = g_.tensors[t].producer;
      if (u == kNoOp || u == md.entry) continue;
      const double* eu = &ef[static_cast<size_t>(local_[u]) * K];
      for (int k = 0; k < K; ++k) {
        double arr = kInf;
        for (int l = 0; l < K; ++l)
          if (std::isfinite(eu[l])) arr = std::min(arr, eu[l] + pb_.comm(t, l, k));
        ready[k] = std::max(ready[k], arr);
      }
    }
    for (int k = 0; k < K; ++k)
      if (pb_.can_run(v, k)) ef[static_cast<size_t>(j) * K + k] = ready[k] + pb_.exec(v, k);
  }
  const double base = std::max(md.cp, md.w);
  for (int x = 0; x < exits(i); ++x) {
    double v = 0;
    if (md.last) {
      // max over ops of min over devices of (finish + delivery of its graph outputs)
      for (int j = 0; j < n; ++j) {
        double best = kInf;
        for (int k = 0; k < K; ++k) {
          const double f = ef[static_cast<size_t>(j) * K + k];
          if (!std::isfinite(f)) continue;
          double end = f;
          for (TensorId t : g_.ops[md.ops[j]].outputs)
            if (g_.tensors[t].is_graph_output) end = std::max(end, f + pb_.output_delivery(t, k));
          best = std::min(best, end);
        }
        v = std::max(v, best);
      }
    } else {
      v = ef[static_cast<size_t>(local_[md.exit]) * K + x];
    }
    PairValue& p = pairs_[key(i, e, x, L)];
    p.lb = std::max(p.lb, std::isfinite(v) ? std::max(base, v) : kInf);
  }
}

bool Solver::solve_path(int i, int e, double L) {
  // Exact DP along a path: g_j(k) = min_l max(g_(j-1)(l) + c(l, k), ready_j(k)) + p_j(k).
  const Module& md = modules_[i];
  const int K = pb_.num_devices();
  const int n = static_cast<int>(md.ops.size());
  std::vector<std::vector<double>> gv(n, std::vector<double>(K, kInf));
  std::vector<std::vector<int>> from(n, std::vector<int>(K, -1));
  for (int j = 0; j < n; ++j) {
    const OpId v = md.ops[j];
    const std::vector<double> ready = op_ready(md, j, i == 0 ? -1 : e, L);
    for (int k = 0; k < K; ++k) {
      if (!pb_.can_run(v, k)) continue;
      double st = ready[k];
      if (j > 0) {
        double best = kInf;
        for (int l = 0; l < K; ++l) {
          if (!std::isfinite(gv[j - 1][l])) continue;
          double arr = gv[j - 1][l];
          for (TensorId t : g_.ops[v].inputs)
            if (g_.tensors[t].producer == md.ops[j - 1]) arr = std::max(arr, gv[j - 1][l] + pb_.comm(t, l, k));
          if (std::max(arr, st) < best) {
            best = std::max(arr, st);
            from[j][k] = l;
          }
        }
        st = best;
      }
      if (std::isfinite(st)) gv[j][k] = st + pb_.exec(v, k);
    }
  }
  for (int x = 0; x < exits(i); ++x) {
    int k = x;
    double v = kInf;
    if (md.last) {
      k = -1;
      for (int l = 0; l < K; ++l) {
        if (!std::isfinite(gv[n - 1][l])) continue;
        double end = gv[n - 1][l];
        for (TensorId t : g_.ops[md.ops[n - 1]].outputs)
          if (g_.tensors[t].is_graph_output) end = std::max(end, gv[n - 1][l] + pb_.output_delivery(t, l));
        if (end < v) {
          v = end;
          k = l;
        }
      }
    } else {
      v = gv[n - 1][x];
    }
    PairValue& p = pairs_[key(i, e, x, L)];
    p.final = true;
    if (!std::isfinite(v) || k < 0) {
      p.lb = kInf;
      continue;
    }
    ModuleSchedule s;
    s.dev.assign(n, -1);
    s.start.assign(n, 0.0);
    for (int j = n - 1; j >= 0; --j) {
      s.dev[j] = k;
      s.start[j] = gv[j][k] - pb_.exec(md.ops[j], k);
      if (j > 0) k = from[j][k];
    }
    s.order.resize(n);
    std::iota(s.order.begin(), s.order.end(), 0);
    p.lb = v;
    p.exact = true;
    p.solution = static_cast<int>(solutions_.size());
    solutions_.push_back(std::move(s));
  }
  return true;
}

PairValue& Solver::pair(int i, int e, int x, double L) {
  const std::string k = key(i, e, x, L);
  auto it = pairs_.find(k);
  if (it != pairs_.end()) return it->second;
  closed_form(i, e, L);
  if (modules_[i].path) solve_path(i, e, L);
  if (modules_[i].too_large || !opt_.solve_milps)
    for (int xx = 0; xx < exits(i); ++xx) pairs_[key(i, e, xx, L)].final = true;
  return pairs_[k];
}

/// Device per op of the whole graph (-1 outside the module) from a module schedule, with the
/// exit moved to the pinned device x (x >= 0): the warm start of either module solver.
std::vector<int> Solver::warm_devices(const Module& md, const ModuleSchedule& w, int x) const {
  std::vector<int> dev(pb_.num_ops(), -1);
  for (size_t j = 0; j < md.ops.size(); ++j) dev[md.ops[j]] = w.dev[j];
  if (x >= 0) dev[md.exit] = x;
  return dev;
}

std::optional<ModuleSolve> Solver::run_bnb(const Module& md, const FixedContext& ctx, int x, double L,
                                            const ModuleSchedule* warm) {
  BnbRequest req;
  req.ops = md.ops;
  req.fixed = &ctx;
  req.graph_input_offset = L;
  req.ignore_graph_outputs = !md.last;
  req.max_nodes = opt_.bnb_max_nodes;
  if (x >= 0) req.pinned.push_back({md.exit, x});
  if (warm) {
    req.warm_device = warm_devices(md, *warm, x);
    for (int j : warm->order) req.warm_order.push_back(md.ops[j]);
  }
  SolveOptions so;
  so.time_limit_s = opt_.module_time_limit_s;
  so.interrupt = opt_.interrupt;
  ++bnb_solves_;
  const BnbResult r = solve_latency_bnb(pb_, req, so);
  if (!r.found && !std::isfinite(r.bound)) return std::nullopt;  // complete search, no schedule: infeasible
  ModuleSolve out;
  out.status = r.status;
  out.bound = r.bound;
  if (r.found) {
    out.device = r.device;
    out.start = r.start;
    out.order = r.order;
  }
  if (r.status == SolveStatus::Optimal) ++bnb_proofs_;
  return out;
}

std::optional<ModuleSolve> Solver::run_milp(const Module& md, const FixedContext& ctx, int x, double L,
                                            const ModuleSolve* warm_bnb, const ModuleSchedule* warm) {
  const int n = pb_.num_ops();
  LatencyMilpRequest req;
  req.ops = md.ops;
  if (md.entry != kNoOp) req.fixed = &ctx;
  req.graph_input_offset = L;
  req.ignore_graph_outputs = !md.last;
  req.max_nodes = opt_.max_nodes;
  if (x >= 0) req.pinned.push_back({md.exit, x});
  // Warm start: the branch and bound's incumbent for this very pair, else the best schedule
  // found so far for an identical module (another entry or exit device) with the exit moved to
  // the pinned device; the MILP re-times it in its own model.
  if (warm_bnb && !warm_bnb->device.empty()) {
    req.warm_device = warm_bnb->device;
    req.warm_start = warm_bnb->start;
  } else if (warm) {
    req.warm_device = warm_devices(md, *warm, x);
    req.warm_start.assign(n, 0.0);
    for (size_t j = 0; j < md.ops.size(); ++j) req.warm_start[md.ops[j]] = warm->start[j];
  }
  SolveOptions so;
  so.time_limit_s = opt_.module_time_limit_s;
  so.threads = 1;
  so.interrupt = opt_.interrupt;
  ++milp_solves_;
  // CBC's root cuts cost more than they save on the smallest modules (googlenet's 8-op
  // inception blocks: 7.2 -> 4.0 CPU s for the whole DP, docs/split.md section 4a); options the
  // user gives (milp.cbc_args) come after and win.
  milp::MilpSettings settings = milp::current_settings();
  if (static_cast<int>(md.ops.size()) <= kNoCutsMaxOps) settings.cbc_args = "-cuts off " + settings.cbc_args;
  const milp::ScopedMilpSettings scoped(settings);
  try {
    LatencyMilpResult r = solve_latency_milp(pb_, req, so);
    ModuleSolve out;
    out.device = std::move(r.device);
    out.start = std::move(r.start);
    out.order = std::move(r.order);
    out.bound = r.bound;
    out.status = r.status;
    return out;
  } catch (const InputError&) {
    // Infeasible module (memory) or beyond the MILP's size limits.
    return std::nullopt;
  }
}

void Solver::solve_module(int i, int e, int x, double L) {
  const Module& md = modules_[i];
  const int n = pb_.num_ops(), K = pb_.num_devices();
  FixedContext ctx;
  ctx.device.assign(n, -1);
  ctx.finish.assign(n, 0.0);
  ctx.device_free.assign(K, 0.0);
  if (md.entry != kNoOp) ctx.device[md.entry] = e;
  auto best_it = best_solution_.find(md.signature);
  const ModuleSchedule* warm = best_it != best_solution_.end() ? &solutions_[best_it->second] : nullptr;

  // The branch and bound first (docs/exact.md): on small modules it proves the optimum in
  // milliseconds where CBC needs tenths of a second to tens of seconds (its LP relaxation prices
  // no transfer). Where its node budget runs out, its bound and incumbent go to the MILP.
  std::optional<ModuleSolve> r, bnb;
  double bound = 0;
  bool infeasible = false;
  if (opt_.bnb_max_nodes != 0 && static_cast<int>(md.ops.size()) <= opt_.bnb_max_ops) {
    bnb = run_bnb(md, ctx, x, L, warm);
    if (!bnb) infeasible = true;
    else if (bnb->status == SolveStatus::Optimal) r = bnb;
    else if (bnb->status == SolveStatus::TimeLimit) timing_dependent_ = true;
    else bound = bnb->bound;  // node budget (reproducible) or interrupt
  }
  if (!r && !infeasible && opt_.milp_fallback) {
    r = run_milp(md, ctx, x, L, bnb ? &*bnb : nullptr, warm);
    if (!r && bnb && !bnb->device.empty()) r = bnb;  // beyond the MILP: the search's incumbent
  }
  if (x < 0) free_solved_[key(i, e, -1, L)] = true;
  auto mark = [&](int xx) -> PairValue& { return pairs_[key(i, e, xx, L)]; };
  if (!r || r->device.empty()) {
    // Infeasible, or no schedule from either method: keep the closed-form bounds (and the search's).
    for (int xx = 0; xx < exits(i); ++xx) {
      if (x >= 0 && xx != x) continue;
      PairValue& p = mark(xx);
      if (p.exact) continue;
      p.lb = std::max(p.lb, bound);
      p.final = true;
    }
    return;
  }
  const int m = static_cast<int>(md.ops.size());
  ModuleSchedule s;
  s.dev.resize(m);
  s.start.resize(m);
  for (int j = 0; j < m; ++j) {
    s.dev[j] = r->device[md.ops[j]];
    s.start[j] = r->start[md.ops[j]];
  }
  for (OpId v : r->order) s.order.push_back(local_[v]);
  const int sol = static_cast<int>(solutions_.size());
  solutions_.push_back(std::move(s));
  if (!best_solution_.count(md.signature)) best_solution_[md.signature] = sol;
  const bool optimal = r->status == SolveStatus::Optimal;
  if (r->status == SolveStatus::TimeLimit) timing_dependent_ = true;
  // A bound found under the wall-clock guard depends on timing: not used (reproducibility).
  if (r->status != SolveStatus::TimeLimit) bound = std::max(bound, r->bound);
  const int got = md.last ? 0 : r->device[md.exit];
  for (int xx = 0; xx < exits(i); ++xx) {
    if (x >= 0 && xx != x) continue;
    PairValue& p = mark(xx);
    if (p.exact) continue;
    p.lb = std::max(p.lb, bound);  // the free solve bounds every exit
    if (xx == got) {
      if (p.solution < 0 || optimal) p.solution = sol;
      if (optimal) {
        p.lb = std::max(p.lb, r->bound);
        p.exact = true;
      } else {
        p.final = true;  // the budget ran out on this very exit: pinning it would repeat the solve
      }
    }
    if (x >= 0 && !p.exact) p.final = true;  // pinned and still not proven: budget exhausted
  }
}

SeriesDpResult Solver::run() {
  SeriesDpResult res;
  const int K = pb_.num_devices();
  build_modules();
  const int m = static_cast<int>(modules_.size());
  res.modules = m;
  if (m == 0 || K == 0) return res;
  // f[i][x], the entry device chosen for it, and L used.
  std::vector<std::vector<double>> f(m);
  std::vector<std::vector<int>> back(m);
  for (int iter = 0;; ++iter) {
    for (int i = 0; i < m; ++i) {
      f[i].assign(exits(i), kInf);
      back[i].assign(exits(i), -1);
      for (int e = 0; e < entries(i); ++e) {
        const double fe = i == 0 ? 0.0 : f[i - 1][e];
        if (!std::isfinite(fe)) continue;
        for (int x = 0; x < exits(i); ++x) {
          if (!modules_[i].last && !pb_.can_run(modules_[i].exit, x)) continue;
          const double v = fe + pair(i, e, x, fe).lb;
          if (v < f[i][x]) {
            f[i][x] = v;
            back[i][x] = e;
          }
        }
      }
    }
    res.bound = f[m - 1][0];
    if (!std::isfinite(res.bound)) throw InputError("series DP: no device assignment of the cut vertices is feasible");
    // The argmin path, last module first.
    std::vector<int> ex(m), en(m);
    ex[m - 1] = 0;
    for (int i = m - 1; i >= 0; --i) {
      en[i] = back[i][ex[i]];
      if (i > 0) ex[i - 1] = en[i];
    }
    // Refine the path's open pairs.
    bool all_exact = true, refined = false;
    for (int i = 0; i < m; ++i) {
      const double L = i == 0 ? 0.0 : f[i - 1][en[i]];
      PairValue& p = pair(i, en[i], ex[i], L);
      if (p.exact) continue;
      all_exact = false;
      if (p.final) continue;
      if (out_of_time()) {
        res.timed_out = true;
        break;
      }
      if (opt_.progress) {
        Progress pr;
        pr.elapsed_s = elapsed();
        pr.bound = res.bound;
        pr.incumbent = std::nan("");
        pr.gap = std::nan("");
        pr.stage = fmt::format("series dp: module {}/{}", i + 1, m);
        opt_.progress(pr);
      }
      const bool free_done = free_solved_.count(key(i, en[i], -1, L)) > 0;
      if (modules_[i].last && free_done) {
        p.final = true;
        continue;
      }
      solve_module(i, en[i], free_done ? ex[i] : -1, L);
      refined = true;
    }
    if (all_exact || !refined || res.timed_out) {
      res.exact = all_exact;
      // Assemble: each module's schedule on the path (or the fallback's for its ops).
      const bool have_fallback = opt_.fallback_device.size() == static_cast<size_t>(pb_.num_ops()) &&
                                 opt_.fallback_start.size() == opt_.fallback_device.size();
      std::vector<int> dev(pb_.num_ops(), -1);
      std::vector<OpId> order;
      bool ok = true;
      int unsolved = 0;
      for (int i = 0; i < m && ok; ++i) {
        const Module& md = modules_[i];
        const double L = i == 0 ? 0.0 : f[i - 1][en[i]];
        const PairValue& p = pair(i, en[i], ex[i], L);
        if (!p.exact) ++unsolved;
        if (p.solution >= 0) {
          const ModuleSchedule& s = solutions_[p.solution];
          for (size_t j = 0; j < md.ops.size(); ++j) dev[md.ops[j]] = s.dev[j];
          for (int j : s.order) order.push_back(md.ops[j]);
        } else if (have_fallback) {
          for (OpId v : md.ops) dev[v] = opt_.fallback_device[v];
          const std::vector<OpId> part = run_order(pb_, md.ops, opt_.fallback_device, opt_.fallback_start);
          order.insert(order.end(), part.begin(), part.end());
        } else {
          ok = false;
          break;
        }
      }
      res.unsolved_modules = unsolved;
      if (ok) {
        res.device = std::move(dev);
        res.order = std::move(order);
      }
      break;
    }
    (void)iter;
  }
  res.milp_solves = milp_solves_;
  res.bnb_solves = bnb_solves_;
  res.bnb_proofs = bnb_proofs_;
  res.reproducible = !timing_dependent_ && !res.timed_out && !(opt_.interrupt && opt_.interrupt->load());
  int identical = 0;
  {
    std::map<std::string, int> seen;
    for (const Module& md : modules_) identical += seen[md.signature]++ > 0 ? 1 : 0;
  }
  res.reused = identical;
  res.notes = fmt::format("series dp: {} modules ({} repeat an earlier one), {} branch-and-bound solves ({} proven), "
                          "{} CBC solves, {} modules on the path not proven optimal{}",
                          m, identical, bnb_solves_, bnb_proofs_, milp_solves_, res.unsolved_modules,
                          res.timed_out ? ", stopped by the time limit" : "");
  return res;
}

/// What series_dp reads of its CBC settings, as bytes.
std::string cbc_key(const SeriesDpOptions& opt) {
  std::string s;
  auto put = [&s](auto x) { s.append(reinterpret_cast<const char*>(&x), sizeof x); };
  const milp::MilpSettings& ms = milp::current_settings();
  s += ms.cbc_args;
  s += '|';
  put(ms.priorities);
  put(ms.ht_rows);
  put(opt.max_nodes);
  put(opt.milp_fallback);
  return s;
}

/// Everything else series_dp reads, as bytes: two problems with the same key and CBC key get
/// the same result.
std::string cache_key(const Problem& pb, const SeriesDpOptions& opt) {
  const Graph& g = pb.graph();
  const int K = pb.num_devices();
  std::string s;
  auto put = [&s](auto x) { s.append(reinterpret_cast<const char*>(&x), sizeof x); };
  put(opt.max_module_pairs);
  put(opt.bnb_max_ops);
  put(opt.bnb_max_nodes);
  put(opt.solve_milps);
  put(K);
  put(pb.io_device());
  put(g.num_ops());
  for (int k = 0; k < K; ++k) put(pb.memory_capacity(k));
  for (OpId v = 0; v < g.num_ops(); ++v) {
    put(pb.weight_bytes(v));
    for (int k = 0; k < K; ++k) put(pb.can_run(v, k) ? pb.exec(v, k) : -1.0);
    put(g.ops[v].inputs.size());
    for (TensorId t : g.ops[v].inputs) put(t);
    put(g.ops[v].outputs.size());
    for (TensorId t : g.ops[v].outputs) put(t);
  }
  for (TensorId t = 0; t < static_cast<TensorId>(g.tensors.size()); ++t) {
    put(g.tensors[t].producer);
    put(g.tensors[t].is_graph_output);
    for (int k = 0; k < K; ++k) {
      for (int l = 0; l < K; ++l) put(pb.comm(t, k, l));
      if (g.tensors[t].producer == kNoOp) put(pb.input_arrival(t, k));
      if (g.tensors[t].is_graph_output) put(pb.output_delivery(t, k));
    }
  }
  return s;
}

struct CachedRun {
  std::string key, cbc;
  SeriesDpResult result;
  /// A run whose path the branch and bound proved without one CBC solve is what every CBC
  /// setting gives (CBC is only asked where the branch and bound gives up): the reported bound,
  /// which runs no CBC, reuses the DP of `series-dp` and `split`, which may.
  bool serves(const std::string& k, const std::string& c) const {
    return key == k && (cbc == c || (result.exact && result.milp_solves == 0));
  }
};
std::mutex& cache_mutex() {
  static std::mutex mu;
  return mu;
}
std::deque<CachedRun>& cache() {
  static std::deque<CachedRun> runs;
  return runs;
}
constexpr size_t kCachedRuns = 4;

}  // namespace

SeriesDpResult series_dp(const Problem& pb, const SeriesDpOptions& opt) {
  const std::string key = cache_key(pb, opt), cbc = cbc_key(opt);
  const bool wants_schedule = !opt.fallback_device.empty();
  {
    std::lock_guard<std::mutex> lock(cache_mutex());
    for (const CachedRun& c : cache())
      if (c.serves(key, cbc) && (!wants_schedule || !c.result.device.empty())) {
        SeriesDpResult r = c.result;
        r.from_cache = true;
        r.notes += " (computed earlier in this run for the same problem)";
        return r;
      }
  }
  Solver s(pb, opt);
  SeriesDpResult r = s.run();
  if (r.reproducible) {
    std::lock_guard<std::mutex> lock(cache_mutex());
    auto& runs = cache();
    runs.erase(std::remove_if(runs.begin(), runs.end(), [&](const CachedRun& c) { return c.key == key && c.cbc == cbc; }),
               runs.end());
    runs.push_front({key, cbc, r});
    if (runs.size() > kCachedRuns) runs.pop_back();
  }
  return r;
}

Schedule series_dp_schedule(const Problem& pb, const SolveOptions& opt) {
  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  std::string base_name;
  const Schedule base = best_list_schedule(pb, &base_name);
  if (base.device.empty()) throw InputError("series-dp: no baseline schedule exists for this instance");
  const LatencyResult base_sim = simulate_latency(pb, base);

  SeriesDpOptions so;
  so.time_limit_s = 0.75 * opt.time_limit_s;
  so.module_time_limit_s = std::max(0.5, std::min(30.0, 0.5 * opt.time_limit_s));
  so.interrupt = opt.interrupt;
  so.progress = opt.progress;
  so.fallback_device = base.device;
  so.fallback_start = base_sim.start;
  const SeriesDpResult r = series_dp(pb, so);
  const double bound = std::max(r.bound, latency_lower_bounds(pb).best);

  // Candidate: the assembled schedule (memory repaired if needed), else the baseline.
  std::vector<int> dev = base.device;
  std::vector<OpId> order = run_order(pb, pb.graph().topo_order(), base.device, base_sim.start);
  double ms = base_sim.makespan;
  std::string notes = r.notes;
  if (!r.device.empty()) {
    Schedule a = repair_memory(pb, schedule_from_order(pb, r.device, r.order));
    const LatencyResult sim = simulate_latency(pb, a);
    if (sim.makespan <= ms) {
      dev = a.device;
      order = run_order(pb, pb.graph().topo_order(), a.device, sim.start);
      ms = sim.makespan;
    }
    notes += fmt::format("; assembled schedule {}", format_seconds(sim.makespan));
  }
  notes += fmt::format("; best baseline {} {}; bound {}", base_name, format_seconds(base_sim.makespan), format_seconds(bound));
  if (!meets_bound(ms, bound) && !(opt.interrupt && opt.interrupt->load())) {
    LocalSearchOptions lo;
    lo.seconds = std::max(0.0, opt.time_limit_s - elapsed());
    lo.seed = opt.seed;
    lo.interrupt = opt.interrupt;
    lo.threads = opt.threads;
    if (lo.seconds > 0) {
      LocalSearchResult ls = local_search(pb, dev, order, lo);
      if (ls.makespan < ms) {
        dev = std::move(ls.device);
        order = std::move(ls.order);
        ms = ls.makespan;
      }
      notes += fmt::format("; polish -> {}", format_seconds(ms));
    }
  }
  // The polish and the modules' MILPs see only weights per module: repair the whole placement
  // (a schedule that fits comes back unchanged) before judging it.
  Schedule s = repair_memory(pb, schedule_from_order(pb, dev, order));
  const LatencyResult sim = simulate_latency(pb, s);
  s.start = sim.start;
  s.claimed_makespan = sim.makespan;
  s.method = "series-dp";
  const bool proven = meets_bound(sim.makespan, bound) && sim.memory_violations.empty();
  s.status = proven ? SolveStatus::Optimal : SolveStatus::Feasible;
  s.lower_bound = std::min(bound, sim.makespan);
  s.notes = notes;
  s.solve_seconds = elapsed();
  return s;
}

}  // namespace diviml

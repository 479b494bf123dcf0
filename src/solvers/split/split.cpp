// The DiviML splitting heuristic (DESIGN section 6; docs/split.md).
//
//  1. best baseline (fastest device, HEFT, CPOP, PEFT, ETF), simulated: the fallback and the warm
//     start of every MILP;
//  2. series modules and parts (series.cpp, partition.cpp);
//  3. the latency MILP per part in topological order of parts: earlier parts are fixed
//     (FixedContext: devices and finish times of their ops, per-device free times), the part is
//     appended after them on every device. Each part is warm-started from the baseline's devices
//     for its ops, timed as soon as possible in the context, so a part is never worse than the
//     baseline's choices for it given the context (the MILP also tries its own greedy);
//  4. refinement (large-neighbourhood search): windows of consecutive ops of the global order
//     that straddle a part boundary, within the part budget, are re-solved with everything
//     before them fixed; a new window solution is kept only if the simulator confirms a lower
//     makespan of the whole schedule. Passes repeat until one brings no improvement or time is up.
// The result is simulated; if the best baseline is better it is returned instead, so split is
// never worse than the best baseline.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "graph/series.h"
#include "platform/units.h"
#include "schedule/run_order.h"
#include "schedule/simulator.h"
#include "schedule/timing.h"
#include "solvers/bounds/bounds.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/heuristics/local_search.h"
#include "solvers/memory/feasible_baseline.h"
#include "solvers/milp/latency_milp.h"
#include "solvers/milp/worker_processes.h"
#include "solvers/split/series_dp.h"
#include "solvers/split/split.h"

namespace diviml {

namespace {

using Clock = std::chrono::steady_clock;

/// Shortest time limit given to one CBC solve: CBC has crashed (heap corruption in the
/// model's teardown) when stopped by a time limit of a few milliseconds; below this a part keeps
/// its warm start instead.
constexpr double kMinMilpSeconds = 0.25;

struct Baseline {
  Schedule schedule;
  LatencyResult sim;
  std::string name;
  double makespan = kInf;
};

Baseline best_baseline(const Problem& pb) {
  Baseline best;
  FeasibleBaseline f = best_feasible_baseline(pb);  // with tight memory the fastest may not fit
  best.schedule = std::move(f.schedule);
  best.name = f.name;
  if (best.schedule.device.empty()) return best;
  best.sim = simulate_latency(pb, best.schedule);
  best.makespan = best.sim.makespan;
  return best;
}

/// Appends `order` (ops not yet in the context, a linear extension of their precedence) after the
/// context on the devices `dev`, as soon as possible; commits them to the context. Returns the
/// latest finish or output delivery among them.
double append_asap(const Problem& pb, const std::vector<OpId>& order, const std::vector<int>& dev, FixedContext& ctx,
                   std::vector<double>& start) {
  return asap_append(pb, order, dev, {ctx.device, ctx.finish, ctx.device_free}, start);  // the timing core
}

bool placement_valid(const Problem& pb, const std::vector<OpId>& ops, const std::vector<int>& dev) {
  for (OpId v : ops)
    if (dev[v] < 0 || dev[v] >= pb.num_devices() || !pb.can_run(v, dev[v])) return false;
  return true;
}

class SplitSolver {
 public:
  SplitSolver(const Problem& pb, const SolveOptions& opt) : pb_(pb), g_(pb.graph()), opt_(opt), t0_(Clock::now()) {}

  Schedule run();

 private:
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  double left() const { return opt_.time_limit_s - elapsed(); }
  /// Time left for the MILP stages (parts and windows): the last quarter of the budget is kept
  /// for the polish, which converges on its own and hands back what it does not use.
  double milp_left() const { return 0.75 * opt_.time_limit_s - elapsed(); }
  bool interrupted() const { return opt_.interrupt && opt_.interrupt->load(); }

  void report(const std::string& stage, double incumbent, long long nodes = 0) const {
    if (!opt_.progress) return;
    Progress p;
    p.elapsed_s = elapsed();
    p.incumbent = incumbent;
    p.bound = lb_;
    p.gap = (std::isfinite(incumbent) && lb_ > 0) ? (incumbent - lb_) / lb_ : std::nan("");
    p.nodes = nodes;
    p.stage = stage;
    opt_.progress(p);
  }
  /// Options for one MILP solve: time limit, and progress relabelled with our stage.
  SolveOptions milp_options(double limit, const std::string& stage) const {
    SolveOptions so = opt_;
    so.time_limit_s = std::max(0.01, limit);
    so.progress = nullptr;
    if (opt_.progress) {
      const double best = best_ms_;
      so.progress = [this, stage, best](const Progress& m) { report(stage, best, m.nodes); };
    }
    return so;
  }

  Schedule finish(std::vector<int> dev, const std::vector<OpId>& order, SolveStatus status, double extra_bound,
                  const std::string& notes);
  std::optional<Schedule> series_stage();
  /// Takes the series DP's assembled schedule instead of (dev, order) when it is faster.
  void prefer_series(std::vector<int>& dev, std::vector<OpId>& order) const;
  void refine(std::vector<int>& dev, std::vector<OpId>& order, LatencyResult& sim, int& accepted, int& windows);
  std::string polish(std::vector<int>& dev, std::vector<OpId>& order);

  const Problem& pb_;
  const Graph& g_;
  const SolveOptions& opt_;
  Clock::time_point t0_;
  Baseline base_;
  double lb_ = 0;
  double best_ms_ = kInf;
  Partition part_;
  std::vector<int> part_of_;
  // The series DP's assembled schedule (docs/split.md section 4a), when it has one.
  std::vector<int> dp_dev_;
  std::vector<OpId> dp_order_;
  double dp_ms_ = kInf;
  std::string dp_notes_;
};

/// Module stage: the exact series DP. Returns the schedule when it is proven optimal; otherwise
/// raises the bound and keeps the assembled schedule as a candidate for the end.
std::optional<Schedule> SplitSolver::series_stage() {
  if (interrupted()) return std::nullopt;
  SeriesDpOptions so;
  so.time_limit_s = 0.5 * opt_.time_limit_s;
  so.module_time_limit_s = std::max(kMinMilpSeconds, std::min(30.0, 0.25 * opt_.time_limit_s));
  so.interrupt = opt_.interrupt;
  so.progress = [this](const Progress& p) { report(p.stage, best_ms_); };
  so.fallback_device = base_.schedule.device;
  so.fallback_start = base_.sim.start;
  SeriesDpResult dp;
  try {
    dp = series_dp(pb_, so);
  } catch (const InputError& e) {
    dp_notes_ = fmt::format("series dp: {}", e.what());
    return std::nullopt;
  }
  lb_ = std::max(lb_, dp.bound);
  dp_notes_ = dp.notes;
  if (dp.device.empty()) return std::nullopt;
  const LatencyResult sim = simulate_latency(pb_, schedule_from_order(pb_, dp.device, dp.order));
  dp_notes_ += fmt::format("; assembled {}", format_seconds(sim.makespan));
  if (!sim.memory_violations.empty()) return std::nullopt;  // memory repair is split's later stages' job
  dp_dev_ = dp.device;
  dp_order_ = dp.order;
  dp_ms_ = sim.makespan;
  best_ms_ = std::min(best_ms_, dp_ms_);
  if (!meets_bound(dp_ms_, lb_)) return std::nullopt;
  Schedule s = finish(dp_dev_, dp_order_, SolveStatus::Optimal, std::nan(""), "every module on the series DP's path proven optimal");
  report("done", s.claimed_makespan);
  return s;
}

void SplitSolver::prefer_series(std::vector<int>& dev, std::vector<OpId>& order) const {
  if (dp_dev_.empty()) return;
  const double cur = simulate_latency(pb_, schedule_from_order(pb_, dev, order)).makespan;
  if (dp_ms_ < cur) {
    dev = dp_dev_;
    order = dp_order_;
  }
}

Schedule SplitSolver::finish(std::vector<int> dev, const std::vector<OpId>& order, SolveStatus status,
                             double extra_bound, const std::string& notes) {
  Schedule s;
  LatencyResult sim;
  bool ok = false;
  try {
    s = schedule_from_order(pb_, dev, order);
    sim = simulate_latency(pb_, s);
    ok = true;
  } catch (const ScheduleError&) {
    ok = false;
  }
  std::string note = notes;
  if (!ok || !(sim.makespan <= base_.makespan)) {
    s = base_.schedule;
    sim = base_.sim;
    status = SolveStatus::Heuristic;
    note += fmt::format("; kept the best baseline {} ({})", base_.name, format_seconds(base_.makespan));
  }
  s.start = sim.start;
  s.claimed_makespan = sim.makespan;
  s.method = "split";
  s.status = status;
  double lb = lb_;
  if (std::isfinite(extra_bound)) lb = std::max(lb, extra_bound);
  s.lower_bound = std::min(lb, sim.makespan);
  if (sim.memory_violations.empty()) s.status = certified_status(s.status, sim.makespan, lb);
  if (!dp_notes_.empty()) note += "; " + dp_notes_;
  s.solve_seconds = elapsed();
  s.notes = note;
  return s;
}

Schedule SplitSolver::run() {
  const int n = pb_.num_ops(), K = pb_.num_devices();
  base_ = best_baseline(pb_);
  if (!std::isfinite(base_.makespan))
    throw InputError("split: no baseline schedule exists for this instance (no device runs every op and list "
                     "scheduling failed)");
  best_ms_ = base_.makespan;
  lb_ = latency_lower_bounds(pb_).best;
  report("baselines", best_ms_);
  if (std::optional<Schedule> proven = series_stage()) return *proven;

  const SeriesDecomposition d = series_decomposition(g_);
  part_ = split_into_parts(pb_, d, opt_);
  const int P = static_cast<int>(part_.parts.size());
  part_of_.assign(n, -1);
  for (int i = 0; i < P; ++i)
    for (OpId v : part_.parts[i]) part_of_[v] = i;

  const std::vector<int>& hdev = base_.schedule.device;
  const std::vector<double>& hstart = base_.sim.start;

  // ---- one part: the full MILP, warm-started by the best baseline ----
  if (P <= 1) {
    LatencyMilpRequest req;
    req.warm_device = hdev;
    req.warm_start = hstart;
    std::vector<int> dev = hdev;
    std::vector<OpId> order = run_order(pb_, g_.topo_order(), hdev, hstart);
    SolveStatus status = SolveStatus::Heuristic;
    double bound = std::nan("");
    std::string notes = fmt::format("1 module, 1 part; baseline {}", base_.name);
    if (left() >= kMinMilpSeconds && !interrupted()) {
      try {
        const LatencyMilpResult r = solve_latency_milp(pb_, req, milp_options(left(), "part 1/1"));
        if (placement_valid(pb_, g_.topo_order(), r.device)) {
          dev = r.device;
          order = r.order;
          status = r.status == SolveStatus::Optimal ? SolveStatus::Optimal : SolveStatus::Feasible;
          bound = r.bound;
          notes += fmt::format("; cbc {} nodes, {}", r.nodes, to_string(r.status));
        }
      } catch (const InputError& e) {
        notes += fmt::format("; milp failed: {}", e.what());
      }
    }
    if (status != SolveStatus::Optimal) prefer_series(dev, order);
    if (status != SolveStatus::Optimal) {
      const std::string polished = polish(dev, order);
      notes += "; " + polished;
    }
    Schedule s = finish(dev, order, status, bound, notes);
    report("done", s.claimed_makespan);
    return s;
  }

  // ---- parts in order ----
  FixedContext ctx;
  ctx.device.assign(n, -1);
  ctx.finish.assign(n, 0.0);
  ctx.device_free.assign(K, 0.0);
  std::vector<int> dev(n, -1);
  std::vector<double> start(n, 0.0);
  std::vector<OpId> order;
  order.reserve(n);
  std::vector<double> weight(P);
  for (int i = 0; i < P; ++i) weight[i] = 1.0 + static_cast<double>(count_incomparable_pairs(g_, part_.parts[i]));
  double weight_left = std::accumulate(weight.begin(), weight.end(), 0.0);
  // Parts get half of the time (unused time rolls over to later parts and refinement).
  const double parts_deadline = elapsed() + 0.5 * std::max(0.0, left());
  int solved = 0, optimal = 0, fallback = 0, rejected = 0;
  // Rollout: a candidate for part i is judged by the simulated makespan of the whole schedule
  // made of the committed prefix, the candidate, and the remaining ops on the baseline's devices
  // in the baseline's order. A part's MILP only sees its own makespan; the rollout keeps it from
  // trading the later parts' time for its own.
  const std::vector<OpId> horder = run_order(pb_, g_.topo_order(), hdev, hstart);
  std::vector<char> placed(n, 0);
  auto rollout = [&](const std::vector<int>& cdev, const std::vector<OpId>& part_order) {
    std::vector<OpId> glob = order;
    glob.insert(glob.end(), part_order.begin(), part_order.end());
    std::vector<int> gdev = cdev;
    for (OpId v : part_order) placed[v] = 1;
    for (OpId v : horder)
      if (!placed[v]) {
        glob.push_back(v);
        gdev[v] = hdev[v];
      }
    for (OpId v : part_order) placed[v] = 0;
    try {
      return simulate_latency(pb_, schedule_from_order(pb_, gdev, glob)).makespan;
    } catch (const ScheduleError&) {
      return kInf;
    }
  };
  // The part MILP's request in a context: the part's ops after the context on every device,
  // warm-started from the baseline's devices timed as soon as possible.
  struct PartRequest {
    LatencyMilpRequest req;
    std::vector<int> wdev;
    std::vector<double> wstart;
    std::vector<OpId> worder;
    FixedContext wctx;
  };
  auto make_request = [&](int i, const FixedContext& c, const std::vector<int>& d, const std::vector<double>& st) {
    PartRequest r;
    r.wctx = c;
    r.wdev = d;
    for (OpId v : part_.parts[i]) r.wdev[v] = hdev[v];
    r.wstart = st;
    r.worder = run_order(pb_, part_.parts[i], hdev, hstart);
    append_asap(pb_, r.worder, r.wdev, r.wctx, r.wstart);
    r.req.ops = part_.parts[i];
    r.req.lookahead_tails = true;
    r.req.warm_device = r.wdev;
    r.req.warm_start = r.wstart;
    return r;
  };
  // Proportional share of the parts' time, at least an equal share and kMinMilpSeconds (most
  // parts prove optimality in milliseconds; the limit only binds on hard ones).
  auto share_of = [&](int i) {
    const double parts_left = std::max(0.0, parts_deadline - elapsed());
    return std::min(left(), std::max({parts_left * weight[i] / weight_left,
                                      parts_left / static_cast<double>(P - i), kMinMilpSeconds}));
  };
  // With --threads N > 1, the parts of a wave (no path between them, independent_waves) are solved at
  // the same time in worker processes (CBC is not reentrant), each against the context at the
  // start of the wave; they are then committed one by one as below, where the rollout still
  // compares each with its warm start in the up-to-date context.
  const std::vector<int> wave = independent_waves(g_, part_.parts);
  std::vector<std::optional<LatencyMilpResult>> presolved(P);
  int parallel_parts = 0;
  auto presolve_wave = [&](int first) {
    int last = first;
    while (last + 1 < P && wave[last + 1] == wave[first]) ++last;
    if (opt_.threads <= 1 || last == first || interrupted()) return;
    std::vector<std::function<std::string()>> jobs;
    for (int i = first; i <= last; ++i) {
      const double share = share_of(i);
      if (share < kMinMilpSeconds) return;
      jobs.push_back([&, i, share] {
        PartRequest r = make_request(i, ctx, dev, start);
        r.req.fixed = &ctx;
        SolveOptions so = milp_options(share, "");
        so.threads = 1;
        so.progress = nullptr;
        const LatencyMilpResult m = solve_latency_milp(pb_, r.req, so);
        ByteWriter w;
        w.put(static_cast<int>(m.status));
        w.put(m.objective);
        w.put(m.bound);
        w.put(m.nodes);
        w.put_vector(m.device);
        w.put_vector(m.start);
        w.put_vector(m.order);
        return w.take();
      });
    }
    report(fmt::format("parts {}-{}/{} in parallel", first + 1, last + 1, P), best_ms_);
    const auto out = run_in_worker_processes(jobs, opt_.threads);
    for (int i = first; i <= last; ++i) {
      if (!out[i - first]) continue;
      ByteReader r(*out[i - first]);
      LatencyMilpResult m;
      m.status = static_cast<SolveStatus>(r.get<int>());
      m.objective = r.get<double>();
      m.bound = r.get<double>();
      m.nodes = r.get<long long>();
      m.device = r.get_vector<int>();
      m.start = r.get_vector<double>();
      m.order = r.get_vector<OpId>();
      presolved[i] = std::move(m);
      ++parallel_parts;
    }
  };
  for (int i = 0; i < P; ++i) {
    if (i == 0 || wave[i] != wave[i - 1]) presolve_wave(i);
    const std::vector<OpId>& ops = part_.parts[i];
    const std::string stage = fmt::format("part {}/{}", i + 1, P);
    PartRequest pr = make_request(i, ctx, dev, start);
    pr.req.fixed = &ctx;
    FixedContext& wctx = pr.wctx;
    std::vector<int>& wdev = pr.wdev;
    std::vector<double>& wstart = pr.wstart;
    const std::vector<OpId>& worder = pr.worder;
    std::vector<OpId> porder = worder;
    bool use_warm = true;
    const double share = share_of(i);
    weight_left -= weight[i];
    if (presolved[i] || (share >= kMinMilpSeconds && !interrupted())) {
      try {
        const LatencyMilpResult r =
            presolved[i] ? std::move(*presolved[i]) : solve_latency_milp(pb_, pr.req, milp_options(share, stage));
        ++solved;
        if (r.status == SolveStatus::Optimal) ++optimal;
        if (placement_valid(pb_, ops, r.device)) {
          std::vector<int> mdev = dev;
          for (OpId v : ops) mdev[v] = r.device[v];
          const std::vector<OpId>& morder = r.order;
          const double mroll = rollout(mdev, morder);
          const double wroll = rollout(wdev, worder);
          if (mroll <= wroll) {
            FixedContext mctx = ctx;
            std::vector<double> mstart = start;
            append_asap(pb_, morder, mdev, mctx, mstart);
            use_warm = false;
            ctx = std::move(mctx);
            dev = std::move(mdev);
            start = std::move(mstart);
            porder = morder;
          } else {
            ++rejected;
          }
        }
      } catch (const InputError&) {
        ++fallback;
      }
    } else {
      ++fallback;
    }
    if (use_warm) {
      ctx = std::move(wctx);
      dev = std::move(wdev);
      start = std::move(wstart);
    }
    order.insert(order.end(), porder.begin(), porder.end());
    report(stage, best_ms_);
  }

  LatencyResult sim;
  try {
    sim = simulate_latency(pb_, schedule_from_order(pb_, dev, order));
  } catch (const ScheduleError& e) {
    return finish(base_.schedule.device, run_order(pb_, g_.topo_order(), hdev, hstart), SolveStatus::Heuristic,
                  std::nan(""), fmt::format("split schedule rejected by the simulator: {}", e.what()));
  }
  const double split_ms = sim.makespan;
  best_ms_ = std::min(best_ms_, split_ms);
  int accepted = 0, windows = 0;
  if (!interrupted() && milp_left() >= kMinMilpSeconds) refine(dev, order, sim, accepted, windows);
  const double refined_ms = sim.makespan;
  prefer_series(dev, order);
  const std::string polished = polish(dev, order);
  const std::string notes = fmt::format(
      "{} modules, {} parts (budget {}); {} part MILPs ({} optimal, {} rejected by the rollout, {} not solved, {} "
      "solved in parallel); "
      "after parts {}; refinement: {} windows, {} improvements, {}; {}; baseline {} {}",
      d.modules.size(), P,
      opt_.max_part_ops > 0 ? fmt::format("{} ops", opt_.max_part_ops) : fmt::format("{} pairs", opt_.max_part_pairs),
      solved, optimal, rejected, fallback, parallel_parts, format_seconds(split_ms), windows, accepted,
      format_seconds(refined_ms), polished, base_.name, format_seconds(base_.makespan));
  Schedule s = finish(dev, order, SolveStatus::Feasible, std::nan(""), notes);
  report("done", s.claimed_makespan);
  return s;
}

/// Simulated annealing over placement and order (local_search.h) from the current schedule:
/// it moves single ops and small groups across part boundaries and devices, which the part and
/// window MILPs cannot (they fix everything outside their ops). Returns a line for the notes.
std::string SplitSolver::polish(std::vector<int>& dev, std::vector<OpId>& order) {
  if (interrupted() || left() <= 0) return "polish: no time left";
  report("polish", best_ms_);
  LocalSearchOptions lo;
  lo.seconds = left();
  lo.seed = opt_.seed;
  lo.interrupt = opt_.interrupt;
  lo.threads = opt_.threads;
  lo.progress = [this](double best, long long) { report("polish", std::min(best_ms_, best)); };
  LocalSearchResult r = local_search(pb_, dev, order, lo);
  const double before = r.start_makespan;
  if (r.makespan < before) {
    dev = std::move(r.device);
    order = std::move(r.order);
    best_ms_ = std::min(best_ms_, r.makespan);
  }
  report("polish", best_ms_);
  return fmt::format("polish: {} -> {} ({} moves, {} cooling cycles)", format_seconds(before), format_seconds(r.makespan), r.moves,
                     r.cycles);
}

void SplitSolver::refine(std::vector<int>& dev, std::vector<OpId>& order, LatencyResult& sim, int& accepted,
                         int& windows) {
  const int n = pb_.num_ops(), K = pb_.num_devices();
  if (n > 20000) return;  // the closure below is n^2/8 bytes
  const Reachability reach(g_);
  const bool by_ops = opt_.max_part_ops > 0;
  const long long budget = by_ops ? opt_.max_part_ops : std::max<long>(opt_.max_part_pairs, 1);
  const size_t max_ops = by_ops ? static_cast<size_t>(opt_.max_part_ops) : static_cast<size_t>(std::max<long long>(8, 2 * budget));
  double cur = sim.makespan;
  best_ms_ = std::min(best_ms_, cur);
  for (int pass = 0; pass < 20; ++pass) {
    // Boundaries between consecutive parts in the current global order.
    std::vector<int> bounds;
    for (int i = 1; i < n; ++i)
      if (part_of_[order[i]] != part_of_[order[i - 1]]) bounds.push_back(i);
    if (bounds.empty()) return;
    bool improved = false;
    for (size_t bi = 0; bi < bounds.size(); ++bi) {
      if (interrupted() || milp_left() < kMinMilpSeconds) return;
      const int b = bounds[bi];
      // Grow a window [lo, hi] of the order around the boundary within the budget.
      int lo = b - 1, hi = b;
      std::vector<OpId> win{order[lo], order[hi]};
      long long size = by_ops ? 2 : (reach.comparable(order[lo], order[hi]) ? 0 : 1);
      auto added = [&](OpId x) -> long long {
        if (by_ops) return 1;
        long long c = 0;
        for (OpId y : win) c += reach.comparable(x, y) ? 0 : 1;
        return c;
      };
      bool grow_left = true, grow_right = true, turn_left = true;
      while ((grow_left || grow_right) && win.size() < max_ops) {
        const bool left_side = (turn_left && grow_left) || !grow_right;
        turn_left = !turn_left;
        if (left_side) {
          if (lo == 0) { grow_left = false; continue; }
          const long long a = added(order[lo - 1]);
          if (size + a > budget) { grow_left = false; continue; }
          size += a;
          win.push_back(order[--lo]);
        } else {
          if (hi == n - 1) { grow_right = false; continue; }
          const long long a = added(order[hi + 1]);
          if (size + a > budget) { grow_right = false; continue; }
          size += a;
          win.push_back(order[++hi]);
        }
      }
      // Context: everything before the window, at its simulated times.
      FixedContext ctx;
      ctx.device.assign(n, -1);
      ctx.finish.assign(n, 0.0);
      ctx.device_free.assign(K, 0.0);
      for (int i = 0; i < lo; ++i) {
        const OpId v = order[i];
        ctx.device[v] = dev[v];
        ctx.finish[v] = sim.finish[v];
        ctx.device_free[dev[v]] = std::max(ctx.device_free[dev[v]], sim.finish[v]);
      }
      // The current solution of the window, appended ASAP (it is what the simulator does).
      std::vector<OpId> wops(order.begin() + lo, order.begin() + hi + 1);
      FixedContext wctx = ctx;
      std::vector<double> wstart(n, 0.0);
      const double wobj = append_asap(pb_, wops, dev, wctx, wstart);
      const double limit =
          std::min(milp_left(), std::max(kMinMilpSeconds, 0.1 * opt_.time_limit_s / static_cast<double>(bounds.size())));
      ++windows;
      try {
        LatencyMilpRequest req;
        req.ops = wops;
        req.fixed = &ctx;
        req.lookahead_tails = true;
        req.warm_device = dev;
        req.warm_start = wstart;
        const LatencyMilpResult r =
            solve_latency_milp(pb_, req, milp_options(limit, fmt::format("refine {}/{}", bi + 1, bounds.size())));
        if (!placement_valid(pb_, wops, r.device) || !(r.objective < wobj * (1 - 1e-9))) continue;
        std::vector<int> ndev = dev;
        for (OpId v : wops) ndev[v] = r.device[v];
        const std::vector<OpId>& morder = r.order;
        std::vector<OpId> norder(order.begin(), order.begin() + lo);
        norder.insert(norder.end(), morder.begin(), morder.end());
        norder.insert(norder.end(), order.begin() + hi + 1, order.end());
        LatencyResult nsim = simulate_latency(pb_, schedule_from_order(pb_, ndev, norder));
        if (nsim.makespan < cur * (1 - 1e-9)) {
          dev = std::move(ndev);
          order = std::move(norder);
          sim = std::move(nsim);
          cur = sim.makespan;
          best_ms_ = std::min(best_ms_, cur);
          ++accepted;
          improved = true;
          report("refine", best_ms_);
        }
      } catch (const InputError&) {  // the window's MILP refused it (memory, size)
      } catch (const ScheduleError&) {
        // keep the current schedule
      }
    }
    if (!improved) return;
  }
}

}  // namespace

Schedule split_schedule(const Problem& pb, const SolveOptions& opt) {
  SplitSolver solver(pb, opt);
  return solver.run();
}

}  // namespace diviml

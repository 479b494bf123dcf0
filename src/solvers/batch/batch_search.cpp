#include "solvers/batch/batch_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "schedule/run_order.h"
#include "schedule/simulator.h"
#include "solvers/heuristics/local_search.h"

namespace diviml {

namespace {

using Clock = std::chrono::steady_clock;

/// Methods whose quality depends on the time limit (the others return at once).
bool uses_time_limit(const std::string& method) { return method == "anneal" || method == "split" || method == "milp"; }

struct Candidate {
  std::vector<int> sizes;
  std::vector<int> device;  ///< per micro-batch, for the data-parallel layout; empty: none
};

std::string sizes_text(const std::vector<int>& sizes) {
  std::string s;
  for (int b : sizes) s += (s.empty() ? "" : ",") + std::to_string(b);
  return s;
}

/// Near-equal parts of n (at most `parts`, none empty).
std::vector<int> chunks(int n, int parts) {
  parts = std::max(1, std::min(parts, n));
  std::vector<int> r;
  for (int j = 0; j < parts; ++j) r.push_back(n / parts + (j < n % parts ? 1 : 0));
  return r;
}

/// Seconds of the whole model at batch b on device k alone (I/O included); +inf where k cannot
/// run every op. Index [k][b], b = 1..batch.
std::vector<std::vector<double>> whole_model_times(const Problem& per_sample, int batch) {
  const int K = per_sample.num_devices();
  std::vector<std::vector<double>> t(K, std::vector<double>(batch + 1, kInf));
  for (int b = 1; b <= batch; ++b) {
    const auto pb = problem_at_batch(per_sample, b);
    for (int k = 0; k < K; ++k) {
      bool ok = true;
      for (OpId v = 0; v < pb->num_ops() && ok; ++v) ok = pb->can_run(v, k);
      if (ok) t[k][b] = simulate_latency(*pb, single_device_schedule(*pb, k)).makespan;
    }
  }
  return t;
}

/// Candidate splits for "auto" (see the header), most promising first.
std::vector<Candidate> candidate_splits(const Problem& per_sample, int batch) {
  const int K = per_sample.num_devices();
  const auto t = whole_model_times(per_sample, batch);
  std::vector<Candidate> out;
  int best_k = 0;
  for (int k = 1; k < K; ++k)
    if (t[k][batch] < t[best_k][batch]) best_k = k;
  out.push_back({{batch}, {best_k}});
  // Shares per device subset: greedily give the next sample to the device that would finish its
  // share first (optimal for min-max of non-decreasing times).
  std::map<std::vector<int>, double> shares;  // samples per device -> estimated latency
  const int subsets = K <= 8 ? (1 << K) : 0;
  auto add_subset = [&](const std::vector<int>& devs) {
    std::vector<int> n(K, 0);
    for (int s = 0; s < batch; ++s) {
      int pick = -1;
      for (int k : devs)
        if (std::isfinite(t[k][n[k] + 1]) && (pick < 0 || t[k][n[k] + 1] < t[pick][n[pick] + 1])) pick = k;
      if (pick < 0) return;
      ++n[pick];
    }
    double est = 0;
    for (int k = 0; k < K; ++k)
      if (n[k]) est = std::max(est, t[k][n[k]]);
    shares.emplace(n, est);
  };
  if (subsets)
    for (int mask = 1; mask < subsets; ++mask) {
      std::vector<int> devs;
      for (int k = 0; k < K; ++k)
        if (mask >> k & 1) devs.push_back(k);
      add_subset(devs);
    }
  else {
    std::vector<int> all(K);
    for (int k = 0; k < K; ++k) all[k] = k;
    add_subset(all);
  }
  std::vector<std::pair<double, std::vector<int>>> ranked;
  for (const auto& [n, est] : shares) ranked.emplace_back(est, n);
  std::sort(ranked.begin(), ranked.end());
  // parts 0: a small lead micro-batch per device (an eighth of its share) whose short input
  // transfer starts the device early while the rest of its share is still on the way.
  for (size_t i = 0; i < ranked.size() && i < 3; ++i)
    for (int parts = 0; parts <= 4; ++parts) {
      Candidate c;
      for (int k = 0; k < K; ++k) {
        const int n = ranked[i].second[k];
        const int lead = std::max(1, n / 8);
        const std::vector<int> pieces = parts ? chunks(n, parts) : n > 1 ? std::vector<int>{lead, n - lead} : chunks(n, 1);
        for (int b : pieces) {
          if (b == 0) continue;
          c.sizes.push_back(b);
          c.device.push_back(k);
        }
      }
      if (c.sizes.size() > 1) out.push_back(c);
    }
  for (int m : {2, 3, 4, 6, 8, 12, 16})
    if (m <= batch) out.push_back({chunks(batch, m), {}});
  return out;
}

struct Scored {
  std::shared_ptr<const BatchSplit> split;
  Schedule schedule;
  std::string how;
  double latency = kInf;
};

/// Simulated latency with weights shared between micro-batches; +inf when memory overflows.
double score(const BatchSplit& split, const Schedule& s) {
  LatencyResult r = simulate_latency(split.problem(), s);
  split.share_weights(s, r);
  return r.memory_violations.empty() ? r.makespan : kInf;
}

}  // namespace

Schedule data_parallel_layout(const BatchSplit& split, const std::vector<int>& device) {
  const Problem& pb = split.problem();
  std::vector<int> dev(pb.num_ops());
  for (OpId v = 0; v < pb.num_ops(); ++v) dev[v] = device.at(split.copy_of(v));
  std::vector<OpId> order;  // micro-batch by micro-batch, each in topological order
  order.reserve(pb.num_ops());
  for (int j = 0; j < split.copies(); ++j)
    for (OpId b : split.per_sample().graph().topo_order()) order.push_back(split.op(j, b));
  Schedule s = schedule_from_order(pb, dev, order);
  s.method = "data-parallel";
  s.status = SolveStatus::Heuristic;
  return s;
}

BatchSolveResult solve_batch_latency(std::shared_ptr<const Problem> per_sample, const BatchSolveOptions& bo,
                                     const SolveOptions& opt) {
  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  if (bo.batch < 1) throw InputError(fmt::format("--batch must be at least 1 (got {})", bo.batch));
  BatchSolveResult res;
  Scored best;
  auto consider = [&](const Scored& c) {
    res.trials.push_back({c.split->sizes(), c.how, c.latency});
    if (c.latency < best.latency) best = c;
  };
  auto report = [&](const std::string& stage) {
    if (!opt.progress) return;
    Progress p;
    p.elapsed_s = elapsed();
    p.incumbent = best.latency;
    p.bound = std::nan("");
    p.gap = std::nan("");
    p.stage = stage;
    opt.progress(p);
  };

  if (bo.micro_batches != "auto") {
    auto split = std::make_shared<const BatchSplit>(per_sample, parse_micro_batches(bo.micro_batches, bo.batch));
    Schedule s = solve_latency(split->problem(), bo.method, opt);
    res.split = split;
    res.how = bo.method;
    res.trials.push_back({split->sizes(), bo.method, simulate_latency(split->problem(), s).makespan});
    res.schedule = std::move(s);
    res.schedule.solve_seconds = elapsed();
    return res;
  }

  const bool timed = uses_time_limit(bo.method);
  const std::string screen = timed ? "heft" : bo.method;
  SolveOptions quick = opt;
  quick.progress = nullptr;
  std::vector<Scored> screened;  // best schedule per split
  for (const Candidate& c : candidate_splits(*per_sample, bo.batch)) {
    if (opt.interrupt && opt.interrupt->load()) break;
    if (timed && elapsed() > 0.3 * opt.time_limit_s && !screened.empty()) break;
    auto split = std::make_shared<const BatchSplit>(per_sample, c.sizes);
    Scored here;
    here.split = split;
    if (!c.device.empty()) {
      Scored dp{split, data_parallel_layout(*split, c.device), "data-parallel", 0};
      dp.latency = score(*split, dp.schedule);
      consider(dp);
      if (dp.latency < here.latency) here = dp;
    }
    Scored m{split, solve_latency(split->problem(), screen, quick), screen, 0};
    m.latency = score(*split, m.schedule);
    consider(m);
    if (m.latency < here.latency) here = m;
    screened.push_back(here);
    report("batch " + sizes_text(c.sizes));
  }
  if (!std::isfinite(best.latency))
    throw InputError("no split of the batch fits the devices' memory");

  if (timed) {
    // The method itself on the two most promising splits, then local search on the best.
    std::stable_sort(screened.begin(), screened.end(),
                     [](const Scored& a, const Scored& b) { return a.latency < b.latency; });
    std::vector<std::vector<int>> done;
    for (const Scored& c : screened) {
      if (done.size() == 2 || (opt.interrupt && opt.interrupt->load())) break;
      if (std::find(done.begin(), done.end(), c.split->sizes()) != done.end()) continue;
      done.push_back(c.split->sizes());
      SolveOptions o = opt;
      o.time_limit_s = std::max(0.05, 0.4 * (opt.time_limit_s - elapsed()));
      Scored m{c.split, solve_latency(c.split->problem(), bo.method, o), bo.method, 0};
      m.latency = score(*c.split, m.schedule);
      consider(m);
      report("batch " + sizes_text(c.split->sizes()) + " " + bo.method);
    }
    const double left = opt.time_limit_s - elapsed();
    if (left > 0.05 && !(opt.interrupt && opt.interrupt->load())) {
      const Problem& pb = best.split->problem();
      const LatencyResult r = simulate_latency(pb, best.schedule);
      LocalSearchOptions lo;
      lo.seconds = left;
      lo.seed = opt.seed;
      lo.threads = opt.threads;
      lo.interrupt = opt.interrupt;
      const LocalSearchResult ls =
          local_search(pb, best.schedule.device, run_order(pb, pb.graph().topo_order(), best.schedule.device, r.start), lo);
      Scored polished{best.split, schedule_from_order(pb, ls.device, ls.order), best.how + " + local search", 0};
      polished.schedule.status = SolveStatus::Heuristic;
      polished.latency = score(*best.split, polished.schedule);
      consider(polished);
    }
  }
  res.split = best.split;
  res.how = best.how;
  res.schedule = std::move(best.schedule);
  // A bound or proof for one split says nothing about the others: the result of the search is
  // a heuristic one, certified by batch_latency_bound.
  res.schedule.status = SolveStatus::Heuristic;
  res.schedule.lower_bound = std::nan("");
  res.schedule.start.clear();
  res.schedule.claimed_makespan = std::nan("");
  res.schedule.solve_seconds = elapsed();
  return res;
}

}  // namespace diviml

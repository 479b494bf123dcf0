// Why the bound holds for every split (docs/batch.md):
//  * load balance. With the batch rule (problem/batch_split.h) op v of a micro-batch of b samples
//    costs p_k(v, b) >= b * r[v][k] on device k, by the definition of r as the minimum over
//    b in 1..B of p_k(v, b) / b. So the ops of all micro-batches placed on k cost at least
//    sum_v s[v][k] r[v][k], where s[v][k] is the number of samples of op v run on k, and
//    sum_k s[v][k] = B. With y = s / B this is the load-balance LP of a problem whose op v costs
//    B r[v][k]; its value (certified by duality in latency_lower_bounds) bounds every split.
//  * one micro-batch. Dropping the other micro-batches from a schedule makes nothing later (no
//    contention), so the latency is at least that of one micro-batch alone. Its ops cost at least
//    their least time over the sizes 1..B (the cost model's times grow with the batch, so that is
//    batch 1, but a profile's measured times need not) and its transfers at least one sample's.
//  * micro-batch count. Fix the number m of micro-batches (sizes b_j >= 1, sum B). Every micro-
//    batch runs every op once, on one device. If n[v][k] of them run v on k with s[v][k] samples
//    in all, then n <= s <= (B - m + 1) n, sum_k n = m, sum_k s = B, and for any line
//    alpha + beta b below p_k(v, b) at every b in 1..B their cost there is at least
//    alpha n + beta s (one line per edge of the lower convex hull of the points (b, p_k(v, b))).
//    Device k's load is at least the sum over v of these costs, and a device that runs anything
//    does so inside its window (device_windows: no op before head[k], and tail[k] more after
//    any op). So for the set U of devices a schedule uses, T >= head + load + tail on each of
//    them: an LP in (n, s) (certified by duality, certified_lp.h) per U; the least over U.
//    The largest micro-batch has between ceil(B/m) and B - m + 1 samples, so the latency is
//    also at least the latency bound of one inference whose ops take their least time over
//    those sizes and whose tensors are ceil(B/m) samples. The latency is at
//    least the max of the two for the m the schedule uses, hence at least the least such max over
//    m. The m above kCountedSingly are taken in groups [m_lo, 2 m_lo - 1] (sum_k n in the group,
//    micro-batches of at most B - m_lo + 1 samples, the largest at least ceil(B / m_hi)).
#include "solvers/batch/batch_bound.h"

#include "solvers/batch/micro_batch_patterns.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "problem/batch_rule.h"
#include "problem/batch_split.h"
#include "solvers/bounds/certified_lp.h"

namespace diviml {

namespace {

/// Numbers of micro-batches bounded one by one; above it, all together.
constexpr int kCountedSingly = 6;
/// Devices up to which the LP is solved per set of used devices (2^K - 1 LPs) with their windows.
constexpr int kMaxWindowedDevices = 4;
/// Branch-and-bound nodes per module solve of the series DP of one micro-batch.
constexpr long long kSeriesNodesPerModule = 20000;

/// alpha + beta * b
struct Line {
  double alpha = 0, beta = 0;
};

/// Lines below the points (b, p[b - 1]), b = 1..p.size(), at every b: the edges of their lower
/// convex hull (one flat line for a single point), lowered by a rounding margin.
std::vector<Line> lower_hull_lines(const std::vector<double>& p) {
  std::vector<int> hull;  // sizes b (1-based) on the lower hull, increasing
  for (int b = 1; b <= static_cast<int>(p.size()); ++b) {
    while (hull.size() >= 2) {
      const int i = hull[hull.size() - 2], j = hull.back();
      // j is above the chord i..b (or on it): drop it.
      if ((p[j - 1] - p[i - 1]) * (b - i) >= (p[b - 1] - p[i - 1]) * (j - i)) hull.pop_back();
      else break;
    }
    hull.push_back(b);
  }
  double top = 0;
  for (double x : p) top = std::max(top, std::fabs(x));
  const double margin = 1e-12 * top;
  std::vector<Line> lines;
  if (hull.size() == 1) lines.push_back({p[hull[0] - 1] - margin, 0.0});
  for (size_t e = 0; e + 1 < hull.size(); ++e) {
    const int i = hull[e], j = hull[e + 1];
    const double beta = (p[j - 1] - p[i - 1]) / (j - i);
    lines.push_back({p[i - 1] - beta * i - margin, beta});
  }
  return lines;
}

/// The load LP above for m_lo <= m <= m_hi micro-batches on the devices `used` (each of them runs
/// something; the others nothing): the least T with T >= window[k] + every used device's sum over
/// ops of its (n, s) costs. +inf when some op can run on none of them.
double counted_load_bound(const Problem& per_sample, const std::vector<std::vector<Line>>& lines, int batch,
                          int m_lo, int m_hi, const std::vector<char>& used, const std::vector<double>& window) {
  const int N = per_sample.num_ops(), K = per_sample.num_devices();
  const double B = batch;
  // Scale seconds to ~1 so CLP's tolerances are relative.
  double scale = 0;
  for (const auto& ls : lines)
    for (const Line& l : ls) scale = std::max({scale, std::fabs(l.alpha) * m_hi, std::fabs(l.beta) * B});
  if (!(scale > 0)) return 0;
  BoxedLp lp;
  std::vector<std::vector<std::pair<int, double>>> load(K);
  double t_max = 0;
  for (OpId v = 0; v < N; ++v) {
    std::vector<std::pair<int, double>> samples, counts;
    double op_max = 0;
    for (int k = 0; k < K; ++k) {
      const std::vector<Line>& ls = lines[static_cast<size_t>(v) * K + k];
      if (ls.empty() || !used[k]) continue;  // k cannot run v, or runs nothing here
      double c_max = 0;
      for (const Line& l : ls) c_max = std::max(c_max, (std::max(l.alpha, 0.0) * m_hi + std::max(l.beta, 0.0) * B) / scale);
      const int s = lp.add_col(0, B, 0), n = lp.add_col(0, m_hi, 0), c = lp.add_col(0, c_max, 0);
      samples.push_back({s, 1.0});
      counts.push_back({n, 1.0});
      lp.add_row(-kInf, 0, {{n, 1.0}, {s, -1.0}});                       // each micro-batch has a sample
      lp.add_row(-kInf, 0, {{s, 1.0}, {n, -(B - m_lo + 1)}});            // and at most B - m + 1
      for (const Line& l : ls) lp.add_row(-kInf, 0, {{n, l.alpha / scale}, {s, l.beta / scale}, {c, -1.0}});
      load[k].push_back({c, 1.0});
      op_max = std::max(op_max, c_max);
    }
    if (samples.empty()) return kInf;  // no device of `used` runs v
    lp.add_row(B, B, samples);
    lp.add_row(m_lo, m_hi, counts);
    t_max += op_max;
  }
  double w_max = 0;
  for (int k = 0; k < K; ++k)
    if (used[k]) w_max = std::max(w_max, window[k] / scale);
  const int T = lp.add_col(0, t_max + w_max, 1.0);
  for (int k = 0; k < K; ++k) {
    if (!used[k]) continue;
    load[k].push_back({T, -1.0});
    lp.add_row(-kInf, -window[k] / scale, load[k]);
  }
  return std::max(0.0, lp.certified_min() * scale);
}

/// The latency bound (under `opt`) of the largest micro-batch when there are m_lo..m_hi of them:
/// between ceil(B / m_hi) and B - m_lo + 1 samples; ops at their least time over those sizes,
/// tensors (transfers) at the smallest.
double largest_micro_batch_bound(const Problem& per_sample, const std::vector<std::vector<double>>& at, int batch,
                                 int m_lo, int m_hi, const BoundOptions& opt) {
  const int lo = (batch + m_hi - 1) / m_hi, hi = batch - m_lo + 1;
  std::vector<double> least = at[lo - 1];
  for (int b = lo + 1; b <= hi; ++b)
    for (size_t i = 0; i < least.size(); ++i) least[i] = std::min(least[i], at[b - 1][i]);
  const Problem pb(graph_at_batch(per_sample.graph(), lo), per_sample.platform_ptr(), std::move(least));
  return latency_lower_bounds(pb, opt).best;
}

/// min over m of max(counted_load_bound, largest_micro_batch_bound); sets the m reached. Every
/// group gets the LP and the closed-form latency bound; then, in increasing order of their max,
/// the series DP's bound of the largest micro-batch (exact where its modules are proven) until
/// the next group's max cannot go below the least found.
double micro_batch_count_bound(const Problem& per_sample, const std::vector<std::vector<double>>& at,
                               const std::vector<double>& least_time, int batch, const BoundOptions& opt,
                               int* weakest) {
  std::vector<std::vector<Line>> lines(at[0].size());
  std::vector<double> p(batch);
  for (size_t i = 0; i < lines.size(); ++i) {
    for (int b = 1; b <= batch; ++b) p[b - 1] = at[b - 1][i];
    if (std::isfinite(p[0])) lines[i] = lower_hull_lines(p);
  }
  struct Group {
    int m_lo, m_hi;
    double value;  // max(load LP, closed-form bound of the largest micro-batch)
  };
  const int K = per_sample.num_devices();
  const std::vector<char> all_devices(K, 1);
  const std::vector<double> no_window(K, 0.0);
  std::vector<Group> groups;
  auto add = [&](int m_lo, int m_hi) {
    const double path = largest_micro_batch_bound(per_sample, at, batch, m_lo, m_hi, BoundOptions{});
    const double load = counted_load_bound(per_sample, lines, batch, m_lo, m_hi, all_devices, no_window);
    groups.push_back({m_lo, m_hi, std::max(path, load)});
  };
  // The windows of one sample (ops at their least time over the sizes): a micro-batch's copy of
  // an op starts and ends no more tightly. A device that runs anything loses its head and tail,
  // so per set of used devices the LP adds them; the least over the sets bounds every schedule.
  const DeviceWindows dw = device_windows(Problem(per_sample.graph_ptr(), per_sample.platform_ptr(), least_time));
  std::vector<double> window(K);
  for (int k = 0; k < K; ++k) window[k] = std::isfinite(dw.head[k] + dw.tail[k]) ? dw.head[k] + dw.tail[k] : 0.0;
  PatternBoundRequest patterns;
  patterns.per_sample = &per_sample;
  patterns.at = &at;
  patterns.batch = batch;
  patterns.window = window;
  const PathForest forest = path_forest(per_sample, least_time);
  patterns.forest = &forest;
  patterns.interrupt = opt.interrupt;
  // Per set of used devices the count LP, then (in increasing order of the LP, while it can still
  // lower the least) the pattern bound above it.
  auto windowed_load = [&](const Group& g) {
    if (K > kMaxWindowedDevices) return 0.0;
    std::vector<std::pair<double, int>> sets;  // (LP, mask)
    std::vector<char> used(K);
    auto set_used = [&](int mask) {
      for (int k = 0; k < K; ++k) used[k] = (mask >> k) & 1;
    };
    for (int mask = 1; mask < (1 << K); ++mask) {
      set_used(mask);
      sets.push_back({counted_load_bound(per_sample, lines, batch, g.m_lo, g.m_hi, used, window), mask});
    }
    std::sort(sets.begin(), sets.end());
    double value = kInf;
    for (const auto& [lp, mask] : sets) {
      if (lp >= value) break;
      set_used(mask);
      patterns.m_lo = g.m_lo;
      patterns.m_hi = g.m_hi;
      patterns.used = used;
      value = std::min(value, std::max(lp, micro_batch_pattern_bound(patterns, lp)));
    }
    return std::isfinite(value) ? value : 0.0;
  };
  for (int m = 1; m <= std::min(batch, kCountedSingly); ++m) add(m, m);
  for (int lo = kCountedSingly + 1; lo <= batch;) {
    const int hi = std::min(batch, 2 * lo - 1);
    add(lo, hi);
    lo = hi + 1;
  }
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.value < b.value; });

  // The series DP as a bound of one micro-batch, asked once per group: the branch and bound alone
  // with a small budget (it proves the modules of the CNNs and transformers in milliseconds; on
  // a RandWire stage it would not prove anything in any budget that fits here).
  BoundOptions series = opt;
  series.series_milp = false;
  series.milp_time_limit_s = 0;  // no wall-clock module MILPs: one reproducible value per group
  series.series_bnb_max_nodes = kSeriesNodesPerModule;
  series.series_dp = per_sample.num_ops() <= kSeriesBoundMaxOps;
  double least = kInf;
  *weakest = 0;
  for (const Group& g : groups) {
    if (g.value >= least) break;  // every later group is at least this
    double value = std::max(g.value, windowed_load(g));
    if (value >= least) continue;
    if (series.series_dp && !(opt.interrupt && opt.interrupt->load()))
      value = std::max(value, largest_micro_batch_bound(per_sample, at, batch, g.m_lo, g.m_hi, series));
    if (value < least) {
      least = value;
      *weakest = g.m_lo;
    }
  }
  return std::isfinite(least) ? least : 0.0;
}

/// Per op and device over the sizes 1..batch, from one costing of the graph per size: the least
/// time, the least time per sample, and (keep_sizes) every size's times.
struct TimesOverSizes {
  std::vector<double> least_time, rate;
  std::vector<std::vector<double>> at;  // [b - 1][v * K + k]
};

TimesOverSizes times_over_sizes(const Problem& per_sample, int batch, bool keep_sizes) {
  const size_t cells = static_cast<size_t>(per_sample.num_ops()) * per_sample.num_devices();
  TimesOverSizes t;
  t.least_time.assign(cells, kInf);
  t.rate.assign(cells, kInf);
  for (int b = 1; b <= batch; ++b) {
    std::vector<double> p = exec_at_batch(per_sample, b);
    for (size_t i = 0; i < cells; ++i) {
      t.least_time[i] = std::min(t.least_time[i], p[i]);
      t.rate[i] = std::min(t.rate[i], p[i] / b);
    }
    if (keep_sizes) t.at.push_back(std::move(p));
  }
  return t;
}

}  // namespace

std::vector<double> per_sample_rates(const Problem& per_sample, int batch) {
  return times_over_sizes(per_sample, batch, false).rate;
}

BatchBound batch_latency_bound(const Problem& per_sample, int batch, const BoundOptions& opt) {
  if (batch < 1) throw InputError("batch size must be at least 1");
  BatchBound r;
  const bool counted = batch > 1 && batch <= kMaxCountedBatch;
  TimesOverSizes t = times_over_sizes(per_sample, batch, counted);
  // One micro-batch: each op at its least time over the sizes.
  r.micro_batch = latency_lower_bounds(Problem(per_sample.graph_ptr(), per_sample.platform_ptr(), t.least_time), opt).best;
  if (counted) r.micro_batch_count = micro_batch_count_bound(per_sample, t.at, t.least_time, batch, opt, &r.weakest_count);

  // Op v at B r[v][k] on device k (the whole batch at the cheapest rate per sample).
  for (double& x : t.rate) x *= batch;
  const Problem rated_pb(per_sample.graph_ptr(), per_sample.platform_ptr(), std::move(t.rate));
  r.load_balance = latency_lower_bounds(rated_pb, BoundOptions{}).load_balance;
  r.best = std::max({r.micro_batch, r.load_balance, r.micro_batch_count});
  return r;
}

}  // namespace diviml

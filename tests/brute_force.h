// Exact latency optimum by enumeration, for property tests on tiny instances.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

#include "schedule/simulator.h"

namespace diviml::testing {

/// Exact optimum by enumeration: every placement x every topological order as the global
/// priority (some optimal schedule's per-device orders follow the order of its start times,
/// which is a topological order, and the simulator times them as soon as possible).
/// With `memory_feasible_only`, placements the simulator reports as overflowing memory are
/// skipped (kInf if none fits). `sim` chooses the execution model (contention or not).
inline double brute_force_optimum(const Problem& pb, bool memory_feasible_only = false, const SimOptions& sim = {}) {
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  std::vector<std::vector<OpId>> orders;
  std::vector<OpId> cur;
  std::vector<int> indeg(n);
  for (OpId v = 0; v < n; ++v) indeg[v] = static_cast<int>(g.pred(v).size());
  std::vector<char> used(n, 0);
  std::function<void()> rec = [&]() {
    if (static_cast<int>(cur.size()) == n) {
      orders.push_back(cur);
      return;
    }
    for (OpId v = 0; v < n; ++v)
      if (!used[v] && indeg[v] == 0) {
        used[v] = 1;
        cur.push_back(v);
        for (OpId w : g.succ(v)) --indeg[w];
        rec();
        for (OpId w : g.succ(v)) ++indeg[w];
        cur.pop_back();
        used[v] = 0;
      }
  };
  rec();
  double best = kInf;
  std::vector<int> dev(n, 0);
  while (true) {
    bool ok = true;
    for (OpId v = 0; v < n; ++v) ok = ok && pb.can_run(v, dev[v]);
    if (ok)
      for (const auto& o : orders) {
        const LatencyResult r = simulate_latency(pb, schedule_from_order(pb, dev, o), sim);
        if (memory_feasible_only && !r.memory_violations.empty()) continue;
        best = std::min(best, r.makespan);
      }
    int i = 0;
    while (i < n && ++dev[i] == K) dev[i++] = 0;
    if (i == n) break;
  }
  return best;
}

}  // namespace diviml::testing

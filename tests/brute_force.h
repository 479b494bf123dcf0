// Exact latency optimum by enumeration, for property tests on tiny instances.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "problem/problem.h"
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


/// The same optimum by a pruned depth-first search over (op, device) choices in a global order,
/// as-soon-as-possible times; much faster than brute_force_optimum, without memory or contention.
struct BruteForceLatency {
  const Problem& pb;
  int n, K;
  std::vector<int> dev, indeg, order, best_dev, best_order;
  std::vector<double> C, avail;
  double best = INFINITY;

  explicit BruteForceLatency(const Problem& p) : pb(p), n(p.num_ops()), K(p.num_devices()) {
    dev.assign(n, -1);
    C.assign(n, 0);
    avail.assign(K, 0);
    indeg.assign(n, 0);
    for (OpId v = 0; v < n; ++v) indeg[v] = static_cast<int>(pb.graph().pred(v).size());
  }

  void dfs(double cur) {
    if (cur >= best) return;
    if (static_cast<int>(order.size()) == n) {
      best = cur;
      best_dev = dev;
      best_order = order;
      return;
    }
    const Graph& g = pb.graph();
    for (OpId v = 0; v < n; ++v) {
      if (dev[v] >= 0 || indeg[v] != 0) continue;
      for (int k = 0; k < K; ++k) {
        if (!pb.can_run(v, k)) continue;
        double st = avail[k];
        for (TensorId t : g.ops[v].inputs) {
          const OpId u = g.tensors[t].producer;
          st = std::max(st, u == kNoOp ? pb.input_arrival(t, k) : C[u] + pb.comm(t, dev[u], k));
        }
        const double c = st + pb.exec(v, k);
        double val = std::max(cur, c);
        for (TensorId t : g.ops[v].outputs)
          if (g.tensors[t].is_graph_output) val = std::max(val, c + pb.output_delivery(t, k));
        const double saved = avail[k];
        dev[v] = k;
        C[v] = c;
        avail[k] = c;
        order.push_back(v);
        for (OpId w : g.succ(v)) --indeg[w];
        dfs(val);
        for (OpId w : g.succ(v)) ++indeg[w];
        order.pop_back();
        avail[k] = saved;
        dev[v] = -1;
      }
    }
  }

  double solve() {
    dfs(0);
    return best;
  }
};

}  // namespace diviml::testing

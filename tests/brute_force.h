// Exhaustive latency optimum for tiny problems (tests only): every assignment and every global
// order (each per-device order arises from a linear extension), as-soon-as-possible times,
// pruned by the partial makespan. The same search as test_milp.cpp's, shared for new tests.
#pragma once

#include <cmath>
#include <vector>

#include "problem/problem.h"

namespace diviml::testing {

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

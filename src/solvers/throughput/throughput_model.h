// The throughput MILP (DESIGN section 5, docs/throughput.md) as a solver-agnostic milp::Model.
// With `relax` and R = 1 its LP relaxation is the throughput bound (schedule/throughput.h).
#pragma once

#include <vector>

#include "schedule/throughput.h"
#include "solvers/milp/model.h"

namespace diviml {

struct ThroughputModelOptions {
  int replicas = 1;
  bool relax = false;           ///< continuous x (the LP bound)
  double max_latency_s = 0;     ///< per-replica cap on the serial latency sum (0: none)
  bool symmetry = true;         ///< replica ordering and identical-device load ordering
  std::vector<std::vector<int>> device_classes;  ///< identical devices (sorted indices)
  double period_lb = 0;         ///< a known lower bound on P (tightens the model)
  double period_ub = 0;         ///< a known upper bound on P (0: none)
};

struct ThroughputModel {
  milp::Model model;
  int R = 1, n = 0, K = 0;
  int P = -1;                   ///< the period variable
  std::vector<int> x;           ///< [(r*n + v)*K + k] -> variable, -1 where not allowed
  struct YVar { int r, t, k, l, var; };
  std::vector<YVar> y;          ///< transfer indicators
  std::vector<int> w;           ///< [v*K + k] -> weight-residency variable, -1 when not needed
  bool activation_rows = false; ///< some memory row holds activation estimates (conservative rows)

  int xv(int r, int v, int k) const { return x[(static_cast<size_t>(r) * n + v) * K + k]; }
  /// A full assignment for `place` (P set to its analytic period), e.g. a warm start.
  std::vector<double> assignment(const ThroughputInstance& in, const std::vector<std::vector<int>>& place) const;
  /// The placement of a solution.
  std::vector<std::vector<int>> placement(const std::vector<double>& values) const;
};

ThroughputModel build_throughput_model(const ThroughputInstance& in, const ThroughputModelOptions& o);

/// Serial latency of one replica (sum of its op seconds and transfer seconds): an upper bound
/// on its single-inference latency, and what the MILP's latency cap constrains.
double serial_latency(const ThroughputInstance& in, const std::vector<int>& place);

/// Puts a placement in the canonical form required by the symmetry-breaking rows: identical
/// devices relabelled by non-increasing load, replicas sorted by their device-index sum.
void canonicalize_placement(const ThroughputInstance& in, const std::vector<std::vector<int>>& classes,
                            std::vector<std::vector<int>>& place);

}  // namespace diviml

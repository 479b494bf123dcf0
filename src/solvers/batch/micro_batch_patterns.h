// The micro-batch pattern bound (docs/batch.md, "Bound"): a Dantzig-Wolfe form of the micro-batch
// count LP in which a column is one whole micro-batch (its size and a device per op) with its exact
// time per device, and which admits only micro-batches whose paths (a forest of paths covering
// every op, transfers between devices included) fit in the latency. The count LP shares each op
// over the devices independently, so it pays nothing for a micro-batch whose ops hop between
// devices (small ops sent to the CPU); here every hop is on that micro-batch's path.
#pragma once

#include <atomic>
#include <vector>

#include "problem/problem.h"

namespace diviml {

/// The paths the pattern bound prices: every op keeps one edge to a successor (the first op of its
/// longest way to a sink at the ops' least times), so the kept edges form a forest whose roots are
/// the sinks; each leaf's way up to its root is a path of the graph.
struct PathForest {
  std::vector<OpId> parent;         ///< kNoOp at a root (an op with no successor)
  std::vector<double> parent_bytes; ///< the largest tensor v sends to parent[v] (one sample)
  std::vector<OpId> leaves;         ///< ops no op keeps an edge to
  std::vector<double> head;         ///< least start of each op (least times, no transfers)
};
PathForest path_forest(const Problem& per_sample, const std::vector<double>& least_time);

struct PatternBoundRequest {
  const Problem* per_sample = nullptr;
  /// at[b - 1][v * K + k]: op v's seconds on device k at b samples, b = 1..batch.
  const std::vector<std::vector<double>>* at = nullptr;
  int batch = 1;
  int m_lo = 1, m_hi = 1;      ///< the number of micro-batches lies in [m_lo, m_hi]
  std::vector<char> used;      ///< the devices that run something (the others nothing)
  std::vector<double> window;  ///< per device: no op before head, tail after any op (head + tail)
  const PathForest* forest = nullptr;
  int max_rounds = 40;         ///< column-generation rounds per value tried
  const std::atomic<bool>* interrupt = nullptr;  ///< stops raising the value (Ctrl-C)
};

/// A lower bound on the latency of every schedule of every split of the batch into m_lo..m_hi
/// micro-batches whose used devices are exactly `used`, at least `known` (a bound already proven
/// for them, e.g. the count LP): the largest value found, by doubling and then halving steps, at
/// which no_schedule_within proves that nothing fits (micro_batch_patterns.cpp). +inf when some
/// op can run on no device of `used`.
double micro_batch_pattern_bound(const PatternBoundRequest& req, double known);

}  // namespace diviml

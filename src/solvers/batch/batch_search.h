// The latency objective for a batched request: the batch split into micro-batches, each placed
// and ordered by an ordinary latency method on the split problem (docs/batch.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "problem/batch_split.h"
#include "solvers/solver.h"

namespace diviml {

struct BatchSolveOptions {
  int batch = 1;
  /// "auto" (the solver chooses the sizes), "N" (N near-equal shares) or "b1,b2,...".
  std::string micro_batches = "auto";
  std::string method = "heft";
};

/// One split the search scored (simulated latency of its best schedule).
struct BatchTrial {
  std::vector<int> sizes;
  std::string how;   ///< the method or layout that gave the latency
  double latency = 0;
};

struct BatchSolveResult {
  std::shared_ptr<const BatchSplit> split;
  Schedule schedule;          ///< on split->problem()
  std::string how;            ///< which method / layout produced it
  std::vector<BatchTrial> trials;
};

/// Schedules `batch` samples of the per-sample problem. With fixed sizes, runs `method` on that
/// split. With "auto", scores candidate splits (one micro-batch; one per device in a subset of
/// the devices with sizes balancing the devices' whole-model times; those shares cut into 2-4
/// chunks or led by a small micro-batch; equal shares) with `method` and with the data-parallel
/// layout of the split (each micro-batch whole on its device), runs a time-limited method on the
/// two best, polishes the best by local search when the method uses the time limit (anneal,
/// split, milp), and keeps the best simulated schedule. Honours opt.time_limit_s and opt.interrupt.
BatchSolveResult solve_batch_latency(std::shared_ptr<const Problem> per_sample, const BatchSolveOptions& bo,
                                     const SolveOptions& opt);

/// Micro-batch j whole on device[j] (ops in topological order, micro-batches in index order).
Schedule data_parallel_layout(const BatchSplit& split, const std::vector<int>& device);

}  // namespace diviml

// Lower bound on the latency of a batch of B samples, valid for every split into micro-batches
// and every schedule of it (docs/batch.md, "Bound").
#pragma once

#include <vector>

#include "solvers/bounds/bounds.h"

namespace diviml {

struct BatchBound {
  /// W of the whole batch: the fractional load-balance LP in which op v costs B * r[v][k] on k,
  /// r[v][k] = min over b in 1..B of p_k(v at b) / b (its cheapest time per sample).
  double load_balance = 0;
  /// The latency bound of one sample (latency_lower_bounds of the per-sample problem): the
  /// smallest micro-batch alone needs at least that.
  double micro_batch = 0;
  double best = 0;  ///< max of the above
};

/// r[v * K + k] above: the cheapest seconds per sample of op v on device k at any micro-batch size
/// 1..batch under the batch rule and the cost model (+inf where k cannot run v).
std::vector<double> per_sample_rates(const Problem& per_sample, int batch);

/// `per_sample` is the problem at batch 1; bound for `batch` samples. opt as latency_lower_bounds.
BatchBound batch_latency_bound(const Problem& per_sample, int batch, const BoundOptions& opt = {});

}  // namespace diviml

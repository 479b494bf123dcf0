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
  /// Over the number m of micro-batches, the least of max(the load when every op is launched
  /// once per micro-batch, the latency of the largest micro-batch, >= ceil(B/m) samples):
  /// few micro-batches are long, many pay many launches. 0 when not computed (B > kMaxCountedBatch).
  double micro_batch_count = 0;
  int weakest_count = 0;  ///< the m at which that least value is reached (0: not computed)
  double best = 0;  ///< max of the above
};

/// The micro-batch count term is computed for batches up to this size (it keeps every size's op times).
constexpr int kMaxCountedBatch = 256;

/// r[v * K + k] above: the cheapest seconds per sample of op v on device k at any micro-batch size
/// 1..batch under the batch rule and the cost model (+inf where k cannot run v).
std::vector<double> per_sample_rates(const Problem& per_sample, int batch);

/// `per_sample` is the problem at batch 1; bound for `batch` samples. opt as latency_lower_bounds.
BatchBound batch_latency_bound(const Problem& per_sample, int batch, const BoundOptions& opt = {});

}  // namespace diviml

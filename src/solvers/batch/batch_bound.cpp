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
#include "solvers/batch/batch_bound.h"

#include <algorithm>
#include <memory>

#include "problem/batch_split.h"

namespace diviml {

namespace {

/// Per op and device, over the micro-batch sizes 1..batch: the least time and the least time
/// per sample. One costing of the graph per size serves both bounds.
struct LeastOverSizes {
  std::vector<double> time, rate;
};

LeastOverSizes least_over_sizes(const Problem& per_sample, int batch) {
  LeastOverSizes m;
  m.time.assign(static_cast<size_t>(per_sample.num_ops()) * per_sample.num_devices(), kInf);
  m.rate = m.time;
  for (int b = 1; b <= batch; ++b) {
    const std::vector<double> p = exec_at_batch(per_sample, b);
    for (size_t i = 0; i < p.size(); ++i) {
      m.time[i] = std::min(m.time[i], p[i]);
      m.rate[i] = std::min(m.rate[i], p[i] / b);
    }
  }
  return m;
}

}  // namespace

std::vector<double> per_sample_rates(const Problem& per_sample, int batch) {
  return least_over_sizes(per_sample, batch).rate;
}

BatchBound batch_latency_bound(const Problem& per_sample, int batch, const BoundOptions& opt) {
  if (batch < 1) throw InputError("batch size must be at least 1");
  BatchBound r;
  LeastOverSizes least = least_over_sizes(per_sample, batch);
  // One micro-batch: each op at its least time over the sizes.
  r.micro_batch =
      latency_lower_bounds(Problem(per_sample.graph_ptr(), per_sample.platform_ptr(), std::move(least.time)), opt).best;

  // Op v at B r[v][k] on device k (the whole batch at the cheapest rate per sample).
  std::vector<double> rated = std::move(least.rate);
  for (double& t : rated) t *= batch;
  const Problem rated_pb(per_sample.graph_ptr(), per_sample.platform_ptr(), std::move(rated));
  r.load_balance = latency_lower_bounds(rated_pb, BoundOptions{}).load_balance;
  r.best = std::max(r.micro_batch, r.load_balance);
  return r;
}

}  // namespace diviml

// Why the bound holds for every split (docs/batch.md):
//  * load balance. With the batch rule (problem/batch_split.h) op v of a micro-batch of b samples
//    costs p_k(v, b) >= b * r[v][k] on device k, by the definition of r as the minimum over
//    b in 1..B of p_k(v, b) / b. So the ops of all micro-batches placed on k cost at least
//    sum_v s[v][k] r[v][k], where s[v][k] is the number of samples of op v run on k, and
//    sum_k s[v][k] = B. With y = s / B this is the load-balance LP of a problem whose op v costs
//    B r[v][k]; its value (certified by duality in latency_lower_bounds) bounds every split.
//  * one micro-batch. Dropping the other micro-batches from a schedule makes nothing later (no
//    contention), so the latency is at least that of one micro-batch alone, which costs at
//    least as much as one sample (every time is non-decreasing in the batch under the rule).
#include "solvers/batch/batch_bound.h"

#include <algorithm>
#include <memory>

#include "problem/batch_split.h"

namespace diviml {

std::vector<double> per_sample_rates(const Problem& per_sample, int batch) {
  const Graph& g = per_sample.graph();
  const Platform& plat = per_sample.platform();
  const int K = per_sample.num_devices();
  std::vector<double> r(static_cast<size_t>(g.num_ops()) * K, kInf);
  for (OpId v = 0; v < g.num_ops(); ++v)
    for (int k = 0; k < K; ++k)
      for (int b = 1; b <= batch; ++b)
        r[static_cast<size_t>(v) * K + k] =
            std::min(r[static_cast<size_t>(v) * K + k], roofline_time(op_at_batch(g.ops[v], b), plat.devices[k]) / b);
  return r;
}

BatchBound batch_latency_bound(const Problem& per_sample, int batch, const BoundOptions& opt) {
  if (batch < 1) throw InputError("batch size must be at least 1");
  BatchBound r;
  r.micro_batch = latency_lower_bounds(per_sample, opt).best;

  const Graph& g = per_sample.graph();
  const Platform& plat = per_sample.platform();
  const int K = per_sample.num_devices();
  const std::vector<double> rate = per_sample_rates(per_sample, batch);
  auto rated = std::make_shared<Graph>(g);
  for (OpId v = 0; v < g.num_ops(); ++v) {
    std::map<std::string, double> times;
    for (int k = 0; k < K; ++k)
      if (std::isfinite(rate[static_cast<size_t>(v) * K + k]))
        times[plat.devices[k].name] = rate[static_cast<size_t>(v) * K + k] * batch;
    rated->ops[v].device_times = std::move(times);
  }
  const Problem rated_pb(rated, per_sample.platform_ptr());
  r.load_balance = latency_lower_bounds(rated_pb, BoundOptions{}).load_balance;
  r.best = std::max(r.micro_batch, r.load_balance);
  return r;
}

}  // namespace diviml

#include "problem/batch_rule.h"

#include <algorithm>

#include <fmt/format.h>

namespace diviml {

Op op_at_batch(const Op& op, int b) {
  Op o = op;
  if (b == 1) return o;
  // bytes_accessed = weights (read once per launch) + activations (per sample).
  const double weights = std::min(op.weight_bytes, op.bytes_accessed);
  o.flops = op.flops * b;
  o.macs = op.macs * b;
  o.bytes_accessed = weights + (op.bytes_accessed - weights) * b;
  for (auto& [dev, t] : o.device_times) t *= b;
  return o;
}

std::shared_ptr<Graph> graph_at_batch(const Graph& per_sample, int b) {
  if (b < 1) throw InputError(fmt::format("batch size must be at least 1 (got {})", b));
  auto g = std::make_shared<Graph>(per_sample);
  if (b == 1) return g;
  g->name = fmt::format("{}@b{}", per_sample.name, b);
  for (Op& op : g->ops) op = op_at_batch(op, b);
  for (Tensor& t : g->tensors) t.bytes *= b;
  return g;
}

double op_seconds_at_batch(const Op& op, const Device& d, int b, const ProfileTable* profile, bool* profiled) {
  const ProfileTable::Sizes* measured = profile ? profile->find(op.name, d.name) : nullptr;
  // A measured time never makes an unsupported op type runnable.
  const bool use = measured && !measured->empty() && !d.unsupported_op_types.count(op.type);
  if (profiled) *profiled = use;
  if (!use) return roofline_time(op_at_batch(op, b), d);
  return time_at_batch(*measured, b, [&](int m) { return roofline_time(op_at_batch(op, m), d); });
}

}  // namespace diviml

#include "problem/batch_split.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace diviml {

BatchSplit::BatchSplit(std::shared_ptr<const Problem> per_sample, std::vector<int> sizes)
    : per_sample_(std::move(per_sample)), sizes_(std::move(sizes)) {
  if (sizes_.empty()) throw InputError("a batch split needs at least one micro-batch");
  for (int b : sizes_)
    if (b < 1) throw InputError(fmt::format("micro-batch size must be at least 1 (got {})", b));
  const Graph& base = per_sample_->graph();
  std::map<int, std::vector<double>> times;  // per distinct size
  std::vector<double> exec;
  n_ = base.num_ops();
  nt_ = base.num_tensors();
  auto g = std::make_shared<Graph>();
  g->ops.reserve(static_cast<size_t>(n_) * sizes_.size());
  g->tensors.reserve(static_cast<size_t>(nt_) * sizes_.size());
  for (size_t j = 0; j < sizes_.size(); ++j) {
    batch_ += sizes_[j];
    const std::string prefix = sizes_.size() == 1 ? "" : fmt::format("mb{}/", j);
    const TensorId t0 = static_cast<TensorId>(j) * nt_;
    const OpId v0 = static_cast<OpId>(j) * n_;
    for (const Tensor& t : base.tensors) {
      Tensor c = t;
      c.name = prefix + t.name;
      c.bytes = t.bytes * sizes_[j];
      c.producer = t.producer == kNoOp ? kNoOp : t.producer + v0;
      c.consumers.clear();
      g->tensors.push_back(std::move(c));
    }
    auto [at, fresh] = times.try_emplace(sizes_[j]);
    if (fresh) at->second = exec_at_batch(*per_sample_, sizes_[j]);
    exec.insert(exec.end(), at->second.begin(), at->second.end());
    for (const Op& op : base.ops) {
      Op c = op_at_batch(op, sizes_[j]);
      c.name = prefix + op.name;
      for (TensorId& t : c.inputs) t += t0;
      for (TensorId& t : c.outputs) t += t0;
      g->ops.push_back(std::move(c));
    }
  }
  g->name = batch_ == 1 ? base.name : fmt::format("{}@b{}", base.name, batch_);
  g->finalize();
  auto pb = std::make_shared<Problem>(g, per_sample_->platform_ptr(), std::move(exec));
  // Micro-batches of one size are interchangeable (same costs, inputs from and outputs to the
  // I/O device): one group per size with two or more copies.
  std::map<int, CopyGroup> by_size;
  for (int j = 0; j < copies(); ++j) {
    CopyGroup& grp = by_size[sizes_[j]];
    grp.first.push_back(op(j, 0));
    grp.ops = n_;
  }
  std::vector<CopyGroup> groups;
  for (auto& [b, grp] : by_size)
    if (grp.first.size() > 1) groups.push_back(std::move(grp));
  pb->set_interchangeable_copies(std::move(groups));
  problem_ = std::move(pb);
}

std::vector<double> exec_at_batch(const Problem& per_sample, int b) {
  const Graph& g = per_sample.graph();
  const Platform& plat = per_sample.platform();
  const int K = per_sample.num_devices();
  std::vector<double> exec(static_cast<size_t>(g.num_ops()) * K);
  for (OpId v = 0; v < g.num_ops(); ++v)
    for (int k = 0; k < K; ++k)
      exec[static_cast<size_t>(v) * K + k] = op_seconds_at_batch(g.ops[v], plat.devices[k], b, per_sample.profile());
  return exec;
}

std::shared_ptr<Problem> problem_at_batch(const Problem& per_sample, int b) {
  return std::make_shared<Problem>(graph_at_batch(per_sample.graph(), b), per_sample.platform_ptr(),
                                   exec_at_batch(per_sample, b));
}

void BatchSplit::share_weights(const Schedule& s, LatencyResult& r) const {
  const Platform& plat = problem_->platform();
  const int K = problem_->num_devices();
  std::vector<std::set<OpId>> held(K);
  for (OpId v = 0; v < problem_->num_ops(); ++v) held[s.device[v]].insert(base_op(v));
  r.memory_violations.clear();
  for (int k = 0; k < K; ++k) {
    double w = 0;
    for (OpId b : held[k]) w += per_sample_->graph().ops[b].weight_bytes;
    DeviceMemory& m = r.memory[k];
    m.weight_bytes = w;
    if (m.used() > m.capacity_bytes * (1 + 1e-12))
      r.memory_violations.push_back(fmt::format(
          "device '{}' needs {:.4g} bytes (weights {:.4g} + peak activations {:.4g} + reserve {:.4g}) but has {:.4g}",
          plat.devices[k].name, m.used(), m.weight_bytes, m.peak_activation_bytes, m.reserve_bytes,
          m.capacity_bytes));
  }
}

std::vector<int> parse_micro_batches(const std::string& spec, int batch) {
  const std::string what = fmt::format("--micro-batches '{}'", spec);
  std::vector<long long> parts;
  size_t i = 0;
  while (i <= spec.size()) {
    size_t j = spec.find(',', i);
    if (j == std::string::npos) j = spec.size();
    const std::string d = spec.substr(i, j - i);
    if (d.empty() || d.size() > 9 || d.find_first_not_of("0123456789") != std::string::npos)
      throw InputError(fmt::format("{}: expected auto, a count N or sizes b1,b2,... (positive integers)", what));
    parts.push_back(std::stoll(d));
    i = j + 1;
  }
  std::vector<int> sizes;
  if (parts.size() == 1 && spec.find(',') == std::string::npos) {
    const long long m = parts[0];
    if (m < 1 || m > batch)
      throw InputError(fmt::format("{}: the number of micro-batches must be in 1..{} (the batch)", what, batch));
    for (long long j = 0; j < m; ++j) sizes.push_back(static_cast<int>(batch / m + (j < batch % m ? 1 : 0)));
    return sizes;
  }
  long long sum = 0;
  for (long long p : parts) {
    if (p < 1) throw InputError(fmt::format("{}: every micro-batch needs at least one sample", what));
    sum += p;
    sizes.push_back(static_cast<int>(p));
  }
  if (sum != batch)
    throw InputError(fmt::format("{}: sizes add up to {}, but the batch is {}", what, sum, batch));
  return sizes;
}

}  // namespace diviml

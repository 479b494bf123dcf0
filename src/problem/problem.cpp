#include "problem/problem.h"

#include <algorithm>

#include <fmt/format.h>

namespace diviml {

Problem::Problem(std::shared_ptr<const Graph> graph, std::shared_ptr<const Platform> platform,
                 const ProfileTable* profile, std::vector<std::string>* warnings)
    : graph_(std::move(graph)), platform_(std::move(platform)) {
  n_ = graph_->num_ops();
  k_ = platform_->num_devices();
  exec_.assign(static_cast<size_t>(n_) * k_, kInf);
  min_exec_.assign(n_, kInf);
  fastest_dev_.assign(n_, -1);
  std::vector<std::string> missing;
  for (OpId v = 0; v < n_; ++v) {
    const Op& op = graph_->ops[v];
    bool op_missing = false;
    for (int k = 0; k < k_; ++k) {
      const Device& d = platform_->devices[k];
      double t = kInf;
      const double* measured = profile && profile->size() ? profile->find(op.name, d.name) : nullptr;
      if (measured && !d.unsupported_op_types.count(op.type)) {
        t = *measured;
      } else {
        op_missing |= profile && profile->size();
        t = roofline_time(op, d);
      }
      exec_[static_cast<size_t>(v) * k_ + k] = t;
      if (t < min_exec_[v]) {
        min_exec_[v] = t;
        fastest_dev_[v] = k;
      }
    }
    if (op_missing) missing.push_back(op.name);
    if (fastest_dev_[v] < 0)
      throw InputError(fmt::format("op '{}' (type {}) can run on no device of platform '{}'", op.name,
                                   op.type, platform_->name));
  }
  if (!missing.empty() && warnings) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 20; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 20) list += fmt::format(", ... ({} more)", missing.size() - 20);
    warnings->push_back(fmt::format("profile has no entry for {} op(s) on some device; using the "
                                    "analytic model for: {}", missing.size(), list));
  }
  alpha_.assign(static_cast<size_t>(k_) * k_, 0);
  inv_beta_.assign(static_cast<size_t>(k_) * k_, 0);
  if (!platform_->free_communication) {
    for (int k = 0; k < k_; ++k)
      for (int l = 0; l < k_; ++l) {
        if (k == l) continue;
        const Link e = platform_->link_between(k, l);
        alpha_[static_cast<size_t>(k) * k_ + l] = e.latency_s;
        inv_beta_[static_cast<size_t>(k) * k_ + l] = std::isfinite(e.bandwidth) ? 1.0 / e.bandwidth : 0.0;
      }
  }
  uniform_comm_ = true;
  for (int k = 0; k < k_; ++k)
    for (int l = 0; l < k_; ++l)
      if (k != l && (alpha_[k * k_ + l] != alpha_[1] || inv_beta_[k * k_ + l] != inv_beta_[1]))
        uniform_comm_ = false;
}

double Problem::min_comm(TensorId t) const {
  double best = k_ > 1 ? kInf : 0;
  for (int k = 0; k < k_; ++k)
    for (int l = 0; l < k_; ++l)
      if (k != l) best = std::min(best, comm(t, k, l));
  return best;
}

std::vector<std::vector<int>> Problem::identical_device_classes() const {
  std::vector<std::vector<int>> classes;
  auto same = [&](int a, int b) {
    if (memory_capacity(a) != memory_capacity(b)) return false;
    if ((io_device() == a) != (io_device() == b)) return false;
    for (OpId v = 0; v < n_; ++v)
      if (exec(v, a) != exec(v, b)) return false;
    // Swapping a and b must leave every transfer cost unchanged.
    for (int c = 0; c < k_; ++c) {
      if (c == a || c == b) continue;
      const size_t ac = static_cast<size_t>(a) * k_ + c, bc = static_cast<size_t>(b) * k_ + c;
      const size_t ca = static_cast<size_t>(c) * k_ + a, cb = static_cast<size_t>(c) * k_ + b;
      if (alpha_[ac] != alpha_[bc] || inv_beta_[ac] != inv_beta_[bc] || alpha_[ca] != alpha_[cb] ||
          inv_beta_[ca] != inv_beta_[cb])
        return false;
    }
    return true;
  };
  std::vector<bool> used(k_, false);
  for (int a = 0; a < k_; ++a) {
    if (used[a]) continue;
    std::vector<int> cls{a};
    used[a] = true;
    for (int b = a + 1; b < k_; ++b)
      if (!used[b] && same(a, b)) {
        cls.push_back(b);
        used[b] = true;
      }
    classes.push_back(cls);
  }
  return classes;
}

}  // namespace diviml

#include "problem/problem.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "problem/batch_rule.h"

namespace diviml {

Problem::Problem(std::shared_ptr<const Graph> graph, std::shared_ptr<const Platform> platform,
                 const ProfileTable* profile, std::vector<std::string>* warnings)
    : graph_(std::move(graph)), platform_(std::move(platform)) {
  const bool profiled = profile && profile->size();
  if (profiled) profile_ = std::make_shared<ProfileTable>(*profile);
  const int n = graph_->num_ops(), K = platform_->num_devices();
  std::vector<double> exec(static_cast<size_t>(n) * K, kInf);
  std::vector<std::string> missing;
  for (OpId v = 0; v < n; ++v) {
    bool op_missing = false;
    for (int k = 0; k < K; ++k) {
      bool measured = false;
      exec[static_cast<size_t>(v) * K + k] =
          op_seconds_at_batch(graph_->ops[v], platform_->devices[k], 1, profile_.get(), &measured);
      op_missing |= profiled && !measured;
    }
    if (op_missing) missing.push_back(graph_->ops[v].name);
  }
  if (!missing.empty() && warnings) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 20; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 20) list += fmt::format(", ... ({} more)", missing.size() - 20);
    warnings->push_back(fmt::format("profile has no entry for {} op(s) on some device; using the "
                                    "analytic model for: {}", missing.size(), list));
  }
  init(std::move(exec));
}

Problem::Problem(std::shared_ptr<const Graph> graph, std::shared_ptr<const Platform> platform, std::vector<double> exec)
    : graph_(std::move(graph)), platform_(std::move(platform)) {
  init(std::move(exec));
}

void Problem::init(std::vector<double> exec) {
  n_ = graph_->num_ops();
  k_ = platform_->num_devices();
  if (exec.size() != static_cast<size_t>(n_) * k_)
    throw std::invalid_argument("Problem: exec must hold one time per op and device");
  exec_ = std::move(exec);
  min_exec_.assign(n_, kInf);
  fastest_dev_.assign(n_, -1);
  for (OpId v = 0; v < n_; ++v) {
    for (int k = 0; k < k_; ++k)
      if (exec_[static_cast<size_t>(v) * k_ + k] < min_exec_[v]) {
        min_exec_[v] = exec_[static_cast<size_t>(v) * k_ + k];
        fastest_dev_[v] = k;
      }
    if (fastest_dev_[v] < 0)
      throw InputError(fmt::format("op '{}' (type {}) can run on no device of platform '{}'", graph_->ops[v].name,
                                   graph_->ops[v].type, platform_->name));
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

void Problem::set_interchangeable_copies(std::vector<CopyGroup> groups) {
  for (const CopyGroup& grp : groups)
    for (OpId f : grp.first) {
      if (f < 0 || grp.ops < 0 || f + grp.ops > n_) throw std::invalid_argument("copy group out of range");
      for (OpId i = 0; i < grp.ops; ++i)
        for (int k = 0; k < k_; ++k)
          if (exec(f + i, k) != exec(grp.first[0] + i, k))
            throw std::invalid_argument("copies of a group must have the same times");
    }
  copies_ = std::move(groups);
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

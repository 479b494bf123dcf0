// The Problem: everything a solver reads, built once from Graph + Platform + cost model.
#pragma once

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "platform/cost_model.h"
#include "platform/platform.h"

namespace diviml {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

/// Ops that are copies of one another: copy c holds ops first[c] + i, i in 0..ops-1, and op
/// first[c] + i of every copy has the same times, inputs and outputs up to the copy (BatchSplit's
/// equal-size micro-batches). Swapping two copies maps every schedule to one with the same
/// makespan, so a solver may break that symmetry (the latency MILP does).
struct CopyGroup {
  std::vector<OpId> first;
  int ops = 0;
};

class Problem {
 public:
  /// Computes p[v][k] with the roofline (or the profile where it has the op) and the transfer
  /// parameters per device pair. Ops missing from a non-empty profile are listed in `warnings`.
  /// Throws InputError when an op can run on no device.
  /// The graph is costed as batch 1 of a profile with times per batch size (batch_rule.h); the
  /// profile is kept (profile()) so that the same ops can be costed at other batch sizes.
  Problem(std::shared_ptr<const Graph> graph, std::shared_ptr<const Platform> platform,
          const ProfileTable* profile = nullptr, std::vector<std::string>* warnings = nullptr);
  /// Times given by the caller: exec[v * K + k] seconds, +inf where k cannot run v (the split
  /// problem's copies costed at their micro-batch sizes). Throws InputError as above.
  Problem(std::shared_ptr<const Graph> graph, std::shared_ptr<const Platform> platform, std::vector<double> exec);

  const Graph& graph() const { return *graph_; }
  const Platform& platform() const { return *platform_; }
  std::shared_ptr<const Graph> graph_ptr() const { return graph_; }
  std::shared_ptr<const Platform> platform_ptr() const { return platform_; }
  int num_ops() const { return n_; }
  int num_devices() const { return k_; }

  /// Seconds of op v on device k; +inf where k cannot run v.
  double exec(OpId v, int k) const { return exec_[static_cast<size_t>(v) * k_ + k]; }
  bool can_run(OpId v, int k) const { return std::isfinite(exec(v, k)); }
  /// Fastest time of v over all devices, and that device.
  double min_exec(OpId v) const { return min_exec_[v]; }
  int fastest_device(OpId v) const { return fastest_dev_[v]; }
  /// Seconds to move `bytes` from device k to l (0 when k == l or communication is free).
  double comm_bytes(double bytes, int k, int l) const {
    if (k == l) return 0;
    const size_t i = static_cast<size_t>(k) * k_ + l;
    return alpha_[i] + bytes * inv_beta_[i];
  }
  double comm(TensorId t, int k, int l) const { return comm_bytes(graph_->tensors[t].bytes, k, l); }
  /// Cheapest cost over all ordered pairs k != l of moving tensor t (0 with one device).
  double min_comm(TensorId t) const;
  /// -1 when I/O is free.
  int io_device() const { return platform_->io_device; }
  /// Time for a graph input to reach device l / a graph output on k to reach the I/O device.
  double input_arrival(TensorId t, int l) const { return io_device() < 0 ? 0 : comm(t, io_device(), l); }
  double output_delivery(TensorId t, int k) const { return io_device() < 0 ? 0 : comm(t, k, io_device()); }
  double weight_bytes(OpId v) const { return graph_->ops[v].weight_bytes; }
  /// Usable capacity (memory minus reserve) of device k.
  double memory_capacity(int k) const { return platform_->devices[k].usable_memory(); }
  /// True when every pair of distinct devices has the same transfer cost function.
  bool uniform_comm() const { return uniform_comm_; }
  /// Groups of interchangeable copies (empty unless the builder of the problem declared some).
  const std::vector<CopyGroup>& interchangeable_copies() const { return copies_; }
  /// Declares them; throws std::invalid_argument where ops of one group differ in their times or
  /// op counts (the caller vouches for the rest: same inputs, outputs and edges up to the copy).
  void set_interchangeable_copies(std::vector<CopyGroup> groups);
  /// The profile the times came from (nullptr: the cost model alone, or times given).
  const ProfileTable* profile() const { return profile_.get(); }
  /// Devices interchangeable for every op (same times, same links, same memory): classes of
  /// indices, each sorted; used for symmetry breaking.
  std::vector<std::vector<int>> identical_device_classes() const;

 private:
  void init(std::vector<double> exec);
  std::shared_ptr<const Graph> graph_;
  std::shared_ptr<const ProfileTable> profile_;
  std::vector<CopyGroup> copies_;
  std::shared_ptr<const Platform> platform_;
  int n_ = 0, k_ = 0;
  std::vector<double> exec_, min_exec_;
  std::vector<int> fastest_dev_;
  std::vector<double> alpha_, inv_beta_;
  bool uniform_comm_ = true;
};

}  // namespace diviml

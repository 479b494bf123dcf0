// Cost models (DESIGN section 9): analytic roofline per op class, optionally overridden op by op
// by a measured profile table.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "platform/platform.h"

namespace diviml {

/// Roofline: launch + max(flops / (peak * eff(class)), bytes / bandwidth). An op's explicit
/// device_times entry wins; +inf when the device does not support the op type.
double roofline_time(const Op& op, const Device& d);

/// Measured seconds keyed by (op name, device name) and batch size. CSV (docs/formats.md):
/// `op_name,device,seconds` (a time for batch 1, the model as loaded) or
/// `op_name,device,batch,seconds`, with an optional header; a second row for the same op, device
/// and batch is an error.
class ProfileTable {
 public:
  using Sizes = std::map<int, double>;  ///< batch size -> seconds
  static ProfileTable load_csv(const std::string& path);
  void set(const std::string& op, const std::string& device, double seconds) { set(op, device, 1, seconds); }
  void set(const std::string& op, const std::string& device, int batch, double seconds);
  /// The measured sizes of op on device; nullptr when the table has neither.
  const Sizes* find(const std::string& op, const std::string& device) const;
  /// Number of rows (one per op, device and batch size).
  size_t size() const { return rows_; }
  /// Every (op name, device name) -> its measured sizes, for checking the table against a graph
  /// and platform.
  const std::map<std::pair<std::string, std::string>, Sizes>& entries() const { return table_; }
  /// The file it was read from ("" when built in code).
  const std::string& origin() const { return origin_; }

 private:
  std::map<std::pair<std::string, std::string>, Sizes> table_;
  size_t rows_ = 0;
  std::string origin_;
};

/// Seconds at batch b from the measured sizes of one op on one device: the measured time at b;
/// between two measured sizes, linear interpolation; below the smallest or above the largest,
/// the nearest measured time scaled by the cost model's ratio analytic(b) / analytic(nearest)
/// (unscaled when the model gives no positive finite time there). `measured` must not be empty.
double time_at_batch(const ProfileTable::Sizes& measured, int b, const std::function<double(int)>& analytic);

}  // namespace diviml

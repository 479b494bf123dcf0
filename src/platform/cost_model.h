// Cost models (DESIGN section 9): analytic roofline per op class, optionally overridden op by op
// by a measured profile table.
#pragma once

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

/// Measured seconds keyed by (op name, device name). CSV: `op_name,device,seconds` with header;
/// a second row for the same op and device is an error.
class ProfileTable {
 public:
  static ProfileTable load_csv(const std::string& path);
  void set(const std::string& op, const std::string& device, double seconds);
  const double* find(const std::string& op, const std::string& device) const;
  size_t size() const { return table_.size(); }
  /// Every (op name, device name) -> seconds, for checking the table against a graph and platform.
  const std::map<std::pair<std::string, std::string>, double>& entries() const { return table_; }
  /// The file it was read from ("" when built in code).
  const std::string& origin() const { return origin_; }

 private:
  std::map<std::pair<std::string, std::string>, double> table_;
  std::string origin_;
};

}  // namespace diviml

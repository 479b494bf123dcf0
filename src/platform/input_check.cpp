#include "platform/input_check.h"

#include <map>
#include <set>

#include <fmt/format.h>

namespace diviml {

namespace {

/// "a, b, c" (at most `limit` names, then "... (N more)").
std::string name_list(const std::set<std::string>& names, size_t limit = 5) {
  std::string s;
  size_t i = 0;
  for (const auto& n : names) {
    if (i == limit) {
      s += fmt::format(", ... ({} more)", names.size() - limit);
      break;
    }
    s += (i++ ? ", " : "") + n;
  }
  return s;
}

std::string device_list(const Platform& p) {
  std::set<std::string> names;
  for (const Device& d : p.devices) names.insert(d.name);
  return name_list(names, 12);
}

}  // namespace

void check_profile(const ProfileTable& profile, const Graph& g, const Platform& p, std::vector<std::string>* warnings) {
  if (profile.size() == 0) return;
  const std::string origin = profile.origin().empty() ? "profile" : "profile " + profile.origin();
  std::set<std::string> ops;
  for (const Op& op : g.ops) ops.insert(op.name);
  std::set<std::string> bad_devices, bad_ops;
  size_t rows_bad_device = 0, rows_bad_op = 0;
  for (const auto& [key, sizes] : profile.entries()) {
    const auto& [op, device] = key;
    if (p.device_index(device) < 0) bad_devices.insert(device), rows_bad_device += sizes.size();
    if (!ops.count(op)) bad_ops.insert(op), rows_bad_op += sizes.size();
  }
  if (rows_bad_device == profile.size())
    throw InputError(fmt::format("{}: no row names a device of platform '{}' (it names {}; the platform has {})",
                                 origin, p.name, name_list(bad_devices), device_list(p)));
  if (rows_bad_op == profile.size())
    throw InputError(fmt::format("{}: no row names an op of graph '{}' (e.g. {}); was it measured for another "
                                 "model or --granularity?",
                                 origin, g.name, name_list(bad_ops, 3)));
  if (!warnings) return;
  if (rows_bad_device)
    warnings->push_back(fmt::format("{}: {} row(s) for devices platform '{}' does not have, ignored: {}", origin,
                                    rows_bad_device, p.name, name_list(bad_devices)));
  if (rows_bad_op)
    warnings->push_back(fmt::format("{}: {} row(s) for ops graph '{}' does not have, ignored: {}", origin, rows_bad_op,
                                    g.name, name_list(bad_ops)));
}

void check_device_times(const Graph& g, const Platform& p, std::vector<std::string>* warnings) {
  if (!warnings) return;
  std::set<std::string> unknown;
  size_t ops = 0;
  for (const Op& op : g.ops) {
    bool any = false;
    for (const auto& [device, seconds] : op.device_times)
      if (p.device_index(device) < 0) unknown.insert(device), any = true;
    ops += any;
  }
  if (!unknown.empty())
    warnings->push_back(fmt::format("graph '{}': {} op(s) give \"times\" for devices platform '{}' does not have "
                                    "({}), ignored; the platform has {}",
                                    g.name, ops, p.name, name_list(unknown), device_list(p)));
}

}  // namespace diviml

#include "platform/cost_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "platform/units.h"

namespace diviml {

double roofline_time(const Op& op, const Device& d) {
  if (auto it = op.device_times.find(d.name); it != op.device_times.end()) return it->second;
  if (d.unsupported_op_types.count(op.type)) return std::numeric_limits<double>::infinity();
  // Shape-only ops move no data and compute nothing: at most a launch.
  const double compute = op.flops > 0 ? op.flops / (d.peak_flops * d.efficiency_for(op.op_class)) : 0.0;
  const double memory = op.bytes_accessed > 0 ? op.bytes_accessed / d.mem_bandwidth : 0.0;
  return d.launch_overhead_s + std::max(compute, memory);
}

namespace {

double parse_seconds(const std::string& cell, const std::string& where) {
  const std::optional<double> s = parse_number(cell);
  if (!s) throw InputError(fmt::format("{}: seconds '{}' is not a number", where, cell));
  if (!std::isfinite(*s) || *s < 0)
    throw InputError(fmt::format("{}: seconds must be finite and >= 0 (got {})", where, cell));
  return *s;
}

int parse_batch(const std::string& cell, const std::string& where) {
  // At most 9 digits: always fits an int.
  const bool digits = !cell.empty() && cell.size() <= 9 && cell.find_first_not_of("0123456789") == std::string::npos;
  const int b = digits ? std::stoi(cell) : 0;
  if (b < 1)
    throw InputError(fmt::format("{}: batch '{}' is not a positive integer (the batch size the time was measured at)",
                                 where, cell));
  return b;
}

}  // namespace

ProfileTable ProfileTable::load_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open profile", path));
  ProfileTable t;
  t.origin_ = path;
  std::map<std::tuple<std::string, std::string, int>, int> first_line;  // a repeated row is ambiguous
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    if (f.size() != 3 && f.size() != 4)
      throw InputError(
          fmt::format("{}:{}: expected 'op_name,device,seconds' or 'op_name,device,batch,seconds'", path, lineno));
    if (lineno == 1 && f.back() == "seconds") continue;  // header
    const std::string where = fmt::format("{}:{}", path, lineno);
    // Without the batch column a time is for batch 1: the model as loaded (old files).
    const int batch = f.size() == 4 ? parse_batch(f[2], where) : 1;
    const double s = parse_seconds(f.back(), where);
    const auto [it, fresh] = first_line.emplace(std::make_tuple(f[0], f[1], batch), lineno);
    if (!fresh)
      throw InputError(fmt::format("{}: second row for op '{}' on device '{}'{} (the first is line {})", where, f[0],
                                   f[1], batch == 1 ? "" : fmt::format(" at batch {}", batch), it->second));
    t.set(f[0], f[1], batch, s);
  }
  return t;
}

void ProfileTable::set(const std::string& op, const std::string& device, int batch, double seconds) {
  rows_ += table_[{op, device}].insert_or_assign(batch, seconds).second ? 1 : 0;
}

const ProfileTable::Sizes* ProfileTable::find(const std::string& op, const std::string& device) const {
  auto it = table_.find({op, device});
  return it == table_.end() ? nullptr : &it->second;
}

double time_at_batch(const ProfileTable::Sizes& measured, int b, const std::function<double(int)>& analytic) {
  const auto hi = measured.lower_bound(b);
  if (hi != measured.end() && hi->first == b) return hi->second;
  if (hi != measured.end() && hi != measured.begin()) {
    const auto lo = std::prev(hi);
    const double w = static_cast<double>(b - lo->first) / (hi->first - lo->first);
    return lo->second + w * (hi->second - lo->second);
  }
  const auto& [m, t] = hi == measured.end() ? *measured.rbegin() : *hi;  // the nearest measured size
  const double at_m = analytic(m), at_b = analytic(b);
  return at_m > 0 && std::isfinite(at_m) && std::isfinite(at_b) ? t * at_b / at_m : t;
}

}  // namespace diviml

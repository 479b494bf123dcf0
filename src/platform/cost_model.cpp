#include "platform/cost_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

namespace diviml {

double roofline_time(const Op& op, const Device& d) {
  if (auto it = op.device_times.find(d.name); it != op.device_times.end()) return it->second;
  if (d.unsupported_op_types.count(op.type)) return std::numeric_limits<double>::infinity();
  // Shape-only ops move no data and compute nothing: at most a launch.
  const double compute = op.flops > 0 ? op.flops / (d.peak_flops * d.efficiency_for(op.op_class)) : 0.0;
  const double memory = op.bytes_accessed > 0 ? op.bytes_accessed / d.mem_bandwidth : 0.0;
  return d.launch_overhead_s + std::max(compute, memory);
}

ProfileTable ProfileTable::load_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open profile", path));
  ProfileTable t;
  t.origin_ = path;
  std::map<std::pair<std::string, std::string>, int> first_line;  // a repeated row is ambiguous
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
    if (f.size() != 3)
      throw InputError(fmt::format("{}:{}: expected 'op_name,device,seconds'", path, lineno));
    if (lineno == 1 && f[2] == "seconds") continue;  // header
    double s = 0;
    try {
      size_t pos = 0;
      s = std::stod(f[2], &pos);
      if (pos != f[2].size()) throw std::invalid_argument(f[2]);
    } catch (const std::exception&) {
      throw InputError(fmt::format("{}:{}: seconds '{}' is not a number", path, lineno, f[2]));
    }
    if (!std::isfinite(s) || s < 0)
      throw InputError(fmt::format("{}:{}: seconds must be finite and >= 0 (got {})", path, lineno, f[2]));
    const auto [it, fresh] = first_line.emplace(std::make_pair(f[0], f[1]), lineno);
    if (!fresh)
      throw InputError(fmt::format("{}:{}: second row for op '{}' on device '{}' (the first is line {})", path, lineno,
                                   f[0], f[1], it->second));
    t.set(f[0], f[1], s);
  }
  return t;
}

void ProfileTable::set(const std::string& op, const std::string& device, double seconds) {
  table_[{op, device}] = seconds;
}

const double* ProfileTable::find(const std::string& op, const std::string& device) const {
  auto it = table_.find({op, device});
  return it == table_.end() ? nullptr : &it->second;
}

}  // namespace diviml

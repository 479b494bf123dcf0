#include "platform/calibrate.h"

#include <algorithm>
#include <cmath>

#include "platform/cost_model.h"

namespace diviml {

namespace {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(std::lround(q * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

bool memory_bound_class(OpClass c) {
  return c == OpClass::Elementwise || c == OpClass::Pooling || c == OpClass::DataMovement || c == OpClass::Normalization;
}

}  // namespace

std::vector<ClassError> roofline_errors(const Graph& g, const Device& d, const std::map<std::string, double>& measured) {
  std::map<OpClass, std::vector<double>> errs;
  std::vector<double> all;
  for (const Op& op : g.ops) {
    auto it = measured.find(op.name);
    if (it == measured.end() || !(it->second > 0)) continue;
    const double pred = roofline_time(op, d);
    if (!std::isfinite(pred)) continue;
    const double e = std::abs(pred - it->second) / it->second;
    errs[op.op_class].push_back(e);
    all.push_back(e);
  }
  std::vector<ClassError> r;
  for (const auto& [c, v] : errs) r.push_back({c, v.size(), quantile(v, 0.5), quantile(v, 0.9)});
  r.push_back({OpClass::Other, all.size(), quantile(all, 0.5), quantile(all, 0.9)});
  return r;
}

Device calibrate_device(const Graph& g, const Device& base, const std::map<std::string, double>& measured) {
  Device d = base;
  auto busy = [&](double t) { return std::max(t - d.launch_overhead_s, 1e-9); };
  std::vector<double> bw;
  for (const Op& op : g.ops) {
    auto it = measured.find(op.name);
    if (it == measured.end() || !(it->second > 0) || op.bytes_accessed <= 0 || !memory_bound_class(op.op_class)) continue;
    bw.push_back(op.bytes_accessed / busy(it->second));
  }
  if (!bw.empty()) d.mem_bandwidth = quantile(bw, 0.5);
  std::map<OpClass, std::vector<double>> eff;
  for (const Op& op : g.ops) {
    auto it = measured.find(op.name);
    if (it == measured.end() || !(it->second > 0) || op.flops <= 0) continue;
    // Ops whose bytes alone explain the time say nothing about compute efficiency.
    if (op.bytes_accessed / d.mem_bandwidth >= busy(it->second)) continue;
    eff[op.op_class].push_back(op.flops / (d.peak_flops * busy(it->second)));
  }
  for (const auto& [c, v] : eff) d.efficiency[c] = std::clamp(quantile(v, 0.5), 1e-4, 1.0);
  return d;
}

}  // namespace diviml

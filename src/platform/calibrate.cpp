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
  // A class faster than the assumed peak means the peak is too low (local-cpu's 64 GFLOP/s is an
  // AVX2 core at 2 GHz; the test VM's core reaches ~200): raise it to the fastest class.
  double top = 0;
  for (const auto& [c, v] : eff) top = std::max(top, quantile(v, 0.5));
  if (top > 1) d.peak_flops *= top;
  for (const auto& [c, v] : eff) d.efficiency[c] = std::clamp(quantile(v, 0.5) / std::max(top, 1.0), 1e-4, 1.0);
  return d;
}

Link fit_handover(std::vector<HandoverSample> samples) {
  Link l;
  l.bandwidth = kFreeBandwidth;
  if (samples.empty()) return l;
  std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.bytes < b.bytes; });
  // Pool adjacent violators: blocks of (sum, count) whose means are non-decreasing.
  std::vector<std::pair<double, int>> blocks;
  for (const auto& s : samples) {
    blocks.push_back({s.seconds, 1});
    while (blocks.size() >= 2) {
      const auto& b = blocks.back();
      const auto& a = blocks[blocks.size() - 2];
      if (a.first / a.second <= b.first / b.second) break;
      const std::pair<double, int> merged{a.first + b.first, a.second + b.second};
      blocks.pop_back();
      blocks.back() = merged;
    }
  }
  std::vector<double> y;
  for (const auto& [sum, cnt] : blocks)
    for (int i = 0; i < cnt; ++i) y.push_back(sum / cnt);
  const double n = static_cast<double>(samples.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    mx += samples[i].bytes / n;
    my += y[i] / n;
  }
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    sxy += (samples[i].bytes - mx) * (y[i] - my);
    sxx += (samples[i].bytes - mx) * (samples[i].bytes - mx);
  }
  double slope = sxx > 0 ? std::max(0.0, sxy / sxx) : 0.0;
  double latency = my - slope * mx;
  if (latency < 0) {  // through the origin instead
    double sxy0 = 0, sxx0 = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      sxy0 += samples[i].bytes * y[i];
      sxx0 += samples[i].bytes * samples[i].bytes;
    }
    latency = 0;
    slope = sxx0 > 0 ? std::max(0.0, sxy0 / sxx0) : 0.0;
  }
  l.latency_s = latency;
  if (slope > 0) l.bandwidth = 1 / slope;
  return l;
}

double segment_dispatch_s(const Link& handover, double per_cut_s, double bytes_per_cut) {
  const double moving = handover.bandwidth > 0 ? bytes_per_cut / handover.bandwidth : 0.0;
  return std::isfinite(per_cut_s) ? std::max(0.0, per_cut_s - handover.latency_s - moving) : 0.0;
}

Link link_with_dispatch(const Link& handover, double dispatch_s) {
  Link l = handover;
  l.latency_s = handover.latency_s + 2 * std::max(0.0, dispatch_s);
  return l;
}

}  // namespace diviml

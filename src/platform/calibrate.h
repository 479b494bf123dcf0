// Fitting the roofline to measured op times (`diviml profile --calibrate`): memory bandwidth from
// the memory-bound classes, then one efficiency per op class, and the error before and after.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "platform/platform.h"

namespace diviml {

/// Relative error |roofline - measured| / measured of the ops of one class (measured > 0 only).
struct ClassError {
  OpClass op_class = OpClass::Other;
  size_t ops = 0;
  double median = 0, p90 = 0;
};

/// Per class, plus an "all ops" entry last (op_class Other, ops = total).
std::vector<ClassError> roofline_errors(const Graph& g, const Device& d, const std::map<std::string, double>& measured_s);

/// `base` with mem_bandwidth and per-class efficiencies fitted to `measured_s` (op name -> seconds):
/// medians of the per-op estimates, so that a few outliers do not move them.
Device calibrate_device(const Graph& g, const Device& base, const std::map<std::string, double>& measured_s);

}  // namespace diviml

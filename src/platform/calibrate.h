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
/// medians of the per-op estimates, so that a few outliers do not move them. When a class's
/// median efficiency exceeds 1, peak_flops is raised to that class's speed (efficiency 1) and the
/// other classes scaled to it.
Device calibrate_device(const Graph& g, const Device& base, const std::map<std::string, double>& measured_s);

/// One hand-over measurement: `seconds` (a median over repeats) to move `bytes` between devices.
struct HandoverSample {
  double bytes = 0, seconds = 0;
};

/// `latency + bytes / bandwidth` fitted to hand-over medians: first made non-decreasing in bytes
/// (pool-adjacent-violators: a larger tensor never takes less time, so a dip is noise), then least
/// squares with latency >= 0 and 1/bandwidth >= 0. bandwidth is kFreeBandwidth when time does not
/// grow with size (JSON has no infinity).
inline constexpr double kFreeBandwidth = 1e15;
Link fit_handover(std::vector<HandoverSample> samples);

/// What one segment more costs, from a measured cut: `per_cut_s` (the whole model against the same
/// model cut into segments that alternate between devices, per cut) minus the hand-over of its
/// `bytes_per_cut`: ONNX Runtime's per-segment dispatch (one more session.run, layouts converted
/// and fusions lost at the edges, the consumer's wake-up). >= 0.
double segment_dispatch_s(const Link& handover, double per_cut_s, double bytes_per_cut);

/// The link the scheduler should see: the hand-over plus one segment dispatch on each side of the
/// transfer (the sender's segment ends at the tensor, the receiver's starts there). The simulator
/// charges a device nothing for a cut, so both dispatches ride on the link's latency.
Link link_with_dispatch(const Link& handover, double dispatch_s);

}  // namespace diviml

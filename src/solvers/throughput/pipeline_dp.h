// The pipeline-dp throughput baseline (docs/throughput.md, "pipeline-dp"): contiguous stages of
// a topological order, one device per stage, chosen by an exact dynamic program over the stage
// boundaries and the number of devices of each kind used (identical devices are counted, never
// enumerated as subsets). It minimises a per-stage cost U (compute, every link into the stage,
// I/O) that is never below the analytic period of the split, and equals it when tensors only
// cross between adjacent stages on a uniform interconnect.
#pragma once

#include <vector>

#include "schedule/throughput.h"

namespace diviml {

/// Classes of interchangeable devices: same op times and capacity, transfer costs unchanged by
/// swapping them; the I/O device is always a class of its own. Each class sorted.
std::vector<std::vector<int>> device_kinds(const ThroughputInstance& in);

struct PipelineDpResult {
  std::vector<int> place;   ///< op -> device (one replica)
  double cost = 0;          ///< the minimum of U over contiguous splits (seconds); the analytic period is <= this
  long long states = 0;     ///< (boundary, devices-per-kind) states with a finite value
};

/// Exact minimum of U over every split of in.topo into contiguous stages on distinct devices
/// whose estimated memory (weights, activations, I/O on the I/O device) fits. Throws InputError
/// when no split fits, or when the state space is too large (many distinct device kinds).
PipelineDpResult pipeline_dp(const ThroughputInstance& in);

/// U of one placement that is a contiguous split of in.topo on distinct devices (runs of equal
/// devices along in.topo are the stages); +inf when it is not one or a stage does not fit.
double contiguous_split_cost(const ThroughputInstance& in, const std::vector<int>& place);

}  // namespace diviml

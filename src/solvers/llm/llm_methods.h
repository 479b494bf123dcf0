// The LLM planner as throughput methods (`llm-symmetric`, `uniform-layers`): thin wrappers over
// llm_planner.h with the conventions of solve_throughput (replicas, latency cap, memory errors).
#pragma once

#include "solvers/llm/llm_planner.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml {

/// `--objective throughput --method llm-symmetric`: the symmetric plan. The planner chooses the
/// number of replicas itself (pipelines over groups of servers side by side; --replicas is not
/// used). Throws InputError
/// when the plan overflows a device's memory, misses the latency cap, or on bad input (see
/// plan_llm_symmetric).
ThroughputSchedule llm_symmetric_throughput(const Problem& pb, const ThroughputOptions& opt);

/// `--method uniform-layers`: equal layers per GPU. Throws InputError when that split overflows
/// a device's memory (the message names the device) or misses the latency cap.
ThroughputSchedule uniform_layers_throughput(const Problem& pb, const ThroughputOptions& opt);

}  // namespace diviml

// Memory-constrained mapping (issue 7, docs/memory.md): a feasibility pre-check with a clear
// error, a memory-aware list scheduler in the style of Baechi's m-ETF / m-TOPO (Jeon et al.,
// SoCC 2020), and a repair step for schedules whose simulated memory overflows.
//
// Memory of device k (DESIGN section 3, simulator.h): weights of the ops placed on k (once) + the
// peak of live activation tensors on k (from the simulated tensor lifetimes) + the platform's
// reserve. The simulator is the authority; the heuristics below track an estimate and every
// returned schedule is re-checked (and repaired) with simulate_latency.
#pragma once

#include <string>
#include <vector>

#include "schedule/schedule.h"

namespace diviml {

/// What the whole model needs against what the platform offers.
struct MemoryRequirement {
  double total_weight_bytes = 0;     ///< sum of weights of every op
  double max_op_bytes = 0;           ///< largest single-op footprint (weights + inputs + outputs)
  OpId largest_op = kNoOp;           ///< the op with that footprint
  double total_usable_bytes = 0;     ///< sum over devices of usable memory (capacity - reserve)
  /// Ops whose footprint fits on no device that can run them (largest first).
  std::vector<OpId> unplaceable_ops;
  bool feasible() const { return unplaceable_ops.empty() && total_weight_bytes <= total_usable_bytes; }
};

/// Footprint of op v while it runs: weights + input and output activation bytes.
double op_footprint_bytes(const Problem& pb, OpId v);

MemoryRequirement memory_requirement(const Problem& pb);

/// Throws InputError when the model cannot fit whatever the placement: the message gives the total
/// memory needed (weights) against the usable total, and the largest single op that fits on no
/// device (with its footprint and the largest device that can run it). `what` prefixes the message
/// (e.g. the method name). Does nothing when the platform has unlimited memory.
void check_memory_feasible(const Problem& pb, const std::string& what = "memory");

/// m-ETF: ETF-style list scheduling (the ready (op, device) pair with the earliest finish time -
/// on heterogeneous devices the earliest start alone keeps every op where its inputs are - ties by
/// static level, no insertion) where a device is only
/// a candidate for an op when its weights, the op's output and the inputs it has to receive fit
/// in the device's remaining memory (weights stay resident; activations are freed once their last
/// consumer on the device has run). The result is checked by the simulator and repaired
/// (repair_memory); throws InputError when no placement within memory is found.
Schedule metf_schedule(const Problem& pb);

/// m-TOPO: ops in topological order fill devices one after another (fastest device first), each
/// device up to its memory and up to its speed-proportional share of the total work; then checked
/// and repaired like m-ETF. Throws InputError when no placement within memory is found.
Schedule mtopo_schedule(const Problem& pb);

/// Moves ops off devices whose simulated memory (weights + peak activations + reserve) exceeds
/// their capacity: repeatedly takes the most overloaded device and moves the op (among its
/// heaviest ones) whose move to a device with headroom raises the simulated latency least. Keeps
/// each device's order consistent with the simulated start times. Returns the schedule unchanged
/// when it already fits; throws InputError (naming the device and its overflow) when it cannot
/// find a fitting placement. The result's `notes` records the ops moved; a repaired schedule
/// loses its claimed times and an Optimal status becomes Feasible.
Schedule repair_memory(const Problem& pb, Schedule s);

}  // namespace diviml

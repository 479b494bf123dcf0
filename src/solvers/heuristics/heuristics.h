// Baseline latency schedulers (DESIGN section 8): fastest single device, HEFT, CPOP, PEFT, ETF,
// random. All follow the execution model of DESIGN section 3: per-tensor transfer costs
// Problem::comm, graph inputs arrive from the I/O device (Problem::input_arrival), graph outputs
// must reach it (Problem::output_delivery). Devices that cannot run an op are never chosen.
//
// The list schedulers (HEFT, CPOP, PEFT, ETF) return their start times as a claim
// (Schedule::start) and their makespan (Schedule::claimed_makespan); the per-device orders are
// consistent with those times, so the simulator reproduces them exactly.
#pragma once

#include <cstdint>
#include <string>

#include "schedule/schedule.h"

namespace diviml {

/// Every op on the single device with the lowest simulated makespan (devices that cannot run
/// every op are skipped). Throws InputError when no device can run every op.
Schedule fastest_device_schedule(const Problem& pb);

/// HEFT (Topcuoglu, Hariri & Wu 2002): upward rank with mean execution time over the devices
/// that can run an op and mean transfer cost over ordered device pairs (plus mean output
/// delivery for ops producing graph outputs); insertion-based earliest-finish-time placement
/// (the finish time of an output-producing op includes its delivery to the I/O device).
Schedule heft_schedule(const Problem& pb);

/// CPOP (same paper): priority = upward + downward rank; the critical-path ops all go to the
/// single device minimising their total execution time, the others by insertion-based EFT.
Schedule cpop_schedule(const Problem& pb);

/// PEFT (Arabnejad & Barbosa 2014): optimistic cost table OCT(v, k) (using the actual transfer
/// cost of each device pair and the output delivery of exit ops), rank = mean OCT, device
/// minimising EFT + OCT with insertion.
Schedule peft_schedule(const Problem& pb);

/// ETF (Hwang, Chow, Anger & Lee 1989): repeatedly starts the (ready op, device) pair with the
/// earliest start time, ties broken by the higher static level (mean execution times, no
/// transfers); no insertion. O(n k log n) with per-device heaps.
Schedule etf_schedule(const Problem& pb);

/// The best (lowest simulated makespan) of fastest-device, HEFT, CPOP, PEFT and ETF; its name in
/// `*name` when given. Start times and claimed makespan are the simulator's. An empty schedule
/// (no device vector) when none of them handles the instance.
Schedule best_list_schedule(const Problem& pb, std::string* name = nullptr);

/// A random valid placement (uniform over the devices that can run each op) and a random
/// topological order. Deterministic for a given seed.
Schedule random_schedule(const Problem& pb, uint64_t seed);

}  // namespace diviml

// Throughput methods (issue 6, docs/throughput.md): baselines (fastest-device, data-parallel,
// pipeline-dp, heft-pipeline), the throughput MILP and the splitting heuristic for throughput.
// Every method returns a ThroughputSchedule whose metrics come from schedule/throughput.h.
#pragma once

#include <string>
#include <vector>

#include "schedule/throughput.h"
#include "solvers/bounds/throughput_bound.h"
#include "solvers/solver.h"

namespace diviml {

inline constexpr int kMaxReplicas = 64;

struct ThroughputOptions {
  int replicas = 1;             ///< R in 1..64; 0: auto (try a small range, keep the best)
  double max_latency_s = 0;     ///< cap on each replica's single-inference latency (0: none)
  int max_auto_replicas = 4;    ///< auto range of milp and split (data-parallel tries up to 16)
  SolveOptions solve;
  /// The throughput bound when the caller already has it (else milp/split compute it, within
  /// a fifth of the time limit).
  const ThroughputBound* known_bound = nullptr;
};

/// What a method's run function sees (defined in throughput_solvers.cpp).
struct ThroughputRunContext;

/// The one table of throughput methods: dispatch, --help, compare's defaults and the tests
/// read it.
struct ThroughputMethodInfo {
  std::string name;
  std::string description;
  bool exact = false;               ///< can prove its schedule optimal (for its R)
  bool randomised = false;          ///< result depends on a seed
  bool uses_milp = false;           ///< runs CBC (time limit matters)
  bool default_in_compare = true;   ///< in `compare --objective throughput` without --methods
  ThroughputSchedule (*run)(const ThroughputRunContext&) = nullptr;
};
const std::vector<ThroughputMethodInfo>& throughput_methods();
/// The entry for a name; InputError naming the valid ones for an unknown name.
const ThroughputMethodInfo& find_throughput_method(const std::string& name);
/// "fastest-device, data-parallel, ..." for help texts and messages.
std::string throughput_method_names();

/// Runs a method by name; throws InputError on an unknown method, R out of range, a latency cap
/// below the latency lower bound, or when the method finds no schedule meeting the memory limits
/// or the latency cap (the message names what cannot be met). Every schedule returned fits the
/// devices' memory as analyze_throughput counts it (weights once per device, activations of
/// every replica): a result that does not is repaired, or the call fails with the memory error.
/// Fills method and solve_seconds.
ThroughputSchedule solve_throughput(const Problem& pb, const std::string& method, const ThroughputOptions& opt);

/// Hill climbing over single-op moves (per replica): lowers the period (then the sum of squared
/// loads); a move onto a device must keep its estimated memory (estimated_memory) within
/// capacity. Returns true when it changed something.
bool improve_throughput_placement(const ThroughputInstance& in, std::vector<std::vector<int>>& place,
                                  double time_limit_s, const std::atomic<bool>* interrupt = nullptr);

/// Moves ops off devices whose estimated memory (weights once per device, activation estimates,
/// I/O: estimated_memory) exceeds their capacity; then the placement fits as analyze_throughput
/// counts it too. False: no fix found.
bool repair_memory(const ThroughputInstance& in, std::vector<std::vector<int>>& place);
/// Weights once per device within capacity.
bool weights_fit(const ThroughputInstance& in, const std::vector<std::vector<int>>& place);

/// Writes the throughput MILP for R replicas (times in milliseconds) as .mps or .lp.
void export_throughput_milp(const Problem& pb, int replicas, const std::string& path, double max_latency_s = 0);

}  // namespace diviml

// Common interface of every latency scheduler (heuristics, MILP, split) and the method registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "schedule/schedule.h"
#include "solvers/progress.h"

namespace diviml {

struct SolveOptions {
  uint64_t seed = 1;
  double time_limit_s = 60;
  int threads = 1;
  /// Called at least every few seconds by long solvers; may be empty.
  std::function<void(const Progress&)> progress;
  /// Set (e.g. by SIGINT) to ask a solver to stop and return its best schedule.
  const std::atomic<bool>* interrupt = nullptr;
  /// Splitting heuristic budgets (incomparable pairs / ops per part).
  long max_part_pairs = 70;
  int max_part_ops = 0;     ///< 0: use max_part_pairs
};

using LatencyMethod = std::function<Schedule(const Problem&, const SolveOptions&)>;

struct MethodInfo {
  std::string name;
  std::string description;
  LatencyMethod run;
  bool exact = false;       ///< can prove its schedule optimal (given the time)
  bool randomised = false;  ///< the result depends on SolveOptions::seed
  bool uses_milp = false;   ///< calls CBC (serialised process-wide, docs/api.md)
  bool in_compare = true;   ///< in `compare`'s default method set
};

/// Every registered latency method, in display order. "device:NAME" is handled by
/// solve_latency() and not listed.
const std::vector<MethodInfo>& latency_methods();
/// Runs a method by name (fills method name and solve_seconds); throws InputError on an
/// unknown name, listing the valid ones.
Schedule solve_latency(const Problem& pb, const std::string& method, const SolveOptions& opt);

}  // namespace diviml

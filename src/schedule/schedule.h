// Schedule: where each op runs and in which order per device. Its metrics always come from the
// simulator (simulator.h), never from the solver that produced it.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "problem/problem.h"

namespace diviml {

/// Result status of a solve (data, not an error): HiGHS-style model status. Interrupted: the
/// user stopped the solve (Ctrl-C) and the schedule is the best found until then.
enum class SolveStatus { Heuristic, Feasible, Optimal, TimeLimit, Interrupted };
std::string_view to_string(SolveStatus s);

struct Schedule {
  std::vector<int> device;                 ///< device of every op
  std::vector<std::vector<OpId>> order;    ///< per device, the ops in execution order
  std::vector<double> start;               ///< optional solver start times (empty: none claimed)
  std::string method;
  SolveStatus status = SolveStatus::Heuristic;
  double claimed_makespan = std::numeric_limits<double>::quiet_NaN();  ///< solver's objective, if any
  double lower_bound = std::numeric_limits<double>::quiet_NaN();       ///< best proven bound, if any
  double solve_seconds = 0;
  std::string notes;                       ///< free-form solver statistics for the report
};

/// Builds a schedule from a device per op and a global priority order (e.g. a topological or
/// start-time order): each device runs its ops in that order.
Schedule schedule_from_order(const Problem& pb, const std::vector<int>& device,
                             const std::vector<OpId>& global_order);

/// Builds a schedule from device and start times (order per device by start, ties by topo rank);
/// keeps the start times as the solver's claim.
Schedule schedule_from_times(const Problem& pb, const std::vector<int>& device,
                             const std::vector<double>& start);

/// `ops` ordered by `key` (indexed by op id; ties by topological rank) as far as the precedence
/// among them allows (Kahn with the key as priority): turns solver start times, which may tie or
/// round across a dependency, into a valid global order.
std::vector<OpId> linear_extension(const Graph& g, const std::vector<OpId>& ops, const std::vector<double>& key);

/// All ops on one device in topological order.
Schedule single_device_schedule(const Problem& pb, int k);

}  // namespace diviml

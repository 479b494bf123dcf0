// Scores a latency schedule with the simulator, attaches the lower bound and gap, and writes
// the schedule JSON (docs/formats.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "platform/units.h"
#include "schedule/simulator.h"
#include "solvers/bounds/bounds.h"

namespace diviml {

struct LatencyEvaluation {
  LatencyResult sim;               ///< without contention (the model every solver optimises)
  double makespan = 0;             ///< sim.makespan
  double makespan_contention = 0;  ///< same schedule with link contention
  double lower_bound = 0;          ///< max(bounds.best, the solver's proven bound)
  double gap = 0;                  ///< (makespan - lower_bound) / lower_bound; NaN without a bound (JSON null)
};

/// Simulates, checks the solver's claims (start times consistent with the execution model,
/// claimed makespan equal to the simulator's to 1e-9 relative), and computes the gap.
/// A failed check is a solver bug: throws std::logic_error.
LatencyEvaluation evaluate_latency(const Problem& pb, const Schedule& s, const LatencyBounds& bounds);

/// The status a latency result may claim (schedule, compare, the library): `optimal` when its
/// makespan meets the certified bound; a schedule that overflows a device's memory never is.
SolveStatus certified_status(SolveStatus status, const LatencyEvaluation& e);

/// The schedule JSON: method, objective, status, makespan_s, lower_bound_s, gap, ops, transfers,
/// devices with utilisation and memory, graph and platform names, version.
nlohmann::json latency_schedule_json(const Problem& pb, const Schedule& s, const LatencyEvaluation& e,
                                     const LatencyBounds& bounds);

}  // namespace diviml

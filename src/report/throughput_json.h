// Scores a throughput schedule (analytic period, pipelined simulations, bound, gap) and writes
// the throughput schedule JSON and the rows of `compare --objective throughput` (docs/formats.md),
// so that the library writes the same files as the `diviml` command.
#pragma once

#include <nlohmann/json.hpp>

#include "schedule/throughput.h"
#include "solvers/bounds/throughput_bound.h"

namespace diviml {

/// Everything reported about one throughput schedule.
struct ThroughputEvaluation {
  ThroughputAnalysis a;
  PipelineResult pipe;              ///< periodic dispatch, link contention (links are resources of the period)
  PipelineResult pipe_greedy;       ///< greedy oldest-first dispatch, link contention
  ThroughputBound bound;
  double throughput = 0;            ///< analytic R / P
  double bound_throughput = 0;      ///< 1 / bound.best (any R)
  double gap = 0;                   ///< (P/R - bound) / bound; NaN without a bound
};

/// Analyses and simulates `s` (`inferences` = 0: the default length); checks the solver's claimed
/// period (a period above it is a solver bug: std::logic_error).
ThroughputEvaluation evaluate_throughput(const Problem& pb, const ThroughputSchedule& s, const ThroughputBound& b,
                                         int inferences);

/// The throughput schedule JSON (`schedule --objective throughput -o`); `fastest_device_throughput`
/// is the baseline of the speedup (<= 0: none, written as null).
nlohmann::json throughput_schedule_json(const Problem& pb, const ThroughputSchedule& s, const ThroughputEvaluation& e,
                                        double fastest_device_throughput);

/// One row of `compare --objective throughput --json`.
nlohmann::json throughput_compare_row(const std::string& method, const ThroughputSchedule& s,
                                      const ThroughputEvaluation& e, double fastest_device_throughput);

/// The whole `compare --objective throughput --json` document.
nlohmann::json throughput_comparison_json(const Problem& pb, double fastest_device_throughput, const ThroughputBound& b,
                                          const nlohmann::json& rows);

}  // namespace diviml

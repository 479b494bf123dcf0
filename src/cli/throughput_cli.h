// `--objective throughput` for `schedule` and `compare` (implemented in throughput_cli.cpp).
#pragma once

#include <string>
#include <vector>

#include "cli/common.h"

namespace diviml::cli {

/// Defaults, bounds and help from the options table (table_options.h).
struct ThroughputCliArgs {
  std::string replicas;         ///< R, or "auto"
  double max_latency_s = 0;     ///< per-inference latency cap (0: none)
  int inferences = 0;           ///< pipelined simulation length (0: default)
  std::vector<const CLI::Option*> given;  ///< the options above, to tell whether the user set one
};

/// Adds --replicas, --max-latency, --inferences to a subcommand.
void add_throughput_options(CLI::App* cmd, ThroughputCliArgs& a);

/// With --objective latency: InputError when one of the throughput options was given (it would
/// be ignored).
void refuse_throughput_options(const ThroughputCliArgs& a);

/// With --objective throughput: InputError when an output only the latency objective writes
/// (--gantt, --trace, --dot: one inference's timed schedule) was requested.
void refuse_latency_outputs(const std::string& gantt, const std::string& trace, const std::string& dot);

/// `schedule --objective throughput`: solves, simulates, prints a summary, writes the JSON/Gantt.
void run_throughput_schedule(const ModelArgs& model, const SolveArgs& solve, const ThroughputCliArgs& t,
                             const std::string& method, const std::string& out_json);

/// `compare --objective throughput`: one row per method (empty: the default set).
void run_throughput_compare(const ModelArgs& model, const SolveArgs& solve, const ThroughputCliArgs& t,
                            const std::vector<std::string>& methods, const std::string& json_out);

}  // namespace diviml::cli

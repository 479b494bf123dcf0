// `--objective throughput` for `schedule` and `compare` (implemented in throughput_cli.cpp).
#pragma once

#include <string>
#include <vector>

#include "cli/common.h"

namespace diviml::cli {

struct ThroughputCliArgs {
  std::string replicas = "1";   ///< R, or "auto"
  double max_latency_s = 0;     ///< per-inference latency cap (0: none)
  int inferences = 0;           ///< pipelined simulation length (0: default)
};

/// Adds --replicas, --max-latency, --inferences to a subcommand.
void add_throughput_options(CLI::App* cmd, ThroughputCliArgs& a);

/// `schedule --objective throughput`: solves, simulates, prints a summary, writes the JSON/Gantt.
void run_throughput_schedule(const ModelArgs& model, const SolveArgs& solve, const ThroughputCliArgs& t,
                             const std::string& method, const std::string& out_json);

/// `compare --objective throughput`: one row per method (empty: the default set).
void run_throughput_compare(const ModelArgs& model, const SolveArgs& solve, const ThroughputCliArgs& t,
                            const std::vector<std::string>& methods, const std::string& json_out);

}  // namespace diviml::cli

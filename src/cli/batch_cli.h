// `schedule --micro-batches`: the latency of a batched request with the batch split into
// micro-batches (docs/batch.md). Implemented in batch_cli.cpp.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "solvers/batch/batch_bound.h"
#include "solvers/batch/batch_search.h"

namespace diviml::cli {

struct BatchCliArgs {
  std::string micro_batches;  ///< "", "auto", "N" or "b1,b2,..."
  bool active() const { return !micro_batches.empty(); }
};

/// Adds --micro-batches to a subcommand.
void add_batch_options(CLI::App* cmd, BatchCliArgs& a);

/// Solves `model.batch` samples split as asked, prints the summary (latency, bound, gap, sizes,
/// devices per micro-batch, speedup over the whole batch on the fastest device), writes the
/// schedule JSON and the Gantt chart when asked.
void run_batch_schedule(const ModelArgs& model, const SolveArgs& solve, const BatchCliArgs& b,
                        const std::string& method, const std::string& out_json, const std::string& gantt,
                        double bound_milp_s);

/// What splitting the batch could gain, for `schedule --batch B` with or without --micro-batches:
/// the bound over every split and the whole batch on the fastest single device.
struct BatchReference {
  BatchBound bound;          ///< NaN when not computed (--no-bound)
  double fastest_device_s = 0;
};
BatchReference batch_reference(const std::shared_ptr<const Problem>& per_sample, int batch, double bound_milp_s,
                               bool with_bound = true);

/// `schedule --batch B` without --micro-batches: one line with the speedup over the fastest
/// device and the bound over every split (what splitting could reach at most).
void print_batch_reference(const BatchReference& ref, double makespan, int batch);

/// Adds the schedule JSON's "batch" entry (docs/batch.md "Outputs") and each op's micro_batch and
/// base_op to `j`, the latency schedule JSON of split.problem() (or of a problem with the same
/// ops, such as the batch as one inference).
void add_batch_json(nlohmann::json& j, const BatchSplit& split, const BatchReference& ref, double makespan,
                    const std::vector<BatchTrial>& trials);

/// `bound --batch B` (B > 1): the bound over every split of the batch into micro-batches and every
/// schedule of it (batch_latency_bound of the per-sample problem). Prints its lines, or adds
/// "batch_split" to `json` when non-null.
void report_split_batch_bound(const ModelArgs& model, int threads, double milp_time_s, nlohmann::json* json);

}  // namespace diviml::cli

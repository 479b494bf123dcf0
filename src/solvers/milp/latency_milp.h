// The latency MILP (DESIGN section 4, final model in docs/milp.md), solved with CBC.
// Also solves a subset of ops with the rest fixed, which is what the splitting heuristic needs.
#pragma once

#include <string>
#include <vector>

#include "solvers/solver.h"

namespace diviml {

/// Context for solving only some ops: ops outside `ops` are already placed and timed.
struct FixedContext {
  std::vector<int> device;       ///< per op of the whole graph; -1 for ops not yet scheduled
  std::vector<double> finish;    ///< per op of the whole graph; finish time where device >= 0
  std::vector<double> device_free;  ///< per device: earliest time it can start a new op
};

struct LatencyMilpRequest {
  std::vector<OpId> ops;         ///< ops to schedule (empty: all ops of the graph)
  const FixedContext* fixed = nullptr;  ///< required when `ops` is a strict subset
  /// Optional warm start (device and start per op of the whole graph, entries of `ops` used).
  std::vector<int> warm_device;
  std::vector<double> warm_start;
  /// Splitting heuristic: charge each op the fastest-time path through its successors outside
  /// `ops` (T >= C_v + that tail), so a part is judged by its effect on the whole graph's latency
  /// instead of its own finish. Off for bounds, which need the part's isolated objective.
  bool lookahead_tails = false;
  /// Ops restricted to one device (op, device); the series DP pins a module's exit cut vertex.
  std::vector<std::pair<OpId, int>> pinned;
  /// Graph inputs arrive at max(0, arrival - graph_input_offset): the series DP solves a module
  /// in time relative to a lower estimate of its start (docs/split.md section 4).
  double graph_input_offset = 0;
  /// Deliveries of graph outputs are left out of the objective (a middle module of the series DP
  /// minimises its cut vertex's finish).
  bool ignore_graph_outputs = false;
  /// CBC node budget (< 0: none). A node budget with one thread is reproducible; a wall-clock
  /// limit is not, so anything feeding a certified bound uses this (issue 12 item 5).
  long long max_nodes = -1;
};

struct LatencyMilpResult {
  std::vector<int> device;       ///< per op of the whole graph (entries of `ops` filled)
  std::vector<double> start;     ///< idem
  /// The scheduled ops in the order whose as-soon-as-possible timing gave `start` (each device
  /// runs its ops in this order). Use it rather than sorting by `start`, which cannot tell a
  /// zero-duration op from the op that starts with it on the same device.
  std::vector<OpId> order;
  double objective = 0;          ///< makespan of the scheduled ops (incl. output delivery)
  double bound = 0;              ///< solver's best proven bound on that objective
  SolveStatus status = SolveStatus::Feasible;
  long long nodes = 0;
  int num_variables = 0, num_constraints = 0;
  /// Largest violation (model time units) of any row or bound of the model by the warm start's
  /// as-soon-as-possible timing, and where. Every schedule no worse than the horizon satisfies
  /// the model (docs/milp.md section 5), so this is ~0; the tests pass known optima as warm
  /// starts to check the strengthening rows.
  double warm_violation = 0;
  std::string warm_violation_what;
};

/// Solves the latency MILP for the request within opt.time_limit_s; reports progress through
/// opt.progress. Returns the best schedule found (never worse than a feasible warm start).
LatencyMilpResult solve_latency_milp(const Problem& pb, const LatencyMilpRequest& req,
                                     const SolveOptions& opt);

/// The whole-graph `milp` method: warm start from the best baseline, solve, build the Schedule.
Schedule milp_schedule(const Problem& pb, const SolveOptions& opt);

/// Writes the whole-graph latency MILP as MPS or LP (chosen by the extension of `path`).
void export_latency_milp(const Problem& pb, const std::string& path);

}  // namespace diviml

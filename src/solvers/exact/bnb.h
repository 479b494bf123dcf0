// Exact latency scheduling by depth-first branch and bound over (placement, order)
// (docs/exact.md). For graphs or modules of tens of ops where the MILP's LP relaxation is too
// weak (it splits every op over the devices and prices no transfer, docs/milp.md section 11).
//
// A node is a partial schedule: a prefix of ops appended, each at the end of its device, in
// non-decreasing start time. Every semi-active schedule (a placement plus per-device orders,
// timed as soon as possible: what the simulator computes) is generated exactly once, so the
// search is complete for the makespan. Nodes are pruned by a lower bound that prices what is
// decided (transfer-aware critical path from the placed ops, per-device load) and by dominance
// (an op that fits in an idle gap earlier on its device; unused identical devices).
#pragma once

#include <utility>
#include <vector>

#include "solvers/milp/latency_milp.h"
#include "solvers/solver.h"

namespace diviml {

/// The branching scheme (docs/exact.md). Both are complete.
enum class BnbSearch {
  Auto,             ///< AllocationFirst when transfers or I/O make the device choice cost time
  Schedule,         ///< next (op, device) appended in start order (serial schedule generation)
  AllocationFirst,  ///< every op's device in topological order first, then the order
};

/// What to solve: all ops, or a subset with the rest fixed (the same conventions as
/// LatencyMilpRequest, so a sub-problem of the series DP can be handed to either solver).
struct BnbRequest {
  std::vector<OpId> ops;                ///< ops to schedule (empty: all ops of the graph)
  const FixedContext* fixed = nullptr;  ///< required when `ops` is a strict subset
  std::vector<std::pair<OpId, int>> pinned;  ///< ops restricted to one device
  double graph_input_offset = 0;        ///< graph inputs arrive at max(0, arrival - offset)
  bool ignore_graph_outputs = false;    ///< deliveries left out of the objective
  /// Incumbent: device per op of the whole graph and a linear extension of the subset's ops
  /// (both empty: none). Timed as soon as possible in the context; the search looks only for
  /// strictly better schedules.
  std::vector<int> warm_device;
  std::vector<OpId> warm_order;
  BnbSearch search = BnbSearch::Auto;
  long long max_nodes = -1;  ///< node budget (< 0: none); reproducible, unlike a time limit
};

struct BnbResult {
  std::vector<int> device;    ///< per op of the whole graph (entries of the subset filled; -1 otherwise)
  std::vector<double> start;  ///< idem (as soon as possible)
  std::vector<OpId> order;    ///< the subset's ops in start order (a linear extension)
  double objective = 0;       ///< makespan of the subset's ops (finish and, unless ignored, delivery)
  double bound = 0;           ///< proven lower bound on the optimum of that objective
  SolveStatus status = SolveStatus::Feasible;  ///< Optimal only when the search completed
  long long nodes = 0;
  bool found = false;         ///< false: no schedule (no incumbent and the search found none)
};

/// Runs the search within opt.time_limit_s / opt.interrupt / req.max_nodes; reports progress
/// through opt.progress. Never worse than a valid incumbent. Throws std::invalid_argument when a
/// subset op reads from an op neither in the subset nor fixed.
BnbResult solve_latency_bnb(const Problem& pb, const BnbRequest& req, const SolveOptions& opt);

/// `--method bnb`: incumbent from simulated annealing (a fifth of the time limit at most),
/// then the search; the schedule is the simulator's, `lower_bound` the search's proven bound.
Schedule bnb_schedule(const Problem& pb, const SolveOptions& opt);

}  // namespace diviml

// The series DP (docs/split.md section 4): the modules of a series decomposition run in disjoint
// time intervals, so the optimal latency is a shortest path over the devices of the cut vertices
// whose arcs are the optimal makespans of the modules alone. Exact where every module on the
// path is solved to optimality (and the preconditions of docs/split.md hold); a valid lower
// bound always.
#pragma once

#include <atomic>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "solvers/solver.h"

namespace diviml {

struct SeriesDpOptions {
  /// Modules with more incomparable pairs get no MILP: closed-form bounds and the fallback's
  /// schedule for their ops.
  long long max_module_pairs = 400;
  /// CBC node budget per module MILP. With one thread it makes every bound reproducible.
  long long max_nodes = 20000;
  /// Modules of at most this many ops are solved by the exact branch and bound first
  /// (solve_latency_bnb, docs/exact.md), with this node budget per solve (0: never; < 0: no
  /// budget). A module it does not prove goes to the MILP with its bound and incumbent.
  int bnb_max_ops = 40;
  long long bnb_max_nodes = 200000;
  /// Safety wall-clock limit per module solve (MILP or branch and bound). A solve it stops
  /// contributes no bound of its own (only the closed-form one), so the bound stays
  /// reproducible; its schedule is still used.
  double module_time_limit_s = 30;
  /// false: closed-form pair bounds only (no module solve).
  bool solve_milps = true;
  /// false: no CBC at all; modules above bnb_max_ops, and those the branch and bound does not
  /// prove within its budget, keep their closed-form bounds (cheap, for bounds asked many times).
  bool milp_fallback = true;
  /// Whole-run limit (seconds, wall clock): past it no further MILP is started; the bound stays
  /// valid but may then depend on timing. Infinite for the certified bound policy.
  double time_limit_s = std::numeric_limits<double>::infinity();
  const std::atomic<bool>* interrupt = nullptr;
  std::function<void(const Progress&)> progress;
  /// Devices and start times per op of a feasible schedule: the schedule of every module
  /// that has no module solution (too large). May be empty (then no schedule is assembled).
  std::vector<int> fallback_device;
  std::vector<double> fallback_start;
};

struct SeriesDpResult {
  double bound = 0;           ///< lower bound on the latency of every schedule
  bool exact = false;         ///< every module on the argmin path solved to optimality
  std::vector<int> device;    ///< assembled schedule: device per op (empty when not assembled)
  std::vector<OpId> order;    ///< and a global priority order
  int modules = 0;
  int milp_solves = 0;        ///< CBC solves run
  int bnb_solves = 0;         ///< branch-and-bound solves run
  int bnb_proofs = 0;         ///< of which proved the module's optimum
  int reused = 0;             ///< module solves saved because an identical module was solved
  int unsolved_modules = 0;   ///< modules on the path without a proven optimum
  bool timed_out = false;     ///< stopped by time_limit_s or interrupt before the path was exact
  /// No wall-clock limit or interrupt changed the result: it is what the same problem and
  /// budgets always give, so it is kept and handed to the next call for the same problem.
  bool reproducible = true;
  bool from_cache = false;    ///< this result is a copy of an earlier run's (nothing solved now)
  std::string notes;
};

/// Runs the series DP. Throws InputError on inputs the MILP rejects as infeasible.
///
/// Computed once per problem: a method (`series-dp`, `split`) and the reported bound that
/// follows it in the same run (`reported_latency_bounds`) ask for the same DP. A reproducible
/// result is kept in a small process-wide cache keyed by everything the DP reads (op times,
/// transfers, releases, deliveries, memory, structure, the node and size budgets and the MILP
/// settings); a later call with the same key gets a copy (from_cache) instead of solving again,
/// unless it wants an assembled schedule (a fallback) that the copy lacks.
SeriesDpResult series_dp(const Problem& pb, const SeriesDpOptions& opt);

/// `--method series-dp`: the DP's assembled schedule, simulated; optimal when its makespan meets
/// the DP bound, otherwise polished by simulated annealing (status feasible unless it then meets
/// the bound).
Schedule series_dp_schedule(const Problem& pb, const SolveOptions& opt);

/// Relative tolerance under which a makespan "meets" a lower bound (solver tolerances).
constexpr double kOptimalityTolerance = 1e-6;
inline bool meets_bound(double makespan, double bound) {
  return bound > 0 && makespan <= bound * (1 + kOptimalityTolerance) + 1e-15;
}

}  // namespace diviml

// Simulator-driven local search over placement and order (docs/split.md, "polish").
//
// A schedule is a device per op and a global priority order (a linear extension of the
// precedence); its makespan is the execution model's as-soon-as-possible timing of that order,
// which is what the simulator computes (each device runs its ops in the global order). The search
// is simulated annealing with two moves: change one op's device, or move one op to another
// position between its last predecessor and its first successor. Ops on the current critical path
// are picked more often. One evaluation is O(V + E) without allocation, so a 100-op graph takes
// about a microsecond per move and the search tries millions of neighbours in a few seconds.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "problem/problem.h"
#include "solvers/solver.h"

namespace diviml {

struct LocalSearchResult {
  std::vector<int> device;
  std::vector<OpId> order;  ///< global priority order (a linear extension)
  double makespan = 0;      ///< as computed by the ASAP evaluation (= the simulator's)
  double start_makespan = 0;  ///< the same for the (device, order) the search started from
  long long moves = 0;      ///< neighbours evaluated
  long long improvements = 0;
  int cycles = 0;           ///< cooling cycles completed
};

struct LocalSearchOptions {
  double seconds = 1;
  uint64_t seed = 1;
  /// Stop after this many cooling cycles in a row without improvement (0: use all the time).
  int stale_cycles = 3;
  /// Independent chains run in parallel (seeds seed, seed+1, ...); the best is returned and
  /// `moves` sums over them.
  int threads = 1;
  /// Called about every 2 s with the best makespan and the moves so far (may be empty).
  std::function<void(double best, long long moves)> progress;
  const std::atomic<bool>* interrupt = nullptr;
};

/// Improves (device, order) by simulated annealing; never returns anything worse than the start.
/// `order` must be a linear extension of the precedence over all ops and every device valid.
LocalSearchResult local_search(const Problem& pb, const std::vector<int>& device, const std::vector<OpId>& order,
                               const LocalSearchOptions& opt);

/// `--method anneal`: the best list schedule (best_list_schedule) improved by local_search for
/// at most the time limit (it usually stops earlier, when cooling cycles stop improving).
Schedule anneal_schedule(const Problem& pb, const SolveOptions& opt);

}  // namespace diviml

// The best memory-feasible baseline (docs/memory.md): where every improving method (anneal,
// split, the MILP's warm start) starts, and the floor none of them may fall below. With tight
// memory the fastest list schedule may overflow a device while a slower one fits; starting from
// the overflowing one made anneal fail and split end worse than HEFT (issue 12.3).
#pragma once

#include <limits>
#include <string>

#include "schedule/schedule.h"

namespace diviml {

struct FeasibleBaseline {
  Schedule schedule;   ///< empty device vector when no baseline handles the instance
  std::string name;    ///< "heft", "peft+repair", "m-etf", ...
  double makespan = std::numeric_limits<double>::infinity();  ///< simulated
  bool fits_memory = false;  ///< false only when no baseline fits (the fastest one is kept)
};

/// The best list schedule (best_list_schedule) when it fits memory; otherwise the lowest simulated
/// makespan among fastest-device, HEFT, CPOP, PEFT, ETF (each repaired by repair_memory when it
/// overflows), m-ETF and m-TOPO that fit. Start times and claimed makespan are the simulator's.
/// Deterministic; never throws for an instance some baseline handles.
FeasibleBaseline best_feasible_baseline(const Problem& pb);

/// `s` when it fits memory (after repair_memory if needed) and is no slower than `base`;
/// otherwise base's schedule with `s`'s method and proven lower bound kept, status Heuristic and
/// a note saying why. For the improving methods: whatever happens, never worse than the baseline.
Schedule no_worse_than_baseline(const Problem& pb, Schedule s, const FeasibleBaseline& base);

}  // namespace diviml

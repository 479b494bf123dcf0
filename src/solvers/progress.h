// Progress reports of long-running solvers: the one type a backend (CBC) needs from the solver
// layer, so it does not depend on the method registry (solver.h).
#pragma once

#include <string>

namespace diviml {

/// A progress report from a long-running solver (printed on stderr by the CLI).
struct Progress {
  double elapsed_s = 0;
  double incumbent = 0;     ///< best makespan found so far (NaN: none yet)
  double bound = 0;         ///< best proven lower bound (NaN: none)
  double gap = 0;           ///< (incumbent - bound) / bound, as in every result (README "gap")
  long long nodes = 0;      ///< work done so far, counted in `counter` units
  std::string counter = "nodes";  ///< "nodes" (branch and bound) or "moves" (local search)
  std::string stage;        ///< e.g. "part 3/12"
};

}  // namespace diviml

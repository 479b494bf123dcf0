// Lower bounds on the latency of any schedule (DESIGN section 7).
#pragma once

#include <vector>

#include "solvers/solver.h"

namespace diviml {

struct LatencyBounds {
  double critical_path = 0;   ///< CP: longest path at fastest devices, no transfers
  double critical_path_comm = 0;  ///< CPc: longest path with devices, transfers and I/O (no contention)
  double load_balance = 0;    ///< W: fractional load-balance LP (CLP)
  double module_milp = 0;     ///< sum over series modules of each module's MILP bound (0 if not run)
  double decomposition = 0;   ///< sum over series modules of max(CP, W, MILP bound) of each module
                              ///< (tightened by a shortest path over the cut vertices' devices)
  double best = 0;            ///< max of the above: the certified lower bound
  int modules = 0;
};

struct BoundOptions {
  /// Seconds for the per-module MILP bounds (0: skip them; only CP/W per module).
  double milp_time_limit_s = 0;
  int threads = 1;
};

/// Every bound above; cheap when milp_time_limit_s == 0 (linear-ish in the graph).
LatencyBounds latency_lower_bounds(const Problem& pb, const BoundOptions& opt = {});

}  // namespace diviml

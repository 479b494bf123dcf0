// Upper bound on the throughput of any schedule (docs/throughput.md, "Bound"): the LP relaxation
// of the throughput MILP with R = 1 and the fractional load balance over devices. It sits with
// the other bounds (solvers/), above the metrics in schedule/throughput.h, which solve nothing.
#pragma once

#include <algorithm>
#include <limits>
#include <string>

#include "schedule/throughput.h"

namespace diviml {

/// Upper bound on throughput (lower bound on P / R) valid for every R and every schedule.
struct ThroughputBound {
  double load_balance = 0;   ///< fractional load balance over devices (no links), seconds per inference
  double lp = 0;             ///< fractional LP over devices, links (I/O included) and memory (0: not solved)
  double average = 0;        ///< closed form: sum_v min_k p[v][k] / K (fastest work spread over every device)
  double best = 0;           ///< max of the above: P / R >= best
  double max_op = 0;         ///< max_v min_k p[v][k]: P >= max_op for any R
  bool lp_complete = true;   ///< false: the LP with links did not finish in its time (best is the cheaper bound)
  std::string note;          ///< why the LP with links is missing, if it is
  double throughput_upper_per_s() const { return best > 0 ? 1 / best : std::numeric_limits<double>::infinity(); }
  /// Lower bound on the period P of any schedule with R replicas.
  double period_bound(int R) const { return std::max(R * best, max_op); }
};

struct ThroughputBoundOptions {
  double time_limit_s = 0;   ///< wall-clock limit for the LPs (0: none)
};

ThroughputBound throughput_bound(const Problem& pb, const ThroughputBoundOptions& o = {});
ThroughputBound throughput_bound(const ThroughputInstance& in, const ThroughputBoundOptions& o = {});

}  // namespace diviml

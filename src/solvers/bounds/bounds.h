// Lower bounds on the latency of any schedule (DESIGN section 7).
#pragma once

#include <atomic>
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
  double series_dp = 0;       ///< series DP over the modules' exact costs (docs/split.md section 4; 0 if not run)
  bool series_dp_exact = false;  ///< the series DP's value is the optimum (every module on its path proven)
  double best = 0;            ///< max of the above: the certified lower bound
  int modules = 0;
};

struct BoundOptions {
  /// Seconds for the per-module MILP bounds (0: skip them; only CP/W per module). Wall clock:
  /// such a bound can differ between runs; the series DP below does not.
  double milp_time_limit_s = 0;
  int threads = 1;
  /// The series DP with per-module MILPs under a CBC node budget (reproducible).
  bool series_dp = false;
  long long series_max_nodes = 20000;
  long long series_max_module_pairs = 400;
  /// false: the series DP's modules are solved by the branch and bound alone, under
  /// series_bnb_max_nodes (no CBC; what it does not prove keeps its closed-form bound).
  bool series_milp = true;
  long long series_bnb_max_nodes = 200000;
  const std::atomic<bool>* interrupt = nullptr;
};

/// Every bound above; cheap when milp_time_limit_s == 0 and !series_dp (linear-ish in the graph).
LatencyBounds latency_lower_bounds(const Problem& pb, const BoundOptions& opt = {});

/// How much bound a command computes (issue 12 items 5 and 10). Every value is reproducible:
/// no wall-clock budget feeds it.
enum class BoundLevel {
  None,    ///< no bound (--no-bound): lower_bound 0, gap unknown
  Cheap,   ///< closed-form bounds only: CP, CPc, W, decomposition (linear-ish, any size)
  Series,  ///< + the series DP, modules by the node-budgeted branch and bound (default; skipped, i.e. Cheap,
           ///<   above kSeriesBoundMaxOps ops, where it would dominate a fast solve)
};
constexpr int kSeriesBoundMaxOps = 3000;
/// The bound policy of `schedule`, `compare` and `bound`: one function, so every command reports
/// the same bound for the same input.
/// `extra_milp_time_s` > 0 adds the wall-clock per-module MILP bounds (not reproducible; on request).
LatencyBounds reported_latency_bounds(const Problem& pb, BoundLevel level = BoundLevel::Series, int threads = 1,
                                      double extra_milp_time_s = 0);

/// The status a schedule deserves given a certified bound: Optimal when its makespan meets the
/// bound (relative tolerance 1e-6), otherwise `status` unchanged.
SolveStatus certified_status(SolveStatus status, double makespan, double lower_bound);

/// The largest u such that every op time, transfer, input arrival and output delivery is an
/// integer multiple of u (integer task graphs), or 0 when there is none worth using. Every
/// schedule's latency is then a multiple of u, so a lower bound rounds up to it.
double common_time_unit(const Problem& pb);

/// Per device k, a window that holds every op any schedule runs on k: no op starts on k before
/// head[k] (the least earliest start over the ops k can run, with transfers and the inputs'
/// arrival from the I/O device) and after any op on k finishes the schedule lasts at least
/// tail[k] (the least, over those ops, of the cheapest rest of a path to the end: transfers,
/// later ops, the outputs' delivery). A device that runs anything is busy within
/// [head, latency - tail]. +inf for a device that can run no op.
struct DeviceWindows {
  std::vector<double> head, tail;
};
DeviceWindows device_windows(const Problem& pb);

/// Critical path at the fastest devices over `ops` (edges from outside the set ignored).
double module_critical_path(const Problem& pb, const std::vector<OpId>& ops);
/// Fractional load balance of `ops` (certified by weak duality).
double load_balance_bound(const Problem& pb, const std::vector<OpId>& ops);

}  // namespace diviml

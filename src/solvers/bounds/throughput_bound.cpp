// Throughput bound: see throughput_bound.h and docs/throughput.md.
#include "solvers/bounds/throughput_bound.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "solvers/milp/cbc_backend.h"
#include "solvers/throughput/throughput_model.h"

namespace diviml {

namespace {

/// The LP's optimum backed off by the tolerance to stay on the safe side; NaN when the LP did
/// not finish (time limit) — then it gives no bound.
double solve_lp_min(const milp::Model& m, double time_limit_s) {
  const double v = milp::lp_relaxation_value(m, time_limit_s);
  return std::isfinite(v) ? std::max(0.0, v * (1 - 1e-7)) : std::numeric_limits<double>::quiet_NaN();
}

/// The LP with links has a variable per tensor and device pair: on large clusters (dozens of
/// devices) it is too big to be worth solving, and the bound falls back to the device loads.
constexpr int kMaxBoundLpVars = 200000;

}  // namespace

ThroughputBound throughput_bound(const ThroughputInstance& in, const ThroughputBoundOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  auto left = [&] {
    if (opt.time_limit_s <= 0) return 0.0;  // no limit
    const double used = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return std::max(0.01, opt.time_limit_s - used);
  };
  ThroughputBound b;
  for (int v = 0; v < in.n; ++v) {
    double mn = kInf;
    for (int k = 0; k < in.K; ++k)
      if (in.weight[v] <= in.capacity[k]) mn = std::min(mn, in.exec(v, k));
    if (std::isfinite(mn)) b.max_op = std::max(b.max_op, mn);
  }
  // Closed form, always there: the fastest time of every op spread over all devices.
  double fastest_work = 0;
  for (int v = 0; v < in.n; ++v) {
    double mn = kInf;
    for (int k = 0; k < in.K; ++k) mn = std::min(mn, in.exec(v, k));
    if (std::isfinite(mn)) fastest_work += mn;
  }
  b.average = in.K > 0 ? fastest_work / in.K : 0;
  // Load balance without links (equal-finish water filling is the LP optimum): solved as an LP
  // too (memory rows), small (ops x devices). Without it there is only the per-op bound.
  ThroughputInstance nolink = in;
  nolink.tensors.clear();
  nolink.io = -1;
  nolink.io_activation = 0;
  ThroughputModelOptions o;
  o.relax = true;
  o.replicas = 1;
  o.symmetry = false;
  const double lb = solve_lp_min(build_throughput_model(nolink, o).model, opt.time_limit_s > 0 ? left() * 0.5 : 0);
  b.load_balance = std::isfinite(lb) ? lb : 0;
  // Building the LP with links is itself work (a row per consumer and device pair): skip it
  // when it could not be built and solved in the time left (about 5e4 rows per second).
  double pair_rows = 0;
  for (const auto& t : in.tensors) pair_rows += static_cast<double>(std::max<size_t>(1, t.consumers.size())) * in.K * in.K;
  if (opt.time_limit_s > 0 && pair_rows > 5e4 * left()) {
    b.lp_complete = false;
    b.note = fmt::format("LP with links skipped: about {:.3g} rows would not build and solve within {:.3g} s", pair_rows,
                         opt.time_limit_s);
    b.best = std::max({b.load_balance, b.average});
    return b;
  }
  const milp::Model with_links = build_throughput_model(in, o).model;
  if (with_links.num_vars() > kMaxBoundLpVars) {
    b.lp_complete = false;
    b.note = fmt::format("LP with links not solved ({} variables)", with_links.num_vars());
  } else {
    const double v = solve_lp_min(with_links, left());
    if (std::isfinite(v)) {
      b.lp = v;
    } else {
      b.lp_complete = false;
      b.note = opt.time_limit_s > 0 ? fmt::format("LP with links did not finish within {:.3g} s", opt.time_limit_s)
                                    : "LP with links not solved";
    }
  }
  b.best = std::max({b.load_balance, b.lp, b.average});
  return b;
}

ThroughputBound throughput_bound(const Problem& pb, const ThroughputBoundOptions& o) {
  return throughput_bound(ThroughputInstance::from_problem(pb), o);
}

}  // namespace diviml

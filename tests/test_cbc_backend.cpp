// The CBC backend's stop: an interrupt is obeyed inside CBC's root node (LP, cut passes,
// heuristics), not only at its next node event.
#include <atomic>
#include <cmath>
#include <ctime>
#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "solvers/milp/cbc_backend.h"

namespace diviml::milp {
namespace {

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

/// A random covering MILP (rows: sum of a few weighted integers >= rhs) whose root LP needs far
/// more simplex iterations than the test lets it run: minutes of processor time on any machine.
Model slow_root_model(int n, int per_row, unsigned seed) {
  Model m;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> coef(1, 10), cost(1, 100);
  std::uniform_int_distribution<int> col(0, n - 1);
  for (int j = 0; j < n; ++j) m.add_var("x" + std::to_string(j), 0, 10, true, cost(rng));
  for (int i = 0; i < n; ++i) {
    std::vector<Term> t;
    for (int k = 0; k < per_row; ++k) t.push_back({col(rng), coef(rng)});
    m.add_ge("r" + std::to_string(i), std::move(t), 5 * coef(rng));
  }
  return m;
}

/// Solves `m` and raises the interrupt from the progress reporter (CBC's other thread) at the
/// first report for which `when` holds; returns the processor seconds from then to the return.
struct Interrupted {
  MilpSolution solution;
  double cpu_after_stop = -1;  ///< processor seconds between raising the flag and the return
  Progress at;                 ///< the progress report at which the flag was raised
};
Interrupted solve_and_interrupt(const Model& m, const std::function<bool(const Progress&, double cpu)>& when) {
  std::atomic<bool> stop{false};
  std::atomic<double> raised_at{-1};
  Interrupted r;
  BackendOptions o;
  o.time_limit_s = 120;  // far beyond the test: without the stop the root alone runs on
  o.progress_interval_s = 0.05;
  o.interrupt = &stop;
  const double c0 = cpu_seconds();
  o.progress = [&](const Progress& p) {
    if (!stop && when(p, cpu_seconds() - c0)) {
      r.at = p;
      raised_at = cpu_seconds();
      stop = true;
    }
  };
  r.solution = make_cbc_backend()->solve(m, o);
  if (raised_at >= 0) r.cpu_after_stop = cpu_seconds() - raised_at;
  return r;
}

TEST(CbcBackend, InterruptStopsTheRootLp) {
  // 10,000 rows: the root LP alone takes tens of processor seconds; the flag comes after half a
  // second of it, before CBC's first node event (no bound known yet).
  const Model m = slow_root_model(10000, 8, 1);
  const Interrupted r = solve_and_interrupt(m, [](const Progress&, double cpu) { return cpu >= 0.5; });
  ASSERT_GE(r.cpu_after_stop, 0) << "the flag was never raised";
  EXPECT_TRUE(std::isnan(r.at.bound)) << "expected the flag during the root LP";
  EXPECT_LT(r.cpu_after_stop, 1.0);
  EXPECT_TRUE(r.solution.interrupted);
  // An LP cut short proves nothing: never "infeasible", and no bound CBC derived afterwards.
  EXPECT_EQ(r.solution.status, MilpStatus::NoSolution);
  EXPECT_FALSE(std::isfinite(r.solution.bound));
}

TEST(CbcBackend, InterruptStopsTheRootCutPassesAndKeepsTheIncumbent) {
  // 3,000 rows: the root LP takes about a second, then cut passes and heuristics run for many
  // more (seconds of processor time) before the first branch. The flag comes once the root LP's
  // bound is known.
  Model m = slow_root_model(3000, 8, 1);
  m.initial.assign(m.num_vars(), 10.0);  // every row >= 8 * 1 * 10 > rhs: feasible
  ASSERT_LE(m.max_violation(m.initial), 0);
  const double initial_obj = m.objective_value(m.initial);
  const Interrupted r =
      solve_and_interrupt(m, [](const Progress& p, double) { return std::isfinite(p.bound); });
  ASSERT_GE(r.cpu_after_stop, 0) << "the flag was never raised";
  SCOPED_TRACE("flag raised at node " + std::to_string(r.at.nodes));
  EXPECT_LT(r.cpu_after_stop, 1.0);
  EXPECT_TRUE(r.solution.interrupted);
  EXPECT_EQ(r.solution.status, MilpStatus::Feasible);
  ASSERT_EQ(r.solution.values.size(), m.initial.size());
  EXPECT_LE(m.max_violation(r.solution.values), 1e-6);
  EXPECT_LE(r.solution.objective, initial_obj * (1 + 1e-9));
  // The bound is the one known before the stop: valid, at most the incumbent.
  EXPECT_LE(r.solution.bound, r.solution.objective);
  EXPECT_GE(r.solution.bound, r.at.bound * (1 - 1e-9));
}

}  // namespace
}  // namespace diviml::milp

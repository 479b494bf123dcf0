// The exact branch and bound (src/solvers/exact/bnb.*, docs/exact.md) against exhaustive search.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include "brute_force.h"
#include "random_instances.h"
#include "schedule/simulator.h"
#include "solvers/exact/bnb.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/solver.h"

namespace diviml {
namespace {

using diviml::testing::BruteForceLatency;
using diviml::testing::random_dag;
using diviml::testing::random_platform;
using diviml::testing::random_problem;

double rel_diff(double a, double b) { return std::fabs(a - b) / std::max(1e-12, std::fabs(b)); }

BnbResult solve_all(const Problem& pb, long long max_nodes = -1, BnbSearch search = BnbSearch::Auto) {
  SolveOptions opt;
  opt.time_limit_s = 1e9;  // the tests never depend on the clock: node budgets only
  BnbRequest req;
  req.max_nodes = max_nodes;
  req.search = search;
  return solve_latency_bnb(pb, req, opt);
}

/// An I/O CPU d0 and three identical GPUs d1..d3 (same times, same links), so the B&B's
/// symmetry breaking is active, with transfers between every pair.
std::shared_ptr<Problem> identical_gpus_problem(int n, uint64_t seed) {
  auto g = random_dag(n, 0.35, 4, seed);
  for (Op& op : g->ops) {
    op.device_times["d2"] = op.device_times["d1"];
    op.device_times["d3"] = op.device_times["d1"];
  }
  auto p = diviml::testing::test_devices(4, "cpu_and_3_identical_gpus");
  for (int b = 1; b < 4; ++b) p->links.push_back(Link{0, b, 2.0, 0.5});
  for (int a = 1; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b) p->links.push_back(Link{a, b, 1.0, 0.25});
  p->validate();
  return std::make_shared<Problem>(g, p);
}

TEST(Exact, MatchesBruteForceOnTinyRandomInstances) {
  int checked = 0;
  for (uint64_t seed = 1; seed <= 36; ++seed) {
    const int n = 5 + static_cast<int>(seed % 3);
    const int K = 2 + static_cast<int>(seed % 2);
    auto pb = random_problem(n, 0.3 + 0.05 * static_cast<double>(seed % 4), K, seed, /*with_io=*/seed % 3 != 0);
    BruteForceLatency bf(*pb);
    const double opt = bf.solve();
    for (BnbSearch search : {BnbSearch::Schedule, BnbSearch::AllocationFirst}) {
      const BnbResult r = solve_all(*pb, -1, search);
      ASSERT_TRUE(r.found) << "seed " << seed;
      EXPECT_EQ(r.status, SolveStatus::Optimal) << "seed " << seed;
      EXPECT_LT(rel_diff(r.objective, opt), 1e-9) << "seed " << seed << ": bnb " << r.objective << " vs " << opt;
      EXPECT_LT(rel_diff(r.bound, opt), 1e-9) << "seed " << seed;
      // The search's objective is the simulator's makespan of the schedule it returns.
      const LatencyResult sim = simulate_latency(*pb, schedule_from_order(*pb, r.device, r.order));
      EXPECT_LT(rel_diff(sim.makespan, r.objective), 1e-9) << "seed " << seed;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 36);
}

TEST(Exact, MethodThroughRegistryIsOptimalAndSimulated) {
  for (uint64_t seed = 40; seed <= 45; ++seed) {
    auto pb = random_problem(6, 0.4, 3, seed);
    BruteForceLatency bf(*pb);
    const double opt = bf.solve();
    SolveOptions so;
    so.time_limit_s = 1e9;  // anneal stops on convergence; the search completes on 6 ops
    so.seed = seed;
    const Schedule s = solve_latency(*pb, "bnb", so);
    const LatencyResult sim = simulate_latency(*pb, s);
    EXPECT_EQ(s.status, SolveStatus::Optimal);
    EXPECT_LT(rel_diff(sim.makespan, opt), 1e-9) << "seed " << seed;
    EXPECT_LT(rel_diff(s.claimed_makespan, sim.makespan), 1e-12);
    EXPECT_LT(rel_diff(s.lower_bound, opt), 1e-9);
  }
}

TEST(Exact, BoundBelowOptimumBelowEverySchedule) {
  for (uint64_t seed = 50; seed <= 70; ++seed) {
    auto pb = random_problem(7, 0.35, 3, seed, seed % 2 == 0);
    BruteForceLatency bf(*pb);
    const double opt = bf.solve();
    for (long long budget : {0LL, 1LL, 5LL, 40LL, 400LL})
      for (BnbSearch search : {BnbSearch::Schedule, BnbSearch::AllocationFirst}) {
      const BnbResult r = solve_all(*pb, budget, search);
      EXPECT_LE(r.bound, opt * (1 + 1e-9)) << "seed " << seed << " budget " << budget;
      if (r.found) {
        EXPECT_GE(r.objective, opt * (1 - 1e-9)) << "seed " << seed;
      }
      if (r.status == SolveStatus::Optimal) {
        EXPECT_LT(rel_diff(r.objective, opt), 1e-9);
      } else {
        EXPECT_EQ(r.status, SolveStatus::Feasible);
      }
    }
    for (const Schedule& s : {heft_schedule(*pb), etf_schedule(*pb), peft_schedule(*pb)})
      EXPECT_GE(simulate_latency(*pb, s).makespan, opt * (1 - 1e-9)) << "seed " << seed;
  }
}

TEST(Exact, SymmetryBreakingKeepsTheOptimum) {
  for (uint64_t seed = 80; seed <= 91; ++seed) {
    auto pb = identical_gpus_problem(6, seed);
    const auto classes = pb->identical_device_classes();
    bool has_three = false;
    for (const auto& c : classes) has_three = has_three || c.size() == 3;
    ASSERT_TRUE(has_three) << "the three GPUs must be interchangeable";
    BruteForceLatency bf(*pb);
    const double opt = bf.solve();
    for (BnbSearch search : {BnbSearch::Schedule, BnbSearch::AllocationFirst}) {
      const BnbResult r = solve_all(*pb, -1, search);
      EXPECT_EQ(r.status, SolveStatus::Optimal);
      EXPECT_LT(rel_diff(r.objective, opt), 1e-9) << "seed " << seed << ": " << r.objective << " vs " << opt;
    }
  }
  // Identical processors with free communication (task graphs on identical:N).
  for (uint64_t seed = 92; seed <= 97; ++seed) {
    auto g = random_dag(7, 0.3, 1, seed);
    for (Op& op : g->ops) {
      const double t = op.device_times.at("d0");
      op.device_times.clear();
      op.flops = std::round(t);
    }
    auto plat = std::make_shared<Platform>(make_identical_platform(3));
    Problem pb(g, plat);
    BruteForceLatency bf(pb);
    const double opt = bf.solve();
    for (BnbSearch search : {BnbSearch::Schedule, BnbSearch::AllocationFirst}) {
      const BnbResult r = solve_all(pb, -1, search);
      EXPECT_EQ(r.status, SolveStatus::Optimal);
      EXPECT_LT(rel_diff(r.objective, opt), 1e-9) << "seed " << seed;
    }
  }
}

TEST(Exact, InterruptAndTimeLimitReturnValidScheduleNotOptimal) {
  auto pb = random_problem(40, 0.12, 3, 123);
  std::atomic<bool> stop{true};
  SolveOptions so;
  so.time_limit_s = 60;
  so.interrupt = &stop;
  const Schedule a = solve_latency(*pb, "bnb", so);
  EXPECT_NO_THROW(simulate_latency(*pb, a));
  EXPECT_NE(a.status, SolveStatus::Optimal);
  EXPECT_LE(a.lower_bound, simulate_latency(*pb, a).makespan);

  SolveOptions tl;
  tl.time_limit_s = 0;
  const Schedule b = solve_latency(*pb, "bnb", tl);
  EXPECT_NO_THROW(simulate_latency(*pb, b));
  EXPECT_NE(b.status, SolveStatus::Optimal);
  EXPECT_LE(b.lower_bound, simulate_latency(*pb, b).makespan);
}

TEST(Exact, SubsetWithFixedPrefixCompletesTheSchedule) {
  for (uint64_t seed = 130; seed <= 137; ++seed) {
    auto pb = random_problem(8, 0.35, 2, seed);
    const Graph& g = pb->graph();
    const auto& topo = g.topo_order();
    // HEFT's devices in topological order: the prefix's times do not depend on the rest.
    const Schedule h = schedule_from_order(*pb, heft_schedule(*pb).device, topo);
    const LatencyResult hs = simulate_latency(*pb, h);
    // Fix the first half of the topological order at HEFT's devices and times.
    FixedContext fx;
    fx.device.assign(g.num_ops(), -1);
    fx.finish.assign(g.num_ops(), 0);
    fx.device_free.assign(pb->num_devices(), 0);
    std::vector<OpId> rest;
    for (size_t i = 0; i < topo.size(); ++i) {
      const OpId v = topo[i];
      if (i < topo.size() / 2) {
        fx.device[v] = h.device[v];
        fx.finish[v] = hs.finish[v];
        fx.device_free[h.device[v]] = std::max(fx.device_free[h.device[v]], hs.finish[v]);
      } else {
        rest.push_back(v);
      }
    }
    BnbRequest req;
    req.ops = rest;
    req.fixed = &fx;
    SolveOptions so;
    so.time_limit_s = 1e9;
    const BnbResult r = solve_latency_bnb(*pb, req, so);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.status, SolveStatus::Optimal);
    // Prefix (HEFT's devices, in its start order) + the subset's order, simulated whole.
    std::vector<int> dev = r.device;
    std::vector<OpId> order;
    for (size_t i = 0; i < topo.size() / 2; ++i) dev[topo[i]] = h.device[topo[i]];
    std::vector<OpId> prefix(topo.begin(), topo.begin() + static_cast<long>(topo.size() / 2));
    order = linear_extension(g, prefix, hs.start);
    for (OpId v : r.order) order.push_back(v);
    const LatencyResult whole = simulate_latency(*pb, schedule_from_order(*pb, dev, order));
    for (OpId v : rest) EXPECT_NEAR(whole.start[v], r.start[v], 1e-9) << "seed " << seed;
    // No worse than the base schedule's own completion of the same prefix.
    double heft_rest = 0;
    for (OpId v : rest) {
      double end = hs.finish[v];
      for (TensorId t : g.ops[v].outputs)
        if (g.tensors[t].is_graph_output) end = std::max(end, hs.finish[v] + pb->output_delivery(t, h.device[v]));
      heft_rest = std::max(heft_rest, end);
    }
    EXPECT_LE(r.objective, heft_rest * (1 + 1e-9)) << "seed " << seed;
  }
}

}  // namespace
}  // namespace diviml

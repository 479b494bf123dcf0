// Lower bounds (DESIGN section 7): valid on brute-forced tiny instances and below every schedule.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "brute_force.h"
#include "random_instances.h"
#include "schedule/simulator.h"
#include "solvers/bounds/bounds.h"
#include "solvers/bounds/certified_lp.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/milp/latency_milp.h"
#include "solvers/split/split.h"

namespace diviml {
namespace {

using testing::brute_force_optimum;

std::vector<Schedule> baseline_schedules(const Problem& pb) {
  std::vector<Schedule> out;
  for (auto fn : {fastest_device_schedule, heft_schedule, cpop_schedule, peft_schedule, etf_schedule}) {
    try {
      out.push_back(fn(pb));
    } catch (const std::exception&) {
    }
  }
  out.push_back(random_schedule(pb, 7));
  return out;
}

TEST(BoundBruteForce, BelowOptimumOnTinyInstances) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const int n = 5 + static_cast<int>(seed % 2);
    const int K = 2 + static_cast<int>(seed % 2);
    auto pb = testing::random_problem(n, 0.4, K, seed, seed % 3 != 0);
    const double opt = brute_force_optimum(*pb);
    BoundOptions bo;
    bo.milp_time_limit_s = 5;
    const LatencyBounds lb = latency_lower_bounds(*pb, bo);
    const double tol = 1e-9 * opt;
    EXPECT_LE(lb.critical_path, opt + tol) << "seed " << seed;
    EXPECT_LE(lb.critical_path_comm, opt + tol) << "seed " << seed;
    EXPECT_LE(lb.load_balance, opt + tol) << "seed " << seed;
    EXPECT_LE(lb.module_milp, opt + tol) << "seed " << seed;
    EXPECT_LE(lb.decomposition, opt + tol) << "seed " << seed;
    EXPECT_LE(lb.best, opt + tol) << "seed " << seed;
    EXPECT_GT(lb.best, 0);
    EXPECT_GT(lb.module_milp, 0) << "seed " << seed;  // the module MILPs ran and bound something
    BoundOptions dp;
    dp.series_dp = true;
    const LatencyBounds sdp = latency_lower_bounds(*pb, dp);
    EXPECT_LE(sdp.series_dp, opt + tol) << "seed " << seed;
    EXPECT_GE(sdp.series_dp, sdp.decomposition * (1 - 1e-6)) << "seed " << seed;  // exact arcs >= closed forms
    // The MILP on the whole instance proves the brute-force optimum.
    SolveOptions so;
    so.time_limit_s = 30;
    const Schedule m = milp_schedule(*pb, so);
    const double ms = simulate_latency(*pb, m).makespan;
    EXPECT_GE(ms, opt - tol) << "seed " << seed;
    EXPECT_EQ(m.status, SolveStatus::Optimal) << "seed " << seed;  // 5-6 ops: proven at the root
    EXPECT_NEAR(ms, opt, 1e-6 * opt) << "seed " << seed;
  }
}

TEST(BoundRandomGraphs, BelowEverySchedule) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const int n = 15 + static_cast<int>(seed * 3);
    auto pb = testing::random_problem(n, 0.15, 3, seed, seed % 4 != 0);
    BoundOptions bo;
    bo.milp_time_limit_s = seed <= 3 ? 2 : 0;
    const LatencyBounds lb = latency_lower_bounds(*pb, bo);
    EXPECT_DOUBLE_EQ(lb.critical_path, critical_path_fastest(*pb));
    EXPECT_GE(lb.modules, 1);
    BoundOptions dp;
    dp.series_dp = true;
    dp.series_max_nodes = 300;         // keeps the test fast; any budget gives a valid bound
    dp.series_max_module_pairs = 60;
    const LatencyBounds sdp = latency_lower_bounds(*pb, dp);
    for (const Schedule& s : baseline_schedules(*pb)) {
      const double ms = simulate_latency(*pb, s).makespan;
      EXPECT_LE(lb.best, ms * (1 + 1e-9)) << "seed " << seed << " method " << s.method;
      EXPECT_LE(sdp.best, ms * (1 + 1e-9)) << "seed " << seed << " method " << s.method;
    }
  }
}

// Every op a schedule runs on device k starts at or after head[k], and the schedule lasts at
// least tail[k] after it finishes (random graphs with I/O, every baseline schedule).
TEST(DeviceWindows, HoldEveryScheduledOp) {
  int checked = 0, positive = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    auto pb = testing::random_problem(10 + static_cast<int>(seed), 0.25, 2 + static_cast<int>(seed % 3), seed,
                                      /*with_io=*/seed % 4 != 0);
    const DeviceWindows w = device_windows(*pb);
    for (int k = 0; k < pb->num_devices(); ++k) positive += (w.head[k] > 0) + (w.tail[k] > 0);
    for (const Schedule& s : baseline_schedules(*pb)) {
      const LatencyResult r = simulate_latency(*pb, s);
      for (OpId v = 0; v < pb->num_ops(); ++v) {
        const int k = s.device[v];
        EXPECT_GE(r.start[v], w.head[k] * (1 - 1e-9)) << "seed " << seed << " op " << v;
        EXPECT_GE(r.makespan - r.finish[v], w.tail[k] * (1 - 1e-9) - 1e-12) << "seed " << seed << " op " << v;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500);
  EXPECT_GT(positive, 20);  // the windows are not all the trivial 0
}

TEST(BoundChain, DecompositionIsExactOnAChain) {
  // On a chain every op is a cut vertex; the device DP over cut vertices is a shortest path
  // over placements, which is the optimum (no two ops can overlap).
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto pb = testing::random_problem(6, 0.0, 3, seed, true);
    // random_dag with p = 0 has no edges; build a chain instead.
    auto g = std::make_shared<Graph>();
    const Graph& src = pb->graph();
    for (int i = 0; i < 6; ++i) g->add_op(src.ops[i]);
    for (auto& op : g->ops) {
      op.inputs.clear();
      op.outputs.clear();
    }
    Tensor in;
    in.name = "in";
    in.bytes = 3;
    g->ops[0].inputs.push_back(g->add_tensor(in));
    for (int i = 0; i < 6; ++i) {
      Tensor t;
      t.name = "t" + std::to_string(i);
      t.bytes = 1 + i;
      t.producer = i;
      t.is_graph_output = i == 5;
      const TensorId id = g->add_tensor(t);
      g->ops[i].outputs.push_back(id);
      if (i + 1 < 6) g->ops[i + 1].inputs.push_back(id);
    }
    g->finalize();
    Problem chain(g, pb->platform_ptr());
    const double opt = brute_force_optimum(chain);
    const LatencyBounds lb = latency_lower_bounds(chain);
    EXPECT_EQ(lb.modules, 6);
    EXPECT_NEAR(lb.decomposition, opt, 1e-9 * opt) << "seed " << seed;
    EXPECT_NEAR(lb.critical_path_comm, opt, 1e-9 * opt) << "seed " << seed;
  }
}

TEST(BoundLoadBalance, IdenticalDevicesGiveAverageLoad) {
  auto g = std::make_shared<Graph>();
  double total = 0;
  for (int i = 0; i < 10; ++i) {
    Op op;
    op.name = "v" + std::to_string(i);
    op.type = "task";
    op.flops = 1 + i;
    total += op.flops;
    Tensor t;
    t.name = "t" + std::to_string(i);
    t.is_graph_output = true;
    t.producer = i;
    op.outputs.push_back(static_cast<TensorId>(i));
    g->add_op(op);
  }
  for (int i = 0; i < 10; ++i) {
    Tensor t;
    t.name = "t" + std::to_string(i);
    t.is_graph_output = true;
    t.producer = i;
    g->add_tensor(t);
  }
  g->finalize();
  auto plat = std::make_shared<Platform>(make_identical_platform(4));
  Problem pb(g, plat);
  const LatencyBounds lb = latency_lower_bounds(pb);
  const double u = pb.exec(0, 0);  // op 0 has 1 flop: every time is a multiple of it
  EXPECT_NEAR(lb.load_balance, total / 4 * u, 1e-9 * total * u);
  // 13.75 units of load per device, but every latency is a whole number of units.
  EXPECT_NEAR(common_time_unit(pb), u, 1e-12 * u);
  EXPECT_NEAR(lb.best, 14 * u, 1e-9 * total * u);
}

TEST(BoundSplitAndMilp, BoundBelowSplitAndMilp) {
  for (uint64_t seed = 21; seed <= 24; ++seed) {
    auto pb = testing::random_problem(18, 0.2, 3, seed, true);
    const LatencyBounds lb = latency_lower_bounds(*pb, BoundOptions{1.0, 1});
    SolveOptions so;
    so.time_limit_s = 4;
    so.max_part_pairs = 15;
    const Schedule s = split_schedule(*pb, so);
    EXPECT_LE(lb.best, simulate_latency(*pb, s).makespan * (1 + 1e-9));
    so.time_limit_s = 4;
    const Schedule m = milp_schedule(*pb, so);
    EXPECT_LE(lb.best, simulate_latency(*pb, m).makespan * (1 + 1e-9));
    EXPECT_LE(m.lower_bound, simulate_latency(*pb, s).makespan * (1 + 1e-9));
  }
}

}  // namespace
}  // namespace diviml

namespace diviml {

// The certified LP value is the LP's minimum (to rounding) and never above it, whatever the
// solver's duals: min x + y s.t. x + 2y >= 2, 3x + y >= 3, 0 <= x, y <= 10 is 1.4 at (0.8, 0.6).
TEST(CertifiedLp, ValueIsTheMinimumAndNeverAbove) {
  BoxedLp lp;
  const int x = lp.add_col(0, 10, 1), y = lp.add_col(0, 10, 1);
  lp.add_row(2, kInf, {{x, 1}, {y, 2}});
  const int r = lp.add_row(3, kInf, {{x, 3}, {y, 1}});
  const double v = lp.certified_min();
  EXPECT_LE(v, 1.4 + 1e-12);
  EXPECT_NEAR(v, 1.4, 1e-9);
  // Tighten a row and change a coefficient: 3x + y >= 6 -> x + 2y = 2, 3x + y = 6 -> (2, 0): 2.
  lp.set_row_bounds(r, 6, kInf);
  EXPECT_NEAR(lp.certified_min(), 2.0, 1e-9);
  lp.set_coef(r, y, 3);  // 3x + 3y >= 6: x + y >= 2
  EXPECT_NEAR(lp.certified_min(), 2.0, 1e-9);
  // Infeasible (x + y <= 1 against x + y >= 2): no certificate, -inf, never a finite claim.
  lp.add_row(-kInf, 1, {{x, 1}, {y, 1}});
  EXPECT_EQ(lp.certified_min(), -kInf);
  EXPECT_THROW(lp.add_col(0, kInf, 1), std::logic_error);
}

}  // namespace diviml

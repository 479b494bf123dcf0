// The series DP (docs/split.md section 4a): exact on series-parallel graphs where its
// preconditions hold, a valid bound everywhere, and never `optimal` without a certificate.
#include <gtest/gtest.h>

#include <random>

#include "brute_force.h"
#include "frontend/generators.h"
#include "graph/series.h"
#include "platform/platform.h"
#include "report/latency_report.h"
#include "random_instances.h"
#include "schedule/simulator.h"
#include "solvers/bounds/bounds.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/split/series_dp.h"
#include "solvers/split/split.h"

namespace diviml {
namespace {

struct SpOptions {
  int K = 2;
  int max_ops = 7;
  bool deep_input = true;    ///< a graph input read by an op of a later module
  bool early_output = true;  ///< a graph output written inside a middle module
  double weight = 0;         ///< weight bytes per op (memory tests)
};

/// Random series-parallel graph: a source, then modules of 1-2 parallel branches of 1-2 ops
/// joined by a cut vertex, with transfers (random bytes) and the I/O device of random_platform.
std::shared_ptr<Problem> series_parallel_problem(uint64_t seed, const SpOptions& o) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> time(1.0, 10.0), bytes(0.0, 6.0), coin(0.0, 1.0);
  auto g = std::make_shared<Graph>();
  g->name = "sp_" + std::to_string(seed);
  auto add_op = [&](const std::string& name) {
    Op op;
    op.name = name;
    op.type = "task";
    op.weight_bytes = o.weight;
    for (int d = 0; d < o.K; ++d) op.device_times["d" + std::to_string(d)] = time(rng);
    return g->add_op(std::move(op));
  };
  auto out_of = [&](OpId v) {
    Tensor t;
    t.name = g->ops[v].name + "_out";
    t.bytes = bytes(rng);
    t.producer = v;
    const TensorId id = g->add_tensor(t);
    g->ops[v].outputs.push_back(id);
    return id;
  };
  Tensor in;
  in.name = "in";
  in.bytes = bytes(rng);
  const TensorId in_id = g->add_tensor(in);
  Tensor mask;
  mask.name = "mask";
  mask.bytes = 4 + bytes(rng);
  const TensorId mask_id = o.deep_input ? g->add_tensor(mask) : -1;
  bool mask_used = false;
  OpId prev = add_op("s");
  g->ops[prev].inputs.push_back(in_id);
  TensorId prev_out = out_of(prev);
  int ops = 1;
  while (ops + 2 <= o.max_ops) {
    const int width = (coin(rng) < 0.6 && ops + 3 <= o.max_ops) ? 2 : 1;
    std::vector<TensorId> ends;
    for (int b = 0; b < width; ++b) {
      const int len = (coin(rng) < 0.3 && ops + width + 2 <= o.max_ops) ? 2 : 1;
      TensorId cur = prev_out;
      for (int l = 0; l < len; ++l) {
        const OpId v = add_op("m" + std::to_string(ops));
        ++ops;
        g->ops[v].inputs.push_back(cur);
        if (o.deep_input && !mask_used && ops > 2 && coin(rng) < 0.5) {
          g->ops[v].inputs.push_back(mask_id);
          mask_used = true;
        }
        cur = out_of(v);
        if (o.early_output && coin(rng) < 0.15) {
          Tensor e;
          e.name = g->ops[v].name + "_early";
          e.bytes = bytes(rng);
          e.producer = v;
          e.is_graph_output = true;
          g->ops[v].outputs.push_back(g->add_tensor(e));
        }
      }
      ends.push_back(cur);
    }
    const OpId c = add_op("c" + std::to_string(ops));
    ++ops;
    for (TensorId t : ends) g->ops[c].inputs.push_back(t);
    prev = c;
    prev_out = out_of(c);
  }
  if (o.deep_input && !mask_used) g->ops[prev].inputs.push_back(mask_id);
  g->tensors[prev_out].is_graph_output = true;
  g->finalize();
  return std::make_shared<Problem>(g, testing::random_platform(o.K, seed, true));
}

SolveOptions quick() {
  SolveOptions so;
  so.time_limit_s = 5;
  return so;
}

TEST(SeriesDp, EqualsExhaustiveSearchOnSeriesParallelGraphs) {
  int exact = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    SpOptions o;
    o.K = seed % 3 == 0 ? 3 : 2;
    o.max_ops = o.K == 3 ? 6 : 7;
    auto pb = series_parallel_problem(seed, o);
    ASSERT_GE(series_decomposition(pb->graph()).modules.size(), 2u) << "seed " << seed;
    const double opt = testing::brute_force_optimum(*pb);
    const SeriesDpResult r = series_dp(*pb, SeriesDpOptions{});
    const double tol = 1e-7 * opt;
    EXPECT_LE(r.bound, opt + tol) << "seed " << seed;
    const Schedule s = series_dp_schedule(*pb, quick());
    const double ms = simulate_latency(*pb, s).makespan;
    EXPECT_GE(ms, opt - tol) << "seed " << seed;
    EXPECT_LE(s.lower_bound, opt + tol) << "seed " << seed;
    // Exactness: every module is tiny (always proven), and an early graph output is the only
    // precondition these instances can break (docs/split.md section 4a, (c)); otherwise the DP
    // value is the optimum.
    if (r.exact && meets_bound(ms, r.bound)) {
      ++exact;
      EXPECT_NEAR(r.bound, opt, 1e-6 * opt) << "seed " << seed;
    }
    if (s.status == SolveStatus::Optimal) {
      EXPECT_NEAR(ms, opt, 1e-6 * opt) << "seed " << seed;
    }
    EXPECT_EQ(s.status == SolveStatus::Optimal, meets_bound(ms, s.lower_bound)) << "seed " << seed;
    // bound <= optimum <= every schedule
    for (auto fn : {heft_schedule, peft_schedule, etf_schedule}) {
      const double b = simulate_latency(*pb, fn(*pb)).makespan;
      EXPECT_LE(r.bound, b * (1 + 1e-9)) << "seed " << seed;
    }
  }
  // Without early outputs the DP is exact on every instance; with them on most.
  EXPECT_GE(exact, 18);
}

TEST(SeriesDp, BranchAndBoundAndMilpGiveTheSameExactDp) {
  // Modules go to the branch and bound first, to the MILP where it gives up (node budget 1 here)
  // and to the MILP alone when it is off: the DP value must not depend on which proved them.
  for (uint64_t seed = 31; seed <= 42; ++seed) {
    SpOptions o;
    o.K = seed % 2 ? 3 : 2;
    o.max_ops = 6;
    auto pb = series_parallel_problem(seed, o);
    const double opt = testing::brute_force_optimum(*pb);
    SeriesDpOptions with_bnb, milp_only, bnb_gives_up;
    milp_only.bnb_max_nodes = 0;
    bnb_gives_up.bnb_max_nodes = 1;
    const SeriesDpResult a = series_dp(*pb, with_bnb);
    const SeriesDpResult b = series_dp(*pb, milp_only);
    const SeriesDpResult c = series_dp(*pb, bnb_gives_up);
    EXPECT_FALSE(b.from_cache || c.from_cache) << "the budgets are part of the cache key";
    for (const SeriesDpResult* r : {&a, &b, &c}) {
      EXPECT_LE(r->bound, opt * (1 + 1e-7)) << "seed " << seed;
      EXPECT_TRUE(r->exact) << "seed " << seed;
      EXPECT_NEAR(r->bound, a.bound, 1e-7 * a.bound) << "seed " << seed;
    }
    if (a.from_cache) continue;
    if (b.milp_solves == 0) {  // every module a path: closed-form DP, no solver involved
      EXPECT_EQ(a.bnb_solves, 0) << "seed " << seed;
      continue;
    }
    EXPECT_GT(a.bnb_proofs, 0) << "seed " << seed;
    EXPECT_EQ(a.bnb_proofs, a.bnb_solves) << "tiny modules are always proven, seed " << seed;
    EXPECT_EQ(b.bnb_solves, 0) << "seed " << seed;
    EXPECT_GT(b.milp_solves, 0) << "seed " << seed;
    EXPECT_GT(c.milp_solves, 0) << "the MILP takes over where the search gives up, seed " << seed;
  }
}

TEST(SeriesDp, ExactWithoutEarlyOutputs) {
  for (uint64_t seed = 101; seed <= 112; ++seed) {
    SpOptions o;
    o.early_output = false;
    auto pb = series_parallel_problem(seed, o);
    const double opt = testing::brute_force_optimum(*pb);
    const Schedule s = series_dp_schedule(*pb, quick());
    EXPECT_EQ(s.status, SolveStatus::Optimal) << "seed " << seed << ": " << s.notes;
    EXPECT_NEAR(simulate_latency(*pb, s).makespan, opt, 1e-6 * opt) << "seed " << seed;
  }
}

TEST(SeriesDp, DeepGraphInputCountsAsAlreadySent) {
  // A large graph input read by the last module: charging its full arrival at that module's
  // start would overshoot; the DP must stay a bound and match the optimum.
  for (uint64_t seed = 201; seed <= 206; ++seed) {
    SpOptions o;
    o.early_output = false;
    auto pb = series_parallel_problem(seed, o);
    const double opt = testing::brute_force_optimum(*pb);
    const SeriesDpResult r = series_dp(*pb, SeriesDpOptions{});
    EXPECT_LE(r.bound, opt * (1 + 1e-7)) << "seed " << seed;
    EXPECT_TRUE(r.exact) << "seed " << seed;
  }
}

TEST(SeriesDp, NoOptimalClaimWhenMemoryBinds) {
  // Each op weighs 100 bytes and d0 holds only two: the modules, solved with the full
  // memory each, want more than fits. Whatever comes back, `optimal` must be backed by the
  // memory-feasible optimum, and the bound must stay below it.
  int claimed = 0, checked = 0;
  for (uint64_t seed = 301; seed <= 310; ++seed) {
    SpOptions o;
    o.early_output = false;
    o.weight = 100;
    auto pb0 = series_parallel_problem(seed, o);
    auto plat = std::make_shared<Platform>(pb0->platform());
    const int n = pb0->num_ops();
    plat->devices[0].memory_bytes = 250;  // d0 (also the I/O device): 2 ops' weights + activations
    plat->devices[1].memory_bytes = 100.0 * n + 1000;  // d1 fits all
    Problem pb(pb0->graph_ptr(), plat);
    const double opt_mem = testing::brute_force_optimum(pb, true);
    ASSERT_TRUE(std::isfinite(opt_mem));
    const SeriesDpResult r = series_dp(pb, SeriesDpOptions{});
    EXPECT_LE(r.bound, opt_mem * (1 + 1e-7)) << "seed " << seed;
    const Schedule s = series_dp_schedule(pb, quick());
    const LatencyResult sim = simulate_latency(pb, s);
    EXPECT_TRUE(sim.memory_violations.empty()) << "seed " << seed;
    EXPECT_GE(sim.makespan, opt_mem * (1 - 1e-7)) << "seed " << seed;
    if (s.status == SolveStatus::Optimal) {
      ++claimed;
      EXPECT_NEAR(sim.makespan, opt_mem, 1e-6 * opt_mem) << "seed " << seed;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 10);
  (void)claimed;
}

TEST(SeriesDp, BoundHoldsUnderLinkContention) {
  // With link contention every transfer can only be later: the DP stays below the contention
  // optimum, and below every schedule simulated with contention.
  for (uint64_t seed = 401; seed <= 408; ++seed) {
    SpOptions o;
    auto pb = series_parallel_problem(seed, o);
    SimOptions c;
    c.contention = true;
    const double opt_c = testing::brute_force_optimum(*pb, false, c);
    const SeriesDpResult r = series_dp(*pb, SeriesDpOptions{});
    EXPECT_LE(r.bound, opt_c * (1 + 1e-7)) << "seed " << seed;
    const Schedule s = series_dp_schedule(*pb, quick());
    EXPECT_LE(r.bound, simulate_latency(*pb, s, c).makespan * (1 + 1e-7)) << "seed " << seed;
  }
}

TEST(SeriesDp, IdenticalModulesAreSolvedOnce) {
  // A chain of identical diamonds: every module after the first has the same signature, so
  // the number of CBC solves does not grow with the number of modules.
  auto make = [](int blocks) {
    auto g = std::make_shared<Graph>();
    g->name = "diamonds";
    auto add = [&](const std::string& name, double t0, double t1) {
      Op op;
      op.name = name;
      op.type = "task";
      op.device_times["d0"] = t0;
      op.device_times["d1"] = t1;
      return g->add_op(std::move(op));
    };
    auto out = [&](OpId v) {
      const TensorId id = g->add_tensor(testing::test_tensor(g->ops[v].name + "_o", 2));
      g->tensors[id].producer = v;
      g->ops[v].outputs.push_back(id);
      return id;
    };
    OpId s = add("s", 1, 2);
    g->ops[s].inputs.push_back(g->add_tensor(testing::test_tensor("in", 1)));
    TensorId prev = out(s);
    for (int b = 0; b < blocks; ++b) {
      const std::string p = "b" + std::to_string(b);
      const OpId l = add(p + "l", 3, 2), r = add(p + "r", 2, 5), j = add(p + "j", 1, 1);
      g->ops[l].inputs.push_back(prev);
      g->ops[r].inputs.push_back(prev);
      const TensorId lo = out(l), ro = out(r);
      g->ops[j].inputs = {lo, ro};
      prev = out(j);
    }
    g->tensors[prev].is_graph_output = true;
    g->finalize();
    return std::make_shared<Problem>(g, testing::random_platform(2, 5, true));
  };
  const SeriesDpResult r3 = series_dp(*make(3), SeriesDpOptions{});
  const auto pb12 = make(12);
  const SeriesDpResult r12 = series_dp(*pb12, SeriesDpOptions{});
  EXPECT_TRUE(r3.exact);
  EXPECT_TRUE(r12.exact);
  EXPECT_GE(r12.reused, 10);
  EXPECT_LE(r12.milp_solves, r3.milp_solves + 4);
  EXPECT_GT(r12.bound, 3 * r3.bound);
  // A shared solution is kept per local op: the assembled schedule runs every module's own ops
  // (each op once) and reaches the DP value.
  ASSERT_EQ(r12.order.size(), static_cast<size_t>(pb12->num_ops()));
  const double ms = simulate_latency(*pb12, schedule_from_order(*pb12, r12.device, r12.order)).makespan;
  EXPECT_NEAR(ms, r12.bound, 1e-9 * r12.bound);
}

TEST(SeriesDp, CertifiedStatusAndIntegerRounding) {
  EXPECT_EQ(certified_status(SolveStatus::Heuristic, 10.0, 10.0), SolveStatus::Optimal);
  EXPECT_EQ(certified_status(SolveStatus::Heuristic, 10.1, 10.0), SolveStatus::Heuristic);
  EXPECT_EQ(certified_status(SolveStatus::Feasible, 10.0, 0.0), SolveStatus::Feasible);
  // A schedule that overflows memory is never certified, even at the bound.
  LatencyEvaluation e;
  e.makespan = e.lower_bound = 10.0;
  EXPECT_EQ(certified_status(SolveStatus::Heuristic, e), SolveStatus::Optimal);
  e.sim.memory_violations.push_back("device 'gpu' needs more than it has");
  EXPECT_EQ(certified_status(SolveStatus::Heuristic, e), SolveStatus::Heuristic);
  EXPECT_EQ(certified_status(SolveStatus::Optimal, e), SolveStatus::Feasible);
  // Integer task graph on identical devices: 3 independent tasks of 2 units on 2 devices; the
  // load balance says 3, every schedule takes 4 (two tasks share a device).
  auto g = std::make_shared<Graph>();
  for (int i = 0; i < 3; ++i) {
    Op op;
    op.name = "v" + std::to_string(i);
    op.type = "task";
    op.flops = 2;
    g->add_op(op);
  }
  for (int i = 0; i < 3; ++i) {
    Tensor t = testing::test_tensor("t" + std::to_string(i), 0);
    t.is_graph_output = true;
    t.producer = i;
    g->ops[i].outputs.push_back(g->add_tensor(t));
  }
  g->finalize();
  Problem pb(g, std::make_shared<Platform>(make_identical_platform(2)));
  const double u = common_time_unit(pb);
  ASSERT_GT(u, 0);
  const LatencyBounds lb = latency_lower_bounds(pb);
  EXPECT_NEAR(lb.load_balance, 3 * pb.exec(0, 0) / 2, 1e-12);
  EXPECT_NEAR(lb.best, 2 * pb.exec(0, 0), 1e-9 * pb.exec(0, 0));  // rounded up to the unit
  EXPECT_NEAR(lb.best, testing::brute_force_optimum(pb), 1e-9 * lb.best);
}

TEST(SeriesDp, ComputedOncePerProblem) {
  // The method and the reported bound of one run ask for the same DP: the second call gets the
  // first one's result (nothing solved again), and only for an identical problem and budget.
  SpOptions o;
  o.max_ops = 9;
  const auto pb = series_parallel_problem(424242, o);
  const SeriesDpResult a = series_dp(*pb, SeriesDpOptions{});
  ASSERT_TRUE(a.reproducible);
  EXPECT_FALSE(a.from_cache);
  const SeriesDpResult b = series_dp(*pb, SeriesDpOptions{});
  EXPECT_TRUE(b.from_cache);
  EXPECT_EQ(b.bound, a.bound);
  EXPECT_EQ(b.exact, a.exact);
  EXPECT_EQ(reported_latency_bounds(*pb).series_dp, a.bound);
  // The branch and bound proved every module on the path: the run without CBC is the same run.
  ASSERT_TRUE(a.exact);
  ASSERT_EQ(a.milp_solves, 0);
  SeriesDpOptions bnb_only;
  bnb_only.milp_fallback = false;
  EXPECT_TRUE(series_dp(*pb, bnb_only).from_cache);
  // Another budget of the branch and bound, or the same graph on another platform, is another
  // problem; another CBC budget is not where no CBC solve ran.
  SeriesDpOptions tight;
  tight.bnb_max_nodes = 3;
  EXPECT_FALSE(series_dp(*pb, tight).from_cache);
  SeriesDpOptions tight_cbc;
  tight_cbc.max_nodes = 3;
  EXPECT_TRUE(series_dp(*pb, tight_cbc).from_cache);
  const Problem other(pb->graph_ptr(), testing::random_platform(o.K, 99, true));
  EXPECT_FALSE(series_dp(other, SeriesDpOptions{}).from_cache);
  // A run cut by the wall clock is not kept: its result depends on timing.
  const auto pb2 = series_parallel_problem(434343, o);
  SeriesDpOptions none;
  none.time_limit_s = 0;
  const SeriesDpResult c = series_dp(*pb2, none);
  if (!c.exact) {
    EXPECT_FALSE(c.reproducible);
    EXPECT_FALSE(series_dp(*pb2, SeriesDpOptions{}).from_cache);
  }
}

TEST(SeriesDp, ReportedBoundSolvesModulesWithoutCbc) {
  // The bound every command reports runs the branch and bound alone: on a 32-node RandWire stage
  // it does not prove the module within its node budget, and CBC after it ran into the 30 s
  // guard per solve (a bound that could not count) instead of adding anything.
  RandWireOptions rw;
  rw.stages = 1;
  const Problem pb(generate_randwire(rw), std::make_shared<Platform>(load_platform("paper-node")));
  const LatencyBounds lb = reported_latency_bounds(pb);
  SeriesDpOptions bnb_only;
  bnb_only.milp_fallback = false;
  const SeriesDpResult r = series_dp(pb, bnb_only);
  EXPECT_TRUE(r.from_cache);  // the same DP as the reported bound's
  EXPECT_EQ(r.milp_solves, 0);
  EXPECT_LT(r.bnb_proofs, r.bnb_solves);  // an unproven module: CBC would have been asked
  EXPECT_EQ(lb.series_dp, r.bound);
}

}  // namespace
}  // namespace diviml

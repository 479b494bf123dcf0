// Simulated annealing over placement and order (local_search.h) and `--method anneal`.
#include <gtest/gtest.h>

#include <atomic>

#include "frontend/generators.h"
#include "platform/platform.h"
#include "random_instances.h"
#include "schedule/simulator.h"
#include "solvers/bounds/bounds.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/heuristics/local_search.h"
#include "solvers/milp/latency_milp.h"

namespace diviml {
namespace {

std::vector<OpId> start_order(const Problem& pb, const Schedule& s) {
  const LatencyResult r = simulate_latency(pb, s);
  return linear_extension(pb.graph(), pb.graph().topo_order(), r.start);
}

void expect_valid_result(const Problem& pb, const LocalSearchResult& r) {
  const Graph& g = pb.graph();
  ASSERT_EQ(static_cast<int>(r.order.size()), pb.num_ops());
  std::vector<int> pos(pb.num_ops(), -1);
  for (int i = 0; i < pb.num_ops(); ++i) pos[r.order[i]] = i;
  for (OpId v = 0; v < pb.num_ops(); ++v) {
    ASSERT_GE(pos[v], 0) << "op missing from the order";
    EXPECT_TRUE(pb.can_run(v, r.device[v]));
    for (OpId u : g.pred(v)) EXPECT_LT(pos[u], pos[v]) << "order is not a linear extension";
  }
  const double sim = simulate_latency(pb, schedule_from_order(pb, r.device, r.order)).makespan;
  EXPECT_NEAR(r.makespan, sim, 1e-12 * sim) << "reported makespan differs from the simulator's";
}

TEST(LocalSearch, AsapMakespanEqualsSimulator) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto pb = testing::random_problem(15 + static_cast<int>(seed), 0.2, 3, seed, seed % 2 == 0);
    const Schedule s = random_schedule(*pb, seed);
    const double sim = simulate_latency(*pb, s).makespan;
    LocalSearchOptions none;
    none.seconds = 0;  // evaluation only
    const LocalSearchResult r = local_search(*pb, s.device, start_order(*pb, s), none);
    EXPECT_NEAR(r.start_makespan, sim, 1e-12 * sim) << "seed " << seed;
    EXPECT_EQ(r.makespan, r.start_makespan);
  }
}

TEST(LocalSearch, NeverWorseThanItsStartAndValid) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto pb = testing::random_problem(30, 0.1, 3, seed, seed % 3 != 0);
    const Schedule s = random_schedule(*pb, seed);
    const std::vector<OpId> order = start_order(*pb, s);
    LocalSearchOptions opt;
    opt.seconds = 0.3;
    opt.seed = seed;
    const LocalSearchResult r = local_search(*pb, s.device, order, opt);
    expect_valid_result(*pb, r);
    // From a random schedule there is always room: the search must find some of it.
    EXPECT_LT(r.makespan, r.start_makespan) << "seed " << seed;
    EXPECT_GT(r.moves, 0);
  }
}

TEST(LocalSearch, FindsTheMilpOptimumOnTinyInstances) {
  // Simulated annealing is not exact: within 1% of the optimum everywhere, equal on most.
  int compared = 0, equal = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    auto pb = testing::random_problem(7, 0.3, 3, seed, seed % 2 == 1);
    SolveOptions mopt;
    mopt.time_limit_s = 30;
    const Schedule m = milp_schedule(*pb, mopt);
    if (m.status != SolveStatus::Optimal) continue;
    ++compared;
    const double optimum = simulate_latency(*pb, m).makespan;
    SolveOptions aopt;
    aopt.time_limit_s = 60;  // ends by convergence long before
    aopt.seed = seed;
    const Schedule a = anneal_schedule(*pb, aopt);
    const double ms = simulate_latency(*pb, a).makespan;
    EXPECT_GE(ms, optimum * (1 - 1e-9)) << "seed " << seed << ": below the MILP optimum";
    EXPECT_LE(ms, optimum * 1.01) << "seed " << seed;
    if (ms <= optimum * (1 + 1e-9)) ++equal;
  }
  EXPECT_GE(compared, 10);
  EXPECT_GE(equal, compared - 2) << equal << " of " << compared << " equal to the optimum";
}

TEST(LocalSearch, DeterministicForASeedWhenItConverges) {
  auto pb = testing::random_problem(25, 0.15, 3, 4, true);
  const Schedule s = best_list_schedule(*pb);
  LocalSearchOptions opt;
  opt.seconds = 60;
  opt.seed = 7;
  const LocalSearchResult a = local_search(*pb, s.device, start_order(*pb, s), opt);
  const LocalSearchResult b = local_search(*pb, s.device, start_order(*pb, s), opt);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.order, b.order);
  EXPECT_EQ(a.moves, b.moves);
  EXPECT_GE(a.cycles, opt.stale_cycles);
}

TEST(LocalSearch, ParallelChainsAreAtLeastAsGoodAsOne) {
  auto pb = testing::random_problem(40, 0.1, 3, 6, true);
  const Schedule s = best_list_schedule(*pb);
  LocalSearchOptions opt;
  opt.seconds = 60;  // both end by convergence, so the comparison is deterministic
  opt.seed = 3;
  const LocalSearchResult one = local_search(*pb, s.device, start_order(*pb, s), opt);
  opt.threads = 3;
  const LocalSearchResult three = local_search(*pb, s.device, start_order(*pb, s), opt);
  expect_valid_result(*pb, three);
  EXPECT_LE(three.makespan, one.makespan);  // chain 0 of the three is the single chain
  EXPECT_GT(three.moves, one.moves);
}

TEST(LocalSearch, InterruptStopsAtOnce) {
  auto pb = testing::random_problem(40, 0.1, 3, 2, true);
  const Schedule s = random_schedule(*pb, 2);
  std::atomic<bool> stop{true};
  LocalSearchOptions opt;
  opt.seconds = 60;
  opt.interrupt = &stop;
  const LocalSearchResult r = local_search(*pb, s.device, start_order(*pb, s), opt);
  expect_valid_result(*pb, r);
  EXPECT_LE(r.moves, 1);
}

TEST(Anneal, BeatsListSchedulersOnRandWire) {
  RandWireOptions ro;
  ro.nodes = 16;
  ro.stages = 2;
  ro.seed = 3;
  const Problem pb(generate_randwire(ro), std::make_shared<Platform>(load_platform("paper-node")));
  const double list = best_list_schedule(pb).claimed_makespan;
  SolveOptions opt;
  opt.time_limit_s = 30;
  const Schedule a = anneal_schedule(pb, opt);
  const double ms = simulate_latency(pb, a).makespan;
  EXPECT_LT(ms, 0.97 * list) << "anneal " << ms << " vs best list schedule " << list;
  EXPECT_GE(ms, latency_lower_bounds(pb).best * (1 - 1e-9));
}

}  // namespace
}  // namespace diviml

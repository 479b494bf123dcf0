// Memory-constrained mapping (issue 7): m-ETF, m-TOPO, repair_memory, the feasibility check.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "frontend/llm.h"
#include "frontend/load_graph.h"
#include "platform/platform.h"
#include "random_instances.h"
#include "schedule/simulator.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/memory/feasible_baseline.h"
#include "solvers/memory/memory.h"
#include "solvers/solver.h"

namespace diviml {
namespace {

std::shared_ptr<Problem> with_memory(std::shared_ptr<const Graph> g, Platform p, const std::map<std::string, double>& mem) {
  for (auto& [name, bytes] : mem) {
    const int k = p.device_index(name);
    EXPECT_GE(k, 0) << name;
    p.devices[k].memory_bytes = bytes;
    p.devices[k].reserve_bytes = std::min(p.devices[k].reserve_bytes, bytes / 10);
  }
  return std::make_shared<Problem>(g, std::make_shared<Platform>(p));
}

/// Random DAG whose ops carry weights, on a random platform with the given capacities.
std::shared_ptr<Problem> random_with_weights(int n, int k, uint64_t seed, double cap) {
  auto g = diviml::testing::random_dag(n, 0.2, k, seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> w(1, 10);
  for (auto& op : g->ops) op.weight_bytes = w(rng);
  auto p = diviml::testing::random_platform(k, seed);
  for (auto& d : p->devices) d.memory_bytes = cap;
  return std::make_shared<Problem>(g, p);
}

TEST(Memory, RequirementAndFootprint) {
  auto pb = random_with_weights(12, 3, 5, 1e9);
  const MemoryRequirement r = memory_requirement(*pb);
  EXPECT_NEAR(r.total_weight_bytes, pb->graph().total_weight_bytes(), 1e-9);
  EXPECT_TRUE(r.feasible());
  EXPECT_NE(r.largest_op, kNoOp);
  EXPECT_NEAR(r.max_op_bytes, op_footprint_bytes(*pb, r.largest_op), 1e-12);
  EXPECT_NO_THROW(check_memory_feasible(*pb));
}

TEST(Memory, NothingFitsNamesTotalAndLargestOp) {
  // One op far heavier than any device.
  auto g = diviml::testing::random_dag(8, 0.3, 2, 3);
  g->ops[4].weight_bytes = 5e9;
  g->ops[4].name = "giant";
  g->finalize();
  auto p = diviml::testing::random_platform(2, 3);
  for (auto& d : p->devices) d.memory_bytes = 1e9;
  Problem pb(g, p);
  try {
    check_memory_feasible(pb, "m-etf");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("needs 4.66 GiB of weights"), std::string::npos) << m;
    EXPECT_NE(m.find("1.86 GiB usable"), std::string::npos) << m;
    EXPECT_NE(m.find("'giant'"), std::string::npos) << m;
  }
  EXPECT_THROW(metf_schedule(pb), InputError);
  EXPECT_THROW(mtopo_schedule(pb), InputError);
}

TEST(Memory, TotalTooLargeEvenIfEachOpFits) {
  auto pb = random_with_weights(20, 3, 7, 20);  // ~110 bytes of weights, 60 of memory
  try {
    check_memory_feasible(*pb);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("usable in all"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("largest"), std::string::npos);
  }
}

TEST(Memory, HeuristicsRespectMemoryOnRandomGraphs) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    // Capacity: room for about 45% of the weights per device, so 3 devices must share.
    auto probe = random_with_weights(24, 3, seed, 1e9);
    const double cap = 0.45 * probe->graph().total_weight_bytes() + 60;  // + activations
    auto pb = random_with_weights(24, 3, seed, cap);
    // Called directly: solve_latency would repair any method's output, so going through it
    // could not tell a memory-aware placement from a memory-blind one.
    using Fn = Schedule (*)(const Problem&);
    for (const auto& [m, fn] : {std::pair<const char*, Fn>{"m-etf", metf_schedule}, {"m-topo", mtopo_schedule}}) {
      SCOPED_TRACE(std::string(m) + " seed " + std::to_string(seed));
      const Schedule s = fn(*pb);
      const LatencyResult r = simulate_latency(*pb, s);
      EXPECT_TRUE(r.memory_violations.empty()) << r.memory_violations.front();
      // m-ETF's own placement fits. m-TOPO fills devices by weights and only bounds activations
      // loosely, so it leans on its documented repair pass (6 of these 8 seeds need it).
      if (std::string(m) == "m-etf") {
        EXPECT_EQ(s.notes.find("memory repair moved"), std::string::npos) << s.notes;
      }
    }
    // Repair of a memory-blind schedule.
    const Schedule h = heft_schedule(*pb);
    const Schedule fixed = repair_memory(*pb, h);
    EXPECT_TRUE(simulate_latency(*pb, fixed).memory_violations.empty());
  }
}

TEST(Memory, RepairLeavesFittingScheduleAlone) {
  auto pb = random_with_weights(15, 3, 2, 1e9);
  const Schedule h = heft_schedule(*pb);
  const Schedule r = repair_memory(*pb, h);
  EXPECT_EQ(r.device, h.device);
  EXPECT_EQ(r.order, h.order);
}

TEST(Memory, RepairMovesOpsOffAnOverfullDevice) {
  auto pb = random_with_weights(16, 3, 4, 1e9);
  // Everything on device 0, whose capacity is then too small.
  auto g = pb->graph_ptr();
  Platform p = pb->platform();
  p.devices[0].memory_bytes = 0.5 * g->total_weight_bytes();
  Problem small(g, std::make_shared<Platform>(p));
  const Schedule all0 = single_device_schedule(small, 0);
  ASSERT_FALSE(simulate_latency(small, all0).memory_violations.empty());
  const Schedule r = repair_memory(small, all0);
  const LatencyResult sim = simulate_latency(small, r);
  EXPECT_TRUE(sim.memory_violations.empty());
  EXPECT_NE(r.notes.find("memory repair moved"), std::string::npos);
  EXPECT_TRUE(std::isnan(r.claimed_makespan));
}

TEST(Memory, RepairFailsClearlyWhenNothingCanMove) {
  auto pb = random_with_weights(10, 2, 9, 1e9);
  Platform p = pb->platform();
  for (auto& d : p.devices) d.memory_bytes = 0.3 * pb->graph().total_weight_bytes();
  Problem small(pb->graph_ptr(), std::make_shared<Platform>(p));
  EXPECT_THROW(repair_memory(small, single_device_schedule(small, 0)), InputError);
}

TEST(Memory, ShrunkGpusOnLlmCluster) {
  // A 7B-class decoder (13.5 GB fp16) on one llm-cluster server with the GPUs shrunk so that no
  // single GPU holds it: every method must split it within memory.
  LlmOptions o = llm_preset("7b");
  o.layers = 8;
  o.seq = 512;
  std::shared_ptr<const Graph> g = generate_llm(o);
  const double w = g->total_weight_bytes();
  auto pb = with_memory(g, load_platform("llm-cluster-1"), {{"s0.a100", 0.55 * w + 2e9}, {"s0.l40s", 0.55 * w + 2e9}});
  for (const char* m : {"m-etf", "m-topo"}) {
    SCOPED_TRACE(m);
    const Schedule s = solve_latency(*pb, m, {});
    const LatencyResult r = simulate_latency(*pb, s);
    EXPECT_TRUE(r.memory_violations.empty()) << r.memory_violations.front();
    EXPECT_GT(r.makespan, 0);
  }
  const Schedule fixed = repair_memory(*pb, heft_schedule(*pb));
  EXPECT_TRUE(simulate_latency(*pb, fixed).memory_violations.empty());
}

TEST(Memory, MetfMatchesEtfQualityWhenMemoryIsAmple) {
  for (uint64_t seed = 11; seed <= 14; ++seed) {
    auto pb = random_with_weights(20, 3, seed, 1e12);
    const double etf = simulate_latency(*pb, etf_schedule(*pb)).makespan;
    const double metf = simulate_latency(*pb, metf_schedule(*pb)).makespan;
    EXPECT_LE(metf, etf * 1.25 + 1e-9);
  }
}

}  // namespace
}  // namespace diviml

namespace diviml {
namespace {

// Issue 12.3: the improving methods start from, and never fall below, the best baseline that fits.
TEST(FeasibleBaseline, UnlimitedMemoryIsTheBestListSchedule) {
  auto pb = random_with_weights(30, 3, 11, INFINITY);
  std::string name;
  const Schedule list = best_list_schedule(*pb, &name);
  const FeasibleBaseline f = best_feasible_baseline(*pb);
  EXPECT_TRUE(f.fits_memory);
  EXPECT_EQ(f.name, name);
  EXPECT_EQ(f.schedule.device, list.device);
  EXPECT_DOUBLE_EQ(f.makespan, simulate_latency(*pb, list).makespan);
}

TEST(FeasibleBaseline, TightMemoryBaselineFits) {
  constexpr double kShare = 0.45;
  // Capacity for a share of the weights per device: the baseline returned fits whenever one does
  // (the case where the fastest list schedule overflows is CliIssue12.TightMemory..., on resnet50).
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    auto probe = random_with_weights(40, 3, seed, INFINITY);
    const double total = probe->graph().total_weight_bytes();
    auto pb = random_with_weights(40, 3, seed, total * kShare);
    const FeasibleBaseline f = best_feasible_baseline(*pb);
    ASSERT_FALSE(f.schedule.device.empty()) << seed;
    if (!f.fits_memory) continue;
    const LatencyResult r = simulate_latency(*pb, f.schedule);
    EXPECT_TRUE(r.memory_violations.empty()) << seed << ": " << f.name;
    EXPECT_DOUBLE_EQ(r.makespan, f.makespan) << seed;
  }
}

TEST(FeasibleBaseline, NoWorseThanBaselineReturnsTheBaselineForAWorseSchedule) {
  auto pb = random_with_weights(30, 3, 5, INFINITY);
  const FeasibleBaseline f = best_feasible_baseline(*pb);
  // The slowest single device is worse than the best baseline on this instance.
  Schedule worst;
  double worst_ms = 0;
  for (int k = 0; k < pb->num_devices(); ++k) {
    Schedule s = single_device_schedule(*pb, k);
    const double ms = simulate_latency(*pb, s).makespan;
    if (ms > worst_ms) worst_ms = ms, worst = s;
  }
  ASSERT_GT(worst_ms, f.makespan);
  worst.method = "anneal";
  worst.lower_bound = 0.5 * f.makespan;
  const Schedule s = no_worse_than_baseline(*pb, worst, f);
  EXPECT_EQ(s.method, "anneal");
  EXPECT_DOUBLE_EQ(simulate_latency(*pb, s).makespan, f.makespan);
  EXPECT_DOUBLE_EQ(s.lower_bound, 0.5 * f.makespan);
  EXPECT_NE(s.notes.find("returned the best feasible baseline"), std::string::npos) << s.notes;
  // A better schedule is kept as it is.
  Schedule good = f.schedule;
  good.method = "split";
  good.status = SolveStatus::Optimal;
  EXPECT_EQ(no_worse_than_baseline(*pb, good, f).status, SolveStatus::Optimal);
}

}  // namespace
}  // namespace diviml

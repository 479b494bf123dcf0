// The timing core (schedule/timing.h): every user of the execution model agrees with the
// simulator on random graphs, platforms, placements and orders.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "random_instances.h"
#include "schedule/simulator.h"
#include "schedule/timing.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/heuristics/local_search.h"
#include "solvers/memory/memory.h"
#include "solvers/milp/latency_milp.h"

namespace diviml {
namespace {

using diviml::testing::random_problem;

/// A random linear extension of the precedence and of the device orders of `s` (Kahn with a
/// random ready op): any of them times the schedule the same way.
std::vector<OpId> random_merge(const Problem& pb, const Schedule& s, std::mt19937_64& rng) {
  const Graph& g = pb.graph();
  const int n = pb.num_ops();
  std::vector<OpId> next(n, kNoOp);
  std::vector<int> indeg(n, 0);
  for (OpId v = 0; v < n; ++v) indeg[v] = static_cast<int>(g.pred(v).size());
  for (const auto& ord : s.order)
    for (size_t i = 1; i < ord.size(); ++i) next[ord[i - 1]] = ord[i], ++indeg[ord[i]];
  std::vector<OpId> ready, out;
  for (OpId v = 0; v < n; ++v)
    if (indeg[v] == 0) ready.push_back(v);
  while (!ready.empty()) {
    const size_t i = rng() % ready.size();
    const OpId v = ready[i];
    ready[i] = ready.back();
    ready.pop_back();
    out.push_back(v);
    for (OpId w : g.succ(v))
      if (--indeg[w] == 0) ready.push_back(w);
    if (next[v] != kNoOp && --indeg[next[v]] == 0) ready.push_back(next[v]);
  }
  EXPECT_EQ(static_cast<int>(out.size()), n) << "device orders contradict the precedence";
  return out;
}

struct Case {
  int n, k;
  bool io;
  uint64_t seed;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  uint64_t seed = 1;
  for (int n : {1, 2, 7, 25, 60})
    for (int k : {1, 2, 4})
      for (bool io : {true, false}) c.push_back({n, k, io, seed++});
  return c;
}

// The simulator (event loop, per-device orders) and AsapTimer / asap_append (one global order)
// time every op identically, to the bit, on any linear extension of the device orders.
TEST(Timing, SimulatorEqualsAsapTimerOnEveryLinearExtension) {
  int schedules = 0;
  for (const Case& c : cases()) {
    auto pb = random_problem(c.n, 0.25, c.k, c.seed, c.io);
    AsapTimer timer(*pb);
    std::mt19937_64 rng(c.seed);
    for (int rep = 0; rep < 4; ++rep) {
      const Schedule s = random_schedule(*pb, c.seed * 31 + rep);
      const LatencyResult sim = simulate_latency(*pb, s);
      for (int ext = 0; ext < 3; ++ext) {
        const std::vector<OpId> order = random_merge(*pb, s, rng);
        ASSERT_EQ(timer.time(s.device, order), sim.makespan) << "n=" << c.n << " k=" << c.k << " io=" << c.io;
        EXPECT_EQ(timer.start(), sim.start);
        EXPECT_EQ(timer.finish(), sim.finish);
        std::vector<int> device(c.n, -1);
        std::vector<double> finish(c.n, 0.0), free(c.k, 0.0), start(c.n, -1.0);
        EXPECT_EQ(asap_append(*pb, order, s.device, {device, finish, free}, start), sim.makespan);
        EXPECT_EQ(start, sim.start);
        EXPECT_EQ(device, s.device);
      }
      // Link contention only delays transfers, never an op.
      const LatencyResult con = simulate_latency(*pb, s, SimOptions{true});
      EXPECT_GE(con.makespan, sim.makespan);
      for (OpId v = 0; v < c.n; ++v) EXPECT_GE(con.start[v], sim.start[v]);
      ++schedules;
    }
  }
  EXPECT_EQ(schedules, static_cast<int>(cases().size()) * 4);
}

// A prefix timed first (split's FixedContext) and the rest appended after it: the same times as
// the whole order, with both forms of the pass (graph and flattened).
TEST(Timing, AppendAfterContextEqualsWholeOrder) {
  for (const Case& c : cases()) {
    auto pb = random_problem(c.n, 0.3, c.k, c.seed + 100, c.io);
    const Schedule s = random_schedule(*pb, c.seed);
    const LatencyResult sim = simulate_latency(*pb, s);
    std::mt19937_64 rng(c.seed);
    const std::vector<OpId> order = random_merge(*pb, s, rng);
    const size_t cut = rng() % (order.size() + 1);
    const std::vector<OpId> head(order.begin(), order.begin() + static_cast<long>(cut));
    const std::vector<OpId> tail(order.begin() + static_cast<long>(cut), order.end());
    std::vector<int> device(c.n, -1);
    std::vector<double> finish(c.n, 0.0), free(c.k, 0.0), start(c.n, -1.0);
    const double head_obj = asap_append(*pb, head, s.device, {device, finish, free}, start);
    // The flattened timer on a copy of the context must do exactly what asap_append does.
    std::vector<int> device2 = device;
    std::vector<double> finish2 = finish, free2 = free, start2 = start;
    const double tail_obj = asap_append(*pb, tail, s.device, {device, finish, free}, start);
    AsapTimer timer(*pb);
    EXPECT_EQ(timer.time(s.device, tail, {device2, finish2, free2}, start2), tail_obj);
    EXPECT_EQ(start2, start);
    EXPECT_EQ(finish2, finish);
    EXPECT_EQ(free2, free);
    EXPECT_EQ(std::max(head_obj, tail_obj), sim.makespan) << "n=" << c.n << " cut=" << cut;
    EXPECT_EQ(start, sim.start);
    EXPECT_EQ(finish, sim.finish);
  }
}

// The rule functions used by list schedulers: data_ready and completion give the simulator's
// start (no device wait) and the makespan.
TEST(Timing, RuleFunctionsReproduceTheSimulator) {
  for (const Case& c : cases()) {
    auto pb = random_problem(c.n, 0.3, c.k, c.seed + 200, c.io);
    const Schedule s = random_schedule(*pb, c.seed);
    const LatencyResult sim = simulate_latency(*pb, s);
    std::vector<double> device_free_before(c.n, 0.0);
    for (const auto& ord : s.order)
      for (size_t i = 1; i < ord.size(); ++i) device_free_before[ord[i]] = sim.finish[ord[i - 1]];
    double ms = 0;
    for (OpId v = 0; v < c.n; ++v) {
      const int k = s.device[v];
      EXPECT_EQ(timing::op_start(device_free_before[v], timing::data_ready(*pb, v, k, s.device, sim.finish)), sim.start[v]);
      ms = std::max(ms, timing::completion(*pb, v, k, sim.finish[v]));
    }
    EXPECT_EQ(ms, sim.makespan);
  }
}

// The annealer's evaluation (AsapTimer in its hot loop) is the simulator's makespan.
TEST(Timing, AnnealerAgreesWithSimulator) {
  long long moves = 0;
  for (const Case& c : cases()) {
    if (c.n < 2) continue;
    auto pb = random_problem(c.n, 0.25, c.k, c.seed + 300, c.io);
    const Schedule s = random_schedule(*pb, c.seed);
    LocalSearchOptions lo;
    lo.seconds = 0.02;
    lo.seed = c.seed;
    const std::vector<OpId> start_order = linear_extension(pb->graph(), pb->graph().topo_order(),
                                                           simulate_latency(*pb, s).start);
    const LocalSearchResult r = local_search(*pb, s.device, start_order, lo);
    const LatencyResult sim = simulate_latency(*pb, schedule_from_order(*pb, r.device, r.order));
    EXPECT_EQ(r.makespan, sim.makespan) << "n=" << c.n << " k=" << c.k;
    EXPECT_EQ(r.start_makespan, simulate_latency(*pb, schedule_from_order(*pb, s.device, start_order)).makespan);
    EXPECT_LE(r.makespan, r.start_makespan);
    moves += r.moves;
  }
  EXPECT_GT(moves, 0);
}

// The list schedulers' claimed start times and makespans (computed with data_ready and
// completion) are exactly what the simulator computes for their orders.
TEST(Timing, ListSchedulersClaimTheSimulatorsTimes) {
  for (const Case& c : cases()) {
    auto pb = random_problem(c.n, 0.3, c.k, c.seed + 400, c.io);
    for (auto fn : {heft_schedule, cpop_schedule, peft_schedule, etf_schedule}) {
      const Schedule s = fn(*pb);
      const LatencyResult sim = simulate_latency(*pb, s);
      EXPECT_TRUE(check_claimed_times(*pb, s).empty()) << s.method;
      EXPECT_EQ(s.claimed_makespan, sim.makespan) << s.method << " n=" << c.n << " k=" << c.k;
      EXPECT_EQ(s.start, sim.start) << s.method;
    }
  }
}

// The latency MILP's evaluation of its candidates (on its subset instance): objective and start
// times of the result are the simulator's, for the whole graph and for a part after a context.
TEST(Timing, MilpEvaluationAgreesWithSimulator) {
  SolveOptions opt;
  opt.time_limit_s = 10;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const int n = 7, k = 2 + static_cast<int>(seed % 2);
    auto pb = random_problem(n, 0.3, k, seed + 500, seed % 3 != 0);
    // Whole graph.
    LatencyMilpRequest req;
    req.max_nodes = 20;
    const LatencyMilpResult r = solve_latency_milp(*pb, req, opt);
    const Schedule s = schedule_from_times(*pb, r.device, r.start);
    const LatencyResult sim = simulate_latency(*pb, s);
    EXPECT_NEAR(r.objective, sim.makespan, 1e-12 * sim.makespan) << "seed " << seed;
    for (OpId v = 0; v < n; ++v) EXPECT_NEAR(r.start[v], sim.start[v], 1e-12 * sim.makespan);
    // A part after a context: the first ops of a random schedule's order, timed as soon as possible.
    const Schedule base = random_schedule(*pb, seed);
    std::mt19937_64 rng(seed);
    const std::vector<OpId> order = random_merge(*pb, base, rng);
    const std::vector<OpId> head(order.begin(), order.begin() + 3), part(order.begin() + 3, order.end());
    FixedContext fx;
    fx.device.assign(n, -1);
    fx.finish.assign(n, 0.0);
    fx.device_free.assign(k, 0.0);
    std::vector<double> start(n, 0.0);
    const double head_obj = asap_append(*pb, head, base.device, {fx.device, fx.finish, fx.device_free}, start);
    LatencyMilpRequest sub;
    sub.ops = part;
    sub.fixed = &fx;
    sub.max_nodes = 20;
    const LatencyMilpResult rp = solve_latency_milp(*pb, sub, opt);
    std::vector<int> device = fx.device;
    for (OpId v : part) device[v] = rp.device[v], start[v] = rp.start[v];
    std::vector<double> key(n, -1.0);  // the head first (in its order), then the part by start
    for (size_t i = 0; i < head.size(); ++i) key[head[i]] = -1.0 - static_cast<double>(head.size() - i);
    for (OpId v : part) key[v] = rp.start[v];
    const LatencyResult simp =
        simulate_latency(*pb, schedule_from_order(*pb, device, linear_extension(pb->graph(), order, key)));
    double part_obj = 0;
    for (OpId v : part) {
      EXPECT_NEAR(rp.start[v], simp.start[v], 1e-12 * simp.makespan) << "seed " << seed;
      part_obj = std::max(part_obj, timing::completion(*pb, v, device[v], simp.finish[v]));
    }
    EXPECT_NEAR(rp.objective, part_obj, 1e-12 * simp.makespan) << "seed " << seed;
    EXPECT_NEAR(std::max(head_obj, rp.objective), simp.makespan, 1e-12 * simp.makespan);
  }
}

// Memory-constrained mappers and memory repair: their outputs fit, and the simulator's makespan
// is the timer's on any linear extension of their orders.
TEST(Timing, MemoryRepairOutputAgreesWithSimulator) {
  int repaired = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    auto pb0 = random_problem(20, 0.2, 3, seed + 600);
    auto g = std::make_shared<Graph>(pb0->graph());
    std::mt19937_64 rng(seed);
    for (auto& op : g->ops) op.weight_bytes = std::uniform_real_distribution<double>(1, 10)(rng);
    auto p = std::make_shared<Platform>(pb0->platform());
    for (auto& d : p->devices) d.memory_bytes = 100;
    Problem pb(g, p);
    AsapTimer timer(pb);
    Schedule all_on_0 = single_device_schedule(pb, 0);
    for (const Schedule& s : {metf_schedule(pb), mtopo_schedule(pb), repair_memory(pb, all_on_0)}) {
      const LatencyResult sim = simulate_latency(pb, s);
      EXPECT_TRUE(sim.memory_violations.empty()) << s.method;
      EXPECT_EQ(timer.time(s.device, random_merge(pb, s, rng)), sim.makespan) << s.method;
      EXPECT_EQ(timer.start(), sim.start);
    }
    repaired += simulate_latency(pb, all_on_0).memory_violations.empty() ? 0 : 1;
  }
  EXPECT_GT(repaired, 0);  // the all-on-one-device schedules overflowed and were repaired
}

}  // namespace
}  // namespace diviml

#include <gtest/gtest.h>

#include "random_instances.h"
#include "schedule/simulator.h"

using namespace diviml;

namespace {
// Two devices d0 (I/O) and d1; one link bandwidth 1 B/s, latency 0.5 s.
std::shared_ptr<Platform> two_devices(bool io) {
  auto p = std::make_shared<Platform>();
  p->name = "two";
  for (const char* n : {"d0", "d1"}) {
    Device d;
    d.name = n;
    d.peak_flops = 1;
    d.mem_bandwidth = 1;
    p->devices.push_back(d);
  }
  p->links.push_back(Link{0, 1, 1.0, 0.5});
  p->io_device = io ? 0 : -1;
  p->validate();
  return p;
}

Op task(const char* name, double t0, double t1, std::vector<TensorId> in, std::vector<TensorId> out) {
  Op o;
  o.name = name;
  o.device_times = {{"d0", t0}, {"d1", t1}};
  o.inputs = std::move(in);
  o.outputs = std::move(out);
  return o;
}

// x -> a -> t -> b -> y
std::shared_ptr<Problem> chain() {
  auto g = std::make_shared<Graph>();
  g->name = "chain";
  g->add_tensor(diviml::testing::test_tensor("x", 1));
  g->add_tensor(diviml::testing::test_tensor("t", 2));
  Tensor y = diviml::testing::test_tensor("y", 1);
  y.is_graph_output = true;
  g->add_tensor(y);
  g->add_op(task("a", 3, 1, {0}, {1}));
  g->add_op(task("b", 2, 4, {1}, {2}));
  g->finalize();
  return std::make_shared<Problem>(g, two_devices(true));
}
}  // namespace

TEST(Simulator, HandComputedChain) {
  auto pb = chain();
  // a on d1, b on d0: x reaches d1 at 0.5+1 = 1.5; a 1.5..2.5; t reaches d0 at 2.5+0.5+2 = 5; b 5..7.
  Schedule s = schedule_from_order(*pb, {1, 0}, {0, 1});
  LatencyResult r = simulate_latency(*pb, s);
  EXPECT_DOUBLE_EQ(r.start[0], 1.5);
  EXPECT_DOUBLE_EQ(r.start[1], 5.0);
  EXPECT_DOUBLE_EQ(r.makespan, 7.0);
  EXPECT_EQ(r.transfers.size(), 2u);
  // both on d1: a 1.5..2.5, b 2.5..6.5, y back to d0 at 6.5 + 1.5 = 8.
  r = simulate_latency(*pb, single_device_schedule(*pb, 1));
  EXPECT_DOUBLE_EQ(r.makespan, 8.0);
  // both on d0 (the I/O device): no transfers at all.
  r = simulate_latency(*pb, single_device_schedule(*pb, 0));
  EXPECT_DOUBLE_EQ(r.makespan, 5.0);
  EXPECT_TRUE(r.transfers.empty());
}

TEST(Simulator, ContentionSerialisesALink) {
  // a on d0 sends t1 and t2 (2 bytes each) to b and c on d1; I/O free.
  auto g = std::make_shared<Graph>();
  g->name = "fork";
  for (const char* n : {"t1", "t2"}) g->add_tensor(diviml::testing::test_tensor(n, 2));
  for (const char* n : {"o1", "o2"}) {
    Tensor t = diviml::testing::test_tensor(n, 0);
    t.is_graph_output = true;
    g->add_tensor(t);
  }
  g->add_op(task("a", 1, 1, {}, {0, 1}));
  g->add_op(task("b", 1, 1, {0}, {2}));
  g->add_op(task("c", 1, 1, {1}, {3}));
  g->finalize();
  Problem pb(g, two_devices(false));
  Schedule s = schedule_from_order(pb, {0, 1, 1}, {0, 1, 2});
  // Without contention both tensors arrive at 1 + 2.5 = 3.5: b 3.5..4.5, c 4.5..5.5.
  EXPECT_DOUBLE_EQ(simulate_latency(pb, s).makespan, 5.5);
  // With contention t2 waits for t1: arrives at 6, c 6..7.
  SimOptions opt;
  opt.contention = true;
  LatencyResult r = simulate_latency(pb, s, opt);
  EXPECT_DOUBLE_EQ(r.makespan, 7.0);
  EXPECT_DOUBLE_EQ(r.start[2], 6.0);
}

TEST(Simulator, DeadlockAndStructureErrorsNameTheOps) {
  auto pb = chain();
  Schedule s = single_device_schedule(*pb, 0);
  std::swap(s.order[0][0], s.order[0][1]);  // b before a on the same device
  try {
    simulate_latency(*pb, s);
    FAIL();
  } catch (const ScheduleError& e) {
    EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'a'"), std::string::npos) << e.what();
  }
  Schedule missing = single_device_schedule(*pb, 0);
  missing.order[0].pop_back();
  EXPECT_THROW(simulate_latency(*pb, missing), ScheduleError);
  Schedule wrong = single_device_schedule(*pb, 0);
  wrong.device[0] = 1;
  EXPECT_THROW(simulate_latency(*pb, wrong), ScheduleError);
}

TEST(Simulator, UnsupportedDeviceIsRejected) {
  auto g = std::make_shared<Graph>();
  g->name = "one";
  g->add_tensor(diviml::testing::test_tensor("y", 1));
  g->add_op(task("a", 1, INFINITY, {}, {0}));
  g->finalize();
  Problem pb(g, two_devices(true));
  try {
    simulate_latency(pb, single_device_schedule(pb, 1));
    FAIL();
  } catch (const ScheduleError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run"), std::string::npos) << e.what();
  }
}

TEST(Simulator, ClaimedTimesAreChecked) {
  auto pb = chain();
  Schedule s = schedule_from_times(*pb, {1, 0}, {1.5, 5.0});
  EXPECT_TRUE(check_claimed_times(*pb, s).empty());
  s.start = {1.5, 4.0};  // t only arrives at 5
  auto errs = check_claimed_times(*pb, s);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("precedence"), std::string::npos);
  Schedule same = schedule_from_times(*pb, {0, 0}, {0.0, 2.0});  // b overlaps a (a takes 3)
  errs = check_claimed_times(*pb, same);
  ASSERT_FALSE(errs.empty());
}

TEST(Simulator, MemoryWeightsAndPeakActivations) {
  auto pb = chain();
  auto g = std::const_pointer_cast<Graph>(pb->graph_ptr());
  g->ops[0].weight_bytes = 100;
  g->ops[1].weight_bytes = 50;
  LatencyResult r = simulate_latency(*pb, single_device_schedule(*pb, 0));
  EXPECT_DOUBLE_EQ(r.memory[0].weight_bytes, 150);
  // x (1 B) and t (2 B) are live together while a runs; t and y while b runs: peak 3.
  EXPECT_DOUBLE_EQ(r.memory[0].peak_activation_bytes, 3);
  EXPECT_TRUE(r.memory_violations.empty());
  auto p = std::make_shared<Platform>(pb->platform());
  p->devices[0].memory_bytes = 100;
  Problem small(pb->graph_ptr(), p);
  r = simulate_latency(small, single_device_schedule(small, 0));
  ASSERT_EQ(r.memory_violations.size(), 1u);
  EXPECT_NE(r.memory_violations[0].find("d0"), std::string::npos);
}

TEST(Simulator, RandomSchedulesAreAtLeastTheCriticalPath) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const int k = 1 + static_cast<int>(seed % 4);
    auto pb = diviml::testing::random_problem(10 + static_cast<int>(seed), 0.2, k, seed, seed % 2 == 0);
    std::mt19937_64 rng(seed);
    std::vector<int> dev(pb->num_ops());
    for (auto& d : dev) d = static_cast<int>(rng() % k);
    Schedule s = schedule_from_order(*pb, dev, pb->graph().topo_order());
    LatencyResult r = simulate_latency(*pb, s);
    EXPECT_GE(r.makespan, critical_path_fastest(*pb) - 1e-9);
    SimOptions c;
    c.contention = true;
    EXPECT_GE(simulate_latency(*pb, s, c).makespan, r.makespan - 1e-9);
    // The simulated times are themselves a valid claim.
    Schedule claimed = schedule_from_times(*pb, dev, r.start);
    EXPECT_TRUE(check_claimed_times(*pb, claimed).empty());
    EXPECT_DOUBLE_EQ(simulate_latency(*pb, claimed).makespan, r.makespan);
  }
}

// A zero-duration op starts at the same instant as the long op after it on the same device: the
// order read back from the times must keep it first (ordering by start, ties by topological rank,
// put the long op first and delayed the zero-duration op's consumer).
TEST(Simulator, ScheduleFromTimesKeepsAZeroDurationOpBeforeTheOpStartingWithIt) {
  auto g = std::make_shared<Graph>();
  g->name = "zero_tie";
  g->add_tensor(diviml::testing::test_tensor("x", 1));  // 0: graph input
  g->add_tensor(diviml::testing::test_tensor("t", 1));  // 1: z -> c
  for (const char* n : {"y", "w"}) {
    Tensor t = diviml::testing::test_tensor(n, 1);
    t.is_graph_output = true;
    g->add_tensor(t);  // 2, 3
  }
  g->add_op(task("b", 5, 5, {0}, {3}));  // long, first in topological rank
  g->add_op(task("z", 0, 0, {0}, {1}));  // zero duration
  g->add_op(task("c", 1, 1, {1}, {2}));
  g->finalize();
  auto pb = std::make_shared<Problem>(g, two_devices(false));
  // z and b on d0, both at 0; c on d1 once z's tensor arrives (0 + 0.5 + 1 B / 1 B/s).
  const Schedule s = schedule_from_times(*pb, {0, 0, 1}, {0.0, 0.0, 1.5});
  ASSERT_EQ(s.order[0].size(), 2u);
  EXPECT_EQ(s.order[0][0], 1) << "the zero-duration op z must run first on d0";
  EXPECT_TRUE(check_claimed_times(*pb, s).empty());
  EXPECT_DOUBLE_EQ(simulate_latency(*pb, s).makespan, 5.0);
}

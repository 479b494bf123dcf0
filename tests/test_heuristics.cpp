// Baseline schedulers: the HEFT/CPOP example of Topcuoglu, Hariri & Wu (2002) and property tests
// over random DAGs and platforms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "random_instances.h"
#include "schedule/simulator.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/solver.h"

namespace diviml {
namespace {

// Figure 2 of Topcuoglu, Hariri & Wu, "Performance-effective and low-complexity task scheduling
// for heterogeneous computing", IEEE TPDS 13(3), 2002: 10 tasks, 3 processors.
std::shared_ptr<Problem> topcuoglu_example() {
  const double w[10][3] = {{14, 16, 9},  {13, 19, 18}, {11, 13, 19}, {13, 8, 17}, {12, 13, 10},
                           {13, 16, 9},  {7, 15, 11},  {5, 11, 14},  {18, 12, 20}, {21, 7, 16}};
  const int edges[15][3] = {{1, 2, 18}, {1, 3, 12}, {1, 4, 9},  {1, 5, 11}, {1, 6, 14},
                            {2, 8, 19}, {2, 9, 16}, {3, 7, 23}, {4, 8, 27}, {4, 9, 23},
                            {5, 9, 13}, {6, 8, 15}, {7, 10, 17}, {8, 10, 11}, {9, 10, 13}};
  auto g = std::make_shared<Graph>();
  g->name = "topcuoglu2002";
  for (int i = 0; i < 10; ++i) {
    Op op;
    op.name = "n" + std::to_string(i + 1);
    op.type = "task";
    op.device_times = {{"p1", w[i][0]}, {"p2", w[i][1]}, {"p3", w[i][2]}};
    g->add_op(std::move(op));
  }
  Tensor in;
  in.name = "input";
  in.bytes = 0;
  g->ops[0].inputs.push_back(g->add_tensor(in));
  for (const auto& e : edges) {
    Tensor t;
    t.name = "e" + std::to_string(e[0]) + "_" + std::to_string(e[1]);
    t.bytes = e[2];
    t.producer = e[0] - 1;
    const TensorId id = g->add_tensor(t);
    g->ops[e[0] - 1].outputs.push_back(id);
    g->ops[e[1] - 1].inputs.push_back(id);
  }
  Tensor out;
  out.name = "output";
  out.bytes = 0;
  out.producer = 9;
  out.is_graph_output = true;
  g->ops[9].outputs.push_back(g->add_tensor(out));
  g->finalize();

  auto p = std::make_shared<Platform>();
  p->name = "topcuoglu2002";
  for (const char* name : {"p1", "p2", "p3"}) {
    Device d;
    d.name = name;
    d.kind = DeviceKind::Cpu;
    d.peak_flops = 1;
    d.mem_bandwidth = 1;
    p->devices.push_back(d);
  }
  for (int a = 0; a < 3; ++a)
    for (int b = a + 1; b < 3; ++b) p->links.push_back(Link{a, b, 1.0, 0.0});
  p->default_intra_server = Link{0, 0, 1.0, 0.0};
  p->default_inter_server = Link{0, 0, 1.0, 0.0};
  p->io_device = -1;
  p->validate();
  return std::make_shared<Problem>(g, p);
}

void expect_claims_consistent(const Problem& pb, const Schedule& s, const LatencyResult& r) {
  if (s.start.empty()) return;
  const auto msgs = check_claimed_times(pb, s);
  EXPECT_TRUE(msgs.empty()) << s.method << ": " << (msgs.empty() ? "" : msgs.front());
  ASSERT_EQ(s.start.size(), r.start.size());
  for (OpId v = 0; v < pb.num_ops(); ++v)
    EXPECT_NEAR(s.start[v], r.start[v], 1e-9 * std::max(1.0, std::abs(r.start[v])))
        << s.method << " op " << pb.graph().ops[v].name;
  if (!std::isnan(s.claimed_makespan)) {
    EXPECT_NEAR(s.claimed_makespan, r.makespan, 1e-9 * std::max(1.0, r.makespan)) << s.method;
  }
}

TEST(HeuristicTopcuoglu, HeftMakespanIs80) {
  const auto pb = topcuoglu_example();
  const Schedule s = heft_schedule(*pb);
  check_schedule_structure(*pb, s);
  const LatencyResult r = simulate_latency(*pb, s);
  EXPECT_DOUBLE_EQ(r.makespan, 80.0);
  expect_claims_consistent(*pb, s, r);
  // The paper's Figure 3(a): n1 on p3 at [0, 9], n10 on p2 at [73, 80].
  EXPECT_EQ(s.device[0], 2);
  EXPECT_DOUBLE_EQ(r.start[0], 0.0);
  EXPECT_EQ(s.device[9], 1);
  EXPECT_DOUBLE_EQ(r.start[9], 73.0);
}

TEST(HeuristicTopcuoglu, CpopMakespanIs86) {
  const auto pb = topcuoglu_example();
  const Schedule s = cpop_schedule(*pb);
  check_schedule_structure(*pb, s);
  const LatencyResult r = simulate_latency(*pb, s);
  EXPECT_DOUBLE_EQ(r.makespan, 86.0);
  expect_claims_consistent(*pb, s, r);
  // Critical path n1, n2, n9, n10 on p2 (the paper's critical-path processor).
  for (int v : {0, 1, 8, 9}) EXPECT_EQ(s.device[v], 1) << "n" << v + 1;
}

TEST(HeuristicTopcuoglu, OtherBaselinesAreValid) {
  const auto pb = topcuoglu_example();
  const double cp = critical_path_fastest(*pb);
  for (const Schedule& s : {peft_schedule(*pb), etf_schedule(*pb), random_schedule(*pb, 3),
                            fastest_device_schedule(*pb)}) {
    check_schedule_structure(*pb, s);
    const LatencyResult r = simulate_latency(*pb, s);
    EXPECT_GE(r.makespan, cp - 1e-9) << s.method;
    expect_claims_consistent(*pb, s, r);
  }
  // Best single device: p1 runs the 10 tasks in 127, p2 in 130, p3 in 143.
  const Schedule fd = fastest_device_schedule(*pb);
  EXPECT_EQ(fd.device[0], 0);
  EXPECT_DOUBLE_EQ(simulate_latency(*pb, fd).makespan, 127.0);
}

using Heuristic = std::function<Schedule(const Problem&)>;

std::vector<std::pair<std::string, Heuristic>> all_heuristics() {
  return {{"fastest-device", fastest_device_schedule},
          {"heft", heft_schedule},
          {"cpop", cpop_schedule},
          {"peft", peft_schedule},
          {"etf", etf_schedule},
          {"random", [](const Problem& pb) { return random_schedule(pb, 17); }},
          {"random2", [](const Problem& pb) { return random_schedule(pb, 12345); }}};
}

void check_all(const Problem& pb, const std::string& label, const std::vector<int>& forbidden_dev_of_op = {}) {
  const double cp = critical_path_fastest(pb);
  for (const auto& [name, h] : all_heuristics()) {
    SCOPED_TRACE(label + " " + name);
    Schedule s;
    ASSERT_NO_THROW(s = h(pb));
    ASSERT_NO_THROW(check_schedule_structure(pb, s));
    LatencyResult r;
    ASSERT_NO_THROW(r = simulate_latency(pb, s));
    EXPECT_GE(r.makespan, cp - 1e-9 * std::max(1.0, cp));
    for (OpId v = 0; v < pb.num_ops(); ++v) EXPECT_TRUE(pb.can_run(v, s.device[v])) << "op " << v;
    (void)forbidden_dev_of_op;
    expect_claims_consistent(pb, s, r);
  }
}

TEST(HeuristicProperty, RandomDagsAndPlatforms) {
  uint64_t seed = 1;
  for (int n = 1; n <= 60; n += (n < 12 ? 1 : 7))
    for (int k = 1; k <= 4; ++k)
      for (double p : {0.05, 0.2, 0.5})
        for (bool io : {true, false}) {
          ++seed;
          const auto pb = testing::random_problem(n, p, k, seed, io);
          check_all(*pb, "n=" + std::to_string(n) + " k=" + std::to_string(k) + " p=" + std::to_string(p) +
                             " io=" + std::to_string(io) + " seed=" + std::to_string(seed));
        }
}

// Platform where device d1 cannot run ops of type "special" (and the other devices can).
std::shared_ptr<Problem> restricted_problem(int n, int k, uint64_t seed) {
  auto g = testing::random_dag(n, 0.2, k, seed);
  for (OpId v = 0; v < n; v += 2) {
    g->ops[v].type = "special";
    g->ops[v].flops = 1;
    g->ops[v].bytes_accessed = 1;
    g->ops[v].device_times.erase("d1");  // fall back to the cost model, which refuses it
  }
  // d1 is much faster for what it can run, so greedy heuristics are tempted to use it.
  for (OpId v = 1; v < n; v += 2) g->ops[v].device_times["d1"] = 0.5;
  auto plat = testing::random_platform(k, seed);
  plat->devices[1].unsupported_op_types.insert("special");
  return std::make_shared<Problem>(g, plat);
}

TEST(HeuristicProperty, NeverUsesUnsupportedDevice) {
  for (int n : {2, 5, 13, 30, 60})
    for (int k : {2, 3, 4})
      for (uint64_t seed : {11u, 12u, 13u}) {
        const auto pb = restricted_problem(n, k, seed * 100 + static_cast<uint64_t>(n * 10 + k));
        int refused = 0;
        for (OpId v = 0; v < n; ++v) refused += pb->can_run(v, 1) ? 0 : 1;
        ASSERT_GT(refused, 0) << "the instance must have ops that d1 cannot run";
        check_all(*pb, "restricted n=" + std::to_string(n) + " k=" + std::to_string(k));
        int used = 0;
        for (const Schedule& s : {heft_schedule(*pb), etf_schedule(*pb)})
          for (OpId v = 0; v < n; ++v) used += s.device[v] == 1;
        if (n >= 13) {
          EXPECT_GT(used, 0) << "n=" << n << " k=" << k << ": the fast device d1 should be used";
        }
      }
}

// Zero-time ops, zero-byte tensors and integer times: many exact ties in starts and finishes.
TEST(HeuristicProperty, ZeroCostOpsAndTies) {
  for (int n : {1, 3, 8, 20, 45})
    for (int k : {1, 2, 4})
      for (uint64_t seed : {1u, 2u, 3u}) {
        auto g = testing::random_dag(n, 0.25, k, seed * 31 + static_cast<uint64_t>(n));
        for (OpId v = 0; v < n; ++v)
          for (auto& [dev, t] : g->ops[v].device_times) t = (v % 3 == 0) ? 0.0 : std::round(t);
        for (Tensor& t : g->tensors) t.bytes = std::round(t.bytes / 4);
        const auto pb = std::make_shared<Problem>(g, testing::random_platform(k, seed, seed % 2 == 0));
        check_all(*pb, "zero-cost n=" + std::to_string(n) + " k=" + std::to_string(k));
      }
}

TEST(HeuristicProperty, FastestDeviceIsBestSingleDevice) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const auto pb = testing::random_problem(25, 0.2, 3, seed);
    const double fd = simulate_latency(*pb, fastest_device_schedule(*pb)).makespan;
    for (int k = 0; k < 3; ++k) EXPECT_LE(fd, simulate_latency(*pb, single_device_schedule(*pb, k)).makespan);
  }
}

TEST(HeuristicProperty, RandomIsDeterministicPerSeed) {
  const auto pb = testing::random_problem(40, 0.15, 4, 77);
  const Schedule a = random_schedule(*pb, 5), b = random_schedule(*pb, 5), c = random_schedule(*pb, 6);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.order, b.order);
  EXPECT_TRUE(a.device != c.device || a.order != c.order);
}

TEST(HeuristicProperty, HeftBeatsRandomOnAverage) {
  double heft = 0, rnd = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const auto pb = testing::random_problem(40, 0.1, 4, seed);
    heft += simulate_latency(*pb, heft_schedule(*pb)).makespan;
    rnd += simulate_latency(*pb, random_schedule(*pb, seed)).makespan;
  }
  EXPECT_LT(heft, rnd);
}

TEST(HeuristicRegistry, MethodsByName) {
  const auto pb = testing::random_problem(20, 0.2, 3, 9);
  SolveOptions opt;
  opt.seed = 4;
  std::vector<std::string> names;
  for (const MethodInfo& m : latency_methods()) names.push_back(m.name);
  for (const char* want : {"fastest-device", "heft", "cpop", "peft", "etf", "random"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  for (const std::string name : {"fastest-device", "heft", "cpop", "peft", "etf", "random"}) {
    const Schedule s = solve_latency(*pb, name, opt);
    EXPECT_EQ(s.method, name);
    EXPECT_GE(s.solve_seconds, 0.0);
    check_schedule_structure(*pb, s);
  }
  const Schedule r1 = solve_latency(*pb, "random", opt), r2 = random_schedule(*pb, 4);
  EXPECT_EQ(r1.device, r2.device);
  EXPECT_EQ(r1.order, r2.order);
  const Schedule d = solve_latency(*pb, "device:d2", opt);
  EXPECT_EQ(d.method, "device:d2");
  for (OpId v = 0; v < pb->num_ops(); ++v) EXPECT_EQ(d.device[v], 2);
  EXPECT_THROW(solve_latency(*pb, "no-such-method", opt), InputError);
  EXPECT_THROW(solve_latency(*pb, "device:nope", opt), InputError);
  EXPECT_THROW(solve_latency(*pb, "device:", opt), InputError);
}

TEST(HeuristicRegistry, DeviceThatCannotRunAnOp) {
  const auto pb = restricted_problem(10, 3, 5);
  SolveOptions opt;
  try {
    solve_latency(*pb, "device:d1", opt);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("d1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("v0"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(solve_latency(*pb, "device:d0", opt));
}

}  // namespace
}  // namespace diviml

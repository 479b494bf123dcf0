// The latency MILP: optimality against exhaustive search, baselines, simulator agreement, an
// independent solver (glpsol), identical processors, infeasibility, subset solves.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "brute_force.h"
#include "frontend/generators.h"
#include "random_instances.h"
#include "schedule/simulator.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/milp/latency_milp.h"
#include "solvers/milp/model.h"
#include "solvers/split/series_dp.h"
#include "solvers/split/split.h"

using namespace diviml;
using diviml::testing::random_dag;
using diviml::testing::random_platform;
using diviml::testing::random_problem;

namespace {

/// The shared exhaustive search (tests/brute_force.h), with its optimum re-checked by the simulator.
struct BruteForce : diviml::testing::BruteForceLatency {
  using BruteForceLatency::BruteForceLatency;
  double solve() {
    BruteForceLatency::solve();
    const Schedule s = schedule_from_order(pb, best_dev, best_order);
    const double sim = simulate_latency(pb, s).makespan;
    EXPECT_NEAR(sim, best, 1e-9 * best);
    return best;
  }
};

SolveOptions quick(double limit = 60) {
  SolveOptions o;
  o.time_limit_s = limit;
  o.threads = 1;
  return o;
}

void expect_consistent(const Problem& pb, const Schedule& s) {
  const LatencyResult r = simulate_latency(pb, s);
  EXPECT_NEAR(r.makespan, s.claimed_makespan, 1e-9 * std::max(1.0, s.claimed_makespan));
  EXPECT_TRUE(check_claimed_times(pb, s).empty());
  EXPECT_LE(s.lower_bound, r.makespan * (1 + 1e-9));
}

std::vector<Schedule> baselines(const Problem& pb) {
  std::vector<Schedule> out;
  for (auto fn : {fastest_device_schedule, heft_schedule, cpop_schedule, peft_schedule, etf_schedule}) {
    try {
      out.push_back(fn(pb));
    } catch (const std::exception&) {
    }
  }
  return out;
}

}  // namespace

TEST(MilpModel, WritesMpsAndLp) {
  milp::Model m;
  const int a = m.add_var("x op/1", 0, 1, true, 1);
  const int b = m.add_var("9lives", -milp::kInfinity, 5, false, 2);
  m.add_ge("r 1", {{a, 1}, {b, 1}}, 1);
  m.add_row("range", {{a, 2}, {b, -1}}, -1, 3);
  EXPECT_EQ(m.vars[a].name, "x_op_1");
  EXPECT_EQ(m.vars[b].name, "n_9lives");
  std::ostringstream mps, lp;
  milp::write_mps(m, mps);
  milp::write_lp(m, lp);
  EXPECT_NE(mps.str().find("RANGES"), std::string::npos);
  EXPECT_NE(mps.str().find("'INTORG'"), std::string::npos);
  EXPECT_NE(lp.str().find("Binaries"), std::string::npos);
  EXPECT_NE(lp.str().find("range_hi"), std::string::npos);
  EXPECT_THROW(milp::write_model(m, "/tmp/model.txt"), InputError);
  EXPECT_THROW(milp::write_model(m, "/nonexistent-dir/x/model.mps"), InputError);
}

TEST(Milp, MatchesBruteForceOnTinyRandomInstances) {
  for (uint64_t seed = 1; seed <= 36; ++seed) {
    const int K = seed % 3 == 0 ? 3 : 2;
    const int n = K == 3 ? 5 + static_cast<int>(seed % 3) : 6 + static_cast<int>(seed % 3);
    const bool io = seed % 2 == 0;
    auto pb = random_problem(n, 0.35, K, seed, io);
    const double opt = BruteForce(*pb).solve();
    const Schedule s = milp_schedule(*pb, quick());
    SCOPED_TRACE("seed " + std::to_string(seed));
    EXPECT_EQ(s.status, SolveStatus::Optimal);
    EXPECT_NEAR(s.claimed_makespan, opt, 1e-6 * opt);
    expect_consistent(*pb, s);
  }
}

TEST(Milp, NoWorseThanBaselinesAndBoundBelowMakespan) {
  for (uint64_t seed = 101; seed <= 104; ++seed) {
    const int n = 10 + static_cast<int>(seed % 3) * 2, K = seed % 2 ? 3 : 2;
    auto pb = random_problem(n, 0.25, K, seed, seed % 2 == 0);
    const Schedule s = milp_schedule(*pb, quick(20));
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_consistent(*pb, s);
    for (const Schedule& b : baselines(*pb))
      EXPECT_LE(s.claimed_makespan, simulate_latency(*pb, b).makespan * (1 + 1e-9)) << b.method;
    EXPECT_LE(s.lower_bound, s.claimed_makespan * (1 + 1e-9));
    EXPECT_GE(s.lower_bound, critical_path_fastest(*pb) * (1 - 1e-9));
  }
}

TEST(Milp, GlpsolOnExportedModelAgrees) {
  if (std::system("glpsol --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "glpsol not installed";
  const auto dir = std::filesystem::temp_directory_path() / ("diviml_milp_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (uint64_t seed : {3u, 8u, 11u}) {
    auto pb = random_problem(6, 0.35, seed % 2 ? 3 : 2, seed, seed % 2 == 0);
    const Schedule s = milp_schedule(*pb, quick());
    ASSERT_EQ(s.status, SolveStatus::Optimal);
    for (const char* ext : {".mps", ".lp"}) {
      const std::string path = (dir / ("m" + std::to_string(seed) + ext)).string();
      const std::string out = path + ".sol";
      export_latency_milp(*pb, path);
      std::ifstream f(path);
      std::stringstream ss;
      ss << f.rdbuf();
      std::smatch mu;
      const std::string text = ss.str();
      ASSERT_TRUE(std::regex_search(text, mu, std::regex(R"(time unit \(s\): ([0-9.eE+-]+))")));
      const double unit = std::stod(mu[1]);
      const std::string cmd = std::string("glpsol --tmlim 120 ") + (ext[1] == 'm' ? "--freemps " : "--lp ") + path +
                              " -o " + out + " > /dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
      std::ifstream sol(out);
      std::stringstream so;
      so << sol.rdbuf();
      const std::string st = so.str();
      std::smatch mo;
      ASSERT_TRUE(std::regex_search(st, mo, std::regex(R"(Status:\s+INTEGER OPTIMAL)"))) << st.substr(0, 400);
      ASSERT_TRUE(std::regex_search(st, mo, std::regex(R"(Objective:\s+obj = ([0-9.eE+-]+))")));
      EXPECT_NEAR(std::stod(mo[1]) * unit, s.claimed_makespan, 1e-6 * s.claimed_makespan) << path;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Milp, IdenticalProcessorsStgMatchesBruteForce) {
  const auto dir = std::filesystem::temp_directory_path() / ("diviml_milp_stg_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // Two small STG graphs (dummy entry/exit tasks of cost 0), on identical:2 and identical:3.
  const char* stgs[] = {
      "5\n0 0 0\n1 3 1 0\n2 2 1 0\n3 4 1 1\n4 2 2 1 2\n5 3 1 2\n6 0 3 3 4 5\n",
      "6\n0 0 0\n1 4 1 0\n2 3 1 0\n3 3 1 0\n4 2 1 1\n5 5 2 2 3\n6 1 1 3\n7 0 3 4 5 6\n",
  };
  int idx = 0;
  for (const char* text : stgs) {
    const std::string path = (dir / ("g" + std::to_string(idx++) + ".stg")).string();
    std::ofstream(path) << text;
    auto g = read_stg(path);
    for (int N : {2, 3}) {
      auto plat = std::make_shared<Platform>(make_identical_platform(N));
      auto pb = std::make_shared<Problem>(g, plat);
      const double opt = BruteForce(*pb).solve();
      const Schedule s = milp_schedule(*pb, quick());
      SCOPED_TRACE(path + " identical:" + std::to_string(N));
      EXPECT_EQ(s.status, SolveStatus::Optimal);
      EXPECT_NEAR(s.claimed_makespan, opt, 1e-6 * std::max(1.0, opt));
      expect_consistent(*pb, s);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Milp, MemoryInfeasibleDetectedBeforeSolving) {
  auto g = random_dag(5, 0.4, 2, 7);
  for (auto& op : g->ops) op.weight_bytes = 100;
  auto plat = random_platform(2, 7);
  plat->devices[0].memory_bytes = 50;   // no op fits on d0
  plat->devices[1].memory_bytes = 250;  // two ops fit on d1
  auto pb = std::make_shared<Problem>(std::shared_ptr<const Graph>(g), std::shared_ptr<const Platform>(plat));
  try {
    milp_schedule(*pb, quick());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("infeasible"), std::string::npos) << e.what();
  }
  // Enough memory in total but no packing: 3 ops of 100 bytes on two devices of 150 bytes.
  auto g3 = random_dag(3, 0.4, 2, 9);
  for (auto& op : g3->ops) op.weight_bytes = 100;
  plat->devices[0].memory_bytes = 150;
  plat->devices[1].memory_bytes = 150;
  auto pb3 = std::make_shared<Problem>(std::shared_ptr<const Graph>(g3), std::shared_ptr<const Platform>(plat));
  try {
    milp_schedule(*pb3, quick());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("infeasible"), std::string::npos) << e.what();
  }
  plat->devices[0].memory_bytes = 40;
  plat->devices[1].memory_bytes = 40;  // no op fits anywhere: named in the message
  auto pb2 = std::make_shared<Problem>(std::shared_ptr<const Graph>(g), std::shared_ptr<const Platform>(plat));
  try {
    milp_schedule(*pb2, quick());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'v0'"), std::string::npos) << e.what();
  }
}

TEST(Milp, MemoryConstrainedOptimumRespectsCapacity) {
  auto g = random_dag(6, 0.3, 2, 5);
  for (auto& op : g->ops) op.weight_bytes = 10;
  auto plat = random_platform(2, 5, false);
  plat->devices[0].memory_bytes = 30;
  plat->devices[1].memory_bytes = 30;
  auto pb = std::make_shared<Problem>(std::shared_ptr<const Graph>(g), std::shared_ptr<const Platform>(plat));
  const Schedule s = milp_schedule(*pb, quick());
  EXPECT_EQ(s.status, SolveStatus::Optimal);
  EXPECT_EQ(s.order[0].size(), 3u);
  EXPECT_EQ(s.order[1].size(), 3u);
  expect_consistent(*pb, s);
}

TEST(Milp, BadTimeLimitAndExtension) {
  auto pb = random_problem(4, 0.4, 2, 3);
  EXPECT_THROW(milp_schedule(*pb, quick(0)), InputError);
  EXPECT_THROW(milp_schedule(*pb, quick(-1)), InputError);
  EXPECT_THROW(export_latency_milp(*pb, "/tmp/model.txt"), InputError);
  EXPECT_THROW(export_latency_milp(*pb, "/nonexistent-dir/x/model.lp"), InputError);
}

TEST(Milp, SubsetSolveConsistentWithWholeSolve) {
  for (uint64_t seed : {21u, 22u, 23u}) {
    auto pb = random_problem(8, 0.35, 2 + static_cast<int>(seed % 2), seed, seed % 2 == 1);
    const Graph& g = pb->graph();
    const int n = pb->num_ops(), K = pb->num_devices();
    SCOPED_TRACE("seed " + std::to_string(seed));
    const LatencyMilpResult whole = solve_latency_milp(*pb, {}, quick());
    ASSERT_EQ(whole.status, SolveStatus::Optimal);
    // The subset "all ops" with an empty context is the whole problem.
    FixedContext empty{std::vector<int>(n, -1), std::vector<double>(n, 0), std::vector<double>(K, 0)};
    LatencyMilpRequest all;
    all.ops = g.topo_order();
    all.fixed = &empty;
    EXPECT_NEAR(solve_latency_milp(*pb, all, quick()).objective, whole.objective, 1e-6 * whole.objective);
    // Fix the first half (in topological order) as in the whole optimum; solve the rest.
    FixedContext fx{std::vector<int>(n, -1), std::vector<double>(n, 0), std::vector<double>(K, 0)};
    double fixed_end = 0;
    LatencyMilpRequest rest;
    for (int r = 0; r < n; ++r) {
      const OpId v = g.topo_order()[r];
      if (r < n / 2) {
        const int k = whole.device[v];
        fx.device[v] = k;
        fx.finish[v] = whole.start[v] + pb->exec(v, k);
        fx.device_free[k] = std::max(fx.device_free[k], fx.finish[v]);
        fixed_end = std::max(fixed_end, fx.finish[v]);
        for (TensorId t : g.ops[v].outputs)
          if (g.tensors[t].is_graph_output) fixed_end = std::max(fixed_end, fx.finish[v] + pb->output_delivery(t, k));
      } else {
        rest.ops.push_back(v);
      }
    }
    rest.fixed = &fx;
    const LatencyMilpResult part = solve_latency_milp(*pb, rest, quick());
    EXPECT_EQ(part.status, SolveStatus::Optimal);
    EXPECT_LE(part.bound, part.objective * (1 + 1e-9));
    // The combined schedule is a schedule of the whole graph: no better than the whole optimum.
    std::vector<int> dev(n);
    std::vector<double> start(n);
    for (OpId v = 0; v < n; ++v) {
      dev[v] = fx.device[v] >= 0 ? fx.device[v] : part.device[v];
      start[v] = fx.device[v] >= 0 ? fx.finish[v] - pb->exec(v, dev[v]) : part.start[v];
    }
    const Schedule s = schedule_from_times(*pb, dev, start);
    // The simulator may start fixed ops earlier than in the whole optimum (where second-half ops
    // could run before them), never later: the combination is at most the subset's claim.
    const double sim = simulate_latency(*pb, s).makespan;
    EXPECT_LE(sim, std::max(fixed_end, part.objective) * (1 + 1e-9));
    EXPECT_GE(sim, whole.objective * (1 - 1e-9));
    for (OpId v : rest.ops) EXPECT_GE(part.start[v], fx.device_free[part.device[v]] - 1e-12);
  }
}

TEST(Milp, InterruptReturnsWarmStart) {
  auto pb = random_problem(12, 0.25, 3, 77);
  std::atomic<bool> stop{true};
  SolveOptions o = quick(30);
  o.interrupt = &stop;
  const Schedule s = milp_schedule(*pb, o);
  expect_consistent(*pb, s);
  for (const Schedule& b : baselines(*pb))
    EXPECT_LE(s.claimed_makespan, simulate_latency(*pb, b).makespan * (1 + 1e-9));
  EXPECT_NE(s.status, SolveStatus::Optimal);
}

TEST(Milp, ProgressAndTimeLimitOnRandWireStage) {
  RandWireOptions o;
  o.nodes = 24;
  o.stages = 1;
  o.seed = 1;
  auto g = generate_randwire(o);
  auto pb = std::make_shared<Problem>(g, std::make_shared<Platform>(load_platform("paper-node")));
  std::vector<Progress> seen;
  SolveOptions so = quick(3);
  so.threads = 2;
  so.progress = [&](const Progress& p) { seen.push_back(p); };
  const auto t0 = std::chrono::steady_clock::now();
  const Schedule s = milp_schedule(*pb, so);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, 3 + 10);  // baselines + model build + CBC's stop at its next event
  ASSERT_FALSE(seen.empty());
  for (const Progress& p : seen) {
    EXPECT_GT(p.elapsed_s, 0);
    EXPECT_TRUE(std::isfinite(p.incumbent));
    if (std::isfinite(p.bound)) {
      EXPECT_LE(p.bound, p.incumbent * (1 + 1e-9));
    }
  }
  expect_consistent(*pb, s);
  if (s.status != SolveStatus::Optimal) {
    EXPECT_EQ(s.status, SolveStatus::TimeLimit);
  }
}

TEST(Milp, IdenticalProcessorsRandomGraphsMatchBruteForce) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    auto g = random_dag(7, 0.3, 1, seed);
    std::mt19937_64 rng(seed);
    for (auto& op : g->ops) {
      op.device_times.clear();
      op.flops = static_cast<double>(1 + rng() % 9);  // seconds on identical:N
    }
    const int N = seed % 2 ? 2 : 3;
    auto pb = std::make_shared<Problem>(std::shared_ptr<const Graph>(g),
                                        std::make_shared<Platform>(make_identical_platform(N)));
    ASSERT_EQ(pb->identical_device_classes().size(), 1u);
    const double opt = BruteForce(*pb).solve();
    const Schedule s = milp_schedule(*pb, quick());
    SCOPED_TRACE("seed " + std::to_string(seed));
    EXPECT_EQ(s.status, SolveStatus::Optimal);
    EXPECT_NEAR(s.claimed_makespan, opt, 1e-6 * opt);
    expect_consistent(*pb, s);
  }
}

// Exactness of the strengthening (docs/milp.md section 5): the as-soon-as-possible timing of an
// optimal schedule (found by exhaustive search) satisfies every row and bound of the model,
// including the device-aware heads/tails, load and one-machine rows, with or without I/O.
TEST(Milp, OptimalScheduleSatisfiesEveryRow) {
  for (uint64_t seed = 201; seed <= 230; ++seed) {
    const int K = seed % 3 == 0 ? 3 : 2;
    const int n = K == 3 ? 5 + static_cast<int>(seed % 3) : 6 + static_cast<int>(seed % 3);
    auto pb = random_problem(n, 0.35, K, seed, seed % 2 == 0);
    BruteForce bf(*pb);
    const double opt = bf.solve();
    const Schedule s = schedule_from_order(*pb, bf.best_dev, bf.best_order);
    LatencyMilpRequest req;
    req.warm_device = bf.best_dev;
    req.warm_start = simulate_latency(*pb, s).start;
    const LatencyMilpResult r = solve_latency_milp(*pb, req, quick(10));
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + r.warm_violation_what);
    EXPECT_LE(r.warm_violation, 1e-6);
    EXPECT_NEAR(r.objective, opt, 1e-6 * opt);
    EXPECT_LE(r.bound, opt * (1 + 1e-9));
  }
}

TEST(Milp, InterruptDuringSearchStopsEarly) {
  RandWireOptions o;
  o.nodes = 24;
  o.stages = 1;
  o.seed = 1;
  auto pb = std::make_shared<Problem>(generate_randwire(o), std::make_shared<Platform>(load_platform("paper-node")));
  std::atomic<bool> stop{false};
  SolveOptions so = quick(600);
  so.interrupt = &stop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    stop = true;
  });
  // Processor time, not wall time: on a loaded machine the wall clock says nothing about whether
  // CBC obeyed the stop.
  const std::clock_t c0 = std::clock();
  const Schedule s = milp_schedule(*pb, so);
  const double cpu_secs = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  t.join();
  // CBC obeys the stop at its next event (root cut passes can take seconds): far below the
  // processor time it would burn by running to its limit.
  EXPECT_LT(cpu_secs, 60);
  EXPECT_EQ(s.status, SolveStatus::TimeLimit);
  expect_consistent(*pb, s);
  for (const Schedule& b : baselines(*pb))
    EXPECT_LE(s.claimed_makespan, simulate_latency(*pb, b).makespan * (1 + 1e-9));
}

namespace diviml {
namespace {

TEST(Milp, RefusesModelsTooLargeForCbcWithAClearMessage) {
  // 250 independent ops: 31,125 incomparable pairs, above the 20,000 limit. The MILP used to be
  // built anyway (a 3000-op graph took 14 GB and ignored the time limit in its root LP).
  auto pb = testing::random_problem(250, 0.0, 3, 1, true);
  SolveOptions opt;
  opt.time_limit_s = 5;
  try {
    milp_schedule(*pb, opt);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("31125 incomparable op pairs"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--method split"), std::string::npos) << msg;
  }
  // A part of it within the limit still solves.
  LatencyMilpRequest req;
  for (OpId v = 0; v < 6; ++v) req.ops.push_back(v);
  FixedContext ctx;
  ctx.device.assign(pb->num_ops(), -1);
  ctx.finish.assign(pb->num_ops(), 0.0);
  ctx.device_free.assign(pb->num_devices(), 0.0);
  req.fixed = &ctx;
  EXPECT_NO_THROW(solve_latency_milp(*pb, req, opt));
}

}  // namespace
}  // namespace diviml

// Regression (a profiled inception_v3 on two CPUs, whose profile lists Pad ops at 0 s): a
// zero-duration op starts at the same instant as the op after it on its device. The order read
// back from the solver's start times put the long op first (tie broken by topological rank),
// delayed the zero-duration op's consumer on the other device, and the check of the solution
// against its objective T failed with "model bug". Here the optimum forces exactly that tie:
// a (1 s) and z (0 s) can only run on d0, b (1 s, reads z) only on d1, transfers free, so the
// latency 1 s needs z at 0 before a, with a at 0 too.
TEST(Milp, ZeroDurationOpKeepsItsPlaceBeforeTheOpStartingWithIt) {
  auto g = std::make_shared<Graph>();
  g->name = "zero_duration_tie";
  const TensorId in = g->add_tensor(diviml::testing::test_tensor("in", 0));
  auto add = [&](const std::string& name, double d0, double d1, std::vector<TensorId> inputs) {
    Op op;
    op.name = name;
    op.type = "task";
    op.device_times = {{"d0", d0}, {"d1", d1}};
    op.inputs = std::move(inputs);
    const OpId v = g->add_op(std::move(op));
    Tensor t = diviml::testing::test_tensor(name + "_out", 0);
    t.producer = v;
    const TensorId id = g->add_tensor(t);
    g->ops[v].outputs.push_back(id);
    return id;
  };
  const TensorId a = add("a", 1, 100, {in});  // first in topological order: wins a tie on rank
  const TensorId z = add("z", 0, 100, {in});
  const TensorId b = add("b", 100, 1, {z});
  g->tensors[a].is_graph_output = true;
  g->tensors[b].is_graph_output = true;
  g->finalize();
  auto plat = diviml::testing::random_platform(2, 1, /*with_io=*/false);
  for (Link& l : plat->links) l.latency_s = 0;
  const Problem pb(g, plat);

  const LatencyMilpResult r = solve_latency_milp(pb, {}, quick());
  EXPECT_EQ(r.status, SolveStatus::Optimal);
  EXPECT_DOUBLE_EQ(r.objective, 1.0);
  ASSERT_EQ(r.order.size(), 3u);
  EXPECT_DOUBLE_EQ(simulate_latency(pb, schedule_from_order(pb, r.device, r.order)).makespan, 1.0);
  for (const Schedule& s : {milp_schedule(pb, quick()), split_schedule(pb, quick(5)), series_dp_schedule(pb, quick(5))}) {
    SCOPED_TRACE(s.method);
    EXPECT_DOUBLE_EQ(simulate_latency(pb, s).makespan, 1.0);
    EXPECT_EQ(s.status, SolveStatus::Optimal);
    expect_consistent(pb, s);
  }
}

// Throughput: analytic period, pipelined simulation, bound, baselines, MILP, split (issue 6).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "cli_helpers.h"
#include "frontend/load_graph.h"
#include "random_instances.h"
#include "schedule/throughput.h"
#include "solvers/throughput/throughput_model.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml {
namespace {

using Place = std::vector<std::vector<int>>;

/// Minimum period over every placement of R replicas (weights-once memory respected).
double brute_force_period(const ThroughputInstance& in, int R) {
  const int cells = R * in.n;
  std::vector<int> digit(cells, 0);
  double best = kInf;
  Place p(R, std::vector<int>(in.n, 0));
  while (true) {
    bool ok = true;
    for (int i = 0; i < cells; ++i) {
      p[i / in.n][i % in.n] = digit[i];
      ok = ok && std::isfinite(in.exec(i % in.n, digit[i]));
    }
    if (ok && weights_fit(in, p)) best = std::min(best, compute_loads(in, p).period);
    int i = 0;
    while (i < cells && ++digit[i] == in.K) digit[i++] = 0;
    if (i == cells) break;
  }
  return best;
}

ThroughputOptions opts(int R, double time_limit = 20) {
  ThroughputOptions o;
  o.replicas = R;
  o.solve.time_limit_s = time_limit;
  return o;
}

TEST(Throughput, BruteForceEqualsMilpOnTinyInstances) {
  int checked = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed)
    for (int R : {1, 2}) {
      const int n = R == 1 ? 6 : 4, K = seed % 2 ? 3 : 2;
      auto pb = diviml::testing::random_problem(n, 0.4, K, seed, seed % 3 != 0);
      const ThroughputInstance in = ThroughputInstance::from_problem(*pb);
      const double brute = brute_force_period(in, R);
      const ThroughputSchedule s = solve_throughput(*pb, "milp", opts(R));
      ASSERT_EQ(s.replicas, R);
      const ThroughputAnalysis a = analyze_throughput(*pb, s);
      EXPECT_EQ(s.status, SolveStatus::Optimal) << "seed " << seed << " R " << R;
      EXPECT_NEAR(a.period_s, brute, 1e-6 * brute) << "seed " << seed << " R " << R;
      EXPECT_NEAR(s.claimed_period, a.period_s, 1e-6 * brute) << "the MILP's period is the analytic one";
      EXPECT_GE(s.lower_bound_period, 0);
      EXPECT_LE(s.lower_bound_period, brute * (1 + 1e-6));
      ++checked;
    }
  EXPECT_EQ(checked, 12);
}

TEST(Throughput, BruteForceWithWeightsOnceMemory) {
  // Weights: each op 3 units; device capacities force a split but replicas share weights.
  auto g = diviml::testing::random_dag(4, 0.5, 2, 11);
  for (auto& op : g->ops) op.weight_bytes = 3;
  auto plat = diviml::testing::random_platform(2, 11);
  plat->devices[0].memory_bytes = 6;   // two ops
  plat->devices[1].memory_bytes = 9;   // three ops
  auto pb = std::make_shared<Problem>(g, plat);
  const ThroughputInstance in = ThroughputInstance::from_problem(*pb);
  for (int R : {1, 2}) {
    const double brute = brute_force_period(in, R);
    ASSERT_TRUE(std::isfinite(brute));
    const ThroughputSchedule s = solve_throughput(*pb, "milp", opts(R));
    EXPECT_TRUE(weights_fit(in, s.device));
    EXPECT_NEAR(analyze_throughput(*pb, s).period_s, brute, 1e-6 * brute) << "R " << R;
  }
}

TEST(Throughput, MilpAtLeastEveryBaselineAndBoundAboveAll) {
  for (uint64_t seed = 21; seed <= 24; ++seed) {
    auto pb = diviml::testing::random_problem(12, 0.25, 3, seed, seed % 2 == 0);
    const ThroughputBound b = throughput_bound(*pb);
    for (int R : {1, 2, 0}) {
      std::map<std::string, double> thr;
      for (const auto& m : throughput_methods()) {
        if (m.name == "llm-symmetric" || m.name == "uniform-layers") continue;  // need repeated layers
        const ThroughputSchedule s = solve_throughput(*pb, m.name, opts(R, 5));
        if (R > 0) {
          EXPECT_EQ(s.replicas, R) << m.name;
        }
        const ThroughputAnalysis a = analyze_throughput(*pb, s);
        thr[m.name] = a.throughput_per_s;
        EXPECT_LE(a.throughput_per_s, b.throughput_upper_per_s() * (1 + 1e-6)) << m.name << " seed " << seed;
        EXPECT_GE(a.period_s, b.period_bound(s.replicas) * (1 - 1e-6)) << m.name;
        if (!std::isnan(s.lower_bound_period)) {
          EXPECT_LE(s.lower_bound_period, a.period_s * (1 + 1e-6)) << m.name;
        }
      }
      for (const auto& [name, t] : thr) {
        if (name != "split") {
          EXPECT_GE(thr["milp"], t * (1 - 1e-9)) << "milp vs " << name << " seed " << seed << " R " << R;
        }
      }
      EXPECT_GE(thr["split"], thr["fastest-device"] * (1 - 1e-9));
    }
  }
}

TEST(Throughput, BoundBelowBruteForceOptimum) {
  for (uint64_t seed = 31; seed <= 36; ++seed) {
    auto pb = diviml::testing::random_problem(5, 0.4, 2, seed);
    const ThroughputInstance in = ThroughputInstance::from_problem(*pb);
    const ThroughputBound b = throughput_bound(in);
    for (int R : {1, 2}) EXPECT_LE(b.period_bound(R), brute_force_period(in, R) * (1 + 1e-6)) << "seed " << seed;
  }
}

TEST(Throughput, PipelinedSimulationReachesAnalyticPeriod) {
  std::mt19937_64 rng(5);
  int cases = 0;
  double worst = 0;
  for (uint64_t seed = 41; seed <= 52; ++seed) {
    const int n = 15 + static_cast<int>(seed % 4) * 8;
    auto pb = diviml::testing::random_problem(n, 0.15, 3, seed, seed % 3 != 0);
    const ThroughputInstance in = ThroughputInstance::from_problem(*pb);
    for (int R : {1, 2, 3}) {
      Place p(R, std::vector<int>(n));
      for (auto& rep : p)
        for (int& d : rep) d = static_cast<int>(rng() % 3);
      for (Dispatch dispatch : {Dispatch::Periodic, Dispatch::Greedy})
        for (bool contention : {true, false}) {
          PipelineOptions po;
          po.contention = contention;
          po.dispatch = dispatch;
          const PipelineResult pr = simulate_pipeline(in, p, po);
          const double analytic = compute_loads(in, p).period / R;
          if (contention) {
            const double rel = std::fabs(pr.period_per_inference_s - analytic) / analytic;
            worst = std::max(worst, rel);
            EXPECT_LE(rel, dispatch == Dispatch::Periodic ? 0.01 : 0.02) << "seed " << seed << " R " << R;
          } else {
            // Without contention links are not serial resources: never slower than the period.
            EXPECT_LE(pr.period_per_inference_s, analytic * 1.02) << "seed " << seed << " R " << R;
          }
          EXPECT_GT(pr.latency_mean_s, 0);
          EXPECT_GT(pr.first_latency_s, 0);
          if (dispatch == Dispatch::Periodic && contention) {
            // The paced run at the period keeps latency bounded: no drift between halves.
            EXPECT_LE(pr.latency_max_s, pr.latency_mean_s * 3 + analytic * R * 4);
          }
        }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 36);
  RecordProperty("worst_relative_error", std::to_string(worst));
}

TEST(Throughput, PipelinedSimulationOfSolverSchedules) {
  for (uint64_t seed = 61; seed <= 63; ++seed) {
    auto pb = diviml::testing::random_problem(20, 0.2, 3, seed);
    for (const std::string m : {"data-parallel", "pipeline-dp", "milp"}) {
      const ThroughputSchedule s = solve_throughput(*pb, m, opts(0, 3));
      const ThroughputAnalysis a = analyze_throughput(*pb, s);
      const PipelineResult pr = simulate_pipeline(*pb, s);
      EXPECT_NEAR(pr.throughput_per_s, a.throughput_per_s, 0.02 * a.throughput_per_s) << m << " seed " << seed;
      EXPECT_GT(pr.first_latency_s, 0);
    }
  }
}

TEST(Throughput, AnalyticLoadsOnHandExample) {
  // a -> b chain, two devices, I/O on d0: input 2 bytes, a->b 4 bytes, output 1 byte.
  Graph g;
  Tensor in;
  in.name = "in";
  in.bytes = 2;
  const TensorId ti = g.add_tensor(in);
  Tensor ab;
  ab.name = "ab";
  ab.bytes = 4;
  const TensorId tab = g.add_tensor(ab);
  Tensor out;
  out.name = "out";
  out.bytes = 1;
  out.is_graph_output = true;
  const TensorId to = g.add_tensor(out);
  Op a;
  a.name = "a";
  a.device_times = {{"d0", 3}, {"d1", 1}};
  a.inputs = {ti};
  a.outputs = {tab};
  g.add_op(a);
  Op b;
  b.name = "b";
  b.device_times = {{"d0", 2}, {"d1", 5}};
  b.inputs = {tab};
  b.outputs = {to};
  g.add_op(b);
  g.finalize();
  auto plat = std::make_shared<Platform>();
  for (int k = 0; k < 2; ++k) {
    Device d;
    d.name = "d" + std::to_string(k);
    d.peak_flops = 1;
    d.mem_bandwidth = 1;
    plat->devices.push_back(d);
  }
  plat->links.push_back(Link{0, 1, 1.0, 0.5});  // 0.5 + bytes
  plat->default_intra_server = Link{0, 0, 1.0, 0.0};
  plat->default_inter_server = Link{0, 0, 1.0, 0.0};
  plat->io_device = 0;
  plat->validate();
  auto pb = std::make_shared<Problem>(std::make_shared<Graph>(g), plat);
  ThroughputSchedule s;
  s.replicas = 2;
  s.device = {{1, 0}, {0, 0}};  // replica 0: a on d1 (input 2.5 over d0->d1, ab 4.5 back), replica 1 all on d0
  const ThroughputAnalysis an = analyze_throughput(*pb, s);
  EXPECT_DOUBLE_EQ(an.device_seconds[0], 2 + 3 + 2);
  EXPECT_DOUBLE_EQ(an.device_seconds[1], 1);
  ASSERT_EQ(an.links.size(), 2u);
  double d01 = 0, d10 = 0;
  for (const auto& l : an.links) (l.from == 0 ? d01 : d10) = l.seconds;
  EXPECT_DOUBLE_EQ(d01, 2.5);
  EXPECT_DOUBLE_EQ(d10, 4.5);
  EXPECT_DOUBLE_EQ(an.period_s, 7);
  EXPECT_DOUBLE_EQ(an.throughput_per_s, 2.0 / 7);
  const PipelineResult pr = simulate_pipeline(*pb, s);
  EXPECT_NEAR(pr.period_per_inference_s, 3.5, 0.02 * 3.5);
}

TEST(Throughput, MemoryRespectedByEveryMethod) {
  for (uint64_t seed = 71; seed <= 73; ++seed) {
    auto g = diviml::testing::random_dag(16, 0.2, 3, seed);
    double total = 0;
    for (size_t v = 0; v < g->ops.size(); ++v) total += (g->ops[v].weight_bytes = 1000 + 100 * static_cast<double>(v % 5));
    auto plat = diviml::testing::random_platform(3, seed);
    // No device holds the whole model; together they do.
    for (auto& d : plat->devices) d.memory_bytes = total * 0.45 + 200;  // activations are < 200 bytes
    auto pb = std::make_shared<Problem>(g, plat);
    const ThroughputInstance in = ThroughputInstance::from_problem(*pb);
    for (const std::string m : {"pipeline-dp", "heft-pipeline", "milp", "split"}) {
      const ThroughputSchedule s = solve_throughput(*pb, m, opts(0, 3));
      EXPECT_TRUE(weights_fit(in, s.device)) << m;
      EXPECT_TRUE(analyze_throughput(*pb, s).memory_violations.empty()) << m;
    }
    EXPECT_THROW(solve_throughput(*pb, "fastest-device", opts(1)), InputError);
    EXPECT_THROW(solve_throughput(*pb, "data-parallel", opts(0)), InputError);
  }
}

TEST(Throughput, BadInputNamesWhatCannotBeMet) {
  auto pb = diviml::testing::random_problem(8, 0.3, 2, 3);
  try {
    solve_throughput(*pb, "milp", opts(65));
    FAIL() << "R = 65 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("1..64"), std::string::npos) << e.what();
  }
  ThroughputOptions o = opts(1);
  o.max_latency_s = 1e-6;
  try {
    solve_throughput(*pb, "milp", o);
    FAIL() << "impossible latency cap accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("max-latency"), std::string::npos) << e.what();
  }
  EXPECT_THROW(solve_throughput(*pb, "nope", opts(1)), InputError);
  auto g = diviml::testing::random_dag(4, 0.5, 2, 5);
  g->ops[2].weight_bytes = 1e12;
  auto plat = diviml::testing::random_platform(2, 5);
  for (auto& d : plat->devices) d.memory_bytes = 1e9;
  auto pb2 = std::make_shared<Problem>(g, plat);
  try {
    solve_throughput(*pb2, "split", opts(1));
    FAIL() << "impossible memory accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("memory"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("v2"), std::string::npos) << e.what();
  }
}

TEST(Throughput, LatencyCapIsMet) {
  auto pb = diviml::testing::random_problem(12, 0.25, 3, 81);
  const ThroughputSchedule free_s = solve_throughput(*pb, "milp", opts(2, 5));
  const ThroughputAnalysis fa = analyze_throughput(*pb, free_s);
  double lat_fast = kInf;
  for (int k = 0; k < pb->num_devices(); ++k) {
    ThroughputSchedule one;
    one.device = {std::vector<int>(pb->num_ops(), k)};
    lat_fast = std::min(lat_fast, analyze_throughput(*pb, one).replica_latency_s[0]);
  }
  ThroughputOptions o = opts(2, 5);
  o.max_latency_s = lat_fast;  // the fastest single device meets it
  const ThroughputSchedule s = solve_throughput(*pb, "milp", o);
  const ThroughputAnalysis a = analyze_throughput(*pb, s);
  for (double l : a.replica_latency_s) EXPECT_LE(l, lat_fast * (1 + 1e-9));
  EXPECT_LE(a.throughput_per_s, fa.throughput_per_s * (1 + 1e-9));
}

TEST(Throughput, ExportWritesLpAndMps) {
  auto pb = diviml::testing::random_problem(6, 0.4, 2, 91);
  const std::string lp = diviml::testing::temp_path("tput.lp"), mps = diviml::testing::temp_path("tput.mps");
  export_throughput_milp(*pb, 2, lp);
  export_throughput_milp(*pb, 2, mps);
  std::ifstream f(lp);
  std::string text((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(text.find("Minimize"), std::string::npos);
  EXPECT_NE(text.find("load_"), std::string::npos);
  EXPECT_THROW(export_throughput_milp(*pb, 0, lp), InputError);
}

TEST(Throughput, SplitOnRealModelBeatsFastestDevice) {
  std::vector<std::string> warnings;
  LoadOptions lo;
  lo.warnings = &warnings;
  auto g = load_graph(diviml::testing::data_path("resnet18.onnx"), lo);
  auto plat = std::make_shared<Platform>(load_platform("paper-node"));
  auto pb = std::make_shared<Problem>(g, plat);
  const ThroughputSchedule f = solve_throughput(*pb, "fastest-device", opts(1));
  const ThroughputSchedule s = solve_throughput(*pb, "split", opts(0, 8));
  const double tf = analyze_throughput(*pb, f).throughput_per_s;
  const ThroughputAnalysis a = analyze_throughput(*pb, s);
  EXPECT_GT(a.throughput_per_s, tf * 1.2);
  EXPECT_LE(a.throughput_per_s, throughput_bound(*pb).throughput_upper_per_s() * (1 + 1e-6));
  EXPECT_TRUE(a.memory_violations.empty());
  EXPECT_LT(s.solve_seconds, 8 * 1.5 + 5);
}

TEST(Throughput, CliScheduleAndCompare) {
  using diviml::testing::run_cli;
  const std::string model = diviml::testing::data_path("squeezenet1_0.onnx");
  const std::string out = diviml::testing::temp_path("tput_sched.json");
  auto r = run_cli("schedule " + model + " --objective throughput --method data-parallel --replicas auto -q -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(out);
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["objective"], "throughput");
  for (const char* key : {"throughput_per_s", "period_s", "replicas", "throughput_bound_per_s", "gap",
                          "replica_placements", "devices", "links", "pipelined"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_LE(j["throughput_per_s"].get<double>(), j["throughput_bound_per_s"].get<double>() * (1 + 1e-6));
  r = run_cli("compare " + model + " --objective throughput --methods fastest-device,data-parallel,pipeline-dp -q");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("pipeline-dp"), std::string::npos);
  r = run_cli("schedule " + model + " --objective throughput --replicas 0 -q");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("1..64"), std::string::npos) << r.output;
  r = run_cli("schedule " + model + " --objective throughput --method milp --max-latency 1e-9 -q");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("max-latency"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace diviml

// LLM planner (issue 7): repeated blocks, identical servers, symmetric plan vs flat solve,
// uniform-layers, memory and bad input.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "frontend/llm.h"
#include "frontend/load_graph.h"
#include "platform/platform.h"
#include "schedule/simulator.h"
#include "schedule/throughput.h"
#include "solvers/llm/llm_methods.h"
#include "solvers/llm/llm_planner.h"
#include "solvers/memory/memory.h"

namespace diviml {
namespace {

std::shared_ptr<const Graph> small_llm(int layers, int64_t seq = 512) {
  LlmOptions o = llm_preset("7b");
  o.layers = layers;
  o.seq = seq;
  return generate_llm(o);
}

std::shared_ptr<Problem> problem(std::shared_ptr<const Graph> g, const std::string& platform) {
  return std::make_shared<Problem>(g, std::make_shared<Platform>(load_platform(platform)));
}

TEST(Llm, DetectsRepeatedLayers) {
  auto g = small_llm(6);
  const RepeatedBlocks rb = detect_repeated_blocks(*g);
  EXPECT_EQ(rb.count, 6);
  EXPECT_EQ(rb.period, 2);  // attn + mlp
  EXPECT_EQ(rb.first, 1);   // embed
  EXPECT_EQ(static_cast<int>(rb.units.size()) - rb.suffix_begin(), 1);  // lm_head
  EXPECT_EQ(g->ops[rb.units[rb.first][0]].name, "layer0.attn");
}

TEST(Llm, NoRepeatedBlocksIsAnInputError) {
  auto g = small_llm(1);
  EXPECT_THROW(detect_repeated_blocks(*g), InputError);
}

TEST(Llm, Gpt2OnnxLayersAreDetected) {
  auto g = load_graph(std::string(DIVIML_TEST_DATA) + "/gpt2_small.onnx");
  const RepeatedBlocks rb = detect_repeated_blocks(*g);
  // 12 layers of 2 units (attention, MLP). In the exported graph the first attention unit and the
  // last MLP unit differ from the others (the mask / the head's input), so the detector finds 11
  // identical blocks shifted by one unit (MLP of layer i + attention of layer i + 1); the planner
  // works on any alignment.
  EXPECT_GE(rb.count, 11) << "blocks " << rb.count << " of " << rb.period << " units";
  EXPECT_EQ(rb.period, 2);
  auto pb = std::make_shared<Problem>(std::shared_ptr<const Graph>(g), std::make_shared<Platform>(load_platform("llm-cluster-2")));
  const LlmPlan sym = plan_llm_symmetric(*pb);
  const LlmPlan uni = plan_uniform_layers(*pb);
  EXPECT_GT(sym.throughput_per_s, 0);
  EXPECT_GE(sym.throughput_per_s, 0.99 * uni.throughput_per_s);
}

TEST(Llm, ServerStructureOfClusterPresets) {
  for (int n : {1, 2, 4, 8, 16}) {
    const Platform p = load_platform("llm-cluster-" + std::to_string(n));
    const ServerStructure ss = server_structure(p);
    EXPECT_EQ(static_cast<int>(ss.devices.size()), n);
    EXPECT_TRUE(ss.identical);
    EXPECT_EQ(ss.num_gpus_per_server, 2);
  }
  Platform p = load_platform("llm-cluster-2");
  p.devices[p.device_index("s1.l40s")].memory_bytes = 2.4e10;
  EXPECT_FALSE(server_structure(p).identical);
}

TEST(Llm, SymmetricPlanEqualsFlatSolve) {
  for (int servers : {1, 2, 3, 4}) {
    for (int layers : {4, 7, 12}) {
      SCOPED_TRACE(std::to_string(servers) + " servers, " + std::to_string(layers) + " layers");
      std::string plat = servers == 3 ? "" : "llm-cluster-" + std::to_string(servers);
      std::shared_ptr<Problem> pb;
      if (servers == 3) {
        Platform p = load_platform("llm-cluster-4");
        // Keep servers 0..2 only.
        Platform q = p;
        q.devices.resize(9);
        q.links.erase(std::remove_if(q.links.begin(), q.links.end(), [](const Link& e) { return e.a >= 9 || e.b >= 9; }),
                      q.links.end());
        pb = std::make_shared<Problem>(small_llm(layers), std::make_shared<Platform>(q));
      } else {
        pb = problem(small_llm(layers), plat);
      }
      LlmPlanOptions pure;
      pure.refine_s = 0;
      pure.search_groups = false;
      const LlmPlan sym = plan_llm_symmetric(*pb, pure);
      const LlmPlan flat = plan_llm_flat(*pb, pure);
      EXPECT_NEAR(sym.period_s, flat.period_s, 0.01 * flat.period_s);
      // Refinement and the search over pipeline groups never make it worse.
      const LlmPlan full = plan_llm_symmetric(*pb);
      EXPECT_GE(full.throughput_per_s, sym.throughput_per_s * (1 - 1e-9));
      EXPECT_NEAR(full.throughput_per_s, plan_llm_flat(*pb).throughput_per_s, 0.01 * full.throughput_per_s);
      EXPECT_LE(sym.subproblems_solved, flat.subproblems_solved);
      int total = 0;
      for (int m : sym.layers_per_server) total += m;
      EXPECT_EQ(total, layers);
      // The planner's own estimate is the analytic period.
      EXPECT_NEAR(sym.dp_period_s, sym.period_s, 1e-6 * sym.period_s);
    }
  }
}

TEST(Llm, SymmetricNotWorseThanFlatPipelineDp) {
  // The general contiguous pipeline DP of the throughput methods (tractable up to 12 devices).
  for (int servers : {1, 2}) {
    auto pb = problem(small_llm(8), "llm-cluster-" + std::to_string(servers));
    const LlmPlan sym = plan_llm_symmetric(*pb);
    ThroughputOptions o;
    const ThroughputSchedule dp = solve_throughput(*pb, "pipeline-dp", o);
    const double dp_thr = analyze_throughput(*pb, dp).throughput_per_s;
    EXPECT_GE(sym.throughput_per_s, 0.99 * dp_thr) << servers << " servers";
  }
}

TEST(Llm, GroupsOfServersRunPipelinesSideBySide) {
  auto pb = problem(small_llm(8), "llm-cluster-4");
  LlmPlanOptions pure;
  pure.search_groups = false;
  pure.refine_s = 0;
  const LlmPlan one_pipeline = plan_llm_symmetric(*pb, pure);
  const LlmPlan full = plan_llm_symmetric(*pb);
  EXPECT_GE(full.throughput_per_s, one_pipeline.throughput_per_s * (1 - 1e-9));
  auto pb1 = problem(small_llm(8), "llm-cluster-1");
  const LlmPlan single = plan_llm_symmetric(*pb1, pure);
  EXPECT_GE(full.throughput_per_s, 0.95 * 4 * single.throughput_per_s);
  const ThroughputAnalysis a = analyze_throughput(*pb, full.schedule);
  EXPECT_TRUE(a.memory_violations.empty());
  EXPECT_EQ(full.replicas, full.schedule.replicas);
  // Replicas use disjoint devices.
  std::vector<int> owner(pb->num_devices(), -1);
  for (int r = 0; r < full.schedule.replicas; ++r)
    for (int k : full.schedule.device[r]) {
      EXPECT_TRUE(owner[k] == -1 || owner[k] == r);
      owner[k] = r;
    }
}

TEST(Llm, UniformLayersSplitsEquallyOverGpus) {
  auto pb = problem(small_llm(8), "llm-cluster-2");
  const LlmPlan u = plan_uniform_layers(*pb);
  const Graph& g = pb->graph();
  const Platform& p = pb->platform();
  const std::vector<int>& dev = u.schedule.device[0];
  const std::vector<std::string> gpus = {"s0.a100", "s0.l40s", "s1.a100", "s1.l40s"};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(p.devices[dev[g.op_id("layer" + std::to_string(i) + ".attn")]].name, gpus[i / 2]);
    EXPECT_EQ(p.devices[dev[g.op_id("layer" + std::to_string(i) + ".mlp")]].name, gpus[i / 2]);
  }
  EXPECT_EQ(p.devices[dev[g.op_id("embed")]].name, "s0.a100");
  EXPECT_EQ(p.devices[dev[g.op_id("lm_head")]].name, "s1.l40s");
  EXPECT_EQ(u.layers_per_server, (std::vector<int>{4, 4}));
  // Remainder goes to the first GPUs.
  auto pb7 = problem(small_llm(7), "llm-cluster-2");
  EXPECT_EQ(plan_uniform_layers(*pb7).layers_per_server, (std::vector<int>{4, 3}));
}

TEST(Llm, SymmetricBeatsUniformOnHeterogeneousGpus) {
  for (int servers : {1, 2, 4}) {
    auto pb = problem(small_llm(16), "llm-cluster-" + std::to_string(servers));
    const LlmPlan sym = plan_llm_symmetric(*pb);
    const LlmPlan uni = plan_uniform_layers(*pb);
    EXPECT_GE(sym.throughput_per_s, uni.throughput_per_s * (1 - 1e-9)) << servers;
  }
}

TEST(Llm, LayerCountNotDivisibleAsRequested) {
  auto pb = problem(small_llm(6), "llm-cluster-4");
  LlmPlanOptions o;
  o.require_divisible = true;  // 6 layers over 8 GPUs
  EXPECT_THROW(plan_uniform_layers(*pb, o), InputError);
  LlmPlanOptions l;
  l.layers_per_server = 2;  // 6 layers over 4 servers
  try {
    plan_llm_symmetric(*pb, l);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not divisible"), std::string::npos) << e.what();
  }
  auto pb8 = problem(small_llm(8), "llm-cluster-4");
  const LlmPlan fixed = plan_llm_symmetric(*pb8, l);
  EXPECT_EQ(fixed.layers_per_server, (std::vector<int>{2, 2, 2, 2}));
}

TEST(Llm, TemplateWithoutGpuIsAnInputError) {
  const std::string json = R"({"name": "cpus", "servers": 2, "server_template": {"devices": [
      {"name": "cpu", "kind": "cpu", "peak_flops": 1e12, "mem_bandwidth": 1e11, "memory_bytes": 1e12}]},
      "default_link": {"bandwidth": 1e10}, "network": {"bandwidth": 1e10, "latency_s": 5e-6}})";
  auto pb = std::make_shared<Problem>(small_llm(4), std::make_shared<Platform>(platform_from_json_text(json, "cpus.json")));
  EXPECT_THROW(plan_uniform_layers(*pb), InputError);
  try {
    plan_llm_symmetric(*pb);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no GPU"), std::string::npos) << e.what();
  }
}

TEST(Llm, ModelThatDoesNotFitTheCluster) {
  auto g = small_llm(8);
  Platform p = load_platform("llm-cluster-2");
  for (auto& d : p.devices) d.memory_bytes = 0.1 * g->total_weight_bytes(), d.reserve_bytes = 0;
  auto pb = std::make_shared<Problem>(g, std::make_shared<Platform>(p));
  try {
    plan_llm_symmetric(*pb);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
}

TEST(Llm, PlansRespectMemoryOnShrunkGpus) {
  auto g = small_llm(12);
  const double w = g->total_weight_bytes();
  for (double frac : {0.6, 0.35, 0.2}) {
    Platform p = load_platform("llm-cluster-2");
    for (auto& d : p.devices)
      if (d.kind == DeviceKind::Gpu) d.memory_bytes = frac * w + d.reserve_bytes;
    auto pb = std::make_shared<Problem>(g, std::make_shared<Platform>(p));
    SCOPED_TRACE(frac);
    const LlmPlan sym = plan_llm_symmetric(*pb);
    const ThroughputAnalysis a = analyze_throughput(*pb, sym.schedule);
    EXPECT_TRUE(a.memory_violations.empty()) << a.memory_violations.front();
    for (double h : sym.headroom_bytes) EXPECT_GE(h, -1e-6);
    ThroughputOptions o;
    EXPECT_NO_THROW(llm_symmetric_throughput(*pb, o));
  }
  // Uniform split of a model too big for 1/4 of it per GPU: memory error from the method.
  Platform p = load_platform("llm-cluster-2");
  for (auto& d : p.devices)
    if (d.kind == DeviceKind::Gpu) d.memory_bytes = 0.2 * w + d.reserve_bytes;
  auto pb = std::make_shared<Problem>(g, std::make_shared<Platform>(p));
  EXPECT_THROW(uniform_layers_throughput(*pb, ThroughputOptions{}), InputError);
}

TEST(Llm, SeventyBOnOneServerUsesTheCpu) {
  LlmOptions o = llm_preset("70b");
  o.seq = 256;
  auto pb = problem(generate_llm(o), "llm-cluster-1");
  LlmPlanOptions gpu_first;
  gpu_first.use_cpu = false;  // still falls back to the CPU: the GPUs lack the memory
  const LlmPlan sym = plan_llm_symmetric(*pb, gpu_first);
  EXPECT_TRUE(analyze_throughput(*pb, sym.schedule).memory_violations.empty());
  EXPECT_NE(sym.summary.find("CPU"), std::string::npos) << sym.summary;
  LlmPlanOptions with_cpu;
  with_cpu.cpu_gain = 0;  // a superset of placements: never a longer period
  EXPECT_LE(plan_llm_symmetric(*pb, with_cpu).period_s, sym.period_s * (1 + 1e-9));
}

TEST(Llm, LatencyAndThroughputAreSimulatorFigures) {
  auto pb = problem(small_llm(8), "llm-cluster-4");
  const LlmPlan sym = plan_llm_symmetric(*pb);
  const Schedule s = schedule_from_order(*pb, sym.schedule.device[0], pb->graph().topo_order());
  EXPECT_DOUBLE_EQ(sym.latency_s, simulate_latency(*pb, s).makespan);
  EXPECT_DOUBLE_EQ(sym.throughput_per_s, analyze_throughput(*pb, sym.schedule).throughput_per_s);
  PipelineOptions po;
  po.inferences = 200;
  po.contention = false;
  const PipelineResult pr = simulate_pipeline(*pb, sym.schedule, po);
  EXPECT_NEAR(pr.throughput_per_s, sym.throughput_per_s, 0.02 * sym.throughput_per_s);
}

}  // namespace
}  // namespace diviml

// ---------------------------------------------------------------------------------------------
// Benchmark driver for bench/llm_bench.sh (disabled: not a test). Environment:
//   LLM_BENCH_MODELS   "13b 70b"            presets of frontend/llm.h
//   LLM_BENCH_SERVERS  "1 2 4 8 16"         llm-cluster-N presets
//   LLM_BENCH_PHASE    prefill | decode     (seq 2048, batch 1 | kv 2048, batch 16)
#include <chrono>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

namespace diviml {
namespace {

std::vector<std::string> env_words(const char* name, const char* dflt) {
  const char* v = std::getenv(name);
  std::istringstream in(v && *v ? v : dflt);
  std::vector<std::string> r;
  for (std::string w; in >> w;) r.push_back(w);
  return r;
}

TEST(LlmBench, DISABLED_Clusters) {
  const std::string phase = env_words("LLM_BENCH_PHASE", "prefill")[0];
  fmt::print("{:<5} {:>3} {:>7} | {:>10} {:>10} {:>9} {:>8} | {:>10} {:>10} | {:>6} {:>6} | {:>9} {:>9} | {:>16} {:>9} | {}\n",
             "model", "srv", "phase", "sym thr/s", "uni thr/s", "speedup", "solve s", "sym lat s", "uni lat s", "subp",
             "flat", "flat s", "flat/sym", "pipeline-dp thr", "min head", "layers per server");
  for (const std::string& model : env_words("LLM_BENCH_MODELS", "13b 70b")) {
    LlmOptions o = llm_preset(model);
    if (phase == "decode") o.phase = "decode", o.seq = 2048, o.batch = 16;
    else o.seq = 2048, o.batch = 1;
    std::shared_ptr<const Graph> g = generate_llm(o);
    for (const std::string& n : env_words("LLM_BENCH_SERVERS", "1 2 4 8 16")) {
      auto pb = std::make_shared<Problem>(g, std::make_shared<Platform>(load_platform("llm-cluster-" + n)));
      const LlmPlan sym = plan_llm_symmetric(*pb);
      std::string uni_thr = "-", uni_lat = "-", speed = "-";
      try {
        const LlmPlan uni = plan_uniform_layers(*pb);
        const bool fits = analyze_throughput(*pb, uni.schedule).memory_violations.empty();
        uni_thr = fmt::format("{:.4g}{}", uni.throughput_per_s, fits ? "" : "!");
        uni_lat = fmt::format("{:.4g}", uni.latency_s);
        speed = fmt::format("{:.2f}x", sym.throughput_per_s / uni.throughput_per_s);
      } catch (const InputError&) {
      }
      const LlmPlan flat = plan_llm_flat(*pb);
      std::string pdp = "-";
      if (pb->num_devices() <= 12) {
        try {
          ThroughputOptions to;
          const ThroughputSchedule d = solve_throughput(*pb, "pipeline-dp", to);
          pdp = fmt::format("{:.4g} ({:.2f}s)", analyze_throughput(*pb, d).throughput_per_s, d.solve_seconds);
        } catch (const InputError&) {
          pdp = "nofit";
        }
      }
      double head = kInf;
      for (int k = 0; k < pb->num_devices(); ++k)
        if (pb->platform().devices[k].kind != DeviceKind::Cpu) head = std::min(head, sym.headroom_bytes[k]);
      std::string shares;
      for (int m : sym.layers_per_server) shares += (shares.empty() ? "" : ",") + std::to_string(m);
      fmt::print("{:<5} {:>3} {:>7} | {:>10.4g} {:>10} {:>9} {:>8.3f} | {:>10.4g} {:>10} | {:>6} {:>6} | {:>9.3f} {:>9.4f} | "
                 "{:>16} {:>7.1f}GB | {}\n",
                 model, n, phase, sym.throughput_per_s, uni_thr, speed, sym.solve_seconds, sym.latency_s, uni_lat,
                 sym.subproblems_solved, flat.subproblems_solved, flat.solve_seconds,
                 flat.period_s / sym.period_s, pdp, head / 1e9, shares);
      fmt::print("      plan (R={}): {} | before refinement: {:.4g}/s\n", sym.replicas, sym.summary,
                 sym.replicas / sym.symmetric_period_s);
    }
  }
}

}  // namespace
}  // namespace diviml

namespace diviml {
namespace {

// Flat solves by the general throughput methods (MILP on CBC, split) against the symmetric plan,
// where they are tractable. LLM_BENCH_MILP_S: time limit per MILP solve (default 30).
TEST(LlmBench, DISABLED_FlatMilp) {
  const double limit = std::getenv("LLM_BENCH_MILP_S") ? std::atof(std::getenv("LLM_BENCH_MILP_S")) : 30;
  fmt::print("{:<14} {:>3} | {:>10} {:>8} | {:>10} {:>8} {:>10} | {:>10} {:>8}\n", "model", "srv", "sym thr/s", "sym s",
             "milp thr/s", "milp s", "milp gap", "split thr", "split s");
  struct Case { std::string name; int layers; int64_t seq; };
  for (const Case& c : {Case{"7b-4L", 4, 2048}, Case{"7b-8L", 8, 2048}, Case{"13b", 40, 2048}}) {
    LlmOptions o = llm_preset(c.name == "13b" ? "13b" : "7b");
    o.layers = c.layers;
    o.seq = c.seq;
    std::shared_ptr<const Graph> g = generate_llm(o);
    for (int n : {1, 2}) {
      auto pb = std::make_shared<Problem>(g, std::make_shared<Platform>(load_platform("llm-cluster-" + std::to_string(n))));
      const LlmPlan sym = plan_llm_symmetric(*pb);
      ThroughputOptions to;
      to.replicas = 1;
      to.solve.time_limit_s = limit;
      std::string mt = "-", ms = "-", mg = "-", st = "-", sts = "-";
      try {
        const ThroughputSchedule m = solve_throughput(*pb, "milp", to);
        const double thr = analyze_throughput(*pb, m).throughput_per_s;
        mt = fmt::format("{:.4g}", thr), ms = fmt::format("{:.2f}", m.solve_seconds);
        const ThroughputAnalysis ma = analyze_throughput(*pb, m);
        mg = std::isnan(m.lower_bound_period) ? "-" : fmt::format("{:.1f}%", 100 * (ma.period_s - m.lower_bound_period) / ma.period_s);
      } catch (const std::exception& e) {
        mt = "err";
      }
      try {
        const ThroughputSchedule s = solve_throughput(*pb, "split", to);
        st = fmt::format("{:.4g}", analyze_throughput(*pb, s).throughput_per_s), sts = fmt::format("{:.2f}", s.solve_seconds);
      } catch (const std::exception& e) {
        st = "err";
      }
      fmt::print("{:<14} {:>3} | {:>10.4g} {:>8.4f} | {:>10} {:>8} {:>10} | {:>10} {:>8} | pure symmetric {:.4g}\n", c.name, n,
                 sym.throughput_per_s, sym.solve_seconds, mt, ms, mg, st, sts, sym.replicas / sym.symmetric_period_s);
    }
  }
}

}  // namespace
}  // namespace diviml

// LLM planner (issue 7): repeated blocks, identical servers, symmetric plan vs flat solve,
// uniform-layers, memory and bad input.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "frontend/llm.h"
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
      const LlmPlan sym = plan_llm_symmetric(*pb);
      const LlmPlan flat = plan_llm_flat(*pb);
      EXPECT_NEAR(sym.period_s, flat.period_s, 0.01 * flat.period_s);
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
  EXPECT_THROW(plan_llm_symmetric(*pb), InputError);
  EXPECT_THROW(plan_uniform_layers(*pb), InputError);
  try {
    plan_llm_symmetric(*pb);
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
  const LlmPlan sym = plan_llm_symmetric(*pb);
  EXPECT_TRUE(analyze_throughput(*pb, sym.schedule).memory_violations.empty());
  EXPECT_NE(sym.summary.find("CPU"), std::string::npos) << sym.summary;
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

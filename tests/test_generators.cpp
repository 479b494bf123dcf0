// Generators and readers: RandWire (WS/ER/BA), STG task graphs, GPT-style decoders.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "frontend/generators.h"
#include "frontend/llm.h"
#include "frontend/load_graph.h"

namespace fs = std::filesystem;
using namespace diviml;

namespace {

/// Undirected node graph of one RandWire stage, rebuilt from the ops named "<stage>.nXX".
struct StageGraph {
  int n = 0;
  std::set<std::pair<int, int>> edges;  // (low, high) node indices
  std::vector<int> degree;
  int input_nodes = 0;   // nodes reading the stage input
  int output_nodes = 0;  // nodes averaged by "<stage>.out"
};

StageGraph stage_graph(const Graph& g, const std::string& stage) {
  StageGraph s;
  std::map<OpId, int> index;
  const std::string prefix = stage + ".n";
  for (OpId v = 0; v < g.num_ops(); ++v)
    if (g.ops[v].name.rfind(prefix, 0) == 0) index[v] = std::stoi(g.ops[v].name.substr(prefix.size()));
  s.n = static_cast<int>(index.size());
  s.degree.assign(static_cast<size_t>(s.n), 0);
  for (const auto& [v, i] : index) {
    bool node_pred = false;
    for (OpId u : g.pred(v)) {
      auto it = index.find(u);
      if (it == index.end()) continue;
      node_pred = true;
      EXPECT_LT(it->second, i) << "edges must go from low to high index";
      s.edges.emplace(it->second, i);
      ++s.degree[static_cast<size_t>(i)];
      ++s.degree[static_cast<size_t>(it->second)];
    }
    if (!node_pred) ++s.input_nodes;
  }
  const OpId out = g.op_id(stage + ".out");
  EXPECT_NE(out, -1);
  if (out >= 0) s.output_nodes = static_cast<int>(g.pred(out).size());
  return s;
}

RandWireOptions rw(const std::string& kind, uint64_t seed = 1) {
  RandWireOptions o;
  o.graph = kind;
  o.seed = seed;
  if (kind == "er") o.p = 0.2;
  return o;
}

/// Ops, their inputs and costs as one string: equal iff the graphs are the same.
std::string fingerprint(const Graph& g) {
  std::string s;
  for (const Op& op : g.ops) {
    s += op.name + ":" + std::to_string(op.flops) + ":" + std::to_string(op.weight_bytes) + "<";
    for (TensorId t : op.inputs) s += g.tensors[t].name + ",";
    s += ">;";
  }
  return s;
}

double longest_path_flops(const Graph& g) {
  std::vector<double> fin(static_cast<size_t>(g.num_ops()), 0);
  double best = 0;
  for (OpId v : g.topo_order()) {
    double start = 0;
    for (OpId u : g.pred(v)) start = std::max(start, fin[static_cast<size_t>(u)]);
    fin[static_cast<size_t>(v)] = start + g.ops[v].flops;
    best = std::max(best, fin[static_cast<size_t>(v)]);
  }
  return best;
}

std::string data(const std::string& f) { return std::string(DIVIML_TEST_DATA) + "/" + f; }

/// A scratch folder of this process (test binaries may run concurrently).
fs::path scratch_dir() {
  const fs::path dir = fs::temp_directory_path() / ("diviml_generator_tests." + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

/// Writes `text` to a fresh temporary .stg file and returns its path.
std::string temp_stg(const std::string& name, const std::string& text) {
  const fs::path p = scratch_dir() / (name + ".stg");
  std::ofstream(p) << text;
  return p.string();
}

std::string stg_error(const std::string& name, const std::string& text) {
  try {
    read_stg(temp_stg(name, text));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------- RandWire

TEST(GeneratorRandWire, SmallRegimeMatchesPaperFlops) {
  // Xie et al. 2019, Table 2: RandWire-WS(4, 0.75), small regime, C = 78, N = 32:
  // 583M FLOPs (multiply-adds), 5.6M parameters. Our count over 5 seeds must be within 5%.
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto g = generate_randwire(rw("ws", seed));
    const double macs = g->total_macs();
    EXPECT_NEAR(macs / 583e6, 1.0, 0.05) << "seed " << seed << ": " << macs / 1e6 << "M MACs";
    const double params = g->total_weight_bytes() / 4;
    EXPECT_NEAR(params / 5.6e6, 1.0, 0.10) << "seed " << seed << ": " << params / 1e6 << "M params";
    EXPECT_GT(g->total_flops(), 2 * macs);  // + aggregation, ReLU, BN
  }
}

TEST(GeneratorRandWire, LayoutOfTheSmallRegime) {
  auto g = generate_randwire(rw("ws"));
  // stem (2) + 3 stages x (32 nodes + 1 output aggregation) + classifier (3)
  EXPECT_EQ(g->num_ops(), 2 + 3 * 33 + 3);
  ASSERT_EQ(g->graph_inputs().size(), 1u);
  ASSERT_EQ(g->graph_outputs().size(), 1u);
  EXPECT_EQ(g->tensors[g->graph_inputs()[0]].bytes, 3.0 * 224 * 224 * 4);
  EXPECT_EQ(g->tensors[g->graph_outputs()[0]].bytes, 1000.0 * 4);
  // Resolution and channels per stage: conv3 28x28xC, conv4 14x14x2C, conv5 7x7x4C.
  const std::map<std::string, double> elems = {{"conv1", 39.0 * 112 * 112},  {"conv2", 78.0 * 56 * 56},
                                               {"conv3.out", 78.0 * 28 * 28}, {"conv4.out", 156.0 * 14 * 14},
                                               {"conv5.out", 312.0 * 7 * 7},  {"classifier.conv", 1280.0 * 7 * 7}};
  for (const auto& [name, e] : elems) {
    const TensorId t = g->tensor_id(name);
    ASSERT_NE(t, -1) << name;
    EXPECT_EQ(g->tensors[t].bytes, e * 4) << name;
  }
  // A stage-3 node that is not an input node: ReLU + depthwise + pointwise on 28x28x78.
  const Op& n31 = g->ops[g->op_id("conv3.n31")];
  EXPECT_EQ(n31.type, "SepConv");
  EXPECT_EQ(n31.op_class, OpClass::Conv);
  EXPECT_EQ(n31.macs, 28.0 * 28 * 78 * (9 + 78));
  // The only op with no node predecessor in a WS stage is node 0, which reads the stage input.
  EXPECT_EQ(g->pred(g->op_id("conv3.n00")), std::vector<OpId>{g->op_id("conv2")});
}

TEST(GeneratorRandWire, WattsStrogatzStructure) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto g = generate_randwire(rw("ws", seed));
    for (const char* stage : {"conv3", "conv4", "conv5"}) {
      StageGraph s = stage_graph(*g, stage);
      EXPECT_EQ(s.n, 32);
      EXPECT_EQ(s.edges.size(), 32u * 4 / 2) << "rewiring keeps n*k/2 edges";
      for (int d : s.degree) EXPECT_GE(d, 2) << "every node keeps its k/2 own edges";
      EXPECT_GE(s.input_nodes, 1);
      EXPECT_GE(s.output_nodes, 1);
    }
  }
  // p = 0: the ring lattice itself, every node of degree k.
  RandWireOptions o = rw("ws");
  o.p = 0;
  o.k = 6;
  StageGraph s = stage_graph(*generate_randwire(o), "conv4");
  EXPECT_EQ(s.edges.size(), 32u * 3);
  for (int d : s.degree) EXPECT_EQ(d, 6);
  EXPECT_TRUE(s.edges.count({0, 3}) && s.edges.count({29, 31}) && s.edges.count({0, 31}));
  EXPECT_EQ(s.input_nodes, 1);
  // p = 1 keeps the edge count too.
  o.p = 1;
  EXPECT_EQ(stage_graph(*generate_randwire(o), "conv3").edges.size(), 32u * 3);
}

TEST(GeneratorRandWire, ErdosRenyiStructure) {
  RandWireOptions o = rw("er");
  o.p = 0;  // no edges: every node is an input and an output node
  StageGraph s0 = stage_graph(*generate_randwire(o), "conv3");
  EXPECT_TRUE(s0.edges.empty());
  EXPECT_EQ(s0.input_nodes, 32);
  EXPECT_EQ(s0.output_nodes, 32);
  o.p = 1;  // complete graph: a total order, one input and one output node
  StageGraph s1 = stage_graph(*generate_randwire(o), "conv3");
  EXPECT_EQ(s1.edges.size(), 32u * 31 / 2);
  EXPECT_EQ(s1.input_nodes, 1);
  EXPECT_EQ(s1.output_nodes, 1);
  // p = 0.2: the edge count averages p * n(n-1)/2 = 99.2 (30 stages: sd of the mean ~1.6).
  double total = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto g = generate_randwire(rw("er", seed));
    for (const char* stage : {"conv3", "conv4", "conv5"}) total += stage_graph(*g, stage).edges.size();
  }
  EXPECT_NEAR(total / 30, 99.2, 6.0);
}

TEST(GeneratorRandWire, BarabasiAlbertStructure) {
  for (int m : {1, 3, 5}) {
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      RandWireOptions o = rw("ba", seed);
      o.m = m;
      auto g = generate_randwire(o);
      for (const char* stage : {"conv3", "conv4", "conv5"}) {
        StageGraph s = stage_graph(*g, stage);
        EXPECT_EQ(s.edges.size(), static_cast<size_t>(m * (32 - m)));
        for (int v = 0; v < 32; ++v) EXPECT_GE(s.degree[static_cast<size_t>(v)], v < m ? 1 : m) << "node " << v;
        // Preferential attachment: the initial nodes gather far more than m edges on average.
        double early = 0;
        for (int v = 0; v < m + 1; ++v) early += s.degree[static_cast<size_t>(v)];
        EXPECT_GT(early / (m + 1), 1.5 * m);
      }
    }
  }
}

TEST(GeneratorRandWire, DeterministicBySeed) {
  for (const char* kind : {"ws", "er", "ba"}) {
    const std::string a = fingerprint(*generate_randwire(rw(kind, 7)));
    EXPECT_EQ(a, fingerprint(*generate_randwire(rw(kind, 7)))) << kind;
    EXPECT_NE(a, fingerprint(*generate_randwire(rw(kind, 8)))) << kind;
    EXPECT_EQ(graph_to_json_text(*generate_randwire(rw(kind, 7))), graph_to_json_text(*generate_randwire(rw(kind, 7))));
  }
  // Stage s depends only on (seed, s): the conv3 stage of a 1-stage and a 3-stage network agree.
  RandWireOptions one = rw("ws", 3);
  one.stages = 1;
  EXPECT_EQ(stage_graph(*generate_randwire(one), "conv3").edges,
            stage_graph(*generate_randwire(rw("ws", 3)), "conv3").edges);
}

TEST(GeneratorRandWire, FixedReferenceGraph) {
  // Pins the random stream: std::mt19937_64 is fully specified by the standard and no std
  // distribution is used, so WS(4, 0.75) seed 1 is this graph with every compiler and library.
  // A deliberate change of the generator must update this string (and say so in the docs).
  auto g = generate_randwire(rw("ws", 1));
  std::string got;
  for (OpId v = 0; v < g->num_ops(); ++v) {
    if (g->ops[v].name.rfind("conv3.n", 0) != 0) continue;
    for (OpId u : g->pred(v))
      if (g->ops[u].name.rfind("conv3.n", 0) == 0) got += g->ops[u].name.substr(7) + "-" + g->ops[v].name.substr(7) + " ";
  }
  EXPECT_EQ(got,
            "00-01 01-03 02-04 03-06 01-07 05-07 01-09 07-09 08-09 02-10 08-10 09-11 01-12 11-12 12-13 09-15 "
            "12-15 14-15 01-17 13-17 16-17 02-18 16-18 14-19 16-19 18-19 06-20 13-20 19-20 03-21 05-21 15-21 "
            "20-21 16-22 20-22 19-23 22-23 02-24 20-24 15-25 23-25 24-25 13-26 20-26 23-26 00-27 03-27 08-27 "
            "09-28 18-28 25-28 14-29 20-29 27-29 02-30 04-30 06-30 09-30 23-30 29-30 00-31 03-31 11-31 16-31 ");
}

TEST(GeneratorRandWire, ScalesWithOptions) {
  RandWireOptions o = rw("ws");
  o.stages = 4;
  o.nodes = 16;
  o.channels = 32;
  o.resolution = 64;
  auto g = generate_randwire(o);
  EXPECT_EQ(g->num_ops(), 2 + 4 * 17 + 3);
  EXPECT_NE(g->tensor_id("conv6.out"), -1);
  // 64 -> 32 -> 16 -> 8 (conv3) -> 4 -> 2 -> 1 (conv6), 8C channels.
  EXPECT_EQ(g->tensors[g->tensor_id("conv6.out")].bytes, 256.0 * 1 * 1 * 4);
  o.nodes = 2;
  o.k = 0;
  o.graph = "er";
  EXPECT_NO_THROW(generate_randwire(o));
}

TEST(GeneratorRandWire, RejectsNonsenseOptions) {
  auto bad = [](auto edit) {
    RandWireOptions o;
    edit(o);
    EXPECT_THROW(generate_randwire(o), InputError);
  };
  bad([](RandWireOptions& o) { o.nodes = 1; });
  bad([](RandWireOptions& o) { o.nodes = -3; });
  bad([](RandWireOptions& o) { o.k = 3; });
  bad([](RandWireOptions& o) { o.k = 32; });
  bad([](RandWireOptions& o) { o.k = 0; });
  bad([](RandWireOptions& o) { o.p = -0.1; });
  bad([](RandWireOptions& o) { o.p = 1.5; });
  bad([](RandWireOptions& o) { o.p = std::nan(""); });
  bad([](RandWireOptions& o) { o.graph = "er", o.p = 2; });
  bad([](RandWireOptions& o) { o.graph = "ba", o.m = 32; });
  bad([](RandWireOptions& o) { o.graph = "ba", o.m = 0; });
  bad([](RandWireOptions& o) { o.graph = "xx"; });
  bad([](RandWireOptions& o) { o.stages = 0; });
  bad([](RandWireOptions& o) { o.channels = 0; });
  bad([](RandWireOptions& o) { o.resolution = 0; });
  try {
    RandWireOptions o;
    o.k = 5;
    generate_randwire(o);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("k must be even"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- STG

TEST(GeneratorStg, ReadsTenTaskSample) {
  auto g = read_stg(data("stg_heft10.stg"));
  EXPECT_EQ(g->name, "stg_heft10");
  ASSERT_EQ(g->num_ops(), 10);  // dummy entry and exit dropped
  EXPECT_EQ(g->num_edges(), 15u);
  EXPECT_DOUBLE_EQ(g->total_flops(), 135);
  EXPECT_DOUBLE_EQ(longest_path_flops(*g), 62);
  EXPECT_EQ(g->ops[g->op_id("t9")].flops, 17);
  EXPECT_EQ(g->ops[g->op_id("t1")].type, "task");
  EXPECT_EQ(g->ops[g->op_id("t1")].op_class, OpClass::Other);
  const std::vector<OpId> p8 = {g->op_id("t2"), g->op_id("t4"), g->op_id("t6")};
  EXPECT_EQ(g->pred(g->op_id("t8")), p8);
  ASSERT_EQ(g->graph_outputs().size(), 1u);
  EXPECT_EQ(g->tensors[g->graph_outputs()[0]].name, "t10");
  ASSERT_EQ(g->graph_inputs().size(), 1u);
  EXPECT_EQ(g->tensors[g->graph_inputs()[0]].consumers, std::vector<OpId>{g->op_id("t1")});
  for (const Tensor& t : g->tensors) EXPECT_EQ(t.bytes, 0);
}

TEST(GeneratorStg, ReadsSeveralSourcesAndSinks) {
  auto g = read_stg(data("stg_two_sources.stg"));
  ASSERT_EQ(g->num_ops(), 5);
  EXPECT_EQ(g->num_edges(), 4u);
  EXPECT_DOUBLE_EQ(g->total_flops(), 20);
  EXPECT_DOUBLE_EQ(longest_path_flops(*g), 13);
  EXPECT_EQ(g->graph_outputs().size(), 2u);  // t4, t5
  EXPECT_EQ(g->tensors[g->graph_inputs()[0]].consumers.size(), 2u);  // t1, t2
  auto one = read_stg(data("stg_single.stg"));
  EXPECT_EQ(one->num_ops(), 1);
  EXPECT_EQ(one->ops[0].flops, 7);
}

TEST(GeneratorStg, ThroughLoadGraph) {
  auto g = load_graph(data("stg_heft10.stg"));
  EXPECT_EQ(g->num_ops(), 10);
  EXPECT_DOUBLE_EQ(g->total_flops(), 135);
}

TEST(GeneratorStg, MalformedInputNamesTheLine) {
  struct Case {
    const char* name;
    const char* text;
    const char* expect;  // substring of the message
  };
  const Case cases[] = {
      {"empty", "", "empty file"},
      {"comments_only", "# nothing\n", "empty file"},
      {"count_not_int", "ten\n0 0 0\n", "line 1: task count n: expected an integer"},
      {"count_zero", "0\n0 0 0\n1 0 1 0\n", "line 1: task count n must be in"},
      {"count_negative", "-2\n", "line 1: task count n must be in"},
      {"count_extra", "2 3\n", "line 1: unexpected '3'"},
      {"truncated", "3\n0 0 0\n1 5 1 0\n2 5 1 1\n", "unexpected end of file after line 4: expected 5 task lines"},
      {"too_few_tasks", "4\n0 0 0\n1 5 1 0\n2 5 1 1\n3 0 1 2\n", "expected 6 task lines"},
      {"too_many_tasks", "1\n0 0 0\n1 5 1 0\n2 0 1 1\n3 4 1 2\n", "line 5: unexpected content after the exit task 2"},
      {"id_out_of_order", "2\n0 0 0\n2 5 1 0\n1 5 1 0\n3 0 2 1 2\n", "line 3: task id 2 out of order (expected 1)"},
      {"negative_time", "2\n0 0 0\n1 -5 1 0\n2 5 1 1\n3 0 1 2\n", "line 3: task 1: negative processing time"},
      {"time_not_number", "2\n0 0 0\n1 abc 1 0\n2 5 1 1\n3 0 1 2\n", "line 3: task 1: processing time: expected a number"},
      {"missing_time", "2\n0 0 0\n1\n2 5 1 1\n3 0 1 2\n", "line 3: missing task 1: processing time"},
      {"missing_npred", "2\n0 0 0\n1 5\n2 5 1 1\n3 0 1 2\n", "line 3: missing task 1: predecessor count"},
      {"npred_negative", "2\n0 0 0\n1 5 -1\n2 5 1 1\n3 0 1 2\n", "line 3: task 1: predecessor count -1 out of range"},
      {"npred_too_big", "2\n0 0 0\n1 5 9 0\n2 5 1 1\n3 0 1 2\n", "line 3: task 1: predecessor count 9 out of range"},
      {"fewer_preds", "3\n0 0 0\n1 5 1 0\n2 5 1 0\n3 5 2 1\n4 0 2 2 3\n", "line 5: task 3 lists 2 predecessors but its line has 1"},
      {"more_preds", "2\n0 0 0\n1 5 1 0 0\n2 5 1 1\n3 0 1 2\n", "line 3: unexpected '0' after task 1's 1 predecessors"},
      {"pred_out_of_range", "2\n0 0 0\n1 5 1 0\n2 5 1 7\n3 0 1 2\n", "line 4: task 2: predecessor 7 out of range [0, 3]"},
      {"pred_negative", "2\n0 0 0\n1 5 1 -1\n2 5 1 1\n3 0 1 2\n", "line 3: task 1: predecessor -1 out of range"},
      {"pred_self", "2\n0 0 0\n1 5 1 0\n2 5 1 2\n3 0 1 2\n", "line 4: task 2: lists itself"},
      {"pred_exit", "2\n0 0 0\n1 5 1 3\n2 5 1 1\n3 0 1 2\n", "line 3: task 1: the dummy exit task 3 cannot be a predecessor"},
      {"pred_twice", "2\n0 0 0\n1 5 1 0\n2 5 2 1 1\n3 0 1 2\n", "line 4: task 2: predecessor 1 listed twice"},
      {"pred_not_int", "2\n0 0 0\n1 5 1 x\n2 5 1 1\n3 0 1 2\n", "line 3: task 1: predecessor: expected an integer"},
      {"entry_time", "1\n0 3 0\n1 5 1 0\n2 0 1 1\n", "line 2: task 0: the dummy entry task must have processing time 0"},
      {"entry_preds", "1\n0 0 1 1\n1 5 1 0\n2 0 1 1\n", "line 2: task 0 (dummy entry) cannot have predecessors"},
      {"exit_time", "1\n0 0 0\n1 5 1 0\n2 4 1 1\n", "line 4: task 2: the dummy exit task must have processing time 0"},
      {"cycle", "3\n0 0 0\n1 5 1 3\n2 5 1 1\n3 5 1 2\n4 0 1 3\n", "cycle"},
  };
  for (const Case& c : cases) {
    const std::string msg = stg_error(c.name, c.text);
    EXPECT_NE(msg, "") << c.name << ": accepted";
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find(std::string(c.name) + ".stg"), std::string::npos) << c.name << ": names the file: " << msg;
  }
  EXPECT_THROW(read_stg(data("no_such_file.stg")), InputError);
  fs::remove_all(scratch_dir());
}

// ---------------------------------------------------------------- LLM

TEST(GeneratorLlm, PresetParameterCountsMatchPublishedFigures) {
  // GPT-2 small 124M (124,439,808 with tied embeddings); LLaMA-7B 6.74B, LLaMA-13B 13.02B
  // (Touvron et al. 2023, 6,738,415,616 and 13,015,864,320); LLaMA-2-70B 68.98B (68,976,648,192).
  EXPECT_NEAR(llm_parameter_count(llm_preset("gpt2")) / 124.44e6, 1, 0.002);
  EXPECT_NEAR(llm_parameter_count(llm_preset("7b")) / 6.7384e9, 1, 0.001);
  EXPECT_NEAR(llm_parameter_count(llm_preset("13b")) / 13.0159e9, 1, 0.001);
  EXPECT_NEAR(llm_parameter_count(llm_preset("70b")) / 68.9766e9, 1, 0.001);
  EXPECT_THROW(llm_preset("42b"), InputError);
}

TEST(GeneratorLlm, GptStyleSizesNearNominal) {
  // Plain GPT-style (GELU MLP of 4h, MHA, vocab 32000): 12 L h^2 + 2 V h parameters.
  struct Size {
    int layers;
    int64_t hidden;
    int heads;
    double nominal;
    double tol;
  };
  for (const Size& s : {Size{32, 4096, 32, 7e9, 0.05}, Size{40, 5120, 40, 13e9, 0.02}, Size{80, 8192, 64, 70e9, 0.08}}) {
    LlmOptions o;
    o.layers = s.layers;
    o.hidden = s.hidden;
    o.heads = s.heads;
    const double p = llm_parameter_count(o);
    const double h = static_cast<double>(s.hidden);
    EXPECT_NEAR(p / (12 * s.layers * h * h + 2 * 32000 * h), 1, 0.002);
    EXPECT_NEAR(p / s.nominal, 1, s.tol) << p / 1e9 << "B";
  }
}

TEST(GeneratorLlm, OneOpPerSubLayer) {
  LlmOptions o = llm_preset("70b");
  o.seq = 512;
  auto g = generate_llm(o);
  EXPECT_EQ(g->num_ops(), 2 * 80 + 2);
  EXPECT_EQ(g->ops[0].name, "embed");
  EXPECT_EQ(g->ops[1].name, "layer0.attn");
  EXPECT_EQ(g->ops[2].name, "layer0.mlp");
  EXPECT_EQ(g->ops.back().name, "lm_head");
  ASSERT_NE(g->op_id("layer3.attn"), -1);
  ASSERT_NE(g->op_id("layer79.mlp"), -1);
  EXPECT_EQ(g->num_edges(), static_cast<size_t>(g->num_ops() - 1));  // a chain
  EXPECT_EQ(g->ops[g->op_id("layer3.attn")].type, "Attention");
  EXPECT_EQ(g->ops[g->op_id("layer3.attn")].op_class, OpClass::MatMul);
  EXPECT_EQ(g->ops[g->op_id("embed")].op_class, OpClass::Embedding);
  // Identical layers have identical costs (what the symmetry detection relies on).
  for (const char* sub : {".attn", ".mlp"}) {
    const Op& a = g->ops[g->op_id(std::string("layer0") + sub)];
    const Op& b = g->ops[g->op_id(std::string("layer57") + sub)];
    EXPECT_EQ(a.flops, b.flops);
    EXPECT_EQ(a.weight_bytes, b.weight_bytes);
    EXPECT_EQ(a.bytes_accessed, b.bytes_accessed);
  }
}

TEST(GeneratorLlm, WeightAndKvCacheBytes) {
  LlmOptions o = llm_preset("7b");
  o.seq = 1000;
  o.batch = 2;
  auto g = generate_llm(o);
  // Prefill: weights in fp16, plus per layer a cache of K and V for 1000 tokens x 2 sequences.
  const double kv_layer = 2.0 * 2 * 1000 * 4096 * 2;
  EXPECT_NEAR(g->total_weight_bytes(), llm_parameter_count(o) * 2 + 32 * kv_layer, 1);
  const Op& attn = g->ops[g->op_id("layer5.attn")];
  const double attn_params = 4096.0 * 4096 * 4 + 2 * 4096;
  EXPECT_DOUBLE_EQ(attn.weight_bytes, attn_params * 2 + kv_layer);
  // Grouped-query attention shrinks the cache by heads / kv_heads.
  LlmOptions q = llm_preset("70b");
  q.seq = 1000;
  const auto qg = generate_llm(q);  // keep the graph alive: ops[1] is a reference into it
  const Op& qa = qg->ops[1];
  const double qa_params = 8192.0 * (8192 + 2 * 1024) + 8192.0 * 8192 + 2 * 8192;
  EXPECT_DOUBLE_EQ(qa.weight_bytes, qa_params * 2 + 2.0 * 1000 * 1024 * 2);
  // Tied embeddings: the LM head still holds the matrix on its device; counted once in params.
  LlmOptions t = llm_preset("gpt2");
  t.seq = 1024;
  auto tg = generate_llm(t);
  EXPECT_GT(tg->total_weight_bytes(), llm_parameter_count(t) * 2);
}

TEST(GeneratorLlm, FlopsFollowTheStandardEstimate) {
  // Prefill of T tokens: ~2 * (non-embedding parameters) * T + attention 4 * L * T^2 * h.
  LlmOptions o = llm_preset("13b");
  o.seq = 2048;
  auto g = generate_llm(o);
  const double h = 5120, T = 2048;
  const double matmul = 2 * (llm_parameter_count(o) - 32000 * h) * T + 40 * 4 * T * T * h;
  EXPECT_NEAR(g->total_flops() / matmul, 1, 0.01);
  EXPECT_NEAR(g->total_macs() * 2 / matmul, 1, 0.001);
  // Decode: one token per sequence attends over kv_len + 1 cached positions.
  LlmOptions d = o;
  d.phase = "decode";
  d.kv_len = 4095;
  auto dg = generate_llm(d);
  const double dm = 2 * (llm_parameter_count(o) - 32000 * h) + 40 * 4 * 4096 * h;
  EXPECT_NEAR(dg->total_macs() * 2 / dm, 1, 0.001);
  const Op& a = dg->ops[dg->op_id("layer0.attn")];
  EXPECT_NEAR(a.weight_bytes - (4 * h * h + 2 * h) * 2, 2.0 * 4096 * h * 2, 1);
  // Decode reads all weights and the cache for a few FLOPs per byte.
  EXPECT_LT(dg->total_flops() / dg->total_weight_bytes(), 2);
  EXPECT_EQ(dg->tensors[dg->graph_outputs()[0]].bytes, 32000.0 * 2);
}

TEST(GeneratorLlm, RejectsNonsenseOptions) {
  auto bad = [](auto edit) {
    LlmOptions o;
    edit(o);
    EXPECT_THROW(generate_llm(o), InputError);
  };
  bad([](LlmOptions& o) { o.layers = 0; });
  bad([](LlmOptions& o) { o.hidden = 0; });
  bad([](LlmOptions& o) { o.heads = 0; });
  bad([](LlmOptions& o) { o.heads = 33; });      // 4096 % 33
  bad([](LlmOptions& o) { o.kv_heads = 3; });    // 32 % 3
  bad([](LlmOptions& o) { o.kv_heads = 64; });   // > heads
  bad([](LlmOptions& o) { o.vocab = 0; });
  bad([](LlmOptions& o) { o.seq = 0; });
  bad([](LlmOptions& o) { o.batch = 0; });
  bad([](LlmOptions& o) { o.phase = "train"; });
  bad([](LlmOptions& o) { o.mlp = "relu"; });
  bad([](LlmOptions& o) { o.kv_len = -5; });
  bad([](LlmOptions& o) { o.ffn = -1; });
  bad([](LlmOptions& o) { o.positions = 1024, o.seq = 2048; });  // learned table too short
}

// ---------------------------------------------------------------- command line

#ifdef DIVIML_BINARY
namespace {
int run_cli(const std::string& args, const std::string& log) {
  const std::string cmd = std::string(DIVIML_BINARY) + " " + args + " > " + log + " 2>&1";
  return std::system(cmd.c_str());
}
}  // namespace

TEST(GeneratorCli, WritesLoadableGraphs) {
  const fs::path dir = scratch_dir();
  const std::string log = (dir / "cli.log").string();
  const std::string rw_path = (dir / "rw.json").string();
  ASSERT_EQ(run_cli("generate randwire --graph ba --m 3 --nodes 16 --stages 2 --seed 4 -o " + rw_path, log), 0);
  auto g = load_graph(rw_path);
  RandWireOptions o;
  o.graph = "ba", o.m = 3, o.nodes = 16, o.stages = 2, o.seed = 4;
  auto ref = generate_randwire(o);
  EXPECT_EQ(g->num_ops(), ref->num_ops());
  EXPECT_EQ(g->num_edges(), ref->num_edges());
  EXPECT_NEAR(g->total_flops(), ref->total_flops(), 1e-6 * ref->total_flops());

  const std::string llm_path = (dir / "llm.json").string();
  ASSERT_EQ(run_cli("generate llm --preset 13b --layers 4 --seq 128 --phase decode -o " + llm_path, log), 0);
  auto l = load_graph(llm_path);
  EXPECT_EQ(l->num_ops(), 2 * 4 + 2);

  EXPECT_NE(run_cli("generate randwire --graph ws --k 3", log), 0);
  EXPECT_NE(run_cli("generate randwire --graph er --m 3", log), 0);
  EXPECT_NE(run_cli("generate randwire --graph xx", log), 0);
  EXPECT_NE(run_cli("generate llm --hidden 100 --heads 3", log), 0);
  EXPECT_NE(run_cli("generate llm --preset 99b", log), 0);
  fs::remove_all(dir);
}
#endif

// The splitting heuristic (DESIGN section 6): series decomposition, parts, split vs MILP/baselines.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "frontend/generators.h"
#include "frontend/load_graph.h"
#include "graph/series.h"
#include "platform/platform.h"
#include "random_instances.h"
#include "schedule/simulator.h"
#include "solvers/bounds/bounds.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/milp/latency_milp.h"
#include "solvers/split/split.h"

namespace diviml {
namespace {

/// A graph from an edge list; op i has times {d0: 1+i%3, d1: 2} and one output tensor.
std::shared_ptr<Graph> graph_from_edges(int n, const std::vector<std::pair<int, int>>& edges) {
  auto g = std::make_shared<Graph>();
  for (int i = 0; i < n; ++i) {
    Op op;
    op.name = "v" + std::to_string(i);
    op.type = "task";
    op.device_times["d0"] = 1 + i % 3;
    op.device_times["d1"] = 2;
    g->add_op(op);
  }
  std::vector<bool> has_succ(n, false), has_pred(n, false);
  for (auto [a, b] : edges) has_succ[a] = has_pred[b] = true;
  for (int i = 0; i < n; ++i) {
    Tensor t;
    t.name = "t" + std::to_string(i);
    t.bytes = 1;
    t.producer = i;
    t.is_graph_output = !has_succ[i];
    g->ops[i].outputs.push_back(g->add_tensor(t));
  }
  for (auto [a, b] : edges) g->ops[b].inputs.push_back(g->ops[a].outputs[0]);
  for (int i = 0; i < n; ++i)
    if (!has_pred[i]) {
      Tensor t;
      t.name = "in" + std::to_string(i);
      t.bytes = 1;
      g->ops[i].inputs.push_back(g->add_tensor(t));
    }
  g->finalize();
  return g;
}

/// Brute-force cut vertices: v is one iff removing it disconnects every source from every sink.
std::vector<OpId> brute_cut_vertices(const Graph& g) {
  std::vector<OpId> out;
  const int n = g.num_ops();
  for (OpId v = 0; v < n; ++v) {
    std::vector<char> seen(n, 0);
    std::vector<OpId> stack;
    for (OpId s = 0; s < n; ++s)
      if (s != v && g.pred(s).empty()) {
        seen[s] = 1;
        stack.push_back(s);
      }
    bool reaches_sink = false;
    while (!stack.empty()) {
      const OpId u = stack.back();
      stack.pop_back();
      if (g.succ(u).empty()) reaches_sink = true;
      for (OpId w : g.succ(u))
        if (w != v && !seen[w]) {
          seen[w] = 1;
          stack.push_back(w);
        }
    }
    if (!reaches_sink) out.push_back(v);
  }
  std::sort(out.begin(), out.end(), [&](OpId a, OpId b) { return g.topo_rank()[a] < g.topo_rank()[b]; });
  return out;
}

void check_decomposition(const Graph& g, const SeriesDecomposition& d) {
  std::vector<int> mod(g.num_ops(), -1);
  for (size_t i = 0; i < d.modules.size(); ++i)
    for (OpId v : d.modules[i]) {
      ASSERT_EQ(mod[v], -1) << "op in two modules";
      mod[v] = static_cast<int>(i);
    }
  for (OpId v = 0; v < g.num_ops(); ++v) ASSERT_GE(mod[v], 0) << "op in no module";
  ASSERT_TRUE(d.modules.size() == d.cut_vertices.size() || d.modules.size() == d.cut_vertices.size() + 1);
  for (size_t i = 0; i < d.cut_vertices.size(); ++i) EXPECT_EQ(d.modules[i].back(), d.cut_vertices[i]);
  // Every edge stays in its module or leaves the cut vertex ending the previous module.
  for (OpId u = 0; u < g.num_ops(); ++u)
    for (OpId w : g.succ(u)) {
      if (mod[u] == mod[w]) continue;
      EXPECT_EQ(mod[w], mod[u] + 1);
      EXPECT_EQ(u, d.cut_vertices[mod[u]]);
    }
}

TEST(SplitSeries, ChainOfDiamondsDecomposesAsConstructed) {
  // 0 -> {1,2} -> 3 -> {4,5} -> 6 -> {7,8,9} -> 10
  const auto g = graph_from_edges(11, {{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}, {3, 5}, {4, 6}, {5, 6},
                                       {6, 7}, {6, 8}, {6, 9}, {7, 10}, {8, 10}, {9, 10}});
  const SeriesDecomposition d = series_decomposition(*g);
  EXPECT_EQ(d.cut_vertices, (std::vector<OpId>{0, 3, 6, 10}));
  ASSERT_EQ(d.modules.size(), 4u);
  auto sorted = [](std::vector<OpId> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(d.modules[0]), (std::vector<OpId>{0}));
  EXPECT_EQ(sorted(d.modules[1]), (std::vector<OpId>{1, 2, 3}));
  EXPECT_EQ(sorted(d.modules[2]), (std::vector<OpId>{4, 5, 6}));
  EXPECT_EQ(sorted(d.modules[3]), (std::vector<OpId>{7, 8, 9, 10}));
  check_decomposition(*g, d);
}

TEST(SplitSeries, NoCutVertexIsOneModule) {
  // Two sources, two sinks, crossing edges: no op is on every source-sink path.
  const auto g = graph_from_edges(6, {{0, 2}, {1, 3}, {0, 3}, {1, 2}, {2, 4}, {3, 5}, {2, 5}});
  const SeriesDecomposition d = series_decomposition(*g);
  EXPECT_TRUE(d.cut_vertices.empty());
  ASSERT_EQ(d.modules.size(), 1u);
  EXPECT_EQ(d.modules[0].size(), 6u);
}

TEST(SplitSeries, SkipEdgeRemovesCutVertex) {
  // 0 -> 1 -> 2 -> 3 with a skip 0 -> 2: 1 is not a cut vertex.
  const auto g = graph_from_edges(4, {{0, 1}, {1, 2}, {2, 3}, {0, 2}});
  const SeriesDecomposition d = series_decomposition(*g);
  EXPECT_EQ(d.cut_vertices, (std::vector<OpId>{0, 2, 3}));
}

TEST(SplitSeries, RandomGraphsMatchBruteForce) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const double p = seed % 2 ? 0.08 : 0.25;
    auto g = testing::random_dag(10 + static_cast<int>(seed % 30), p, 2, seed);
    const SeriesDecomposition d = series_decomposition(*g);
    EXPECT_EQ(d.cut_vertices, brute_cut_vertices(*g)) << "seed " << seed;
    check_decomposition(*g, d);
  }
}

TEST(SplitSeries, ResNetBlocksAreModules) {
  LoadOptions lo;
  lo.granularity = Granularity::Fused;
  // The fixture is in tests/data: an import failure is a failure, not a skip.
  const std::shared_ptr<Graph> g = load_graph(std::string(DIVIML_TEST_DATA) + "/resnet18.onnx", lo);
  const SeriesDecomposition d = series_decomposition(*g);
  check_decomposition(*g, d);
  // ResNet-18 has 8 basic blocks: each is one module (two convs, plus the 1x1 downsample conv on
  // the shortcut of the first block of layers 2-4) ending with the block's residual Add.
  int blocks = 0;
  for (size_t i = 0; i < d.cut_vertices.size(); ++i) {
    const std::string& name = g->ops[d.cut_vertices[i]].name;
    if (name.size() < 4 || name.compare(name.size() - 4, 4, "/Add") != 0) continue;
    ++blocks;
    EXPECT_GE(d.modules[i].size(), 3u) << name;
    EXPECT_LE(d.modules[i].size(), 4u) << name;
  }
  EXPECT_EQ(blocks, 8) << describe_modules(*g, nullptr, SolveOptions{}, false);
  for (const auto& m : d.modules) EXPECT_LE(m.size(), 12u);
}

TEST(SplitParts, WithinBudgetAndTopological) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    auto pb = testing::random_problem(30 + static_cast<int>(seed), 0.12, 3, seed);
    const Graph& g = pb->graph();
    SolveOptions opt;
    opt.max_part_pairs = 10 + static_cast<long>(seed);
    if (seed % 3 == 0) opt.max_part_ops = 6;
    const SeriesDecomposition d = series_decomposition(g);
    const Partition p = split_into_parts(*pb, d, opt);
    ASSERT_EQ(p.parts.size(), p.module_of_part.size());
    std::vector<int> part(g.num_ops(), -1);
    for (size_t i = 0; i < p.parts.size(); ++i) {
      ASSERT_FALSE(p.parts[i].empty());
      for (OpId v : p.parts[i]) {
        ASSERT_EQ(part[v], -1);
        part[v] = static_cast<int>(i);
      }
      if (p.parts[i].size() > 1) {
        if (opt.max_part_ops > 0)
          EXPECT_LE(static_cast<int>(p.parts[i].size()), opt.max_part_ops);
        else
          EXPECT_LE(count_incomparable_pairs(g, p.parts[i]), opt.max_part_pairs) << "seed " << seed;
      }
    }
    for (OpId v = 0; v < g.num_ops(); ++v) ASSERT_GE(part[v], 0);
    for (OpId u = 0; u < g.num_ops(); ++u)
      for (OpId w : g.succ(u)) EXPECT_LE(part[u], part[w]) << "seed " << seed;
    // Same result with a fixed seed (determinism).
    const Partition p2 = split_into_parts(*pb, d, opt);
    EXPECT_EQ(p.parts, p2.parts);
  }
}

TEST(SplitParts, IncomparablePairsMatchReachability) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    auto g = testing::random_dag(40, 0.1, 2, seed);
    const Reachability r(*g);
    std::vector<OpId> all(g->num_ops());
    for (int i = 0; i < g->num_ops(); ++i) all[i] = i;
    EXPECT_EQ(count_incomparable_pairs(*g, all), static_cast<long long>(r.count_incomparable_pairs()));
    std::vector<OpId> odd;
    for (int i = 1; i < g->num_ops(); i += 2) odd.push_back(i);
    long long expect = 0;
    for (size_t a = 0; a < odd.size(); ++a)
      for (size_t b = a + 1; b < odd.size(); ++b) expect += r.comparable(odd[a], odd[b]) ? 0 : 1;
    EXPECT_EQ(count_incomparable_pairs(*g, odd), expect);
  }
}

double best_baseline_makespan(const Problem& pb) {
  double best = kInf;
  for (auto fn : {fastest_device_schedule, heft_schedule, cpop_schedule, peft_schedule, etf_schedule}) {
    try {
      best = std::min(best, simulate_latency(pb, fn(pb)).makespan);
    } catch (const std::exception&) {
    }
  }
  return best;
}

void check_valid(const Problem& pb, const Schedule& s) {
  const LatencyResult r = simulate_latency(pb, s);
  EXPECT_NEAR(r.makespan, s.claimed_makespan, 1e-9 * r.makespan);
  EXPECT_TRUE(check_claimed_times(pb, s).empty());
  EXPECT_LE(s.lower_bound, r.makespan * (1 + 1e-9));
  EXPECT_EQ(s.method, "split");
}

TEST(SplitSchedule, EqualsFullMilpWhenOnePart) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    auto pb = testing::random_problem(8, 0.3, 3, seed, seed % 2 == 0);
    SolveOptions opt;
    opt.time_limit_s = 30;
    opt.max_part_pairs = 1000;
    const Schedule m = milp_schedule(*pb, opt);
    const Schedule s = split_schedule(*pb, opt);
    check_valid(*pb, s);
    // 8 ops: CBC proves these at the root; both must say optimal and agree.
    ASSERT_EQ(m.status, SolveStatus::Optimal) << "seed " << seed;
    EXPECT_EQ(s.status, SolveStatus::Optimal) << "seed " << seed;
    EXPECT_NEAR(s.claimed_makespan, simulate_latency(*pb, m).makespan, 1e-6 * s.claimed_makespan)
        << "seed " << seed;
  }
}

TEST(SplitSchedule, NeverWorseThanBestBaselineAndValid) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    auto pb = testing::random_problem(30 + 2 * static_cast<int>(seed), 0.1, 3, seed, seed % 3 != 0);
    SolveOptions opt;
    opt.time_limit_s = 3;
    opt.max_part_pairs = 20;
    opt.seed = seed;
    const Schedule s = split_schedule(*pb, opt);
    check_valid(*pb, s);
    EXPECT_LE(s.claimed_makespan, best_baseline_makespan(*pb) * (1 + 1e-9)) << "seed " << seed;
    const LatencyBounds lb = latency_lower_bounds(*pb);
    EXPECT_LE(lb.best, s.claimed_makespan * (1 + 1e-9));
  }
}

TEST(SplitSchedule, OpBudgetAndProgress) {
  auto pb = testing::random_problem(40, 0.1, 3, 5, true);
  SolveOptions opt;
  opt.time_limit_s = 3;
  opt.max_part_ops = 6;
  std::set<std::string> stages;
  opt.progress = [&](const Progress& p) { stages.insert(p.stage.substr(0, p.stage.find(' '))); };
  const Schedule s = split_schedule(*pb, opt);
  check_valid(*pb, s);
  EXPECT_TRUE(stages.count("part"));
  EXPECT_TRUE(stages.count("done"));
}

TEST(SplitSchedule, IndependentPartsSolvedInParallelWorkers) {
  // randwire_ws with a small budget has waves of independent parts; with 2 threads they are
  // solved in worker processes. (Not a series CNN: there the series DP proves the whole graph
  // optimal before any part is solved.)
  auto g = load_graph(std::string(DIVIML_TEST_DATA) + "/randwire_ws.onnx");
  Problem pb(g, std::make_shared<Platform>(load_platform("paper-node")));
  SolveOptions opt;
  opt.time_limit_s = 4;
  opt.max_part_pairs = 10;
  opt.threads = 2;
  std::set<std::string> stages;
  opt.progress = [&](const Progress& p) { stages.insert(p.stage); };
  const Schedule s = split_schedule(pb, opt);
  check_valid(pb, s);
  EXPECT_LE(s.claimed_makespan, best_baseline_makespan(pb) * (1 + 1e-9));
  const std::smatch m = [&] {
    std::smatch r;
    std::regex_search(s.notes, r, std::regex("(\\d+) solved in parallel"));
    return r;
  }();
  ASSERT_FALSE(m.empty()) << s.notes;
  EXPECT_GE(std::stoi(m[1].str()), 2) << s.notes;
  EXPECT_TRUE(std::any_of(stages.begin(), stages.end(),
                          [](const std::string& st) { return st.find("in parallel") != std::string::npos; }));
}

TEST(SplitSchedule, InterruptReturnsValidSchedule) {
  auto pb = testing::random_problem(40, 0.1, 3, 9, true);
  std::atomic<bool> stop{true};
  SolveOptions opt;
  opt.time_limit_s = 60;
  opt.max_part_pairs = 10;
  opt.interrupt = &stop;
  const Schedule s = split_schedule(*pb, opt);
  check_valid(*pb, s);
  EXPECT_LE(s.claimed_makespan, best_baseline_makespan(*pb) * (1 + 1e-9));
}

TEST(SplitInspect, DescribesModulesAndParts) {
  auto pb = testing::random_problem(30, 0.1, 3, 3, true);
  SolveOptions opt;
  opt.max_part_pairs = 15;
  const std::string text = describe_modules(pb->graph(), pb.get(), opt, false);
  EXPECT_NE(text.find("module"), std::string::npos);
  const std::string js = describe_modules(pb->graph(), nullptr, opt, true);
  EXPECT_NE(js.find("\"modules\""), std::string::npos);
  EXPECT_NE(js.find("\"parts\""), std::string::npos);
}

TEST(SplitInspect, CountsPartsSolvableBesideAnEarlierOne) {
  // Two chains side by side between a source and a sink: with a 2-op budget the chains' pieces
  // become parts, and a part of one chain does not depend on the part of the other before it.
  std::vector<std::pair<int, int>> edges = {{0, 1}, {1, 2}, {2, 3}, {0, 4}, {4, 5}, {5, 6}, {3, 7}, {6, 7}};
  auto g = graph_from_edges(8, edges);
  SolveOptions opt;
  opt.max_part_ops = 2;
  auto js = nlohmann::json::parse(describe_modules(*g, nullptr, opt, true));
  EXPECT_GE(js["parts_beside_an_earlier_part"].get<int>(), 1);
  EXPECT_LT(js["num_waves"].get<int>(), js["num_parts"].get<int>());
  // A chain: every part depends on the one before.
  auto chain = graph_from_edges(6, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}});
  js = nlohmann::json::parse(describe_modules(*chain, nullptr, opt, true));
  EXPECT_EQ(js["parts_beside_an_earlier_part"].get<int>(), 0);
  EXPECT_EQ(js["num_waves"].get<int>(), js["num_parts"].get<int>());
  EXPECT_GE(js["num_parts"].get<int>(), 3);
}


}  // namespace
}  // namespace diviml

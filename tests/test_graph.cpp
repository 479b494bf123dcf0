#include <gtest/gtest.h>

#include "frontend/load_graph.h"
#include "graph/graph.h"
#include "random_instances.h"

using namespace diviml;

namespace {
// a -> b -> d, a -> c -> d
Graph diamond() {
  Graph g;
  g.name = "diamond";
  for (const char* n : {"x", "ta", "tb", "tc", "td"}) g.add_tensor(diviml::testing::test_tensor(n, 4));
  auto op = [&](const char* n, std::vector<TensorId> in, std::vector<TensorId> out) {
    Op o;
    o.name = n;
    o.inputs = in;
    o.outputs = out;
    g.add_op(o);
  };
  op("a", {0}, {1});
  op("b", {1}, {2});
  op("c", {1}, {3});
  op("d", {2, 3}, {4});
  g.tensors[4].is_graph_output = true;
  g.finalize();
  return g;
}
}  // namespace

TEST(Graph, DiamondStructure) {
  Graph g = diamond();
  EXPECT_EQ(g.num_edges(), 4u);
  EXPECT_EQ(g.topo_order(), (std::vector<OpId>{0, 1, 2, 3}));
  EXPECT_EQ(g.graph_inputs(), std::vector<TensorId>{0});
  EXPECT_EQ(g.graph_outputs(), std::vector<TensorId>{4});
  EXPECT_EQ(g.tensors[1].consumers, (std::vector<OpId>{1, 2}));
  Reachability r(g);
  EXPECT_TRUE(r.reaches(0, 3));
  EXPECT_FALSE(r.reaches(3, 0));
  EXPECT_FALSE(r.comparable(1, 2));
  EXPECT_EQ(r.count_incomparable_pairs(), 1u);
  EXPECT_EQ(r.incomparable_pairs(), (std::vector<std::pair<OpId, OpId>>{{1, 2}}));
}

TEST(Graph, CycleIsReportedWithItsOps) {
  Graph g;
  g.name = "cyc";
  for (const char* n : {"t0", "t1", "t2"}) g.add_tensor(diviml::testing::test_tensor(n, 1));
  Op a, b, c;
  a.name = "opA";
  b.name = "opB";
  c.name = "opC";
  a.inputs = {2};
  a.outputs = {0};
  b.inputs = {0};
  b.outputs = {1};
  c.inputs = {1};
  c.outputs = {2};
  g.add_op(a);
  g.add_op(b);
  g.add_op(c);
  try {
    g.finalize();
    FAIL() << "cycle not detected";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cycle"), std::string::npos) << m;
    for (const char* n : {"opA", "opB", "opC"}) EXPECT_NE(m.find(n), std::string::npos) << m;
  }
}

TEST(Graph, RejectsBadInput) {
  Graph empty;
  empty.name = "e";
  EXPECT_THROW(empty.finalize(), InputError);
  Graph g = diamond();
  g.ops[1].flops = -1;
  EXPECT_THROW(g.finalize(), InputError);
  g = diamond();
  g.ops[1].flops = std::nan("");
  EXPECT_THROW(g.finalize(), InputError);
  g = diamond();
  g.ops[2].name = "a";
  EXPECT_THROW(g.finalize(), InputError);
  g = diamond();
  g.ops[2].outputs = {2};  // two producers of tb
  EXPECT_THROW(g.finalize(), InputError);
}

TEST(Graph, ReachabilityMatchesDfsOnRandomDags) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto g = diviml::testing::random_dag(5 + static_cast<int>(seed) * 7, 0.1, 2, seed);
    Reachability r(*g);
    size_t incomparable = 0;
    for (OpId u = 0; u < g->num_ops(); ++u) {
      std::vector<bool> seen(g->num_ops(), false);
      std::vector<OpId> stack = g->succ(u);
      while (!stack.empty()) {
        OpId v = stack.back();
        stack.pop_back();
        if (seen[v]) continue;
        seen[v] = true;
        for (OpId w : g->succ(v)) stack.push_back(w);
      }
      for (OpId v = 0; v < g->num_ops(); ++v) ASSERT_EQ(r.reaches(u, v), seen[v]) << u << "->" << v;
    }
    for (OpId u = 0; u < g->num_ops(); ++u)
      for (OpId v = u + 1; v < g->num_ops(); ++v) incomparable += !r.comparable(u, v);
    EXPECT_EQ(r.count_incomparable_pairs(), incomparable);
    EXPECT_EQ(r.incomparable_pairs().size(), incomparable);
    // topological order respects every edge
    for (OpId u = 0; u < g->num_ops(); ++u)
      for (OpId v : g->succ(u)) EXPECT_LT(g->topo_rank()[u], g->topo_rank()[v]);
  }
}

TEST(GraphJson, RoundTrip) {
  auto g = diviml::testing::random_dag(30, 0.15, 3, 7);
  const std::string text = graph_to_json_text(*g);
  auto h = graph_from_json_text(text, "mem.json");
  ASSERT_EQ(h->num_ops(), g->num_ops());
  ASSERT_EQ(h->num_tensors(), g->num_tensors());
  EXPECT_EQ(h->num_edges(), g->num_edges());
  for (OpId v = 0; v < g->num_ops(); ++v) {
    EXPECT_EQ(h->ops[v].name, g->ops[v].name);
    EXPECT_EQ(h->ops[v].device_times, g->ops[v].device_times);
  }
  EXPECT_EQ(graph_to_json_text(*h), text);
}

TEST(GraphJson, MalformedInputsNameTheProblem) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    try {
      graph_from_json_text(text, "bad.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    }
  };
  expect_error("{\"ops\": [", "not valid JSON");                      // truncated
  expect_error("[]", "object");
  expect_error("{\"ops\": []}", "no ops");                              // empty graph
  expect_error("{\"ops\": [{\"name\": \"a\", \"inputs\": [\"zz\"]}]}", "unknown tensor 'zz'");
  expect_error("{\"ops\": [{\"name\": \"a\", \"flops\": -3}]}", "flops");
  expect_error("{\"ops\": [{\"name\": \"a\", \"flops\": \"many\"}]}", "flops");
  expect_error("{\"ops\": [{\"name\": \"a\", \"times\": {\"cpu\": -1}}]}", "time on 'cpu'");
  expect_error("{\"ops\": [{\"name\": \"a\", \"class\": \"weird\"}]}", "unknown op class");
  expect_error("{\"tensors\": [{\"name\": \"t\"}, {\"name\": \"u\"}], \"ops\": ["
               "{\"name\": \"a\", \"inputs\": [\"u\"], \"outputs\": [\"t\"]},"
               "{\"name\": \"b\", \"inputs\": [\"t\"], \"outputs\": [\"u\"]}]}",
               "cycle");
  EXPECT_THROW(load_graph("/nonexistent/model.json"), InputError);
  EXPECT_THROW(load_graph("model.txt"), InputError);
}

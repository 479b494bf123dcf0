// Partitioned export: per-device ONNX sub-models that the ONNX checker accepts and that join
// back into the original graph along plan.json.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "frontend/onnx_import.h"
#include "report/partition.h"

namespace fs = std::filesystem;
using namespace diviml;
using nlohmann::json;

namespace {

std::string model_path(const std::string& stem) { return std::string(DIVIML_TEST_DATA) + "/" + stem + ".onnx"; }

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("diviml_partition_test_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::shared_ptr<Graph> load(const std::string& path, Granularity gr) {
  LoadOptions o;
  o.granularity = gr;
  return import_onnx(path, o);
}

/// A schedule JSON by hand: ops in topological order, device devices[i % n], unit times.
json make_schedule(const Graph& g, const std::vector<std::string>& devices, bool with_fused = true) {
  json ops = json::array();
  int i = 0;
  for (OpId v : g.topo_order()) {
    json o{{"name", g.ops[v].name},
           {"device", devices[static_cast<size_t>(i) % devices.size()]},
           {"start_s", 1.0 * i},
           {"finish_s", 1.0 * i + 1}};
    if (with_fused && !g.ops[v].fused.empty()) o["fused"] = g.ops[v].fused;
    ops.push_back(o);
    ++i;
  }
  return {{"graph", g.name}, {"platform", "test"}, {"ops", ops}};
}

using Edge = std::tuple<std::string, std::string, std::string>;  // producer, consumer, tensor

std::set<Edge> edges_of(const Graph& g) {
  std::set<Edge> e;
  for (const auto& op : g.ops)
    for (TensorId t : op.inputs)
      if (g.tensors[t].producer != kNoOp) e.insert({g.ops[g.tensors[t].producer].name, op.name, g.tensors[t].name});
  return e;
}

void expect_input_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected InputError mentioning " << needle;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

/// The executable view: segments pass the checker, are listed in an order in which each one's
/// inputs are graph inputs or outputs of an earlier segment, hold only the weights their own nodes
/// read, take other devices' tensors only as inputs, and re-join into the original graph.
void check_segments(const PartitionResult& res, const Graph& g_op, const std::map<std::string, std::string>& device_of,
                    const std::string& out) {
  const json& plan = res.plan;
  ASSERT_TRUE(plan.contains("segments"));
  ASSERT_EQ(plan["segments"].size(), res.segment_files.size());
  ASSERT_TRUE(fs::exists(fs::path(out) / plan["whole_model"].get<std::string>()));
  std::set<std::string> graph_inputs;
  for (TensorId t : g_op.graph_inputs()) graph_inputs.insert(g_op.tensors[t].name);
  std::set<std::string> available = graph_inputs;      // tensors existing before the next segment
  std::map<std::string, std::string> producer_of;       // tensor -> op, across segments
  std::map<std::string, int> held;                      // op -> segments holding it
  std::set<Edge> joined;
  std::vector<std::pair<std::string, std::string>> reads;  // (consumer op, tensor) resolved at the end
  std::set<std::string> segment_names;
  for (size_t k = 0; k < res.segment_files.size(); ++k) {
    const json& seg = plan["segments"][k];
    const std::string& file = res.segment_files[k];
    SCOPED_TRACE(file);
    EXPECT_EQ(seg["model"], fs::path(file).filename().string());
    EXPECT_TRUE(segment_names.insert(seg["name"].get<std::string>()).second);
    try {
      onnx::checker::check_model(file);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "checker: " << e.what();
    }
    onnx::ModelProto m;
    {
      std::ifstream in(file, std::ios::binary);
      ASSERT_TRUE(m.ParseFromIstream(&in));
    }
    const std::string device = seg["device"];
    // Inputs exist when the segment starts; those of another device are announced in the plan.
    std::set<std::string> inputs;
    for (const auto& i : m.graph().input()) {
      inputs.insert(i.name());
      EXPECT_TRUE(available.count(i.name())) << "segment " << seg["name"] << " reads " << i.name() << " before it exists";
    }
    std::set<std::string> plan_inputs;
    for (const auto& i : seg["inputs"]) plan_inputs.insert(i["tensor"].get<std::string>());
    EXPECT_EQ(plan_inputs, inputs);
    // Only the weights its nodes read.
    std::set<std::string> read;
    for (const auto& n : m.graph().node())
      for (const auto& i : n.input()) read.insert(i);
    for (const auto& t : m.graph().initializer()) EXPECT_TRUE(read.count(t.name())) << "unused weight " << t.name();
    for (const auto& n : m.graph().node()) {
      if (!device_of.count(n.name())) continue;  // a replicated constant
      EXPECT_EQ(device_of.at(n.name()), device) << n.name();
      held[n.name()]++;
      for (const auto& o : n.output()) producer_of[o] = n.name();
      for (const auto& i : n.input())
        if (!i.empty()) reads.push_back({n.name(), i});
    }
    for (const auto& o : m.graph().output()) available.insert(o.name());
  }
  EXPECT_GE(plan["segments"].size(), plan["devices"].size());
  for (const auto& [op, dev] : device_of) EXPECT_EQ(held[op], 1) << op;
  for (const auto& [op, t] : reads)
    if (auto it = producer_of.find(t); it != producer_of.end()) joined.insert({it->second, op, t});
  EXPECT_EQ(joined, edges_of(g_op));
  for (const auto& o : plan["graph_outputs"]) EXPECT_TRUE(available.count(o["tensor"].get<std::string>()));
}

/// Partitions `stem` along a round-robin schedule and checks every property of the export.
void check_partition(const std::string& stem, Granularity gr, const std::vector<std::string>& devices) {
  SCOPED_TRACE(stem);
  TempDir tmp;
  auto g = load(model_path(stem), gr);
  auto g_op = load(model_path(stem), Granularity::Op);
  const json sched = make_schedule(*g, devices);
  const auto placements = parse_schedule_placements(sched.dump(), "sched.json");
  const std::string out = tmp.file("out");
  const auto res = partition_onnx(model_path(stem), placements, "sched.json", out);
  ASSERT_EQ(res.devices.size(), devices.size());
  ASSERT_TRUE(fs::exists(res.plan_file));
  const json plan = json::parse(std::ifstream(res.plan_file));
  EXPECT_EQ(plan["granularity"], gr == Granularity::Op ? "op" : "fused");

  // Device of every ONNX op, from the schedule.
  std::map<std::string, std::string> device_of;
  for (const auto& p : placements.ops) {
    const Op& op = g->ops[g->op_id(p.name)];
    if (op.fused.empty()) device_of[op.name] = p.device;
    for (const auto& f : op.fused) device_of[f] = p.device;
  }
  ASSERT_EQ(device_of.size(), static_cast<size_t>(g_op->num_ops()));

  // The checker needs the external-data file to exist; the sub-models only reference it.
  std::ofstream(fs::path(out) / "weights.bin").put('\0');

  std::set<std::string> kept, folded;
  std::map<std::string, std::string> source_init;  // initializer -> serialized TensorProto
  for (const auto& op : g_op->ops) kept.insert(op.name);
  {
    onnx::ModelProto src;
    std::ifstream in(model_path(stem), std::ios::binary);
    ASSERT_TRUE(src.ParseFromIstream(&in));
    for (const auto& n : src.graph().node())
      if (!kept.count(n.name())) folded.insert(n.name());
    for (const auto& t : src.graph().initializer()) source_init[t.name()] = t.SerializeAsString();
  }
  std::map<std::string, int> seen;  // kept ONNX node -> number of sub-models holding it
  std::vector<std::shared_ptr<Graph>> parts;
  for (size_t d = 0; d < res.devices.size(); ++d) {
    const std::string& file = res.model_files[d];
    SCOPED_TRACE(file);
    EXPECT_EQ(plan["devices"][d]["model"], fs::path(file).filename().string());
    try {
      onnx::checker::check_model(file);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "checker: " << e.what();
    }
    onnx::ModelProto m;
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(m.ParseFromIstream(&in));
    for (const auto& n : m.graph().node()) {
      if (kept.count(n.name())) {
        seen[n.name()]++;
        EXPECT_EQ(device_of[n.name()], res.devices[d]) << n.name();
      } else {
        // Only replicated constants / shape subgraphs of the source besides the placed nodes.
        EXPECT_TRUE(folded.count(n.name())) << n.op_type() << " " << n.name();
      }
    }
    // Weights are referenced as in the source, never copied.
    for (const auto& t : m.graph().initializer()) {
      ASSERT_TRUE(source_init.count(t.name())) << t.name();
      EXPECT_EQ(t.SerializeAsString(), source_init[t.name()]) << t.name();
    }
    parts.push_back(load(file, Granularity::Op));
  }
  for (const auto& n : kept) EXPECT_EQ(seen[n], 1) << n;

  // Join the re-imported sub-models along the plan: same ops, same edges, same graph inputs.
  std::set<std::string> joined_ops;
  std::map<std::string, std::string> producer_of;  // tensor -> op, across sub-models
  for (const auto& p : parts)
    for (const auto& op : p->ops) {
      EXPECT_TRUE(joined_ops.insert(op.name).second) << op.name;
      for (TensorId t : op.outputs) producer_of[p->tensors[t].name] = op.name;
    }
  EXPECT_EQ(joined_ops, kept);
  std::set<Edge> joined;
  std::set<std::string> original_inputs;
  for (TensorId t : g_op->graph_inputs()) original_inputs.insert(g_op->tensors[t].name);
  std::set<std::tuple<std::string, std::string, std::string>> cross;  // tensor, from, to
  for (size_t d = 0; d < parts.size(); ++d)
    for (const auto& op : parts[d]->ops)
      for (TensorId t : op.inputs) {
        const std::string& tn = parts[d]->tensors[t].name;
        auto it = producer_of.find(tn);
        if (it == producer_of.end()) {
          EXPECT_TRUE(original_inputs.count(tn)) << tn;
          continue;
        }
        joined.insert({it->second, op.name, tn});
        if (device_of[it->second] != res.devices[d]) cross.insert({tn, device_of[it->second], res.devices[d]});
      }
  EXPECT_EQ(joined, edges_of(*g_op));

  // Every cross-device tensor is in the plan, once per destination device, and nothing else.
  std::set<std::tuple<std::string, std::string, std::string>> planned;
  for (const auto& t : plan["transfers"]) {
    EXPECT_TRUE(planned.insert({t["tensor"].get<std::string>(), t["from"].get<std::string>(), t["to"].get<std::string>()}).second);
    EXPECT_GT(t["bytes"].get<double>(), 0);
  }
  EXPECT_EQ(planned, cross);
  EXPECT_FALSE(cross.empty());
  // Execution order per device follows the schedule and covers all its ops.
  size_t ordered = 0;
  for (const auto& d : plan["devices"]) {
    double last = -1;
    for (const auto& o : d["order"]) {
      EXPECT_GE(o["start_s"].get<double>(), last);
      last = o["start_s"].get<double>();
      ++ordered;
    }
  }
  EXPECT_EQ(ordered, placements.ops.size());
  ASSERT_EQ(plan["graph_inputs"].size(), 1u);
  ASSERT_EQ(plan["graph_outputs"].size(), 1u);
  EXPECT_EQ(plan["external_data"]["files"], json::array({"weights.bin"}));
  check_segments(res, *g_op, device_of, out);
}

}  // namespace

TEST(PartitionExport, Resnet18FusedTwoDevices) { check_partition("resnet18", Granularity::Fused, {"cpu", "gpu"}); }

TEST(PartitionExport, GooglenetOpGranularityThreeDevices) {
  check_partition("googlenet", Granularity::Op, {"cpu", "gpu0", "gpu1"});
}

TEST(PartitionExport, TransformerReplicatesShapeSubgraphs) {
  check_partition("transformer_encoder6", Granularity::Fused, {"a", "b"});
}

TEST(PartitionExport, RandwireFused) { check_partition("randwire_ws", Granularity::Fused, {"d0", "d1", "d2"}); }

TEST(PartitionExport, FusedListsComeFromTheModelWhenAbsent) {
  TempDir tmp;
  auto g = load(model_path("resnet18"), Granularity::Fused);
  const auto placements = parse_schedule_placements(make_schedule(*g, {"x", "y"}, false).dump(), "s.json");
  const auto res = partition_onnx(model_path("resnet18"), placements, "s.json", tmp.file("out"));
  size_t nodes = 0;
  for (const auto& d : res.plan["devices"]) nodes += d["nodes"].get<size_t>();
  EXPECT_EQ(nodes, static_cast<size_t>(load(model_path("resnet18"), Granularity::Op)->num_ops()));
}

TEST(PartitionExport, ScheduleThatDoesNotMatchIsAnInputError) {
  TempDir tmp;
  const std::string model = model_path("resnet18");
  auto g = load(model, Granularity::Fused);
  const json good = make_schedule(*g, {"cpu", "gpu"});
  auto run = [&](const json& j) {
    return [&, j] { partition_onnx(model, parse_schedule_placements(j.dump(), "bad.json"), "bad.json", tmp.file("o")); };
  };
  json unknown = good;
  unknown["ops"][3]["name"] = "no_such_op";
  unknown["ops"][3].erase("fused");
  expect_input_error(run(unknown), "no_such_op");
  json missing = good;
  missing["ops"].erase(missing["ops"].begin() + 2);
  expect_input_error(run(missing), g->ops[g->topo_order()[2]].name);
  json twice = good;
  twice["ops"][1]["fused"] = json::array({g->ops[g->topo_order()[1]].name, "/relu/Relu"});
  expect_input_error(run(twice), "placed twice");
  json dup = good;
  dup["ops"].push_back(dup["ops"][0]);
  expect_input_error(run(dup), "placed twice");
  json bogus_member = good;
  bogus_member["ops"][0]["fused"] = json::array({"/conv1/Conv", "/nonexistent"});
  expect_input_error(run(bogus_member), "/nonexistent");
  expect_input_error([] { parse_schedule_placements("{\"ops\": [", "trunc.json"); }, "trunc.json");
  expect_input_error([] { parse_schedule_placements("{\"ops\": [{\"name\": \"a\"}]}", "nodev.json"); }, "device");
  expect_input_error([] { parse_schedule_placements("[1,2]", "arr.json"); }, "arr.json");
}

TEST(PartitionExport, CommandLine) {
  TempDir tmp;
  auto g = load(model_path("squeezenet1_0"), Granularity::Fused);
  { std::ofstream(tmp.file("s.json")) << make_schedule(*g, {"cpu", "gpu"}).dump(); }
  const std::string bin = DIVIML_BINARY;
  const std::string cmd = bin + " partition " + model_path("squeezenet1_0") + " --schedule " + tmp.file("s.json") +
                          " -o " + tmp.file("out") + " > " + tmp.file("stdout") + " 2> " + tmp.file("stderr");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(fs::exists(tmp.file("out/plan.json")));
  EXPECT_TRUE(fs::exists(tmp.file("out/squeezenet1_0.cpu.onnx")));
  EXPECT_TRUE(fs::exists(tmp.file("out/squeezenet1_0.gpu.onnx")));

  json bad = make_schedule(*g, {"cpu", "gpu"});
  bad["ops"].erase(bad["ops"].begin());
  { std::ofstream(tmp.file("bad.json")) << bad.dump(); }
  const std::string bad_cmd = bin + " partition " + model_path("squeezenet1_0") + " --schedule " + tmp.file("bad.json") +
                              " -o " + tmp.file("out2") + " 2> " + tmp.file("stderr2");
  EXPECT_NE(std::system(bad_cmd.c_str()), 0);
  std::ifstream err(tmp.file("stderr2"));
  std::string all((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("no placement"), std::string::npos) << all;
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 1) << all;
}

/// A random placement: many transfers back and forth, so many segments per device.
TEST(PartitionSegments, RandomPlacementManyTransfers) {
  for (const char* stem : {"googlenet", "transformer_encoder6", "inception_v3"}) {
    SCOPED_TRACE(stem);
    TempDir tmp;
    auto g = load(model_path(stem), Granularity::Fused);
    auto g_op = load(model_path(stem), Granularity::Op);
    json sched = make_schedule(*g, {"a", "b", "c"});
    std::mt19937 gen(7);
    for (auto& o : sched["ops"]) o["device"] = std::string(1, static_cast<char>('a' + gen() % 3));
    const auto placements = parse_schedule_placements(sched.dump(), "random.json");
    const auto res = partition_onnx(model_path(stem), placements, "random.json", tmp.file("out"));
    std::map<std::string, std::string> device_of;
    for (const auto& p : placements.ops) {
      const Op& op = g->ops[g->op_id(p.name)];
      if (op.fused.empty()) device_of[op.name] = p.device;
      for (const auto& f : op.fused) device_of[f] = p.device;
    }
    std::ofstream(tmp.path / "out" / "weights.bin").put('\0');
    check_segments(res, *g_op, device_of, tmp.file("out"));
    EXPECT_GT(res.plan["segments"].size(), 3 * res.plan["devices"].size());
    EXPECT_GT(res.plan["transfers"].size(), 20u);
  }
}

TEST(PartitionSegments, ScheduleOrderAgainstDependenciesIsAnInputError) {
  TempDir tmp;
  auto g = load(model_path("squeezenet1_0"), Granularity::Fused);
  json sched = make_schedule(*g, {"one"});
  // The last op first on its device: it would wait for its own successors.
  sched["ops"].back()["start_s"] = -1.0;
  expect_input_error([&] {
    partition_onnx(model_path("squeezenet1_0"), parse_schedule_placements(sched.dump(), "order.json"), "order.json",
                   tmp.file("o"));
  }, "contradicts");
}

TEST(PartitionSegments, OneDeviceIsOneSegment) {
  TempDir tmp;
  auto g = load(model_path("resnet18"), Granularity::Fused);
  const auto res = partition_onnx(model_path("resnet18"), parse_schedule_placements(make_schedule(*g, {"cpu"}).dump(), "s.json"),
                                  "s.json", tmp.file("o"));
  ASSERT_EQ(res.plan["segments"].size(), 1u);
  EXPECT_EQ(res.plan["segments"][0]["inputs"].size(), 1u);
  EXPECT_EQ(res.plan["weights"].size(), 21u);  // every external tensor of the model, with offsets
  EXPECT_FALSE(res.plan["external_data"]["present"]["weights.bin"].get<bool>());
}

// `partition` and `diviml run` for a split batch (report/batch_partition.h, docs/batch.md): the
// copies of the model per micro-batch, the inputs sliced and the outputs concatenated as plan
// segments on the I/O device, executed with ONNX Runtime against the whole model at batch B.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"
#include "report/batch_partition.h"

namespace fs = std::filesystem;
using namespace diviml;
using diviml::testing::data_path;
using diviml::testing::run_cli;
using diviml::testing::temp_path;
using nlohmann::json;

namespace {

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

/// schedule --batch B --micro-batches M -o, then partition; returns the plan directory.
std::string split_plan(const std::string& model, const std::string& platform, int batch, const std::string& mb,
                       const std::string& method, const std::string& tag) {
  const std::string sched = temp_path("batch_partition_" + tag + ".json");
  const std::string dir = temp_path("batch_partition_" + tag);
  fs::remove_all(dir);
  const auto s = run_cli(fmt::format("schedule {} --platform {} --batch {} --micro-batches {} --method {} -q "
                                     "--time-limit 1 --bound-milp-time 0 -o {}",
                                     data_path(model + ".onnx"), platform, batch, mb, method, sched));
  EXPECT_EQ(s.exit_code, 0) << s.output;
  const auto p = run_cli(fmt::format("partition {} --schedule {} -o {}", data_path(model + ".onnx"), sched, dir));
  EXPECT_EQ(p.exit_code, 0) << p.output;
  return dir;
}

bool have_node() { return std::system("node --version > /dev/null 2>&1") == 0; }

}  // namespace

TEST(BatchPartition, SlicesAndConcatsArePlanSegmentsOnTheIoDevice) {
  const std::string dir = split_plan("resnet18", "paper-node", 8, "3,5", "heft", "paper");
  const json plan = read_json(dir + "/plan.json");
  ASSERT_TRUE(plan.contains("batch"));
  EXPECT_EQ(plan["batch"]["batch"], 8);
  EXPECT_EQ(plan["batch"]["micro_batch_sizes"], json({3, 5}));
  ASSERT_EQ(plan["batch"]["slices"].size(), 2u);  // one input, two micro-batches
  EXPECT_EQ(plan["batch"]["slices"][0]["offset"], 0);
  EXPECT_EQ(plan["batch"]["slices"][0]["size"], 3);
  EXPECT_EQ(plan["batch"]["slices"][1]["offset"], 3);
  EXPECT_EQ(plan["batch"]["slices"][1]["size"], 5);
  ASSERT_EQ(plan["batch"]["concats"].size(), 1u);
  EXPECT_EQ(plan["batch"]["concats"][0]["parts"], json({"mb0/output", "mb1/output"}));
  // paper-node's I/O device is its CPU: slices and the concat run there.
  for (const auto& s : plan["batch"]["slices"]) EXPECT_EQ(s["device"], "cpu");
  EXPECT_EQ(plan["batch"]["concats"][0]["device"], "cpu");
  // The request's input enters whole at batch 8; the output leaves whole at batch 8.
  ASSERT_EQ(plan["graph_inputs"].size(), 1u);
  EXPECT_EQ(plan["graph_inputs"][0]["shape"], json({8, 3, 224, 224}));
  EXPECT_EQ(plan["graph_inputs"][0]["to"], json({"cpu"}));
  EXPECT_EQ(plan["graph_outputs"][0]["shape"], json({8, 1000}));
  EXPECT_EQ(plan["graph_outputs"][0]["from"], "cpu");

  // Every segment is a valid ONNX model; every node of both copies is in exactly one segment.
  // The checker needs the external-data file to exist; the segments only reference it.
  if (!fs::exists(dir + "/weights.bin")) std::ofstream(dir + "/weights.bin").put('\0');
  std::set<std::string> nodes;
  size_t slice_nodes = 0, concat_nodes = 0;
  for (const auto& s : plan["segments"]) {
    const std::string file = dir + "/" + s["model"].get<std::string>();
    onnx::ModelProto m;
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(m.ParseFromIstream(&in)) << file;
    try {
      onnx::checker::check_model(file);
    } catch (const std::exception& e) {
      ADD_FAILURE() << file << ": " << e.what();
    }
    for (const auto& n : m.graph().node()) {
      if (n.op_type() == "Constant") continue;
      EXPECT_TRUE(nodes.insert(n.name()).second) << n.name() << " in two segments";
      slice_nodes += n.op_type() == "Slice";
      concat_nodes += n.op_type() == "Concat";
      if (n.op_type() == "Slice" || n.op_type() == "Concat") {
        EXPECT_EQ(s["device"], "cpu") << n.name();
      }
    }
  }
  onnx::ModelProto src;
  {
    std::ifstream in(data_path("resnet18.onnx"), std::ios::binary);
    ASSERT_TRUE(src.ParseFromIstream(&in));
  }
  EXPECT_EQ(nodes.size(), 2u * static_cast<size_t>(src.graph().node_size()) + 3u);
  EXPECT_EQ(slice_nodes, 2u);
  EXPECT_EQ(concat_nodes, 1u);
  // The reference is the model itself at batch 8 (not the split model).
  onnx::ModelProto whole;
  {
    std::ifstream in(dir + "/whole.onnx", std::ios::binary);
    ASSERT_TRUE(whole.ParseFromIstream(&in));
  }
  EXPECT_EQ(whole.graph().node_size(), src.graph().node_size());
  EXPECT_EQ(whole.graph().input(0).type().tensor_type().shape().dim(0).dim_value(), 8);
}

TEST(BatchPartition, OneMicroBatchIsTheModelAtBatchB) {
  const std::string dir = split_plan("squeezenet1_0", "paper-node", 4, "1", "heft", "one");
  const json plan = read_json(dir + "/plan.json");
  EXPECT_EQ(plan["batch"]["micro_batch_sizes"], json({4}));
  EXPECT_TRUE(plan["batch"]["slices"].empty());
  EXPECT_TRUE(plan["batch"]["concats"].empty());
  EXPECT_EQ(plan["graph_inputs"][0]["shape"], json({4, 3, 224, 224}));
}

TEST(BatchPartition, ModelWhoseAxisZeroIsNotTheBatchIsAnInputError) {
  // transformer_encoder6 was exported sequence-first at [128, 1, 512]: axis 0 is not a batch axis.
  const std::string sched = temp_path("batch_partition_tr.json");
  const auto s = run_cli(fmt::format("schedule {} --platform paper-node --batch 2 --micro-batches 2 --method heft -q "
                                     "--bound-milp-time 0 -o {}",
                                     data_path("transformer_encoder6.onnx"), sched));
  ASSERT_EQ(s.exit_code, 0) << s.output;
  const auto p = run_cli(fmt::format("partition {} --schedule {} -o {}", data_path("transformer_encoder6.onnx"), sched,
                                     temp_path("batch_partition_tr")));
  EXPECT_NE(p.exit_code, 0);
  EXPECT_NE(p.output.find("along axis 0"), std::string::npos) << p.output;
  EXPECT_EQ(std::count(p.output.begin(), p.output.end(), '\n'), 1) << p.output;
}

TEST(BatchPartition, ScheduleOfAnotherSplitIsAnInputError) {
  const std::string sched = temp_path("batch_partition_bad.json");
  const auto s = run_cli(fmt::format("schedule {} --platform paper-node --batch 4 --micro-batches 2,2 --method heft -q "
                                     "--bound-milp-time 0 -o {}",
                                     data_path("resnet18.onnx"), sched));
  ASSERT_EQ(s.exit_code, 0) << s.output;
  json j = read_json(sched);
  j["batch"]["micro_batch_sizes"] = {1, 1, 2};  // three micro-batches, ops of two
  std::ofstream(sched) << j.dump();
  const auto p = run_cli(fmt::format("partition {} --schedule {} -o {}", data_path("resnet18.onnx"), sched,
                                     temp_path("batch_partition_bad")));
  EXPECT_NE(p.exit_code, 0);
  EXPECT_NE(p.output.find("does not match"), std::string::npos) << p.output;
}

/// End to end with ONNX Runtime: the split plan's concatenated outputs equal the whole model run
/// at batch B (random weights and inputs, seeded).
TEST(BatchPartition, RunMatchesTheWholeModelAtBatchB) {
  if (!have_node()) GTEST_SKIP() << "Node.js is not installed: `diviml run` cannot start its runner";
  for (const auto& [model, mb] : {std::pair<std::string, std::string>{"resnet18", "1,3"}, {"squeezenet1_0", "2,2"}}) {
    const std::string dir = split_plan(model, "local-cpu:2", 4, mb, "heft", "run_" + model);
    const auto r = run_cli(fmt::format("run {} --random-weights 3 --runs 1 --warmup 0 --json", dir));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const size_t at = r.output.find("{\n");
    ASSERT_NE(at, std::string::npos) << r.output;
    const json j = json::parse(r.output.substr(at));
    EXPECT_EQ(j["outputs_match"], true) << model;
    EXPECT_LE(j["max_rel_diff"].get<double>(), 1e-4) << model;
    for (const auto& o : j["outputs"]) EXPECT_GT(o["scale"].get<double>(), 0) << "all zeros: the check would be void";
    const json plan = read_json(dir + "/plan.json");
    EXPECT_EQ(plan["graph_outputs"][0]["shape"], json({4, 1000})) << model;
  }
}

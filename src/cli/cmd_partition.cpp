// `diviml partition MODEL.onnx --schedule schedule.json -o DIR`: executable segments, per-device
// ONNX sub-models and plan.json (report/partition.h, docs/deploy.md).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/batch_partition.h"
#include "report/partition.h"

namespace diviml::cli {

namespace {
struct PartitionArgs {
  ModelArgs model;
  std::string schedule;
  std::string out_dir;
};
}  // namespace

void add_partition_command(CLI::App& app) {
  auto args = std::make_shared<PartitionArgs>();
  CLI::App* cmd = app.add_subcommand(
      "partition",
      "split an ONNX model along a schedule: executable segments (one ONNX sub-model each), per-device sub-models, plan.json");
  args->model.add(cmd, /*with_platform=*/false);
  cmd->get_option("GRAPH")->description("the .onnx model the schedule was made for (only ONNX can be split)");
  cmd->add_option("-s,--schedule", args->schedule, "schedule JSON written by `diviml schedule -o`")->required();
  cmd->add_option("-o,--output", args->out_dir, "output directory (created if needed)")->required();
  cmd->footer(
      "Each device's ops are cut into segments wherever it waits for another device's tensor; plan.json lists\n"
      "them in an executable order (docs/deploy.md). Without --granularity the schedule's op names decide\n"
      "(fused, else op). Sub-models keep the source's external-data references; the weight file is linked\n"
      "into DIR when it exists, else `diviml run --random-weights SEED` writes one.");
  cmd->callback([args, cmd] {
    const std::string& model = args->model.graph;
    require_onnx_model(model, "partition");
    std::vector<std::string> warnings;
    LoadOptions lo = args->model.load_options(&warnings);
    PartitionOptions po;
    if (cmd->count("--granularity") > 0) po.granularity = lo.granularity;
    po.input_shapes = lo.input_shapes;
    po.warnings = &warnings;
    const std::string text = read_file_text(args->schedule);
    const auto sched = parse_schedule_placements(text, args->schedule);  // validates; errors name the file
    const nlohmann::json sj = nlohmann::json::parse(text);
    const auto res = is_split_batch_schedule(sj)
                         ? partition_split_batch(args->model.graph, sj, args->schedule, args->out_dir, po)
                         : partition_onnx(args->model.graph, sched, args->schedule, args->out_dir, po);
    print_warnings(warnings);
    for (size_t i = 0; i < res.devices.size(); ++i)
      fmt::print("{}: {} ({} nodes)\n", res.devices[i], res.model_files[i],
                 res.plan["devices"][i]["nodes"].get<size_t>());
    fmt::print("segments: {} (executable, in plan order: {} ... {})\n", res.segment_files.size(),
               res.segment_files.front(), res.segment_files.back());
    if (res.plan.contains("batch"))
      fmt::print("batch {} as micro-batches [{}]: inputs sliced and outputs concatenated in the plan ({})\n",
                 res.plan["batch"]["batch"].get<int>(), fmt::join(res.plan["batch"]["micro_batch_sizes"].get<std::vector<int>>(), ","),
                 res.plan["batch"]["split_model"].get<std::string>());
    fmt::print("plan: {} ({} cross-device tensors); run it with `diviml run {}`\n", res.plan_file,
               res.plan["transfers"].size(), args->out_dir);
  });
}

}  // namespace diviml::cli

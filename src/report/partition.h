// Partitioned export (DESIGN section 10): each device's nodes cut into segments wherever the
// device waits for another device's tensor, one ONNX sub-model per segment (the executable view,
// listed in an order in which every segment's inputs exist when it starts), one sub-model per
// device (the per-device view), the whole model and plan.json. See docs/deploy.md.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "frontend/load_graph.h"

namespace diviml {

/// One scheduled op as read from a schedule JSON ("ops" entries).
struct OpPlacement {
  std::string name;                ///< op name of the scheduled graph
  std::string device;              ///< device name
  double start_s = 0;              ///< start time (orders the ops of a device)
  double finish_s = 0;
  std::vector<std::string> fused;  ///< ONNX node names inside the op (empty: the op itself)
};

/// The parts of a schedule JSON the partitioner needs: {"graph", "platform", "ops": [{"name",
/// "device", "start_s", "finish_s", "fused"}]}. `device` may be a name or an index into a
/// "devices" array of names or {"name"} objects. Throws InputError naming `origin`.
struct SchedulePlacements {
  std::string graph;
  std::string platform;
  std::string method;
  std::optional<double> makespan_s;  ///< the simulator's latency of the schedule ("makespan_s")
  std::vector<OpPlacement> ops;
};
SchedulePlacements parse_schedule_placements(const std::string& json_text, const std::string& origin);

struct PartitionOptions {
  /// Granularity the schedule was made at; unset: try fused, then op (whichever matches).
  std::optional<Granularity> granularity;
  std::map<std::string, std::vector<int64_t>> input_shapes;
  std::vector<std::string>* warnings = nullptr;
  /// The graph the schedule names (op names and fused lists), when it is not the model's own
  /// import: a split batch (batch_partition.h), whose model's fusion may differ at the copies'
  /// edges. Unset: the model imported at `granularity`.
  std::shared_ptr<const Graph> scheduled_graph;
  /// The model copied to whole.onnx as the runner's reference; empty: the model itself.
  std::string whole_model;
  /// Where the model's external-data files are; empty: the model's own directory.
  std::string external_data_dir;
};

struct PartitionResult {
  std::vector<std::string> devices;      ///< devices with a sub-model, in plan order
  std::vector<std::string> model_files;  ///< written per-device sub-model paths, same order
  std::vector<std::string> segment_files;  ///< written segment sub-model paths, plan order
  std::string plan_file;                 ///< written plan.json path
  nlohmann::json plan;                   ///< its content
};

/// Splits `model_path` along the schedule into `out_dir` (created if needed). Throws InputError
/// when the schedule does not match the model (unknown op, missing op, ONNX node placed twice)
/// or a file cannot be written.
PartitionResult partition_onnx(const std::string& model_path, const SchedulePlacements& schedule,
                               const std::string& schedule_origin, const std::string& out_dir,
                               const PartitionOptions& opt = {});

}  // namespace diviml

// `partition` for a split batch (docs/batch.md): the schedule of `schedule --batch B
// --micro-batches ...` names copies "mb<j>/<op>" of the model's ops. The model is rewritten into
// one ONNX graph holding a copy of the network per micro-batch, a Slice per graph input and
// micro-batch (rows of the request for that micro-batch, on the I/O device) and a Concat per graph
// output (the micro-batches' outputs in order, on the I/O device); that graph is partitioned as
// any schedule (partition.h), so every segment is plain ONNX and the runner needs nothing new.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/partition.h"

namespace diviml {

/// True when a schedule JSON is a split-batch schedule (it has "batch" with "micro_batch_sizes").
bool is_split_batch_schedule(const nlohmann::json& schedule);

/// Partitions `model_path` (the per-sample model: batch axis 0 of size 1, or symbolic) along a
/// split-batch schedule into `out_dir`. Writes there the split model (`<stem>.batch<B>.onnx`, the
/// graph that is cut into segments) and, as the runner's reference whole.onnx, the model itself
/// at batch B. The plan gets a "batch" entry: the sizes and, per micro-batch, the slice of each
/// input and the concatenation of each output. Throws InputError when the model cannot be split
/// along axis 0 or the schedule does not match it.
PartitionResult partition_split_batch(const std::string& model_path, const nlohmann::json& schedule,
                                      const std::string& schedule_origin, const std::string& out_dir,
                                      const PartitionOptions& opt = {});

/// Writes the per-sample model `model_path` at batch `b` to `out_path`: axis 0 of every graph input
/// (after the --input-shape overrides) and of every output with a shape set to b, the per-sample
/// value_info dropped (ONNX Runtime infers it). Weights stay where the model keeps them (external
/// data relative to the model's directory: partition with external_data_dir set to it). Throws
/// InputError when axis 0 is not a batch axis (as partition_split_batch).
void write_model_at_batch(const std::string& model_path, int b,
                          const std::map<std::string, std::vector<int64_t>>& input_shapes, const std::string& out_path);

}  // namespace diviml

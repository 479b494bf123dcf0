// ONNX importer: ops, tensors, shapes, FLOPs/bytes per op, fused or op granularity.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontend/load_graph.h"

namespace diviml {

/// Imports an .onnx file, IR versions 3-10, default-domain opsets 7-23 (never opens external
/// weight data). Throws InputError naming the file
/// and the node/tensor on malformed input, unresolved symbolic shapes, cycles.
std::shared_ptr<Graph> import_onnx(const std::string& path, const LoadOptions& opt);

/// The shape diviml infers for every node output of the model (after inlining functions and
/// applying opt.input_shapes), by tensor name; tensors without a static shape are absent.
/// Same validation and errors as import_onnx (used to compare with ONNX Runtime).
std::map<std::string, std::vector<int64_t>> infer_onnx_shapes(const std::string& path, const LoadOptions& opt);

}  // namespace diviml

// ONNX importer: ops, tensors, shapes, FLOPs/bytes per op, fused or op granularity.
#pragma once

#include <memory>
#include <string>

#include "frontend/load_graph.h"

namespace diviml {

/// Imports an .onnx file (never opens external weight data). Throws InputError naming the file
/// and the node/tensor on malformed input, unresolved symbolic shapes, cycles.
std::shared_ptr<Graph> import_onnx(const std::string& path, const LoadOptions& opt);

}  // namespace diviml

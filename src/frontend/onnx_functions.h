// Model-local ONNX functions (ModelProto.functions): inlined into the main graph before shape
// inference, so that their ops are shaped and costed like any other node. See docs/onnx.md.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace diviml {

/// Replaces every node of the main graph that calls a function of `model.functions()` (same
/// domain and name) by the function's body, recursively: formal inputs/outputs map to the
/// call's tensors, internal tensors and nodes get the prefix "<call node name>/", attribute
/// references (ref_attr_name) take the call's attribute or the function's default. Returns
/// the number of calls inlined. Throws InputError (naming `path`) on recursion or a call with
/// more inputs/outputs than the function declares.
int inline_local_functions(onnx::ModelProto& model, const std::string& path);

}  // namespace diviml

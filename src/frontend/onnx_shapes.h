// diviml's own ONNX shape inference (replaces libonnx's InferShapes, whose schemas stop at
// opset 17): one rule per op type, beside the cost rules of onnx_op_rules.cpp, with the
// semantics of each opset where they changed, plus the evaluation of small integer shape
// subgraphs (Shape -> Gather -> Concat -> Reshape, ...) that real exports need. Internal to the
// importer (includes protobuf headers). See docs/onnx.md.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "frontend/onnx_op_rules.h"

namespace diviml::onnx_shapes {

using onnx_rules::TensorInfo;

/// Value of a small constant tensor, flattened row-major: integers (shape arithmetic) or
/// floating-point (Resize scales, Range bounds).
struct ConstValue {
  std::vector<int64_t> dims;
  std::vector<int64_t> i;  ///< integer values (when !is_float)
  std::vector<double> f;   ///< floating-point values (when is_float)
  bool is_float = false;
  size_t size() const { return is_float ? f.size() : i.size(); }
};

/// Reads the value of a small initializer / Constant tensor (not external data, at most
/// `max_elems` elements); false when not available.
bool const_value(const onnx::TensorProto& t, ConstValue& out, size_t max_elems = 4096);

/// What a shape rule sees: the node, the default-domain opset, its inputs' infos and known
/// values (nullptr where absent/unknown); it fills `outputs` (one per node output).
struct ShapeContext {
  const onnx::NodeProto& node;
  int64_t opset = 0;
  std::vector<const TensorInfo*> inputs;
  std::vector<const ConstValue*> values;
  std::vector<TensorInfo> outputs;
  std::string why;  ///< set by a rule that cannot infer (unknown input, data-dependent shape)

  const onnx::AttributeProto* attr(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t dflt) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  std::string attr_string(const std::string& name, const std::string& dflt) const;
  /// Input i's shape, or nullptr (and `why` set) when absent or unknown.
  const std::vector<int64_t>* shape(size_t i);
  int32_t elem_type(size_t i) const;
  /// Integer values of input i, or nullptr (and `why` set) when not a known constant.
  const std::vector<int64_t>* ints(size_t i);
  bool has_input(size_t i) const;
  /// Sets output k's shape and dtype (grows `outputs` as needed).
  void set(size_t k, std::vector<int64_t> dims, int32_t elem_type);
};

/// Rule result: inferred, cannot infer (reason in ctx.why), or the inputs are inconsistent
/// (e.g. channel mismatch, incompatible broadcast; thrown as ShapeError with the reason).
using ShapeRule = std::function<bool(ShapeContext&)>;

struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Shape rules by op type (default domain; com.microsoft types by their own name).
const std::map<std::string, ShapeRule>& shape_rules();
const ShapeRule* find_shape_rule(const std::string& op_type);

/// Evaluates one node of small constant arithmetic (Shape, Size, Gather, Concat, Unsqueeze,
/// Squeeze, Cast, Slice, Add/Sub/Mul/Div, ConstantOfShape, Range, Equal, Where, Expand, ...)
/// when all the values it needs are known; false otherwise.
bool eval_node(const onnx::NodeProto& n, int64_t opset, const std::unordered_map<std::string, ConstValue>& vals,
               const std::unordered_map<std::string, TensorInfo>& info, ConstValue& out);

/// Outcome of inferring a whole graph.
struct GraphShapes {
  std::unordered_map<std::string, TensorInfo> info;   ///< every value with what is known
  std::unordered_map<std::string, ConstValue> values; ///< small constants known
  /// Nodes whose outputs have no static shape and whose inputs were all known: "name (Type):
  /// reason". Nodes downstream of those are counted in `unknown_downstream`.
  std::vector<std::string> failed;
  int unknown_downstream = 0;
  /// Nodes whose output shape came from the file's value_info (no rule could infer it).
  std::vector<std::string> from_value_info;
  /// Outputs whose inferred shape disagrees with the file's value_info: "tensor: ours vs file".
  std::vector<std::string> disagree;
};

/// Infers every node output in `order` (a topological order of gp's nodes). `info` holds the
/// graph inputs and initializers; `stored` the file's value_info/output shapes (used only
/// where no rule can infer, and compared otherwise). Throws ShapeError "node 'n' (Type): ..."
/// on inconsistent inputs.
GraphShapes infer_graph(const onnx::GraphProto& gp, const std::vector<int>& order, const std::vector<std::string>& names,
                        int64_t opset, std::unordered_map<std::string, TensorInfo> info,
                        const std::unordered_map<std::string, TensorInfo>& stored);

}  // namespace diviml::onnx_shapes

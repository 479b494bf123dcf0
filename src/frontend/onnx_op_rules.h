// Per-op-type cost rules of the ONNX importer (one table: op type -> class, fusability, FLOPs),
// plus the few ONNX helpers the importer and the partitioner share (reading and validating a
// model file, dtype sizes, unique node names). Internal to diviml: includes protobuf headers.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace diviml::onnx_rules {

/// What the importer knows about one ONNX value (activation, initializer or folded constant).
struct TensorInfo {
  int32_t elem_type = 0;           ///< onnx::TensorProto_DataType
  std::vector<int64_t> dims;       ///< valid when shape_known
  bool shape_known = false;
  bool is_const = false;           ///< initializer, Constant output or folded value
  double numel() const;
  double bytes() const;            ///< numel * dtype size (0 when the shape is unknown)
};

/// Bytes of one element of an ONNX dtype (0.5 for 4-bit types, 0 for strings/unknown).
double dtype_size(int32_t elem_type);
/// Bytes of `numel` elements: sub-byte types are packed (two 4-bit elements per byte, rounded up).
double packed_bytes(double numel, int32_t elem_type);

/// What the importer reads: IR versions and default-domain (ai.onnx) opsets, inclusive.
constexpr int64_t kMinIrVersion = 3, kMaxIrVersion = 10;
constexpr int64_t kMinOpset = 7, kMaxOpset = 23;
/// "float32", "int64", ... ("undefined" for 0).
std::string dtype_name(int32_t elem_type);

/// Everything a rule may look at: the node, its input/output infos (nullptr where an optional
/// input is absent or unknown) and attribute accessors.
struct RuleContext {
  const onnx::NodeProto& node;
  std::vector<const TensorInfo*> inputs;
  std::vector<const TensorInfo*> outputs;

  int64_t attr_int(const std::string& name, int64_t dflt) const;
  float attr_float(const std::string& name, float dflt) const;
  std::string attr_string(const std::string& name, const std::string& dflt) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  /// Shape of input/output i, or nullptr when absent or unknown.
  const std::vector<int64_t>* in_shape(size_t i) const;
  const std::vector<int64_t>* out_shape(size_t i) const;
  double in_numel(size_t i) const;   ///< 0 when unknown
  double out_numel(size_t i) const;  ///< 0 when unknown
  double total_out_numel() const;
};

/// Computed cost of one node.
struct RuleCost {
  double flops = 0;
  double macs = 0;
  OpClass op_class = OpClass::Other;
};

struct OpRule {
  OpClass op_class = OpClass::Other;
  /// Elementwise/activation/normalisation ops that runtimes fuse into their producer.
  bool fusable = false;
  /// A pure view (Reshape, Flatten, Squeeze, Unsqueeze): no data movement, launch cost only.
  bool view = false;
  /// Shape-only op (Shape, Size): its output is known from static shapes and always folded.
  bool shape_only = false;
  /// FLOPs/MACs from shapes and attributes; may refine the class (Conv -> DepthwiseConv).
  std::function<void(const RuleContext&, RuleCost&)> cost;
};

/// The table: ONNX op type -> rule. Op types of the default domain (and com.microsoft
/// contrib types by the same name).
const std::map<std::string, OpRule>& op_rules();
/// Rule for an op type, or nullptr when the table has none.
const OpRule* find_rule(const std::string& op_type);

/// Reads and validates an .onnx file: exists, parses as a ModelProto (fields newer than the
/// compiled schema are kept as unknown fields), has a graph with nodes, IR version and
/// default-domain opset within kMin/kMax above. Throws InputError naming the file.
onnx::ModelProto read_model(const std::string& path);

/// Version of the default-domain opset the model imports (kMaxOpset when it imports none).
int64_t default_opset(const onnx::ModelProto& model);

/// Node names used as op names: the node's name, or "<OpType>_<index>" when empty; duplicates
/// get a "#<n>" suffix. Indexed like graph.node().
std::vector<std::string> unique_node_names(const onnx::GraphProto& graph);

}  // namespace diviml::onnx_rules

// The ONNX op cost table (see onnx_op_rules.h and docs/onnx.md).
#include "frontend/onnx_op_rules.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace diviml::onnx_rules {

namespace {

double product(const std::vector<int64_t>& v, size_t from = 0) {
  double p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= static_cast<double>(v[i]);
  return p;
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

// ---- rule builders ------------------------------------------------------------------------

/// flops = factor * total output elements.
OpRule elementwise(double factor, bool fusable = true) {
  OpRule r;
  r.op_class = OpClass::Elementwise;
  r.fusable = fusable;
  r.cost = [factor](const RuleContext& c, RuleCost& out) { out.flops = factor * c.total_out_numel(); };
  return r;
}

/// flops = factor * elements of input 0 (reductions, normalisations).
OpRule over_input(OpClass cls, double factor, bool fusable) {
  OpRule r;
  r.op_class = cls;
  r.fusable = fusable;
  r.cost = [factor](const RuleContext& c, RuleCost& out) {
    double n = c.in_numel(0);
    if (n == 0) n = c.out_numel(0);
    out.flops = factor * n;
  };
  return r;
}

OpRule data_movement(OpClass cls = OpClass::DataMovement) {
  OpRule r;
  r.op_class = cls;
  r.cost = [](const RuleContext&, RuleCost&) {};
  return r;
}

OpRule view() {
  OpRule r;
  r.op_class = OpClass::ShapeOnly;
  r.view = true;
  r.cost = [](const RuleContext&, RuleCost&) {};
  return r;
}

OpRule shape_only() {
  OpRule r;
  r.op_class = OpClass::ShapeOnly;
  r.shape_only = true;
  r.cost = [](const RuleContext&, RuleCost&) {};
  return r;
}

/// Conv: MACs = output elements * (Cin/group) * prod(kernel); bias adds one FLOP per output.
OpRule conv() {
  OpRule r;
  r.op_class = OpClass::Conv;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    const double out_n = c.out_numel(0);
    const int64_t group = c.attr_int("group", 1);
    double per_out = 0;  // (Cin/group) * prod(kernel)
    bool depthwise = false;
    if (const auto* w = c.in_shape(1); w && w->size() >= 2) {
      per_out = product(*w, 1);
      depthwise = group > 1 && (*w)[1] == 1;
    } else if (const auto* x = c.in_shape(0); x && x->size() >= 2) {
      auto k = c.attr_ints("kernel_shape");
      per_out = static_cast<double>((*x)[1]) / static_cast<double>(std::max<int64_t>(group, 1)) * product(k);
      depthwise = group > 1 && group == (*x)[1];
    }
    out.macs = out_n * per_out;
    out.flops = 2 * out.macs + (c.inputs.size() > 2 && c.inputs[2] ? out_n : 0);
    out.op_class = depthwise ? OpClass::DepthwiseConv : OpClass::Conv;
  };
  return r;
}

/// ConvTranspose: every input element is multiplied by (Cout/group) * prod(kernel) weights.
OpRule conv_transpose() {
  OpRule r;
  r.op_class = OpClass::Conv;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    double per_in = 0;
    if (const auto* w = c.in_shape(1); w && w->size() >= 2) per_in = product(*w, 1);
    out.macs = c.in_numel(0) * per_in;
    out.flops = 2 * out.macs + (c.inputs.size() > 2 && c.inputs[2] ? c.out_numel(0) : 0);
  };
  return r;
}

/// Gemm: Y[M,N] = A[M,K] B[K,N] (+C): MACs = M*N*K.
OpRule gemm() {
  OpRule r;
  r.op_class = OpClass::MatMul;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    double k = 0;
    if (const auto* a = c.in_shape(0); a && a->size() == 2) k = static_cast<double>((*a)[c.attr_int("transA", 0) ? 0 : 1]);
    const double out_n = c.out_numel(0);
    out.macs = out_n * k;
    out.flops = 2 * out.macs + (c.inputs.size() > 2 && c.inputs[2] ? out_n : 0);
  };
  return r;
}

/// MatMul (batched, broadcast, 1-D operands): MACs = output elements * K, K = A's last dim.
OpRule matmul() {
  OpRule r;
  r.op_class = OpClass::MatMul;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    double k = 0;
    if (const auto* a = c.in_shape(0); a && !a->empty()) k = static_cast<double>(a->back());
    out.macs = c.out_numel(0) * k;
    out.flops = 2 * out.macs;
  };
  return r;
}

/// Windowed pooling: one op per window element per output.
OpRule pool() {
  OpRule r;
  r.op_class = OpClass::Pooling;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    out.flops = c.out_numel(0) * product(c.attr_ints("kernel_shape"));
  };
  return r;
}

OpRule gather() {
  OpRule r;
  r.op_class = OpClass::DataMovement;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    // Gathering rows of a constant table is an embedding lookup.
    if (!c.inputs.empty() && c.inputs[0] && c.inputs[0]->is_const) out.op_class = OpClass::Embedding;
  };
  return r;
}

OpRule resize() {
  OpRule r;
  r.op_class = OpClass::DataMovement;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    const std::string mode = c.attr_string("mode", "nearest");
    out.flops = mode == "nearest" ? 0 : (mode == "cubic" ? 16 : 4) * c.out_numel(0);
  };
  return r;
}

/// Attention (opset 23): Q K^T and the weighted sum of V, MACs = B hq Sq T (dq + dv); softmax
/// 5 FLOPs per score.
OpRule attention() {
  OpRule r;
  r.op_class = OpClass::MatMul;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    const auto* q = c.in_shape(0);
    const auto* y = c.out_shape(0);
    if (!q || !y || (q->size() != 3 && q->size() != 4)) return;
    double scores = 0, dq = 0, dv = 0;
    if (const auto* qk = c.outputs.size() > 3 ? c.out_shape(3) : nullptr) scores = product(*qk);
    const auto* k = c.in_shape(1);
    if (!k) return;
    if (q->size() == 4) {
      dq = static_cast<double>(q->back());
      dv = static_cast<double>(y->back());
      if (scores == 0) {
        double total = static_cast<double>((*k)[2]);
        if (const auto* pk = c.in_shape(4); pk && pk->size() == 4) total += static_cast<double>((*pk)[2]);
        scores = static_cast<double>((*q)[0] * (*q)[1] * (*q)[2]) * total;
      }
    } else {
      const double hq = static_cast<double>(c.attr_int("q_num_heads", 1)), hkv = static_cast<double>(c.attr_int("kv_num_heads", 1));
      dq = static_cast<double>((*q)[2]) / hq;
      dv = static_cast<double>(y->back()) / hq;
      (void)hkv;
      if (scores == 0) {
        double total = static_cast<double>((*k)[1]);
        if (const auto* pk = c.in_shape(4); pk && pk->size() == 4) total += static_cast<double>((*pk)[2]);
        scores = static_cast<double>((*q)[0]) * hq * static_cast<double>((*q)[1]) * total;
      }
    }
    out.macs = scores * (dq + dv);
    out.flops = 2 * out.macs + 5 * scores;
  };
  return r;
}

/// com.microsoft MatMulNBits: A (..., K) times a K x N weight stored in `bits`-bit blocks; MACs =
/// rows x K x N, plus 2 FLOPs per weight to dequantise.
OpRule matmul_nbits() {
  OpRule r;
  r.op_class = OpClass::MatMul;
  r.cost = [](const RuleContext& c, RuleCost& out) {
    const double k = static_cast<double>(c.attr_int("K", 0)), n = static_cast<double>(c.attr_int("N", 0));
    const double rows = k > 0 ? c.in_numel(0) / k : 0;
    out.macs = rows * k * n;
    out.flops = 2 * out.macs + 2 * k * n;
  };
  return r;
}

std::map<std::string, OpRule> build_table() {
  std::map<std::string, OpRule> t;
  // Compute-heavy.
  t["Conv"] = conv();
  t["ConvInteger"] = conv();
  t["QLinearConv"] = conv();
  t["ConvTranspose"] = conv_transpose();
  t["Gemm"] = gemm();
  t["MatMul"] = matmul();
  t["MatMulInteger"] = matmul();
  t["QLinearMatMul"] = matmul();
  t["MatMulNBits"] = matmul_nbits();
  t["Attention"] = attention();
  // Pooling and reductions.
  t["MaxPool"] = pool();
  t["AveragePool"] = pool();
  t["LpPool"] = pool();
  t["GlobalAveragePool"] = over_input(OpClass::Pooling, 1, false);
  t["GlobalMaxPool"] = over_input(OpClass::Pooling, 1, false);
  t["GlobalLpPool"] = over_input(OpClass::Pooling, 2, false);
  // ReduceMean is fusable: it is the first step of a decomposed LayerNorm, which runtimes fuse.
  t["ReduceMean"] = over_input(OpClass::Pooling, 1, true);
  for (const char* r : {"ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceLogSumExp",
                        "ReduceSumSquare", "ReduceL2", "ReduceLogSum", "ArgMax", "ArgMin"})
    t[r] = over_input(OpClass::Pooling, 1, false);
  // Normalisation (fused into their producer at fused granularity).
  t["BatchNormalization"] = over_input(OpClass::Normalization, 2, true);
  t["InstanceNormalization"] = over_input(OpClass::Normalization, 8, true);
  t["LayerNormalization"] = over_input(OpClass::Normalization, 8, true);
  t["GroupNormalization"] = over_input(OpClass::Normalization, 8, true);
  t["RMSNormalization"] = over_input(OpClass::Normalization, 4, true);
  t["LpNormalization"] = over_input(OpClass::Normalization, 3, true);
  t["Hardmax"] = over_input(OpClass::Normalization, 1, false);
  t["LRN"] = over_input(OpClass::Normalization, 6, true);
  t["Softmax"] = over_input(OpClass::Normalization, 5, true);
  t["LogSoftmax"] = over_input(OpClass::Normalization, 6, true);
  // Elementwise / activations: FLOPs per output element.
  for (const char* e : {"Add", "Sub", "Mul", "Div", "Relu", "Neg", "Abs", "Max", "Min", "Sum", "Mean",
                        "Where", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And",
                        "Or", "Xor", "Sign", "Ceil", "Floor", "Round", "Mod", "PRelu", "Reciprocal", "Sqrt",
                        "Pow", "Exp", "Log", "IsNaN", "IsInf", "BitShift"})
    t[e] = elementwise(1);
  t["Cast"] = elementwise(0);
  t["CastLike"] = elementwise(0);
  t["Dropout"] = elementwise(0);
  t["Clip"] = elementwise(2);
  t["LeakyRelu"] = elementwise(2);
  t["ThresholdedRelu"] = elementwise(2);
  t["Selu"] = elementwise(4);
  t["Elu"] = elementwise(4);
  t["Celu"] = elementwise(4);
  t["HardSigmoid"] = elementwise(3);
  t["HardSwish"] = elementwise(4);
  t["Sigmoid"] = elementwise(4);
  t["Tanh"] = elementwise(5);
  t["Erf"] = elementwise(5);
  t["Softplus"] = elementwise(3);
  t["Softsign"] = elementwise(3);
  t["Mish"] = elementwise(8);
  t["Gelu"] = elementwise(8);
  t["Sin"] = elementwise(5);
  t["RotaryEmbedding"] = elementwise(3);
  t["Cos"] = elementwise(5);
  t["QuantizeLinear"] = elementwise(2);
  t["DequantizeLinear"] = elementwise(2);
  // Data movement.
  for (const char* d : {"Concat", "Split", "Slice", "Transpose", "Pad", "Tile", "Expand", "GatherElements",
                        "GatherND", "ScatterND", "ScatterElements", "DepthToSpace", "SpaceToDepth", "Trilu",
                        "ReverseSequence", "Compress", "OneHot", "NonZero", "TopK", "Col2Im", "Scatter"})
    t[d] = data_movement();
  t["Gather"] = gather();
  t["Resize"] = resize();
  t["Upsample"] = resize();
  // Views: metadata only.
  for (const char* v : {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"}) t[v] = view();
  // Shape-only / constant producers: always folded.
  t["Shape"] = shape_only();
  t["Size"] = shape_only();
  // Constant producers: folded when their inputs are constant (always, for Constant itself).
  for (const char* s : {"Constant", "ConstantOfShape", "Range", "EyeLike"}) t[s] = data_movement(OpClass::ShapeOnly);
  return t;
}

}  // namespace

double TensorInfo::numel() const {
  if (!shape_known) return 0;
  return product(dims);
}

double TensorInfo::bytes() const { return packed_bytes(numel(), elem_type); }

double packed_bytes(double numel, int32_t elem_type) {
  // Sub-byte types (int4, uint4, float4e2m1) pack two elements per byte, rounded up.
  const double s = dtype_size(elem_type);
  return s < 1 ? std::ceil(numel * s) : numel * s;
}

double dtype_size(int32_t t) {
  using T = onnx::TensorProto_DataType;
  switch (t) {
    case T::TensorProto_DataType_FLOAT: return 4;
    case T::TensorProto_DataType_UINT8: return 1;
    case T::TensorProto_DataType_INT8: return 1;
    case T::TensorProto_DataType_UINT16: return 2;
    case T::TensorProto_DataType_INT16: return 2;
    case T::TensorProto_DataType_INT32: return 4;
    case T::TensorProto_DataType_INT64: return 8;
    case T::TensorProto_DataType_BOOL: return 1;
    case T::TensorProto_DataType_FLOAT16: return 2;
    case T::TensorProto_DataType_DOUBLE: return 8;
    case T::TensorProto_DataType_UINT32: return 4;
    case T::TensorProto_DataType_UINT64: return 8;
    case T::TensorProto_DataType_COMPLEX64: return 8;
    case T::TensorProto_DataType_COMPLEX128: return 16;
    case T::TensorProto_DataType_BFLOAT16: return 2;
    // Types newer than the compiled schema (libonnx 1.12), by their ONNX numbers.
    case 17: case 18: case 19: case 20: case 24: return 1;  // float8 e4m3fn/e4m3fnuz/e5m2/e5m2fnuz, e8m0
    case 21: case 22: case 23: return 0.5;                  // uint4, int4, float4e2m1 (packed)
    default: return 0;
  }
}

std::string dtype_name(int32_t t) {
  static const char* names[] = {"undefined", "float32", "uint8",  "int8",      "uint16",    "int16",
                                "int32",     "int64",   "string", "bool",      "float16",   "float64",
                                "uint32",    "uint64",  "complex64", "complex128", "bfloat16", "float8e4m3fn",
                                "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4",
                                "float4e2m1", "float8e8m0"};
  if (t >= 0 && t < static_cast<int32_t>(std::size(names))) return names[t];
  return "dtype" + std::to_string(t);
}

int64_t RuleContext::attr_int(const std::string& name, int64_t dflt) const {
  const auto* a = find_attr(node, name);
  return a && a->has_i() ? a->i() : dflt;
}
float RuleContext::attr_float(const std::string& name, float dflt) const {
  const auto* a = find_attr(node, name);
  return a && a->has_f() ? a->f() : dflt;
}
std::string RuleContext::attr_string(const std::string& name, const std::string& dflt) const {
  const auto* a = find_attr(node, name);
  return a && a->has_s() ? a->s() : dflt;
}
std::vector<int64_t> RuleContext::attr_ints(const std::string& name) const {
  const auto* a = find_attr(node, name);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}
const std::vector<int64_t>* RuleContext::in_shape(size_t i) const {
  return i < inputs.size() && inputs[i] && inputs[i]->shape_known ? &inputs[i]->dims : nullptr;
}
const std::vector<int64_t>* RuleContext::out_shape(size_t i) const {
  return i < outputs.size() && outputs[i] && outputs[i]->shape_known ? &outputs[i]->dims : nullptr;
}
double RuleContext::in_numel(size_t i) const {
  return i < inputs.size() && inputs[i] ? inputs[i]->numel() : 0;
}
double RuleContext::out_numel(size_t i) const {
  return i < outputs.size() && outputs[i] ? outputs[i]->numel() : 0;
}
double RuleContext::total_out_numel() const {
  double n = 0;
  for (const auto* o : outputs)
    if (o) n += o->numel();
  return n;
}

const std::map<std::string, OpRule>& op_rules() {
  static const std::map<std::string, OpRule> table = build_table();
  return table;
}

const OpRule* find_rule(const std::string& op_type) {
  const auto& t = op_rules();
  auto it = t.find(op_type);
  return it == t.end() ? nullptr : &it->second;
}

onnx::ModelProto read_model(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(fmt::format("{}: no such file", path));
  if (fs::is_directory(path, ec)) throw InputError(fmt::format("{}: is a directory, not an ONNX model", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw InputError(fmt::format("{}: empty file, not an ONNX model", path));

  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    throw InputError(fmt::format("{}: {} bytes: protobuf cannot parse a model over 2 GiB; store the weights as "
                                 "external data", path, bytes.size()));
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw InputError(fmt::format("{}: not a valid ONNX model (protobuf parse failed: truncated or corrupt file?)", path));

  // Protobuf accepts many byte strings (unknown fields); require the structure of a model.
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw InputError(fmt::format("{}: not a valid ONNX model (no graph or no nodes)", path));
  const int64_t ir = model.ir_version();
  if (ir < kMinIrVersion || ir > kMaxIrVersion)
    throw InputError(fmt::format("{}: ONNX IR version {} is out of the supported range {}..{}", path, ir, kMinIrVersion,
                                 kMaxIrVersion));
  bool has_default = false;
  for (const auto& o : model.opset_import()) {
    if (o.domain() != "" && o.domain() != "ai.onnx") continue;
    has_default = true;
    if (o.version() < kMinOpset || o.version() > kMaxOpset)
      throw InputError(fmt::format("{}: opset version {} is out of the supported range {}..{}", path, o.version(),
                                   kMinOpset, kMaxOpset));
  }
  if (!has_default && model.opset_import_size() == 0)
    throw InputError(fmt::format("{}: not a valid ONNX model (no opset_import)", path));
  return model;
}

int64_t default_opset(const onnx::ModelProto& model) {
  for (const auto& o : model.opset_import())
    if (o.domain() == "" || o.domain() == "ai.onnx") return o.version();
  return kMaxOpset;  // no default-domain import: only custom ops, whose rules do not depend on it
}

std::vector<std::string> unique_node_names(const onnx::GraphProto& graph) {
  std::vector<std::string> names(static_cast<size_t>(graph.node_size()));
  std::unordered_map<std::string, int> seen;
  seen.reserve(names.size() * 2);
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& n = graph.node(i);
    std::string base = n.name().empty() ? n.op_type() + "_" + std::to_string(i) : n.name();
    std::string name = base;
    for (int k = 1; seen.count(name); ++k) name = base + "#" + std::to_string(k);
    seen.emplace(name, i);
    names[static_cast<size_t>(i)] = std::move(name);
  }
  return names;
}

}  // namespace diviml::onnx_rules

// ONNX importer: the ten shared models, published MAC counts, fusion, folding, bad input.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <unistd.h>

#include "frontend/fuse.h"
#include "frontend/onnx_import.h"
#include "frontend/onnx_op_rules.h"
#include "frontend/onnx_shapes.h"

namespace fs = std::filesystem;
using namespace diviml;

namespace {

std::string model_path(const std::string& stem) { return std::string(DIVIML_TEST_DATA) + "/" + stem + ".onnx"; }

const std::vector<std::string> kModels = {"resnet18",      "resnet50",  "googlenet",          "inception_v3",
                                          "mobilenet_v2",  "vgg16",     "squeezenet1_0",      "transformer_encoder6",
                                          "gpt2_small",    "randwire_ws"};

std::shared_ptr<Graph> load(const std::string& stem, Granularity gr, std::vector<std::string>* warnings = nullptr) {
  LoadOptions o;
  o.granularity = gr;
  o.warnings = warnings;
  return import_onnx(model_path(stem), o);
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("diviml_onnx_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& p, const std::string& b) {
  std::ofstream out(p, std::ios::binary);
  out << b;
}
onnx::ModelProto read_proto(const std::string& p) {
  onnx::ModelProto m;
  const std::string b = read_bytes(p);
  EXPECT_TRUE(m.ParseFromString(b));
  return m;
}
void write_proto(const std::string& p, const onnx::ModelProto& m) { write_bytes(p, m.SerializeAsString()); }

/// Expects import_onnx(path) to throw InputError whose message contains every `needles`.
void expect_input_error(const std::string& path, const std::vector<std::string>& needles, const LoadOptions& o = {}) {
  try {
    import_onnx(path, o);
    ADD_FAILURE() << path << ": expected InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "message: " << msg << "\nmissing: " << n;
  }
}

}  // namespace

TEST(OnnxImport, AllModelsImportInBothGranularities) {
  for (const auto& m : kModels) {
    SCOPED_TRACE(m);
    std::vector<std::string> warnings;
    auto op = load(m, Granularity::Op, &warnings);
    auto fused = load(m, Granularity::Fused, &warnings);
    EXPECT_TRUE(warnings.empty()) << warnings.front();
    EXPECT_EQ(op->name, m);
    EXPECT_GT(op->num_ops(), 10);
    EXPECT_LT(fused->num_ops(), op->num_ops());
    EXPECT_GT(fused->num_ops(), 0);
    // Fusion moves costs, never loses them.
    EXPECT_NEAR(fused->total_flops(), op->total_flops(), 1e-9 * op->total_flops());
    EXPECT_NEAR(fused->total_macs(), op->total_macs(), 1e-9 * op->total_macs());
    EXPECT_NEAR(fused->total_weight_bytes(), op->total_weight_bytes(), 1e-9 * op->total_weight_bytes());
    EXPECT_GT(op->total_flops(), 0);
    // No folded op survives; every activation tensor has a static size.
    for (const auto& o : op->ops) {
      EXPECT_NE(o.type, "Constant");
      EXPECT_NE(o.type, "Shape");
      EXPECT_TRUE(o.fused.empty());
      EXPECT_FALSE(o.inputs.empty()) << o.name;
    }
    for (const auto& t : op->tensors) EXPECT_GT(t.bytes, 0) << t.name;
    // Every fused op lists its ONNX members, itself first; together they are the op graph's ops.
    std::multiset<std::string> members;
    for (const auto& o : fused->ops) {
      if (o.fused.empty()) {
        members.insert(o.name);
      } else {
        EXPECT_EQ(o.fused.front(), o.name);
        EXPECT_GE(o.fused.size(), 2u);
        members.insert(o.fused.begin(), o.fused.end());
      }
    }
    std::multiset<std::string> op_names;
    for (const auto& o : op->ops) op_names.insert(o.name);
    EXPECT_EQ(members, op_names);
    ASSERT_EQ(op->graph_inputs().size(), 1u);
    EXPECT_EQ(op->graph_outputs().size(), 1u);
    EXPECT_EQ(fused->graph_outputs().size(), 1u);
  }
}

TEST(OnnxImport, MacsMatchTorchvisionFigures) {
  // torchvision's published GFLOPS figures (which count multiply-accumulates) for batch 1.
  const std::map<std::string, double> published = {{"resnet18", 1.81},     {"resnet50", 4.09},     {"vgg16", 15.47},
                                                    {"mobilenet_v2", 0.30}, {"googlenet", 1.50},    {"inception_v3", 5.71},
                                                    {"squeezenet1_0", 0.82}};
  for (const auto& [m, gmacs] : published) {
    SCOPED_TRACE(m);
    auto g = load(m, Granularity::Op);
    double macs = 0;
    for (const auto& o : g->ops)
      if (o.type == "Conv" || o.type == "Gemm" || o.type == "MatMul") macs += o.macs;
    EXPECT_NEAR(macs / 1e9, gmacs, 0.03 * gmacs) << "measured " << macs / 1e9 << " G MACs";
    // flops = 2 per MAC plus bias adds and elementwise work.
    EXPECT_GE(g->total_flops(), 2 * g->total_macs());
  }
}

TEST(OnnxImport, ConvDetailsDepthwiseAndGemm) {
  auto mb = load("mobilenet_v2", Granularity::Op);
  int depthwise = 0;
  for (const auto& o : mb->ops)
    if (o.op_class == OpClass::DepthwiseConv) {
      ++depthwise;
      EXPECT_EQ(o.type, "Conv");
    }
  EXPECT_EQ(depthwise, 17);  // one per inverted-residual block

  auto r = load("resnet18", Granularity::Op);
  const Op& conv1 = r->ops[r->op_id("/conv1/Conv")];
  // 64 x 112 x 112 outputs, 3 x 7 x 7 kernel, stride 2, pad 3.
  EXPECT_DOUBLE_EQ(conv1.macs, 64.0 * 112 * 112 * 3 * 7 * 7);
  EXPECT_EQ(conv1.op_class, OpClass::Conv);
  EXPECT_DOUBLE_EQ(conv1.weight_bytes, (64.0 * 3 * 7 * 7 + 64) * 4);
  EXPECT_DOUBLE_EQ(conv1.bytes_accessed, (3.0 * 224 * 224 + 64.0 * 112 * 112) * 4 + conv1.weight_bytes);
  const Op& fc = r->ops[r->op_id("/fc/Gemm")];
  EXPECT_DOUBLE_EQ(fc.macs, 512.0 * 1000);
  EXPECT_EQ(fc.op_class, OpClass::MatMul);
  const Op& gap = r->ops[r->op_id("/avgpool/GlobalAveragePool")];
  EXPECT_EQ(gap.op_class, OpClass::Pooling);
  EXPECT_DOUBLE_EQ(gap.flops, 512.0 * 7 * 7);
}

TEST(OnnxImport, WeightsCountedWithoutExternalData) {
  // resnet18 has 11,689,512 parameters; the weights file is absent, only dims are read.
  auto g = load("resnet18", Granularity::Op);
  EXPECT_NEAR(g->total_weight_bytes(), 11689512.0 * 4, 0.005 * 11689512.0 * 4);
  auto f = load("resnet18", Granularity::Fused);
  EXPECT_NEAR(f->total_weight_bytes(), g->total_weight_bytes(), 1);
  // Weights are not activation tensors.
  for (const auto& t : g->tensors) EXPECT_EQ(t.name.find(".weight"), std::string::npos) << t.name;
}

TEST(OnnxImport, FusedResnet18IsAHandfulOfOpsPerBlock) {
  auto g = load("resnet18", Granularity::Fused);
  // conv1+relu, maxpool, 8 blocks of (conv+relu, conv, add+relu) + 3 downsample convs, GAP, flatten, fc.
  EXPECT_EQ(g->num_ops(), 2 + 8 * 3 + 3 + 3);
  const Op& c1 = g->ops[g->op_id("/conv1/Conv")];
  EXPECT_EQ(c1.fused, (std::vector<std::string>{"/conv1/Conv", "/relu/Relu"}));
  std::map<std::string, int> per_block;
  for (const auto& o : g->ops) {
    const auto p = o.name.find("/layer");
    if (p == std::string::npos) continue;
    const auto q = o.name.find('/', o.name.find('/', p + 1) + 1);
    per_block[o.name.substr(0, q)]++;
  }
  EXPECT_EQ(per_block.size(), 8u);
  for (const auto& [b, n] : per_block) {
    EXPECT_GE(n, 3) << b;
    EXPECT_LE(n, 4) << b;
  }
  const Op& add = g->ops[g->op_id("/layer1/layer1.0/Add")];
  EXPECT_EQ(add.fused.size(), 2u);
  EXPECT_EQ(add.inputs.size(), 2u);
}

TEST(OnnxImport, FoldsConstantsAndShapeSubgraphs) {
  auto t = load("transformer_encoder6", Granularity::Op);
  std::map<std::string, int> types;
  for (const auto& o : t->ops) types[o.type]++;
  EXPECT_EQ(types.count("Constant"), 0u);
  EXPECT_EQ(types.count("Shape"), 0u);
  EXPECT_EQ(types.count("Gather"), 0u);  // Gather on Shape outputs: folded
  EXPECT_EQ(types["Slice"], 18);         // Slices of activations stay
  EXPECT_EQ(types["MatMul"], 30);
  for (const auto& o : t->ops)
    if (o.type == "Reshape") {
      EXPECT_EQ(o.op_class, OpClass::ShapeOnly);
      EXPECT_EQ(o.inputs.size(), 1u);  // shape input folded
      EXPECT_EQ(o.weight_bytes, 0);
      EXPECT_EQ(o.bytes_accessed, 0);
    }

  auto g = load("gpt2_small", Granularity::Op);
  int gathers = 0;
  for (const auto& o : g->ops)
    if (o.type == "Gather") {
      ++gathers;
      EXPECT_EQ(o.op_class, OpClass::Embedding);
      EXPECT_DOUBLE_EQ(o.weight_bytes, 50257.0 * 768 * 4);
    }
  EXPECT_EQ(gathers, 1);

  // RandWire: Sigmoid/Gather on the aggregation weights are constant; the weighted Mul stays.
  auto rw = load("randwire_ws", Granularity::Op);
  for (const auto& o : rw->ops) {
    EXPECT_NE(o.type, "Sigmoid");
    EXPECT_NE(o.type, "Gather");
  }
}

TEST(OnnxImport, FusedTransformerLayerNormIsOneOp) {
  auto op = load("transformer_encoder6", Granularity::Op);
  auto g = load("transformer_encoder6", Granularity::Fused);
  // The decomposed LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) fuses
  // into the residual Add that produces its input.
  const Op& add = g->ops[g->op_id("/enc/layers.0/Add")];
  EXPECT_EQ(add.fused.size(), 10u);
  EXPECT_EQ(add.fused.back(), "/enc/layers.0/norm1/Add_1");
  EXPECT_LT(g->num_ops(), op->num_ops() / 2);
}

TEST(OnnxImport, BadFilesGiveInputError) {
  TempDir tmp;
  expect_input_error(tmp.file("missing.onnx"), {"missing.onnx", "no such file"});

  const std::string bytes = read_bytes(model_path("resnet18"));
  for (double frac : {0.5, 0.9, 0.999}) {
    const std::string p = tmp.file("truncated.onnx");
    write_bytes(p, bytes.substr(0, static_cast<size_t>(bytes.size() * frac)));
    SCOPED_TRACE(frac);
    expect_input_error(p, {"truncated.onnx"});
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::string junk(4096, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    const std::string p = tmp.file("random.onnx");
    write_bytes(p, junk);
    expect_input_error(p, {"random.onnx"});
  }
  write_bytes(tmp.file("text.onnx"), "ir_version: 7\nthis is not a model\n");
  expect_input_error(tmp.file("text.onnx"), {"text.onnx"});
  write_bytes(tmp.file("empty.onnx"), "");
  expect_input_error(tmp.file("empty.onnx"), {"empty.onnx"});
}

TEST(OnnxImport, VersionsOutOfRange) {
  TempDir tmp;
  auto m = read_proto(model_path("resnet18"));
  m.set_ir_version(99);
  write_proto(tmp.file("ir.onnx"), m);
  expect_input_error(tmp.file("ir.onnx"), {"ir.onnx", "IR version 99"});
  m = read_proto(model_path("resnet18"));
  m.mutable_opset_import(0)->set_version(99);
  write_proto(tmp.file("opset.onnx"), m);
  expect_input_error(tmp.file("opset.onnx"), {"opset.onnx", "opset version 99", "7..23"});
  // The edges of the supported range: IR 3-10, opsets 7-23.
  for (int64_t opset : {6, 24}) {
    m = read_proto(model_path("resnet18"));
    m.mutable_opset_import(0)->set_version(opset);
    write_proto(tmp.file("edge.onnx"), m);
    expect_input_error(tmp.file("edge.onnx"), {"opset version " + std::to_string(opset), "7..23"});
  }
  m = read_proto(model_path("resnet18"));
  m.set_ir_version(11);
  write_proto(tmp.file("ir11.onnx"), m);
  expect_input_error(tmp.file("ir11.onnx"), {"IR version 11", "3..10"});
  m = read_proto(model_path("resnet18"));
  m.set_ir_version(10);
  m.mutable_opset_import(0)->set_version(23);  // resnet's ops are unchanged up to 23
  write_proto(tmp.file("new.onnx"), m);
  LoadOptions o;
  o.granularity = Granularity::Op;
  EXPECT_DOUBLE_EQ(import_onnx(tmp.file("new.onnx"), o)->total_macs(), load("resnet18", Granularity::Op)->total_macs());
}

TEST(OnnxImport, FieldsNewerThanTheSchemaDoNotBreakReading) {
  // Unknown fields (as a newer ONNX writes: e.g. GraphProto.metadata_props = 16, NodeProto.
  // overload = 8, FunctionProto.value_info = 12) are kept by protobuf and ignored.
  TempDir tmp;
  auto m = read_proto(model_path("resnet18"));
  auto add_unknown = [](google::protobuf::Message& msg, int field, const std::string& bytes) {
    msg.GetReflection()->MutableUnknownFields(&msg)->AddLengthDelimited(field, bytes);
  };
  add_unknown(*m.mutable_graph(), 16, "\x0a\x01k\x12\x01v");
  add_unknown(*m.mutable_graph()->mutable_node(0), 8, "overload");
  add_unknown(m, 99, "future");
  m.mutable_graph()->mutable_node(0)->add_attribute()->set_name("attribute_from_the_future");
  write_proto(tmp.file("future.onnx"), m);
  LoadOptions o;
  o.granularity = Granularity::Op;
  auto g = import_onnx(tmp.file("future.onnx"), o);
  auto ref = load("resnet18", Granularity::Op);
  EXPECT_EQ(g->num_ops(), ref->num_ops());
  EXPECT_DOUBLE_EQ(g->total_macs(), ref->total_macs());
}

TEST(OnnxImport, ElementTypesHaveTheirSizes) {
  using onnx_rules::dtype_size, onnx_rules::packed_bytes, onnx_rules::dtype_name;
  EXPECT_EQ(dtype_size(onnx::TensorProto_DataType_FLOAT16), 2);
  EXPECT_EQ(dtype_size(onnx::TensorProto_DataType_BFLOAT16), 2);
  for (int t : {17, 18, 19, 20}) EXPECT_EQ(dtype_size(t), 1) << dtype_name(t);  // float8 variants
  EXPECT_EQ(dtype_name(17), "float8e4m3fn");
  EXPECT_EQ(dtype_name(22), "int4");
  EXPECT_EQ(dtype_name(23), "float4e2m1");
  // 4-bit types pack two elements per byte, rounded up.
  for (int t : {21, 22, 23}) {
    EXPECT_EQ(packed_bytes(4096, t), 2048) << dtype_name(t);
    EXPECT_EQ(packed_bytes(3, t), 2) << dtype_name(t);
  }
  EXPECT_EQ(packed_bytes(3, onnx::TensorProto_DataType_FLOAT), 12);

  // A model whose weights and activations are float16 / int4: tensor and weight bytes follow.
  TempDir tmp;
  auto m = read_proto(model_path("resnet18"));
  for (auto& t : *m.mutable_graph()->mutable_initializer())
    t.set_data_type(t.dims_size() == 4 ? 22 : onnx::TensorProto_DataType_FLOAT16);  // int4 conv weights
  for (auto* list : {m.mutable_graph()->mutable_input(), m.mutable_graph()->mutable_output(),
                     m.mutable_graph()->mutable_value_info()})
    for (auto& vi : *list) vi.mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto_DataType_FLOAT16);
  write_proto(tmp.file("half.onnx"), m);
  LoadOptions o;
  o.granularity = Granularity::Op;
  auto g = import_onnx(tmp.file("half.onnx"), o);
  auto ref = load("resnet18", Granularity::Op);
  const Op& conv1 = g->ops[g->op_id("/conv1/Conv")];
  EXPECT_DOUBLE_EQ(conv1.weight_bytes, 64.0 * 3 * 7 * 7 / 2 + 64 * 2);
  const Tensor& out = g->tensors[conv1.outputs[0]];
  EXPECT_EQ(out.dtype, "float16");
  EXPECT_DOUBLE_EQ(out.bytes, 64.0 * 112 * 112 * 2);
  EXPECT_DOUBLE_EQ(g->total_macs(), ref->total_macs());
}

TEST(OnnxImport, CycleIsAnInputError) {
  TempDir tmp;
  auto m = read_proto(model_path("resnet18"));
  // The first Conv now reads the output of the last layer-1 block.
  auto* n0 = m.mutable_graph()->mutable_node(0);
  *n0->mutable_input(0) = m.graph().node(5).output(0);
  write_proto(tmp.file("cycle.onnx"), m);
  expect_input_error(tmp.file("cycle.onnx"), {"cycle.onnx", "cycle"});
}

TEST(OnnxImport, SymbolicInputNeedsOverride) {
  TempDir tmp;
  auto m = read_proto(model_path("resnet18"));
  auto* dim = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0);
  dim->set_dim_param("batch");
  // Drop the stored intermediate shapes: they must come back from shape inference.
  m.mutable_graph()->clear_value_info();
  write_proto(tmp.file("sym.onnx"), m);
  expect_input_error(tmp.file("sym.onnx"), {"sym.onnx", "'input'", "--input-shape input="});

  LoadOptions o;
  o.granularity = Granularity::Op;
  o.input_shapes["input"] = {2, 3, 224, 224};
  auto g = import_onnx(tmp.file("sym.onnx"), o);
  auto ref = load("resnet18", Granularity::Op);
  EXPECT_EQ(g->num_ops(), ref->num_ops());
  EXPECT_NEAR(g->total_macs(), 2 * ref->total_macs(), 1e-6 * ref->total_macs());
  EXPECT_NEAR(g->total_weight_bytes(), ref->total_weight_bytes(), 1);

  o.input_shapes.clear();
  o.input_shapes["nope"] = {1, 3, 224, 224};
  expect_input_error(tmp.file("sym.onnx"), {"nope", "not a graph input"}, o);
}

TEST(OnnxImport, InputShapeThatDoesNotFitIsAnError) {
  LoadOptions o;
  o.granularity = Granularity::Op;
  // Wrong rank: named with the declared shape, before any inference.
  o.input_shapes["input"] = {1, 3};
  expect_input_error(model_path("resnet18"), {"resnet18.onnx", "--input-shape input=1x3", "rank 2", "[1,3,224,224]"}, o);
  // Right rank, but the first conv's weights need 3 input channels.
  o.input_shapes["input"] = {1, 4, 100, 100};
  expect_input_error(model_path("resnet18"), {"/conv1/Conv", "4 channels", "need 3", "--input-shape input=1x4x100x100"}, o);
  // gpt2_small adds a [1,128,768] constant of learned positions and reshapes to a constant
  // [1,128,12,64]: another sequence length or batch does not fit.
  o.input_shapes["input"] = {2, 64};
  expect_input_error(model_path("gpt2_small"), {"'/Add' (Add)", "[2,64,768] and [1,128,768] cannot be broadcast"}, o);
  o.input_shapes["input"] = {2, 128};
  expect_input_error(model_path("gpt2_small"), {"'/blocks.0/Reshape' (Reshape)", "cannot be reshaped to [1,128,12,64]"}, o);
  // A smaller image that still fits resnet: shapes re-inferred, no stale value_info.
  o.input_shapes["input"] = {1, 3, 112, 112};
  std::vector<std::string> warnings;
  o.warnings = &warnings;
  auto r = import_onnx(model_path("resnet18"), o);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  const Op& conv1 = r->ops[r->op_id("/conv1/Conv")];
  EXPECT_EQ(r->tensors[conv1.outputs[0]].shape, (std::vector<int64_t>{1, 64, 56, 56}));
}

TEST(OnnxImport, EveryCostRuleHasAShapeRule) {
  for (const auto& [type, rule] : onnx_rules::op_rules())
    EXPECT_NE(onnx_shapes::find_shape_rule(type), nullptr) << type << " has a cost rule but no shape rule";
}

TEST(OnnxImport, ShapeThatCannotBeInferredIsNamedInOneWarning) {
  TempDir tmp;
  auto m = read_proto(model_path("resnet18"));
  m.mutable_graph()->clear_value_info();
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.name() == "/layer1/layer1.0/relu/Relu") {
      n.set_op_type("MysteryOp");
      n.set_domain("com.example");
    }
  m.add_opset_import()->set_domain("com.example");
  write_proto(tmp.file("mystery.onnx"), m);
  LoadOptions o;
  o.granularity = Granularity::Op;
  std::vector<std::string> warnings;
  o.warnings = &warnings;
  auto g = import_onnx(tmp.file("mystery.onnx"), o);
  std::string shape_warning;
  for (const auto& w : warnings)
    if (w.find("cannot infer the output shape") != std::string::npos) shape_warning = w;
  EXPECT_NE(shape_warning.find("/layer1/layer1.0/relu/Relu (MysteryOp)"), std::string::npos) << shape_warning;
  EXPECT_NE(shape_warning.find("0 bytes"), std::string::npos) << shape_warning;
  EXPECT_EQ(std::count_if(warnings.begin(), warnings.end(),
                          [](const std::string& w) { return w.find("cannot infer") != std::string::npos; }),
            1);
}

TEST(OnnxImport, MissingShapesComeFromShapeInference) {
  TempDir tmp;
  auto m = read_proto(model_path("gpt2_small"));
  m.mutable_graph()->clear_value_info();
  write_proto(tmp.file("noshapes.onnx"), m);
  LoadOptions o;
  o.granularity = Granularity::Op;
  std::vector<std::string> warnings;
  o.warnings = &warnings;
  auto g = import_onnx(tmp.file("noshapes.onnx"), o);
  auto ref = load("gpt2_small", Granularity::Op);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(g->num_ops(), ref->num_ops());
  EXPECT_NEAR(g->total_flops(), ref->total_flops(), 1e-9 * ref->total_flops());
}

TEST(OnnxImport, UnknownOpTypeWarnsOnceAndImports) {
  TempDir tmp;
  auto m = read_proto(model_path("resnet18"));
  int renamed = 0;
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == "Relu") {
      n.set_op_type("FancyRelu");
      n.set_domain("com.example");
      ++renamed;
    }
  auto* op = m.add_opset_import();
  op->set_domain("com.example");
  op->set_version(1);
  write_proto(tmp.file("custom.onnx"), m);
  std::vector<std::string> warnings;
  LoadOptions o;
  o.granularity = Granularity::Op;
  o.warnings = &warnings;
  auto g = import_onnx(tmp.file("custom.onnx"), o);
  // One warning for the missing cost rule, one for the shapes taken from the file's value_info.
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("value_info"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("(FancyRelu)"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("FancyRelu (" + std::to_string(renamed) + ")"), std::string::npos) << warnings[1];
  int fancy = 0;
  for (const auto& v : g->ops)
    if (v.type == "FancyRelu") {
      ++fancy;
      EXPECT_EQ(v.op_class, OpClass::Other);
      EXPECT_GT(v.bytes_accessed, 0);
    }
  EXPECT_EQ(fancy, renamed);
}

TEST(OnnxImport, IdentityIsRewired) {
  TempDir tmp;
  auto m = read_proto(model_path("resnet18"));
  auto* g = m.mutable_graph();
  // conv1 -> Identity -> relu
  const std::string conv_out = g->node(0).output(0);
  ASSERT_EQ(g->node(1).op_type(), "Relu");
  auto* id = g->add_node();
  id->set_op_type("Identity");
  id->set_name("/extra/Identity");
  id->add_input(conv_out);
  id->add_output("identity_out");
  g->mutable_node(1)->set_input(0, "identity_out");
  // Nodes need not be stored in topological order: the importer sorts them.
  write_proto(tmp.file("identity.onnx"), m);
  LoadOptions o;
  o.granularity = Granularity::Op;
  auto gi = import_onnx(tmp.file("identity.onnx"), o);
  auto ref = load("resnet18", Granularity::Op);
  EXPECT_EQ(gi->num_ops(), ref->num_ops());
  EXPECT_EQ(gi->op_id("/extra/Identity"), -1);
  const Op& relu = gi->ops[gi->op_id("/relu/Relu")];
  ASSERT_EQ(relu.inputs.size(), 1u);
  EXPECT_EQ(gi->tensors[relu.inputs[0]].name, conv_out);
}

TEST(OnnxImport, FuseGraphOnPlainIr) {
  // a -> relu -> b ; a and relu both feed c (single producer group) ; d reads graph input too.
  Graph g;
  g.name = "toy";
  auto T = [&](const std::string& n, double bytes) {
    Tensor t;
    t.name = n;
    t.bytes = bytes;
    return g.add_tensor(t);
  };
  auto O = [&](const std::string& n, OpClass c, std::vector<TensorId> in, std::vector<TensorId> out) {
    Op o;
    o.name = n;
    o.type = n;
    o.op_class = c;
    o.flops = 10;
    o.weight_bytes = 1;
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    return g.add_op(o);
  };
  TensorId x = T("x", 100), ta = T("ta", 10), tr = T("tr", 10), tc = T("tc", 10), td = T("td", 10);
  O("conv", OpClass::Conv, {x}, {ta});
  O("relu", OpClass::Elementwise, {ta}, {tr});
  O("mul", OpClass::Elementwise, {ta, tr}, {tc});
  O("add", OpClass::Elementwise, {tc, x}, {td});  // reads a graph input: stays
  g.tensors[td].is_graph_output = true;
  g.finalize();
  auto f = fuse_graph(g);
  ASSERT_EQ(f->num_ops(), 2);
  const Op& c = f->ops[f->op_id("conv")];
  EXPECT_EQ(c.fused, (std::vector<std::string>{"conv", "relu", "mul"}));
  EXPECT_DOUBLE_EQ(c.flops, 30);
  EXPECT_DOUBLE_EQ(c.weight_bytes, 3);
  EXPECT_DOUBLE_EQ(c.bytes_accessed, 100 + 10 + 3);  // x in, tc out, weights
  EXPECT_EQ(f->tensor_id("ta"), -1);
  EXPECT_EQ(f->tensor_id("tr"), -1);
  EXPECT_EQ(f->succ(f->op_id("conv")), std::vector<OpId>{f->op_id("add")});
}

// ---- fixtures of newer opsets (tests/data/opsets/, written by scripts/make_onnx_fixtures.py) ----

namespace {

std::string opset_path(const std::string& file) { return std::string(DIVIML_TEST_DATA) + "/opsets/" + file; }

std::vector<std::string> opset_fixtures() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(std::string(DIVIML_TEST_DATA) + "/opsets"))
    if (e.path().extension() == ".onnx") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST(OnnxOpsets, ReExpressedModelsEqualTheOriginals) {
  for (const auto& m : kModels)
    for (int opset : {18, 21}) {
      const std::string file = m + ".opset" + std::to_string(opset) + ".onnx";
      SCOPED_TRACE(file);
      auto ref = load(m, Granularity::Op);
      for (auto gr : {Granularity::Op, Granularity::Fused}) {
        std::vector<std::string> warnings;
        LoadOptions o;
        o.granularity = gr;
        o.warnings = &warnings;
        auto g = import_onnx(opset_path(file), o);
        EXPECT_TRUE(warnings.empty()) << warnings.front();
        auto want = gr == Granularity::Op ? ref : load(m, gr);
        EXPECT_EQ(g->num_ops(), want->num_ops());
        EXPECT_DOUBLE_EQ(g->total_macs(), want->total_macs());
        EXPECT_DOUBLE_EQ(g->total_flops(), want->total_flops());
        EXPECT_NEAR(g->total_weight_bytes(), want->total_weight_bytes(), 1e-9 * want->total_weight_bytes());
      }
    }
}

TEST(OnnxOpsets, ShapesMatchOnnxRuntime) {
  // ONNX Runtime's shape of every node output, recorded by scripts/make_onnx_fixtures.py (or
  // produced live by tests/onnx_ort_live.sh, which points DIVIML_ORT_SHAPES at its own run).
  const char* env = std::getenv("DIVIML_ORT_SHAPES");
  const std::string path = env ? env : opset_path("ort_shapes.json");
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  const auto ort = nlohmann::json::parse(in);
  std::vector<std::string> files = opset_fixtures();
  ASSERT_EQ(files.size(), 2 * kModels.size() + 3);
  if (env) {  // a live run covers a subset
    files.clear();
    for (const auto& [file, shapes] : ort.items()) files.push_back(file);
    ASSERT_FALSE(files.empty());
  }
  size_t compared = 0;
  for (const auto& file : files) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(ort.contains(file)) << "no ONNX Runtime shapes for " << file << " in " << path;
    LoadOptions o;
    const auto ours = infer_onnx_shapes(opset_path(file), o);
    ASSERT_GE(ort[file].size(), 5u);
    for (const auto& [tensor, dims] : ort[file].items()) {
      auto it = ours.find(tensor);
      ASSERT_NE(it, ours.end()) << "diviml has no shape for " << tensor;
      EXPECT_EQ(it->second, dims.get<std::vector<int64_t>>()) << tensor;
      ++compared;
    }
  }
  EXPECT_GT(compared, env ? 100u : 4900u);
}

TEST(OnnxOpsets, Transformer23UsesTheNewOps) {
  std::vector<std::string> warnings;
  LoadOptions o;
  o.granularity = Granularity::Op;
  o.warnings = &warnings;
  auto g = import_onnx(opset_path("transformer23.onnx"), o);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  std::map<std::string, int> types;
  for (const auto& op : g->ops) types[op.type]++;
  EXPECT_EQ(types["LayerNormalization"], 1);
  EXPECT_EQ(types["RMSNormalization"], 1);
  EXPECT_EQ(types["RotaryEmbedding"], 2);
  EXPECT_EQ(types.count("Shape"), 0u);  // the head-split shape subgraph is folded
  EXPECT_EQ(types.count("Concat"), 0u);
  const Op& att = g->ops[g->op_id("attention")];
  EXPECT_EQ(att.op_class, OpClass::MatMul);
  // 4 heads x 16 x 16 scores, each with a 16-long dot product for QK^T and for the V sum.
  EXPECT_DOUBLE_EQ(att.macs, 4.0 * 16 * 16 * (16 + 16));
  EXPECT_DOUBLE_EQ(g->total_macs(), 4 * 16.0 * 64 * 64 + 2 * 16.0 * 64 * 256 + att.macs);
  const Op& ln = g->ops[g->op_id("ln")];
  EXPECT_EQ(g->tensors[ln.outputs[0]].shape, (std::vector<int64_t>{1, 16, 64}));
}

TEST(OnnxOpsets, Ops21Forms) {
  std::vector<std::string> warnings;
  LoadOptions o;
  o.granularity = Granularity::Op;
  o.warnings = &warnings;
  auto g = import_onnx(opset_path("ops21.onnx"), o);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  auto shape_of = [&](const std::string& op, int k = 0) { return g->tensors[g->ops[g->op_id(op)].outputs[k]].shape; };
  EXPECT_EQ(shape_of("resize"), (std::vector<int64_t>{1, 8, 32, 32}));
  EXPECT_EQ(shape_of("pad"), (std::vector<int64_t>{1, 8, 34, 36}));
  EXPECT_EQ(shape_of("split", 2), (std::vector<int64_t>{1, 8, 10, 36}));  // uneven num_outputs
  EXPECT_EQ(shape_of("col2im"), (std::vector<int64_t>{1, 1, 6, 8}));
  EXPECT_EQ(shape_of("reducemean"), (std::vector<int64_t>{1, 1, 10, 36}));
  // The blocked DequantizeLinear of constant int8 weights is folded into the MatMul's weights.
  EXPECT_EQ(g->op_id("dequant"), -1);
  EXPECT_DOUBLE_EQ(g->ops[g->op_id("matmul")].macs, 8.0 * 12 * 36 * 16);
}

TEST(OnnxOpsets, LocalFunctionsAreInlinedAndCosted) {
  std::vector<std::string> warnings;
  LoadOptions o;
  o.granularity = Granularity::Op;
  o.warnings = &warnings;
  auto g = import_onnx(opset_path("functions18.onnx"), o);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  // stem Conv, ScaledRelu (Relu, LeakyRelu), 2 x Residual (Conv, ScaledRelu, Add), ReduceMean.
  EXPECT_EQ(g->num_ops(), 1 + 2 + 2 * 4 + 1);
  EXPECT_DOUBLE_EQ(g->total_macs(), 16.0 * 32 * 32 * (3 * 9 + 2 * 16 * 9));
  const Op& conv = g->ops[g->op_id("block2/Conv_0")];
  EXPECT_EQ(conv.op_class, OpClass::Conv);
  EXPECT_NE(g->op_id("block1/ScaledRelu_1/LeakyRelu_1"), -1);
  for (const auto& op : g->ops) EXPECT_NE(op.type, "Residual");
  // The attribute reference took the call's value.
  auto model = read_proto(opset_path("functions18.onnx"));
  EXPECT_EQ(model.functions_size(), 2);
}

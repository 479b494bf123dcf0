// Inlining of model-local ONNX functions (see onnx_functions.h).
#include "frontend/onnx_functions.h"

#include <google/protobuf/unknown_field_set.h>

#include <fmt/format.h>

#include <map>
#include <unordered_map>

#include "graph/graph.h"

namespace diviml {

namespace {

constexpr int kMaxDepth = 32;

struct Function {
  const onnx::FunctionProto* proto = nullptr;
  std::map<std::string, onnx::AttributeProto> defaults;  ///< attribute_proto (IR 9+)
};

/// Field 11 of FunctionProto (attribute_proto: attributes with defaults) is newer than the
/// schema diviml compiles (libonnx 1.12); protobuf keeps it as an unknown field.
std::map<std::string, onnx::AttributeProto> attribute_defaults(const onnx::FunctionProto& f) {
  std::map<std::string, onnx::AttributeProto> out;
  const auto& unknown = f.GetReflection()->GetUnknownFields(f);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto& field = unknown.field(i);
    if (field.number() != 11 || field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) continue;
    onnx::AttributeProto a;
    if (a.ParseFromString(field.length_delimited()) && !a.name().empty()) out[a.name()] = a;
  }
  return out;
}

class Inliner {
 public:
  Inliner(const onnx::ModelProto& m, const std::string& path) : path_(path) {
    for (const auto& f : m.functions()) {
      Function fn{&f, attribute_defaults(f)};
      funcs_[key(f.domain(), f.name())] = std::move(fn);
    }
  }
  bool empty() const { return funcs_.empty(); }
  int calls() const { return calls_; }

  /// Appends `node` (or its expansion) to `out`.
  void emit(const onnx::NodeProto& node, google::protobuf::RepeatedPtrField<onnx::NodeProto>& out, int depth) {
    auto it = funcs_.find(key(node.domain(), node.op_type()));
    if (it == funcs_.end()) {
      *out.Add() = node;
      return;
    }
    if (depth >= kMaxDepth)
      throw InputError(fmt::format("{}: function '{}' calls itself (more than {} nested calls)", path_, node.op_type(), kMaxDepth));
    const onnx::FunctionProto& f = *it->second.proto;
    if (node.input_size() > f.input_size() || node.output_size() > f.output_size())
      throw InputError(fmt::format("{}: node '{}' calls function '{}' with {} inputs / {} outputs; it declares {} / {}", path_,
                                   node.name(), f.name(), node.input_size(), node.output_size(), f.input_size(),
                                   f.output_size()));
    ++calls_;
    const std::string prefix = (node.name().empty() ? fmt::format("{}_{}", f.name(), calls_) : node.name()) + "/";
    std::unordered_map<std::string, std::string> rename;
    for (int i = 0; i < f.input_size(); ++i) rename[f.input(i)] = i < node.input_size() ? node.input(i) : "";
    for (int i = 0; i < f.output_size(); ++i) rename[f.output(i)] = i < node.output_size() ? node.output(i) : "";
    auto mapped = [&](const std::string& n) -> std::string {
      if (n.empty()) return n;
      auto r = rename.find(n);
      return r != rename.end() ? r->second : prefix + n;
    };
    std::map<std::string, const onnx::AttributeProto*> given;
    for (const auto& a : node.attribute()) given[a.name()] = &a;
    int k = 0;
    for (const auto& body : f.node()) {
      onnx::NodeProto b = body;
      b.set_name(prefix + (body.name().empty() ? fmt::format("{}_{}", body.op_type(), k) : body.name()));
      ++k;
      for (auto& in : *b.mutable_input()) in = mapped(in);
      for (auto& o : *b.mutable_output()) o = mapped(o);
      auto* attrs = b.mutable_attribute();
      for (int j = attrs->size() - 1; j >= 0; --j) {
        onnx::AttributeProto& a = (*attrs)[j];
        if (a.ref_attr_name().empty()) continue;
        const std::string ref = a.ref_attr_name(), name = a.name();
        const onnx::AttributeProto* v = nullptr;
        if (auto g = given.find(ref); g != given.end()) v = g->second;
        else if (auto d = it->second.defaults.find(ref); d != it->second.defaults.end()) v = &d->second;
        if (v) {
          a = *v;
          a.set_name(name);
        } else {
          attrs->DeleteSubrange(j, 1);  // unset: the op's own default applies
        }
      }
      emit(b, out, depth + 1);
    }
  }

 private:
  static std::string key(const std::string& domain, const std::string& name) { return domain + "\n" + name; }
  std::string path_;
  std::unordered_map<std::string, Function> funcs_;
  int calls_ = 0;
};

}  // namespace

int inline_local_functions(onnx::ModelProto& model, const std::string& path) {
  Inliner in(model, path);
  if (in.empty()) return 0;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (const auto& n : model.graph().node()) in.emit(n, nodes, 0);
  model.mutable_graph()->mutable_node()->Swap(&nodes);
  return in.calls();
}

}  // namespace diviml

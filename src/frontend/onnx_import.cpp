// ONNX importer (see onnx_import.h and docs/onnx.md): parses the ModelProto, completes shapes,
// folds constant and shape-only subgraphs, costs every remaining node from the rule table in
// onnx_op_rules.cpp and optionally fuses elementwise chains (fuse.h).
#include "frontend/onnx_import.h"

#include <onnx/shape_inference/implementation.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "frontend/fuse.h"
#include "frontend/onnx_op_rules.h"

namespace diviml {

namespace {

using onnx_rules::TensorInfo;

bool shape_complete(const onnx::ValueInfoProto& vi) {
  if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return false;
  for (const auto& d : vi.type().tensor_type().shape().dim())
    if (!d.has_dim_value() || d.dim_value() < 0) return false;
  return true;
}

TensorInfo info_from_value_info(const onnx::ValueInfoProto& vi) {
  TensorInfo ti;
  if (!vi.type().has_tensor_type()) return ti;
  const auto& tt = vi.type().tensor_type();
  ti.elem_type = tt.elem_type();
  if (shape_complete(vi)) {
    ti.shape_known = true;
    for (const auto& d : tt.shape().dim()) ti.dims.push_back(d.dim_value());
  }
  return ti;
}

TensorInfo info_from_tensor(const onnx::TensorProto& t) {
  TensorInfo ti;
  ti.elem_type = t.data_type();
  ti.dims.assign(t.dims().begin(), t.dims().end());
  ti.shape_known = true;
  ti.is_const = true;
  return ti;
}

std::string shape_text(const onnx::ValueInfoProto& vi) {
  std::string s = "[";
  if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape()) {
    bool first = true;
    for (const auto& d : vi.type().tensor_type().shape().dim()) {
      if (!first) s += ",";
      first = false;
      s += d.has_dim_value() ? std::to_string(d.dim_value()) : (d.dim_param().empty() ? "?" : d.dim_param());
    }
  } else {
    s += "unknown";
  }
  return s + "]";
}

std::string example_dims(const onnx::ValueInfoProto& vi) {
  std::string s;
  if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape()) {
    for (const auto& d : vi.type().tensor_type().shape().dim()) {
      if (!s.empty()) s += "x";
      s += d.has_dim_value() && d.dim_value() > 0 ? std::to_string(d.dim_value()) : "1";
    }
  }
  return s.empty() ? "1x3x224x224" : s;
}

/// Info of a Constant node's output from its attribute.
TensorInfo constant_info(const onnx::NodeProto& n) {
  TensorInfo ti;
  ti.is_const = true;
  for (const auto& a : n.attribute()) {
    if (a.name() == "value" && a.has_t()) return info_from_tensor(a.t());
    ti.shape_known = true;
    if (a.name() == "value_float") { ti.elem_type = onnx::TensorProto_DataType_FLOAT; }
    else if (a.name() == "value_int") { ti.elem_type = onnx::TensorProto_DataType_INT64; }
    else if (a.name() == "value_floats") { ti.elem_type = onnx::TensorProto_DataType_FLOAT; ti.dims = {a.floats_size()}; }
    else if (a.name() == "value_ints") { ti.elem_type = onnx::TensorProto_DataType_INT64; ti.dims = {a.ints_size()}; }
    else { ti.shape_known = false; continue; }
    return ti;
  }
  return ti;
}

bool is_integer_type(int32_t t) {
  return t == onnx::TensorProto_DataType_INT64 || t == onnx::TensorProto_DataType_INT32;
}

/// Value of a small integer constant (shape arithmetic), flattened row-major.
struct IntValue {
  std::vector<int64_t> dims;
  std::vector<int64_t> v;
};

bool int_tensor_value(const onnx::TensorProto& t, IntValue& out) {
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) return false;
  const auto dt = t.data_type();
  if (dt != onnx::TensorProto_DataType_INT64 && dt != onnx::TensorProto_DataType_INT32) return false;
  out.dims.assign(t.dims().begin(), t.dims().end());
  out.v.clear();
  if (!t.raw_data().empty()) {
    const std::string& r = t.raw_data();
    if (dt == onnx::TensorProto_DataType_INT64) {
      for (size_t i = 0; i + 8 <= r.size(); i += 8) { int64_t x; std::memcpy(&x, r.data() + i, 8); out.v.push_back(x); }
    } else {
      for (size_t i = 0; i + 4 <= r.size(); i += 4) { int32_t x; std::memcpy(&x, r.data() + i, 4); out.v.push_back(x); }
    }
  } else if (dt == onnx::TensorProto_DataType_INT64) {
    out.v.assign(t.int64_data().begin(), t.int64_data().end());
  } else {
    out.v.assign(t.int32_data().begin(), t.int32_data().end());
  }
  double n = 1;
  for (auto d : out.dims) n *= static_cast<double>(d);
  return static_cast<double>(out.v.size()) == n;
}

/// Evaluates one node of integer shape arithmetic; false when unsupported or not all inputs known.
bool eval_int_node(const onnx::NodeProto& n, const std::unordered_map<std::string, IntValue>& vals,
                   const std::unordered_map<std::string, TensorInfo>& info, IntValue& out) {
  const std::string& t = n.op_type();
  auto in = [&](int i) -> const IntValue* {
    if (i >= n.input_size() || n.input(i).empty()) return nullptr;
    auto it = vals.find(n.input(i));
    return it == vals.end() ? nullptr : &it->second;
  };
  auto attr_i = [&](const char* name, int64_t d) {
    for (const auto& a : n.attribute()) if (a.name() == name) return a.i();
    return d;
  };
  auto attr_ints = [&](const char* name, std::vector<int64_t>& v) {
    for (const auto& a : n.attribute()) if (a.name() == name) { v.assign(a.ints().begin(), a.ints().end()); return true; }
    return false;
  };
  if (t == "Constant") {
    for (const auto& a : n.attribute()) {
      if (a.name() == "value" && a.has_t()) return int_tensor_value(a.t(), out);
      if (a.name() == "value_int") { out.dims = {}; out.v = {a.i()}; return true; }
      if (a.name() == "value_ints") { out.dims = {a.ints_size()}; out.v.assign(a.ints().begin(), a.ints().end()); return true; }
    }
    return false;
  }
  if (t == "Shape" || t == "Size") {
    auto it = n.input_size() ? info.find(n.input(0)) : info.end();
    if (it == info.end() || !it->second.shape_known) return false;
    const auto& d = it->second.dims;
    if (t == "Size") { int64_t p = 1; for (auto x : d) p *= x; out.dims = {}; out.v = {p}; return true; }
    const auto r = static_cast<int64_t>(d.size());
    int64_t s = attr_i("start", 0), e = attr_i("end", r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = std::clamp<int64_t>(s, 0, r);
    e = std::clamp<int64_t>(e, s, r);
    out.v.assign(d.begin() + s, d.begin() + e);
    out.dims = {e - s};
    return true;
  }
  const IntValue* a = in(0);
  if (!a) return false;
  if (t == "Identity" || t == "Cast") {
    if (t == "Cast") {
      const auto to = attr_i("to", 0);
      if (to != onnx::TensorProto_DataType_INT64 && to != onnx::TensorProto_DataType_INT32) return false;
    }
    out = *a;
    return true;
  }
  if (t == "Gather") {
    const IntValue* idx = in(1);
    if (!idx || a->dims.size() != 1 || attr_i("axis", 0) != 0) return false;
    out.dims = idx->dims;
    for (int64_t i : idx->v) {
      if (i < 0) i += a->dims[0];
      if (i < 0 || i >= a->dims[0]) return false;
      out.v.push_back(a->v[static_cast<size_t>(i)]);
    }
    return true;
  }
  if (t == "Unsqueeze" || t == "Squeeze") {
    std::vector<int64_t> axes;
    if (!attr_ints("axes", axes) && in(1)) axes = in(1)->v;
    out.v = a->v;
    out.dims = a->dims;
    const auto r = static_cast<int64_t>(a->dims.size() + (t == "Unsqueeze" ? axes.size() : 0));
    for (auto& x : axes) if (x < 0) x += t == "Unsqueeze" ? r : static_cast<int64_t>(a->dims.size());
    std::sort(axes.begin(), axes.end());
    if (t == "Unsqueeze") {
      for (int64_t x : axes) {
        if (x > static_cast<int64_t>(out.dims.size())) return false;
        out.dims.insert(out.dims.begin() + x, 1);
      }
    } else {
      std::vector<int64_t> d;
      for (size_t i = 0; i < a->dims.size(); ++i) {
        const bool drop = axes.empty() ? a->dims[i] == 1 : std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i));
        if (!drop) d.push_back(a->dims[i]);
      }
      out.dims = d;
    }
    return true;
  }
  if (t == "Concat") {
    int64_t len = 0;
    for (int i = 0; i < n.input_size(); ++i) {
      const IntValue* x = in(i);
      if (!x || x->dims.size() != 1) return false;
      out.v.insert(out.v.end(), x->v.begin(), x->v.end());
      len += x->dims[0];
    }
    out.dims = {len};
    return true;
  }
  if (t == "Add" || t == "Sub" || t == "Mul" || t == "Div" || t == "Mod" || t == "Max" || t == "Min") {
    const IntValue* b = in(1);
    if (!b || n.input_size() != 2) return false;
    const size_t na = a->v.size(), nb = b->v.size();
    if (na != nb && na != 1 && nb != 1) return false;
    const size_t m = std::max(na, nb);
    out.dims = na >= nb ? a->dims : b->dims;
    if (na == nb && b->dims.size() > a->dims.size()) out.dims = b->dims;
    for (size_t i = 0; i < m; ++i) {
      const int64_t x = a->v[na == 1 ? 0 : i], y = b->v[nb == 1 ? 0 : i];
      if ((t == "Div" || t == "Mod") && y == 0) return false;
      out.v.push_back(t == "Add" ? x + y : t == "Sub" ? x - y : t == "Mul" ? x * y : t == "Div" ? x / y
                      : t == "Mod" ? x % y : t == "Max" ? std::max(x, y) : std::min(x, y));
    }
    return true;
  }
  if (t == "Slice" && a->dims.size() == 1) {
    const IntValue *st = in(1), *en = in(2), *ax = in(3), *sp = in(4);
    if (!st || !en || st->v.size() != 1 || en->v.size() != 1) return false;
    if ((ax && (ax->v.size() != 1 || (ax->v[0] != 0 && ax->v[0] != -1))) || (sp && (sp->v.size() != 1 || sp->v[0] != 1)))
      return false;
    const int64_t len = a->dims[0];
    int64_t s = st->v[0], e = en->v[0];
    if (s < 0) s += len;
    if (e < 0) e += len;
    s = std::clamp<int64_t>(s, 0, len);
    e = std::clamp<int64_t>(e, s, len);
    out.v.assign(a->v.begin() + s, a->v.begin() + e);
    out.dims = {e - s};
    return true;
  }
  return false;
}

}  // namespace

std::shared_ptr<Graph> import_onnx(const std::string& path, const LoadOptions& opt) {
  onnx::ModelProto model = onnx_rules::read_model(path);
  onnx::GraphProto& gp = *model.mutable_graph();

  std::unordered_set<std::string> init_names;
  init_names.reserve(static_cast<size_t>(gp.initializer_size()) * 2);
  for (const auto& t : gp.initializer()) init_names.insert(t.name());

  // ---- graph inputs: overrides and symbolic dims -------------------------------------------
  std::vector<std::string> input_names;
  for (const auto& in : gp.input())
    if (!init_names.count(in.name())) input_names.push_back(in.name());
  for (const auto& [name, dims] : opt.input_shapes) {
    if (std::find(input_names.begin(), input_names.end(), name) == input_names.end()) {
      std::string all;
      for (const auto& n : input_names) all += (all.empty() ? "" : ", ") + n;
      throw InputError(fmt::format("{}: --input-shape names '{}', which is not a graph input (inputs: {})", path,
                                   name, all));
    }
    if (dims.empty() || std::any_of(dims.begin(), dims.end(), [](int64_t d) { return d <= 0; }))
      throw InputError(fmt::format("{}: --input-shape for '{}' needs positive dimensions", path, name));
  }
  const bool overridden = !opt.input_shapes.empty();
  for (auto& in : *gp.mutable_input()) {
    if (init_names.count(in.name())) continue;
    auto it = opt.input_shapes.find(in.name());
    if (it != opt.input_shapes.end()) {
      auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
      shape->clear_dim();
      for (int64_t d : it->second) shape->add_dim()->set_dim_value(d);
      continue;
    }
    if (!shape_complete(in))
      throw InputError(fmt::format(
          "{}: graph input '{}' has a symbolic or unknown shape {}; pass --input-shape {}={} with concrete dims",
          path, in.name(), shape_text(in), in.name(), example_dims(in)));
  }

  // ---- complete shapes with ONNX shape inference when needed ---------------------------------
  {
    std::unordered_set<std::string> known;
    known.reserve(static_cast<size_t>(gp.value_info_size() + gp.output_size()) * 2);
    for (const auto& vi : gp.value_info())
      if (shape_complete(vi)) known.insert(vi.name());
    for (const auto& vi : gp.output())
      if (shape_complete(vi)) known.insert(vi.name());
    bool missing = overridden;
    for (int i = 0; i < gp.node_size() && !missing; ++i)
      for (const auto& o : gp.node(i).output())
        if (!o.empty() && !known.count(o) && gp.node(i).op_type() != "Constant") { missing = true; break; }
    if (missing) {
      if (overridden) {
        gp.clear_value_info();
        for (auto& o : *gp.mutable_output()) o.mutable_type()->mutable_tensor_type()->clear_shape();
      } else {
        auto* vis = gp.mutable_value_info();
        vis->erase(std::remove_if(vis->begin(), vis->end(), [](const auto& vi) { return !shape_complete(vi); }),
                   vis->end());
      }
      try {
        onnx::ShapeInferenceOptions so;
        so.check_type = false;
        so.error_mode = 0;
        so.enable_data_propagation = true;
        onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), so);
      } catch (const std::exception& e) {
        throw InputError(fmt::format("{}: ONNX shape inference failed: {}", path, e.what()));
      }
    }
  }

  // ---- value infos -----------------------------------------------------------------------------
  std::unordered_map<std::string, TensorInfo> info;
  auto build_info = [&] {
    info.clear();
    info.reserve(static_cast<size_t>(gp.value_info_size() + gp.initializer_size() + gp.input_size()) * 2);
    for (const auto& vi : gp.value_info()) info[vi.name()] = info_from_value_info(vi);
    for (const auto& vi : gp.output()) info[vi.name()] = info_from_value_info(vi);
    for (const auto& vi : gp.input()) info[vi.name()] = info_from_value_info(vi);
    for (const auto& t : gp.initializer()) info[t.name()] = info_from_tensor(t);
  };
  build_info();

  // ---- topological order of nodes (the file's order is not trusted) ---------------------------
  const int nn = gp.node_size();
  const std::vector<std::string> names = onnx_rules::unique_node_names(gp);
  std::unordered_map<std::string, int> producer_node;
  producer_node.reserve(static_cast<size_t>(nn) * 2);
  for (int i = 0; i < nn; ++i)
    for (const auto& o : gp.node(i).output())
      if (!o.empty()) {
        if (!producer_node.emplace(o, i).second || init_names.count(o))
          throw InputError(fmt::format("{}: tensor '{}' is produced twice (node '{}')", path, o, names[i]));
      }
  std::unordered_set<std::string> graph_input_set(input_names.begin(), input_names.end());
  std::vector<std::vector<int>> node_succ(static_cast<size_t>(nn));
  std::vector<int> indeg(static_cast<size_t>(nn), 0);
  for (int i = 0; i < nn; ++i) {
    const auto& node = gp.node(i);
    std::vector<int> deps;
    for (const auto& in : node.input()) {
      if (in.empty()) continue;
      auto it = producer_node.find(in);
      if (it != producer_node.end()) {
        deps.push_back(it->second);
      } else if (!init_names.count(in) && !graph_input_set.count(in)) {
        throw InputError(fmt::format(
            "{}: node '{}' ({}) reads '{}', which no node, initializer or graph input provides (truncated or "
            "corrupt model?)",
            path, names[i], node.op_type(), in));
      }
    }
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    for (int d : deps) node_succ[d].push_back(i);
    indeg[i] = static_cast<int>(deps.size());
  }
  std::vector<int> order;
  order.reserve(static_cast<size_t>(nn));
  {
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (int i = 0; i < nn; ++i)
      if (indeg[i] == 0) ready.push(i);
    while (!ready.empty()) {
      const int v = ready.top();
      ready.pop();
      order.push_back(v);
      for (int s : node_succ[v])
        if (--indeg[s] == 0) ready.push(s);
    }
    if (static_cast<int>(order.size()) != nn) {
      std::string cyc;
      int shown = 0;
      for (int i = 0; i < nn && shown < 5; ++i)
        if (indeg[i] > 0) { cyc += (shown++ ? ", " : "") + names[i]; }
      throw InputError(fmt::format("{}: the graph has a cycle through nodes {}", path, cyc));
    }
  }
  for (const auto& o : gp.output())
    if (!producer_node.count(o.name()) && !init_names.count(o.name()) && !graph_input_set.count(o.name()))
      throw InputError(fmt::format("{}: graph output '{}' is not produced by any node", path, o.name()));

  // ---- value-dependent shapes (Slice ends, Reshape shapes computed from Shape ops) -----------
  // ONNX shape inference cannot see values computed by shape arithmetic. Evaluate that integer
  // arithmetic here, replace its nodes by Constants in our copy, and infer again.
  {
    auto missing_shapes = [&] {
      for (int i = 0; i < nn; ++i) {
        if (gp.node(i).op_type() == "Constant") continue;
        for (const auto& o : gp.node(i).output()) {
          if (o.empty()) continue;
          auto it = info.find(o);
          if (it == info.end() || !it->second.shape_known) return true;
        }
      }
      return false;
    };
    for (int round = 0; round < 4 && missing_shapes(); ++round) {
      std::unordered_set<std::string> outs;
      for (const auto& o : gp.output()) outs.insert(o.name());
      std::unordered_map<std::string, IntValue> vals;
      for (const auto& t : gp.initializer()) {
        IntValue v;
        if (int_tensor_value(t, v) && v.v.size() <= 4096) vals.emplace(t.name(), std::move(v));
      }
      bool changed = false;
      for (int idx : order) {
        onnx::NodeProto* node = gp.mutable_node(idx);
        if (node->output_size() != 1 || node->output(0).empty() || outs.count(node->output(0))) continue;
        IntValue v;
        if (!eval_int_node(*node, vals, info, v) || v.v.size() > 4096) continue;
        if (node->op_type() != "Constant") {
          onnx::NodeProto c;
          c.set_name(node->name());
          c.set_op_type("Constant");
          c.add_output(node->output(0));
          auto* a = c.add_attribute();
          a->set_name("value");
          a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
          auto* t = a->mutable_t();
          t->set_data_type(onnx::TensorProto_DataType_INT64);
          for (auto d : v.dims) t->add_dims(d);
          for (auto x : v.v) t->add_int64_data(x);
          *node = std::move(c);
          changed = true;
        }
        vals.emplace(node->output(0), std::move(v));
      }
      if (!changed) break;
      auto* vis = gp.mutable_value_info();
      vis->erase(std::remove_if(vis->begin(), vis->end(), [](const auto& vi) { return !shape_complete(vi); }),
                 vis->end());
      try {
        onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(false, 0, true));
      } catch (const std::exception& e) {
        throw InputError(fmt::format("{}: ONNX shape inference failed: {}", path, e.what()));
      }
      build_info();
    }
  }

  std::unordered_set<std::string> output_set;
  for (const auto& o : gp.output()) output_set.insert(o.name());

  // ---- fold constants / shape-only ops, rewire Identity, build the op graph -------------------
  auto g = std::make_shared<Graph>();
  g->name = std::filesystem::path(path).stem().string();
  std::unordered_map<std::string, TensorId> tensor_of;
  tensor_of.reserve(static_cast<size_t>(nn) * 2);
  std::unordered_map<std::string, std::string> alias;  // Identity output -> its input
  std::vector<std::string> unknown_shape;
  std::map<std::string, int> unknown_types;

  auto resolve = [&](const std::string& n) -> const std::string& {
    auto it = alias.find(n);
    return it == alias.end() ? n : it->second;
  };
  auto make_tensor = [&](const std::string& n, OpId producer) -> TensorId {
    Tensor t;
    t.name = n;
    t.producer = producer;
    auto it = info.find(n);
    if (it != info.end()) {
      t.bytes = it->second.bytes();
      if (it->second.shape_known) t.shape = it->second.dims;
      t.dtype = onnx_rules::dtype_name(it->second.elem_type);
      if (!it->second.shape_known) unknown_shape.push_back(n);
    } else {
      unknown_shape.push_back(n);
    }
    TensorId id = g->add_tensor(std::move(t));
    tensor_of[n] = id;
    return id;
  };
  for (const auto& n : input_names) make_tensor(n, kNoOp);

  auto is_const = [&](const std::string& n) {
    auto it = info.find(n);
    return it != info.end() && it->second.is_const;
  };

  static const TensorInfo kUnknown;
  for (int idx : order) {
    const auto& node = gp.node(idx);
    const std::string& type = node.op_type();
    const auto* rule = onnx_rules::find_rule(type);
    bool feeds_output = false;
    for (const auto& o : node.output()) feeds_output |= output_set.count(o) > 0;

    // Identity: rewire consumers to its input.
    if (type == "Identity" && !feeds_output && node.input_size() == 1 && node.output_size() == 1 &&
        !is_const(resolve(node.input(0)))) {
      alias[node.output(0)] = resolve(node.input(0));
      continue;
    }
    bool all_const = true;
    for (const auto& in : node.input())
      if (!in.empty() && !is_const(resolve(in))) { all_const = false; break; }
    bool fold = !feeds_output && (type == "Constant" || all_const);
    if (!fold && !feeds_output && rule && rule->shape_only) {
      // Shape/Size of a statically shaped tensor is a constant.
      fold = node.input_size() >= 1 && info.count(resolve(node.input(0))) &&
             info[resolve(node.input(0))].shape_known;
    }
    if (fold) {
      for (const auto& o : node.output()) {
        if (o.empty()) continue;
        TensorInfo& ti = info[o];
        if (!ti.shape_known && type == "Constant") ti = constant_info(node);
        ti.is_const = true;
      }
      continue;
    }

    Op op;
    op.name = names[idx];
    op.type = type;
    onnx_rules::RuleContext ctx{node, {}, {}};
    std::unordered_set<std::string> seen;
    double act_bytes = 0;
    for (const auto& raw : node.input()) {
      if (raw.empty()) { ctx.inputs.push_back(nullptr); continue; }
      const std::string& in = resolve(raw);
      auto it = info.find(in);
      ctx.inputs.push_back(it == info.end() ? &kUnknown : &it->second);
      if (!seen.insert(in).second) continue;
      if (is_const(in)) {
        const TensorInfo& ti = info[in];
        // Integer constants of data-movement ops are shapes/axes/indices, not weights.
        const bool param = rule && (rule->op_class == OpClass::DataMovement || rule->op_class == OpClass::ShapeOnly) &&
                           is_integer_type(ti.elem_type);
        if (!param) op.weight_bytes += ti.bytes();
        continue;
      }
      auto t = tensor_of.find(in);
      if (t == tensor_of.end())  // cannot happen: checked above; keep a clear message anyway
        throw InputError(fmt::format("{}: node '{}' reads unknown tensor '{}'", path, op.name, in));
      op.inputs.push_back(t->second);
      act_bytes += g->tensors[t->second].bytes;
    }
    for (const auto& o : node.output()) {
      if (o.empty()) { ctx.outputs.push_back(nullptr); continue; }
      auto it = info.find(o);
      ctx.outputs.push_back(it == info.end() ? &kUnknown : &it->second);
    }
    onnx_rules::RuleCost rc;
    if (rule) {
      rc.op_class = rule->op_class;
      if (rule->cost) rule->cost(ctx, rc);
    } else {
      unknown_types[type]++;
    }
    op.op_class = rc.op_class;
    op.flops = rc.flops;
    op.macs = rc.macs;
    const OpId id = static_cast<OpId>(g->ops.size());
    double out_bytes = 0;
    for (const auto& o : node.output()) {
      if (o.empty()) continue;
      TensorId t = make_tensor(o, id);
      out_bytes += g->tensors[t].bytes;
      op.outputs.push_back(t);
    }
    op.bytes_accessed = (rule && rule->view) ? 0 : act_bytes + out_bytes + op.weight_bytes;
    g->add_op(std::move(op));
  }

  for (const auto& o : gp.output()) {
    auto it = tensor_of.find(resolve(o.name()));
    if (it == tensor_of.end()) {
      if (opt.warnings) opt.warnings->push_back(fmt::format("{}: graph output '{}' is a constant; ignored", path, o.name()));
      continue;
    }
    g->tensors[it->second].is_graph_output = true;
  }
  if (g->ops.empty()) throw InputError(fmt::format("{}: the model has no operator left after constant folding", path));

  if (opt.warnings) {
    if (!unknown_types.empty()) {
      std::string list;
      for (const auto& [t, c] : unknown_types) list += fmt::format("{}{} ({})", list.empty() ? "" : ", ", t, c);
      opt.warnings->push_back(
          fmt::format("{}: no cost rule for op type(s) {}; costed from tensor bytes only", path, list));
    }
    if (!unknown_shape.empty()) {
      std::string list;
      for (size_t i = 0; i < unknown_shape.size() && i < 5; ++i) list += (i ? ", " : "") + unknown_shape[i];
      opt.warnings->push_back(fmt::format("{}: {} tensor(s) have no static shape ({}{}); their bytes count as 0", path,
                                          unknown_shape.size(), list, unknown_shape.size() > 5 ? ", ..." : ""));
    }
  }

  g->finalize();
  if (opt.granularity == Granularity::Fused) {
    return fuse_graph(*g, [](const Op& op) {
      const auto* r = onnx_rules::find_rule(op.type);
      return r && r->fusable;
    });
  }
  return g;
}

}  // namespace diviml

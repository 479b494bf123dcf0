// ONNX importer (see onnx_import.h and docs/onnx.md): parses the ModelProto, inlines model-local
// functions, infers shapes with diviml's own rules (onnx_shapes.h), folds constant and
// shape-only subgraphs, costs every remaining node from the rule table in onnx_op_rules.cpp and
// optionally fuses elementwise chains (fuse.h).
#include "frontend/onnx_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "frontend/fuse.h"
#include "frontend/onnx_functions.h"
#include "frontend/onnx_op_rules.h"
#include "frontend/onnx_shapes.h"

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
  ti.shape_known = std::all_of(ti.dims.begin(), ti.dims.end(), [](int64_t d) { return d >= 0; });
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

std::string dims_text(const std::vector<int64_t>& d) {
  std::string s;
  for (auto x : d) s += (s.empty() ? "" : "x") + std::to_string(x);
  return s;
}

bool is_integer_type(int32_t t) {
  return t == onnx::TensorProto_DataType_INT64 || t == onnx::TensorProto_DataType_INT32;
}

/// The parsed model with its inputs fixed, topological order and inferred shapes.
struct Prepared {
  onnx::ModelProto model;
  std::vector<std::string> input_names;  ///< real graph inputs (not initializers)
  std::unordered_set<std::string> init_names;
  std::vector<std::string> names;        ///< unique node names
  std::vector<int> order;                ///< topological order of the nodes
  onnx_shapes::GraphShapes shapes;
};

Prepared prepare(const std::string& path, const LoadOptions& opt) {
  Prepared p;
  p.model = onnx_rules::read_model(path);
  inline_local_functions(p.model, path);
  onnx::GraphProto& gp = *p.model.mutable_graph();
  const int64_t opset = onnx_rules::default_opset(p.model);

  auto& init_names = p.init_names;
  init_names.reserve(static_cast<size_t>(gp.initializer_size()) * 2);
  for (const auto& t : gp.initializer()) init_names.insert(t.name());

  // ---- graph inputs: overrides and symbolic dims -------------------------------------------
  auto& input_names = p.input_names;
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
      if (in.type().tensor_type().has_shape() && shape->dim_size() != static_cast<int>(it->second.size()))
        throw InputError(fmt::format("{}: --input-shape {}={} has rank {}, but the model declares '{}' as {} (rank {})",
                                     path, in.name(), dims_text(it->second), it->second.size(), in.name(),
                                     shape_text(in), shape->dim_size()));
      shape->clear_dim();
      for (int64_t d : it->second) shape->add_dim()->set_dim_value(d);
      continue;
    }
    if (!shape_complete(in))
      throw InputError(fmt::format(
          "{}: graph input '{}' has a symbolic or unknown shape {}; pass --input-shape {}={} with concrete dims",
          path, in.name(), shape_text(in), in.name(), example_dims(in)));
  }

  // ---- topological order of nodes (the file's order is not trusted) ---------------------------
  const int nn = gp.node_size();
  p.names = onnx_rules::unique_node_names(gp);
  const auto& names = p.names;
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
  auto& order = p.order;
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

  // ---- shapes: diviml's rules; the file's value_info only where no rule can infer -----------
  std::unordered_map<std::string, TensorInfo> known, stored;
  for (const auto& vi : gp.input()) known[vi.name()] = info_from_value_info(vi);
  for (const auto& t : gp.initializer()) known[t.name()] = info_from_tensor(t);
  for (const auto* list : {&gp.value_info(), &gp.output()})
    for (const auto& vi : *list) {
      TensorInfo ti = info_from_value_info(vi);
      // Stored shapes were computed for the declared inputs: stale after --input-shape.
      if (overridden) { ti.shape_known = false; ti.dims.clear(); }
      stored[vi.name()] = ti;
    }
  try {
    p.shapes = onnx_shapes::infer_graph(gp, order, names, opset, std::move(known), stored);
  } catch (const onnx_shapes::ShapeError& e) {
    std::string hint;
    if (overridden) {
      for (const auto& [n, d] : opt.input_shapes) hint += fmt::format("{}{}={}", hint.empty() ? "" : " ", n, dims_text(d));
      hint = fmt::format(" (with --input-shape {}: the model does not accept that shape)", hint);
    }
    throw InputError(fmt::format("{}: inconsistent shapes at {}{}", path, e.what(), hint));
  }
  if (opt.warnings) {
    auto listed = [](const std::vector<std::string>& v) {
      std::string s;
      for (size_t i = 0; i < v.size() && i < 3; ++i) s += (i ? "; " : "") + v[i];
      return v.size() > 3 ? s + fmt::format("; and {} more", v.size() - 3) : s;
    };
    const auto& sh = p.shapes;
    if (!sh.failed.empty())
      opt.warnings->push_back(fmt::format(
          "{}: cannot infer the output shape of {} node(s) ({}){}; those tensors count as 0 bytes", path,
          sh.failed.size(), listed(sh.failed),
          sh.unknown_downstream ? fmt::format(", nor of {} node(s) after them", sh.unknown_downstream) : ""));
    if (!sh.from_value_info.empty())
      opt.warnings->push_back(fmt::format("{}: output shape of {} node(s) taken from the file's value_info ({})", path,
                                          sh.from_value_info.size(), listed(sh.from_value_info)));
    if (!sh.disagree.empty())
      opt.warnings->push_back(fmt::format("{}: inferred shapes differ from the file's value_info for {} tensor(s) ({}); "
                                          "using the inferred ones", path, sh.disagree.size(), listed(sh.disagree)));
  }
  return p;
}

}  // namespace

std::map<std::string, std::vector<int64_t>> infer_onnx_shapes(const std::string& path, const LoadOptions& opt) {
  Prepared p = prepare(path, opt);
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& node : p.model.graph().node())
    for (const auto& o : node.output()) {
      if (o.empty()) continue;
      auto it = p.shapes.info.find(o);
      if (it != p.shapes.info.end() && it->second.shape_known) out[o] = it->second.dims;
    }
  return out;
}

std::shared_ptr<Graph> import_onnx(const std::string& path, const LoadOptions& opt) {
  Prepared p = prepare(path, opt);
  onnx::GraphProto& gp = *p.model.mutable_graph();
  const auto& input_names = p.input_names;
  const auto& names = p.names;
  const auto& order = p.order;
  auto& info = p.shapes.info;
  const int nn = gp.node_size();

  std::unordered_set<std::string> output_set;
  for (const auto& o : gp.output()) output_set.insert(o.name());

  // ---- fold constants / shape-only ops, rewire Identity, build the op graph -------------------
  auto g = std::make_shared<Graph>();
  g->name = std::filesystem::path(path).stem().string();
  std::unordered_map<std::string, TensorId> tensor_of;
  tensor_of.reserve(static_cast<size_t>(nn) * 2);
  std::unordered_map<std::string, std::string> alias;  // Identity output -> its input
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
        info[o].is_const = true;
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
        // Integer (int32/int64) constants are shapes, axes, pads or indices, not weights, except
        // as operands of the compute ops (ConvInteger, MatMulInteger, ...).
        const bool compute = rule && (rule->op_class == OpClass::Conv || rule->op_class == OpClass::MatMul);
        const bool param = !compute && is_integer_type(ti.elem_type);
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

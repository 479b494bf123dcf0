// Partitioned export: executable segments, per-device sub-models and plan.json (partition.h, docs/deploy.md).
#include "report/partition.h"

#include <onnx/onnx_pb.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <fstream>
#include <queue>
#include <tuple>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "frontend/onnx_import.h"
#include "frontend/onnx_op_rules.h"

namespace diviml {

namespace fs = std::filesystem;
using nlohmann::json;

SchedulePlacements parse_schedule_placements(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: invalid JSON: {}", origin, e.what()));
  }
  if (!j.is_object() || !j.contains("ops") || !j["ops"].is_array())
    throw InputError(fmt::format("{}: not a schedule (expected an object with an \"ops\" array)", origin));
  SchedulePlacements s;
  if (j.contains("graph") && j["graph"].is_string()) s.graph = j["graph"].get<std::string>();
  if (j.contains("platform") && j["platform"].is_string()) s.platform = j["platform"].get<std::string>();
  if (j.contains("method") && j["method"].is_string()) s.method = j["method"].get<std::string>();
  if (j.contains("makespan_s") && j["makespan_s"].is_number()) s.makespan_s = j["makespan_s"].get<double>();
  std::vector<std::string> device_names;
  if (j.contains("devices") && j["devices"].is_array())
    for (const auto& d : j["devices"]) {
      if (d.is_string()) device_names.push_back(d.get<std::string>());
      else if (d.is_object() && d.contains("name") && d["name"].is_string()) device_names.push_back(d["name"].get<std::string>());
    }
  size_t i = 0;
  for (const auto& o : j["ops"]) {
    const std::string where = fmt::format("{}: ops[{}]", origin, i++);
    if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
      throw InputError(where + ": expected an object with a string \"name\"");
    OpPlacement p;
    p.name = o["name"].get<std::string>();
    if (!o.contains("device")) throw InputError(fmt::format("{} ('{}'): missing \"device\"", where, p.name));
    const auto& d = o["device"];
    if (d.is_string()) {
      p.device = d.get<std::string>();
    } else if (d.is_number_integer()) {
      const auto k = d.get<long long>();
      if (k < 0 || (!device_names.empty() && k >= static_cast<long long>(device_names.size())))
        throw InputError(fmt::format("{} ('{}'): device index {} out of range", where, p.name, k));
      p.device = device_names.empty() ? "device" + std::to_string(k) : device_names[static_cast<size_t>(k)];
    } else {
      throw InputError(fmt::format("{} ('{}'): \"device\" must be a name or an index", where, p.name));
    }
    if (p.device.empty()) throw InputError(fmt::format("{} ('{}'): empty device name", where, p.name));
    auto num = [&](const char* key) -> double {
      if (!o.contains(key)) return 0;
      if (!o[key].is_number()) throw InputError(fmt::format("{} ('{}'): \"{}\" must be a number", where, p.name, key));
      return o[key].get<double>();
    };
    p.start_s = num("start_s");
    p.finish_s = num("finish_s");
    if (o.contains("fused")) {
      if (!o["fused"].is_array()) throw InputError(fmt::format("{} ('{}'): \"fused\" must be an array", where, p.name));
      for (const auto& f : o["fused"]) {
        if (!f.is_string()) throw InputError(fmt::format("{} ('{}'): \"fused\" must hold names", where, p.name));
        p.fused.push_back(f.get<std::string>());
      }
    }
    s.ops.push_back(std::move(p));
  }
  if (s.ops.empty()) throw InputError(fmt::format("{}: the schedule has no ops", origin));
  return s;
}

namespace {

std::string sanitize(const std::string& s) {
  std::string o = s;
  for (auto& c : o)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return o;
}

/// Names of the schedule that are not ops of `g`, and ops of `g` missing from the schedule.
struct Mismatch {
  std::vector<std::string> unknown, missing;
  bool ok() const { return unknown.empty() && missing.empty(); }
};
Mismatch compare_names(const Graph& g, const SchedulePlacements& s) {
  Mismatch m;
  std::unordered_set<std::string> placed;
  for (const auto& p : s.ops) {
    placed.insert(p.name);
    if (g.op_id(p.name) < 0) m.unknown.push_back(p.name);
  }
  for (const auto& op : g.ops)
    if (!placed.count(op.name)) m.missing.push_back(op.name);
  return m;
}

std::string first_names(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 3; ++i) s += (i ? "', '" : "'") + v[i];
  s += "'";
  if (v.size() > 3) s += fmt::format(" and {} more", v.size() - 3);
  return s;
}

json shape_json(const onnx::ValueInfoProto* vi) {
  json a = json::array();
  if (vi && vi->type().has_tensor_type() && vi->type().tensor_type().has_shape())
    for (const auto& d : vi->type().tensor_type().shape().dim()) {
      if (d.has_dim_value()) a.push_back(d.dim_value());
      else a.push_back(d.dim_param());
    }
  return a;
}

double value_bytes(const onnx::ValueInfoProto* vi) {
  if (!vi || !vi->type().has_tensor_type() || !vi->type().tensor_type().has_shape()) return 0;
  double n = 1;
  for (const auto& d : vi->type().tensor_type().shape().dim()) {
    if (!d.has_dim_value()) return 0;
    n *= static_cast<double>(d.dim_value());
  }
  return n * onnx_rules::dtype_size(vi->type().tensor_type().elem_type());
}

}  // namespace

PartitionResult partition_onnx(const std::string& model_path, const SchedulePlacements& schedule,
                               const std::string& origin, const std::string& out_dir, const PartitionOptions& opt) {
  // ---- the scheduled graph: which granularity the schedule was made at ----------------------
  LoadOptions lo;
  lo.input_shapes = opt.input_shapes;
  lo.warnings = opt.warnings;
  std::shared_ptr<Graph> g_op, g;
  Granularity gran = Granularity::Fused;
  {
    std::unordered_set<std::string> seen;
    for (const auto& p : schedule.ops)
      if (!seen.insert(p.name).second) throw InputError(fmt::format("{}: op '{}' is placed twice", origin, p.name));
  }
  if (opt.scheduled_graph) {
    gran = opt.granularity.value_or(Granularity::Fused);
    g = std::make_shared<Graph>(*opt.scheduled_graph);
  } else if (opt.granularity) {
    gran = *opt.granularity;
    lo.granularity = gran;
    g = import_onnx(model_path, lo);
  } else {
    lo.granularity = Granularity::Fused;
    g = import_onnx(model_path, lo);
    if (!compare_names(*g, schedule).ok()) {
      lo.granularity = Granularity::Op;
      lo.warnings = nullptr;
      auto alt = import_onnx(model_path, lo);
      if (compare_names(*alt, schedule).ok()) {
        g = alt;
        gran = Granularity::Op;
      }
    }
  }
  if (const auto mm = compare_names(*g, schedule); !mm.ok()) {
    const std::string gname = gran == Granularity::Op ? "op" : "fused";
    if (!mm.unknown.empty())
      throw InputError(fmt::format("{}: schedule does not match {}: {} op(s) {} are not ops of the model at {} granularity",
                                   origin, model_path, mm.unknown.size(), first_names(mm.unknown), gname));
    throw InputError(fmt::format("{}: schedule does not match {}: {} op(s) of the model at {} granularity have no placement: {}",
                                 origin, model_path, mm.missing.size(), first_names(mm.missing), gname));
  }
  if (gran == Granularity::Op && !opt.scheduled_graph) {
    g_op = g;
  } else {
    lo.granularity = Granularity::Op;
    lo.warnings = nullptr;
    g_op = import_onnx(model_path, lo);
  }

  // ---- the source model ----------------------------------------------------------------------
  onnx::ModelProto model = onnx_rules::read_model(model_path);
  const onnx::GraphProto& gp = model.graph();
  const int nn = gp.node_size();
  const std::vector<std::string> names = onnx_rules::unique_node_names(gp);
  std::unordered_map<std::string, int> node_of_name;
  for (int i = 0; i < nn; ++i) node_of_name[names[i]] = i;
  std::unordered_map<std::string, int> producer;  // tensor -> node
  for (int i = 0; i < nn; ++i)
    for (const auto& o : gp.node(i).output())
      if (!o.empty()) producer[o] = i;
  std::unordered_map<std::string, const onnx::TensorProto*> initializer;
  for (const auto& t : gp.initializer()) initializer[t.name()] = &t;
  std::unordered_map<std::string, const onnx::ValueInfoProto*> vinfo;
  for (const auto& v : gp.value_info()) vinfo[v.name()] = &v;
  for (const auto& v : gp.output()) vinfo[v.name()] = &v;
  for (const auto& v : gp.input()) vinfo[v.name()] = &v;
  // Types of activations: the source's value_info where complete, else the importer's shapes
  // (which also resolve value-dependent shapes ONNX inference leaves open).
  std::unordered_map<std::string, onnx::ValueInfoProto> completed;
  auto complete = [](const onnx::ValueInfoProto& v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return false;
    for (const auto& d : v.type().tensor_type().shape().dim())
      if (!d.has_dim_value()) return false;
    return true;
  };
  for (const auto& t : g_op->tensors) {
    auto it = vinfo.find(t.name);
    if (it != vinfo.end() && complete(*it->second)) continue;
    if (t.shape.empty() && t.bytes == 0) continue;  // unknown shape
    onnx::ValueInfoProto v;
    if (it != vinfo.end()) v = *it->second;
    v.set_name(t.name);
    auto* tt = v.mutable_type()->mutable_tensor_type();
    if (tt->elem_type() == 0)
      for (int32_t e = 1; e <= 22; ++e)
        if (onnx_rules::dtype_name(e) == t.dtype) { tt->set_elem_type(e); break; }
    if (tt->elem_type() == 0) continue;
    auto* shape = tt->mutable_shape();
    shape->clear_dim();
    for (int64_t d : t.shape) shape->add_dim()->set_dim_value(d);
    completed.emplace(t.name, std::move(v));
  }
  auto vi_of = [&](const std::string& n) -> const onnx::ValueInfoProto* {
    if (auto c = completed.find(n); c != completed.end()) return &c->second;
    auto it = vinfo.find(n);
    return it == vinfo.end() ? nullptr : it->second;
  };
  std::unordered_set<std::string> graph_inputs, graph_outputs;
  for (const auto& v : gp.input())
    if (!initializer.count(v.name())) graph_inputs.insert(v.name());
  for (const auto& v : gp.output()) graph_outputs.insert(v.name());

  // Topological order of the source nodes (the importer already rejected cycles).
  std::vector<int> topo;
  {
    std::vector<int> indeg(static_cast<size_t>(nn), 0);
    std::vector<std::vector<int>> succ(static_cast<size_t>(nn));
    for (int i = 0; i < nn; ++i) {
      std::set<int> deps;
      for (const auto& in : gp.node(i).input()) {
        auto it = producer.find(in);
        if (!in.empty() && it != producer.end()) deps.insert(it->second);
      }
      for (int d : deps) succ[d].push_back(i);
      indeg[i] = static_cast<int>(deps.size());
    }
    std::vector<int> stack;
    for (int i = nn - 1; i >= 0; --i)
      if (indeg[i] == 0) stack.push_back(i);
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      topo.push_back(v);
      for (auto it = succ[v].rbegin(); it != succ[v].rend(); ++it)
        if (--indeg[*it] == 0) stack.push_back(*it);
    }
  }
  std::vector<int> topo_rank(static_cast<size_t>(nn), 0);
  for (size_t r = 0; r < topo.size(); ++r) topo_rank[topo[r]] = static_cast<int>(r);

  // ---- place every kept ONNX node ------------------------------------------------------------
  std::vector<std::string> devices;  // in order of first appearance
  std::unordered_map<std::string, int> device_index;
  std::vector<int> node_device(static_cast<size_t>(nn), -1);
  std::vector<std::vector<size_t>> device_ops;  // schedule op indices per device
  for (size_t i = 0; i < schedule.ops.size(); ++i) {
    const auto& p = schedule.ops[i];
    auto [it, fresh] = device_index.emplace(p.device, static_cast<int>(devices.size()));
    if (fresh) {
      devices.push_back(p.device);
      device_ops.emplace_back();
    }
    device_ops[it->second].push_back(i);
  }
  std::vector<std::vector<std::string>> expanded(schedule.ops.size());
  std::vector<int> node_op(static_cast<size_t>(nn), -1);  // schedule op index of a placed node
  std::unordered_set<std::string> kept;
  for (const auto& op : g_op->ops) kept.insert(op.name);
  for (size_t i = 0; i < schedule.ops.size(); ++i) {
    const auto& p = schedule.ops[i];
    const Op& gop = g->ops[g->op_id(p.name)];
    expanded[i] = !p.fused.empty() ? p.fused : (!gop.fused.empty() ? gop.fused : std::vector<std::string>{p.name});
    for (const auto& n : expanded[i]) {
      auto it = node_of_name.find(n);
      if (it == node_of_name.end() || !kept.count(n))
        throw InputError(fmt::format("{}: op '{}' names '{}', which is not an operator node of {}", origin, p.name, n,
                                     model_path));
      if (node_device[it->second] >= 0)
        throw InputError(fmt::format("{}: ONNX node '{}' is placed twice", origin, n));
      node_device[it->second] = device_index.at(p.device);
      node_op[it->second] = static_cast<int>(i);
    }
  }
  for (const auto& n : kept)
    if (node_device[node_of_name.at(n)] < 0)
      throw InputError(fmt::format("{}: ONNX node '{}' of {} is in no scheduled op", origin, n, model_path));

  // Unplaced nodes: constants / shape subgraphs (replicated where needed) and pass-through
  // Identity nodes (placed with their producer, or their first placed consumer).
  std::unordered_set<std::string> const_tensor;
  for (const auto& [n, t] : initializer) const_tensor.insert(n);
  std::vector<char> is_const_node(static_cast<size_t>(nn), 0);
  for (int v : topo) {
    if (node_device[v] >= 0) continue;
    const auto& node = gp.node(v);
    bool pass = node.op_type() == "Identity" && node.input_size() == 1 && !const_tensor.count(node.input(0));
    if (pass) {
      auto it = producer.find(node.input(0));
      if (it != producer.end() && node_device[it->second] >= 0) node_device[v] = node_device[it->second];
      continue;  // placed below if still unplaced
    }
    is_const_node[v] = 1;
    for (const auto& o : node.output())
      if (!o.empty()) const_tensor.insert(o);
  }
  for (int v : topo) {
    if (node_device[v] >= 0 || is_const_node[v]) continue;
    int dev = 0;
    bool found = false;
    for (int w : topo) {
      if (node_device[w] < 0 || found) continue;
      for (const auto& in : gp.node(w).input())
        if (in == gp.node(v).output(0)) { dev = node_device[w]; found = true; break; }
    }
    node_device[v] = dev;
  }

  {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir)) throw InputError(fmt::format("{}: cannot create directory: {}", out_dir, ec.message()));
  }
  const std::string stem = fs::path(model_path).stem().string();

  // ---- execution order: data edges plus each device's order from the schedule -----------------
  // Kahn's algorithm over the non-constant nodes, ready nodes taken by scheduled start time; a
  // device's placed nodes are chained in the schedule's order (ops by start, members in source
  // order), so the result interleaves devices as the schedule does.
  std::vector<double> node_start(static_cast<size_t>(nn), 0);
  for (int v : topo) {
    if (is_const_node[v]) continue;
    if (node_op[v] >= 0) {
      node_start[v] = schedule.ops[static_cast<size_t>(node_op[v])].start_s;
    } else {  // pass-through: right after its producer
      for (const auto& in : gp.node(v).input())
        if (auto it = producer.find(in); !in.empty() && it != producer.end())
          node_start[v] = std::max(node_start[v], node_start[it->second]);
    }
  }
  std::vector<std::vector<int>> succ(static_cast<size_t>(nn));
  std::vector<int> indeg(static_cast<size_t>(nn), 0);
  auto add_edge = [&](int a, int b) {
    succ[a].push_back(b);
    ++indeg[b];
  };
  for (int v = 0; v < nn; ++v) {
    if (is_const_node[v]) continue;
    std::set<int> deps;
    for (const auto& in : gp.node(v).input())
      if (auto it = producer.find(in); !in.empty() && it != producer.end() && !is_const_node[it->second])
        deps.insert(it->second);
    for (int d : deps) add_edge(d, v);
  }
  std::vector<std::vector<int>> device_chain(devices.size());
  {
    std::vector<int> placed;
    for (int v : topo)
      if (node_op[v] >= 0) placed.push_back(v);
    std::stable_sort(placed.begin(), placed.end(), [&](int a, int b) {
      const auto& pa = schedule.ops[static_cast<size_t>(node_op[a])];
      const auto& pb = schedule.ops[static_cast<size_t>(node_op[b])];
      if (pa.start_s != pb.start_s) return pa.start_s < pb.start_s;
      return node_op[a] < node_op[b];
    });
    for (int v : placed) {
      auto& chain = device_chain[static_cast<size_t>(node_device[v])];
      if (!chain.empty()) add_edge(chain.back(), v);
      chain.push_back(v);
    }
  }
  std::vector<int> exec;  // execution order of all non-constant nodes
  {
    using Key = std::tuple<double, int, int>;  // start, source rank, node
    std::priority_queue<Key, std::vector<Key>, std::greater<Key>> ready;
    size_t total = 0;
    for (int v = 0; v < nn; ++v)
      if (!is_const_node[v]) {
        ++total;
        if (indeg[v] == 0) ready.push({node_start[v], topo_rank[v], v});
      }
    while (!ready.empty()) {
      const int v = std::get<2>(ready.top());
      ready.pop();
      exec.push_back(v);
      for (int w : succ[v])
        if (--indeg[w] == 0) ready.push({node_start[w], topo_rank[w], w});
    }
    if (exec.size() != total) {
      for (size_t d = 0; d < devices.size(); ++d)
        for (int v : device_chain[d])
          if (indeg[v] > 0)
            throw InputError(fmt::format("{}: the order of device '{}' contradicts the model's dependencies (at ONNX "
                                         "node '{}'): ops must start after their inputs are produced",
                                         origin, devices[d], names[v]));
      throw InputError(fmt::format("{}: the schedule's device orders form a cycle", origin));
    }
  }

  // ---- segments: a device's run of nodes, cut where it waits for or sends another device a tensor
  auto is_activation = [&](const std::string& t) { return !t.empty() && !const_tensor.count(t); };
  std::vector<int> node_segment(static_cast<size_t>(nn), -1);
  std::vector<char> sends_elsewhere(static_cast<size_t>(nn), 0);  // a node on another device reads it
  for (int w : exec)
    for (const auto& in : gp.node(w).input())
      if (auto it = producer.find(in); is_activation(in) && it != producer.end() && !is_const_node[it->second] &&
                                      node_device[it->second] != node_device[w])
        sends_elsewhere[it->second] = 1;
  std::vector<int> segment_device;
  std::vector<std::vector<int>> segment_nodes;
  {
    std::vector<int> current(devices.size(), -1);
    std::vector<std::unordered_set<std::string>> seg_inputs;
    for (int v : exec) {
      const int d = node_device[v];
      int s = current[static_cast<size_t>(d)];
      bool cut = s < 0;
      for (const auto& in : gp.node(v).input()) {
        if (!is_activation(in)) continue;
        auto it = producer.find(in);
        if (s >= 0 && it != producer.end() && node_device[it->second] != d && !seg_inputs[static_cast<size_t>(s)].count(in))
          cut = true;
      }
      if (cut) {
        s = static_cast<int>(segment_nodes.size());
        current[static_cast<size_t>(d)] = s;
        segment_device.push_back(d);
        segment_nodes.emplace_back();
        seg_inputs.emplace_back();
      }
      segment_nodes[static_cast<size_t>(s)].push_back(v);
      node_segment[v] = s;
      for (const auto& in : gp.node(v).input()) {
        if (!is_activation(in)) continue;
        auto it = producer.find(in);
        if (it == producer.end() || node_segment[it->second] != s) seg_inputs[static_cast<size_t>(s)].insert(in);
      }
      // A segment's outputs exist only when the whole segment has run: close it after a node that
      // another device reads, so the tensor leaves when its op finishes, as the schedule assumes.
      if (sends_elsewhere[v]) current[static_cast<size_t>(d)] = -1;
    }
  }

  // ---- one sub-model per group of nodes (a device, or a segment) -------------------------------
  std::unordered_map<std::string, std::vector<int>> consumer_nodes;  // activation -> nodes reading it
  for (int v = 0; v < nn; ++v)
    if (!is_const_node[v])
      for (const auto& in : gp.node(v).input())
        if (is_activation(in)) consumer_nodes[in].push_back(v);
  auto readers = [&](const std::string& t) -> const std::vector<int>& {
    static const std::vector<int> none;
    auto it = consumer_nodes.find(t);
    return it == consumer_nodes.end() ? none : it->second;
  };
  std::set<std::string> external_files;
  struct Part {
    std::vector<std::string> inputs, outputs;
    size_t constant_nodes = 0;
  };
  // group_of: node -> group id (-1 for constants); consumers: tensor -> groups reading it.
  auto write_part = [&](const std::vector<int>& group_of, int group, const std::string& device,
                        const std::string& title, const std::string& file) -> Part {
    std::vector<int> nodes;
    for (int v : topo)
      if (!is_const_node[v] && group_of[v] == group) nodes.push_back(v);
    // Constant closure.
    std::set<int> const_nodes;
    std::set<std::string> inits;
    std::vector<std::string> stack;
    auto need = [&](const std::string& t) {
      if (t.empty() || !const_tensor.count(t)) return;
      if (initializer.count(t)) { inits.insert(t); return; }
      stack.push_back(t);
    };
    for (int v : nodes)
      for (const auto& in : gp.node(v).input()) need(in);
    std::set<int> shape_to_const;  // Shape/Size of an activation: emitted as a Constant
    while (!stack.empty()) {
      const std::string t = stack.back();
      stack.pop_back();
      const int c = producer.at(t);
      if (!const_nodes.insert(c).second) continue;
      const auto& cn = gp.node(c);
      const bool of_activation = cn.input_size() >= 1 && !cn.input(0).empty() && !const_tensor.count(cn.input(0));
      if ((cn.op_type() == "Shape" || cn.op_type() == "Size") && of_activation) {
        const auto* vi = vi_of(cn.input(0));
        if (vi && vi->type().has_tensor_type() && vi->type().tensor_type().has_shape()) {
          bool concrete = true;
          for (const auto& dim : vi->type().tensor_type().shape().dim()) concrete &= dim.has_dim_value();
          if (concrete) { shape_to_const.insert(c); continue; }
        }
      }
      for (const auto& in : cn.input()) need(in);
    }

    std::unordered_set<std::string> produced;
    for (int v : nodes)
      for (const auto& o : gp.node(v).output()) produced.insert(o);
    for (int c : const_nodes)
      for (const auto& o : gp.node(c).output()) produced.insert(o);

    onnx::ModelProto sub;
    sub.set_ir_version(model.ir_version());
    *sub.mutable_opset_import() = model.opset_import();
    *sub.mutable_functions() = model.functions();
    sub.set_producer_name("diviml");
    sub.set_producer_version(DIVIML_VERSION);
    sub.set_domain(model.domain());
    sub.set_model_version(model.model_version());
    sub.set_doc_string(fmt::format("diviml partition of {}: {} on device {}", fs::path(model_path).filename().string(),
                                   title, device));
    auto* meta = sub.add_metadata_props();
    meta->set_key("diviml.device");
    meta->set_value(device);
    onnx::GraphProto& sg = *sub.mutable_graph();
    sg.set_name((gp.name().empty() ? stem : gp.name()) + "_" + sanitize(title));

    // Nodes in source topological order (constants included).
    std::vector<int> all = nodes;
    all.insert(all.end(), const_nodes.begin(), const_nodes.end());
    std::sort(all.begin(), all.end(), [&](int a, int b) { return topo_rank[a] < topo_rank[b]; });
    for (int v : all) {
      const auto& src = gp.node(v);
      onnx::NodeProto* n = sg.add_node();
      if (shape_to_const.count(v)) {
        // Static shape of the activation, as Shape (with start/end) or Size would compute it.
        const auto& dims = vi_of(src.input(0))->type().tensor_type().shape().dim();
        std::vector<int64_t> shape;
        for (const auto& dim : dims) shape.push_back(dim.dim_value());
        onnx::TensorProto t;
        t.set_data_type(onnx::TensorProto_DataType_INT64);
        if (src.op_type() == "Size") {
          int64_t p = 1;
          for (int64_t x : shape) p *= x;
          t.add_int64_data(p);
        } else {
          const auto r = static_cast<int64_t>(shape.size());
          int64_t start = 0, end = r;
          for (const auto& a : src.attribute()) {
            if (a.name() == "start") start = a.i();
            if (a.name() == "end") end = a.i();
          }
          if (start < 0) start += r;
          if (end < 0) end += r;
          start = std::clamp<int64_t>(start, 0, r);
          end = std::clamp<int64_t>(end, start, r);
          t.add_dims(end - start);
          for (int64_t i = start; i < end; ++i) t.add_int64_data(shape[static_cast<size_t>(i)]);
        }
        n->set_op_type("Constant");
        n->set_name(names[v]);
        n->add_output(src.output(0));
        auto* a = n->add_attribute();
        a->set_name("value");
        a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
        *a->mutable_t() = t;
        continue;
      }
      *n = src;
      n->set_name(names[v]);
    }
    // Initializers exactly as in the source (external-data references kept, never read): a part
    // holds only the weights its own nodes read.
    for (const auto& n : inits) {
      const onnx::TensorProto* t = initializer.at(n);
      *sg.add_initializer() = *t;
      if (t->data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
        for (const auto& kv : t->external_data())
          if (kv.key() == "location") external_files.insert(kv.value());
    }
    Part part;
    part.constant_nodes = const_nodes.size();
    // Boundary inputs: activations read here and produced elsewhere (or graph inputs).
    std::unordered_set<std::string> seen;
    for (int v : nodes)
      for (const auto& in : gp.node(v).input())
        if (!in.empty() && !produced.count(in) && !const_tensor.count(in) && seen.insert(in).second)
          part.inputs.push_back(in);
    for (const auto& in : part.inputs) {
      const auto* vi = vi_of(in);
      if (!vi) throw InputError(fmt::format("{}: tensor '{}' crosses devices but has no type in the model", model_path, in));
      *sg.add_input() = *vi;
    }
    // Boundary outputs: read by another group, or a graph output.
    for (int v : nodes)
      for (const auto& o : gp.node(v).output()) {
        if (o.empty()) continue;
        bool out = graph_outputs.count(o) > 0;
        for (int w : readers(o)) out |= group_of[w] != group;
        if (out) part.outputs.push_back(o);
      }
    for (const auto& o : part.outputs) {
      const auto* vi = vi_of(o);
      if (!vi) throw InputError(fmt::format("{}: tensor '{}' crosses devices but has no type in the model", model_path, o));
      *sg.add_output() = *vi;
    }
    std::unordered_set<std::string> boundary(part.inputs.begin(), part.inputs.end());
    boundary.insert(part.outputs.begin(), part.outputs.end());
    for (int v : all)
      for (const auto& o : gp.node(v).output())
        if (!o.empty() && !boundary.count(o))
          if (const auto* vi = vi_of(o)) *sg.add_value_info() = *vi;

    const std::string path = (fs::path(out_dir) / file).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !sub.SerializeToOstream(&out)) throw InputError(fmt::format("{}: cannot write file", path));
    return part;
  };

  PartitionResult res;

  // Per-device view (not executable in general: devices feed each other back and forth).
  json plan_devices = json::array();
  for (int d = 0; d < static_cast<int>(devices.size()); ++d) {
    const std::string file = stem + "." + sanitize(devices[d]) + ".onnx";
    const Part part = write_part(node_device, d, devices[d], "device " + devices[d], file);
    res.devices.push_back(devices[d]);
    res.model_files.push_back((fs::path(out_dir) / file).string());
    // Execution order on this device: scheduled ops by start time (ties: schedule order).
    std::vector<size_t> ord = device_ops[d];
    std::stable_sort(ord.begin(), ord.end(),
                     [&](size_t a, size_t b) { return schedule.ops[a].start_s < schedule.ops[b].start_s; });
    json order = json::array();
    for (size_t i : ord)
      order.push_back({{"op", schedule.ops[i].name},
                       {"onnx_nodes", expanded[i]},
                       {"start_s", schedule.ops[i].start_s},
                       {"finish_s", schedule.ops[i].finish_s}});
    size_t count = 0;
    for (int v = 0; v < nn; ++v) count += !is_const_node[v] && node_device[v] == d;
    plan_devices.push_back({{"name", devices[d]},
                            {"model", file},
                            {"nodes", count},
                            {"constant_nodes", part.constant_nodes},
                            {"inputs", part.inputs},
                            {"outputs", part.outputs},
                            {"order", order}});
  }

  // Executable view: segments in execution order.
  json plan_segments = json::array();
  std::vector<int> seg_index_on_device(segment_nodes.size(), 0);
  {
    std::vector<int> count(devices.size(), 0);
    for (size_t s = 0; s < segment_nodes.size(); ++s) seg_index_on_device[s] = count[segment_device[s]]++;
  }
  for (size_t s = 0; s < segment_nodes.size(); ++s) {
    const int d = segment_device[s];
    const std::string name = fmt::format("s{:03}", s);
    const std::string file = fmt::format("{}.{}.{}.onnx", stem, name, sanitize(devices[d]));
    const Part part = write_part(node_segment, static_cast<int>(s), devices[d],
                                 fmt::format("segment {} ({} of device {})", name, seg_index_on_device[s], devices[d]), file);
    res.segment_files.push_back((fs::path(out_dir) / file).string());
    json inputs = json::array();
    for (const auto& t : part.inputs) {
      auto it = producer.find(t);
      if (it == producer.end()) {
        inputs.push_back({{"tensor", t}, {"from_segment", nullptr}, {"from_device", nullptr}});
      } else {
        const int ps = node_segment[it->second];
        inputs.push_back({{"tensor", t}, {"from_segment", fmt::format("s{:03}", ps)},
                          {"from_device", devices[segment_device[static_cast<size_t>(ps)]]}});
      }
    }
    json outputs = json::array();
    for (const auto& t : part.outputs) {
      std::set<std::string> to;
      for (int w : readers(t))
        if (node_segment[w] != static_cast<int>(s) && segment_device[static_cast<size_t>(node_segment[w])] != d)
          to.insert(devices[segment_device[static_cast<size_t>(node_segment[w])]]);
      outputs.push_back({{"tensor", t}, {"to_devices", to}, {"graph_output", graph_outputs.count(t) > 0}});
    }
    // Scheduled ops whose first node runs here, and their predicted (simulated) time.
    std::set<int> ops_here;
    for (int v : segment_nodes[s])
      if (node_op[v] >= 0) ops_here.insert(node_op[v]);
    json ops = json::array();
    double busy = 0, first = INFINITY, last = 0;
    for (int i : ops_here) {
      const auto& p = schedule.ops[static_cast<size_t>(i)];
      const int head = node_of_name.at(expanded[static_cast<size_t>(i)].front());
      if (node_segment[head] != static_cast<int>(s)) continue;
      ops.push_back(p.name);
      busy += p.finish_s - p.start_s;
      first = std::min(first, p.start_s);
      last = std::max(last, p.finish_s);
    }
    plan_segments.push_back({{"name", name},
                             {"device", devices[d]},
                             {"index_on_device", seg_index_on_device[s]},
                             {"model", file},
                             {"nodes", segment_nodes[s].size()},
                             {"constant_nodes", part.constant_nodes},
                             {"inputs", inputs},
                             {"outputs", outputs},
                             {"ops", ops},
                             {"predicted_busy_s", busy},
                             {"predicted_start_s", std::isfinite(first) ? json(first) : json(nullptr)},
                             {"predicted_finish_s", std::isfinite(first) ? json(last) : json(nullptr)}});
  }

  // ---- cross-device tensors, graph inputs and outputs -----------------------------------------
  std::unordered_map<std::string, std::set<int>> consumers_dev;  // tensor -> devices reading it
  for (int v = 0; v < nn; ++v) {
    if (is_const_node[v]) continue;
    for (const auto& in : gp.node(v).input())
      if (is_activation(in)) consumers_dev[in].insert(node_device[v]);
  }
  json transfers = json::array();
  for (int v : topo) {
    if (is_const_node[v]) continue;
    for (const auto& o : gp.node(v).output()) {
      auto it = consumers_dev.find(o);
      if (o.empty() || it == consumers_dev.end()) continue;
      for (int e : it->second) {
        if (e == node_device[v]) continue;
        const auto* vi = vi_of(o);
        transfers.push_back({{"tensor", o},
                             {"from", devices[node_device[v]]},
                             {"to", devices[e]},
                             {"producer", names[v]},
                             {"from_segment", fmt::format("s{:03}", node_segment[v])},
                             {"bytes", value_bytes(vi)},
                             {"dtype", vi ? onnx_rules::dtype_name(vi->type().tensor_type().elem_type()) : "undefined"},
                             {"shape", shape_json(vi)}});
      }
    }
  }
  json ins = json::array(), outs = json::array();
  for (const auto& v : gp.input()) {
    if (!graph_inputs.count(v.name())) continue;
    json to = json::array();
    if (auto it = consumers_dev.find(v.name()); it != consumers_dev.end())
      for (int e : it->second) to.push_back(devices[e]);
    ins.push_back({{"tensor", v.name()},
                   {"to", to},
                   {"bytes", value_bytes(&v)},
                   {"dtype", onnx_rules::dtype_name(v.type().tensor_type().elem_type())},
                   {"shape", shape_json(&v)}});
  }
  for (const auto& v : gp.output()) {
    auto it = producer.find(v.name());
    const bool placed = it != producer.end() && !is_const_node[it->second];
    outs.push_back({{"tensor", v.name()},
                    {"from", placed ? json(devices[node_device[it->second]]) : json(nullptr)},
                    {"from_segment", placed ? json(fmt::format("s{:03}", node_segment[it->second])) : json(nullptr)},
                    {"bytes", value_bytes(&v)},
                    {"dtype", onnx_rules::dtype_name(v.type().tensor_type().elem_type())},
                    {"shape", shape_json(&v)}});
  }

  // ---- the whole model and its weights, next to the segments -----------------------------------
  // The unpartitioned model is copied so that it and every segment resolve the same external-data
  // file in out_dir: a link to the source's weights when they exist, else absent (the runner then
  // needs --random-weights and writes the file from the table below).
  const std::string whole = "whole.onnx";
  {
    std::error_code ec;
    fs::copy_file(opt.whole_model.empty() ? model_path : opt.whole_model, fs::path(out_dir) / whole, fs::copy_options::overwrite_existing, ec);
    if (ec) throw InputError(fmt::format("{}: cannot copy to {}: {}", model_path, out_dir, ec.message()));
  }
  json weights = json::array();
  for (const auto& t : gp.initializer()) {
    if (t.data_location() != onnx::TensorProto_DataLocation_EXTERNAL) continue;
    std::string location;
    double offset = 0, length = -1;
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location") location = kv.value();
      if (kv.key() == "offset") offset = std::stod(kv.value());
      if (kv.key() == "length") length = std::stod(kv.value());
    }
    external_files.insert(location);
    double n = 1;
    for (int64_t dmn : t.dims()) n *= static_cast<double>(dmn);
    if (length < 0) length = n * onnx_rules::dtype_size(t.data_type());
    weights.push_back({{"name", t.name()}, {"location", location}, {"offset", offset}, {"length", length},
                       {"dtype", onnx_rules::dtype_name(t.data_type())},
                       {"dims", std::vector<int64_t>(t.dims().begin(), t.dims().end())}});
  }
  const fs::path source_dir = opt.external_data_dir.empty() ? fs::absolute(fs::path(model_path)).parent_path()
                                                            : fs::absolute(fs::path(opt.external_data_dir));
  json present = json::object();
  for (const auto& f : external_files) {
    if (f.empty() || fs::path(f).is_absolute() || f.find("..") != std::string::npos)
      throw InputError(fmt::format("{}: external-data location '{}' is not a plain relative file name", model_path, f));
    const fs::path src = source_dir / f, dst = fs::path(out_dir) / f;
    std::error_code ec;
    fs::remove(dst, ec);  // a stale link or random-weights file of an earlier run
    const bool have = fs::exists(src, ec);
    if (have) {
      fs::create_directories(dst.parent_path(), ec);
      fs::create_symlink(src, dst, ec);
      if (ec) throw InputError(fmt::format("{}: cannot link weights {}: {}", dst.string(), src.string(), ec.message()));
    }
    present[f] = have;
  }

  json plan{{"format", "diviml-partition-plan"},
            {"version", 2},
            {"source_model", model_path},
            {"whole_model", whole},
            {"graph", g->name},
            {"schedule", origin},
            {"platform", schedule.platform},
            {"method", schedule.method},
            {"predicted_latency_s", schedule.makespan_s ? json(*schedule.makespan_s) : json(nullptr)},
            {"granularity", gran == Granularity::Op ? "op" : "fused"},
            {"external_data", {{"files", std::vector<std::string>(external_files.begin(), external_files.end())},
                               {"directory", source_dir.string()},
                               {"present", present}}},
            {"weights", weights},
            {"segments", plan_segments},
            {"devices", plan_devices},
            {"graph_inputs", ins},
            {"graph_outputs", outs},
            {"transfers", transfers}};
  res.plan_file = (fs::path(out_dir) / "plan.json").string();
  {
    std::ofstream out(res.plan_file, std::ios::trunc);
    if (!out) throw InputError(fmt::format("{}: cannot write file", res.plan_file));
    out << plan.dump(2) << "\n";
    if (!out) throw InputError(fmt::format("{}: error while writing", res.plan_file));
  }
  res.plan = std::move(plan);
  return res;
}

}  // namespace diviml

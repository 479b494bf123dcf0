// Partitioned export of a split batch (batch_partition.h, docs/batch.md).
#include "report/batch_partition.h"

#include <onnx/onnx_pb.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "frontend/onnx_import.h"
#include "frontend/onnx_op_rules.h"

namespace diviml {

namespace fs = std::filesystem;
using nlohmann::json;

bool is_split_batch_schedule(const json& s) {
  return s.is_object() && s.contains("batch") && s["batch"].is_object() && s["batch"].contains("micro_batch_sizes");
}

namespace {

/// Copy j's name prefix, as BatchSplit names its ops (none for a single micro-batch).
std::string copy_prefix(size_t copies, size_t j) { return copies == 1 ? "" : fmt::format("mb{}/", j); }

/// Sets axis 0 of a per-sample value to `b`. Axis 0 must be 1 or symbolic: the batch axis of a
/// model exported for one sample.
void set_batch_dim(onnx::ValueInfoProto& v, int64_t b, const std::string& model, const char* what) {
  auto* tt = v.mutable_type()->mutable_tensor_type();
  if (!tt->has_shape() || tt->shape().dim_size() == 0)
    throw InputError(fmt::format("{}: {} '{}' has no batch axis (no shape, or a scalar): cannot split a batch", model,
                                 what, v.name()));
  auto* d0 = tt->mutable_shape()->mutable_dim(0);
  if (d0->has_dim_value() && d0->dim_value() != 1)
    throw InputError(fmt::format("{}: {} '{}' has {} along axis 0; a split batch needs the per-sample model (axis 0 "
                                 "of size 1, or symbolic, is the batch axis)",
                                 model, what, v.name(), d0->dim_value()));
  d0->clear_dim_param();
  d0->set_dim_value(b);
}

/// Graph inputs of the model at batch `b`: --input-shape overrides first (per sample), then
/// axis 0 set to b; every other axis must be known for the slices' shapes.
void batch_inputs(onnx::GraphProto& g, const std::unordered_set<std::string>& inits, int64_t b,
                  const std::map<std::string, std::vector<int64_t>>& shapes, const std::string& model) {
  for (auto& v : *g.mutable_input()) {
    if (inits.count(v.name())) continue;
    if (auto it = shapes.find(v.name()); it != shapes.end()) {
      auto* shape = v.mutable_type()->mutable_tensor_type()->mutable_shape();
      shape->clear_dim();
      for (int64_t d : it->second) shape->add_dim()->set_dim_value(d);
    }
    set_batch_dim(v, b, model, "input");
    const auto& dims = v.type().tensor_type().shape().dim();
    for (int i = 1; i < dims.size(); ++i)
      if (!dims[i].has_dim_value())
        throw InputError(fmt::format("{}: input '{}' has symbolic axis {} ('{}'): give --input-shape {}=1x...", model,
                                     v.name(), i, dims[i].dim_param(), v.name()));
  }
}

/// The model at batch b (see write_model_at_batch).
onnx::ModelProto at_batch(const onnx::ModelProto& src, const std::unordered_set<std::string>& inits, int64_t b,
                          const std::map<std::string, std::vector<int64_t>>& shapes, const std::string& model) {
  onnx::ModelProto whole = src;
  onnx::GraphProto& g = *whole.mutable_graph();
  g.clear_value_info();  // per-sample shapes: ONNX Runtime infers those at batch b
  batch_inputs(g, inits, b, shapes, model);
  for (auto& v : *g.mutable_output())  // an output without a shape keeps none (ONNX Runtime infers it)
    if (v.type().tensor_type().has_shape() && v.type().tensor_type().shape().dim_size() > 0)
      set_batch_dim(v, b, model, "output");
  return whole;
}

onnx::TensorProto int64_initializer(const std::string& name, int64_t value) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto_DataType_INT64);
  t.add_dims(1);
  t.add_int64_data(value);
  return t;
}

void add_int_attribute(onnx::NodeProto& n, const char* name, std::vector<int64_t> values, bool list) {
  auto* a = n.add_attribute();
  a->set_name(name);
  if (list) {
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (int64_t x : values) a->add_ints(x);
  } else {
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(values.at(0));
  }
}

void write_model(const onnx::ModelProto& m, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !m.SerializeToOstream(&out)) throw InputError(fmt::format("{}: cannot write file", path));
}

}  // namespace

PartitionResult partition_split_batch(const std::string& model_path, const json& schedule, const std::string& origin,
                                      const std::string& out_dir, const PartitionOptions& opt) {
  // ---- the split: sizes and each placement's micro-batch --------------------------------------
  std::vector<int64_t> sizes;
  for (const auto& b : schedule["batch"]["micro_batch_sizes"]) {
    if (!b.is_number_integer() || b.get<long long>() < 1)
      throw InputError(fmt::format("{}: batch.micro_batch_sizes must hold positive integers", origin));
    sizes.push_back(b.get<int64_t>());
  }
  if (sizes.empty()) throw InputError(fmt::format("{}: batch.micro_batch_sizes is empty", origin));
  const size_t copies = sizes.size();
  int64_t batch = 0;
  std::vector<int64_t> offset;
  for (int64_t b : sizes) {
    offset.push_back(batch);
    batch += b;
  }
  std::string io_device;
  if (const auto& b = schedule["batch"]; b.contains("io_device") && b["io_device"].is_string())
    io_device = b["io_device"].get<std::string>();
  SchedulePlacements placements = parse_schedule_placements(schedule.dump(), origin);
  std::vector<size_t> copy_of(placements.ops.size(), 0);
  std::vector<std::string> base_name(placements.ops.size());
  for (size_t i = 0; i < placements.ops.size(); ++i) {
    const auto& o = schedule["ops"][i];
    const std::string& name = placements.ops[i].name;
    if (o.contains("micro_batch") && o["micro_batch"].is_number_integer()) {
      const auto j = o["micro_batch"].get<long long>();
      if (j < 0 || j >= static_cast<long long>(copies))
        throw InputError(fmt::format("{}: op '{}': micro_batch {} out of range (the split has {})", origin, name, j, copies));
      copy_of[i] = static_cast<size_t>(j);
    }
    const std::string pre = copy_prefix(copies, copy_of[i]);
    if (name.compare(0, pre.size(), pre) != 0)
      throw InputError(fmt::format("{}: op '{}' of micro-batch {} should be named '{}...'", origin, name, copy_of[i], pre));
    base_name[i] = name.substr(pre.size());
    placements.ops[i].fused.clear();  // the scheduled graph below holds the (prefixed) fused lists
  }

  // ---- the per-sample model at the schedule's granularity -------------------------------------
  LoadOptions lo;
  lo.input_shapes = opt.input_shapes;
  lo.warnings = opt.warnings;
  std::shared_ptr<Graph> per_sample;
  Granularity gran = Granularity::Fused;
  auto matches = [&](const Graph& g) {
    if (static_cast<size_t>(g.num_ops()) * copies != placements.ops.size()) return false;
    return std::all_of(base_name.begin(), base_name.end(), [&](const std::string& n) { return g.op_id(n) >= 0; });
  };
  for (Granularity gr : {Granularity::Fused, Granularity::Op}) {
    if (opt.granularity && *opt.granularity != gr) continue;
    lo.granularity = gr;
    auto g = import_onnx(model_path, lo);
    lo.warnings = nullptr;
    if (matches(*g)) {
      per_sample = g;
      gran = gr;
      break;
    }
  }
  if (!per_sample)
    throw InputError(fmt::format("{}: split-batch schedule does not match {}: expected {} micro-batch(es) x the model's "
                                 "ops, named 'mb<j>/<op>' (at fused or op granularity)",
                                 origin, model_path, copies));

  // ---- the model at batch B (the reference) and the split model (what is cut) ----------------
  const onnx::ModelProto src = onnx_rules::read_model(model_path);
  const onnx::GraphProto& sg = src.graph();
  std::unordered_set<std::string> inits;
  for (const auto& t : sg.initializer()) inits.insert(t.name());
  if (copies > 1)
    for (const auto& n : sg.node())
      for (const auto& a : n.attribute())
        if (a.has_g() || a.graphs_size() > 0)
          throw InputError(fmt::format("{}: node '{}' ({}) has a subgraph: a split batch cannot copy it", model_path,
                                       n.name(), n.op_type()));
  const onnx::ModelProto whole = at_batch(src, inits, batch, opt.input_shapes, model_path);
  onnx::ModelProto split = whole;
  onnx::GraphProto& g = *split.mutable_graph();
  g.clear_node();
  const std::vector<std::string> names = onnx_rules::unique_node_names(sg);
  std::unordered_set<std::string> node_names;
  auto renamed = [&](const std::string& t, size_t j) {
    return t.empty() || inits.count(t) ? t : copy_prefix(copies, j) + t;
  };
  const bool slice_inputs = onnx_rules::default_opset(src) >= 10;  // Slice-1 takes attributes
  json slices = json::array(), concats = json::array();
  std::vector<std::pair<std::string, std::string>> slice_nodes;   // node, graph input
  std::vector<std::pair<std::string, std::string>> concat_nodes;  // node, graph output
  if (copies > 1)
    for (const auto& v : sg.input()) {
      if (inits.count(v.name())) continue;
      for (size_t j = 0; j < copies; ++j) {
        const std::string node = fmt::format("{}diviml_slice/{}", copy_prefix(copies, j), v.name());
        onnx::NodeProto* n = g.add_node();
        n->set_op_type("Slice");
        n->set_name(node);
        n->add_input(v.name());
        if (slice_inputs) {
          for (const auto& [what, x] : {std::pair<const char*, int64_t>{"starts", offset[j]},
                                        {"ends", offset[j] + sizes[j]},
                                        {"axes", 0}}) {
            const std::string c = node + "/" + what;
            *g.add_initializer() = int64_initializer(c, x);
            n->add_input(c);
          }
        } else {
          add_int_attribute(*n, "starts", {offset[j]}, true);
          add_int_attribute(*n, "ends", {offset[j] + sizes[j]}, true);
          add_int_attribute(*n, "axes", {0}, true);
        }
        n->add_output(renamed(v.name(), j));
        slice_nodes.emplace_back(node, v.name());
        slices.push_back({{"micro_batch", j}, {"tensor", v.name()}, {"slice", renamed(v.name(), j)}, {"axis", 0},
                          {"offset", offset[j]}, {"size", sizes[j]}, {"node", node}});
      }
    }
  for (size_t j = 0; j < copies; ++j)
    for (int i = 0; i < sg.node_size(); ++i) {
      onnx::NodeProto* n = g.add_node();
      *n = sg.node(i);
      n->set_name(copy_prefix(copies, j) + names[static_cast<size_t>(i)]);
      for (auto& t : *n->mutable_input()) t = renamed(t, j);
      for (auto& t : *n->mutable_output()) t = renamed(t, j);
    }
  if (copies > 1)
    for (const auto& v : sg.output()) {
      const std::string node = "diviml_concat/" + v.name();
      onnx::NodeProto* n = g.add_node();
      n->set_op_type("Concat");
      n->set_name(node);
      json parts = json::array();
      for (size_t j = 0; j < copies; ++j) {
        n->add_input(renamed(v.name(), j));
        parts.push_back(renamed(v.name(), j));
      }
      n->add_output(v.name());
      add_int_attribute(*n, "axis", {0}, false);
      concat_nodes.emplace_back(node, v.name());
      concats.push_back({{"tensor", v.name()}, {"parts", parts}, {"axis", 0}, {"node", node}});
    }
  for (const auto& n : g.node())
    if (!node_names.insert(n.name()).second)
      throw InputError(fmt::format("{}: node name '{}' twice in the split model (a node of the model already uses the "
                                   "'diviml_slice/' or 'diviml_concat/' names)",
                                   model_path, n.name()));

  {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir))
      throw InputError(fmt::format("{}: cannot create directory: {}", out_dir, ec.message()));
  }
  const std::string stem = fs::path(model_path).stem().string();
  const std::string split_file = fmt::format("{}.batch{}.onnx", stem, batch);
  const fs::path split_path = fs::path(out_dir) / split_file;
  const fs::path whole_path = fs::path(out_dir) / fmt::format("{}.batch{}.whole.tmp.onnx", stem, batch);
  write_model(split, split_path.string());
  write_model(whole, whole_path.string());

  // ---- the scheduled graph (copies' names and fused lists) and the slice / concat placements ---
  auto scheduled = std::make_shared<Graph>();
  scheduled->name = fmt::format("{}@b{}", per_sample->name, batch);
  for (size_t j = 0; j < copies; ++j)
    for (const Op& op : per_sample->ops) {
      Op o;
      o.name = copy_prefix(copies, j) + op.name;
      o.type = op.type;
      for (const auto& f : op.fused) o.fused.push_back(copy_prefix(copies, j) + f);
      scheduled->add_op(std::move(o));
    }
  auto add_io_op = [&](const std::string& name, const char* type) {
    Op o;
    o.name = name;
    o.type = type;
    scheduled->add_op(std::move(o));
  };
  for (const auto& sn : slice_nodes) add_io_op(sn.first, "Slice");
  for (const auto& cn : concat_nodes) add_io_op(cn.first, "Concat");
  scheduled->finalize();

  std::unordered_map<std::string, std::string> device_of_node;
  double end = placements.makespan_s.value_or(0);
  for (const auto& p : placements.ops) {
    end = std::max(end, p.finish_s);
    const Op& op = scheduled->ops[static_cast<size_t>(scheduled->op_id(p.name))];
    if (op.fused.empty()) device_of_node[p.name] = p.device;
    for (const auto& f : op.fused) device_of_node[f] = p.device;
  }
  // Without an I/O device (I/O is free) a slice runs where its first reader does and a concat
  // where the last micro-batch's part is produced.
  auto reader_device = [&](const std::string& t, size_t j) {
    for (int i = 0; i < sg.node_size(); ++i)
      for (const auto& in : sg.node(i).input())
        if (in == t)
          if (auto it = device_of_node.find(copy_prefix(copies, j) + names[static_cast<size_t>(i)]);
              it != device_of_node.end())
            return it->second;
    return placements.ops.front().device;
  };
  auto producer_device = [&](const std::string& t, size_t j) {
    for (int i = 0; i < sg.node_size(); ++i)
      for (const auto& o : sg.node(i).output())
        if (o == t)
          if (auto it = device_of_node.find(copy_prefix(copies, j) + names[static_cast<size_t>(i)]);
              it != device_of_node.end())
            return it->second;
    return placements.ops.back().device;
  };
  std::vector<OpPlacement> ops;
  for (size_t s = 0; s < slice_nodes.size(); ++s) {
    const size_t j = s % copies;
    OpPlacement p;
    p.name = slice_nodes[s].first;
    p.device = io_device.empty() ? reader_device(slice_nodes[s].second, j) : io_device;
    slices[s]["device"] = p.device;
    ops.push_back(std::move(p));
  }
  ops.insert(ops.end(), placements.ops.begin(), placements.ops.end());
  for (size_t c = 0; c < concat_nodes.size(); ++c) {
    OpPlacement p;
    p.name = concat_nodes[c].first;
    p.device = io_device.empty() ? producer_device(concat_nodes[c].second, copies - 1) : io_device;
    p.start_s = p.finish_s = end;
    concats[c]["device"] = p.device;
    ops.push_back(std::move(p));
  }
  placements.ops = std::move(ops);

  PartitionOptions po = opt;
  po.granularity = gran;
  po.input_shapes.clear();  // the split model's inputs have their shapes at batch B
  po.scheduled_graph = scheduled;
  po.whole_model = whole_path.string();
  po.external_data_dir = fs::absolute(fs::path(model_path)).parent_path().string();
  PartitionResult res = partition_onnx(split_path.string(), placements, origin, out_dir, po);
  std::error_code ec;
  fs::remove(whole_path, ec);

  res.plan["source_model"] = model_path;
  res.plan["batch"] = {{"batch", batch},   {"micro_batch_sizes", sizes}, {"axis", 0},
                       {"split_model", split_file}, {"slices", slices}, {"concats", concats}};
  std::ofstream out(res.plan_file, std::ios::trunc);
  out << res.plan.dump(2) << "\n";
  if (!out) throw InputError(fmt::format("{}: error while writing", res.plan_file));
  return res;
}

void write_model_at_batch(const std::string& model_path, int b,
                          const std::map<std::string, std::vector<int64_t>>& input_shapes, const std::string& out_path) {
  if (b < 1) throw InputError(fmt::format("batch size must be at least 1 (got {})", b));
  const onnx::ModelProto src = onnx_rules::read_model(model_path);
  std::unordered_set<std::string> inits;
  for (const auto& t : src.graph().initializer()) inits.insert(t.name());
  write_model(at_batch(src, inits, b, input_shapes, model_path), out_path);
}

}  // namespace diviml

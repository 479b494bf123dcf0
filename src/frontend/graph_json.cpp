// Graph JSON reader/writer (format in docs/formats.md).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "frontend/load_graph.h"
#include "graph/json_input.h"

namespace diviml {

using nlohmann::json;

namespace {

double number(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return 0;
  const json& v = j.at(key);
  if (!v.is_number()) throw InputError(fmt::format("{}: '{}' must be a number", where, key));
  return v.get<double>();
}

}  // namespace

std::shared_ptr<Graph> graph_from_json_text(const std::string& text, const std::string& origin) {
  const json j = parse_json_input(text, origin);
  if (!j.is_object()) throw InputError(origin + ": a graph must be a JSON object");
  expect_file_kind(j, "diviml-graph", origin);
  if (!j.contains("ops") || !j["ops"].is_array()) throw InputError(origin + ": missing 'ops' array");
  auto g = std::make_shared<Graph>();
  try {
    g->name = j.value("name", std::string());
    if (g->name.empty()) {
      const auto slash = origin.find_last_of('/');
      g->name = origin.substr(slash == std::string::npos ? 0 : slash + 1);
    }
    std::map<std::string, TensorId> index;
    if (j.contains("tensors")) {
      if (!j["tensors"].is_array()) throw InputError(origin + ": 'tensors' must be an array");
      for (const auto& tj : j["tensors"]) {
        if (!tj.is_object() || !tj.contains("name") || !tj["name"].is_string())
          throw InputError(origin + ": every tensor needs a string 'name'");
        Tensor t;
        t.name = tj["name"];
        const std::string where = origin + ": tensor '" + t.name + "'";
        t.bytes = number(tj, "bytes", where);
        t.is_graph_output = tj.value("output", false);
        if (tj.contains("shape") && (!tj["shape"].is_array() || std::any_of(tj["shape"].begin(), tj["shape"].end(), [](const json& d) { return !d.is_number_integer(); })))
          throw InputError(where + ": 'shape' must be an array of integers");  // fuzz: 3.2e93 -> int64 was UB
        if (tj.contains("shape")) t.shape = tj["shape"].get<std::vector<int64_t>>();
        t.dtype = tj.value("dtype", "");
        if (index.count(t.name)) throw InputError(origin + ": duplicate tensor '" + t.name + "'");
        const std::string tname = t.name;
        index[tname] = g->add_tensor(std::move(t));
      }
    }
    auto tensor_ref = [&](const json& name, const std::string& where) {
      if (!name.is_string()) throw InputError(where + ": tensor references must be strings");
      auto it = index.find(name.get<std::string>());
      if (it == index.end())
        throw InputError(fmt::format("{}: unknown tensor '{}' (declare it in 'tensors')", where, name.get<std::string>()));
      return it->second;
    };
    for (const auto& oj : j["ops"]) {
      if (!oj.is_object() || !oj.contains("name") || !oj["name"].is_string())
        throw InputError(origin + ": every op needs a string 'name'");
      Op op;
      op.name = oj["name"];
      const std::string where = origin + ": op '" + op.name + "'";
      op.type = oj.value("type", "op");
      if (oj.contains("class")) {
        try {
          op.op_class = op_class_from_string(oj["class"].get<std::string>());
        } catch (const InputError& e) {
          throw InputError(where + ": " + e.what());
        }
      }
      op.flops = number(oj, "flops", where);
      op.macs = number(oj, "macs", where);
      op.bytes_accessed = number(oj, "bytes", where);
      op.weight_bytes = number(oj, "weight_bytes", where);
      if (oj.contains("times")) {
        if (!oj["times"].is_object()) throw InputError(where + ": 'times' must be an object {device: seconds}");
        for (const auto& [dev, v] : oj["times"].items()) {
          double t;
          if (v.is_null() || (v.is_string() && (v == "inf" || v == "unsupported"))) t = INFINITY;
          else if (v.is_number()) t = v.get<double>();
          else throw InputError(where + ": time on '" + dev + "' must be a number, null or \"unsupported\"");
          if (std::isnan(t) || t < 0)
            throw InputError(fmt::format("{}: time on '{}' must be >= 0 (got {})", where, dev, t));
          op.device_times[dev] = t;
        }
      }
      if (oj.contains("fused")) op.fused = oj["fused"].get<std::vector<std::string>>();
      for (const auto& in : oj.value("inputs", json::array())) op.inputs.push_back(tensor_ref(in, where));
      for (const auto& out : oj.value("outputs", json::array())) op.outputs.push_back(tensor_ref(out, where));
      g->add_op(std::move(op));
    }
    if (j.contains("outputs"))
      for (const auto& out : j["outputs"]) g->tensors[tensor_ref(out, origin + ": outputs")].is_graph_output = true;
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: wrong type in graph: {}", origin, e.what()));
  }
  try {
    g->finalize();
  } catch (const InputError& e) {
    throw InputError(origin + ": " + e.what());
  }
  // A tensor nobody reads and nobody marked is still a result of the model.
  for (auto& t : g->tensors)
    if (t.producer != kNoOp && t.consumers.empty()) t.is_graph_output = true;
  return g;
}

std::string graph_to_json_text(const Graph& g) {
  json j;
  j["format"] = "diviml-graph";
  j["version"] = 1;
  j["name"] = g.name;
  j["tensors"] = json::array();
  for (const Tensor& t : g.tensors) {
    json tj{{"name", t.name}, {"bytes", t.bytes}};
    if (!t.shape.empty()) tj["shape"] = t.shape;
    if (!t.dtype.empty()) tj["dtype"] = t.dtype;
    if (t.is_graph_output) tj["output"] = true;
    tj["producer"] = t.producer == kNoOp ? json(nullptr) : json(g.ops[t.producer].name);
    json cons = json::array();
    for (OpId c : t.consumers) cons.push_back(g.ops[c].name);
    tj["consumers"] = cons;
    j["tensors"].push_back(tj);
  }
  j["ops"] = json::array();
  for (const Op& op : g.ops) {
    json oj{{"name", op.name}, {"type", op.type}, {"class", std::string(to_string(op.op_class))},
            {"flops", op.flops}, {"macs", op.macs}, {"bytes", op.bytes_accessed}, {"weight_bytes", op.weight_bytes}};
    if (!op.device_times.empty()) {
      for (const auto& [d, t] : op.device_times) oj["times"][d] = std::isfinite(t) ? json(t) : json(nullptr);
    }
    if (!op.fused.empty()) oj["fused"] = op.fused;
    json ins = json::array(), outs = json::array();
    for (TensorId t : op.inputs) ins.push_back(g.tensors[t].name);
    for (TensorId t : op.outputs) outs.push_back(g.tensors[t].name);
    oj["inputs"] = ins;
    oj["outputs"] = outs;
    j["ops"].push_back(oj);
  }
  return j.dump(1);
}

std::string read_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace diviml

#include "graph/graph.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include <fmt/format.h>

namespace diviml {

namespace {
struct ClassName {
  OpClass c;
  std::string_view name;
};
constexpr ClassName kClassNames[] = {
    {OpClass::Conv, "conv"},
    {OpClass::DepthwiseConv, "depthwise_conv"},
    {OpClass::MatMul, "matmul"},
    {OpClass::Elementwise, "elementwise"},
    {OpClass::Normalization, "normalization"},
    {OpClass::Pooling, "pooling"},
    {OpClass::DataMovement, "data_movement"},
    {OpClass::Embedding, "embedding"},
    {OpClass::ShapeOnly, "shape_only"},
    {OpClass::Other, "other"},
};
}  // namespace

std::string_view to_string(OpClass c) {
  for (const auto& cn : kClassNames)
    if (cn.c == c) return cn.name;
  return "other";
}

OpClass op_class_from_string(std::string_view s) {
  for (const auto& cn : kClassNames)
    if (cn.name == s) return cn.c;
  std::string valid;
  for (const auto& cn : kClassNames) valid += (valid.empty() ? "" : ", ") + std::string(cn.name);
  throw InputError(fmt::format("unknown op class '{}' (valid: {})", s, valid));
}

const std::vector<OpClass>& all_op_classes() {
  static const std::vector<OpClass> v = [] {
    std::vector<OpClass> r;
    for (const auto& cn : kClassNames) r.push_back(cn.c);
    return r;
  }();
  return v;
}

TensorId Graph::add_tensor(Tensor t) {
  tensors.push_back(std::move(t));
  return static_cast<TensorId>(tensors.size() - 1);
}

OpId Graph::add_op(Op op) {
  ops.push_back(std::move(op));
  return static_cast<OpId>(ops.size() - 1);
}

TensorId Graph::tensor_id(const std::string& n) const {
  auto it = tensor_index_.find(n);
  return it == tensor_index_.end() ? -1 : it->second;
}

OpId Graph::op_id(const std::string& n) const {
  auto it = op_index_.find(n);
  return it == op_index_.end() ? -1 : it->second;
}

namespace {
void check_cost(const std::string& graph, const std::string& op, const char* field, double v) {
  if (!std::isfinite(v) || v < 0)
    throw InputError(fmt::format("graph '{}': op '{}': {} must be finite and >= 0 (got {})", graph,
                                 op, field, v));
}
}  // namespace

void Graph::finalize() {
  const int n = num_ops();
  if (n == 0) throw InputError(fmt::format("graph '{}' has no ops", name));
  op_index_.clear();
  tensor_index_.clear();
  for (OpId v = 0; v < n; ++v) {
    const Op& op = ops[v];
    if (op.name.empty()) throw InputError(fmt::format("graph '{}': op #{} has no name", name, v));
    if (!op_index_.emplace(op.name, v).second)
      throw InputError(fmt::format("graph '{}': duplicate op name '{}'", name, op.name));
    check_cost(name, op.name, "flops", op.flops);
    check_cost(name, op.name, "macs", op.macs);
    check_cost(name, op.name, "bytes", op.bytes_accessed);
    check_cost(name, op.name, "weight_bytes", op.weight_bytes);
    for (const auto& [dev, t] : op.device_times)
      if (!(t >= 0)) check_cost(name, op.name, ("time on " + dev).c_str(), t);  // inf allowed
  }
  for (TensorId t = 0; t < num_tensors(); ++t) {
    Tensor& ts = tensors[t];
    if (ts.name.empty()) throw InputError(fmt::format("graph '{}': tensor #{} has no name", name, t));
    if (!tensor_index_.emplace(ts.name, t).second)
      throw InputError(fmt::format("graph '{}': duplicate tensor name '{}'", name, ts.name));
    if (!std::isfinite(ts.bytes) || ts.bytes < 0)
      throw InputError(fmt::format("graph '{}': tensor '{}': bytes must be finite and >= 0 (got {})",
                                   name, ts.name, ts.bytes));
    ts.producer = kNoOp;
    ts.consumers.clear();
  }
  // Producers and consumers from the ops' lists.
  for (OpId v = 0; v < n; ++v) {
    for (TensorId t : ops[v].outputs) {
      if (t < 0 || t >= num_tensors())
        throw InputError(fmt::format("graph '{}': op '{}' writes an unknown tensor", name, ops[v].name));
      if (tensors[t].producer != kNoOp)
        throw InputError(fmt::format("graph '{}': tensor '{}' is produced by both '{}' and '{}'", name,
                                     tensors[t].name, ops[tensors[t].producer].name, ops[v].name));
      tensors[t].producer = v;
    }
  }
  for (OpId v = 0; v < n; ++v)
    for (TensorId t : ops[v].inputs) {
      if (t < 0 || t >= num_tensors())
        throw InputError(fmt::format("graph '{}': op '{}' reads an unknown tensor", name, ops[v].name));
      auto& c = tensors[t].consumers;
      if (c.empty() || c.back() != v) c.push_back(v);
    }
  // Op adjacency (deduplicated).
  succ_.assign(n, {});
  pred_.assign(n, {});
  num_edges_ = 0;
  for (OpId v = 0; v < n; ++v) {
    for (TensorId t : ops[v].inputs) {
      OpId u = tensors[t].producer;
      if (u == kNoOp) continue;
      if (u == v)
        throw InputError(fmt::format("graph '{}': cycle: op '{}' reads its own output '{}'", name,
                                     ops[v].name, tensors[t].name));
      pred_[v].push_back(u);
    }
    std::sort(pred_[v].begin(), pred_[v].end());
    pred_[v].erase(std::unique(pred_[v].begin(), pred_[v].end()), pred_[v].end());
    for (OpId u : pred_[v]) succ_[u].push_back(v);
    num_edges_ += pred_[v].size();
  }
  // Kahn's algorithm with a min-heap so the order is stable (ties by index).
  std::vector<int> indeg(n);
  std::priority_queue<OpId, std::vector<OpId>, std::greater<>> ready;
  for (OpId v = 0; v < n; ++v)
    if ((indeg[v] = static_cast<int>(pred_[v].size())) == 0) ready.push(v);
  topo_.clear();
  topo_.reserve(n);
  while (!ready.empty()) {
    OpId v = ready.top();
    ready.pop();
    topo_.push_back(v);
    for (OpId w : succ_[v])
      if (--indeg[w] == 0) ready.push(w);
  }
  if (static_cast<int>(topo_.size()) != n) {
    // Walk predecessors among the unsorted ops until one repeats: that walk contains a cycle.
    std::vector<int> seen(n, -1);
    OpId v = 0;
    while (indeg[v] == 0) ++v;
    std::vector<OpId> path;
    while (seen[v] < 0) {
      seen[v] = static_cast<int>(path.size());
      path.push_back(v);
      for (OpId u : pred_[v])
        if (indeg[u] > 0) {
          v = u;
          break;
        }
    }
    // path[i + 1] feeds path[i], and v (= path[seen[v]]) feeds path.back(): printed along the
    // edges, the cycle runs from path.back() down to v and closes at path.back() again.
    std::string cyc;
    for (size_t i = path.size(); i-- > static_cast<size_t>(seen[v]);)
      cyc += ops[path[i]].name + " -> ";
    cyc += ops[path.back()].name;
    throw InputError(fmt::format("graph '{}' has a cycle: {}", name, cyc));
  }
  topo_rank_.assign(n, 0);
  for (int i = 0; i < n; ++i) topo_rank_[topo_[i]] = i;
}

std::vector<TensorId> Graph::graph_inputs() const {
  std::vector<TensorId> r;
  for (TensorId t = 0; t < num_tensors(); ++t)
    if (tensors[t].producer == kNoOp && !tensors[t].consumers.empty()) r.push_back(t);
  return r;
}

std::vector<TensorId> Graph::graph_outputs() const {
  std::vector<TensorId> r;
  for (TensorId t = 0; t < num_tensors(); ++t)
    if (tensors[t].is_graph_output && tensors[t].producer != kNoOp) r.push_back(t);
  return r;
}

double Graph::total_flops() const {
  double s = 0;
  for (const auto& o : ops) s += o.flops;
  return s;
}
double Graph::total_macs() const {
  double s = 0;
  for (const auto& o : ops) s += o.macs;
  return s;
}
double Graph::total_weight_bytes() const {
  double s = 0;
  for (const auto& o : ops) s += o.weight_bytes;
  return s;
}

Reachability::Reachability(const Graph& g)
    : n_(g.num_ops()), words_((static_cast<size_t>(g.num_ops()) + 63) / 64),
      rows_(static_cast<size_t>(g.num_ops()) * words_, 0) {
  // Reverse topological order: a row is the union of the successors' rows plus the successors.
  const auto& topo = g.topo_order();
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    const OpId u = *it;
    uint64_t* row = &rows_[static_cast<size_t>(u) * words_];
    for (OpId w : g.succ(u)) {
      const uint64_t* wrow = &rows_[static_cast<size_t>(w) * words_];
      for (size_t i = 0; i < words_; ++i) row[i] |= wrow[i];
      row[w >> 6] |= uint64_t{1} << (w & 63);
    }
  }
}

std::vector<std::pair<OpId, OpId>> Reachability::incomparable_pairs() const {
  std::vector<std::pair<OpId, OpId>> r;
  for (OpId u = 0; u < n_; ++u)
    for (OpId v = u + 1; v < n_; ++v)
      if (!reaches(u, v) && !reaches(v, u)) r.emplace_back(u, v);
  return r;
}

size_t Reachability::count_incomparable_pairs() const {
  size_t comparable = 0;  // ordered pairs u -> v with u reaching v
  for (size_t i = 0; i < rows_.size(); ++i) comparable += static_cast<size_t>(__builtin_popcountll(rows_[i]));
  const size_t n = static_cast<size_t>(n_);
  return n * (n - 1) / 2 - comparable;
}

}  // namespace diviml

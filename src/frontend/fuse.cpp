// Operator fusion on the Graph IR (see fuse.h).
#include "frontend/fuse.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

namespace diviml {

bool default_fusable(const Op& op) {
  return op.op_class == OpClass::Elementwise || op.op_class == OpClass::Normalization;
}

std::shared_ptr<Graph> fuse_graph(const Graph& g, const FusablePredicate& fusable) {
  const int n = g.num_ops();
  std::vector<OpId> root(static_cast<size_t>(n));
  std::iota(root.begin(), root.end(), 0);

  // Topological sweep: an op joins the group of its single producer. Predecessors are visited
  // first, so root[p] is final when v looks at it.
  for (OpId v : g.topo_order()) {
    const Op& op = g.ops[v];
    if (op.inputs.empty() || !fusable(op)) continue;
    OpId r = kNoOp;
    bool ok = true;
    for (TensorId t : op.inputs) {
      const OpId p = g.tensors[t].producer;
      if (p == kNoOp) { ok = false; break; }  // reads a graph input: nothing to fuse into
      if (r == kNoOp) r = root[p];
      else if (r != root[p]) { ok = false; break; }
    }
    if (ok && r != kNoOp) root[v] = r;
  }

  std::vector<std::vector<OpId>> members(static_cast<size_t>(n));
  for (OpId v : g.topo_order()) members[root[v]].push_back(v);

  // A tensor is internal when producer and every consumer lie in one multi-op group.
  std::vector<char> internal(g.tensors.size(), 0);
  for (TensorId t = 0; t < g.num_tensors(); ++t) {
    const Tensor& ts = g.tensors[t];
    if (ts.producer == kNoOp || ts.is_graph_output || ts.consumers.empty()) continue;
    const OpId r = root[ts.producer];
    if (members[r].size() < 2) continue;
    internal[t] = std::all_of(ts.consumers.begin(), ts.consumers.end(), [&](OpId c) { return root[c] == r; });
  }

  auto out = std::make_shared<Graph>();
  out->name = g.name;
  std::vector<OpId> new_op(static_cast<size_t>(n), kNoOp);
  OpId next = 0;
  for (OpId v = 0; v < n; ++v)
    if (root[v] == v) new_op[v] = next++;

  std::vector<TensorId> new_tensor(g.tensors.size(), -1);
  for (TensorId t = 0; t < g.num_tensors(); ++t) {
    if (internal[t]) continue;
    Tensor ts = g.tensors[t];
    ts.consumers.clear();
    if (ts.producer != kNoOp) ts.producer = new_op[root[ts.producer]];
    new_tensor[t] = out->add_tensor(std::move(ts));
  }

  for (OpId v = 0; v < n; ++v) {
    if (root[v] != v) continue;
    const auto& mem = members[v];
    Op op = g.ops[v];
    op.inputs.clear();
    op.outputs.clear();
    if (mem.size() == 1) {
      for (TensorId t : g.ops[v].inputs) op.inputs.push_back(new_tensor[t]);
      for (TensorId t : g.ops[v].outputs) op.outputs.push_back(new_tensor[t]);
      out->add_op(std::move(op));
      continue;
    }
    op.flops = op.macs = op.weight_bytes = op.bytes_accessed = 0;
    op.fused.clear();
    std::map<std::string, double> times = g.ops[v].device_times;
    std::unordered_set<TensorId> seen_in;
    for (OpId m : mem) {
      const Op& src = g.ops[m];
      op.flops += src.flops;
      op.macs += src.macs;
      op.weight_bytes += src.weight_bytes;
      if (src.fused.empty()) op.fused.push_back(src.name);
      else op.fused.insert(op.fused.end(), src.fused.begin(), src.fused.end());
      if (m != v) {
        for (auto it = times.begin(); it != times.end();) {
          auto f = src.device_times.find(it->first);
          if (f == src.device_times.end()) { it = times.erase(it); continue; }
          it->second += f->second;
          ++it;
        }
      }
      for (TensorId t : src.inputs) {
        const OpId p = g.tensors[t].producer;
        if (p != kNoOp && root[p] == v) continue;  // produced inside the group
        if (seen_in.insert(t).second) {
          op.inputs.push_back(new_tensor[t]);
          op.bytes_accessed += g.tensors[t].bytes;
        }
      }
      for (TensorId t : src.outputs) {
        if (internal[t]) continue;
        op.outputs.push_back(new_tensor[t]);
        op.bytes_accessed += g.tensors[t].bytes;
      }
    }
    op.bytes_accessed += op.weight_bytes;
    op.device_times = std::move(times);
    out->add_op(std::move(op));
  }
  out->finalize();
  return out;
}

}  // namespace diviml

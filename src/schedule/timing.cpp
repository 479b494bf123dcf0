#include "schedule/timing.h"

namespace diviml {

double asap_append(const Problem& pb, const std::vector<OpId>& order, const std::vector<int>& dev, AsapContext ctx,
                   std::vector<double>& start) {
  double obj = 0;
  for (OpId v : order) {
    const int k = dev[v];
    ctx.device[v] = k;
    const double st = timing::op_start(ctx.device_free[k], timing::data_ready(pb, v, k, ctx.device, ctx.finish));
    const double fin = st + pb.exec(v, k);
    start[v] = st;
    ctx.finish[v] = fin;
    ctx.device_free[k] = fin;
    obj = std::max(obj, timing::completion(pb, v, k, fin));
  }
  return obj;
}

AsapTimer::AsapTimer(const Problem& pb) : pb_(pb) {
  const Graph& g = pb.graph();
  const int n = pb.num_ops();
  in_begin_.assign(n + 1, 0);
  out_begin_.assign(n + 1, 0);
  for (OpId v = 0; v < n; ++v) {
    for (TensorId t : g.ops[v].inputs) inputs_.push_back({g.tensors[t].producer, g.tensors[t].bytes});
    in_begin_[v + 1] = static_cast<int>(inputs_.size());
    for (TensorId t : g.ops[v].outputs)
      if (g.tensors[t].is_graph_output) output_bytes_.push_back(g.tensors[t].bytes);
    out_begin_[v + 1] = static_cast<int>(output_bytes_.size());
  }
  finish_.assign(n, 0.0);
  start_.assign(n, 0.0);
  free_.assign(pb.num_devices(), 0.0);
}

// The loop of asap_append on the flattened graph (same rules, same operations in the same
// order, so the same doubles).
double AsapTimer::pass(const OpId* order, size_t count, const int* device, double* finish, double* free,
                       double* start) const {
  double obj = 0;
  for (size_t i = 0; i < count; ++i) {
    const OpId v = order[i];
    const int k = device[v];
    double ready = 0;
    for (int j = in_begin_[v]; j < in_begin_[v + 1]; ++j)
      ready = std::max(ready, timing::arrival(pb_, inputs_[j].producer, inputs_[j].bytes, k, device, finish));
    const double st = timing::op_start(free[k], ready);
    const double fin = st + pb_.exec(v, k);
    start[v] = st;
    finish[v] = fin;
    free[k] = fin;
    double end = fin;
    for (int j = out_begin_[v]; j < out_begin_[v + 1]; ++j)
      end = std::max(end, timing::output_delivered(pb_, output_bytes_[j], k, fin));
    obj = std::max(obj, end);
  }
  return obj;
}

double AsapTimer::time(const std::vector<int>& dev, const std::vector<OpId>& order) {
  std::fill(free_.begin(), free_.end(), 0.0);
  return pass(order.data(), order.size(), dev.data(), finish_.data(), free_.data(), start_.data());
}

double AsapTimer::time(const std::vector<int>& dev, const std::vector<OpId>& order, AsapContext ctx,
                       std::vector<double>& start) const {
  for (OpId v : order) ctx.device[v] = dev[v];
  return pass(order.data(), order.size(), ctx.device.data(), ctx.finish.data(), ctx.device_free.data(), start.data());
}

std::vector<OpId> AsapTimer::critical_chain(const std::vector<int>& dev, const std::vector<OpId>& order,
                                            double makespan, const std::vector<int>& pos) const {
  std::vector<OpId> chain;
  const double eps = 1e-12 * std::max(1.0, makespan);
  OpId v = kNoOp;
  for (auto it = order.rbegin(); it != order.rend() && v == kNoOp; ++it) {
    const OpId w = *it;
    double end = finish_[w];
    for (int j = out_begin_[w]; j < out_begin_[w + 1]; ++j)
      end = std::max(end, timing::output_delivered(pb_, output_bytes_[j], dev[w], finish_[w]));
    if (end >= makespan - eps) v = w;
  }
  while (v != kNoOp) {
    chain.push_back(v);
    OpId next = kNoOp;
    const int k = dev[v];
    for (int j = in_begin_[v]; j < in_begin_[v + 1] && next == kNoOp; ++j) {
      const OpId u = inputs_[j].producer;
      if (u != kNoOp && timing::arrival(pb_, u, inputs_[j].bytes, k, dev.data(), finish_.data()) >= start_[v] - eps)
        next = u;
    }
    if (next == kNoOp)  // the device was busy: the previous op on it in the order
      for (int p = pos[v] - 1; p >= 0; --p)
        if (dev[order[p]] == k) {
          if (finish_[order[p]] >= start_[v] - eps) next = order[p];
          break;
        }
    v = next;
  }
  return chain;
}

}  // namespace diviml

// Memory-constrained mapping: feasibility check, m-ETF, m-TOPO, repair (memory.h).
#include "solvers/memory/memory.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>

#include <fmt/format.h>

#include "platform/units.h"
#include "schedule/simulator.h"
#include "schedule/timing.h"

namespace diviml {

namespace {

double out_bytes(const Graph& g, OpId v) {
  double b = 0;
  for (TensorId t : g.ops[v].outputs) b += g.tensors[t].bytes;
  return b;
}

/// Global order of the ops by simulated start (ties by topological rank).
std::vector<OpId> order_by_start(const Problem& pb, const LatencyResult& r) {
  std::vector<OpId> ord(pb.num_ops());
  std::iota(ord.begin(), ord.end(), 0);
  const auto& rank = pb.graph().topo_rank();
  std::sort(ord.begin(), ord.end(), [&](OpId a, OpId b) {
    if (r.start[a] != r.start[b]) return r.start[a] < r.start[b];
    return rank[a] < rank[b];
  });
  return ord;
}

Schedule finish_with_repair(const Problem& pb, Schedule s, const std::string& method) {
  s.method = method;
  try {
    s = repair_memory(pb, std::move(s));
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: no placement within device memory found ({})", method, e.what()));
  }
  s.method = method;
  s.status = SolveStatus::Heuristic;
  return s;
}

}  // namespace

double op_footprint_bytes(const Problem& pb, OpId v) {
  const Graph& g = pb.graph();
  double b = g.ops[v].weight_bytes;
  for (TensorId t : g.ops[v].inputs) b += g.tensors[t].bytes;
  for (TensorId t : g.ops[v].outputs) b += g.tensors[t].bytes;
  return b;
}

MemoryRequirement memory_requirement(const Problem& pb) {
  MemoryRequirement r;
  const int K = pb.num_devices();
  for (int k = 0; k < K; ++k) {
    r.total_usable_bytes += pb.memory_capacity(k);
  }
  std::vector<std::pair<double, OpId>> bad;
  for (OpId v = 0; v < pb.num_ops(); ++v) {
    r.total_weight_bytes += pb.weight_bytes(v);
    const double fp = op_footprint_bytes(pb, v);
    if (fp > r.max_op_bytes || r.largest_op == kNoOp) r.max_op_bytes = fp, r.largest_op = v;
    double best = 0;
    for (int k = 0; k < K; ++k)
      if (pb.can_run(v, k)) best = std::max(best, pb.memory_capacity(k));
    if (fp > best) bad.emplace_back(fp, v);
  }
  std::sort(bad.begin(), bad.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (auto& [fp, v] : bad) r.unplaceable_ops.push_back(v);
  return r;
}

void check_memory_feasible(const Problem& pb, const std::string& what) {
  const MemoryRequirement r = memory_requirement(pb);
  if (r.feasible()) return;
  const Graph& g = pb.graph();
  std::string msg = fmt::format("{}: the model does not fit: it needs {} of weights (plus activations) and the {} devices "
                                "of '{}' offer {} usable in all",
                                what, format_bytes(r.total_weight_bytes), pb.num_devices(), pb.platform().name,
                                format_bytes(r.total_usable_bytes));
  if (!r.unplaceable_ops.empty()) {
    const OpId v = r.unplaceable_ops.front();
    double cap = 0;
    std::string dev = "none";
    for (int k = 0; k < pb.num_devices(); ++k)
      if (pb.can_run(v, k) && pb.memory_capacity(k) >= cap) cap = pb.memory_capacity(k), dev = pb.platform().devices[k].name;
    msg += fmt::format("; largest op that fits on no device: '{}' needs {} (weights {} + activations {}), the largest "
                       "device that can run it ('{}') has {} usable",
                       g.ops[v].name, format_bytes(op_footprint_bytes(pb, v)), format_bytes(pb.weight_bytes(v)),
                       format_bytes(op_footprint_bytes(pb, v) - pb.weight_bytes(v)), dev, format_bytes(cap));
    if (r.unplaceable_ops.size() > 1) msg += fmt::format(" ({} ops fit nowhere)", r.unplaceable_ops.size());
  } else {
    msg += fmt::format("; largest single op: '{}' ({})", g.ops[r.largest_op].name, format_bytes(r.max_op_bytes));
  }
  throw InputError(msg);
}

Schedule metf_schedule(const Problem& pb) {
  check_memory_feasible(pb, "m-etf");
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  // Static level: mean runnable execution time plus the longest successor level.
  std::vector<double> level(n, 0);
  for (auto it = g.topo_order().rbegin(); it != g.topo_order().rend(); ++it) {
    const OpId v = *it;
    double sum = 0;
    int cnt = 0;
    for (int k = 0; k < K; ++k)
      if (pb.can_run(v, k)) sum += pb.exec(v, k), ++cnt;
    double succ = 0;
    for (OpId w : g.succ(v)) succ = std::max(succ, level[w]);
    level[v] = sum / std::max(1, cnt) + succ;
  }
  std::vector<double> cap(K), weights(K, 0), live(K, 0), dev_free(K, 0);
  for (int k = 0; k < K; ++k) cap[k] = pb.memory_capacity(k);
  // Activation copies resident per device; released when every consumer of the tensor has run.
  std::vector<std::vector<char>> resident(g.num_tensors(), std::vector<char>(K, 0));
  std::vector<int> unscheduled_consumers(g.num_tensors());
  for (TensorId t = 0; t < g.num_tensors(); ++t) unscheduled_consumers[t] = static_cast<int>(g.tensors[t].consumers.size());
  std::vector<int> dev(n, -1), waiting(n);
  std::vector<double> start(n, 0), finish(n, 0);
  std::vector<OpId> ready;
  for (OpId v = 0; v < n; ++v) {
    waiting[v] = static_cast<int>(g.pred(v).size());
    if (waiting[v] == 0) ready.push_back(v);
  }
  auto need_on = [&](OpId v, int k) {
    double need = pb.weight_bytes(v) + out_bytes(g, v);
    for (TensorId t : g.ops[v].inputs)
      if (!resident[t][k]) need += g.tensors[t].bytes;
    return need;
  };
  auto arrival = [&](OpId v, int k) { return timing::data_ready(pb, v, k, dev, finish); };
  for (int step = 0; step < n; ++step) {
    OpId bv = kNoOp;
    int bk = -1;
    double best = kInf, blevel = -kInf;
    bool bfits = false;
    for (OpId v : ready)
      for (int k = 0; k < K; ++k) {
        if (!pb.can_run(v, k)) continue;
        const bool fits = weights[k] + live[k] + need_on(v, k) <= cap[k];
        const double est = timing::op_start(dev_free[k], arrival(v, k));
        const double eft = est + pb.exec(v, k);
        // A fitting candidate always beats a non-fitting one (used only when nothing fits); then
        // the earliest finish (heterogeneous devices: the earliest start alone would keep every op
        // on the device holding its inputs), then the higher static level.
        const bool better = (fits && !bfits) ||
                            (fits == bfits && (eft < best - 1e-15 || (eft <= best + 1e-15 && level[v] > blevel)));
        if (bv == kNoOp || better) bv = v, bk = k, best = eft, blevel = level[v], bfits = fits;
      }
    if (!bfits) {
      // Nothing fits by the estimate: take the runnable device with the most free memory; the
      // repair step (exact simulated memory) decides.
      double freest = -kInf;
      for (int k = 0; k < K; ++k)
        if (pb.can_run(bv, k) && cap[k] - weights[k] - live[k] > freest) freest = cap[k] - weights[k] - live[k], bk = k;
    }
    const OpId v = bv;
    const int k = bk;
    dev[v] = k;
    start[v] = timing::op_start(dev_free[k], arrival(v, k));
    finish[v] = start[v] + pb.exec(v, k);
    dev_free[k] = finish[v];
    weights[k] += pb.weight_bytes(v);
    for (TensorId t : g.ops[v].inputs)
      if (!resident[t][k]) resident[t][k] = 1, live[k] += g.tensors[t].bytes;
    for (TensorId t : g.ops[v].outputs) resident[t][k] = 1, live[k] += g.tensors[t].bytes;
    for (TensorId t : g.ops[v].inputs)
      if (--unscheduled_consumers[t] == 0 && !g.tensors[t].is_graph_output)
        for (int l = 0; l < K; ++l)
          if (resident[t][l]) resident[t][l] = 0, live[l] -= g.tensors[t].bytes;
    ready.erase(std::find(ready.begin(), ready.end(), v));
    for (OpId w : g.succ(v))
      if (--waiting[w] == 0) ready.push_back(w);
  }
  // Each device runs its ops by start time (ties by topological rank), as the list scheduler did.
  std::vector<OpId> ord(n);
  std::iota(ord.begin(), ord.end(), 0);
  std::sort(ord.begin(), ord.end(), [&](OpId a, OpId b) {
    return start[a] != start[b] ? start[a] < start[b] : g.topo_rank()[a] < g.topo_rank()[b];
  });
  return finish_with_repair(pb, schedule_from_order(pb, dev, ord), "m-etf");
}

Schedule mtopo_schedule(const Problem& pb) {
  check_memory_feasible(pb, "m-topo");
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  // Devices by speed on the whole graph (ops a device cannot run count at the fastest time x 10).
  std::vector<double> total(K, 0);
  for (int k = 0; k < K; ++k)
    for (OpId v = 0; v < n; ++v) total[k] += pb.can_run(v, k) ? pb.exec(v, k) : 10 * pb.min_exec(v);
  std::vector<int> devs(K);
  std::iota(devs.begin(), devs.end(), 0);
  std::sort(devs.begin(), devs.end(), [&](int a, int b) { return total[a] < total[b]; });
  double speed_sum = 0;
  for (int k = 0; k < K; ++k) speed_sum += total[k] > 0 ? 1 / total[k] : 0;
  double work_all = 0;
  for (OpId v = 0; v < n; ++v) work_all += pb.min_exec(v);
  std::vector<double> weights(K, 0), work(K, 0);
  double max_act = 0;
  std::vector<int> dev(n, -1);
  size_t cur = 0;
  for (OpId v : g.topo_order()) {
    const double act = op_footprint_bytes(pb, v) - pb.weight_bytes(v);
    auto fits = [&](int k) {
      return pb.can_run(v, k) && weights[k] + pb.weight_bytes(v) + std::max(max_act, act) <= pb.memory_capacity(k);
    };
    // Advance to the next device once the current one holds its share of the work or is full.
    while (cur + 1 < devs.size()) {
      const int k = devs[cur];
      const double share = total[k] > 0 ? work_all * (1 / total[k]) / speed_sum : 0;
      if (fits(k) && work[k] + pb.min_exec(v) <= share * 1.0001 + 1e-15) break;
      if (fits(k) && work[k] == 0) break;
      ++cur;
    }
    int k = devs[cur];
    if (!fits(k)) {
      // Any device that fits (fastest first), else the runnable one with the most free memory.
      int alt = -1;
      for (int d : devs)
        if (fits(d)) { alt = d; break; }
      if (alt < 0) {
        double freest = -kInf;
        for (int d : devs)
          if (pb.can_run(v, d) && pb.memory_capacity(d) - weights[d] > freest) freest = pb.memory_capacity(d) - weights[d], alt = d;
      }
      k = alt;
    }
    dev[v] = k;
    weights[k] += pb.weight_bytes(v);
    work[k] += pb.exec(v, k);
    max_act = std::max(max_act, act);
  }
  return finish_with_repair(pb, schedule_from_order(pb, dev, g.topo_order()), "m-topo");
}

Schedule repair_memory(const Problem& pb, Schedule s) {
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  LatencyResult sim = simulate_latency(pb, s);
  if (sim.memory_violations.empty()) return s;
  const std::string method = s.method;
  int moves = 0;
  std::string moved;
  for (int guard = 0; guard < 4 * n + 16; ++guard) {
    // The most overloaded device.
    int over = -1;
    double worst = 0;
    for (int k = 0; k < K; ++k) {
      const double o = sim.memory[k].used() - sim.memory[k].capacity_bytes;
      if (o > worst * (1 + 1e-12) && o > 1e-12 * sim.memory[k].capacity_bytes) worst = o, over = k;
    }
    if (over < 0) break;
    // Candidates: the heaviest ops on it (weights + largest activation they hold).
    std::vector<std::pair<double, OpId>> cand;
    for (OpId v = 0; v < n; ++v)
      if (s.device[v] == over) cand.emplace_back(op_footprint_bytes(pb, v), v);
    std::sort(cand.begin(), cand.end(), [](auto& a, auto& b) { return a.first > b.first; });
    if (cand.size() > 24) cand.resize(24);
    const std::vector<OpId> ord = order_by_start(pb, sim);
    double best = kInf;
    OpId bv = kNoOp;
    int bk = -1;
    Schedule best_s;
    LatencyResult best_sim;
    for (auto& [fp, v] : cand)
      for (int l = 0; l < K; ++l) {
        if (l == over || !pb.can_run(v, l)) continue;
        if (sim.memory[l].headroom() < fp) continue;  // the op and its tensors must fit there
        std::vector<int> dev = s.device;
        dev[v] = l;
        Schedule t = schedule_from_order(pb, dev, ord);
        LatencyResult r = simulate_latency(pb, t);
        // Prefer moves that do not create a new violation, then the lowest latency.
        const double score = r.makespan + (r.memory[l].used() > r.memory[l].capacity_bytes ? 1e300 : 0);
        if (score < best) best = score, bv = v, bk = l, best_s = std::move(t), best_sim = std::move(r);
      }
    if (bv == kNoOp)
      throw InputError(fmt::format("device '{}' needs {} more memory than it has and none of its ops fits elsewhere",
                                   pb.platform().devices[over].name, format_bytes(worst)));
    ++moves;
    if (moves <= 8) moved += fmt::format("{}{}->{}", moved.empty() ? "" : ", ", g.ops[bv].name, pb.platform().devices[bk].name);
    s.device = best_s.device;
    s.order = best_s.order;
    sim = std::move(best_sim);
    if (sim.memory_violations.empty()) break;
  }
  if (!sim.memory_violations.empty()) throw InputError("memory repair did not converge: " + sim.memory_violations.front());
  s.start.clear();  // the solver's claimed times and optimality no longer hold
  s.claimed_makespan = std::numeric_limits<double>::quiet_NaN();
  if (s.status == SolveStatus::Optimal) s.status = SolveStatus::Feasible;
  s.method = method;
  s.notes += fmt::format("{}memory repair moved {} op(s): {}{}", s.notes.empty() ? "" : "; ", moves, moved,
                         moves > 8 ? ", ..." : "");
  return s;
}

}  // namespace diviml

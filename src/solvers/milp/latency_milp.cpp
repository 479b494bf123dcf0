// The latency MILP (DESIGN section 4 plus the exact strengthening documented in docs/milp.md).
#include "solvers/milp/latency_milp.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <queue>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "platform/units.h"
#include "schedule/simulator.h"
#include "schedule/timing.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/memory/feasible_baseline.h"
#include "solvers/milp/cbc_backend.h"
#include "solvers/milp/milp_settings.h"
#include "solvers/milp/model.h"

namespace diviml {

namespace {
// Size guards (the MILP needs ~19 kB per incomparable pair with names and CBC's copies; a
// 3000-op RandWire graph, 750k pairs, took 14 GB and its root LP ignored the time limit).
constexpr int kMaxMilpOps = 5000;
constexpr long long kMaxMilpPairs = 20000;
}  // namespace


namespace {

using milp::Term;

/// The subset instance: everything the model and the evaluator need, in seconds.
struct Instance {
  const Problem* pb = nullptr;
  int K = 0;
  std::vector<OpId> ops;                    // local index -> op (topological order)
  std::vector<int> local;                   // op -> local index, -1 outside
  std::vector<std::vector<int>> feas;       // per local op: devices allowed (can run, weight fits)
  std::vector<std::vector<double>> p;       // [i][k] exec (inf where not allowed)
  std::vector<std::vector<double>> rel;     // [i][k] release: inputs from I/O and fixed producers, device free
  std::vector<std::vector<double>> deliv;   // [i][k] delivery of graph outputs produced by i
  struct Edge {
    int u = 0, v = 0;
    std::vector<double> c;                  // K*K: max over the tensors u->v of comm
  };
  std::vector<Edge> edges;
  std::vector<std::vector<int>> in_edges;   // per local op: indices into edges
  std::vector<std::vector<int>> succ, pred; // local adjacency
  std::vector<double> cap;                  // remaining memory per device
  std::vector<double> weight;               // per local op
  std::vector<double> minp, head, tail_succ, tail;
  std::vector<double> ext_tail;             // per local op: lookahead through later ops (0: off)
  // Per device: least start of i when placed on k (headk) and least time from its completion on
  // k to the end (tailk); kInf where k is not allowed. docs/milp.md section 1.
  std::vector<std::vector<double>> headk, tailk;
  std::vector<std::vector<int>> sym_classes;  // device classes used for symmetry breaking
  // Interchangeable copies (Problem::interchangeable_copies) whose instance data is symmetric:
  // copies[c][i] = local index of op i of copy c; `key` = the i whose starts are ordered.
  struct CopySym {
    std::vector<std::vector<int>> copies;
    int key = 0;
  };
  std::vector<CopySym> copy_syms;
};

double edge_c(const Instance& in, const Instance::Edge& e, int k, int l) {
  return e.c[static_cast<size_t>(k) * in.K + l];
}

/// The problem's interchangeable copies that stay interchangeable in this instance: every op of
/// every copy in the subset, edges only inside a copy, and the same allowed devices, times,
/// releases, deliveries, lookahead tails, weights and transfer costs (a fixed context or a pin
/// can tell copies apart; such a group is left out). Swapping two such copies then maps every
/// feasible schedule of the instance to one with the same objective.
std::vector<Instance::CopySym> copy_symmetries(const Instance& in, const Problem& pb) {
  std::vector<Instance::CopySym> out;
  for (const CopyGroup& grp : pb.interchangeable_copies()) {
    if (grp.first.size() < 2 || grp.ops < 1) continue;
    Instance::CopySym cs;
    bool ok = true;
    std::vector<int> copy_of(in.ops.size(), -1), offset(in.ops.size(), -1);
    for (size_t c = 0; c < grp.first.size() && ok; ++c) {
      std::vector<int> loc(grp.ops);
      for (int i = 0; i < grp.ops && ok; ++i) {
        loc[i] = in.local[grp.first[c] + i];
        ok = loc[i] >= 0 && copy_of[loc[i]] < 0;
        if (ok) copy_of[loc[i]] = static_cast<int>(c), offset[loc[i]] = i;
      }
      cs.copies.push_back(std::move(loc));
    }
    for (size_t c = 1; c < cs.copies.size() && ok; ++c)
      for (int i = 0; i < grp.ops && ok; ++i) {
        const int a = cs.copies[0][i], b = cs.copies[c][i];
        ok = in.feas[a] == in.feas[b] && in.p[a] == in.p[b] && in.rel[a] == in.rel[b] && in.deliv[a] == in.deliv[b] &&
             in.ext_tail[a] == in.ext_tail[b] && in.weight[a] == in.weight[b] &&
             in.pred[a].size() == in.pred[b].size() && in.succ[a].size() == in.succ[b].size();
        for (size_t e = 0; e < in.in_edges[a].size() && ok; ++e) {
          // Edges stay inside the copy and map onto the other copy's, with the same costs.
          const auto& Ea = in.edges[in.in_edges[a][e]];
          if (copy_of[Ea.u] != 0) {
            ok = false;
            break;
          }
          const int ub = cs.copies[c][offset[Ea.u]];
          bool found = false;
          for (int f : in.in_edges[b]) found |= in.edges[f].u == ub && in.edges[f].c == Ea.c;
          ok = found;
        }
        for (int w : in.succ[a]) ok = ok && copy_of[w] == 0;
      }
    if (!ok) continue;
    // The copies' topologically first op (a source): its start is the key.
    for (int i = 1; i < grp.ops; ++i)
      if (cs.copies[0][i] < cs.copies[0][cs.key]) cs.key = i;
    out.push_back(std::move(cs));
  }
  return out;
}

/// Which key orders interchangeable copies: the device of their key op, or, where identical
/// devices are relabelled by first use (sym_classes), its start, which relabelling leaves as is
/// (a device key and relabelling could each undo the other's order). Measured on
/// BatchSplit.CopySymmetryKeepsTheOptimumWithNoMoreNodes: CBC nodes 66 with the device key, 2079
/// with the start key, 245 without rows.
bool by_device(const Instance& in) { return in.sym_classes.empty(); }

Instance build_instance(const Problem& pb, const LatencyMilpRequest& req) {
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  Instance in;
  in.pb = &pb;
  in.K = K;
  in.local.assign(n, -1);
  if (req.ops.empty()) {
    in.ops = g.topo_order();
  } else {
    in.ops = req.ops;
    for (OpId v : in.ops)
      if (v < 0 || v >= n) throw std::invalid_argument("solve_latency_milp: op index out of range");
    std::sort(in.ops.begin(), in.ops.end(), [&](OpId a, OpId b) { return g.topo_rank()[a] < g.topo_rank()[b]; });
    in.ops.erase(std::unique(in.ops.begin(), in.ops.end()), in.ops.end());
  }
  const int m = static_cast<int>(in.ops.size());
  if (m > kMaxMilpOps)
    throw InputError(fmt::format("the latency MILP over {} ops is too large for CBC (limit {} ops); use --method "
                                 "split, which solves it part by part",
                                 m, kMaxMilpOps));
  for (int i = 0; i < m; ++i) in.local[in.ops[i]] = i;
  const FixedContext* fx = req.fixed;
  if (fx && (static_cast<int>(fx->device.size()) != n || static_cast<int>(fx->finish.size()) != n))
    throw std::invalid_argument("solve_latency_milp: FixedContext sized for another graph");

  // Memory left per device after the fixed ops' weights.
  in.cap.assign(K, 0);
  for (int k = 0; k < K; ++k) in.cap[k] = pb.memory_capacity(k);
  if (fx)
    for (OpId v = 0; v < n; ++v)
      if (in.local[v] < 0 && fx->device[v] >= 0) in.cap[fx->device[v]] -= pb.weight_bytes(v);

  in.feas.assign(m, {});
  in.p.assign(m, std::vector<double>(K, kInf));
  in.rel.assign(m, std::vector<double>(K, 0.0));
  in.deliv.assign(m, std::vector<double>(K, 0.0));
  in.weight.assign(m, 0);
  in.succ.assign(m, {});
  in.pred.assign(m, {});
  in.in_edges.assign(m, {});
  std::map<std::pair<int, int>, int> edge_index;
  for (int i = 0; i < m; ++i) {
    const OpId v = in.ops[i];
    in.weight[i] = pb.weight_bytes(v);
    int pin = -1;
    for (const auto& [pv, pk] : req.pinned)
      if (pv == v) pin = pk;
    for (int k = 0; k < K; ++k)
      if (pb.can_run(v, k) && in.weight[i] <= in.cap[k] && (pin < 0 || k == pin)) {
        in.feas[i].push_back(k);
        in.p[i][k] = pb.exec(v, k);
      }
    if (in.feas[i].empty()) {
      std::string why;
      for (int k = 0; k < K; ++k) {
        if (!why.empty()) why += "; ";
        why += pb.platform().devices[k].name + ": ";
        if (!pb.can_run(v, k))
          why += "does not support op type '" + g.ops[v].type + "'";
        else
          why += fmt::format("{:.6g} bytes of memory left", in.cap[k]);
      }
      throw InputError(fmt::format("infeasible: op '{}' ({:.6g} weight bytes) can be placed on no device ({})",
                                   g.ops[v].name, in.weight[i], why));
    }
    if (fx)
      for (int k = 0; k < K && k < static_cast<int>(fx->device_free.size()); ++k)
        in.rel[i][k] = std::max(in.rel[i][k], fx->device_free[k]);
    for (TensorId t : g.ops[v].inputs) {
      const OpId u = g.tensors[t].producer;
      if (u == kNoOp) {
        for (int k = 0; k < K; ++k)
          in.rel[i][k] = std::max(in.rel[i][k], timing::input_arrival(pb, g.tensors[t].bytes, k) - req.graph_input_offset);
      } else if (in.local[u] >= 0) {
        const int j = in.local[u];
        auto [it, inserted] = edge_index.try_emplace({j, i}, static_cast<int>(in.edges.size()));
        if (inserted) {
          in.edges.push_back({j, i, std::vector<double>(static_cast<size_t>(K) * K, 0.0)});
          in.succ[j].push_back(i);
          in.pred[i].push_back(j);
          in.in_edges[i].push_back(it->second);
        }
        auto& c = in.edges[it->second].c;
        for (int k = 0; k < K; ++k)
          for (int l = 0; l < K; ++l) c[static_cast<size_t>(k) * K + l] = std::max(c[static_cast<size_t>(k) * K + l], pb.comm(t, k, l));
      } else if (fx && fx->device[u] >= 0) {
        const int ku = fx->device[u];
        for (int k = 0; k < K; ++k)
          in.rel[i][k] = std::max(in.rel[i][k], timing::transfer_finish(pb, g.tensors[t].bytes, ku, k, fx->finish[u]));
      } else {
        throw std::invalid_argument(fmt::format(
            "solve_latency_milp: op '{}' reads a tensor of op '{}', which is neither in the subset nor fixed",
            g.ops[v].name, g.ops[u].name));
      }
    }
    for (TensorId t : g.ops[v].outputs)
      if (g.tensors[t].is_graph_output && !req.ignore_graph_outputs)
        for (int k = 0; k < K; ++k) in.deliv[i][k] = std::max(in.deliv[i][k], pb.output_delivery(t, k));
  }

  // Heads (earliest start) and tails (least time from completion to the end), valid in every
  // feasible solution.
  in.minp.assign(m, kInf);
  in.head.assign(m, 0);
  in.tail_succ.assign(m, 0);
  in.tail.assign(m, 0);
  in.ext_tail.assign(m, 0);
  if (req.lookahead_tails && !req.ops.empty()) {
    // Bottom level at fastest times over the whole graph: a valid least time from an op's start
    // to the end, whatever the later parts decide.
    std::vector<double> bottom(n, 0);
    const auto& topo = g.topo_order();
    for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
      double b = 0;
      for (OpId w : g.succ(*it)) b = std::max(b, bottom[w]);
      bottom[*it] = pb.min_exec(*it) + b;
    }
    for (int i = 0; i < m; ++i) {
      for (OpId w : g.succ(in.ops[i]))
        if (in.local[w] < 0) in.ext_tail[i] = std::max(in.ext_tail[i], bottom[w]);
      in.tail_succ[i] = in.ext_tail[i];
    }
  }
  for (int i = 0; i < m; ++i) {
    double r = kInf;
    for (int k : in.feas[i]) {
      in.minp[i] = std::min(in.minp[i], in.p[i][k]);
      r = std::min(r, in.rel[i][k]);
    }
    in.head[i] = r;
    for (int j : in.pred[i]) in.head[i] = std::max(in.head[i], in.head[j] + in.minp[j]);
  }
  for (int i = m - 1; i >= 0; --i) {
    double d = kInf;
    for (int k : in.feas[i]) d = std::min(d, in.deliv[i][k]);
    for (int j : in.succ[i]) in.tail_succ[i] = std::max(in.tail_succ[i], in.minp[j] + in.tail[j]);
    in.tail[i] = std::max(d, in.tail_succ[i]);
  }
  // Device-aware heads and tails: the transfer from the producer's device is unavoidable.
  in.headk.assign(m, std::vector<double>(K, kInf));
  in.tailk.assign(m, std::vector<double>(K, kInf));
  for (int i = 0; i < m; ++i)
    for (int k : in.feas[i]) {
      double h = in.rel[i][k];
      for (int e : in.in_edges[i]) {
        const auto& E = in.edges[e];
        double best = kInf;
        for (int l : in.feas[E.u]) best = std::min(best, in.headk[E.u][l] + in.p[E.u][l] + edge_c(in, E, l, k));
        h = std::max(h, best);
      }
      in.headk[i][k] = h;
    }
  {
    std::vector<std::vector<int>> out_edges(m);
    for (int e = 0; e < static_cast<int>(in.edges.size()); ++e) out_edges[in.edges[e].u].push_back(e);
    for (int i = m - 1; i >= 0; --i)
      for (int k : in.feas[i]) {
        double t = std::max(in.deliv[i][k], in.ext_tail[i]);
        for (int e : out_edges[i]) {
          const auto& E = in.edges[e];
          double best = kInf;
          for (int l : in.feas[E.v]) best = std::min(best, edge_c(in, E, k, l) + in.p[E.v][l] + in.tailk[E.v][l]);
          t = std::max(t, best);
        }
        in.tailk[i][k] = t;
      }
  }
  for (int i = 0; i < m; ++i) {
    double hmin = kInf, tmin = kInf;
    for (int k : in.feas[i]) {
      hmin = std::min(hmin, in.headk[i][k]);
      tmin = std::min(tmin, in.tailk[i][k]);
    }
    in.head[i] = std::max(in.head[i], hmin);
    in.tail[i] = std::max(in.tail[i], tmin);
  }

  // Symmetry classes: identical devices that the context does not tell apart.
  const int io = pb.io_device();
  for (const auto& cls0 : pb.identical_device_classes()) {
    std::vector<int> cls;
    for (int k : cls0)
      if (k != io) cls.push_back(k);
    if (cls.size() < 2) continue;
    bool ok = true;
    for (size_t a = 0; a < cls.size() && ok; ++a)
      for (size_t b = 0; b < cls.size() && ok; ++b) {
        const int ka = cls[a], kb = cls[b];
        if (in.cap[ka] != in.cap[kb]) ok = false;
        for (double bytes : {0.0, 1.0, 1e6})
          if (pb.comm_bytes(bytes, ka, kb) != pb.comm_bytes(bytes, kb, ka)) ok = false;
        for (int i = 0; i < m && ok; ++i)
          if (in.rel[i][ka] != in.rel[i][kb] || in.p[i][ka] != in.p[i][kb]) ok = false;
      }
    if (ok) in.sym_classes.push_back(cls);
  }
  in.copy_syms = copy_symmetries(in, pb);
  return in;
}

/// As-soon-as-possible times for a placement and a global order (a linear extension of the
/// subset's precedence): each device runs its ops in that order. Returns the objective.
/// The rules are the timing core's (schedule/timing.h) applied to the instance's precomputed
/// costs (release rel, per-edge comm, delivery), which the MILP rows use too: mapping the subset
/// back into AsapTimer for every candidate would cost a copy per evaluation. tests/test_timing.cpp
/// checks the results against the simulator.
double evaluate(const Instance& in, const std::vector<int>& dev, const std::vector<int>& order,
                std::vector<double>* start_out = nullptr) {
  const int m = static_cast<int>(in.ops.size());
  std::vector<double> avail(in.K, 0.0), C(m, 0.0), S(m, 0.0);
  double obj = 0;
  for (int i : order) {
    const int k = dev[i];
    double ready = in.rel[i][k];  // graph inputs, fixed producers, the context's device free time
    for (int e : in.in_edges[i]) {
      const auto& E = in.edges[e];
      ready = std::max(ready, timing::after_transfer(C[E.u], edge_c(in, E, dev[E.u], k)));
    }
    S[i] = timing::op_start(avail[k], ready);
    C[i] = S[i] + in.p[i][k];
    avail[k] = C[i];
    // Completion: the delivery of i's graph outputs (deliv, the largest output_delivered - C), or
    // the lookahead through later parts when that is longer.
    obj = std::max(obj, C[i] + std::max(in.deliv[i][k], in.ext_tail[i]));
  }
  if (start_out) *start_out = S;
  return obj;
}

/// Sequencing key of op i run on k from `start`: the midpoint of its run. Two runs on one device
/// in a feasible schedule have ordered midpoints, but they can share a start (a zero-duration op,
/// for example a profiled Pad of 0 s, and the op after it), and a start-time key then lets the
/// topological tie-break put the long op first: the order read back from the solver's solution
/// delayed the zero-duration op's consumers past the solver's makespan T (a "model bug" error).
double run_midpoint(const Instance& in, int i, int k, double start) { return start + 0.5 * in.p[i][k]; }

/// A linear extension of the subset's precedence that follows `key` (smallest first) wherever
/// the precedence allows; ties by topological position.
std::vector<int> order_by_key(const Instance& in, const std::vector<double>& key) {
  const int m = static_cast<int>(in.ops.size());
  std::vector<int> indeg(m, 0), order;
  for (int i = 0; i < m; ++i) indeg[i] = static_cast<int>(in.pred[i].size());
  using Item = std::pair<double, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> q;
  for (int i = 0; i < m; ++i)
    if (indeg[i] == 0) q.emplace(key[i], i);
  while (!q.empty()) {
    const int i = q.top().second;
    q.pop();
    order.push_back(i);
    for (int j : in.succ[i])
      if (--indeg[j] == 0) q.emplace(key[j], j);
  }
  return order;
}

bool memory_ok(const Instance& in, const std::vector<int>& dev) {
  std::vector<double> used(in.K, 0.0);
  for (size_t i = 0; i < dev.size(); ++i) used[dev[i]] += in.weight[i];
  for (int k = 0; k < in.K; ++k)
    if (used[k] > in.cap[k]) return false;
  return true;
}

bool placement_ok(const Instance& in, const std::vector<int>& dev) {
  for (size_t i = 0; i < dev.size(); ++i)
    if (dev[i] < 0 || dev[i] >= in.K || !std::isfinite(in.p[i][dev[i]])) return false;
  return memory_ok(in, dev);
}

/// Relabels identical devices by order of first use (the symmetry-breaking rows require it).
void canonical_labels(const Instance& in, std::vector<int>& dev) {
  for (const auto& cls : in.sym_classes) {
    std::vector<int> map(in.K, -1);
    size_t next = 0;
    for (size_t i = 0; i < dev.size(); ++i) {
      const int k = dev[i];
      if (std::find(cls.begin(), cls.end(), k) == cls.end()) continue;
      if (map[k] < 0) map[k] = cls[next++];
    }
    for (int k : cls)
      if (map[k] < 0) map[k] = cls[next++];
    for (int& k : dev)
      if (map[k] >= 0) k = map[k];
  }
}

/// Greedy earliest-finish list schedule (append at the end of a device), memory-aware.
bool greedy_schedule(const Instance& in, std::vector<int>& dev, std::vector<int>& order) {
  const int m = static_cast<int>(in.ops.size());
  // Priority: upward rank with fastest times.
  std::vector<double> rank(m, 0.0);
  for (int i = m - 1; i >= 0; --i) rank[i] = in.minp[i] + in.tail[i];
  std::vector<double> key(m);
  for (int i = 0; i < m; ++i) key[i] = -rank[i];
  order = order_by_key(in, key);
  dev.assign(m, -1);
  std::vector<double> avail(in.K, 0.0), C(m, 0.0), used(in.K, 0.0);
  for (int i : order) {
    double best = kInf;
    int bk = -1;
    for (int k : in.feas[i]) {
      if (used[k] + in.weight[i] > in.cap[k]) continue;
      double st = std::max(avail[k], in.rel[i][k]);
      for (int e : in.in_edges[i]) {
        const auto& E = in.edges[e];
        st = std::max(st, C[E.u] + edge_c(in, E, dev[E.u], k));
      }
      const double f = st + in.p[i][k] + in.deliv[i][k];
      if (f < best) {
        best = f;
        bk = k;
      }
    }
    if (bk < 0) return false;
    dev[i] = bk;
    used[bk] += in.weight[i];
    double st = std::max(avail[bk], in.rel[i][bk]);
    for (int e : in.in_edges[i]) {
      const auto& E = in.edges[e];
      st = std::max(st, C[E.u] + edge_c(in, E, dev[E.u], bk));
    }
    C[i] = st + in.p[i][bk];
    avail[bk] = C[i];
  }
  return true;
}

struct Candidate {
  std::vector<int> dev, order;
  std::vector<double> start;
  double obj = kInf;
};

/// Indices of the model's variables.
struct ModelMap {
  std::vector<std::vector<int>> x;  // [i][k], -1 where absent
  std::vector<int> S;
  int T = -1;
  std::vector<std::pair<std::pair<int, int>, int>> o;  // ((i, j), var): 1 when i precedes j
  double unit = 1;  // seconds per model time unit
  double H = 0;     // horizon in model units
  double warm_bound_violation = 0;  // how far the warm start's times lie outside S's and T's bounds
};

double pick_unit(double H) {
  if (!(H > 0) || !std::isfinite(H)) return 1;
  return std::pow(10.0, std::floor(std::log10(H)) - 2);
}

/// Builds the model. `warm` must be a feasible candidate (its objective is the horizon).
milp::Model build_model(const Instance& in, const Candidate& warm, ModelMap& mm, bool whole) {
  const Problem& pb = *in.pb;
  const Graph& g = pb.graph();
  const int m = static_cast<int>(in.ops.size()), K = in.K;
  const double unit = pick_unit(warm.obj);
  mm.unit = unit;
  const double H = warm.obj / unit * (1 + 1e-9) + 1e-9;
  mm.H = H;
  auto sc = [&](double s) { return s / unit; };
  const auto& names = g.ops;
  auto dname = [&](int k) { return pb.platform().devices[k].name; };

  milp::Model M;
  M.name = g.name.empty() ? "diviml_latency" : "diviml_latency_" + g.name;
  M.comments.push_back("diviml latency MILP (docs/milp.md); objective T = makespan");
  M.comments.push_back(fmt::format("time unit (s): {:.17g}", unit));
  M.comments.push_back(fmt::format("horizon H (units): {:.17g} from a feasible warm start", H));
  M.comments.push_back(fmt::format("ops: {}  devices: {}  subset: {}", m, K, whole ? "no" : "yes"));

  // ---- variables ----
  mm.x.assign(m, std::vector<int>(K, -1));
  for (int i = 0; i < m; ++i)
    for (int k : in.feas[i]) {
      const int var = M.add_binary("x_" + names[in.ops[i]].name + "_" + dname(k));
      mm.x[i][k] = var;
      M.vars[var].priority = 1;  // branch on placements before orders
      if (in.feas[i].size() == 1) M.vars[var].lb = 1;
    }
  mm.S.assign(m, -1);
  for (int i = 0; i < m; ++i) {
    const double lb = sc(in.head[i]);
    double pt = kInf;  // least time from the start of i to the end
    for (int k : in.feas[i]) pt = std::min(pt, in.p[i][k] + in.tailk[i][k]);
    const double ub = std::max(lb, H - sc(pt));
    mm.S[i] = M.add_var("S_" + names[in.ops[i]].name, lb, ub, false);
  }
  double lb_T = 0;
  for (int i = 0; i < m; ++i) {
    double best = kInf;
    for (int k : in.feas[i]) best = std::min(best, in.headk[i][k] + in.p[i][k] + in.tailk[i][k]);
    lb_T = std::max(lb_T, sc(best));
  }
  mm.T = M.add_var("T", std::min(lb_T, H), H, false, 1.0);

  // C_i terms: S_i + sum_k p_ik x_ik
  auto completion = [&](int i, double sign, std::vector<Term>& t, const std::vector<double>* extra = nullptr) {
    t.push_back({mm.S[i], sign});
    for (int k : in.feas[i]) t.push_back({mm.x[i][k], sign * (sc(in.p[i][k]) + (extra ? (*extra)[k] : 0.0))});
  };

  // ---- 1. assignment ----
  for (int i = 0; i < m; ++i) {
    std::vector<Term> t;
    for (int k : in.feas[i]) t.push_back({mm.x[i][k], 1});
    M.add_eq("assign_" + names[in.ops[i]].name, t, 1);
  }

  // ---- 2. precedence with transfers ----
  for (const auto& E : in.edges) {
    const int u = E.u, v = E.v;
    const std::string en = names[in.ops[u]].name + "_" + names[in.ops[v]].name;
    std::vector<Term> base{{mm.S[v], 1}};
    completion(u, -1, base);
    M.add_ge("prec_" + en, base, 0);
    // Transfer costs between the allowed device pairs.
    double cmin = kInf, cmax = 0;
    for (int k : in.feas[u])
      for (int l : in.feas[v])
        if (k != l) {
          cmin = std::min(cmin, edge_c(in, E, k, l));
          cmax = std::max(cmax, edge_c(in, E, k, l));
        }
    if (!(cmax > 0)) continue;
    if (cmax == cmin) {
      // One cost c for every pair: S_v >= C_u + c (x_uk - x_vk) for every device k.
      const double c = sc(cmax);
      std::vector<int> devs = in.feas[u];
      for (int l : in.feas[v])
        if (std::find(devs.begin(), devs.end(), l) == devs.end()) devs.push_back(l);
      for (int k : devs) {
        std::vector<Term> t = base;
        const bool on_u = mm.x[u][k] >= 0;
        const double sgn = on_u ? 1.0 : -1.0;  // k only allowed for v: S_v >= C_u + c x_vk
        if (mm.x[u][k] >= 0) t.push_back({mm.x[u][k], -c * sgn});
        if (mm.x[v][k] >= 0) t.push_back({mm.x[v][k], c * sgn});
        M.add_ge(fmt::format("comm_{}_{}", en, dname(k)), t, 0);
      }
    } else {
      // Different costs: the 3-row form with, for row k, the least cost of leaving or entering k
      // (a_k = min_{l != k} c_kl when u may run on k, else min_{j != k} c_jk), then the pairwise
      // rows for the exact costs.
      {
        std::vector<int> devs = in.feas[u];
        for (int l : in.feas[v])
          if (std::find(devs.begin(), devs.end(), l) == devs.end()) devs.push_back(l);
        for (int k : devs) {
          const bool on_u = mm.x[u][k] >= 0;
          double a = kInf;
          if (on_u) {
            for (int l : in.feas[v])
              if (l != k) a = std::min(a, edge_c(in, E, k, l));
          } else {
            for (int j : in.feas[u])
              if (j != k) a = std::min(a, edge_c(in, E, j, k));
          }
          if (!std::isfinite(a) || !(a > 0)) continue;
          const double c = sc(a);
          std::vector<Term> t = base;
          const double sgn = on_u ? 1.0 : -1.0;
          if (mm.x[u][k] >= 0) t.push_back({mm.x[u][k], -c * sgn});
          if (mm.x[v][k] >= 0) t.push_back({mm.x[v][k], c * sgn});
          M.add_ge(fmt::format("commmin_{}_{}", en, dname(k)), t, 0);
        }
      }
      // S_v >= C_u + c_kl (x_uk + x_vl - 1) for every pair k != l with c_kl > 0.
      for (int k : in.feas[u])
        for (int l : in.feas[v]) {
          if (k == l) continue;
          const double c = sc(edge_c(in, E, k, l));
          if (!(c > 0)) continue;
          std::vector<Term> t = base;
          t.push_back({mm.x[u][k], -c});
          t.push_back({mm.x[v][l], -c});
          M.add_ge(fmt::format("comm_{}_{}_{}", en, dname(k), dname(l)), t, -c);
        }
    }
  }

  // ---- 3. no overlap for incomparable pairs sharing a device ----
  {
    const Reachability reach(g);
    long long pairs = 0;
    for (int i = 0; i < m; ++i)
      for (int j = i + 1; j < m; ++j) pairs += reach.comparable(in.ops[i], in.ops[j]) ? 0 : 1;
    if (pairs > kMaxMilpPairs)
      throw InputError(fmt::format(
          "the latency MILP over {} ops would have {} incomparable op pairs (limit {}), each a binary with up to {} "
          "rows: too large for CBC to make progress; use --method split, which solves it part by part",
          m, pairs, kMaxMilpPairs, 2 * in.K));
    for (int i = 0; i < m; ++i)
      for (int j = i + 1; j < m; ++j) {
        const OpId a = in.ops[i], b = in.ops[j];
        if (reach.comparable(a, b)) continue;
        std::vector<int> common;
        for (int k : in.feas[i])
          if (mm.x[j][k] >= 0) common.push_back(k);
        if (common.empty()) continue;
        const std::string pn = names[a].name + "_" + names[b].name;
        const int o = M.add_binary("o_" + pn);
        M.vars[o].priority = 10;
        mm.o.push_back({{i, j}, o});
        const double ub_Si = M.vars[mm.S[i]].ub, ub_Sj = M.vars[mm.S[j]].ub;
        const double lb_Si = M.vars[mm.S[i]].lb, lb_Sj = M.vars[mm.S[j]].lb;
        for (int k : common) {
          // i before j on k (o = 1): S_j >= S_i + p_ik - M1 (3 - x_ik - x_jk - o)
          const double pik = sc(in.p[i][k]), pjk = sc(in.p[j][k]);
          const double M1 = std::max(0.0, ub_Si + pik - lb_Sj);
          M.add_ge(fmt::format("seq_{}_{}_a", pn, dname(k)),
                   {{mm.S[j], 1}, {mm.S[i], -1}, {mm.x[i][k], -M1}, {mm.x[j][k], -M1}, {o, -M1}}, pik - 3 * M1);
          // j before i on k (o = 0): S_i >= S_j + p_jk - M2 (2 - x_ik - x_jk + o)
          const double M2 = std::max(0.0, ub_Sj + pjk - lb_Si);
          M.add_ge(fmt::format("seq_{}_{}_b", pn, dname(k)),
                   {{mm.S[i], 1}, {mm.S[j], -1}, {mm.x[i][k], -M2}, {mm.x[j][k], -M2}, {o, M2}}, pjk - 2 * M2);
        }
      }
  }

  // ---- 4. releases (graph inputs from the I/O device, fixed producers, device free), and the
  // device-aware heads that include them: S_i >= sum_k headk_ik x_ik ----
  for (int i = 0; i < m; ++i) {
    double rmin = kInf, rmax = 0;
    for (int k : in.feas[i]) {
      rmin = std::min(rmin, in.headk[i][k]);
      rmax = std::max(rmax, in.headk[i][k]);
    }
    if (!(rmax > rmin)) continue;  // the bound S_i >= head_i covers it
    std::vector<Term> t{{mm.S[i], 1}};
    for (int k : in.feas[i]) t.push_back({mm.x[i][k], -sc(in.headk[i][k])});
    M.add_ge("release_" + names[in.ops[i]].name, t, 0);
  }

  // ---- 4'/6. makespan: T >= C_i + max(delivery of i's outputs, tail of its successors) ----
  for (int i = 0; i < m; ++i) {
    std::vector<double> extra(K, 0.0);
    for (int k : in.feas[i]) extra[k] = sc(in.tailk[i][k]);
    std::vector<Term> t{{mm.T, 1}};
    completion(i, -1, t, &extra);
    M.add_ge("end_" + names[in.ops[i]].name, t, 0);
  }

  // ---- 5. memory ----
  for (int k = 0; k < K; ++k) {
    if (!std::isfinite(in.cap[k])) continue;
    std::vector<Term> t;
    double total = 0;
    for (int i = 0; i < m; ++i)
      if (mm.x[i][k] >= 0 && in.weight[i] > 0) {
        t.push_back({mm.x[i][k], in.weight[i]});
        total += in.weight[i];
      }
    if (total > in.cap[k]) M.add_le("memory_" + dname(k), t, in.cap[k]);
  }

  // ---- strengthening: per-device load ----
  {
    double hmin = kInf, tmin = kInf;
    for (int i = 0; i < m; ++i) {
      hmin = std::min(hmin, in.head[i]);
      tmin = std::min(tmin, in.tail[i]);
    }
    for (int k = 0; k < K; ++k) {
      std::vector<Term> t{{mm.T, 1}};
      int cnt = 0;
      double hk = kInf, tk = kInf;  // over the ops allowed on k
      for (int i = 0; i < m; ++i)
        if (mm.x[i][k] >= 0) {
          t.push_back({mm.x[i][k], -sc(in.p[i][k])});
          hk = std::min(hk, in.headk[i][k]);
          tk = std::min(tk, in.tailk[i][k]);
          ++cnt;
        }
      // With no op on k the row must still hold: T >= lb(T) >= min(lb(T), hk + tk).
      const double rhs = std::max(sc(hmin + tmin), std::min(sc(hk + tk), M.vars[mm.T].lb));
      if (cnt > 0) M.add_ge("load_" + dname(k), t, rhs);
    }
  }

  // ---- strengthening: head/tail one-machine bounds per device ----
  // J = the ops j allowed on k with headk_jk >= h: those placed on k start after h and run one at
  // a time, and the last still needs its tail: T >= h + sum_{j in J} p_jk x_jk + min_J tailk_jk.
  // Symmetrically with tails. With no op of J on k, T >= max_{j in J} lb_j (j's own bound), so
  // the constant is min(h + min tail, max_J lb_j).
  // Measured (docs/milp.md section 12): root bound +1-3%, fewer nodes but 2-4x slower nodes;
  // proofs faster on some stages, slower on others. Off by default, option milp.ht_rows adds them.
  const bool ht_rows = milp::current_settings().ht_rows;
  std::vector<double> own_lb(m, 0);
  for (int i = 0; i < m; ++i) {
    own_lb[i] = kInf;
    for (int k : in.feas[i]) own_lb[i] = std::min(own_lb[i], in.headk[i][k] + in.p[i][k] + in.tailk[i][k]);
  }
  for (int side = 0; side < (ht_rows ? 2 : 0); ++side)
    for (int k = 0; k < K; ++k) {
      const auto& key = side == 0 ? in.headk : in.tailk;
      const auto& other = side == 0 ? in.tailk : in.headk;
      std::vector<double> thresholds;
      for (int i = 0; i < m; ++i)
        if (mm.x[i][k] >= 0) thresholds.push_back(key[i][k]);
      std::sort(thresholds.begin(), thresholds.end());
      thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
      for (size_t q = 1; q < thresholds.size(); ++q) {  // q = 0 is the plain load row
        const double h = thresholds[q];
        double omin = kInf, jlb = 0;
        std::vector<Term> t{{mm.T, 1}};
        for (int i = 0; i < m; ++i)
          if (mm.x[i][k] >= 0 && key[i][k] >= h) {
            omin = std::min(omin, other[i][k]);
            jlb = std::max(jlb, own_lb[i]);
            t.push_back({mm.x[i][k], -sc(in.p[i][k])});
          }
        M.add_ge(fmt::format("{}_{}_{}", side == 0 ? "headload" : "tailload", dname(k), q), t,
                 sc(std::min(h + omin, jlb)));
      }
    }

  // ---- symmetry breaking between identical devices ----
  for (const auto& cls : in.sym_classes) {
    std::vector<int> L;
    for (int i = 0; i < m; ++i)
      if (mm.x[i][cls[0]] >= 0) L.push_back(i);
    for (size_t q = 1; q < cls.size(); ++q) {
      // Device cls[q] may run the a-th op of L only if cls[q-1] runs one of the earlier ops.
      for (size_t a = 0; a < L.size(); ++a) {
        const int xv = mm.x[L[a]][cls[q]];
        if (a == 0) {
          M.vars[xv].ub = 0;
          continue;
        }
        std::vector<Term> t{{xv, 1}};
        for (size_t b = 0; b < a; ++b) t.push_back({mm.x[L[b]][cls[q - 1]], -1});
        M.add_le(fmt::format("sym_{}_{}", dname(cls[q]), names[in.ops[L[a]]].name), t, 0);
      }
    }
  }

  // ---- symmetry breaking between interchangeable copies (equal-size micro-batches) ----
  // Sorting the copies of a group by a key of their key op maps any schedule to one with the same
  // objective (canonical_copies), so key(copy q) <= key(copy q+1) keeps an optimum. Key: the
  // device index, dev(q) <= dev(q+1) as one row per threshold t (copy q on a device >= t only if
  // copy q+1 is too). With identical devices, the start S(q) <= S(q+1) instead: relabelling
  // identical devices (above) keeps every start, so a schedule is brought to satisfy both
  // families by sorting the copies, then relabelling the devices.
  for (const auto& cs : in.copy_syms)
    for (size_t q = 0; q + 1 < cs.copies.size(); ++q) {
      const int a = cs.copies[q][cs.key], b = cs.copies[q + 1][cs.key];
      if (by_device(in)) {
        const auto& F = in.feas[a];
        for (size_t t = 1; t < F.size(); ++t) {
          std::vector<Term> row;
          for (size_t u = t; u < F.size(); ++u) row.push_back({mm.x[a][F[u]], 1}), row.push_back({mm.x[b][F[u]], -1});
          M.add_le(fmt::format("copysym_{}_{}_{}", names[in.ops[a]].name, names[in.ops[b]].name, t), row, 0);
        }
        continue;
      }
      M.add_le(fmt::format("copysym_{}_{}", names[in.ops[a]].name, names[in.ops[b]].name), {{mm.S[a], 1}, {mm.S[b], -1}},
               0);
    }

  // ---- the warm start as the initial solution ----
  if (warm.dev.empty()) return M;  // no feasible schedule known: H is a generic horizon
  M.initial.assign(M.num_vars(), 0.0);
  for (int i = 0; i < m; ++i) {
    M.initial[mm.x[i][warm.dev[i]]] = 1;
    const double st = sc(warm.start[i]);
    mm.warm_bound_violation = std::max({mm.warm_bound_violation, M.vars[mm.S[i]].lb - st, st - M.vars[mm.S[i]].ub});
    M.initial[mm.S[i]] = std::clamp(st, M.vars[mm.S[i]].lb, M.vars[mm.S[i]].ub);
  }
  mm.warm_bound_violation = std::max(mm.warm_bound_violation, M.vars[mm.T].lb - sc(warm.obj));
  M.initial[mm.T] = std::clamp(sc(warm.obj), M.vars[mm.T].lb, H);
  {
    std::vector<int> pos(m);
    for (int r = 0; r < m; ++r) pos[warm.order[r]] = r;
    for (const auto& [ij, var] : mm.o) M.initial[var] = pos[ij.first] < pos[ij.second] ? 1 : 0;
  }
  return M;
}

int m_ops(const Instance& in) { return static_cast<int>(in.ops.size()); }

/// Renumbers interchangeable copies by the key of their key op, device or start (by_device; the
/// copy-symmetry rows require it): a swap of whole copies, applied to the placement and the order, so the schedule's
/// objective is unchanged.
void canonical_copies(const Instance& in, std::vector<int>& dev, std::vector<int>& order) {
  if (in.copy_syms.empty()) return;
  std::vector<double> S;
  evaluate(in, dev, order, &S);
  const int m = m_ops(in);
  std::vector<int> to(m);  // op i of the schedule becomes op to[i]
  std::iota(to.begin(), to.end(), 0);
  for (const auto& cs : in.copy_syms) {
    std::vector<int> idx(cs.copies.size());
    std::iota(idx.begin(), idx.end(), 0);
    const std::vector<double> key_dev(dev.begin(), dev.end());
    const std::vector<double>& key = by_device(in) ? key_dev : S;
    std::stable_sort(idx.begin(), idx.end(),
                     [&](int a, int b) { return key[cs.copies[a][cs.key]] < key[cs.copies[b][cs.key]]; });
    for (size_t q = 0; q < idx.size(); ++q)
      for (size_t i = 0; i < cs.copies[q].size(); ++i) to[cs.copies[idx[q]][i]] = cs.copies[q][i];
  }
  std::vector<int> moved(m);
  for (int i = 0; i < m; ++i) moved[to[i]] = dev[i];
  dev = std::move(moved);
  for (int& i : order) i = to[i];
}

Candidate make_candidate(const Instance& in, std::vector<int> dev, std::vector<int> order) {
  Candidate c;
  // Copies first (by start times), then device labels (which leave the times as they are), so
  // both families of symmetry-breaking rows hold at once.
  canonical_copies(in, dev, order);
  canonical_labels(in, dev);
  c.dev = std::move(dev);
  c.order = std::move(order);
  c.obj = evaluate(in, c.dev, c.order, &c.start);
  return c;
}

/// Candidate from per-op device/start arrays of the whole graph (entries of the subset used).
bool candidate_from_arrays(const Instance& in, const std::vector<int>& device, const std::vector<double>& start,
                           Candidate& out) {
  const int m = static_cast<int>(in.ops.size());
  if (device.size() != static_cast<size_t>(in.pb->num_ops())) return false;
  std::vector<int> dev(m);
  for (int i = 0; i < m; ++i) dev[i] = device[in.ops[i]];
  if (!placement_ok(in, dev)) return false;
  std::vector<double> key(m, 0.0);
  for (int i = 0; i < m; ++i) key[i] = start.size() == device.size() ? run_midpoint(in, i, dev[i], start[in.ops[i]]) : i;
  out = make_candidate(in, dev, order_by_key(in, key));
  return std::isfinite(out.obj);
}

struct Built {
  Instance in;
  Candidate warm;
  milp::Model model;
  ModelMap mm;
};

Built build_all(const Problem& pb, const LatencyMilpRequest& req) {
  Built b;
  b.in = build_instance(pb, req);
  const Instance& in = b.in;
  // Warm start: the request's, and a greedy one; the better feasible one.
  Candidate best;
  Candidate c;
  if (candidate_from_arrays(in, req.warm_device, req.warm_start, c) && c.obj < best.obj) best = c;
  std::vector<int> dev, order;
  if (greedy_schedule(in, dev, order)) {
    c = make_candidate(in, dev, order);
    if (c.obj < best.obj) best = c;
  }
  if (!std::isfinite(best.obj)) {
    // The greedy schedule ran out of memory: try a best-fit-decreasing packing of the weights.
    const int m = static_cast<int>(in.ops.size());
    std::vector<int> idx(m);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int c) { return in.weight[a] > in.weight[c]; });
    std::vector<double> left = in.cap;
    std::vector<int> pdev(m, -1);
    bool ok = true;
    for (int i : idx) {
      int bk = -1;
      for (int k : in.feas[i])
        if (in.weight[i] <= left[k] && (bk < 0 || left[k] < left[bk])) bk = k;
      if (bk < 0) {
        ok = false;
        break;
      }
      pdev[i] = bk;
      left[bk] -= in.weight[i];
    }
    if (ok) {
      std::vector<int> topo(m);
      std::iota(topo.begin(), topo.end(), 0);
      c = make_candidate(in, pdev, topo);
      if (c.obj < best.obj) best = c;
    }
  }
  if (!std::isfinite(best.obj)) {
    double total = 0, cap_total = 0;
    for (double w : in.weight) total += w;
    std::string caps;
    for (int k = 0; k < in.K; ++k) {
      caps += fmt::format("{}{}: {:.6g}", k ? ", " : "", pb.platform().devices[k].name, in.cap[k]);
      cap_total += in.cap[k];
    }
    if (total > cap_total)
      throw InputError(fmt::format(
          "infeasible: the weights ({:.6g} bytes in total) exceed the memory of all devices together ({})", total,
          caps));
    // Not proven infeasible: solve without a warm start, with a horizon valid for every schedule
    // (the as-soon-as-possible makespan of any placement and order is at most the sum of every
    // op's slowest time, every edge's largest transfer, the largest release and delivery).
    double H = 0, rmax = 0, dmax = 0;
    for (int i = 0; i < m_ops(in); ++i) {
      double pmax = 0;
      for (int k : in.feas[i]) {
        pmax = std::max(pmax, in.p[i][k]);
        rmax = std::max(rmax, in.rel[i][k]);
        dmax = std::max(dmax, in.deliv[i][k]);
      }
      H += pmax;
    }
    for (const auto& E : in.edges) H += *std::max_element(E.c.begin(), E.c.end());
    best.obj = H + rmax + dmax;
    best.dev.clear();
  }
  b.warm = best;
  b.model = build_model(in, b.warm, b.mm, req.ops.empty() || static_cast<int>(req.ops.size()) == pb.num_ops());
  return b;
}

}  // namespace

LatencyMilpResult solve_latency_milp(const Problem& pb, const LatencyMilpRequest& req, const SolveOptions& opt) {
  if (!(opt.time_limit_s > 0)) throw InputError(fmt::format("the time limit must be positive (got {})", opt.time_limit_s));
  const int n = pb.num_ops();
  LatencyMilpResult res;
  res.device.assign(n, -1);
  res.start.assign(n, 0.0);
  Built b = build_all(pb, req);
  const Instance& in = b.in;
  const int m = static_cast<int>(in.ops.size());
  res.num_variables = b.model.num_vars();
  res.num_constraints = b.model.num_rows();
  if (!b.model.initial.empty()) {
    res.warm_violation = std::max(b.mm.warm_bound_violation,
                                  b.model.max_violation(b.model.initial, &res.warm_violation_what));
    if (b.mm.warm_bound_violation >= res.warm_violation && b.mm.warm_bound_violation > 0)
      res.warm_violation_what = "bounds of S or T";
  }

  milp::BackendOptions bo;
  bo.time_limit_s = opt.time_limit_s;
  bo.threads = std::max(1, opt.threads);
  bo.objective_unit = b.mm.unit;
  bo.progress = opt.progress;
  bo.interrupt = opt.interrupt;
  bo.absolute_gap = 1e-6;   // model units: the horizon is 100..1000 units
  bo.relative_gap = 1e-9;
  bo.stage = "milp";
  bo.max_nodes = req.max_nodes;
  auto backend = milp::make_cbc_backend();
  const milp::MilpSolution sol = backend->solve(b.model, bo);
  res.nodes = sol.nodes;

  Candidate best = b.warm;
  if (!sol.values.empty()) {
    std::vector<int> dev(m, -1);
    std::vector<double> key(m);
    for (int i = 0; i < m; ++i) {
      double bx = -1;
      for (int k : in.feas[i])
        if (sol.values[b.mm.x[i][k]] > bx) {
          bx = sol.values[b.mm.x[i][k]];
          dev[i] = k;
        }
    }
    for (int i = 0; i < m; ++i)
      if (dev[i] >= 0) key[i] = run_midpoint(in, i, dev[i], sol.values[b.mm.S[i]]);
    if (placement_ok(in, dev)) {
      Candidate c = make_candidate(in, dev, order_by_key(in, key));
      const double T = sol.values[b.mm.T] * b.mm.unit;
      if (c.obj > T * (1 + 1e-6) + 1e-12)
        throw std::logic_error(fmt::format(
            "latency MILP: the as-soon-as-possible schedule of the solver's solution ends at {:.12g} s, later than "
            "its objective T = {:.12g} s (model bug)", c.obj, T));
      if (best.dev.empty() || c.obj <= best.obj) best = c;
    }
  }
  if (b.warm.dev.empty() && best.dev.empty()) {
    if (sol.status == milp::MilpStatus::Infeasible)
      throw InputError("infeasible: no placement of the weights fits the device memories (proven by the MILP)");
    throw InputError(fmt::format("no placement fitting the device memories was found within the time limit ({} s)",
                                 opt.time_limit_s));
  }
  if (sol.status == milp::MilpStatus::Infeasible && !b.warm.dev.empty())
    // The warm start passes the weights-only placement check, but the MILP's memory rows also
    // count live tensors: infeasible there means no schedule fits the memories.
    throw InputError("infeasible: no schedule fits the device memories (weights and live tensors; proven by the MILP)");
  res.objective = best.obj;
  double bound = sol.bound * b.mm.unit;
  if (!std::isfinite(bound)) bound = 0;
  // Cheap valid bounds too (T's lower bound: heads + tails).
  bound = std::max(bound, b.model.vars[b.mm.T].lb * b.mm.unit);
  const bool optimal = sol.status == milp::MilpStatus::Optimal;
  if (optimal) bound = std::max(bound, best.obj * (1 - 1e-9));
  res.bound = std::min(bound, best.obj);
  res.status = optimal ? SolveStatus::Optimal
               : (sol.interrupted || sol.seconds >= opt.time_limit_s * 0.99) ? SolveStatus::TimeLimit
                                                                              : SolveStatus::Feasible;
  for (int i = 0; i < m; ++i) {
    res.device[in.ops[i]] = best.dev[i];
    res.start[in.ops[i]] = best.start[i];
  }
  res.order.reserve(m);
  for (int i : best.order) res.order.push_back(in.ops[i]);
  return res;
}

namespace {

/// Warm start from the best baseline that fits memory (best_feasible_baseline: the best list
/// schedule unless memory is tight); its name and makespan for notes.
LatencyMilpRequest warm_from_best_baseline(const Problem& pb, std::string& name, double& makespan) {
  LatencyMilpRequest req;
  FeasibleBaseline f = best_feasible_baseline(pb);
  if (!f.name.empty()) name = f.name;
  const Schedule s = std::move(f.schedule);
  makespan = s.device.empty() ? kInf : s.claimed_makespan;
  req.warm_device = s.device;
  req.warm_start = s.start;
  return req;
}

}  // namespace

Schedule milp_schedule(const Problem& pb, const SolveOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string warm_name = "greedy";
  double warm_ms = kInf;
  const LatencyMilpResult r = solve_latency_milp(pb, warm_from_best_baseline(pb, warm_name, warm_ms), opt);

  Schedule s = schedule_from_order(pb, r.device, r.order);
  const LatencyResult sim = simulate_latency(pb, s);
  if (std::fabs(sim.makespan - r.objective) > 1e-9 * std::max(1e-300, std::fabs(r.objective)))
    throw std::logic_error(fmt::format("milp: simulated makespan {:.17g} differs from the MILP objective {:.17g}",
                                       sim.makespan, r.objective));
  s.start = sim.start;
  s.method = "milp";
  s.status = r.status;
  s.claimed_makespan = r.objective;
  s.lower_bound = r.bound;
  s.solve_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.notes = fmt::format("cbc: {} variables, {} constraints, {} nodes; best baseline {} ({})", r.num_variables,
                        r.num_constraints, r.nodes, warm_name, format_seconds(warm_ms));
  return s;
}

void export_latency_milp(const Problem& pb, const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  auto ends = [&](const std::string& e) { return lower.size() >= e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0; };
  if (!ends(".mps") && !ends(".lp"))
    throw InputError("cannot write the MILP to '" + path + "': unknown extension (use .mps or .lp)");
  std::string warm_name;
  double warm_ms = kInf;
  Built b = build_all(pb, warm_from_best_baseline(pb, warm_name, warm_ms));
  b.model.comments.push_back(fmt::format("warm start: {} ({:.17g} s); the initial solution is not written", warm_name, warm_ms));
  milp::write_model(b.model, path);
}

}  // namespace diviml

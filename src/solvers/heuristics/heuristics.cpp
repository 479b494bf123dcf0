// Baseline latency schedulers: fastest single device, HEFT, CPOP, PEFT, ETF, random.
#include "solvers/heuristics/heuristics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "schedule/simulator.h"
#include "schedule/timing.h"

namespace diviml {
namespace {

/// Edge u -> v summarised by the largest tensor it carries: every transfer cost is
/// alpha + bytes / beta, monotone in bytes, and the tensors of one edge travel in parallel, so
/// the edge's data arrives with its largest tensor.
struct Edge {
  OpId op;
  double bytes;
};

/// Adjacency and per-op I/O facts shared by every heuristic, built in O(V + E).
struct Ctx {
  const Problem& pb;
  const Graph& g;
  int n = 0, K = 0, io = -1;
  std::vector<int> in_off, out_off;
  std::vector<Edge> in_e, out_e;
  std::vector<double> in_io_bytes;   ///< largest graph-input tensor read; < 0: none
  std::vector<double> out_io_bytes;  ///< largest graph-output tensor written; < 0: none
  std::vector<double> mean_exec;     ///< over the devices that can run the op
  std::vector<std::vector<int>> runnable;  ///< devices that can run each op

  explicit Ctx(const Problem& p) : pb(p), g(p.graph()), n(p.num_ops()), K(p.num_devices()), io(p.io_device()) {
    in_off.assign(n + 1, 0);
    in_io_bytes.assign(n, -1.0);
    out_io_bytes.assign(n, -1.0);
    std::vector<int> mark(n, -1), pos(n, 0);
    for (OpId v = 0; v < n; ++v) {
      in_off[v] = static_cast<int>(in_e.size());
      for (TensorId t : g.ops[v].inputs) {
        const Tensor& ten = g.tensors[t];
        const OpId u = ten.producer;
        if (u == kNoOp) {
          in_io_bytes[v] = std::max(in_io_bytes[v], ten.bytes);
        } else if (u != v) {
          if (mark[u] != v) {
            mark[u] = v;
            pos[u] = static_cast<int>(in_e.size());
            in_e.push_back({u, ten.bytes});
          } else {
            in_e[pos[u]].bytes = std::max(in_e[pos[u]].bytes, ten.bytes);
          }
        }
      }
      for (TensorId t : g.ops[v].outputs)
        if (g.tensors[t].is_graph_output) out_io_bytes[v] = std::max(out_io_bytes[v], g.tensors[t].bytes);
    }
    in_off[n] = static_cast<int>(in_e.size());
    // Transpose into out-edges (counting sort by source).
    out_off.assign(n + 1, 0);
    for (const Edge& e : in_e) ++out_off[e.op + 1];
    for (int v = 0; v < n; ++v) out_off[v + 1] += out_off[v];
    out_e.resize(in_e.size());
    std::vector<int> fill(out_off.begin(), out_off.end() - 1);
    for (OpId v = 0; v < n; ++v)
      for (int i = in_off[v]; i < in_off[v + 1]; ++i) out_e[fill[in_e[i].op]++] = {v, in_e[i].bytes};

    mean_exec.assign(n, 0.0);
    runnable.assign(n, {});
    for (OpId v = 0; v < n; ++v) {
      double s = 0;
      for (int k = 0; k < K; ++k)
        if (pb.can_run(v, k)) {
          runnable[v].push_back(k);
          s += pb.exec(v, k);
        }
      if (runnable[v].empty()) throw InputError("op '" + g.ops[v].name + "' can run on no device");
      mean_exec[v] = s / static_cast<double>(runnable[v].size());
    }
  }

  int in_begin(OpId v) const { return in_off[v]; }
  int in_end(OpId v) const { return in_off[v + 1]; }
  int out_begin(OpId v) const { return out_off[v]; }
  int out_end(OpId v) const { return out_off[v + 1]; }

  /// Mean transfer cost of `bytes` over ordered pairs of distinct devices.
  double mean_comm(double bytes) const {
    if (K < 2) return 0;
    double s = 0;
    for (int k = 0; k < K; ++k)
      for (int l = 0; l < K; ++l)
        if (k != l) s += pb.comm_bytes(bytes, k, l);
    return s / static_cast<double>(K * (K - 1));
  }
  /// Time for op v's graph outputs to reach the I/O device when v runs on k (for the ranks; the
  /// placement itself uses timing::completion).
  double delivery(OpId v, int k) const {
    return out_io_bytes[v] < 0 ? 0.0 : timing::output_delivered(pb, out_io_bytes[v], k, 0.0);
  }
  double mean_delivery(OpId v) const {
    if (io < 0 || out_io_bytes[v] < 0) return 0;
    double s = 0;
    for (int k : runnable[v]) s += delivery(v, k);
    return s / static_cast<double>(runnable[v].size());
  }
  double mean_input_arrival(OpId v) const {
    if (io < 0 || in_io_bytes[v] < 0) return 0;
    double s = 0;
    for (int k : runnable[v]) s += timing::input_arrival(pb, in_io_bytes[v], k);
    return s / static_cast<double>(runnable[v].size());
  }
  /// Data-ready time of v on device k given the placement and finish times of its producers:
  /// timing::data_ready over the edges (each edge's largest tensor decides, so the result is
  /// the same; one term per producer keeps the list schedulers' inner loop short).
  double data_ready(OpId v, int k, const std::vector<int>& dev, const std::vector<double>& fin) const {
    double t = in_io_bytes[v] >= 0 ? timing::input_arrival(pb, in_io_bytes[v], k) : 0.0;
    for (int i = in_off[v]; i < in_off[v + 1]; ++i) {
      const Edge& e = in_e[i];
      t = std::max(t, timing::transfer_finish(pb, e.bytes, dev[e.op], k, fin[e.op]));
    }
    return t;
  }
  bool is_output_op(OpId v) const { return out_io_bytes[v] >= 0; }
};

/// Busy intervals of one device, sorted by start and disjoint (zero-length ones allowed).
struct Timeline {
  std::vector<double> s, f;
  std::vector<OpId> op;

  /// Earliest start >= ready of an op of duration p, and the index where it goes.
  /// With insertion the op may fill an idle gap; without, it goes after the last op.
  std::pair<double, size_t> find(double ready, double p, bool insertion) const {
    if (!insertion || f.empty()) return {f.empty() ? ready : std::max(ready, f.back()), f.size()};
    // Intervals with f <= ready lie wholly before `ready` (f is non-decreasing).
    size_t i = static_cast<size_t>(std::upper_bound(f.begin(), f.end(), ready) - f.begin());
    double t = ready;
    for (; i < s.size(); ++i) {
      if (t + p <= s[i]) return {t, i};
      t = std::max(t, f[i]);
    }
    return {t, s.size()};
  }
  void insert(size_t idx, double start, double finish, OpId v) {
    s.insert(s.begin() + static_cast<std::ptrdiff_t>(idx), start);
    f.insert(f.begin() + static_cast<std::ptrdiff_t>(idx), finish);
    op.insert(op.begin() + static_cast<std::ptrdiff_t>(idx), v);
  }
};

/// Builds the Schedule from per-device timelines (their order is the execution order) and keeps
/// the computed start times and makespan as the solver's claim.
Schedule finish_schedule(const Ctx& c, const std::vector<Timeline>& tl, const std::vector<int>& dev,
                         const std::vector<double>& start, const std::vector<double>& fin,
                         const std::string& method) {
  std::vector<OpId> order;
  order.reserve(c.n);
  for (const Timeline& t : tl) order.insert(order.end(), t.op.begin(), t.op.end());
  Schedule s = schedule_from_order(c.pb, dev, order);
  s.start = start;
  double ms = 0;
  for (OpId v = 0; v < c.n; ++v) ms = std::max(ms, timing::completion(c.pb, v, dev[v], fin[v]));
  s.claimed_makespan = ms;
  s.method = method;
  s.status = SolveStatus::Heuristic;
  return s;
}

/// Insertion-based list scheduling. Ready ops are taken by decreasing priority (ties: topological
/// rank); `score(v, k, eft)` picks the device (lowest score, ties: lowest index); `allowed(v)`
/// returns -1 (any device) or the only device v may use.
template <class Score, class Allowed>
Schedule list_schedule(const Ctx& c, const std::vector<double>& prio, Score score, Allowed allowed,
                       const std::string& method) {
  const int n = c.n;
  const auto& trank = c.g.topo_rank();
  std::vector<int> dev(n, -1), indeg(n);
  std::vector<double> start(n, 0), fin(n, 0);
  std::vector<Timeline> tl(c.K);
  auto cmp = [&](OpId a, OpId b) {  // true when a has lower priority than b
    if (prio[a] != prio[b]) return prio[a] < prio[b];
    return trank[a] > trank[b];
  };
  std::priority_queue<OpId, std::vector<OpId>, decltype(cmp)> ready(cmp);
  for (OpId v = 0; v < n; ++v) {
    indeg[v] = c.in_end(v) - c.in_begin(v);
    if (indeg[v] == 0) ready.push(v);
  }
  while (!ready.empty()) {
    const OpId v = ready.top();
    ready.pop();
    const int only = allowed(v);
    int best_k = -1;
    double best_score = kInf, best_start = 0;
    size_t best_idx = 0;
    for (int k : c.runnable[v]) {
      if (only >= 0 && k != only) continue;
      const double p = c.pb.exec(v, k);
      const double drt = c.data_ready(v, k, dev, fin);
      const auto [st, idx] = tl[k].find(drt, p, true);
      const double sc = score(v, k, st + p);
      if (best_k < 0 || sc < best_score) {
        best_k = k;
        best_score = sc;
        best_start = st;
        best_idx = idx;
      }
    }
    dev[v] = best_k;
    start[v] = best_start;
    fin[v] = best_start + c.pb.exec(v, best_k);
    tl[best_k].insert(best_idx, start[v], fin[v], v);
    for (int i = c.out_begin(v); i < c.out_end(v); ++i) {
      const OpId w = c.out_e[i].op;
      if (--indeg[w] == 0) ready.push(w);
    }
  }
  return finish_schedule(c, tl, dev, start, fin, method);
}

/// Upward rank (HEFT): mean execution + max over successors of (mean transfer + their rank),
/// and the mean output delivery for ops producing graph outputs.
std::vector<double> upward_rank(const Ctx& c) {
  std::vector<double> r(c.n, 0);
  const auto& topo = c.g.topo_order();
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    const OpId v = *it;
    double tail = c.mean_delivery(v);
    for (int i = c.out_begin(v); i < c.out_end(v); ++i)
      tail = std::max(tail, c.mean_comm(c.out_e[i].bytes) + r[c.out_e[i].op]);
    r[v] = c.mean_exec[v] + tail;
  }
  return r;
}

/// Downward rank (CPOP): longest mean path from the entry (with mean input arrival) to v, v
/// excluded.
std::vector<double> downward_rank(const Ctx& c) {
  std::vector<double> r(c.n, 0);
  for (OpId v : c.g.topo_order()) {
    double head = c.mean_input_arrival(v);
    for (int i = c.in_begin(v); i < c.in_end(v); ++i) {
      const Edge& e = c.in_e[i];
      head = std::max(head, r[e.op] + c.mean_exec[e.op] + c.mean_comm(e.bytes));
    }
    r[v] = head;
  }
  return r;
}

}  // namespace

Schedule fastest_device_schedule(const Problem& pb) {
  const Graph& g = pb.graph();
  int best = -1;
  double best_ms = kInf;
  Schedule best_s;
  std::string why;
  for (int k = 0; k < pb.num_devices(); ++k) {
    OpId bad = kNoOp;
    for (OpId v = 0; v < pb.num_ops() && bad == kNoOp; ++v)
      if (!pb.can_run(v, k)) bad = v;
    if (bad != kNoOp) {
      why += (why.empty() ? "" : "; ") + pb.platform().devices[k].name + " cannot run op '" +
             g.ops[bad].name + "' (type " + g.ops[bad].type + ")";
      continue;
    }
    Schedule s = single_device_schedule(pb, k);
    const double ms = simulate_latency(pb, s).makespan;
    if (best < 0 || ms < best_ms) {
      best = k;
      best_ms = ms;
      best_s = std::move(s);
    }
  }
  if (best < 0) throw InputError("fastest-device: no device can run every op (" + why + ")");
  best_s.method = "fastest-device";
  best_s.status = SolveStatus::Heuristic;
  best_s.notes = "device " + pb.platform().devices[best].name;
  return best_s;
}

Schedule heft_schedule(const Problem& pb) {
  const Ctx c(pb);
  const std::vector<double> rank = upward_rank(c);
  return list_schedule(
      c, rank, [&](OpId v, int k, double eft) { return timing::completion(pb, v, k, eft); },
      [](OpId) { return -1; }, "heft");
}

Schedule cpop_schedule(const Problem& pb) {
  const Ctx c(pb);
  const std::vector<double> ru = upward_rank(c), rd = downward_rank(c);
  std::vector<double> prio(c.n);
  for (OpId v = 0; v < c.n; ++v) prio[v] = ru[v] + rd[v];
  // Critical path: from the entry op of highest priority, follow the successor of highest
  // priority while it stays equal to |CP| (to rounding).
  const auto& trank = c.g.topo_rank();
  OpId cur = kNoOp;
  for (OpId v = 0; v < c.n; ++v)
    if (c.in_begin(v) == c.in_end(v) &&
        (cur == kNoOp || prio[v] > prio[cur] || (prio[v] == prio[cur] && trank[v] < trank[cur])))
      cur = v;
  const double cp = prio[cur];
  const double tol = 1e-9 * std::max(1.0, std::abs(cp));
  std::vector<char> on_cp(c.n, 0);
  std::vector<OpId> path;
  while (cur != kNoOp) {
    on_cp[cur] = 1;
    path.push_back(cur);
    OpId next = kNoOp;
    for (int i = c.out_begin(cur); i < c.out_end(cur); ++i) {
      const OpId w = c.out_e[i].op;
      if (next == kNoOp || prio[w] > prio[next] || (prio[w] == prio[next] && trank[w] < trank[next])) next = w;
    }
    cur = (next != kNoOp && std::abs(prio[next] - cp) <= tol) ? next : kNoOp;
  }
  // Critical-path device: minimises the total execution time of the path among the devices
  // that can run all of it; none: the path ops are placed like the others.
  int cp_dev = -1;
  double cp_best = kInf;
  for (int k = 0; k < c.K; ++k) {
    double s = 0;
    for (OpId v : path) s += pb.exec(v, k);
    if (std::isfinite(s) && s < cp_best) {
      cp_best = s;
      cp_dev = k;
    }
  }
  Schedule s = list_schedule(
      c, prio, [&](OpId v, int k, double eft) { return timing::completion(pb, v, k, eft); },
      [&](OpId v) { return on_cp[v] ? cp_dev : -1; }, "cpop");
  if (cp_dev >= 0)
    s.notes = "critical path of " + std::to_string(path.size()) + " ops on " + pb.platform().devices[cp_dev].name;
  return s;
}

Schedule peft_schedule(const Problem& pb) {
  const Ctx c(pb);
  const int K = c.K;
  // OCT(v, k): optimistic time from v's finish on k to the end, successors at their best device.
  std::vector<double> oct(static_cast<size_t>(c.n) * K, 0.0);
  const auto& topo = c.g.topo_order();
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    const OpId v = *it;
    for (int k = 0; k < K; ++k) {
      double o = c.delivery(v, k);
      for (int i = c.out_begin(v); i < c.out_end(v); ++i) {
        const Edge& e = c.out_e[i];
        double m = kInf;
        for (int w : c.runnable[e.op])
          m = std::min(m, oct[static_cast<size_t>(e.op) * K + w] + pb.exec(e.op, w) +
                              pb.comm_bytes(e.bytes, k, w));
        o = std::max(o, m);
      }
      oct[static_cast<size_t>(v) * K + k] = o;
    }
  }
  std::vector<double> rank(c.n, 0);
  for (OpId v = 0; v < c.n; ++v) {
    double s = 0;
    for (int k : c.runnable[v]) s += oct[static_cast<size_t>(v) * K + k];
    rank[v] = s / static_cast<double>(c.runnable[v].size());
  }
  return list_schedule(
      c, rank, [&](OpId v, int k, double eft) { return eft + oct[static_cast<size_t>(v) * K + k]; },
      [](OpId) { return -1; }, "peft");
}

Schedule etf_schedule(const Problem& pb) {
  const Ctx c(pb);
  const int n = c.n, K = c.K;
  const auto& trank = c.g.topo_rank();
  // Static level: longest path of mean execution times to an exit, transfers ignored.
  std::vector<double> level(n, 0);
  const auto& topo = c.g.topo_order();
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    double m = 0;
    for (int i = c.out_begin(*it); i < c.out_end(*it); ++i) m = std::max(m, level[c.out_e[i].op]);
    level[*it] = c.mean_exec[*it] + m;
  }
  auto better_level = [&](OpId a, OpId b) {  // a before b among equal start times
    if (level[a] != level[b]) return level[a] > level[b];
    return trank[a] < trank[b];
  };
  // Per device: ops whose data is not yet ready when the device frees up (min-heap by data-ready
  // time), and ops that could start as soon as the device is free (max-heap by level).
  struct Pending {
    double drt;
    OpId v;
  };
  auto pend_cmp = [&](const Pending& a, const Pending& b) {  // true: a after b
    if (a.drt != b.drt) return a.drt > b.drt;
    return better_level(b.v, a.v);
  };
  auto avail_cmp = [&](OpId a, OpId b) { return better_level(b, a); };
  using PendHeap = std::priority_queue<Pending, std::vector<Pending>, decltype(pend_cmp)>;
  using AvailHeap = std::priority_queue<OpId, std::vector<OpId>, decltype(avail_cmp)>;
  std::vector<PendHeap> pend;
  std::vector<AvailHeap> now;
  for (int k = 0; k < K; ++k) {
    pend.emplace_back(pend_cmp);
    now.emplace_back(avail_cmp);
  }
  std::vector<int> dev(n, -1), indeg(n);
  std::vector<double> start(n, 0), fin(n, 0), avail(K, 0);
  std::vector<char> done(n, 0);
  std::vector<Timeline> tl(K);
  auto make_ready = [&](OpId v) {
    for (int k : c.runnable[v]) pend[k].push({c.data_ready(v, k, dev, fin), v});
  };
  for (OpId v = 0; v < n; ++v) {
    indeg[v] = c.in_end(v) - c.in_begin(v);
    if (indeg[v] == 0) make_ready(v);
  }
  for (int placed = 0; placed < n; ++placed) {
    int best_k = -1;
    OpId best_v = kNoOp;
    double best_t = kInf;
    for (int k = 0; k < K; ++k) {
      while (!pend[k].empty() && (done[pend[k].top().v] || pend[k].top().drt <= avail[k])) {
        if (!done[pend[k].top().v]) now[k].push(pend[k].top().v);
        pend[k].pop();
      }
      while (!now[k].empty() && done[now[k].top()]) now[k].pop();
      OpId v = kNoOp;
      double t = kInf;
      if (!now[k].empty()) {
        v = now[k].top();
        t = avail[k];
      } else if (!pend[k].empty()) {
        v = pend[k].top().v;
        t = pend[k].top().drt;
      }
      if (v == kNoOp) continue;
      if (best_v == kNoOp || t < best_t || (t == best_t && better_level(v, best_v))) {
        best_v = v;
        best_k = k;
        best_t = t;
      }
    }
    const OpId v = best_v;
    done[v] = 1;
    dev[v] = best_k;
    start[v] = best_t;
    fin[v] = best_t + pb.exec(v, best_k);
    avail[best_k] = fin[v];
    tl[best_k].insert(tl[best_k].op.size(), start[v], fin[v], v);
    for (int i = c.out_begin(v); i < c.out_end(v); ++i) {
      const OpId w = c.out_e[i].op;
      if (--indeg[w] == 0) make_ready(w);
    }
  }
  return finish_schedule(c, tl, dev, start, fin, "etf");
}

Schedule random_schedule(const Problem& pb, uint64_t seed) {
  const Ctx c(pb);
  std::mt19937_64 rng(seed);
  std::vector<int> dev(c.n);
  for (OpId v = 0; v < c.n; ++v) {
    const auto& r = c.runnable[v];
    dev[v] = r[std::uniform_int_distribution<size_t>(0, r.size() - 1)(rng)];
  }
  // Random topological order: Kahn's algorithm picking a uniformly random ready op.
  std::vector<int> indeg(c.n);
  std::vector<OpId> ready, order;
  order.reserve(c.n);
  for (OpId v = 0; v < c.n; ++v) {
    indeg[v] = c.in_end(v) - c.in_begin(v);
    if (indeg[v] == 0) ready.push_back(v);
  }
  while (!ready.empty()) {
    const size_t i = std::uniform_int_distribution<size_t>(0, ready.size() - 1)(rng);
    const OpId v = ready[i];
    ready[i] = ready.back();
    ready.pop_back();
    order.push_back(v);
    for (int j = c.out_begin(v); j < c.out_end(v); ++j)
      if (--indeg[c.out_e[j].op] == 0) ready.push_back(c.out_e[j].op);
  }
  Schedule s = schedule_from_order(pb, dev, order);
  s.method = "random";
  s.status = SolveStatus::Heuristic;
  s.notes = "seed " + std::to_string(seed);
  return s;
}

Schedule best_list_schedule(const Problem& pb, std::string* name) {
  const std::pair<const char*, Schedule (*)(const Problem&)> methods[] = {
      {"fastest-device", fastest_device_schedule}, {"heft", heft_schedule}, {"cpop", cpop_schedule},
      {"peft", peft_schedule},                     {"etf", etf_schedule}};
  Schedule best;
  double best_ms = std::numeric_limits<double>::infinity();
  for (const auto& [method, fn] : methods) {
    try {
      Schedule s = fn(pb);
      const LatencyResult r = simulate_latency(pb, s);
      if (r.makespan < best_ms) {
        best_ms = r.makespan;
        best = std::move(s);
        best.start = r.start;
        best.claimed_makespan = r.makespan;
        if (name) *name = method;
      }
    } catch (const std::exception&) {
      // a baseline that cannot handle this instance (e.g. no device runs every op)
    }
  }
  return best;
}

}  // namespace diviml

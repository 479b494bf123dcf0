#include "solvers/exact/bnb.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "platform/units.h"
#include "schedule/run_order.h"
#include "schedule/simulator.h"
#include "solvers/bounds/bounds.h"
#include "solvers/heuristics/local_search.h"
#include "solvers/memory/feasible_baseline.h"

namespace diviml {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kInfT = std::numeric_limits<double>::infinity();

struct InEdge {
  int from;    ///< local id of the producer
  size_t cm;   ///< offset of its K x K transfer matrix in Bnb::cm_
};

struct Child {
  int v, k;
  double st, quick;
};

class Bnb {
 public:
  Bnb(const Problem& pb, const BnbRequest& req, const SolveOptions& opt) : pb_(pb), req_(req), opt_(opt) {
    build();
  }

  BnbResult run();

 private:
  void build();
  void build_symmetry();
  void build_lambdas();
  double evaluate_warm();
  void dfs(double node_lb, int depth);
  void alloc_dfs(int i, double node_lb);
  bool allocation_first() const;
  double bound();
  double start_on(int v, int k) const;
  bool fits_earlier_gap(int v, int k, double st) const;
  void check_stop();
  void apply(int v, int k, double st);
  void undo(int v, int k);
  double round_up(double lb) const {
    if (!(unit_ > 0) || !(lb > 0)) return lb;
    return std::max(lb, std::ceil(lb / unit_ - 1e-6) * unit_);
  }
  bool prunable(double lb) const { return lb >= ub_ - eps_; }

  const Problem& pb_;
  const BnbRequest& req_;
  const SolveOptions& opt_;
  Clock::time_point t0_ = Clock::now();

  // Instance (local ids 0..m-1 in topological order).
  int m_ = 0, K_ = 0;
  std::vector<OpId> ops_;
  std::vector<double> p_, rel_, del_, tail_;  // m x K
  std::vector<double> minp_;
  std::vector<std::vector<InEdge>> in_;
  std::vector<std::vector<int>> out_;  // successors inside the set
  std::vector<double> cm_;
  std::vector<double> free0_, weight_, mem0_;
  std::vector<int> cls_first_;                 // per device: first device of its symmetry class
  std::vector<std::vector<int>> classes_;      // classes of size >= 2
  std::vector<std::vector<double>> lambdas_;   // weights of the load bound
  double unit_ = 0;

  // Search state.
  std::vector<int> dev_, npred_, used_;
  std::vector<double> st_, fin_, free_, mem_;
  std::vector<std::vector<int>> seq_;
  std::vector<int> path_;
  double cur_ = 0, last_st_ = -kInfT;
  int last_op_ = -1;
  std::vector<double> ef_;  // scratch: earliest finish per (unscheduled op, device)
  std::vector<double> base_, rest_load_, rest_head_, rest_tail_;  // scratch per device
  // Allocation-first mode: device chosen per op (-1: open), ops allocated per device.
  std::vector<int> alloc_, alloc_used_, warm_alloc_;
  bool ordering_ = false;  // inside the ordering search of a complete allocation

  // Best.
  double ub_ = kInfT, eps_ = 0;
  std::vector<int> best_dev_, best_path_;
  std::vector<double> best_st_;
  double root_lb_ = 0;
  long long nodes_ = 0;
  bool abort_ = false;
  SolveStatus abort_status_ = SolveStatus::Feasible;
  double abort_bound_ = kInfT;
  double last_progress_ = 0;
};

void Bnb::build() {
  const Graph& g = pb_.graph();
  K_ = pb_.num_devices();
  const int n = pb_.num_ops();
  std::vector<OpId> ops = req_.ops;
  if (ops.empty()) ops = g.topo_order();
  const auto& rank = g.topo_rank();
  std::sort(ops.begin(), ops.end(), [&](OpId a, OpId b) { return rank[a] < rank[b]; });
  ops.erase(std::unique(ops.begin(), ops.end()), ops.end());
  ops_ = ops;
  m_ = static_cast<int>(ops_.size());
  const bool subset = m_ < n;
  if (subset && !req_.fixed) throw std::invalid_argument("bnb: a strict subset of ops needs a FixedContext");
  std::vector<int> local(n, -1);
  for (int i = 0; i < m_; ++i) local[ops_[i]] = i;

  p_.assign(static_cast<size_t>(m_) * K_, kInfT);
  rel_.assign(static_cast<size_t>(m_) * K_, 0);
  del_.assign(static_cast<size_t>(m_) * K_, 0);
  tail_.assign(static_cast<size_t>(m_) * K_, 0);
  minp_.assign(m_, kInfT);
  in_.assign(m_, {});
  weight_.assign(m_, 0);
  for (int i = 0; i < m_; ++i) {
    const OpId v = ops_[i];
    weight_[i] = pb_.weight_bytes(v);
    for (int k = 0; k < K_; ++k) p_[i * K_ + k] = pb_.exec(v, k);
  }
  for (const auto& [v, k] : req_.pinned) {
    if (v < 0 || v >= n || local[v] < 0 || k < 0 || k >= K_) continue;
    for (int l = 0; l < K_; ++l)
      if (l != k) p_[local[v] * K_ + l] = kInfT;
  }
  for (int i = 0; i < m_; ++i)
    for (int k = 0; k < K_; ++k) minp_[i] = std::min(minp_[i], p_[i * K_ + k]);

  for (int i = 0; i < m_; ++i) {
    const OpId v = ops_[i];
    const auto& inputs = g.ops[v].inputs;
    for (TensorId t : inputs) {
      const OpId u = g.tensors[t].producer;
      if (u == kNoOp) {
        for (int k = 0; k < K_; ++k)
          rel_[i * K_ + k] = std::max(rel_[i * K_ + k], std::max(0.0, pb_.input_arrival(t, k) - req_.graph_input_offset));
      } else if (local[u] >= 0) {
        InEdge* e = nullptr;
        for (InEdge& x : in_[i])
          if (x.from == local[u]) e = &x;
        if (!e) {
          in_[i].push_back({local[u], cm_.size()});
          cm_.resize(cm_.size() + static_cast<size_t>(K_) * K_, 0);
          e = &in_[i].back();
        }
        for (int a = 0; a < K_; ++a)
          for (int b = 0; b < K_; ++b) cm_[e->cm + a * K_ + b] = std::max(cm_[e->cm + a * K_ + b], pb_.comm(t, a, b));
      } else {
        if (!req_.fixed || u >= static_cast<OpId>(req_.fixed->device.size()) || req_.fixed->device[u] < 0)
          throw std::invalid_argument(fmt::format("bnb: op '{}' reads from '{}', which is neither scheduled nor fixed",
                                                  g.ops[v].name, g.ops[u].name));
        const int du = req_.fixed->device[u];
        for (int k = 0; k < K_; ++k)
          rel_[i * K_ + k] = std::max(rel_[i * K_ + k], req_.fixed->finish[u] + pb_.comm(t, du, k));
      }
    }
    if (!req_.ignore_graph_outputs)
      for (TensorId t : g.ops[v].outputs)
        if (g.tensors[t].is_graph_output)
          for (int k = 0; k < K_; ++k) del_[i * K_ + k] = std::max(del_[i * K_ + k], pb_.output_delivery(t, k));
  }
  // Static device-aware tails: after v completes on k, its successors still run at least at
  // their best device (including the transfer to it) and its outputs still reach the I/O device.
  std::vector<std::vector<std::pair<int, size_t>>> out(m_);
  out_.assign(m_, {});
  for (int i = 0; i < m_; ++i)
    for (const InEdge& e : in_[i]) {
      out[e.from].push_back({i, e.cm});
      out_[e.from].push_back(i);
    }
  for (int i = m_ - 1; i >= 0; --i)
    for (int k = 0; k < K_; ++k) {
      double t = del_[i * K_ + k];
      for (const auto& [w, cm] : out[i]) {
        double best = kInfT;
        for (int l = 0; l < K_; ++l)
          if (std::isfinite(p_[w * K_ + l]))
            best = std::min(best, cm_[cm + k * K_ + l] + p_[w * K_ + l] + tail_[w * K_ + l]);
        if (std::isfinite(best)) t = std::max(t, best);
      }
      tail_[i * K_ + k] = t;
    }

  free0_.assign(K_, 0);
  mem0_.assign(K_, 0);
  for (int k = 0; k < K_; ++k) mem0_[k] = pb_.memory_capacity(k);
  if (req_.fixed) {
    for (int k = 0; k < K_ && k < static_cast<int>(req_.fixed->device_free.size()); ++k)
      free0_[k] = req_.fixed->device_free[k];
    for (OpId u = 0; u < n && u < static_cast<OpId>(req_.fixed->device.size()); ++u)
      if (local[u] < 0 && req_.fixed->device[u] >= 0) mem0_[req_.fixed->device[u]] -= pb_.weight_bytes(u);
  }
  // Latencies are multiples of the instance's time unit only without shifted or fixed times.
  if (!subset && req_.graph_input_offset == 0) unit_ = common_time_unit(pb_);
  build_symmetry();
  build_lambdas();
}

void Bnb::build_symmetry() {
  cls_first_.assign(K_, -1);
  // a and b are interchangeable when swapping them maps the instance onto itself.
  auto swappable = [&](int a, int b) {
    if (free0_[a] != free0_[b] || mem0_[a] != mem0_[b]) return false;
    for (int i = 0; i < m_; ++i) {
      const size_t ia = static_cast<size_t>(i) * K_ + a, ib = static_cast<size_t>(i) * K_ + b;
      if (p_[ia] != p_[ib] || rel_[ia] != rel_[ib] || del_[ia] != del_[ib]) return false;
    }
    auto sw = [&](int x) { return x == a ? b : x == b ? a : x; };
    for (size_t e = 0; e < cm_.size(); e += static_cast<size_t>(K_) * K_)
      for (int x = 0; x < K_; ++x)
        for (int y = 0; y < K_; ++y)
          if (cm_[e + x * K_ + y] != cm_[e + sw(x) * K_ + sw(y)]) return false;
    return true;
  };
  for (const std::vector<int>& cls : pb_.identical_device_classes()) {
    std::vector<bool> taken(cls.size(), false);
    for (size_t i = 0; i < cls.size(); ++i) {
      if (taken[i]) continue;
      std::vector<int> c{cls[i]};
      for (size_t j = i + 1; j < cls.size(); ++j)
        if (!taken[j] && swappable(cls[i], cls[j])) {
          taken[j] = true;
          c.push_back(cls[j]);
        }
      if (c.size() >= 2) {
        for (int k : c) cls_first_[k] = c.front();
        classes_.push_back(c);
      }
    }
  }
}

void Bnb::build_lambdas() {
  // Load bound: for weights lambda on the simplex, T >= sum_k lambda_k a_k + sum_v min_k lambda_k p_vk
  // (ops placed on k from now on fit in [a_k, T]). Uniform weights, weights proportional to speed,
  // and the best weights of a grid at the root.
  lambdas_.push_back(std::vector<double>(K_, 1.0 / K_));
  std::vector<double> speed(K_, 0);
  for (int i = 0; i < m_; ++i)
    for (int k = 0; k < K_; ++k)
      if (std::isfinite(p_[i * K_ + k]) && p_[i * K_ + k] > 0) speed[k] += minp_[i] / p_[i * K_ + k];
  double tot = 0;
  for (double s : speed) tot += s;
  if (tot > 0) {
    for (double& s : speed) s /= tot;
    lambdas_.push_back(speed);
  }
  if (K_ >= 2 && K_ <= 4 && m_ > 0) {
    const int steps = 20;
    std::vector<double> best;
    double best_val = -kInfT;
    std::vector<int> c(K_, 0);
    std::vector<double> lam(K_);
    std::function<void(int, int)> rec = [&](int k, int left) {
      if (k == K_ - 1) {
        c[k] = left;
        for (int j = 0; j < K_; ++j) lam[j] = static_cast<double>(c[j]) / steps;
        double val = 0;
        for (int j = 0; j < K_; ++j) val += lam[j] * free0_[j];
        for (int i = 0; i < m_; ++i) {
          double mn = kInfT;
          for (int j = 0; j < K_; ++j)
            if (std::isfinite(p_[i * K_ + j])) mn = std::min(mn, lam[j] * p_[i * K_ + j]);
          val += mn;
        }
        if (val > best_val) {
          best_val = val;
          best = lam;
        }
        return;
      }
      for (int x = 0; x <= left; ++x) {
        c[k] = x;
        rec(k + 1, left - x);
      }
    };
    rec(0, steps);
    if (!best.empty()) lambdas_.push_back(best);
  }
}

double Bnb::start_on(int v, int k) const {
  double st = std::max(free_[k], rel_[v * K_ + k]);
  for (const InEdge& e : in_[v]) st = std::max(st, fin_[e.from] + cm_[e.cm + dev_[e.from] * K_ + k]);
  return st;
}

/// Dominance: if v fits in an idle interval of k before st (given its data-ready time), the
/// schedule with v moved there is no worse and is generated elsewhere.
bool Bnb::fits_earlier_gap(int v, int k, double st) const {
  const auto& s = seq_[k];
  if (s.empty()) return false;
  double ready = rel_[v * K_ + k];
  for (const InEdge& e : in_[v]) ready = std::max(ready, fin_[e.from] + cm_[e.cm + dev_[e.from] * K_ + k]);
  const double p = p_[v * K_ + k];
  double gap_start = free0_[k];
  for (int op : s) {
    const double begin = std::max(gap_start, ready);
    if (begin + p <= st_[op] && begin < st) return true;
    gap_start = fin_[op];
  }
  return false;
}

void Bnb::apply(int v, int k, double st) {
  dev_[v] = k;
  st_[v] = st;
  fin_[v] = st + p_[v * K_ + k];
  seq_[k].push_back(v);
  free_[k] = fin_[v];
  mem_[k] -= weight_[v];
  ++used_[k];
  path_.push_back(v);
  for (int w : out_[v]) --npred_[w];
}

void Bnb::undo(int v, int k) {
  for (int w : out_[v]) ++npred_[w];
  path_.pop_back();
  --used_[k];
  mem_[k] += weight_[v];
  seq_[k].pop_back();
  free_[k] = seq_[k].empty() ? free0_[k] : fin_[seq_[k].back()];
  dev_[v] = -1;
}

double Bnb::bound() {
  double lb = cur_;
  for (int k = 0; k < K_; ++k) {
    base_[k] = std::max(free_[k], last_st_);
    rest_load_[k] = 0;
    rest_head_[k] = kInfT;
    rest_tail_[k] = kInfT;
  }
  // Transfer-aware critical path: scheduled ops pay their transfers exactly, allocated ones
  // their device's, the rest their best device.
  for (int v = 0; v < m_; ++v) {
    if (dev_[v] >= 0) continue;
    double lbv = kInfT;
    for (int k = 0; k < K_; ++k) {
      const double p = p_[v * K_ + k];
      if (!std::isfinite(p) || (alloc_[v] >= 0 && alloc_[v] != k)) {
        ef_[v * K_ + k] = kInfT;
        continue;
      }
      double e = std::max(base_[k], rel_[v * K_ + k]);
      for (const InEdge& ed : in_[v]) {
        const int u = ed.from;
        if (dev_[u] >= 0) {
          e = std::max(e, fin_[u] + cm_[ed.cm + dev_[u] * K_ + k]);
        } else {
          double b = kInfT;
          for (int l = 0; l < K_; ++l) b = std::min(b, ef_[u * K_ + l] + cm_[ed.cm + l * K_ + k]);
          e = std::max(e, b);
        }
      }
      ef_[v * K_ + k] = e + p;
      lbv = std::min(lbv, e + p + tail_[v * K_ + k]);
      if (alloc_[v] == k) {
        rest_load_[k] += p;
        rest_head_[k] = std::min(rest_head_[k], e);
        rest_tail_[k] = std::min(rest_tail_[k], tail_[v * K_ + k]);
      }
    }
    lb = std::max(lb, lbv);
    if (prunable(lb)) return lb;
  }
  // Allocated ops not yet scheduled run one at a time on their device, after the earliest of
  // their starts, and the last one still has its tail.
  for (int k = 0; k < K_; ++k)
    if (rest_load_[k] > 0 || std::isfinite(rest_head_[k]))
      lb = std::max(lb, rest_head_[k] + rest_load_[k] + rest_tail_[k]);
  for (const std::vector<double>& lam : lambdas_) {
    double val = 0;
    for (int k = 0; k < K_; ++k) val += lam[k] * base_[k];
    for (int v = 0; v < m_; ++v) {
      if (dev_[v] >= 0) continue;
      double mn = kInfT;
      for (int k = 0; k < K_; ++k)
        if (std::isfinite(p_[v * K_ + k]) && (alloc_[v] < 0 || alloc_[v] == k)) mn = std::min(mn, lam[k] * p_[v * K_ + k]);
      val += mn;
    }
    lb = std::max(lb, val);
  }
  return round_up(lb);
}

/// Allocation-first search (Orr & Sinnen's allocation-ordering model): ops are given a device
/// in topological order, pruned by bound() with the allocation known, then each complete
/// allocation is ordered by dfs(). Strong when transfers are expensive: moving an op off the
/// busy device shows at once as a transfer on its path.
void Bnb::alloc_dfs(int i, double node_lb) {
  ++nodes_;
  if ((nodes_ & 255) == 1 || nodes_ == req_.max_nodes + 1) check_stop();
  if (abort_) {
    abort_bound_ = std::min(abort_bound_, node_lb);
    return;
  }
  if (i == m_) {
    ordering_ = true;
    dfs(node_lb, 0);
    ordering_ = false;
    return;
  }
  struct Opt {
    int k;
    double lb;
  };
  std::vector<Opt> opts;
  for (int k = 0; k < K_; ++k) {
    if (!std::isfinite(p_[i * K_ + k]) || mem_[k] < weight_[i]) continue;
    if (cls_first_[k] >= 0 && alloc_used_[k] == 0) {
      bool lower_unused = false;
      for (int j = cls_first_[k]; j < k; ++j)
        if (cls_first_[j] == cls_first_[k] && alloc_used_[j] == 0) lower_unused = true;
      if (lower_unused) continue;
    }
    alloc_[i] = k;
    const double lb = std::max(node_lb, bound());
    alloc_[i] = -1;
    if (!prunable(lb)) opts.push_back({k, lb});
  }
  const int prefer = warm_alloc_.empty() ? -1 : warm_alloc_[i];
  std::sort(opts.begin(), opts.end(), [&](const Opt& a, const Opt& b) {
    if (a.lb != b.lb) return a.lb < b.lb;
    return (a.k == prefer) > (b.k == prefer);
  });
  for (size_t j = 0; j < opts.size(); ++j) {
    if (abort_) {
      for (size_t q = j; q < opts.size(); ++q)
        if (!prunable(opts[q].lb)) abort_bound_ = std::min(abort_bound_, opts[q].lb);
      return;
    }
    if (prunable(opts[j].lb)) continue;
    const int k = opts[j].k;
    alloc_[i] = k;
    ++alloc_used_[k];
    mem_[k] -= weight_[i];
    alloc_dfs(i + 1, opts[j].lb);
    mem_[k] += weight_[i];
    --alloc_used_[k];
    alloc_[i] = -1;
  }
}

void Bnb::check_stop() {
  const double el = std::chrono::duration<double>(Clock::now() - t0_).count();
  if (opt_.interrupt && opt_.interrupt->load()) {
    abort_ = true;
    abort_status_ = SolveStatus::Interrupted;
  } else if (el > opt_.time_limit_s) {
    abort_ = true;
    abort_status_ = SolveStatus::TimeLimit;
  } else if (req_.max_nodes >= 0 && nodes_ > req_.max_nodes) {
    abort_ = true;
    abort_status_ = SolveStatus::Feasible;
  }
  if (opt_.progress && el - last_progress_ >= 2) {
    last_progress_ = el;
    Progress p;
    p.elapsed_s = el;
    p.incumbent = std::isfinite(ub_) ? ub_ : std::nan("");
    p.bound = root_lb_;
    p.gap = std::isfinite(ub_) && root_lb_ > 0 ? (ub_ - root_lb_) / root_lb_ : std::nan("");
    p.nodes = nodes_;
    p.stage = "bnb";
    opt_.progress(p);
  }
}

void Bnb::dfs(double node_lb, int depth) {
  ++nodes_;
  if ((nodes_ & 255) == 1 || nodes_ == req_.max_nodes + 1) check_stop();
  if (abort_) {
    abort_bound_ = std::min(abort_bound_, node_lb);
    return;
  }
  if (depth == m_) {
    if (cur_ < ub_) {
      ub_ = cur_;
      eps_ = 1e-9 * std::max(1e-300, std::fabs(ub_));
      best_dev_ = dev_;
      best_st_ = st_;
      best_path_ = path_;
    }
    return;
  }
  std::vector<Child> kids;
  for (int v = 0; v < m_; ++v) {
    if (dev_[v] >= 0 || npred_[v] != 0) continue;
    for (int k = 0; k < K_; ++k) {
      const double p = p_[v * K_ + k];
      if (!std::isfinite(p)) continue;
      if (ordering_ ? alloc_[v] != k : mem_[k] < weight_[v]) continue;
      // Unused interchangeable devices: only the first of its class (the allocation phase
      // already chose among them).
      if (!ordering_ && cls_first_[k] >= 0 && used_[k] == 0) {
        bool lower_unused = false;
        for (int j = cls_first_[k]; j < k; ++j)
          if (cls_first_[j] == cls_first_[k] && used_[j] == 0) lower_unused = true;
        if (lower_unused) continue;
      }
      const double st = start_on(v, k);
      // Canonical order: starts non-decreasing, ties by topological position.
      if (st < last_st_ || (st == last_st_ && v < last_op_)) continue;
      const double f = st + p;
      const double quick = std::max({cur_, node_lb, f + tail_[v * K_ + k]});
      if (prunable(quick)) continue;
      if (fits_earlier_gap(v, k, st)) continue;
      kids.push_back({v, k, st, quick});
    }
  }
  std::sort(kids.begin(), kids.end(), [](const Child& a, const Child& b) {
    return a.quick != b.quick ? a.quick < b.quick : a.st < b.st;
  });
  for (size_t i = 0; i < kids.size(); ++i) {
    const Child& c = kids[i];
    if (abort_) {
      for (size_t j = i; j < kids.size(); ++j)
        if (!prunable(kids[j].quick)) abort_bound_ = std::min(abort_bound_, kids[j].quick);
      return;
    }
    if (prunable(c.quick)) continue;
    const double saved_cur = cur_, saved_last = last_st_;
    const int saved_op = last_op_;
    apply(c.v, c.k, c.st);
    cur_ = std::max(cur_, fin_[c.v] + del_[c.v * K_ + c.k]);
    last_st_ = c.st;
    last_op_ = c.v;
    const double lb = std::max(c.quick, bound());
    if (!prunable(lb)) dfs(lb, depth + 1);
    cur_ = saved_cur;
    last_st_ = saved_last;
    last_op_ = saved_op;
    undo(c.v, c.k);
  }
}

bool Bnb::allocation_first() const {
  if (req_.search == BnbSearch::AllocationFirst) return true;
  if (req_.search == BnbSearch::Schedule) return false;
  // Auto: allocation first where the device choice costs transfers (heterogeneous nodes);
  // schedule generation where communication is free (task graphs on identical processors).
  for (double c : cm_)
    if (c > 0) return true;
  for (int i = 0; i < m_; ++i)
    for (int k = 1; k < K_; ++k)
      if (rel_[i * K_ + k] != rel_[i * K_] || del_[i * K_ + k] != del_[i * K_]) return true;
  return false;
}

/// Times the incumbent in the local model; its value becomes the upper bound (kInf if invalid).
double Bnb::evaluate_warm() {
  const int n = pb_.num_ops();
  if (static_cast<int>(req_.warm_device.size()) != n || static_cast<int>(req_.warm_order.size()) != m_) return kInfT;
  std::vector<int> local(n, -1);
  for (int i = 0; i < m_; ++i) local[ops_[i]] = i;
  std::vector<bool> seen(m_, false);
  for (OpId g : req_.warm_order) {
    if (g < 0 || g >= n || local[g] < 0) return kInfT;
    const int v = local[g];
    const int k = req_.warm_device[g];
    if (seen[v] || k < 0 || k >= K_ || !std::isfinite(p_[v * K_ + k]) || mem_[k] < weight_[v]) return kInfT;
    for (const InEdge& e : in_[v])
      if (!seen[e.from]) return kInfT;  // not a linear extension
    seen[v] = true;
    apply(v, k, start_on(v, k));
    cur_ = std::max(cur_, fin_[v] + del_[v * K_ + k]);
  }
  const double val = cur_;
  best_dev_ = dev_;
  best_st_ = st_;
  best_path_ = path_;
  for (int i = m_ - 1; i >= 0; --i) undo(path_.back(), dev_[path_.back()]);
  cur_ = 0;
  return val;
}

BnbResult Bnb::run() {
  dev_.assign(m_, -1);
  npred_.assign(m_, 0);
  for (int v = 0; v < m_; ++v) npred_[v] = static_cast<int>(in_[v].size());
  used_.assign(K_, 0);
  st_.assign(m_, 0);
  fin_.assign(m_, 0);
  free_ = free0_;
  mem_ = mem0_;
  seq_.assign(K_, {});
  ef_.assign(static_cast<size_t>(m_) * K_, kInfT);
  base_.assign(K_, 0);
  rest_load_.assign(K_, 0);
  rest_head_.assign(K_, 0);
  rest_tail_.assign(K_, 0);
  alloc_.assign(m_, -1);
  alloc_used_.assign(K_, 0);
  ub_ = evaluate_warm();
  if (!std::isfinite(ub_)) {
    best_dev_.clear();
    best_path_.clear();
    best_st_.clear();
  }
  eps_ = std::isfinite(ub_) ? 1e-9 * std::max(1e-300, std::fabs(ub_)) : 0;
  root_lb_ = bound();
  if (std::isfinite(ub_)) warm_alloc_ = best_dev_;
  if (!prunable(root_lb_)) {
    if (allocation_first()) alloc_dfs(0, root_lb_);
    else dfs(root_lb_, 0);
  }
  BnbResult r;
  r.nodes = nodes_;
  r.found = std::isfinite(ub_);
  const int n = pb_.num_ops();
  r.device.assign(n, -1);
  r.start.assign(n, 0);
  if (r.found) {
    r.objective = ub_;
    for (int i = 0; i < m_; ++i) {
      r.device[ops_[i]] = best_dev_[i];
      r.start[ops_[i]] = best_st_[i];
    }
    for (int v : best_path_) r.order.push_back(ops_[v]);
  }
  if (abort_) {
    r.status = abort_status_;
    r.bound = std::min(ub_, std::max(root_lb_, abort_bound_));
  } else {
    r.status = r.found ? SolveStatus::Optimal : SolveStatus::Feasible;
    r.bound = r.found ? ub_ : kInfT;  // complete search without a schedule: none exists
  }
  if (std::isfinite(r.bound)) r.bound = std::min(round_up(r.bound), r.found ? ub_ : kInfT);
  return r;
}

}  // namespace

BnbResult solve_latency_bnb(const Problem& pb, const BnbRequest& req, const SolveOptions& opt) {
  Bnb b(pb, req, opt);
  return b.run();
}

Schedule bnb_schedule(const Problem& pb, const SolveOptions& opt) {
  const auto t0 = Clock::now();
  const Graph& g = pb.graph();
  // Incumbent: simulated annealing from the best list schedule, a fifth of the time at most.
  SolveOptions ao = opt;
  ao.time_limit_s = opt.time_limit_s / 5;
  const Schedule warm = anneal_schedule(pb, ao);
  const LatencyResult wsim = simulate_latency(pb, warm);
  BnbRequest req;
  req.warm_device = warm.device;
  req.warm_order = run_order(pb, g.topo_order(), warm.device, wsim.start);
  SolveOptions bo = opt;
  bo.time_limit_s = std::max(0.0, opt.time_limit_s - std::chrono::duration<double>(Clock::now() - t0).count());
  const BnbResult r = solve_latency_bnb(pb, req, bo);
  if (!r.found) throw std::logic_error("bnb: the search lost its incumbent");
  Schedule s = schedule_from_order(pb, r.device, r.order);
  const LatencyResult sim = simulate_latency(pb, s);
  if (std::fabs(sim.makespan - r.objective) > 1e-9 * std::max(1.0, sim.makespan) + 1e-15)
    throw std::logic_error(fmt::format("bnb: the search's makespan {} differs from the simulator's {}", r.objective,
                                       sim.makespan));
  s.start = sim.start;
  s.claimed_makespan = sim.makespan;
  s.lower_bound = r.bound;
  s.status = r.status == SolveStatus::Optimal && !sim.memory_violations.empty() ? SolveStatus::Feasible : r.status;
  s.method = "bnb";
  s.notes = fmt::format("incumbent from anneal {}; branch and bound: {} nodes, {}, {}", format_seconds(wsim.makespan),
                        r.nodes, to_string(r.status),
                        format_seconds(std::chrono::duration<double>(Clock::now() - t0).count()));
  return s;
}

}  // namespace diviml

// Why the bound holds (docs/batch.md, "Bound"). Take any schedule of latency T <= t_hat of any
// split into cnt micro-batches, m_lo <= cnt <= m_hi, whose used devices are U. Micro-batch j (b_j
// samples) runs every op once on one device: its pattern x_j, with w_k(x_j) the time of its ops
// on k at b_j samples and, for each leaf P of the path forest, pi_P(x_j) the length of P's path
// under x_j: the leaf's least start (a source leaf: its graph inputs from the I/O device), the
// ops' times, a transfer wherever two consecutive ops are on different devices, the root's graph
// outputs back to the I/O device. With no contention pi_P(x_j) <= T <= t_hat for every P and j
// (x_j is "allowed"), and window[k] + sum_j w_k(x_j) <= T for k in U. For any lambda >= 0 on U
// with sum <= 1 and any rho,
//   t_hat >= T >= sum_k lambda_k window[k] + rho B + sum_j (lambda w(x_j) - rho b_j)
//          >= sum_k lambda_k window[k] + rho B + cnt r,   r = min over b of (a(b) - rho b),
// where a(b) is at most the least lambda w over the allowed patterns at b samples: for any
// eta >= 0 per leaf, min over all patterns x of lambda w(x) + sum_P eta_P (pi_P(x) - t_hat) (a
// Lagrangian of the path limits), which is a sum over the ops and the forest's edges, so a dynamic
// program over the forest finds it exactly (Pricer). cnt r >= m_lo r (r >= 0) or m_hi r (r < 0).
// Without rho: T >= sum_k lambda_k window[k] + sum_j a(b_j), and sum_j a(b_j) is at least the
// least such sum over every split of B into m_lo..m_hi sizes (least_split_sum, a knapsack), which
// the relaxation of sum_j b_j = B by rho only approaches; the larger of the two is used.
// So when that right-hand side exceeds t_hat, no schedule has T <= t_hat. Column generation over
// the allowed patterns found (its LP the Dantzig-Wolfe master) only chooses lambda and rho, and
// subgradient steps per size choose eta: the proof is the exact value above, whatever the LP
// solver's tolerances.
#include "solvers/batch/micro_batch_patterns.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include "solvers/bounds/certified_lp.h"

namespace diviml {

PathForest path_forest(const Problem& per_sample, const std::vector<double>& least_time) {
  const Graph& g = per_sample.graph();
  const int N = per_sample.num_ops(), K = per_sample.num_devices();
  std::vector<double> own(N, 0.0);
  for (OpId v = 0; v < N; ++v) {
    double t = kInf;
    for (int k = 0; k < K; ++k) t = std::min(t, least_time[static_cast<size_t>(v) * K + k]);
    own[v] = std::isfinite(t) ? t : 0.0;
  }
  PathForest f;
  f.parent.assign(N, kNoOp);
  f.parent_bytes.assign(N, 0.0);
  f.head.assign(N, 0.0);
  std::vector<double> down(N, 0.0);  // least time from v's start to a sink
  const std::vector<OpId>& topo = g.topo_order();
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    const OpId v = *it;
    double after = 0;
    for (OpId w : g.succ(v))
      if (f.parent[v] == kNoOp || down[w] > after) {
        after = down[w];
        f.parent[v] = w;
      }
    down[v] = own[v] + after;
  }
  for (OpId v : topo)
    for (OpId u : g.pred(v)) f.head[v] = std::max(f.head[v], f.head[u] + own[u]);
  std::vector<char> has_child(N, 0);
  for (OpId v = 0; v < N; ++v) {
    if (f.parent[v] == kNoOp) continue;
    has_child[f.parent[v]] = 1;
    for (TensorId t : g.ops[v].outputs) {
      const auto& cs = g.tensors[t].consumers;
      if (std::find(cs.begin(), cs.end(), f.parent[v]) != cs.end())
        f.parent_bytes[v] = std::max(f.parent_bytes[v], g.tensors[t].bytes);
    }
  }
  for (OpId v : topo)
    if (!has_child[v]) f.leaves.push_back(v);
  return f;
}

namespace {

/// One micro-batch pattern: its size, time per device and the length of each leaf's path.
struct Pattern {
  int b = 0;
  std::vector<double> work, path;
  double priced = 0;  ///< q under the multipliers it was priced with
};

/// The least-priced pattern at each size (the pricing problem of the master).
class Pricer {
 public:
  explicit Pricer(const PatternBoundRequest& req) : req_(req), pb_(*req.per_sample), f_(*req.forest) {
    const Graph& g = pb_.graph();
    const int N = pb_.num_ops();
    input_bytes_.assign(N, {});
    output_bytes_.assign(N, {});
    for (OpId v = 0; v < N; ++v) {
      if (!g.pred(v).empty()) continue;  // only a source leaf's start depends on its device
      for (TensorId t : g.ops[v].inputs)
        if (g.tensors[t].producer == kNoOp) input_bytes_[v].push_back(g.tensors[t].bytes);
    }
    for (OpId v = 0; v < N; ++v)
      if (f_.parent[v] == kNoOp)
        for (TensorId t : g.ops[v].outputs)
          if (g.tensors[t].is_graph_output) output_bytes_[v].push_back(g.tensors[t].bytes);
    leaf_index_.assign(N, -1);
    for (size_t i = 0; i < f_.leaves.size(); ++i) leaf_index_[f_.leaves[i]] = static_cast<int>(i);
    least_path_.assign(req.batch + 1, 0.0);
    const std::vector<double> no_load(pb_.num_devices(), 0.0);
    for (int b = 1; b <= req.batch; ++b) {
      // The leaves whose paths are longest at the ops' least times (no transfers: only to pick
      // them), each at its least length over the placements (the pricing with only it weighted).
      std::vector<std::pair<double, int>> longest = least_paths(b);
      std::sort(longest.rbegin(), longest.rend());
      if (longest.empty() || !std::isfinite(longest[0].first)) {
        least_path_[b] = kInf;
        continue;
      }
      for (size_t i = 0; i < std::min<size_t>(longest.size(), kExactLeaves); ++i) {
        std::vector<double> only(f_.leaves.size(), 0.0);
        only[longest[i].second] = 1;
        least_path_[b] = std::max(least_path_[b], price(b, no_load, only).priced);
      }
    }
  }

  /// A length that some path of every pattern at b samples reaches: above the latency, no
  /// pattern of that size is allowed.
  double least_path(int b) const { return least_path_[b]; }

  /// Whether every op can run on some device of `used`.
  bool feasible() const {
    const int K = pb_.num_devices();
    const std::vector<double>& p = (*req_.at)[0];
    for (OpId v = 0; v < pb_.num_ops(); ++v) {
      bool any = false;
      for (int k = 0; k < K; ++k) any = any || (req_.used[k] && std::isfinite(p[static_cast<size_t>(v) * K + k]));
      if (!any) return false;
    }
    return true;
  }

  /// The least q = sum lambda_k w_k + sum_P eta_P pi_P over the patterns of b samples, and the
  /// pattern.
  Pattern price(int b, const std::vector<double>& lambda, const std::vector<double>& eta) const {
    const Graph& g = pb_.graph();
    const int N = pb_.num_ops(), K = pb_.num_devices();
    const std::vector<double>& p = (*req_.at)[b - 1];
    auto time = [&](OpId v, int k) { return p[static_cast<size_t>(v) * K + k]; };
    const std::vector<OpId>& topo = g.topo_order();
    // weight[v]: the multipliers of the leaves whose path passes v (and v's edge to its parent).
    std::vector<double> weight(N, 0.0);
    for (OpId v : topo) {
      if (leaf_index_[v] >= 0) weight[v] += eta[leaf_index_[v]];
      if (f_.parent[v] != kNoOp) weight[f_.parent[v]] += weight[v];
    }
    // cost[v][k]: the least q of v's subtree with v on k; choice[c][k]: c's device then.
    std::vector<double> cost(static_cast<size_t>(N) * K, kInf);
    std::vector<int> choice(static_cast<size_t>(N) * K, -1);
    std::vector<double> below(static_cast<size_t>(N) * K, 0.0);  // children's part of cost
    auto at = [K](OpId v, int k) { return static_cast<size_t>(v) * K + k; };
    for (OpId v : topo) {
      for (int k = 0; k < K; ++k) {
        if (!req_.used[k] || !std::isfinite(time(v, k))) continue;
        double c = below[at(v, k)] + (lambda[k] + weight[v]) * time(v, k);
        if (leaf_index_[v] >= 0) c += weight[v] * start(v, k, b);
        if (f_.parent[v] == kNoOp) c += weight[v] * delivery(v, k, b);
        cost[at(v, k)] = c;
      }
      const OpId up = f_.parent[v];
      if (up == kNoOp) continue;
      for (int l = 0; l < K; ++l) {  // v's best device under each device l of its parent
        double best = kInf;
        for (int k = 0; k < K; ++k) {
          const double c = cost[at(v, k)] + weight[v] * pb_.comm_bytes(f_.parent_bytes[v] * b, k, l);
          if (c < best) {
            best = c;
            choice[at(v, l)] = k;
          }
        }
        below[at(up, l)] += best;
      }
    }
    // Devices from the roots down, then the pattern's work and paths.
    std::vector<int> dev(N, -1);
    for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
      const OpId v = *it;
      if (f_.parent[v] == kNoOp) {
        int best = -1;
        for (int k = 0; k < K; ++k)
          if (std::isfinite(cost[at(v, k)]) && (best < 0 || cost[at(v, k)] < cost[at(v, best)])) best = k;
        dev[v] = best;
      } else {
        dev[v] = choice[at(v, dev[f_.parent[v]])];
      }
    }
    Pattern pat;
    pat.b = b;
    pat.work.assign(K, 0.0);
    std::vector<double> down(N, 0.0);  // from v's start to its root's outputs delivered
    for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
      const OpId v = *it, up = f_.parent[v];
      pat.work[dev[v]] += time(v, dev[v]);
      down[v] = time(v, dev[v]) + (up == kNoOp ? delivery(v, dev[v], b)
                                               : pb_.comm_bytes(f_.parent_bytes[v] * b, dev[v], dev[up]) + down[up]);
    }
    pat.path.resize(f_.leaves.size());
    pat.priced = 0;
    for (size_t i = 0; i < f_.leaves.size(); ++i) {
      const OpId v = f_.leaves[i];
      pat.path[i] = start(v, dev[v], b) + down[v];
      pat.priced += eta[i] * pat.path[i];
    }
    for (int k = 0; k < K; ++k) pat.priced += lambda[k] * pat.work[k];
    return pat;
  }

 private:
  /// Leaves this many of the longest are priced exactly in least_path.
  static constexpr size_t kExactLeaves = 3;

  /// Per leaf (length, leaf index): its path at the ops' least times over the used devices, no
  /// transfers (+inf where no used device runs an op).
  std::vector<std::pair<double, int>> least_paths(int b) const {
    const Graph& g = pb_.graph();
    const int K = pb_.num_devices();
    const std::vector<double>& p = (*req_.at)[b - 1];
    const std::vector<OpId>& topo = g.topo_order();
    std::vector<double> down(pb_.num_ops(), 0.0);
    std::vector<std::pair<double, int>> out;
    for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
      const OpId v = *it;
      double own = kInf, start_v = kInf, end = kInf;
      for (int k = 0; k < K; ++k) {
        if (!req_.used[k] || !std::isfinite(p[static_cast<size_t>(v) * K + k])) continue;
        own = std::min(own, p[static_cast<size_t>(v) * K + k]);
        start_v = std::min(start_v, start(v, k, b));
        end = std::min(end, delivery(v, k, b));
      }
      down[v] = own + (f_.parent[v] == kNoOp ? end : down[f_.parent[v]]);
      if (leaf_index_[v] >= 0) out.push_back({start_v + down[v], leaf_index_[v]});
    }
    return out;
  }

  /// The least start of leaf v on k at b samples: its graph inputs from the I/O device (a source)
  /// or its least start at the ops' least times.
  double start(OpId v, int k, int b) const {
    double t = f_.head[v];
    if (pb_.io_device() >= 0)
      for (double x : input_bytes_[v]) t = std::max(t, pb_.comm_bytes(x * b, pb_.io_device(), k));
    return t;
  }
  double delivery(OpId v, int k, int b) const {
    double t = 0;
    if (pb_.io_device() >= 0)
      for (double x : output_bytes_[v]) t = std::max(t, pb_.comm_bytes(x * b, k, pb_.io_device()));
    return t;
  }

  const PatternBoundRequest& req_;
  const Problem& pb_;
  const PathForest& f_;
  std::vector<std::vector<double>> input_bytes_, output_bytes_;
  std::vector<int> leaf_index_;
  std::vector<double> least_path_;
};

}  // namespace

namespace {

/// Splits of B into lo..hi parts (each at most a.size() - 1) priced at most this many DP steps
/// exactly; above it the bound keeps only rho's relaxation of the sizes' sum.
constexpr long long kMaxSplitSumSteps = 2000000;

/// The least sum of a(b_j) over the splits of B into lo..hi micro-batches of b_j samples (a[b],
/// b = 1..a.size() - 1; +inf where no pattern of b samples is allowed): a knapsack over the
/// number of micro-batches and the samples so far. -inf when too large to price (no bound).
double least_split_sum(const std::vector<double>& a, int B, int lo, int hi) {
  const int b_max = static_cast<int>(a.size()) - 1;
  if (static_cast<long long>(hi) * B * b_max > kMaxSplitSumSteps) return -kInf;
  std::vector<double> d(B + 1, kInf), next(B + 1);  // d[s]: least sum of j parts with s samples
  d[0] = 0;
  double least = kInf;
  for (int j = 1; j <= hi; ++j) {
    std::fill(next.begin(), next.end(), kInf);
    for (int s = 0; s < B; ++s) {
      if (!std::isfinite(d[s])) continue;
      for (int b = 1; b <= std::min(b_max, B - s); ++b) next[s + b] = std::min(next[s + b], d[s] + a[b]);
    }
    d.swap(next);
    if (j >= lo) least = std::min(least, d[B]);
  }
  return least;
}

/// Splits of B into lo..hi micro-batches enumerated one by one (partition phase) up to this many;
/// masters of single splits per refutation up to kMaxSplitMasters.
constexpr int kMaxSplits = 1000;
constexpr int kMaxSplitMasters = 40;

/// Whether no schedule of the request has latency <= t_hat (prove()): then every micro-batch's
/// pattern is "allowed" (each of its paths at most t_hat) and the load rows alone, over allowed
/// patterns, must fit in t_hat. For multipliers lambda >= 0 (sum <= 1) and rho, T >= sum lambda
/// window + rho B + cnt min_b (a(b) - rho b), with a(b) at most the least lambda w over the allowed
/// patterns at b samples: any max over eta >= 0 (per leaf) of min_x lambda w(x) + sum_P eta_P
/// (pi_P(x) - t_hat) (a Lagrangian of the path limits, computed exactly by the pricing); or,
/// instead of rho B + cnt min_b (...), the least sum of a(b_j) over the splits themselves. Proven
/// when that exceeds t_hat. Column generation over the allowed patterns found picks lambda and rho;
/// subgradient steps per size pick eta. Where that does not prove it, each split of the batch
/// (sizes b_1..b_cnt) is refuted on its own: any lambda of any round bounds it by sum lambda window
/// + sum_j a(b_j), the best over the rounds is kept, and the split that is least refuted gets a
/// master of its own (one count row per size), whose lambda joins the rounds.
class Refuter {
 public:
  Refuter(const PatternBoundRequest& req, const Pricer& pricer, double t_hat, double scale)
      : req_(req), pricer_(pricer), t_hat_(t_hat), scale_(scale), K_(req.per_sample->num_devices()),
        b_max_(req.batch - req.m_lo + 1), P_(static_cast<int>(req.forest->leaves.size())),
        eta_(b_max_ + 1, std::vector<double>(P_, 0.0)) {}

  bool prove() {
    int n_used = 0;
    for (int k = 0; k < K_; ++k) n_used += req_.used[k] ? 1 : 0;
    Duals d;
    d.lambda.assign(K_, 0.0);
    for (int k = 0; k < K_; ++k) d.lambda[k] = req_.used[k] ? 1.0 / n_used : 0.0;
    const std::vector<char> every_size(b_max_ + 1, 1);
    for (int round = 0; round <= req_.max_rounds; ++round) {
      std::vector<Pattern> found;
      const Round& r = price_round(d.lambda, every_size, [&](const Pattern& x, double lw) {
        return round == 0 || lw - d.rho * x.b - d.sigma < -1e-9 * scale_;  // round 0: no duals yet
      }, found);
      double least = kInf;  // min over b of a(b) - rho b
      for (int b = 1; b <= b_max_; ++b) least = std::min(least, r.a[b] - d.rho * b);
      double value = std::max(d.rho * req_.batch + (least >= 0 ? req_.m_lo : req_.m_hi) * least,
                              least_split_sum(r.a, req_.batch, req_.m_lo, req_.m_hi));
      if (refutes(r.window + value)) return true;
      if (round == req_.max_rounds || (found.empty() && round > 0)) break;
      columns_.insert(columns_.end(), found.begin(), found.end());
      if (!master(nullptr, &d)) break;
    }
    return prove_each_split();
  }

 private:
  /// Per round: sum lambda window and a(b) (-inf where not priced, +inf where nothing is allowed).
  struct Round {
    double window = 0;
    std::vector<double> a;
  };
  struct Duals {
    std::vector<double> lambda;
    double rho = 0, sigma = 0;      // samples and count rows
    std::vector<double> size_row;   // per size (a single split's master)
  };
  /// One split of the batch: (size, count) per distinct size, and the best bound of the rounds
  /// already applied to it (rounds_[0..rounds_seen)).
  struct Split {
    std::vector<std::pair<int, int>> parts;
    double best = -kInf;
    size_t rounds_seen = 0;
    bool refuted = false;
  };

  bool allowed(const Pattern& x) const {
    for (double len : x.path)
      if (len > t_hat_) return false;
    return true;
  }

  /// a(b) for the sizes `want` under lambda: per size the best Lagrangian value of the path limits
  /// over a few eta steps; the allowed patterns that `take` accepts go to `found`.
  template <class Take>
  const Round& price_round(const std::vector<double>& lambda, const std::vector<char>& want, Take take,
                           std::vector<Pattern>& found) {
    constexpr int kSteps = 25;
    Round out;
    out.a.assign(b_max_ + 1, -kInf);
    for (int k = 0; k < K_; ++k) out.window += lambda[k] * req_.window[k];
    for (int b = 1; b <= b_max_; ++b) {
      if (!want[b]) continue;
      if (pricer_.least_path(b) > t_hat_) {  // no allowed pattern: a(b) = +inf
        out.a[b] = kInf;
        continue;
      }
      std::vector<double>& eta = eta_[b];
      double a = -kInf, target = kInf;  // the best dual value; the least lambda w of an allowed pattern
      for (int step = 0; step < kSteps; ++step) {
        const Pattern x = pricer_.price(b, lambda, eta);
        double value = x.priced, norm = 0, lw = 0;
        for (int i = 0; i < P_; ++i) {
          value -= eta[i] * t_hat_;
          const double g = x.path[i] - t_hat_;  // subgradient (projected: no negative step at 0)
          if (g > 0 || eta[i] > 0) norm += g * g;
        }
        for (int k = 0; k < K_; ++k) lw += lambda[k] * x.work[k];
        a = std::max(a, value);
        if (allowed(x)) {
          target = std::min(target, lw);
          if (take(x, lw)) found.push_back(x);
        }
        if (!(norm > 0) || target - a <= 1e-6 * std::max(a, 1e-12)) break;
        // Polyak's step toward the best allowed value (or a tenth of the scale above, none yet).
        const double gap = std::isfinite(target) ? target - value : 0.1 * scale_;
        const double size = std::max(gap, 1e-3 * scale_) / norm;
        for (int i = 0; i < P_; ++i) eta[i] = std::max(0.0, eta[i] + size * (x.path[i] - t_hat_));
      }
      out.a[b] = a;
    }
    rounds_.push_back(std::move(out));
    return rounds_.back();
  }

  /// The master over the allowed patterns found: the count and samples rows (split == nullptr), or
  /// one row per size of `split` (count[b] micro-batches of b samples); with an artificial column
  /// per row that keeps it feasible (no pattern: the proof never uses it). Sets the duals.
  bool master(const std::vector<int>* split, Duals* d) const {
    const int B = req_.batch, lo = req_.m_lo, hi = req_.m_hi;
    BoxedLp lp;
    double t_max = 1;
    for (int k = 0; k < K_; ++k) t_max += req_.used[k] ? req_.window[k] / scale_ : 0.0;
    std::vector<std::pair<int, double>> count, samples;
    std::vector<std::vector<std::pair<int, double>>> load(K_), per_size(b_max_ + 1);
    for (const Pattern& c : columns_) {
      if (split && (*split)[c.b] == 0) continue;
      const int y = lp.add_col(0, hi, 0);
      count.push_back({y, 1.0});
      samples.push_back({y, static_cast<double>(c.b)});
      per_size[c.b].push_back({y, 1.0});
      for (int k = 0; k < K_; ++k)
        if (req_.used[k] && c.work[k] > 0) {
          load[k].push_back({y, c.work[k] / scale_});
          t_max += hi * c.work[k] / scale_;
        }
    }
    const double big = 4 * t_hat_ / scale_;  // an artificial share costs the load more than the latency
    std::vector<int> rows(b_max_ + 1, -1);
    int row_count = -1, row_samples = -1, artificials = 0;
    auto artificial = [&](std::vector<std::pair<int, double>>& row, double coef) {
      const int art = lp.add_col(0, hi, 0);
      row.push_back({art, coef});
      ++artificials;
      for (int k = 0; k < K_; ++k)
        if (req_.used[k]) load[k].push_back({art, big});
    };
    if (split) {
      for (int b = 1; b <= b_max_; ++b)
        if ((*split)[b] > 0) artificial(per_size[b], 1.0);
    } else {
      artificial(count, 1.0);
      samples.push_back({count.back().first, static_cast<double>(B) / lo});
    }
    const int T = lp.add_col(0, t_max + hi * big * artificials, 1.0);
    if (split) {
      for (int b = 1; b <= b_max_; ++b)
        if ((*split)[b] > 0) rows[b] = lp.add_row((*split)[b], (*split)[b], per_size[b]);
    } else {
      row_count = lp.add_row(lo, hi, count);
      row_samples = lp.add_row(B, B, samples);
    }
    std::vector<int> row_load(K_, -1);
    for (int k = 0; k < K_; ++k) {
      if (!req_.used[k]) continue;
      load[k].push_back({T, -1.0});
      row_load[k] = lp.add_row(-kInf, -req_.window[k] / scale_, load[k]);
    }
    const std::vector<double> dual = lp.row_duals();
    if (dual.empty()) return false;
    double sum = 0;
    for (int k = 0; k < K_; ++k) sum += d->lambda[k] = req_.used[k] ? std::max(0.0, -dual[row_load[k]]) : 0.0;
    if (sum > 1)
      for (double& x : d->lambda) x /= sum;
    if (split) {
      for (int b = 1; b <= b_max_; ++b) d->size_row[b] = rows[b] >= 0 ? dual[rows[b]] * scale_ : 0.0;
    } else {
      d->rho = dual[row_samples] * scale_;
      d->sigma = dual[row_count] * scale_;
    }
    return true;
  }

  /// Every split of B into m_lo..m_hi sizes whose sizes all have an allowed pattern; false when
  /// there are more than kMaxSplits.
  bool enumerate_splits(std::vector<Split>* out) const {
    std::vector<int> sizes;  // non-increasing
    bool ok = true;
    auto rec = [&](auto&& self, int left, int largest) -> void {
      if (!ok) return;
      const int parts = static_cast<int>(sizes.size());
      if (left == 0) {
        if (parts < req_.m_lo) return;
        Split s;
        for (int b : sizes)
          if (s.parts.empty() || s.parts.back().first != b) s.parts.push_back({b, 1});
          else ++s.parts.back().second;
        out->push_back(std::move(s));
        ok = static_cast<int>(out->size()) <= kMaxSplits;
        return;
      }
      if (parts == req_.m_hi) return;
      for (int b = std::min(largest, left); b >= 1; --b) {
        if (static_cast<long long>(b) * (req_.m_hi - parts) < left) break;  // the rest cannot fit
        if (pricer_.least_path(b) > t_hat_) continue;
        sizes.push_back(b);
        self(self, left - b, b);
        sizes.pop_back();
      }
    };
    rec(rec, req_.batch, b_max_);
    return ok;
  }

  /// A round's bound on one split: sum lambda window + sum_j a(b_j).
  static double round_value(const Round& r, const Split& s) {
    double v = r.window;
    for (const auto& [b, n] : s.parts) v += n * r.a[b];
    return v;
  }

  bool prove_each_split() {
    std::vector<Split> splits;
    if (!enumerate_splits(&splits)) return false;
    for (int masters = 0; masters <= kMaxSplitMasters; ++masters) {
      Split* weakest = nullptr;
      for (Split& s : splits) {
        if (s.refuted) continue;
        for (; s.rounds_seen < rounds_.size(); ++s.rounds_seen)  // only the rounds added since
          s.best = std::max(s.best, round_value(rounds_[s.rounds_seen], s));
        s.refuted = refutes(s.best);
        if (!s.refuted && (!weakest || s.best < weakest->best)) weakest = &s;
      }
      if (!weakest) return true;  // every split refuted
      if (masters == kMaxSplitMasters || !prove_split(*weakest)) return false;
    }
    return false;
  }

  bool refutes(double value) const { return value * (1 - 1e-12) > t_hat_; }

  /// Column generation for one split (its own lambda); true when a round refutes it.
  bool prove_split(const Split& s) {
    std::vector<int> count(b_max_ + 1, 0);
    std::vector<char> want(b_max_ + 1, 0);
    for (const auto& [b, n] : s.parts) {
      count[b] = n;
      want[b] = 1;
    }
    Duals d;
    d.lambda.assign(K_, 0.0);
    d.size_row.assign(b_max_ + 1, 0.0);
    if (!master(&count, &d)) return false;
    for (int round = 0; round < req_.max_rounds; ++round) {
      std::vector<Pattern> found;
      const Round& r = price_round(d.lambda, want, [&](const Pattern& x, double lw) {
        return lw - d.size_row[x.b] < -1e-9 * scale_;
      }, found);
      if (refutes(round_value(r, s))) return true;
      if (found.empty()) return false;
      columns_.insert(columns_.end(), found.begin(), found.end());
      if (!master(&count, &d)) return false;
    }
    return false;
  }

  const PatternBoundRequest& req_;
  const Pricer& pricer_;
  const double t_hat_, scale_;
  const int K_, b_max_, P_;
  std::vector<std::vector<double>> eta_;  // per size: the path multipliers (a warm start)
  std::vector<Pattern> columns_;
  std::deque<Round> rounds_;  // stable references for price_round's result
};

bool no_schedule_within(const PatternBoundRequest& req, const Pricer& pricer, double t_hat, double scale) {
  return Refuter(req, pricer, t_hat, scale).prove();
}

}  // namespace

double micro_batch_pattern_bound(const PatternBoundRequest& req, double known) {
  if (!req.forest || req.m_lo < 1 || req.m_hi < req.m_lo || req.m_lo > req.batch) return known;
  const Pricer pricer(req);
  if (!pricer.feasible()) return kInf;
  double scale = 0;  // seconds to ~1 for CLP's tolerances: the slowest op at the largest size
  for (double x : req.at->back())
    if (std::isfinite(x)) scale = std::max(scale, x);
  if (!(scale > 0) || !(known > 0)) return known;
  auto stopped = [&] { return req.interrupt && req.interrupt->load(); };
  // Raise the value while nothing fits below it: doubling steps from 2%, then halving ones.
  double best = known, step = 0.02 * known;
  while (!stopped() && no_schedule_within(req, pricer, best + step, scale)) {
    best += step;
    step *= 2;
  }
  for (int i = 0; i < 5 && !stopped(); ++i) {
    step /= 2;
    if (no_schedule_within(req, pricer, best + step, scale)) best += step;
  }
  return best;
}

}  // namespace diviml

// Modularity split of the series modules into MILP-sized parts (DESIGN section 6.2).
//
// A module whose size (incomparable pairs, or ops with SolveOptions::max_part_ops > 0) exceeds
// the budget is split by Louvain community detection (igraph_community_multilevel, seeded) on its
// undirected graph weighted by transfer cost, so that the cheap-to-cut edges separate parts. The
// communities are condensed into a graph; communities on a cycle are merged (strongly connected
// components), which leaves a DAG of convex pieces (a path between two ops of a piece never
// leaves it: a detour through another piece would put both on a cycle). A piece still above the
// budget is split again the same way, and by contiguous chunks of its topological order when
// community detection makes no progress. The pieces, in a topological order of the condensed
// DAG, are then packed greedily into parts within the budget. Every edge goes from an earlier
// part to a later one (or stays inside a part), which is what solving parts in order needs.
#include <igraph.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <mutex>
#include <numeric>
#include <queue>
#include <vector>

#include "problem/problem.h"
#include "solvers/split/split.h"

namespace diviml {

namespace {

/// Descendant bitsets restricted to a set S of ops, for every op in the topo-rank span of S.
/// Paths through ops outside S count (every path between two ops of S stays inside the span).
class SetClosure {
 public:
  SetClosure(const Graph& g, const std::vector<OpId>& set) : g_(g) {
    const auto& rank = g.topo_rank();
    members_ = set;
    std::sort(members_.begin(), members_.end(), [&](OpId a, OpId b) { return rank[a] < rank[b]; });
    members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
    m_ = static_cast<int>(members_.size());
    words_ = (static_cast<size_t>(m_) + 63) / 64;
    if (m_ == 0) return;
    lo_ = rank[members_.front()];
    hi_ = rank[members_.back()];
    bit_.assign(static_cast<size_t>(hi_ - lo_ + 1), -1);
    for (int i = 0; i < m_; ++i) bit_[rank[members_[i]] - lo_] = i;
    rows_.assign(static_cast<size_t>(hi_ - lo_ + 1) * words_, 0);
    const auto& topo = g.topo_order();
    for (int pos = hi_; pos >= lo_; --pos) {
      uint64_t* row = &rows_[static_cast<size_t>(pos - lo_) * words_];
      for (OpId w : g.succ(topo[pos])) {
        const int pw = rank[w];
        if (pw > hi_) continue;
        const uint64_t* rw = &rows_[static_cast<size_t>(pw - lo_) * words_];
        for (size_t i = 0; i < words_; ++i) row[i] |= rw[i];
        const int b = bit_[pw - lo_];
        if (b >= 0) row[b >> 6] |= uint64_t{1} << (b & 63);
      }
    }
  }
  int size() const { return m_; }
  const std::vector<OpId>& members() const { return members_; }
  /// Bit index of a member op (-1 if not a member).
  int index(OpId v) const {
    const int p = g_.topo_rank()[v];
    return (p < lo_ || p > hi_) ? -1 : bit_[p - lo_];
  }
  /// Does member i reach member j?
  bool reaches_idx(int i, int j) const {
    const uint64_t* r = row_of_member(i);
    return (r[j >> 6] >> (j & 63)) & 1u;
  }
  const uint64_t* row_of_member(int i) const {
    return &rows_[static_cast<size_t>(g_.topo_rank()[members_[i]] - lo_) * words_];
  }
  size_t words() const { return words_; }

  /// Incomparable pairs inside a subset given as a member bitmask.
  long long pairs_in(const std::vector<uint64_t>& mask) const {
    long long cnt = 0, comparable = 0;
    for (size_t w = 0; w < words_; ++w) cnt += __builtin_popcountll(mask[w]);
    for (int i = 0; i < m_; ++i) {
      if (!((mask[i >> 6] >> (i & 63)) & 1u)) continue;
      const uint64_t* r = row_of_member(i);
      for (size_t w = 0; w < words_; ++w) comparable += __builtin_popcountll(r[w] & mask[w]);
    }
    return cnt * (cnt - 1) / 2 - comparable;
  }
  /// Incomparable pairs between two disjoint subsets.
  long long cross_pairs(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) const {
    long long na = 0, nb = 0, comparable = 0;
    for (size_t w = 0; w < words_; ++w) {
      na += __builtin_popcountll(a[w]);
      nb += __builtin_popcountll(b[w]);
    }
    for (int i = 0; i < m_; ++i) {
      const bool ia = (a[i >> 6] >> (i & 63)) & 1u, ib = (b[i >> 6] >> (i & 63)) & 1u;
      if (!ia && !ib) continue;
      const uint64_t* r = row_of_member(i);
      const std::vector<uint64_t>& other = ia ? b : a;
      for (size_t w = 0; w < words_; ++w) comparable += __builtin_popcountll(r[w] & other[w]);
    }
    return na * nb - comparable;
  }
  std::vector<uint64_t> mask_of(const std::vector<OpId>& ops) const {
    std::vector<uint64_t> m(words_, 0);
    for (OpId v : ops) {
      const int i = index(v);
      if (i >= 0) m[i >> 6] |= uint64_t{1} << (i & 63);
    }
    return m;
  }

 private:
  const Graph& g_;
  std::vector<OpId> members_;
  int m_ = 0, lo_ = 0, hi_ = -1;
  size_t words_ = 0;
  std::vector<int> bit_;
  std::vector<uint64_t> rows_;
};

using EdgeWeight = std::function<double(TensorId)>;

std::mutex& igraph_mutex() {
  static std::mutex m;
  return m;
}

/// Louvain communities of the undirected graph induced by `ops` (membership per position of
/// `ops`). Returns all zeros on failure or when there are no edges.
std::vector<int> communities(const Graph& g, const std::vector<OpId>& ops, const EdgeWeight& weight,
                             uint64_t seed) {
  const int m = static_cast<int>(ops.size());
  std::vector<int> local(g.num_ops(), -1);
  for (int i = 0; i < m; ++i) local[ops[i]] = i;
  // Undirected edge weights: sum over tensors between the two ops.
  std::vector<std::pair<std::pair<int, int>, double>> edges;
  for (int i = 0; i < m; ++i)
    for (TensorId t : g.ops[ops[i]].outputs)
      for (OpId c : g.tensors[t].consumers) {
        const int j = local[c];
        if (j < 0 || j == i) continue;
        edges.push_back({{std::min(i, j), std::max(i, j)}, weight(t)});
      }
  std::sort(edges.begin(), edges.end());
  std::vector<std::pair<std::pair<int, int>, double>> merged;
  for (const auto& e : edges) {
    if (!merged.empty() && merged.back().first == e.first)
      merged.back().second += e.second;
    else
      merged.push_back(e);
  }
  std::vector<int> membership(m, 0);
  if (merged.empty() || m < 2) return membership;
  double total = 0;
  for (const auto& e : merged) total += std::max(0.0, e.second);
  // Zero-cost edges still tie ops together: add a small floor relative to the mean weight.
  const double floor_w = total > 0 ? 1e-3 * total / static_cast<double>(merged.size()) : 1.0;

  std::lock_guard<std::mutex> lock(igraph_mutex());
  igraph_error_handler_t* old_handler = igraph_set_error_handler(igraph_error_handler_ignore);
  igraph_vector_int_t ev;
  igraph_vector_t w;
  igraph_vector_int_t memb;
  igraph_t graph;
  bool ok = igraph_vector_int_init(&ev, static_cast<igraph_integer_t>(2 * merged.size())) == IGRAPH_SUCCESS;
  ok = ok && igraph_vector_init(&w, static_cast<igraph_integer_t>(merged.size())) == IGRAPH_SUCCESS;
  ok = ok && igraph_vector_int_init(&memb, 0) == IGRAPH_SUCCESS;
  if (ok) {
    for (size_t e = 0; e < merged.size(); ++e) {
      VECTOR(ev)[2 * e] = merged[e].first.first;
      VECTOR(ev)[2 * e + 1] = merged[e].first.second;
      VECTOR(w)[e] = std::max(0.0, merged[e].second) + floor_w;
    }
    if (igraph_create(&graph, &ev, m, IGRAPH_UNDIRECTED) == IGRAPH_SUCCESS) {
      igraph_rng_seed(igraph_rng_default(), static_cast<igraph_uint_t>(seed));
      if (igraph_community_multilevel(&graph, &w, 1.0, &memb, nullptr, nullptr) == IGRAPH_SUCCESS &&
          igraph_vector_int_size(&memb) == m)
        for (int i = 0; i < m; ++i) membership[i] = static_cast<int>(VECTOR(memb)[i]);
      igraph_destroy(&graph);
    }
    igraph_vector_int_destroy(&memb);
    igraph_vector_destroy(&w);
    igraph_vector_int_destroy(&ev);
  }
  igraph_set_error_handler(old_handler);
  return membership;
}

class Splitter {
 public:
  Splitter(const Graph& g, const SetClosure& closure, const EdgeWeight& weight, const SolveOptions& opt)
      : g_(g), cl_(closure), weight_(weight), opt_(opt) {}

  long long size_of(const std::vector<OpId>& ops) const {
    if (opt_.max_part_ops > 0) return static_cast<long long>(ops.size());
    return cl_.pairs_in(cl_.mask_of(ops));
  }
  long long budget() const {
    return opt_.max_part_ops > 0 ? opt_.max_part_ops : std::max<long>(opt_.max_part_pairs, 0);
  }

  /// Splits a convex set (ops in topo order) into convex pieces within the budget, in a
  /// topological order of pieces.
  void split(const std::vector<OpId>& set, std::vector<std::vector<OpId>>& out, int depth) {
    if (size_of(set) <= budget() || set.size() <= 1) {
      out.push_back(set);
      return;
    }
    std::vector<std::vector<OpId>> groups;
    if (depth < 8) groups = condensed_communities(set);
    if (groups.size() <= 1) {
      chunk(set, out);
      return;
    }
    for (auto& grp : groups) split(grp, out, depth + 1);
  }

 private:
  /// Communities of `set`, SCC-merged, in a topological order; each sorted by topo rank.
  std::vector<std::vector<OpId>> condensed_communities(const std::vector<OpId>& set) {
    const int m = static_cast<int>(set.size());
    std::vector<int> memb = communities(g_, set, weight_, opt_.seed + static_cast<uint64_t>(set.front()));
    int nc = 0;
    for (int c : memb) nc = std::max(nc, c + 1);
    if (nc <= 1) return {};
    std::vector<int> local(g_.num_ops(), -1);
    for (int i = 0; i < m; ++i) local[set[i]] = i;
    // Community graph (edges inside the set suffice: the set is convex).
    std::vector<std::vector<int>> adj(nc);
    for (int i = 0; i < m; ++i)
      for (OpId w : g_.succ(set[i])) {
        const int j = local[w];
        if (j >= 0 && memb[j] != memb[i]) adj[memb[i]].push_back(memb[j]);
      }
    // Tarjan SCC (iterative).
    std::vector<int> idx(nc, -1), low(nc, 0), comp(nc, -1);
    std::vector<char> on(nc, 0);
    std::vector<int> stack;
    int counter = 0, ncomp = 0;
    for (int s = 0; s < nc; ++s) {
      if (idx[s] >= 0) continue;
      std::vector<std::pair<int, size_t>> call{{s, 0}};
      idx[s] = low[s] = counter++;
      stack.push_back(s);
      on[s] = 1;
      while (!call.empty()) {
        auto& [v, it] = call.back();
        if (it < adj[v].size()) {
          const int w = adj[v][it++];
          if (idx[w] < 0) {
            idx[w] = low[w] = counter++;
            stack.push_back(w);
            on[w] = 1;
            call.push_back({w, 0});
          } else if (on[w]) {
            low[v] = std::min(low[v], idx[w]);
          }
        } else {
          const int vv = v;
          call.pop_back();
          if (!call.empty()) low[call.back().first] = std::min(low[call.back().first], low[vv]);
          if (low[vv] == idx[vv]) {
            int w;
            do {
              w = stack.back();
              stack.pop_back();
              on[w] = 0;
              comp[w] = ncomp;
            } while (w != vv);
            ++ncomp;
          }
        }
      }
    }
    if (ncomp <= 1) return {};
    // Topological order of the SCC DAG (Kahn, ties by the smallest topo rank inside).
    const auto& rank = g_.topo_rank();
    std::vector<std::vector<OpId>> groups(ncomp);
    for (int i = 0; i < m; ++i) groups[comp[memb[i]]].push_back(set[i]);  // set is in topo order
    std::vector<std::vector<int>> cadj(ncomp);
    std::vector<int> indeg(ncomp, 0);
    for (int c = 0; c < nc; ++c)
      for (int d : adj[c])
        if (comp[c] != comp[d]) cadj[comp[c]].push_back(comp[d]);
    for (auto& a : cadj) {
      std::sort(a.begin(), a.end());
      a.erase(std::unique(a.begin(), a.end()), a.end());
      for (int d : a) ++indeg[d];
    }
    using Item = std::pair<int, int>;  // (first topo rank, comp)
    std::priority_queue<Item, std::vector<Item>, std::greater<>> ready;
    for (int c = 0; c < ncomp; ++c)
      if (indeg[c] == 0) ready.push({rank[groups[c].front()], c});
    std::vector<std::vector<OpId>> ordered;
    while (!ready.empty()) {
      const int c = ready.top().second;
      ready.pop();
      ordered.push_back(std::move(groups[c]));
      for (int d : cadj[c])
        if (--indeg[d] == 0) ready.push({rank[groups[d].front()], d});
    }
    return ordered;
  }

  /// Contiguous chunks of the topological order within the budget (each is convex).
  void chunk(const std::vector<OpId>& set, std::vector<std::vector<OpId>>& out) const {
    const long long b = budget();
    std::vector<OpId> cur;
    std::vector<int> cur_idx;
    long long cur_size = 0;
    for (OpId v : set) {
      long long add = 1;
      const int iv = cl_.index(v);
      if (opt_.max_part_ops <= 0) {
        add = 0;
        for (int iu : cur_idx)
          if (!cl_.reaches_idx(iu, iv) && !cl_.reaches_idx(iv, iu)) ++add;
      }
      if (!cur.empty() && cur_size + add > b) {
        out.push_back(std::move(cur));
        cur.clear();
        cur_idx.clear();
        cur_size = opt_.max_part_ops > 0 ? 1 : 0;
      } else {
        cur_size += add;
      }
      cur.push_back(v);
      cur_idx.push_back(iv);
    }
    if (!cur.empty()) out.push_back(std::move(cur));
  }

  const Graph& g_;
  const SetClosure& cl_;
  const EdgeWeight& weight_;
  const SolveOptions& opt_;
};

Partition split_impl(const Graph& g, const SeriesDecomposition& d, const SolveOptions& opt,
                     const EdgeWeight& weight) {
  Partition p;
  const auto& rank = g.topo_rank();
  for (size_t mi = 0; mi < d.modules.size(); ++mi) {
    const std::vector<OpId>& module = d.modules[mi];
    if (module.empty()) continue;
    std::vector<OpId> sorted = module;
    std::sort(sorted.begin(), sorted.end(), [&](OpId a, OpId b) { return rank[a] < rank[b]; });
    // Cheap exit without building a closure when the op budget already fits.
    if (opt.max_part_ops > 0 && static_cast<long long>(sorted.size()) <= opt.max_part_ops) {
      p.parts.push_back(sorted);
      p.module_of_part.push_back(static_cast<int>(mi));
      continue;
    }
    SetClosure cl(g, sorted);
    Splitter sp(g, cl, weight, opt);
    std::vector<std::vector<OpId>> pieces;
    sp.split(sorted, pieces, 0);
    // Pack consecutive pieces into parts within the budget.
    const long long budget = sp.budget();
    std::vector<OpId> cur;
    std::vector<uint64_t> cur_mask(cl.words(), 0);
    long long cur_size = 0;
    auto flush = [&]() {
      if (cur.empty()) return;
      std::sort(cur.begin(), cur.end(), [&](OpId a, OpId b) { return rank[a] < rank[b]; });
      p.parts.push_back(std::move(cur));
      p.module_of_part.push_back(static_cast<int>(mi));
      cur.clear();
      std::fill(cur_mask.begin(), cur_mask.end(), 0);
      cur_size = 0;
    };
    for (const auto& piece : pieces) {
      const std::vector<uint64_t> pm = cl.mask_of(piece);
      long long piece_size, merged;
      if (opt.max_part_ops > 0) {
        piece_size = static_cast<long long>(piece.size());
        merged = cur_size + piece_size;
      } else {
        piece_size = cl.pairs_in(pm);
        merged = cur.empty() ? piece_size : cur_size + piece_size + cl.cross_pairs(cur_mask, pm);
      }
      if (!cur.empty() && merged > budget) {
        flush();
        merged = piece_size;
      }
      cur.insert(cur.end(), piece.begin(), piece.end());
      for (size_t w = 0; w < pm.size(); ++w) cur_mask[w] |= pm[w];
      cur_size = merged;
    }
    flush();
  }
  return p;
}

}  // namespace

long long count_incomparable_pairs(const Graph& g, const std::vector<OpId>& ops) {
  SetClosure cl(g, ops);
  std::vector<uint64_t> all(cl.words(), ~uint64_t{0});
  if (cl.size() % 64 != 0 && !all.empty()) all.back() = (uint64_t{1} << (cl.size() % 64)) - 1;
  return cl.pairs_in(all);
}

Partition split_into_parts(const Problem& pb, const SeriesDecomposition& d, const SolveOptions& opt) {
  // Transfer seconds of the cheapest link (0 with free communication, then the floor applies).
  return split_impl(pb.graph(), d, opt, [&pb](TensorId t) { return pb.min_comm(t); });
}

Partition split_into_parts(const Graph& g, const SeriesDecomposition& d, const SolveOptions& opt) {
  return split_impl(g, d, opt, [&g](TensorId t) { return g.tensors[t].bytes; });
}

}  // namespace diviml

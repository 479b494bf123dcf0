// Series decomposition (DESIGN section 6.1): cut vertices and the modules between them.
//
// Definition. Add a virtual source s with an edge to every op without op predecessors and a
// virtual sink t with an edge from every op without op successors. A cut vertex is an op that lies
// on every s-t path (it dominates t). Graph inputs/outputs are tensors, not ops: an op that reads
// a graph input but has op predecessors gets no edge from s, because an input is present from
// time 0 and never occupies a device, so it cannot break the time-interval argument the modules
// exist for (DESIGN section 7). Likewise an intermediate graph output does not connect to t.
//
// Algorithm (linear, O(V + E)): fix any topological order with positions rank(.), s at -1 and
// t at n. Claim: v is a cut vertex  <=>  no edge (a, b) of the augmented DAG "jumps over" v,
// i.e. has rank(a) < rank(v) < rank(b).
//   (<=) Take any s-t path. Ranks increase strictly along it from -1 to n. Let b be the first
//        vertex on it with rank(b) >= rank(v) and a its predecessor on the path (rank(a) <
//        rank(v)). If rank(b) > rank(v) the edge (a, b) jumps over v, contradiction; so b = v.
//   (=>) Let (a, b) jump over v. Every vertex is reachable from s (walk predecessors back to an op
//        without predecessors) and reaches t (walk successors to a sink). The path s ~> a -> b ~> t
//        has ranks <= rank(a) < rank(v) before the edge and >= rank(b) > rank(v) after: it avoids v.
// The "covered" positions are marked with a difference array over the edges: cut vertices are
// the positions with zero coverage. The result does not depend on the topological order chosen.
//
// Modules. For a cut vertex c, every op u with rank(u) < rank(c) is an ancestor of c (u lies on
// some s-t path, which passes through c, after u since ranks increase) and every op with a larger
// rank is a descendant. So the modules are the contiguous segments of the topological order ending
// at each cut vertex (plus a last segment after the last cut vertex, if any ops remain), and every
// op-to-op edge stays inside a module or leaves the cut vertex that ends the previous module.
#include "graph/series.h"

#include <algorithm>
#include <vector>

namespace diviml {

SeriesDecomposition series_decomposition(const Graph& g) {
  SeriesDecomposition d;
  const int n = g.num_ops();
  if (n == 0) return d;
  const auto& topo = g.topo_order();
  const auto& rank = g.topo_rank();
  // cover[i] counts edges (a, b) with rank(a) < i < rank(b); diff array over positions 0..n-1.
  std::vector<int> diff(static_cast<size_t>(n) + 1, 0);
  auto cover_open = [&](int lo, int hi) {  // positions strictly between lo and hi
    if (hi - lo <= 1) return;
    diff[lo + 1] += 1;
    diff[hi] -= 1;
  };
  for (OpId v = 0; v < n; ++v) {
    if (g.pred(v).empty()) cover_open(-1, rank[v]);
    if (g.succ(v).empty()) cover_open(rank[v], n);
    for (OpId w : g.succ(v)) cover_open(rank[v], rank[w]);
  }
  std::vector<OpId> current;
  int cover = 0;
  for (int i = 0; i < n; ++i) {
    cover += diff[i];
    const OpId v = topo[i];
    current.push_back(v);
    if (cover == 0) {
      d.cut_vertices.push_back(v);
      d.modules.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) d.modules.push_back(std::move(current));
  return d;
}

std::vector<int> independent_waves(const Graph& g, const std::vector<std::vector<OpId>>& groups) {
  const int P = static_cast<int>(groups.size());
  std::vector<int> wave(P, 0);
  const auto& rank = g.topo_rank();
  const auto& topo = g.topo_order();
  std::vector<char> reached(g.num_ops(), 0), in_part(g.num_ops(), 0);
  int wave_start = 0;
  for (int j = 1; j < P; ++j) {
    // Forward reachability from the ops of the current wave, up to part j's last op.
    int lo = g.num_ops(), hi = -1;
    for (int i = wave_start; i < j; ++i)
      for (OpId v : groups[i]) lo = std::min(lo, rank[v]), reached[v] = 1;
    for (OpId v : groups[j]) hi = std::max(hi, rank[v]), in_part[v] = 1;
    bool depends = false;
    for (int r = lo; r <= hi && !depends; ++r) {
      const OpId v = topo[r];
      if (!reached[v]) continue;
      for (OpId w : g.succ(v)) {
        reached[w] = 1;
        depends = depends || in_part[w];
      }
    }
    std::fill(reached.begin(), reached.end(), 0);
    for (OpId v : groups[j]) in_part[v] = 0;
    if (depends) wave_start = j;
    wave[j] = wave[j - 1] + (depends ? 1 : 0);
  }
  return wave;
}

}  // namespace diviml

// Series decomposition of a DAG (DESIGN section 6.1; docs/split.md section 1): the ops on every
// source-to-sink path and the modules between them, and the waves of independent op groups.
#pragma once

#include <vector>

#include "graph/graph.h"

namespace diviml {

/// Series decomposition: cut vertices (ops on every source-to-sink path) in topological order,
/// and the modules between them (each module ends with its cut vertex, except possibly the last).
struct SeriesDecomposition {
  std::vector<OpId> cut_vertices;
  std::vector<std::vector<OpId>> modules;  ///< in execution order; ops of each in topo order
};
SeriesDecomposition series_decomposition(const Graph& g);

/// Waves of consecutive groups (disjoint op sets in a topological order of groups) that can be
/// solved at the same time: group j joins the wave of group j-1 when no op of that wave reaches
/// an op of group j. Returns the wave index of each group (non-decreasing from 0). O(P (V + E)).
std::vector<int> independent_waves(const Graph& g, const std::vector<std::vector<OpId>>& groups);

}  // namespace diviml

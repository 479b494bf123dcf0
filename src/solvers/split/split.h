// The DiviML splitting heuristic (DESIGN section 6): series modules, modularity split of large
// modules into parts, MILP per part in order, refinement of windows across part boundaries.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/series.h"
#include "solvers/solver.h"

namespace diviml {

/// A part: ops solved together by one MILP.
struct Partition {
  std::vector<std::vector<OpId>> parts;    ///< in a topological order of parts
  std::vector<int> module_of_part;         ///< index of the series module each part belongs to
};
/// Splits modules above the budget (SolveOptions::max_part_pairs / max_part_ops) by modularity
/// community detection (igraph) weighted by transfer cost.
Partition split_into_parts(const Problem& pb, const SeriesDecomposition& d, const SolveOptions& opt);

/// For `diviml inspect --modules`: modules and parts with op counts and incomparable-pair counts
/// (implemented in inspect_modules.cpp).
nlohmann::json modules_report_json(const Problem& pb, const SolveOptions& opt);
std::string modules_report_text(const Problem& pb, const SolveOptions& opt);

/// `--method split`.
Schedule split_schedule(const Problem& pb, const SolveOptions& opt);

/// Number of unordered pairs of distinct ops of `ops` where neither reaches the other (paths
/// through ops outside `ops` count). O(range * |ops| / 64) with range the span of their topo ranks.
long long count_incomparable_pairs(const Graph& g, const std::vector<OpId>& ops);

/// Same as split_into_parts, for a graph without a platform: community detection is weighted by
/// tensor bytes instead of transfer seconds.
Partition split_into_parts(const Graph& g, const SeriesDecomposition& d, const SolveOptions& opt);

/// `diviml inspect GRAPH --modules`: the series modules and the parts of the splitting heuristic
/// (op counts, incomparable pairs, cut vertex), as an aligned text table or as JSON (`json`).
/// `pb` may be null (no platform: parts weighted by tensor bytes).
std::string describe_modules(const Graph& g, const Problem* pb, const SolveOptions& opt, bool json);

}  // namespace diviml

// Recovering a schedule's run order from its times.
#pragma once

#include <vector>

#include "problem/problem.h"

namespace diviml {

/// `ops` in a valid global order that reproduces, on every device, the order of the runs
/// described by `device` and `start` (indexed by op id): a linear extension keyed by the midpoint
/// of each op's run. Start times alone do not determine it: a zero-duration op (a profiled Pad of
/// 0 s) starts at the same instant as the op that follows it on its device, and the tie, broken by
/// topological rank, can put the long op first and delay the zero-duration op's consumers.
/// Midpoints of the runs on one device never tie unless both runs are empty at the same instant.
std::vector<OpId> run_order(const Problem& pb, const std::vector<OpId>& ops, const std::vector<int>& device,
                            const std::vector<double>& start);

}  // namespace diviml

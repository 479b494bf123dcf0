// Operator fusion on the Graph IR: merges elementwise/activation/normalisation ops into their
// single producer, as inference runtimes do (Conv+Relu, Add+Relu, decomposed LayerNorm, ...).
#pragma once

#include <functional>
#include <memory>

#include "graph/graph.h"

namespace diviml {

/// Which ops may be merged into their producer.
using FusablePredicate = std::function<bool(const Op&)>;

/// Default predicate: op_class Elementwise or Normalization.
bool default_fusable(const Op& op);

/// Returns a new finalized graph where every fusable op whose activation inputs all come from
/// one producer op (no graph input) is merged into that producer, transitively, in topological
/// order. A merged op keeps the producer's name, type and class; flops, macs and weight_bytes
/// are summed (device_times too, for devices every member has); bytes_accessed counts weights
/// plus the activation tensors crossing the group boundary (intermediates stay on chip);
/// `fused` lists the source op names in execution order, producer first (a member's own
/// `fused` list is expanded). Tensors internal to a group disappear. `g` must be finalized.
/// Merging never creates a cycle (every non-root member's predecessors lie inside its group).
std::shared_ptr<Graph> fuse_graph(const Graph& g, const FusablePredicate& fusable = default_fusable);

}  // namespace diviml

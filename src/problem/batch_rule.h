// The batch rule (docs/batch.md): what an op of a per-sample graph costs at batch b, from the
// cost model or from a profile's times per batch size. Kept apart from the split problem so that
// Problem itself costs its ops by it.
#pragma once

#include <memory>

#include "graph/graph.h"
#include "platform/cost_model.h"
#include "platform/platform.h"

namespace diviml {

/// The per-op batch rule: op `op` of a per-sample graph (batch 1) at batch b. FLOPs, MACs and the
/// activation part of bytes_accessed scale by b; weight_bytes (and the weight part of
/// bytes_accessed) do not; explicit device_times are per sample and scale by b.
Op op_at_batch(const Op& op, int b);

/// The whole graph at batch b (tensor bytes scale by b; shapes stay per-sample). Throws
/// InputError when b < 1. Name: "<name>@b<b>" (unchanged for b == 1).
std::shared_ptr<Graph> graph_at_batch(const Graph& per_sample, int b);

/// Seconds of per-sample op `op` on device d at batch b. Where `profile` has the op on d (and d
/// supports its type), its times per size (time_at_batch: measured, interpolated, or the nearest
/// measured size scaled by the cost model); otherwise the cost model of op_at_batch(op, b) (+inf
/// where d cannot run it). `profiled` (optional) tells which.
double op_seconds_at_batch(const Op& op, const Device& d, int b, const ProfileTable* profile,
                           bool* profiled = nullptr);

}  // namespace diviml

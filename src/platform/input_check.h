// Cross-checks of the inputs against each other (issue 12.2): a profile CSV or a graph's
// per-device "times" that name devices or ops the run does not have are mistakes or leftovers
// from another setup, and must not be ignored without a word.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "platform/cost_model.h"
#include "platform/platform.h"

namespace diviml {

/// A profile that matches none of the platform's devices, or none of the graph's ops, is an
/// InputError (it was measured for another platform, model or --granularity). Rows for some
/// unknown devices or ops give one warning per kind, with the count and the first names: one
/// profile measured over several platforms or models is a legitimate thing to reuse.
void check_profile(const ProfileTable& profile, const Graph& g, const Platform& p, std::vector<std::string>* warnings);

/// One warning when ops carry "times" for devices the platform lacks: a graph JSON is meant to
/// run on several platforms, so the entries are ignored, but said so.
void check_device_times(const Graph& g, const Platform& p, std::vector<std::string>* warnings);

}  // namespace diviml

// Graph generators and non-ONNX readers: RandWire networks, STG task graphs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "graph/graph.h"

namespace diviml {

struct RandWireOptions {
  std::string graph = "ws";   ///< ws | er | ba
  int nodes = 32;             ///< nodes per stage
  int stages = 3;
  int channels = 78;          ///< C of the small regime
  int resolution = 224;       ///< input image side
  int k = 4;                  ///< WS: ring neighbours
  double p = 0.75;            ///< WS rewiring / ER edge probability
  int m = 5;                  ///< BA: edges per new node
  uint64_t seed = 1;
};
/// A RandWire network (Xie et al. 2019) with real FLOPs and tensor bytes; throws InputError on
/// nonsense options.
std::shared_ptr<Graph> generate_randwire(const RandWireOptions& opt);

/// Reads a Standard Task Graph Set file: "n", then "id time npred preds...", dummy entry/exit.
/// Task times become FLOPs (seconds on `identical:N`, whose devices run 1 FLOP/s).
std::shared_ptr<Graph> read_stg(const std::string& path);

}  // namespace diviml

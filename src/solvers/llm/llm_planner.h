// Large language models over several identical servers (issue 7, docs/llm.md).
//
// The symmetric planner detects the repeated blocks of the model (identical transformer layers:
// the same sequence of op types and costs between consecutive cut vertices) and the identical
// servers of the platform, then builds a pipeline (one replica, R = 1): every server holds a
// contiguous share of the layers; inside a server the share is split contiguously over that
// server's devices. The placement of m layers across one server's devices is solved once (an
// exact DP over device orders and split points, memoised by m and by whether the server also
// holds the embedding / output head), reused by every server with the same share, and an outer
// DP over servers chooses how many layers each one holds, minimising the pipeline period.
//
// The `uniform-layers` baseline is the default split of pipeline-parallel serving systems:
// equal layers per GPU over all GPUs of all servers (remainder to the first GPUs), ignoring the
// GPUs' differences; the embedding goes with the first GPU, the output head with the last.
//
// Every plan is scored by the throughput analysis (schedule/throughput.h) and the latency
// simulator.
#pragma once

#include <string>
#include <vector>

#include "schedule/throughput.h"

namespace diviml {

/// The repeated structure of a model: units (series modules, in execution order) and the run of
/// identical blocks of `period` units each.
struct RepeatedBlocks {
  std::vector<std::vector<OpId>> units;  ///< all units in execution order
  int first = 0;                         ///< index of the first unit of block 0
  int period = 0;                        ///< units per block (0: no repetition found)
  int count = 0;                         ///< number of identical blocks (layers)
  int suffix_begin() const { return first + period * count; }
};
/// Finds the longest run of consecutive identical blocks (same op types, classes and costs, to
/// 1e-9 relative). Throws InputError when the graph has fewer than 2 identical blocks.
RepeatedBlocks detect_repeated_blocks(const Graph& g);

/// Servers of the platform grouped by identity: servers with the same number of devices where the
/// j-th devices have the same kind, speed, efficiency, memory and op support and the same
/// intra-server links.
struct ServerStructure {
  std::vector<std::vector<int>> devices;  ///< per server, device indices in platform order
  bool identical = true;                  ///< every server is a copy of server 0
  int num_gpus_per_server = 0;            ///< GPUs and accelerators of server 0
};
ServerStructure server_structure(const Platform& p);

struct LlmPlanOptions {
  /// Layers per server requested (0: chosen by the outer DP). When set, the layer count must be
  /// divisible by the number of servers and equal to layers_per_server * servers (InputError).
  int layers_per_server = 0;
  /// uniform-layers: require the layer count to be divisible by the number of GPUs.
  bool require_divisible = false;
  /// The server CPUs may hold units too: the plan with CPUs is kept when its period is shorter
  /// than the GPU-only plan's by more than cpu_gain (a CPU stage usually costs latency). false:
  /// GPUs only, unless the GPUs alone lack the memory (then the CPUs are used regardless).
  bool use_cpu = true;
  double cpu_gain = 0.01;
  /// Seconds of refinement after the symmetric plan: hill climbing over single-op moves on the
  /// whole cluster (improve_throughput_placement), kept when it shortens the period within memory.
  /// 0: the pure symmetric plan.
  double refine_s = 2;
  /// Also try groups of g servers (g dividing the server count) each running the whole model as
  /// one pipeline, N / g replicas side by side (data parallelism across groups); keeps the best
  /// throughput. false: one pipeline over all servers.
  bool search_groups = true;
};

struct LlmPlan {
  ThroughputSchedule schedule;           ///< R = 1 placement
  int replicas = 1;                      ///< pipelines side by side (N / servers per pipeline)
  std::vector<int> layers_per_server;    ///< chosen share of each server
  double period_s = 0;                   ///< analytic period (throughput analysis)
  double throughput_per_s = 0;
  double latency_s = 0;                  ///< one inference alone (latency simulator)
  double dp_period_s = 0;                ///< the planner's own estimate of the period
  double symmetric_period_s = 0;         ///< analytic period of the symmetric plan before refinement
  int subproblems_solved = 0;            ///< distinct one-server placements solved
  std::vector<double> headroom_bytes;    ///< per device: capacity - (weights + activations + reserve)
  double solve_seconds = 0;
  std::string summary;                   ///< one line: layers per server, per-device split
};

/// The symmetric planner (`llm-symmetric`). Throws InputError on a model without repeated
/// blocks, a platform without GPUs, servers that are not identical, or a model that does not fit
/// the cluster (total weights and the largest block against the memory).
LlmPlan plan_llm_symmetric(const Problem& pb, const LlmPlanOptions& opt = {});

/// The same pipeline family solved flat, without exploiting symmetry: every server's share is
/// solved separately on its own devices (no memoisation) for the same outer search. For
/// comparison of solve time; its period equals the symmetric one on identical servers.
LlmPlan plan_llm_flat(const Problem& pb, const LlmPlanOptions& opt = {});

/// The `uniform-layers` baseline.
LlmPlan plan_uniform_layers(const Problem& pb, const LlmPlanOptions& opt = {});

/// Scores a placement (R = 1) with the throughput analysis and the latency simulator.
void evaluate_llm_plan(const Problem& pb, LlmPlan& plan);

}  // namespace diviml

// Throughput (DESIGN section 3, second half; docs/throughput.md): a ThroughputSchedule places R
// replicas of the graph (replica r serves inferences r, r + R, r + 2R, ...); its analytic period P
// is the largest per-period load over devices (compute) and link directions (transfers, I/O
// included, each tensor sent once per destination device per replica); throughput = R / P.
// A pipelined discrete-event simulation of many inferences measures what the schedule achieves.
// (The LP bound on the throughput of any schedule is in solvers/bounds/throughput_bound.h.)
#pragma once

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "schedule/schedule.h"
#include "schedule/simulator.h"

namespace diviml {

struct ThroughputSchedule {
  int replicas = 1;
  std::vector<std::vector<int>> device;  ///< [replica][op]: device of every op of every replica
  std::string method;
  SolveStatus status = SolveStatus::Heuristic;
  double claimed_period = std::numeric_limits<double>::quiet_NaN();  ///< solver's P, if any
  double lower_bound_period = std::numeric_limits<double>::quiet_NaN();  ///< proven bound on P for this R
  double solve_seconds = 0;
  std::string notes;
};

/// The flattened view every throughput computation works on: ops with per-device seconds,
/// tensors with a source (op or graph input), consumer ops, output flag and per-pair transfer
/// seconds. Built from a Problem (one op per op) or by coarsening (one op per part).
struct ThroughputInstance {
  int n = 0, K = 0;
  int io = -1;                          ///< I/O device (-1: I/O is free)
  std::vector<double> p;                ///< n*K seconds, +inf where not allowed
  std::vector<double> weight;           ///< per op
  std::vector<double> capacity;         ///< per device (usable memory)
  /// Upper estimate of the activation bytes op v keeps on its device during one inference: its
  /// input and output tensors (every tensor resident on a device is an output of an op there or
  /// an input of an op there), so the sum over a device's ops bounds the simulator's peak.
  std::vector<double> activation;       ///< per op
  double io_activation = 0;             ///< per inference on the I/O device: graph inputs and outputs
  struct Ten {
    int producer = -1;                  ///< -1: a graph input (starts on io)
    std::vector<int> consumers;         ///< distinct consumer ops (never the producer)
    bool output = false;                ///< must reach io
    double bytes = 0;
    std::vector<double> c;              ///< K*K seconds from k to l (0 on the diagonal)
  };
  std::vector<Ten> tensors;             ///< only tensors that can cost a transfer
  std::vector<std::vector<int>> in_tensors;   ///< per op: indices into tensors it reads
  std::vector<std::vector<int>> out_tensors;  ///< per op: indices into tensors it writes
  std::vector<int> topo;                ///< a topological order of the ops
  std::vector<int> topo_rank;

  double exec(int v, int k) const { return p[static_cast<size_t>(v) * K + k]; }
  double comm(int t, int k, int l) const { return tensors[t].c[static_cast<size_t>(k) * K + l]; }
  static ThroughputInstance from_problem(const Problem& pb);
};

/// Per-period loads of a placement (R = place.size()): device compute seconds and link seconds.
struct ThroughputLoads {
  double period = 0;
  std::vector<double> device;           ///< K
  std::vector<double> link;             ///< K*K, [k*K + l] from k to l
  std::vector<int> link_transfers;      ///< K*K, transfers per period
};
ThroughputLoads compute_loads(const ThroughputInstance& in, const std::vector<std::vector<int>>& place);

/// Per device, the conservative memory of a placement: weights once per device, plus the
/// activation estimate of every op of every replica on it, plus I/O tensors of every replica on
/// the I/O device. Never below what analyze_throughput counts, so fitting it implies fitting.
std::vector<double> estimated_memory(const ThroughputInstance& in, const std::vector<std::vector<int>>& place);
bool estimated_memory_fits(const ThroughputInstance& in, const std::vector<std::vector<int>>& place);

struct LinkUse {
  int from = 0, to = 0;
  double seconds = 0;       ///< busy seconds per period
  double utilisation = 0;   ///< seconds / period
  int transfers = 0;        ///< per period
};

struct ThroughputAnalysis {
  int replicas = 1;
  double period_s = 0;                  ///< analytic period P
  double throughput_per_s = 0;          ///< R / P
  std::vector<double> device_seconds;   ///< compute per period
  std::vector<double> device_utilisation;
  std::vector<LinkUse> links;           ///< link directions with traffic
  std::string bottleneck;               ///< "device cpu" or "link cpu->gpu0"
  std::vector<DeviceMemory> memory;     ///< weights once per device + activations of every replica
  std::vector<std::string> memory_violations;
  std::vector<double> replica_latency_s;  ///< one inference alone on each replica (latency simulator)
};

/// Analytic metrics; throws ScheduleError when a replica places an op on a device that cannot run it.
ThroughputAnalysis analyze_throughput(const Problem& pb, const ThroughputSchedule& s);

/// Memory as analyze_throughput counts it (weights once per device, peak activations of every
/// replica's inference from the latency simulator, reserve) and its violations (empty: fits).
struct ThroughputMemory {
  std::vector<DeviceMemory> memory;
  std::vector<std::string> violations;
  std::vector<double> replica_latency_s;
};
ThroughputMemory throughput_memory(const Problem& pb, const std::vector<std::vector<int>>& place);
/// Structure check (sizes, devices that can run each op); throws ScheduleError.
void check_throughput_structure(const Problem& pb, const ThroughputSchedule& s);

/// How the pipelined simulation orders work on a resource.
enum class Dispatch {
  Periodic,  ///< fixed cyclic order from the analytic period (reaches R / P exactly; docs/throughput.md)
  Greedy,    ///< ready work, oldest inference first (then topological rank / ready time)
};

struct PipelineOptions {
  int inferences = 0;       ///< 0: max(400, 100 R)
  Dispatch dispatch = Dispatch::Periodic;
  bool contention = true;   ///< each link direction sends one tensor at a time (the period counts links as resources)
};

struct PipelineResult {
  int inferences = 0;
  double throughput_per_s = 0;          ///< saturated run: in-order completions over the middle half
  double period_per_inference_s = 0;    ///< 1 / throughput
  double makespan_s = 0;                ///< saturated run: last completion
  double first_latency_s = 0;           ///< inference 0 alone in an empty pipeline
  double latency_mean_s = 0;            ///< paced run (one inference every max(P/R, measured) s): middle half
  double latency_max_s = 0;
  double release_interval_s = 0;        ///< pacing of the latency run
};

/// Pipelined discrete-event simulation: inference j uses replica j mod R. Dispatch::Greedy: each
/// device runs its ready ops oldest inference first (then topological rank); each link direction
/// (with contention) sends oldest inference first, then by ready time. Dispatch::Periodic: each
/// resource follows the cyclic order of the analytic schedule. A saturated run (every inference
/// available at time 0) measures the throughput (in-order completions over the middle half); a
/// paced run measures latency.
PipelineResult simulate_pipeline(const Problem& pb, const ThroughputSchedule& s, const PipelineOptions& opt = {});
PipelineResult simulate_pipeline(const ThroughputInstance& in, const std::vector<std::vector<int>>& place,
                                 const PipelineOptions& opt = {});

}  // namespace diviml

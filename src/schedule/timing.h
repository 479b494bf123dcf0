// The timing core: the one definition of the execution model's latency rules (docs/design.md
// section 3) and the as-soon-as-possible timer built on them.
//
// Rules (the inline functions below; a new transfer rule is an edit here and nowhere else):
//  - a tensor leaving device `from` at time `leave` is on device `to` at transfer_finish();
//  - a graph input leaves the I/O device at 0 (input_arrival); a graph output is delivered when
//    it reaches the I/O device (output_delivered);
//  - an op starts when its device is free and every input is on its device (op_start of
//    data_ready), and runs for Problem::exec;
//  - an op is done for the objective when it has finished and its graph outputs are delivered
//    (completion); the makespan is the latest completion.
// The simulator (simulator.h) keeps its event loop (orders per device, link contention, deadlock
// detection, the transfer list, memory) but times with these rules; without contention its times
// equal AsapTimer's on any linear extension of its device orders. List schedulers compute
// earliest starts with data_ready() (m-ETF) or with the same per-input rules over deduplicated
// edges (HEFT, CPOP, PEFT, ETF) and completions with completion(); the annealer and split time
// whole or partial orders with AsapTimer / asap_append; the MILP's subset evaluation applies
// after_transfer/op_start to its precomputed per-edge costs. tests/test_timing.cpp checks that
// every user agrees with the simulator.
#pragma once

#include <algorithm>
#include <vector>

#include "problem/problem.h"

namespace diviml {

namespace timing {

/// When data that leaves at `leave` has arrived after a transfer of `seconds` (transfers overlap
/// computation and start when the data is ready; the simulator may delay `leave` for contention).
inline double after_transfer(double leave, double seconds) { return leave + seconds; }

/// When a tensor of `bytes` that leaves device `from` at `leave` is present on device `to`
/// (`leave` itself when from == to).
inline double transfer_finish(const Problem& pb, double bytes, int from, int to, double leave) {
  return after_transfer(leave, pb.comm_bytes(bytes, from, to));
}

/// When a graph input of `bytes` is on device k: it leaves the I/O device at 0 (present
/// everywhere at 0 when I/O is free).
inline double input_arrival(const Problem& pb, double bytes, int k) {
  return pb.io_device() < 0 ? 0.0 : transfer_finish(pb, bytes, pb.io_device(), k, 0.0);
}

/// When a graph output of `bytes`, produced on device k at `finish`, has reached the I/O device.
inline double output_delivered(const Problem& pb, double bytes, int k, double finish) {
  return pb.io_device() < 0 ? finish : transfer_finish(pb, bytes, k, pb.io_device(), finish);
}

/// When an input of `bytes` produced by `producer` (kNoOp: a graph input) is on device k, given
/// every op's device and finish time (indexed by op id).
inline double arrival(const Problem& pb, OpId producer, double bytes, int k, const int* device, const double* finish) {
  return producer == kNoOp ? input_arrival(pb, bytes, k)
                           : transfer_finish(pb, bytes, device[producer], k, finish[producer]);
}

/// When every input of op v is on device k (0 without inputs).
inline double data_ready(const Problem& pb, OpId v, int k, const std::vector<int>& device,
                         const std::vector<double>& finish) {
  const Graph& g = pb.graph();
  double t = 0;
  for (TensorId x : g.ops[v].inputs) {
    const Tensor& ts = g.tensors[x];
    t = std::max(t, arrival(pb, ts.producer, ts.bytes, k, device.data(), finish.data()));
  }
  return t;
}

/// Start of an op on a device that is free at `device_free` once its data is ready.
inline double op_start(double device_free, double data_ready) { return std::max(device_free, data_ready); }

/// When op v, finishing on device k at `finish`, is done for the objective: `finish`, or later
/// when one of its outputs is a graph output that must still reach the I/O device.
inline double completion(const Problem& pb, OpId v, int k, double finish) {
  const Graph& g = pb.graph();
  double end = finish;
  for (TensorId t : g.ops[v].outputs)
    if (g.tensors[t].is_graph_output) end = std::max(end, output_delivered(pb, g.tensors[t].bytes, k, finish));
  return end;
}

}  // namespace timing

/// Ops timed before an ASAP pass (a partial schedule; split's FixedContext has these fields).
/// The pass places and times the ops it is given into it.
struct AsapContext {
  std::vector<int>& device;         ///< per op of the graph (-1: not placed yet)
  std::vector<double>& finish;      ///< per op of the graph, where placed
  std::vector<double>& device_free; ///< per device: when it can start its next op
};

/// Times `order` (ops not in `ctx`, a linear extension of their precedence whose producers are
/// in `ctx` or earlier in `order`) after the context, as soon as possible on the devices `dev`
/// (indexed by op id); commits them to `ctx` and writes their `start`. Returns the latest
/// completion among them. Reads the graph directly: for one-off passes (split's parts).
double asap_append(const Problem& pb, const std::vector<OpId>& order, const std::vector<int>& dev, AsapContext ctx,
                   std::vector<double>& start);

/// The graph flattened for repeated ASAP timing (the annealer's hot loop): inputs per op as
/// (producer, bytes), graph outputs per op; buffers reused between calls, no allocation.
class AsapTimer {
 public:
  explicit AsapTimer(const Problem& pb);

  /// Makespan (latest completion) of `order`, a linear extension of the precedence over all
  /// ops, each device running its ops in that order from time 0; fills start() and finish().
  double time(const std::vector<int>& dev, const std::vector<OpId>& order);
  /// As asap_append (same result), with the flattened graph.
  double time(const std::vector<int>& dev, const std::vector<OpId>& order, AsapContext ctx,
              std::vector<double>& start) const;

  const std::vector<double>& start() const { return start_; }
  const std::vector<double>& finish() const { return finish_; }

  /// Ops of a critical chain of the last time(dev, order): from the op whose completion sets
  /// `makespan` back through whatever delayed each start (a late input, or the previous op on
  /// its device). `pos[v]` is v's index in `order`.
  std::vector<OpId> critical_chain(const std::vector<int>& dev, const std::vector<OpId>& order, double makespan,
                                   const std::vector<int>& pos) const;

 private:
  struct Input {
    OpId producer;
    double bytes;
  };
  double pass(const OpId* order, size_t count, const int* device, double* finish, double* free, double* start) const;

  const Problem& pb_;
  std::vector<Input> inputs_;
  std::vector<int> in_begin_, out_begin_;
  std::vector<double> output_bytes_;
  std::vector<double> finish_, start_, free_;
};

}  // namespace diviml

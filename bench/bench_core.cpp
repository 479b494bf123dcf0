// Core speed benchmarks (issue 2 targets, on the 2-core development machine):
//   simulate_latency on a 100,000-op graph: < 0.5 s;  HEFT on a 10,000-op graph, 4 devices: < 1 s.
//   (BM_AsapTimer: one annealer evaluation, reported for the timing core, no target.)
// Run: cmake --build build --target diviml_bench && build/diviml_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>

#include "problem/problem.h"
#include "schedule/simulator.h"
#include "schedule/timing.h"
#include "solvers/heuristics/heuristics.h"

namespace diviml {
namespace {

/// A layered random DAG of n ops, `width` ops per layer, each op reading 1..3 tensors from the
/// previous two layers (bounded fan-in, O(n) construction). Ops carry FLOPs and bytes so the
/// roofline model gives heterogeneous times; every op writes one tensor.
std::shared_ptr<Graph> layered_dag(int n, int width, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> flops(1e6, 1e9), bytes(1e3, 1e6);
  std::uniform_int_distribution<int> fanin(1, 3);
  auto g = std::make_shared<Graph>();
  g->name = "layered_" + std::to_string(n);
  g->ops.reserve(n);
  g->tensors.reserve(n + width);
  for (int i = 0; i < n; ++i) {
    Op op;
    op.name = "v" + std::to_string(i);
    op.type = (i % 3 == 0) ? "Conv" : (i % 3 == 1 ? "MatMul" : "Add");
    op.op_class = (i % 3 == 0) ? OpClass::Conv : (i % 3 == 1 ? OpClass::MatMul : OpClass::Elementwise);
    op.flops = flops(rng);
    op.bytes_accessed = bytes(rng);
    const OpId v = g->add_op(std::move(op));
    Tensor t;
    t.name = "t" + std::to_string(i);
    t.bytes = bytes(rng);
    t.producer = v;
    g->ops[v].outputs.push_back(g->add_tensor(std::move(t)));
  }
  std::vector<char> consumed(n, 0);
  for (int i = 0; i < n; ++i) {
    const int layer = i / width;
    if (layer == 0) {
      Tensor in;
      in.name = "in" + std::to_string(i);
      in.bytes = bytes(rng);
      g->ops[i].inputs.push_back(g->add_tensor(std::move(in)));
      continue;
    }
    const int lo = std::max(0, (layer - 2) * width), hi = layer * width - 1;
    std::uniform_int_distribution<int> pick(lo, hi);
    const int f = fanin(rng);
    for (int j = 0; j < f; ++j) {
      const int u = pick(rng);
      const TensorId t = g->ops[u].outputs[0];
      bool dup = false;
      for (TensorId x : g->ops[i].inputs) dup |= x == t;
      if (dup) continue;
      g->ops[i].inputs.push_back(t);
      consumed[u] = 1;
    }
  }
  for (int i = 0; i < n; ++i)
    if (!consumed[i]) g->tensors[g->ops[i].outputs[0]].is_graph_output = true;
  g->finalize();
  return g;
}

/// A CPU and three different accelerators over PCIe-like links; I/O on the CPU.
std::shared_ptr<Platform> four_devices() {
  auto p = std::make_shared<Platform>();
  p->name = "bench-4";
  const double peak[4] = {2e12, 30e12, 15e12, 60e12}, bw[4] = {1e11, 9e11, 3e11, 2e12};
  for (int d = 0; d < 4; ++d) {
    Device dev;
    dev.name = d == 0 ? std::string("cpu") : std::string("acc") + std::to_string(d);
    dev.kind = d == 0 ? DeviceKind::Cpu : DeviceKind::Gpu;
    dev.peak_flops = peak[d];
    dev.mem_bandwidth = bw[d];
    dev.launch_overhead_s = d == 0 ? 1e-6 : 8e-6;
    p->devices.push_back(dev);
  }
  p->default_intra_server = Link{0, 0, 16e9, 10e-6};
  p->default_inter_server = Link{0, 0, 12.5e9, 20e-6};
  p->links.push_back(Link{1, 2, 50e9, 5e-6});
  p->io_device = 0;
  p->validate();
  return p;
}

std::shared_ptr<Problem> make_problem(int n, int width) {
  return std::make_shared<Problem>(layered_dag(n, width, 42), four_devices());
}

void BM_SimulateLatency(benchmark::State& state) {
  const auto pb = make_problem(static_cast<int>(state.range(0)), 100);
  // A schedule with plenty of cross-device transfers: random placement and order.
  const Schedule s = random_schedule(*pb, 7);
  double ms = 0;
  for (auto _ : state) {
    const LatencyResult r = simulate_latency(*pb, s);
    ms = r.makespan;
    // (DoNotOptimize on a double miscompiles with this Google Benchmark + GCC: pass a pointer.)
    benchmark::DoNotOptimize(r.start.data());
  }
  state.SetLabel(std::to_string(pb->num_ops()) + " ops, " + std::to_string(pb->graph().num_edges()) +
                 " edges, makespan " + std::to_string(ms) + " s");
}
BENCHMARK(BM_SimulateLatency)->Arg(100000)->Unit(benchmark::kMillisecond);

// One evaluation of the annealer's hot loop (AsapTimer::time) on the same kind of schedule.
void BM_AsapTimer(benchmark::State& state) {
  const auto pb = make_problem(static_cast<int>(state.range(0)), 100);
  const Schedule s = random_schedule(*pb, 7);
  const std::vector<OpId> order = linear_extension(pb->graph(), pb->graph().topo_order(), simulate_latency(*pb, s).start);
  AsapTimer timer(*pb);
  double ms = 0;
  for (auto _ : state) {
    ms = timer.time(s.device, order);
    benchmark::DoNotOptimize(timer.start().data());
  }
  state.SetLabel(std::to_string(pb->num_ops()) + " ops, makespan " + std::to_string(ms) + " s");
}
BENCHMARK(BM_AsapTimer)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

template <Schedule (*H)(const Problem&)>
void BM_Heuristic(benchmark::State& state) {
  const auto pb = make_problem(static_cast<int>(state.range(0)), 50);
  const double ms = simulate_latency(*pb, H(*pb)).makespan;
  for (auto _ : state) {
    const Schedule s = H(*pb);
    benchmark::DoNotOptimize(s.device.data());
  }
  state.SetLabel(std::to_string(pb->num_ops()) + " ops, 4 devices, makespan " + std::to_string(ms) + " s");
}
BENCHMARK(BM_Heuristic<heft_schedule>)->Name("BM_Heft")->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Heuristic<cpop_schedule>)->Name("BM_Cpop")->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Heuristic<peft_schedule>)->Name("BM_Peft")->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Heuristic<etf_schedule>)->Name("BM_Etf")->Arg(10000)->Unit(benchmark::kMillisecond);

Schedule random_seed1(const Problem& pb) { return random_schedule(pb, 1); }
BENCHMARK(BM_Heuristic<random_seed1>)->Name("BM_Random")->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace diviml

BENCHMARK_MAIN();

// Random DAGs and heterogeneous platforms for property tests (seeded, deterministic).
#pragma once

#include <memory>
#include <random>
#include <string>

#include "graph/graph.h"
#include "platform/platform.h"
#include "problem/problem.h"

namespace diviml::testing {

/// A named tensor of the given size (keeps tests free of partial aggregate initialisation).
inline Tensor test_tensor(std::string name, double bytes) {
  Tensor t;
  t.name = std::move(name);
  t.bytes = bytes;
  return t;
}

/// Wires the n ops already in `g` at random: each op gets one output tensor (`bytes()` bytes)
/// that every later op reads with probability p; unread outputs are graph outputs, and every op
/// left without inputs reads a graph input of its own (`bytes()` bytes). Draws from `rng` in a
/// fixed order, so a seed gives the same graph whatever the ops are.
template <class Bytes>
void wire_random_edges(Graph& g, double p, std::mt19937_64& rng, Bytes&& bytes) {
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const int n = static_cast<int>(g.ops.size());
  for (int i = 0; i < n; ++i) {
    Tensor t;
    t.name = "t" + std::to_string(i);
    t.bytes = bytes();
    t.producer = i;
    const TensorId tid = g.add_tensor(t);
    g.ops[i].outputs.push_back(tid);
    bool has_consumer = false;
    for (int j = i + 1; j < n; ++j)
      if (coin(rng) < p) {
        g.ops[j].inputs.push_back(tid);
        has_consumer = true;
      }
    if (!has_consumer) g.tensors[tid].is_graph_output = true;
  }
  for (int j = 0; j < n; ++j)
    if (g.ops[j].inputs.empty()) {
      Tensor in;
      in.name = "in" + std::to_string(j);
      in.bytes = bytes();
      g.ops[j].inputs.push_back(g.add_tensor(in));
    }
  g.finalize();
}

/// A random DAG of n ops: edge i->j (i<j) with probability p; every op has explicit per-device
/// seconds for devices named d0..d{k-1} (uniform in [1, 10], some devices slower), tensor bytes
/// uniform in [0, 8]. Graph inputs/outputs are the sources/sinks' tensors.
inline std::shared_ptr<Graph> random_dag(int n, double p, int k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> time(1.0, 10.0), bytes(0.0, 8.0);
  auto g = std::make_shared<Graph>();
  g->name = "random_" + std::to_string(n) + "_" + std::to_string(seed);
  for (int i = 0; i < n; ++i) {
    Op op;
    op.name = "v" + std::to_string(i);
    op.type = "task";
    for (int d = 0; d < k; ++d) op.device_times["d" + std::to_string(d)] = time(rng);
    g->add_op(std::move(op));
  }
  wire_random_edges(*g, p, rng, [&] { return bytes(rng); });
  return g;
}

/// k devices d0..d{k-1} (d0 a CPU, the rest GPUs; unit speeds, since tests give explicit times
/// or set their own) with no links yet; io on d0 or none.
inline std::shared_ptr<Platform> test_devices(int k, std::string name, bool with_io = true) {
  auto p = std::make_shared<Platform>();
  p->name = std::move(name);
  for (int d = 0; d < k; ++d) {
    Device dev;
    dev.name = "d" + std::to_string(d);
    dev.kind = d == 0 ? DeviceKind::Cpu : DeviceKind::Gpu;
    dev.peak_flops = 1;
    dev.mem_bandwidth = 1;
    p->devices.push_back(dev);
  }
  p->default_intra_server = Link{0, 0, 1.0, 0.0};
  p->default_inter_server = Link{0, 0, 1.0, 0.0};
  p->io_device = with_io ? 0 : -1;
  return p;
}

/// k heterogeneous devices d0..d{k-1} with random link bandwidth/latency; io on d0 or none.
inline std::shared_ptr<Platform> random_platform(int k, uint64_t seed, bool with_io = true) {
  std::mt19937_64 rng(seed * 7919 + 13);
  std::uniform_real_distribution<double> bw(0.5, 4.0), lat(0.0, 1.0);
  auto p = test_devices(k, "random_platform_" + std::to_string(k), with_io);
  for (int a = 0; a < k; ++a)
    for (int b = a + 1; b < k; ++b) p->links.push_back(Link{a, b, bw(rng), lat(rng)});
  p->validate();
  return p;
}

inline std::shared_ptr<Problem> random_problem(int n, double edge_p, int k, uint64_t seed,
                                               bool with_io = true) {
  return std::make_shared<Problem>(random_dag(n, edge_p, k, seed), random_platform(k, seed, with_io));
}

}  // namespace diviml::testing

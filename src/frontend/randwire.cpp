// RandWire generator (Xie, Kirillov, Girshick, He, "Exploring Randomly Wired Neural Networks for
// Image Recognition", ICCV 2019), small-regime architecture of its Table 1. See docs/generators.md.
//
// Granularity: one op per random-graph node (type "SepConv", class conv). A node is the paper's
// aggregation (sigmoid-weighted sum of its inputs) + ReLU + separable 3x3 conv (depthwise 3x3 then
// pointwise 1x1) + BN; runtimes fuse this chain and the pointwise conv dominates its cost, so one
// op keeps a 32-node stage at 32 schedulable ops (the granularity of the DiviML paper's RandWire
// experiments) and its FLOPs/bytes are the exact sums of the parts.
//
// Random graphs are drawn with std::mt19937_64 only (its output is fixed by the standard); every
// uniform number is derived from the raw 64-bit output here, never through std distributions,
// so a seed gives the same network with any standard library.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "frontend/generators.h"

namespace diviml {

namespace {

constexpr double kF32 = 4.0;  // bytes per float32 element

/// Deterministic random source: uniforms from the raw mt19937_64 output.
class Rng {
 public:
  explicit Rng(uint64_t seed) : eng_(seed) {}
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(eng_() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n), n >= 1 (multiply-shift; bias < n / 2^64).
  int below(int n) {
    const unsigned __int128 prod = static_cast<unsigned __int128>(eng_()) * static_cast<uint64_t>(n);
    return static_cast<int>(prod >> 64);
  }

 private:
  std::mt19937_64 eng_;
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

using EdgeSet = std::set<std::pair<int, int>>;  // undirected, stored as (min, max)

void add_edge(EdgeSet& e, int a, int b) { e.emplace(std::min(a, b), std::max(a, b)); }
bool has_edge(const EdgeSet& e, int a, int b) { return e.count({std::min(a, b), std::max(a, b)}) > 0; }

/// Erdos-Renyi G(n, p): every pair independently with probability p.
EdgeSet erdos_renyi(int n, double p, Rng& rng) {
  EdgeSet e;
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b)
      if (rng.uniform() < p) add_edge(e, a, b);
  return e;
}

/// Barabasi-Albert with m edges per new node: nodes 0..m-1 start unconnected, node m joins all
/// of them, every later node joins m distinct existing nodes chosen with probability proportional
/// to their degree (the RandWire paper's BA(M); the same process as networkx). Edges: exactly
/// m * (n - m).
EdgeSet barabasi_albert(int n, int m, Rng& rng) {
  EdgeSet e;
  std::vector<int> repeated;  // each node listed once per incident edge
  std::vector<int> targets;
  for (int i = 0; i < m; ++i) targets.push_back(i);
  for (int v = m; v < n; ++v) {
    for (int t : targets) {
      add_edge(e, v, t);
      repeated.push_back(t);
      repeated.push_back(v);
    }
    std::set<int> chosen;
    while (static_cast<int>(chosen.size()) < m)
      chosen.insert(repeated[static_cast<size_t>(rng.below(static_cast<int>(repeated.size())))]);
    targets.assign(chosen.begin(), chosen.end());
  }
  return e;
}

/// Watts-Strogatz: ring lattice, each node joined to its k/2 nearest neighbours on each side;
/// then for i = 1..k/2, for every node v in order, the edge (v, v+i) is rewired with probability p
/// to (v, w), w uniform among nodes that are not v and not already neighbours of v. The edge count
/// stays n*k/2 and every node keeps at least k/2 edges (as in the paper and networkx).
EdgeSet watts_strogatz(int n, int k, double p, Rng& rng) {
  EdgeSet e;
  for (int v = 0; v < n; ++v)
    for (int i = 1; i <= k / 2; ++i) add_edge(e, v, (v + i) % n);
  std::vector<int> degree(static_cast<size_t>(n), k);
  for (int i = 1; i <= k / 2; ++i) {
    for (int v = 0; v < n; ++v) {
      const int u = (v + i) % n;
      if (!(rng.uniform() < p)) continue;
      if (!has_edge(e, v, u)) continue;  // already rewired away by an earlier step
      if (degree[static_cast<size_t>(v)] >= n - 1) continue;  // v is joined to everyone
      int w;
      do {
        w = rng.below(n);
      } while (w == v || has_edge(e, v, w));
      e.erase({std::min(v, u), std::max(v, u)});
      add_edge(e, v, w);
      --degree[static_cast<size_t>(u)];
      ++degree[static_cast<size_t>(w)];
    }
  }
  return e;
}

/// Output side of a 3x3 conv with padding 1.
int conv_out(int in, int stride) { return (in - 1) / stride + 1; }

struct Act {  // an activation tensor: C x H x W, float32
  TensorId id;
  int c, h;
  double elems() const { return static_cast<double>(c) * h * h; }
  double bytes() const { return elems() * kF32; }
};

class Builder {
 public:
  explicit Builder(Graph& g) : g_(g) {}

  Act tensor(const std::string& name, int c, int h) {
    Tensor t;
    t.name = name;
    t.bytes = static_cast<double>(c) * h * h * kF32;
    t.shape = {1, c, h, h};
    t.dtype = "float32";
    return Act{g_.add_tensor(std::move(t)), c, h};
  }

  /// Dense k x k conv (+ BN, + ReLU when relu): the stem and the classifier's 1x1 conv.
  Act conv(const std::string& name, const Act& in, int cout, int ksize, int stride, bool relu) {
    const int h = ksize == 1 ? (in.h - 1) / stride + 1 : conv_out(in.h, stride);
    Act out = tensor(name, cout, h);
    const double macs = static_cast<double>(ksize) * ksize * in.c * out.elems();
    const double params = static_cast<double>(ksize) * ksize * in.c * cout + 2.0 * cout;  // + BN
    Op op;
    op.name = name;
    op.type = "Conv";
    op.op_class = OpClass::Conv;
    op.macs = macs;
    op.flops = 2 * macs + 2 * out.elems() + (relu ? out.elems() : 0);
    op.weight_bytes = params * kF32;
    op.bytes_accessed = in.bytes() + op.weight_bytes + out.bytes();
    op.inputs = {in.id};
    op.outputs = {out.id};
    op.fused = relu ? std::vector<std::string>{name + ".conv", name + ".bn", name + ".relu"}
                    : std::vector<std::string>{name + ".conv", name + ".bn"};
    g_.add_op(std::move(op));
    return out;
  }

  /// A RandWire node: weighted-sum aggregation of `ins` (all C_in x H_in), ReLU, depthwise 3x3
  /// with `stride`, pointwise 1x1 to cout, BN.
  Act node(const std::string& name, const std::vector<Act>& ins, int cout, int stride) {
    const Act& in = ins.front();
    const int h = conv_out(in.h, stride);
    Act out = tensor(name, cout, h);
    const double d = static_cast<double>(ins.size());
    const double hw = static_cast<double>(h) * h;
    const double dw_macs = 9.0 * in.c * hw;
    const double pw_macs = static_cast<double>(in.c) * cout * hw;
    const double agg_flops = d > 1 ? (2 * d - 1) * in.elems() : 0;  // d mults + (d-1) adds
    const double params = (d > 1 ? d : 0) + 9.0 * in.c + static_cast<double>(in.c) * cout + 2.0 * cout;
    Op op;
    op.name = name;
    op.type = "SepConv";
    op.op_class = OpClass::Conv;
    op.macs = dw_macs + pw_macs;
    op.flops = agg_flops + in.elems() /*ReLU*/ + 2 * op.macs + 2 * out.elems() /*BN*/;
    op.weight_bytes = params * kF32;
    op.bytes_accessed = d * in.bytes() + op.weight_bytes + out.bytes();
    for (const Act& a : ins) op.inputs.push_back(a.id);
    op.outputs = {out.id};
    if (d > 1) op.fused.push_back(name + ".aggregate");
    for (const char* part : {".relu", ".depthwise", ".pointwise", ".bn"}) op.fused.push_back(name + part);
    g_.add_op(std::move(op));
    return out;
  }

  /// Unweighted average of the stage's output nodes.
  Act mean(const std::string& name, const std::vector<Act>& ins) {
    const Act& in = ins.front();
    Act out = tensor(name, in.c, in.h);
    const double d = static_cast<double>(ins.size());
    Op op;
    op.name = name;
    op.type = "Mean";
    op.op_class = OpClass::Elementwise;
    op.flops = d > 1 ? d * in.elems() : 0;  // (d-1) adds + 1 scale per element
    op.bytes_accessed = d * in.bytes() + out.bytes();
    for (const Act& a : ins) op.inputs.push_back(a.id);
    op.outputs = {out.id};
    g_.add_op(std::move(op));
    return out;
  }

  Act global_pool(const std::string& name, const Act& in) {
    Act out = tensor(name, in.c, 1);
    Op op;
    op.name = name;
    op.type = "GlobalAveragePool";
    op.op_class = OpClass::Pooling;
    op.flops = in.elems();
    op.bytes_accessed = in.bytes() + out.bytes();
    op.inputs = {in.id};
    op.outputs = {out.id};
    g_.add_op(std::move(op));
    return out;
  }

  TensorId fc(const std::string& name, const Act& in, int nout, const std::string& out_name) {
    Tensor t;
    t.name = out_name;
    t.bytes = nout * kF32;
    t.shape = {1, nout};
    t.dtype = "float32";
    t.is_graph_output = true;
    const TensorId out = g_.add_tensor(std::move(t));
    Op op;
    op.name = name;
    op.type = "Gemm";
    op.op_class = OpClass::MatMul;
    op.macs = static_cast<double>(in.c) * nout;
    op.flops = 2 * op.macs + nout;  // + bias
    op.weight_bytes = (static_cast<double>(in.c) * nout + nout) * kF32;
    op.bytes_accessed = in.bytes() + op.weight_bytes + nout * kF32;
    op.inputs = {in.id};
    op.outputs = {out};
    g_.add_op(std::move(op));
    return out;
  }

 private:
  Graph& g_;
};

/// Expected edges over all stages; beyond this the generator, the JSON and every solver choke.
constexpr double kMaxRandWireEdges = 2e6;

void validate(const RandWireOptions& o) {
  auto bad = [](const std::string& what) { throw InputError("randwire: " + what); };
  if (o.graph != "ws" && o.graph != "er" && o.graph != "ba")
    bad(fmt::format("unknown graph kind '{}' (valid: ws, er, ba)", o.graph));
  if (o.nodes < 2) bad(fmt::format("nodes must be >= 2 (got {})", o.nodes));
  if (o.nodes > 100000) bad(fmt::format("nodes must be <= 100000 (got {})", o.nodes));
  if (o.stages < 1) bad(fmt::format("stages must be >= 1 (got {})", o.stages));
  if (o.stages > 16) bad(fmt::format("stages must be <= 16 (got {})", o.stages));
  if (o.channels < 1) bad(fmt::format("channels must be >= 1 (got {})", o.channels));
  if (static_cast<double>(o.channels) * std::pow(2.0, o.stages - 1) > 1e6)
    bad(fmt::format("channels {} doubled over {} stages exceeds 1e6", o.channels, o.stages));
  if (o.resolution < 1 || o.resolution > 100000)
    bad(fmt::format("resolution must be in [1, 100000] (got {})", o.resolution));
  if (o.graph == "ws") {
    if (o.k < 2 || o.k % 2 != 0 || o.k >= o.nodes)
      bad(fmt::format("ws: k must be even, >= 2 and < nodes = {} (got {})", o.nodes, o.k));
    if (!(o.p >= 0 && o.p <= 1)) bad(fmt::format("ws: p must be in [0, 1] (got {})", o.p));
  } else if (o.graph == "er") {
    if (!(o.p >= 0 && o.p <= 1)) bad(fmt::format("er: p must be in [0, 1] (got {})", o.p));
  } else {
    if (o.m < 1 || o.m >= o.nodes)
      bad(fmt::format("ba: m must be >= 1 and < nodes = {} (got {})", o.m, o.nodes));
  }
  // Refuse before generating what would not fit: --graph er --nodes 10000 has 30 M edges (55 s,
  // 6.5 GB, a 1.16 GB JSON: about 40 bytes of JSON per edge).
  const double n = o.nodes;
  const double per_stage = o.graph == "ws" ? n * o.k / 2 : o.graph == "er" ? o.p * n * (n - 1) / 2 : o.m * (n - o.m);
  const double edges = per_stage * o.stages;
  if (edges > kMaxRandWireEdges)
    bad(fmt::format("{} with {} nodes x {} stages would have about {:.4g} M edges (a graph JSON of about {:.3g} GB); "
                    "the limit is {:.3g} M edges: lower --nodes{}",
                    o.graph, o.nodes, o.stages, edges / 1e6, edges * 40 / 1e9, kMaxRandWireEdges / 1e6,
                    o.graph == "er" ? " or --p" : o.graph == "ws" ? " or --k" : " or --m"));
}

}  // namespace

std::shared_ptr<Graph> generate_randwire(const RandWireOptions& opt) {
  validate(opt);
  auto g = std::make_shared<Graph>();
  g->name = opt.graph == "ws"   ? fmt::format("randwire_ws_k{}_p{}_n{}_c{}_seed{}", opt.k, opt.p,
                                              opt.nodes, opt.channels, opt.seed)
            : opt.graph == "er" ? fmt::format("randwire_er_p{}_n{}_c{}_seed{}", opt.p, opt.nodes,
                                              opt.channels, opt.seed)
                                : fmt::format("randwire_ba_m{}_n{}_c{}_seed{}", opt.m, opt.nodes,
                                              opt.channels, opt.seed);
  Builder b(*g);
  Act x = b.tensor("input", 3, opt.resolution);
  const int c = opt.channels;
  x = b.conv("conv1", x, std::max(1, c / 2), 3, 2, /*relu=*/true);
  x = b.conv("conv2", x, c, 3, 2, /*relu=*/false);  // nodes begin with ReLU

  const int n = opt.nodes;
  for (int s = 0; s < opt.stages; ++s) {
    // Independent stream per stage: stage s of seed K is the same whatever the stage count.
    Rng rng(splitmix64(opt.seed * 0x100000001b3ULL + static_cast<uint64_t>(s)));
    const EdgeSet edges = opt.graph == "ws"   ? watts_strogatz(n, opt.k, opt.p, rng)
                          : opt.graph == "er" ? erdos_renyi(n, opt.p, rng)
                                              : barabasi_albert(n, opt.m, rng);
    std::vector<std::vector<int>> preds(static_cast<size_t>(n));
    std::vector<bool> has_succ(static_cast<size_t>(n), false);
    for (const auto& [a, bb] : edges) {  // a < bb: oriented low -> high index
      preds[static_cast<size_t>(bb)].push_back(a);
      has_succ[static_cast<size_t>(a)] = true;
    }
    const int cout = c << s;
    const std::string stage = fmt::format("conv{}", s + 3);
    const int width = n <= 10 ? 1 : n <= 100 ? 2 : n <= 1000 ? 3 : n <= 10000 ? 4 : 5;
    std::vector<Act> outs;
    outs.reserve(static_cast<size_t>(n));
    std::vector<Act> sinks;
    for (int v = 0; v < n; ++v) {
      const std::string name = fmt::format("{}.n{:0{}}", stage, v, width);
      std::vector<Act> ins;
      for (int u : preds[static_cast<size_t>(v)]) ins.push_back(outs[static_cast<size_t>(u)]);
      const bool input_node = ins.empty();
      if (input_node) ins.push_back(x);  // reads the stage input, downsamples, widens
      outs.push_back(b.node(name, ins, cout, input_node ? 2 : 1));
      if (!has_succ[static_cast<size_t>(v)]) sinks.push_back(outs.back());
    }
    x = b.mean(stage + ".out", sinks);
  }
  x = b.conv("classifier.conv", x, 1280, 1, 1, /*relu=*/true);
  x = b.global_pool("classifier.pool", x);
  b.fc("classifier.fc", x, 1000, "logits");
  g->finalize();
  return g;
}

}  // namespace diviml

// Throughput analysis, pipelined simulation and bound (see throughput.h, docs/throughput.md).
#include "schedule/throughput.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <tuple>

#include <fmt/format.h>

namespace diviml {

ThroughputInstance ThroughputInstance::from_problem(const Problem& pb) {
  const Graph& g = pb.graph();
  ThroughputInstance in;
  in.n = pb.num_ops();
  in.K = pb.num_devices();
  in.io = pb.io_device();
  const int K = in.K;
  in.p.resize(static_cast<size_t>(in.n) * K);
  for (int v = 0; v < in.n; ++v)
    for (int k = 0; k < K; ++k) in.p[static_cast<size_t>(v) * K + k] = pb.exec(v, k);
  in.weight.resize(in.n);
  for (int v = 0; v < in.n; ++v) in.weight[v] = pb.weight_bytes(v);
  in.capacity.resize(K);
  for (int k = 0; k < K; ++k) in.capacity[k] = pb.memory_capacity(k);
  // Activation estimate: what the latency simulator can keep resident (see throughput.h).
  in.activation.assign(in.n, 0.0);
  for (TensorId t = 0; t < g.num_tensors(); ++t) {
    const Tensor& ts = g.tensors[t];
    if (ts.bytes <= 0 || (ts.producer == kNoOp && ts.consumers.empty())) continue;
    if (ts.producer != kNoOp) in.activation[ts.producer] += ts.bytes;
    std::vector<OpId> seen;
    for (OpId c : ts.consumers)
      if (c != ts.producer && std::find(seen.begin(), seen.end(), c) == seen.end()) {
        seen.push_back(c);
        in.activation[c] += ts.bytes;
      }
    if (in.io >= 0 && (ts.producer == kNoOp || ts.is_graph_output)) in.io_activation += ts.bytes;
  }
  in.in_tensors.assign(in.n, {});
  in.out_tensors.assign(in.n, {});
  for (TensorId t = 0; t < g.num_tensors(); ++t) {
    const Tensor& ts = g.tensors[t];
    ThroughputInstance::Ten x;
    x.producer = ts.producer;
    for (OpId c : ts.consumers)
      if (c != ts.producer && std::find(x.consumers.begin(), x.consumers.end(), c) == x.consumers.end())
        x.consumers.push_back(c);
    x.output = ts.is_graph_output;
    x.bytes = ts.bytes;
    if (x.consumers.empty() && !x.output) continue;
    if (x.producer < 0 && x.consumers.empty()) continue;
    x.c.assign(static_cast<size_t>(K) * K, 0.0);
    for (int k = 0; k < K; ++k)
      for (int l = 0; l < K; ++l) x.c[static_cast<size_t>(k) * K + l] = pb.comm(t, k, l);
    const int id = static_cast<int>(in.tensors.size());
    for (int c : x.consumers) in.in_tensors[c].push_back(id);
    if (x.producer >= 0) in.out_tensors[x.producer].push_back(id);
    in.tensors.push_back(std::move(x));
  }
  in.topo = g.topo_order();
  in.topo_rank = g.topo_rank();
  return in;
}

ThroughputLoads compute_loads(const ThroughputInstance& in, const std::vector<std::vector<int>>& place) {
  const int K = in.K;
  ThroughputLoads L;
  L.device.assign(K, 0.0);
  L.link.assign(static_cast<size_t>(K) * K, 0.0);
  L.link_transfers.assign(static_cast<size_t>(K) * K, 0);
  std::vector<int> mark(K, -1);
  int stamp = 0;
  for (const auto& pl : place) {
    for (int v = 0; v < in.n; ++v) L.device[pl[v]] += in.exec(v, pl[v]);
    for (int t = 0; t < static_cast<int>(in.tensors.size()); ++t) {
      const auto& ts = in.tensors[t];
      const int src = ts.producer < 0 ? in.io : pl[ts.producer];
      if (src < 0) continue;  // graph input with free I/O
      ++stamp;
      mark[src] = stamp;
      auto send = [&](int d) {
        if (mark[d] == stamp) return;
        mark[d] = stamp;
        L.link[static_cast<size_t>(src) * K + d] += ts.c[static_cast<size_t>(src) * K + d];
        ++L.link_transfers[static_cast<size_t>(src) * K + d];
      };
      for (int c : ts.consumers) send(pl[c]);
      if (ts.output && in.io >= 0) send(in.io);
    }
  }
  for (double d : L.device) L.period = std::max(L.period, d);
  for (double d : L.link) L.period = std::max(L.period, d);
  return L;
}

std::vector<double> estimated_memory(const ThroughputInstance& in, const std::vector<std::vector<int>>& place) {
  std::vector<double> mem(in.K, 0.0);
  std::vector<char> resident(static_cast<size_t>(in.n) * in.K, 0);
  for (const auto& rep : place) {
    for (int v = 0; v < in.n; ++v) {
      const int k = rep[v];
      char& r = resident[static_cast<size_t>(v) * in.K + k];
      if (!r) r = 1, mem[k] += in.weight[v];
      mem[k] += in.activation.empty() ? 0.0 : in.activation[v];
    }
    if (in.io >= 0) mem[in.io] += in.io_activation;
  }
  return mem;
}

bool estimated_memory_fits(const ThroughputInstance& in, const std::vector<std::vector<int>>& place) {
  const std::vector<double> mem = estimated_memory(in, place);
  for (int k = 0; k < in.K; ++k)
    if (mem[k] > in.capacity[k] * (1 + 1e-12)) return false;
  return true;
}

void check_throughput_structure(const Problem& pb, const ThroughputSchedule& s) {
  if (s.replicas < 1 || static_cast<int>(s.device.size()) != s.replicas)
    throw ScheduleError(fmt::format("throughput schedule: {} replicas declared, {} placements", s.replicas, s.device.size()));
  for (int r = 0; r < s.replicas; ++r) {
    if (static_cast<int>(s.device[r].size()) != pb.num_ops())
      throw ScheduleError(fmt::format("throughput schedule: replica {} places {} ops, the graph has {}", r,
                                      s.device[r].size(), pb.num_ops()));
    for (int v = 0; v < pb.num_ops(); ++v) {
      const int k = s.device[r][v];
      if (k < 0 || k >= pb.num_devices())
        throw ScheduleError(fmt::format("throughput schedule: replica {} op '{}' has no valid device", r, pb.graph().ops[v].name));
      if (!pb.can_run(v, k))
        throw ScheduleError(fmt::format("throughput schedule: replica {} op '{}' on device '{}' which cannot run it", r,
                                        pb.graph().ops[v].name, pb.platform().devices[k].name));
    }
  }
}

ThroughputAnalysis analyze_throughput(const Problem& pb, const ThroughputSchedule& s) {
  check_throughput_structure(pb, s);
  const ThroughputInstance in = ThroughputInstance::from_problem(pb);
  const int K = in.K;
  const ThroughputLoads L = compute_loads(in, s.device);
  ThroughputAnalysis a;
  a.replicas = s.replicas;
  a.period_s = L.period;
  a.throughput_per_s = L.period > 0 ? s.replicas / L.period : std::numeric_limits<double>::infinity();
  a.device_seconds = L.device;
  a.device_utilisation.resize(K);
  const auto& devs = pb.platform().devices;
  double worst = -1;
  for (int k = 0; k < K; ++k) {
    a.device_utilisation[k] = L.period > 0 ? L.device[k] / L.period : 0;
    if (L.device[k] > worst) {
      worst = L.device[k];
      a.bottleneck = "device " + devs[k].name;
    }
  }
  for (int k = 0; k < K; ++k)
    for (int l = 0; l < K; ++l) {
      const size_t i = static_cast<size_t>(k) * K + l;
      if (L.link_transfers[i] == 0) continue;
      a.links.push_back({k, l, L.link[i], L.period > 0 ? L.link[i] / L.period : 0, L.link_transfers[i]});
      if (L.link[i] > worst) {
        worst = L.link[i];
        a.bottleneck = "link " + devs[k].name + "->" + devs[l].name;
      }
    }
  ThroughputMemory mem = throughput_memory(pb, s.device);
  a.memory = std::move(mem.memory);
  a.memory_violations = std::move(mem.violations);
  a.replica_latency_s = std::move(mem.replica_latency_s);
  return a;
}

ThroughputMemory throughput_memory(const Problem& pb, const std::vector<std::vector<int>>& place) {
  // Weights once per device over all replicas, activations of every replica's inference.
  const int K = pb.num_devices(), n = pb.num_ops();
  const auto& devs = pb.platform().devices;
  ThroughputMemory out;
  out.memory.assign(K, {});
  std::vector<char> resident(static_cast<size_t>(n) * K, 0);
  for (int k = 0; k < K; ++k) {
    out.memory[k].capacity_bytes = devs[k].memory_bytes;
    out.memory[k].reserve_bytes = devs[k].reserve_bytes;
  }
  for (const auto& rep : place) {
    for (int v = 0; v < n; ++v) {
      const int k = rep[v];
      if (!resident[static_cast<size_t>(v) * K + k]) {
        resident[static_cast<size_t>(v) * K + k] = 1;
        out.memory[k].weight_bytes += pb.weight_bytes(v);
      }
    }
    const Schedule one = schedule_from_order(pb, rep, pb.graph().topo_order());
    const LatencyResult lr = simulate_latency(pb, one);
    out.replica_latency_s.push_back(lr.makespan);
    for (int k = 0; k < K; ++k) out.memory[k].peak_activation_bytes += lr.memory[k].peak_activation_bytes;
  }
  for (int k = 0; k < K; ++k)
    if (out.memory[k].used() > out.memory[k].capacity_bytes * (1 + 1e-12))
      out.violations.push_back(fmt::format(
          "device '{}' needs {:.4g} bytes (weights once {:.4g} + activations of {} replicas {:.4g} + reserve {:.4g}) but has {:.4g}",
          devs[k].name, out.memory[k].used(), out.memory[k].weight_bytes, place.size(),
          out.memory[k].peak_activation_bytes, out.memory[k].reserve_bytes, out.memory[k].capacity_bytes));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pipelined discrete-event simulation.

namespace {

struct PipeRun {
  std::vector<double> release, completion;
  long long depth = 0;  // periodic dispatch: largest stage (iterations between an inference's first and last task)
  // The watched resource (a device k, or K + k*K + l for a link direction; -1: none):
  int watched = -1;
  std::vector<double> iteration_start;  // periodic: start of the first task of each iteration
  double window_first_start = kInf;     // greedy: first start of a task of an inference in the window
};

struct Watch {
  int resource = -1;
  int lo = 0, hi = 0;  // inferences [lo, hi)
};

PipeRun run_pipeline(const ThroughputInstance& in, const std::vector<std::vector<int>>& place,
                     const std::vector<double>& release, bool contention, bool periodic, const Watch& watch = {}) {
  const int n = in.n, K = in.K, R = static_cast<int>(place.size()), io = in.io;
  const int N = static_cast<int>(release.size());
  const int T = static_cast<int>(in.tensors.size());
  // Per replica and tensor: source device and destination devices (distinct, != source).
  std::vector<std::vector<int>> src(R, std::vector<int>(T, -1));
  std::vector<std::vector<std::vector<int>>> dests(R, std::vector<std::vector<int>>(T));
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      const auto& ts = in.tensors[t];
      const int s = ts.producer < 0 ? io : place[r][ts.producer];
      src[r][t] = s;
      if (s < 0) continue;
      auto add = [&](int d) {
        if (d != s && std::find(dests[r][t].begin(), dests[r][t].end(), d) == dests[r][t].end())
          dests[r][t].push_back(d);
      };
      for (int c : ts.consumers) add(place[r][c]);
      if (ts.output && io >= 0) add(io);
    }

  // Periodic dispatch (see docs/throughput.md): every resource (device; link direction with
  // contention) lays out its tasks of one period back to back in the order (replica,
  // topological rank): offset off within [0, P). A task's stage s is the smallest integer with
  // s P + off >= the finish of its inputs in that frame (found in topological order, so it
  // always exists). Resource k then runs, for iteration i = 0, 1, ..., its tasks in layout
  // order, each for inference (i - stage) R + r. That periodic schedule is feasible with period
  // P, so the earliest execution of these fixed orders completes R inferences every P.
  struct Task {
    int type = 0, r = 0, a = 0, d = 0, res = 0;  // type 0: op a; 1: transfer of tensor a to d
    double dur = 0, off = 0;
    long long stage = 0;
  };
  std::vector<Task> tasks;
  std::vector<std::vector<int>> rseq;  // per resource: task indices in layout order
  long long max_stage = 0;
  const int NR = K + K * K;
  if (periodic) {
    const ThroughputLoads loads = compute_loads(in, place);
    const double P = loads.period;
    const double Pd = P > 0 ? P : 1;
    rseq.assign(NR, {});
    std::vector<double> cursor(NR, 0.0), left_load(NR, 0.0);
    for (int k = 0; k < K; ++k) left_load[k] = loads.device[k];
    for (int q = 0; q < K * K; ++q) left_load[K + q] = loads.link[q];
    std::vector<std::vector<int>> optask(R, std::vector<int>(n, -1));
    std::vector<std::vector<std::vector<std::pair<int, int>>>> trtask(R, std::vector<std::vector<std::pair<int, int>>>(T));
    auto fin = [&](int ti) { return tasks[ti].stage * Pd + tasks[ti].off + tasks[ti].dur; };
    auto add = [&](Task x, double earliest) {
      // As close to the input-ready time (modulo P) as the resource's remaining work allows.
      const double frac = earliest - std::floor(earliest / Pd) * Pd;
      x.off = std::max(cursor[x.res], std::min(frac, Pd - left_load[x.res]));
      cursor[x.res] = x.off + x.dur;
      left_load[x.res] -= x.dur;
      x.stage = std::max<long long>(0, static_cast<long long>(std::ceil((earliest - x.off) / Pd - 1e-9)));
      while (x.stage * Pd + x.off < earliest - 1e-9 * Pd) ++x.stage;
      max_stage = std::max(max_stage, x.stage);
      tasks.push_back(x);
      rseq[x.res].push_back(static_cast<int>(tasks.size()) - 1);
      return static_cast<int>(tasks.size()) - 1;
    };
    auto add_transfers = [&](int r, int t, double ready) {
      const int s = src[r][t];
      if (!contention || s < 0) return;
      for (int d : dests[r][t]) {
        Task x;
        x.type = 1, x.r = r, x.a = t, x.d = d, x.res = K + s * K + d, x.dur = in.comm(t, s, d);
        trtask[r][t].push_back({d, add(x, ready)});
      }
    };
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t)
        if (in.tensors[t].producer < 0) add_transfers(r, t, 0.0);
      for (int v : in.topo) {
        const int dv = place[r][v];
        double earliest = 0;
        for (int t : in.in_tensors[v]) {
          const int s = src[r][t];
          const int u = in.tensors[t].producer;
          const double produced = u < 0 ? 0.0 : fin(optask[r][u]);
          if (s < 0 || s == dv) {
            earliest = std::max(earliest, produced);
          } else if (contention) {
            for (auto [d, ti] : trtask[r][t])
              if (d == dv) earliest = std::max(earliest, fin(ti));
          } else {
            earliest = std::max(earliest, produced + in.comm(t, s, dv));
          }
        }
        Task x;
        x.type = 0, x.r = r, x.a = v, x.d = dv, x.res = dv, x.dur = in.exec(v, dv);
        optask[r][v] = add(x, earliest);
        for (int t : in.out_tensors[v]) add_transfers(r, t, fin(optask[r][v]));
      }
    }
  }
  // Per resource: next (iteration, position) in its periodic sequence.
  std::vector<long long> it_iter(periodic ? NR : 0, 0);
  std::vector<int> it_pos(periodic ? NR : 0, 0);
  std::vector<char> res_busy(periodic ? NR : 0, 0);
  std::vector<char> avail(periodic ? static_cast<size_t>(N) * T : 0, 0);  // tensor on its source
  std::vector<char> released(N, 0);
  const long long max_iter = (N - 1) / R + max_stage + 1;
  // The next task instance of resource q (task index, inference), or (-1, -1) when done.
  auto head = [&](int q) -> std::pair<int, int> {
    while (it_iter[q] <= max_iter && !rseq[q].empty()) {
      if (it_pos[q] >= static_cast<int>(rseq[q].size())) {
        it_pos[q] = 0;
        ++it_iter[q];
        continue;
      }
      const Task& x = tasks[rseq[q][it_pos[q]]];
      const long long j = (it_iter[q] - x.stage) * R + x.r;
      if (j >= 0 && j < N) return {rseq[q][it_pos[q]], static_cast<int>(j)};
      ++it_pos[q];
    }
    return {-1, -1};
  };
  int outputs = 0;
  for (const auto& ts : in.tensors)
    if (ts.output) ++outputs;
  // Op inputs counted per op: tensors in the instance (others are free).
  std::vector<int> need(n);
  for (int v = 0; v < n; ++v) need[v] = static_cast<int>(in.in_tensors[v].size());

  std::vector<int> remaining(static_cast<size_t>(N) * n);
  std::vector<int> left(N, n + outputs);  // ops to finish + outputs to deliver
  PipeRun out;
  out.release = release;
  out.completion.assign(N, 0.0);
  out.watched = watch.resource;

  struct Ev {
    double time;
    long long seq;
    int type, j, a, b;  // 0 op finish (j, v, dev), 1 transfer finish (j, t, dest), 2 release j
    bool operator>(const Ev& o) const { return std::tie(time, seq) > std::tie(o.time, o.seq); }
  };
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> events;
  long long seq = 0;
  using OpKey = std::tuple<int, int, int>;  // inference, topo rank, op
  std::vector<std::priority_queue<OpKey, std::vector<OpKey>, std::greater<OpKey>>> ready(K);
  std::vector<char> dev_busy(K, 0);
  using TrKey = std::tuple<int, double, long long, int, int>;  // inference, ready time, seq, tensor, dest
  std::vector<std::priority_queue<TrKey, std::vector<TrKey>, std::greater<TrKey>>> lq(static_cast<size_t>(K) * K);
  std::vector<char> link_busy(static_cast<size_t>(K) * K, 0);
  std::vector<int> dirty_dev, dirty_link;
  double now = 0;
  auto started = [&](int q, int j) {
    if (q != watch.resource) return;
    if (periodic) {
      const auto it = static_cast<size_t>(it_iter[q]);
      if (out.iteration_start.size() <= it) out.iteration_start.resize(it + 1, kInf);
      out.iteration_start[it] = std::min(out.iteration_start[it], now);
    } else if (j >= watch.lo && j < watch.hi) {
      out.window_first_start = std::min(out.window_first_start, now);
    }
  };

  auto finish_one = [&](int j) {
    if (--left[j] == 0) out.completion[j] = now;
  };
  auto arrive = [&](int j, int t, int d) {
    const int r = j % R;
    const auto& ts = in.tensors[t];
    if (ts.output && (io < 0 ? d == src[r][t] : d == io)) finish_one(j);
    for (int c : ts.consumers)
      if (place[r][c] == d) {
        if (--remaining[static_cast<size_t>(j) * n + c] == 0 && !periodic) {
          ready[d].emplace(j, in.topo_rank[c], c);
          dirty_dev.push_back(d);
        }
      }
  };
  auto produce = [&](int j, int t) {  // tensor t of inference j is complete on its source device
    const int r = j % R;
    const int s = src[r][t];
    if (s < 0) {  // free graph input: present everywhere
      std::vector<int> seen;
      for (int c : in.tensors[t].consumers) {
        const int d = place[r][c];
        if (std::find(seen.begin(), seen.end(), d) == seen.end()) {
          seen.push_back(d);
          arrive(j, t, d);
        }
      }
      return;
    }
    if (periodic) avail[static_cast<size_t>(j) * T + t] = 1;
    for (int d : dests[r][t]) {
      if (periodic && contention) continue;  // sent by the link's periodic sequence
      if (contention) {
        lq[static_cast<size_t>(s) * K + d].emplace(j, now, seq++, t, d);
        dirty_link.push_back(s * K + d);
      } else {
        events.push({now + in.comm(t, s, d), seq++, 1, j, t, d});
      }
    }
    arrive(j, t, s);
  };

  for (int j = 0; j < N; ++j) events.push({release[j], seq++, 2, j, 0, 0});
  while (!events.empty()) {
    now = events.top().time;
    while (!events.empty() && events.top().time == now) {
      const Ev e = events.top();
      events.pop();
      if (e.type == 2) {
        const int j = e.j;
        released[j] = 1;
        for (int v = 0; v < n; ++v) {
          remaining[static_cast<size_t>(j) * n + v] = need[v];
          if (need[v] == 0 && !periodic) {
            const int d = place[j % R][v];
            ready[d].emplace(j, in.topo_rank[v], v);
            dirty_dev.push_back(d);
          }
        }
        for (int t = 0; t < T; ++t)
          if (in.tensors[t].producer < 0) produce(j, t);
      } else if (e.type == 0) {
        dev_busy[e.b] = 0;
        if (periodic) res_busy[e.b] = 0;
        dirty_dev.push_back(e.b);
        finish_one(e.j);
        for (int t : in.out_tensors[e.a]) produce(e.j, t);
      } else {
        const int s = src[e.j % R][e.a];
        if (periodic && contention) res_busy[K + s * K + e.b] = 0;
        if (contention) {
          link_busy[static_cast<size_t>(s) * K + e.b] = 0;
          dirty_link.push_back(s * K + e.b);
        }
        arrive(e.j, e.a, e.b);
      }
    }
    // Dispatch idle resources.
    if (periodic) {
      dirty_dev.clear();
      dirty_link.clear();
      for (int q = 0; q < NR; ++q) {
        if (res_busy[q]) continue;
        const auto [ti, j] = head(q);
        if (ti < 0) continue;
        const Task& x = tasks[ti];
        bool ready_now = released[j];
        if (ready_now && x.type == 0) ready_now = remaining[static_cast<size_t>(j) * n + x.a] == 0;
        if (ready_now && x.type == 1) ready_now = avail[static_cast<size_t>(j) * T + x.a] != 0;
        if (!ready_now) continue;
        res_busy[q] = 1;
        ++it_pos[q];
        started(q, j);
        if (x.type == 0) {
          dev_busy[x.d] = 1;
          events.push({now + x.dur, seq++, 0, j, x.a, x.d});
        } else {
          link_busy[q - K] = 1;
          events.push({now + x.dur, seq++, 1, j, x.a, x.d});
        }
      }
    }
    for (int d : dirty_dev) {
      if (dev_busy[d] || ready[d].empty()) continue;
      const auto [j, rank, v] = ready[d].top();
      (void)rank;
      ready[d].pop();
      dev_busy[d] = 1;
      started(d, j);
      events.push({now + in.exec(v, d), seq++, 0, j, v, d});
    }
    dirty_dev.clear();
    for (int li : dirty_link) {
      if (link_busy[li] || lq[li].empty()) continue;
      const auto [j, rt, sq, t, d] = lq[li].top();
      (void)rt;
      (void)sq;
      lq[li].pop();
      link_busy[li] = 1;
      started(K + li, j);
      events.push({now + in.comm(t, li / K, d), seq++, 1, j, t, d});
    }
    dirty_link.clear();
  }
  for (int j = 0; j < N; ++j)
    if (left[j] != 0) throw ScheduleError(fmt::format("pipelined simulation: inference {} did not complete", j));
  out.depth = max_stage;
  return out;
}

}  // namespace

PipelineResult simulate_pipeline(const ThroughputInstance& in, const std::vector<std::vector<int>>& place,
                                 const PipelineOptions& opt) {
  const int R = static_cast<int>(place.size());
  if (R < 1) throw ScheduleError("pipelined simulation: no replica");
  int N = opt.inferences > 0 ? opt.inferences : std::max(400, 100 * R);
  N = std::max(N, 4 * R);
  PipelineResult res;
  const bool periodic = opt.dispatch == Dispatch::Periodic;
  // One inference alone.
  const PipeRun one = run_pipeline(in, place, {0.0}, opt.contention, periodic);
  res.first_latency_s = one.completion[0];
  // The measured window (the middle half) must start after the periodic prologue.
  if (periodic && opt.inferences <= 0)
    N = static_cast<int>(std::min<long long>(200000, std::max<long long>(N, 4LL * R * (one.depth + 3))));
  res.inferences = N;
  const int i1 = R * (N / (4 * R)), i2 = i1 + R * std::max(1, N / (2 * R));
  // The busiest serial resource, watched for the rate floor below.
  Watch watch;
  watch.lo = i1;
  watch.hi = i2;
  {
    const ThroughputLoads loads = compute_loads(in, place);
    double load = 0;
    for (int k = 0; k < in.K; ++k)
      if (loads.device[k] > load) load = loads.device[k], watch.resource = k;
    if (opt.contention)
      for (int l = 0; l < in.K * in.K; ++l)
        if (loads.link[l] > load) load = loads.link[l], watch.resource = in.K + l;
  }
  // Saturated run: every inference is available at time 0.
  const PipeRun sat = run_pipeline(in, place, std::vector<double>(N, 0.0), opt.contention, periodic, watch);
  // In-order completion: inferences 0..i all done (outputs are consumed in order, so a replica
  // that runs ahead of the others does not raise the sustained rate).
  std::vector<double> c = sat.completion;
  for (int j = 1; j < N; ++j) c[j] = std::max(c[j], c[j - 1]);
  res.makespan_s = c.back();
  const int a = std::max(0, i1 - 1), b = std::min(N - 1, i2 - 1);
  const double span = c[b] - c[a];
  res.period_per_inference_s = b > a ? span / (b - a) : c.back() / N;
  // A window can catch the pipeline between two phases of its transient (the earliest execution
  // of fixed orders becomes periodic only eventually, possibly with a cycle of several periods),
  // so it alone can read faster than the analytic rate, which no execution can sustain. The
  // busiest serial resource q gives a rate that cannot exceed it: periodic dispatch runs q's
  // sequence iteration by iteration, each iteration holding a period's load P of q, so
  // consecutive iteration starts are at least P apart (R inferences each); greedy dispatch did all
  // of q's work for inferences i1..i2-1 ((i2 - i1) / R periods' load) after its first start on
  // one of them and before c[b]. The reported period is the slower of the window and that floor.
  if (sat.watched >= 0) {
    double floor_period = 0;
    if (periodic) {
      const long long first_it = i1 / R + sat.depth, last_it = std::min<long long>(i2 / R + sat.depth, (N - R) / R);
      const auto& st = sat.iteration_start;
      if (last_it > first_it && last_it < static_cast<long long>(st.size()) && std::isfinite(st[first_it]) &&
          std::isfinite(st[last_it]))
        floor_period = (st[last_it] - st[first_it]) / (static_cast<double>(last_it - first_it) * R);
    } else if (std::isfinite(sat.window_first_start)) {
      floor_period = (c[b] - sat.window_first_start) / (i2 - i1);
    }
    res.period_per_inference_s = std::max(res.period_per_inference_s, floor_period);
  }
  res.throughput_per_s = res.period_per_inference_s > 0 ? 1 / res.period_per_inference_s
                                                        : std::numeric_limits<double>::infinity();
  // Paced run: one inference every max(analytic P / R, measured) seconds.
  const double analytic = compute_loads(in, place).period / R;
  // Greedy dispatch loses a little capacity in a critically loaded pipeline (queues would grow
  // without bound at exactly its rate): its latency is measured at 98% of that rate.
  res.release_interval_s = std::max(analytic, res.period_per_inference_s) / (periodic ? 1.0 : 0.98);
  std::vector<double> rel(N);
  for (int j = 0; j < N; ++j) rel[j] = j * res.release_interval_s;
  const PipeRun paced = run_pipeline(in, place, rel, opt.contention, periodic);
  double sum = 0;
  int cnt = 0;
  for (int j = N / 4; j < 3 * N / 4; ++j) {
    const double lat = paced.completion[j] - paced.release[j];
    sum += lat;
    ++cnt;
    res.latency_max_s = std::max(res.latency_max_s, lat);
  }
  res.latency_mean_s = cnt ? sum / cnt : res.first_latency_s;
  return res;
}

PipelineResult simulate_pipeline(const Problem& pb, const ThroughputSchedule& s, const PipelineOptions& opt) {
  check_throughput_structure(pb, s);
  return simulate_pipeline(ThroughputInstance::from_problem(pb), s.device, opt);
}

}  // namespace diviml

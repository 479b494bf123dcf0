// Symmetric LLM planner and the uniform-layers baseline (llm_planner.h, docs/llm.md).
#include "solvers/llm/llm_planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <tuple>

#include <fmt/format.h>

#include "graph/series.h"
#include "schedule/simulator.h"
#include "solvers/memory/memory.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml {

namespace {

using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)}); }

std::string gb(double b) { return fmt::format("{:.1f} GB", b / 1e9); }

bool same_op(const Op& a, const Op& b) {
  return a.type == b.type && a.op_class == b.op_class && close(a.flops, b.flops) && close(a.weight_bytes, b.weight_bytes) &&
         close(a.bytes_accessed, b.bytes_accessed) && a.inputs.size() == b.inputs.size() &&
         a.outputs.size() == b.outputs.size() && a.device_times.size() == b.device_times.size();
}

bool same_unit(const Graph& g, const std::vector<OpId>& a, const std::vector<OpId>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Op& x = g.ops[a[i]];
    const Op& y = g.ops[b[i]];
    if (!same_op(x, y)) return false;
    for (const auto& [d, t] : x.device_times) {
      auto it = y.device_times.find(d);
      if (it == y.device_times.end() || !close(it->second, t)) return false;
    }
    for (size_t j = 0; j < x.outputs.size(); ++j)
      if (!close(g.tensors[x.outputs[j]].bytes, g.tensors[y.outputs[j]].bytes)) return false;
  }
  return true;
}

bool same_device(const Device& a, const Device& b) {
  return a.kind == b.kind && a.peak_flops == b.peak_flops && a.mem_bandwidth == b.mem_bandwidth &&
         a.memory_bytes == b.memory_bytes && a.reserve_bytes == b.reserve_bytes &&
         a.launch_overhead_s == b.launch_overhead_s && a.efficiency == b.efficiency &&
         a.unsupported_op_types == b.unsupported_op_types;
}

bool is_gpu(const Device& d) { return d.kind != DeviceKind::Cpu; }

/// One server's share: the local unit sequence, its costs on the server's candidate devices.
struct Planner {
  const Problem& pb;
  const Graph& g;
  RepeatedBlocks rb;
  ServerStructure ss;
  int N = 0;             // servers
  int L = 0;             // layers
  bool use_cpu = false;
  bool memoise = true;
  std::vector<std::vector<int>> cand;   // per server: candidate devices
  // Per global unit: weight, max activation footprint, bytes crossing after it.
  std::vector<double> uweight, uact, ucross;
  double input_bytes = 0, output_bytes = 0;
  int subproblems = 0;

  struct Sub {
    double period = kInf;
    double latency = kInf;               // tie-break: sum of loads and transfers
    std::vector<int> order;              // positions in cand[server]
    std::vector<int> cuts;               // segment i = local units [cuts[i], cuts[i+1])
  };
  std::map<std::tuple<int, int, int, int>, Sub> memo;  // (server key, m, first, last)

  Planner(const Problem& p, const RepeatedBlocks& b, const ServerStructure& s, bool cpu)
      : pb(p), g(p.graph()), rb(b), ss(s), N(static_cast<int>(s.devices.size())), L(b.count), use_cpu(cpu) {
    for (const auto& devs : ss.devices) {
      std::vector<int> c;
      for (int k : devs)
        if (is_gpu(pb.platform().devices[k]) || use_cpu) c.push_back(k);
      cand.push_back(c);
    }
    const int U = static_cast<int>(rb.units.size());
    std::vector<int> unit_of(g.num_ops(), -1);
    for (int u = 0; u < U; ++u)
      for (OpId v : rb.units[u]) unit_of[v] = u;
    uweight.assign(U, 0);
    uact.assign(U, 0);
    ucross.assign(U, 0);
    for (int u = 0; u < U; ++u)
      for (OpId v : rb.units[u]) {
        uweight[u] += pb.weight_bytes(v);
        uact[u] = std::max(uact[u], op_footprint_bytes(pb, v) - pb.weight_bytes(v));
      }
    // Bytes crossing each unit boundary: tensors produced at or before u consumed after u.
    std::vector<double> diff(U + 1, 0);
    for (TensorId t = 0; t < g.num_tensors(); ++t) {
      const Tensor& ts = g.tensors[t];
      if (ts.producer == kNoOp) {
        input_bytes += ts.bytes;
        continue;
      }
      int last = unit_of[ts.producer];
      for (OpId c : ts.consumers) last = std::max(last, unit_of[c]);
      if (ts.is_graph_output) output_bytes += ts.bytes;
      const int from = unit_of[ts.producer];
      if (last > from) diff[from] += ts.bytes, diff[last] -= ts.bytes;
    }
    double acc = 0;
    for (int u = 0; u < U; ++u) acc += diff[u], ucross[u] = acc;
  }

  /// Global unit standing for local position i of a share of m layers.
  int rep_unit(int i, int m, bool first) const {
    const int pre = first ? rb.first : 0;
    if (i < pre) return i;
    i -= pre;
    if (i < m * rb.period) return rb.first + i % rb.period;
    return rb.suffix_begin() + (i - m * rb.period);
  }
  int local_units(int m, bool first, bool last) const {
    return (first ? rb.first : 0) + m * rb.period + (last ? static_cast<int>(rb.units.size()) - rb.suffix_begin() : 0);
  }

  double unit_exec(int u, int k) const {
    double t = 0;
    for (OpId v : rb.units[u]) t += pb.exec(v, k);
    return t;
  }

  /// The representative server for a share: the real one when first or last (I/O costs), else
  /// any middle server (identical ones share the result).
  int rep_server(int s, bool first, bool last) const {
    if (!memoise || first || last) return s;
    return N >= 3 ? 1 : s;
  }

  /// Best contiguous split of a share over the server's devices (all device orders).
  const Sub& solve(int server, int m, bool first, bool last) {
    const int rs = rep_server(server, first, last);
    const auto key = std::make_tuple(memoise ? (first ? 0 : last ? 2 : 1) : server, m, first ? 1 : 0, last ? 1 : 0);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
    Sub best;
    const int U = local_units(m, first, last);
    if (U == 0) {
      best.period = 0, best.latency = 0;
      return memo[key] = best;
    }
    ++subproblems;
    const std::vector<int>& devs = cand[rs];
    const int D = static_cast<int>(devs.size());
    // Costs of the local units on each candidate device (prefix sums).
    std::vector<int> rep(U);
    for (int i = 0; i < U; ++i) rep[i] = rep_unit(i, m, first);
    std::vector<std::vector<double>> cum(D, std::vector<double>(U + 1, 0)), wcum(1, std::vector<double>(U + 1, 0));
    for (int j = 0; j < D; ++j)
      for (int i = 0; i < U; ++i) cum[j][i + 1] = cum[j][i] + unit_exec(rep[i], devs[j]);
    for (int i = 0; i < U; ++i) wcum[0][i + 1] = wcum[0][i] + uweight[rep[i]];
    // Max activation over [a, b): sparse enough to compute on the fly with a running max.
    const int other = N > 1 ? ss.devices[(rs + 1) % N][0] : -1;  // a device on another server
    const int io = pb.io_device();
    // Bytes entering a non-first server: what crosses the boundary before its first unit.
    const double enter = first ? input_bytes : (m > 0 ? ucross[rb.first + rb.period - 1] : ucross[rb.suffix_begin() - 1]);
    // Enumerate ordered subsets of the devices.
    std::vector<std::vector<int>> orders;
    std::function<void(std::vector<int>&, std::vector<char>&)> rec = [&](std::vector<int>& cur, std::vector<char>& used) {
      if (!cur.empty()) orders.push_back(cur);
      for (int j = 0; j < D; ++j)
        if (!used[j]) {
          used[j] = 1, cur.push_back(j);
          rec(cur, used);
          cur.pop_back(), used[j] = 0;
        }
    };
    {
      std::vector<int> cur;
      std::vector<char> used(D, 0);
      rec(cur, used);
    }
    for (const auto& ord : orders) {
      const int q = static_cast<int>(ord.size());
      if (q > U) continue;
      // f[i][b]: best (period, latency) with the first i segments covering units [0, b).
      std::vector<std::vector<std::pair<double, double>>> f(q + 1, std::vector<std::pair<double, double>>(U + 1, {kInf, kInf}));
      std::vector<std::vector<int>> arg(q + 1, std::vector<int>(U + 1, -1));
      const int k0 = devs[ord[0]];
      double entry = 0;
      if (first) entry = io < 0 ? 0 : pb.comm_bytes(input_bytes, io, k0);
      else if (other >= 0) entry = pb.comm_bytes(enter, other, k0);
      f[0][0] = {entry, entry};
      for (int i = 1; i <= q; ++i) {
        const int j = ord[i - 1], k = devs[j];
        const double cap = pb.memory_capacity(k);
        for (int a = i - 1; a < U; ++a) {
          if (!std::isfinite(f[i - 1][a].first)) continue;
          const double link = i == 1 ? 0 : pb.comm_bytes(ucross[rep[a - 1]], devs[ord[i - 2]], k);
          double act = 0;
          for (int b = a + 1; b <= U - (q - i); ++b) {
            act = std::max(act, uact[rep[b - 1]]);
            if (wcum[0][b] - wcum[0][a] + act > cap) break;
            const double load = cum[j][b] - cum[j][a];
            if (!std::isfinite(load)) break;
            const double per = std::max({f[i - 1][a].first, link, load});
            const double lat = f[i - 1][a].second + link + load;
            if (per < f[i][b].first * (1 - 1e-12) || (per <= f[i][b].first * (1 + 1e-12) && lat < f[i][b].second))
              f[i][b] = {per, lat}, arg[i][b] = a;
          }
        }
      }
      auto [per, lat] = f[q][U];
      if (!std::isfinite(per)) continue;
      const int klast = devs[ord[q - 1]];
      if (last && io >= 0) {
        const double out = pb.comm_bytes(output_bytes, klast, io);
        per = std::max(per, out), lat += out;
      }
      if (per < best.period * (1 - 1e-12) || (per <= best.period * (1 + 1e-12) && lat < best.latency)) {
        best.period = per, best.latency = lat, best.order = ord;
        best.cuts.assign(q + 1, 0);
        best.cuts[q] = U;
        for (int i = q, b = U; i > 0; --i) b = arg[i][b], best.cuts[i - 1] = b;
      }
    }
    return memo[key] = best;
  }

  /// Outer DP over servers; returns layers per server (empty when infeasible) and the period.
  std::pair<std::vector<int>, double> outer(int fixed_per_server) {
    std::vector<std::vector<std::pair<double, double>>> f(N, std::vector<std::pair<double, double>>(L + 1, {kInf, kInf}));
    std::vector<std::vector<int>> arg(N, std::vector<int>(L + 1, -1));
    auto better = [](std::pair<double, double> a, std::pair<double, double> b) {
      return a.first < b.first * (1 - 1e-12) || (a.first <= b.first * (1 + 1e-12) && a.second < b.second);
    };
    for (int s = 0; s < N; ++s) {
      const bool first = s == 0, last = s == N - 1;
      for (int l = 0; l <= L; ++l) {
        if (last && l != L) continue;
        for (int a = 0; a <= l; ++a) {
          if (fixed_per_server > 0 && a != fixed_per_server) continue;
          std::pair<double, double> prev = {0, 0};
          if (s > 0) prev = f[s - 1][l - a];
          else if (a != l) continue;
          if (!std::isfinite(prev.first)) continue;
          const Sub& sub = solve(s, a, first, last);
          if (!std::isfinite(sub.period)) continue;
          const std::pair<double, double> v = {std::max(prev.first, sub.period), prev.second + sub.latency};
          if (better(v, f[s][l])) f[s][l] = v, arg[s][l] = a;
        }
      }
    }
    if (!std::isfinite(f[N - 1][L].first)) return {{}, kInf};
    std::vector<int> share(N);
    for (int s = N - 1, l = L; s >= 0; --s) share[s] = arg[s][l], l -= share[s];
    return {share, f[N - 1][L].first};
  }

  /// Placement of every op from the shares.
  std::vector<int> place(const std::vector<int>& share, std::string& summary) {
    std::vector<int> dev(g.num_ops(), -1);
    int layer0 = 0;
    for (int s = 0; s < N; ++s) {
      const bool first = s == 0, last = s == N - 1;
      const int m = share[s];
      const Sub& sub = solve(s, m, first, last);
      // Actual global unit of each local position.
      auto actual = [&](int i) {
        const int pre = first ? rb.first : 0;
        if (i < pre) return i;
        i -= pre;
        if (i < m * rb.period) return rb.first + layer0 * rb.period + i;
        return rb.suffix_begin() + (i - m * rb.period);
      };
      std::string part;
      for (size_t seg = 0; seg + 1 < sub.cuts.size(); ++seg) {
        const int pos = sub.order[seg];
        const int k = cand[s][pos];
        for (int i = sub.cuts[seg]; i < sub.cuts[seg + 1]; ++i)
          for (OpId v : rb.units[actual(i)]) dev[v] = k;
        part += fmt::format("{}{}:{}u", part.empty() ? "" : " ", pb.platform().devices[k].name,
                            sub.cuts[seg + 1] - sub.cuts[seg]);
      }
      summary += fmt::format("{}[{} layers: {}]", summary.empty() ? "" : " ", m, part);
      layer0 += m;
    }
    return dev;
  }
};

LlmPlan plan_common(const Problem& pb, const LlmPlanOptions& opt, bool memoise, const char* what) {
  const auto t0 = clock_type::now();
  const RepeatedBlocks rb = detect_repeated_blocks(pb.graph());
  const ServerStructure ss = server_structure(pb.platform());
  if (ss.num_gpus_per_server == 0)
    throw InputError(fmt::format("{}: platform '{}' has no GPU in its servers (the server template needs at least one GPU "
                                 "or accelerator)", what, pb.platform().name));
  if (!ss.identical)
    throw InputError(fmt::format("{}: the servers of platform '{}' are not identical (use servers + server_template)", what,
                                 pb.platform().name));
  const int N = static_cast<int>(ss.devices.size());
  if (opt.layers_per_server > 0 && (rb.count % N != 0 || opt.layers_per_server * N != rb.count))
    throw InputError(fmt::format("{}: {} layers cannot be split as requested into {} layers on each of {} servers{}", what,
                                 rb.count, opt.layers_per_server, N,
                                 rb.count % N ? fmt::format(" ({} is not divisible by {})", rb.count, N) : ""));
  check_memory_feasible(pb, what);
  LlmPlan plan;
  // Position of every device in its server, to map a group's plan onto the other groups.
  std::vector<std::pair<int, int>> where(pb.num_devices());
  for (int s = 0; s < N; ++s)
    for (size_t j = 0; j < ss.devices[s].size(); ++j) where[ss.devices[s][j]] = {s, static_cast<int>(j)};
  std::string last_error;
  double best_thr = -1;
  // Outer search over the pipeline depth: groups of g consecutive servers each run the whole
  // model as one pipeline (R = N / g replicas, data parallelism across groups); g = N is the pure
  // pipeline over every server.
  for (int g = N; g >= 1; --g) {
    if (N % g != 0) continue;
    if (g != N && (!opt.search_groups || opt.layers_per_server > 0)) continue;
    ServerStructure sub = ss;
    sub.devices.resize(g);
    LlmPlan cand;
    // GPUs only first; then with the server CPUs (always when the GPUs lack the memory, and when
    // allowed, kept only if the period drops by more than cpu_gain: a CPU stage costs latency).
    bool have = false;
    double gpu_period = kInf;
    std::vector<int> dev;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool cpu = attempt == 1;
      if (cpu && have && !opt.use_cpu) break;
      Planner P(pb, rb, sub, cpu);
      P.memoise = memoise;
      auto [share, period] = P.outer(opt.layers_per_server);
      cand.subproblems_solved += P.subproblems;
      if (share.empty()) {
        if (cpu && !have) {
          double need = pb.graph().total_weight_bytes(), avail = 0, block = 0;
          for (int s2 = 0; s2 < g; ++s2)
            for (int k : ss.devices[s2]) avail += pb.memory_capacity(k);
          for (int i = 0; i < rb.period; ++i) block += P.uweight[rb.first + i];
          last_error = fmt::format("{}: the model does not fit the cluster '{}' as a pipeline: it needs {} of weights "
                                   "({} layers of {} each) and the {} servers offer {} usable",
                                   what, pb.platform().name, gb(need), rb.count, gb(block), g, gb(avail));
        }
        continue;
      }
      if (cpu && have && !(period < gpu_period * (1 - opt.cpu_gain))) break;
      cand.layers_per_server = share;
      cand.dp_period_s = period;
      cand.summary.clear();
      dev = P.place(share, cand.summary);
      if (cpu)
        cand.summary += have ? fmt::format(" (server CPUs hold units: period -{:.1f}% vs GPUs only)",
                                           100 * (1 - period / gpu_period))
                             : " (GPUs alone lack the memory: server CPUs hold layers)";
      have = true;
      if (!cpu) gpu_period = period;
    }
    plan.subproblems_solved += cand.subproblems_solved;
    if (!have) continue;
    const int R = N / g;
    cand.replicas = R;
    cand.schedule.replicas = R;
    cand.schedule.device.assign(R, dev);
    for (int r = 1; r < R; ++r)
      for (auto& k : cand.schedule.device[r]) k = ss.devices[where[k].first + r * g][where[k].second];
    std::vector<int> shares;
    for (int r = 0; r < R; ++r) shares.insert(shares.end(), cand.layers_per_server.begin(), cand.layers_per_server.end());
    cand.layers_per_server = shares;
    if (R > 1) cand.summary = fmt::format("{} pipelines of {} server(s), each: {}", R, g, cand.summary);
    const ThroughputAnalysis a = analyze_throughput(pb, cand.schedule);
    if (!a.memory_violations.empty()) continue;
    if (a.throughput_per_s > best_thr * (1 + 1e-9)) {
      best_thr = a.throughput_per_s;
      const int subp = plan.subproblems_solved;
      plan = cand;
      plan.subproblems_solved = subp;
    }
  }
  if (best_thr < 0)
    throw InputError(last_error.empty() ? fmt::format("{}: no pipeline within memory found on '{}'", what, pb.platform().name)
                                        : last_error);
  plan.schedule.status = SolveStatus::Heuristic;
  plan.schedule.claimed_period = std::numeric_limits<double>::quiet_NaN();
  plan.symmetric_period_s = analyze_throughput(pb, plan.schedule).period_s;
  if (opt.refine_s > 0) {
    // Single-op moves anywhere (breaks the contiguity/symmetry where that pays), kept only when
    // the period drops and the memory (activations included) still fits.
    const ThroughputInstance in = ThroughputInstance::from_problem(pb);
    std::vector<std::vector<int>> place = plan.schedule.device;
    if (improve_throughput_placement(in, place, opt.refine_s)) {
      ThroughputSchedule t = plan.schedule;
      t.device = place;
      const ThroughputAnalysis a = analyze_throughput(pb, t);
      if (a.memory_violations.empty() && a.period_s < plan.symmetric_period_s * (1 - 1e-4)) {
        plan.schedule.device = place;
        plan.summary += fmt::format("; refined by single-op moves: period -{:.2f}%",
                                    100 * (1 - a.period_s / plan.symmetric_period_s));
      }
    }
  }
  evaluate_llm_plan(pb, plan);
  plan.solve_seconds = since(t0);
  plan.schedule.solve_seconds = plan.solve_seconds;
  plan.schedule.notes = fmt::format("{} blocks of {} units; {} one-server placements solved; {}", rb.count, rb.period,
                                    plan.subproblems_solved, plan.summary);
  plan.schedule.status = SolveStatus::Heuristic;
  return plan;
}

}  // namespace

RepeatedBlocks detect_repeated_blocks(const Graph& g) {
  RepeatedBlocks rb;
  rb.units = series_decomposition(g).modules;
  const int U = static_cast<int>(rb.units.size());
  // Class id of every unit (equal ids: identical units).
  std::vector<int> cls(U, -1);
  std::vector<int> reps;
  for (int u = 0; u < U; ++u) {
    for (size_t c = 0; c < reps.size() && cls[u] < 0; ++c)
      if (same_unit(g, rb.units[reps[c]], rb.units[u])) cls[u] = static_cast<int>(c);
    if (cls[u] < 0) cls[u] = static_cast<int>(reps.size()), reps.push_back(u);
  }
  int best_cover = 0;
  for (int p = 1; p <= U / 2; ++p) {
    // run[i]: consecutive positions j >= i with cls[j] == cls[j + p].
    int run = 0;
    for (int i = U - p - 1; i >= 0; --i) {
      run = cls[i] == cls[i + p] ? run + 1 : 0;
      const int count = run / p + 1;  // blocks starting at i
      if (count >= 2 && count * p > best_cover) best_cover = count * p, rb.first = i, rb.period = p, rb.count = count;
    }
  }
  if (rb.count < 2)
    throw InputError(fmt::format("graph '{}': no repeated blocks found (the LLM planner needs at least 2 identical "
                                 "transformer layers)", g.name));
  // Prefer a block boundary that leaves the smallest prefix with the same cover (the run found is
  // the leftmost start for the best cover since i decreases).
  return rb;
}

ServerStructure server_structure(const Platform& p) {
  ServerStructure ss;
  int maxs = 0;
  for (const Device& d : p.devices) maxs = std::max(maxs, d.server);
  ss.devices.assign(maxs + 1, {});
  for (int k = 0; k < p.num_devices(); ++k) ss.devices[p.devices[k].server].push_back(k);
  ss.devices.erase(std::remove_if(ss.devices.begin(), ss.devices.end(), [](auto& v) { return v.empty(); }), ss.devices.end());
  for (int k : ss.devices[0])
    if (is_gpu(p.devices[k])) ++ss.num_gpus_per_server;
  const auto& d0 = ss.devices[0];
  for (size_t s = 1; s < ss.devices.size() && ss.identical; ++s) {
    const auto& ds = ss.devices[s];
    if (ds.size() != d0.size()) { ss.identical = false; break; }
    for (size_t j = 0; j < d0.size() && ss.identical; ++j) {
      if (!same_device(p.devices[d0[j]], p.devices[ds[j]])) ss.identical = false;
      for (size_t i = 0; i < j && ss.identical; ++i) {
        const Link a = p.link_between(d0[i], d0[j]), b = p.link_between(ds[i], ds[j]);
        if (a.bandwidth != b.bandwidth || a.latency_s != b.latency_s) ss.identical = false;
      }
    }
  }
  return ss;
}

void evaluate_llm_plan(const Problem& pb, LlmPlan& plan) {
  const ThroughputAnalysis a = analyze_throughput(pb, plan.schedule);
  plan.period_s = a.period_s;
  plan.throughput_per_s = a.throughput_per_s;
  plan.headroom_bytes.clear();
  for (const DeviceMemory& m : a.memory) plan.headroom_bytes.push_back(m.headroom());
  // The analysis has simulated every replica already; replicas may differ after refinement.
  plan.latency_s = a.replica_latency_s.empty()
                       ? 0.0
                       : *std::max_element(a.replica_latency_s.begin(), a.replica_latency_s.end());
}

LlmPlan plan_llm_symmetric(const Problem& pb, const LlmPlanOptions& opt) {
  LlmPlan p = plan_common(pb, opt, true, "llm-symmetric");
  p.schedule.method = "llm-symmetric";
  return p;
}

LlmPlan plan_llm_flat(const Problem& pb, const LlmPlanOptions& opt) {
  LlmPlan p = plan_common(pb, opt, false, "llm-flat");
  p.schedule.method = "llm-flat";
  return p;
}

LlmPlan plan_uniform_layers(const Problem& pb, const LlmPlanOptions& opt) {
  const auto t0 = clock_type::now();
  const char* what = "uniform-layers";
  const RepeatedBlocks rb = detect_repeated_blocks(pb.graph());
  std::vector<int> gpus;
  for (int k = 0; k < pb.num_devices(); ++k)
    if (is_gpu(pb.platform().devices[k])) gpus.push_back(k);
  if (gpus.empty())
    throw InputError(fmt::format("{}: platform '{}' has no GPU (the server template needs at least one GPU or accelerator)",
                                 what, pb.platform().name));
  const int G = static_cast<int>(gpus.size());
  if (opt.require_divisible && rb.count % G != 0)
    throw InputError(fmt::format("{}: {} layers are not divisible by the {} GPUs of '{}'", what, rb.count, G,
                                 pb.platform().name));
  const Graph& g = pb.graph();
  std::vector<int> dev(g.num_ops(), -1);
  const int base = rb.count / G, rem = rb.count % G;
  std::vector<int> gpu_of_layer;
  for (int i = 0; i < G; ++i)
    for (int j = 0; j < base + (i < rem ? 1 : 0); ++j) gpu_of_layer.push_back(i);
  const int U = static_cast<int>(rb.units.size());
  LlmPlan plan;
  for (int u = 0; u < U; ++u) {
    int gi = u < rb.first ? 0 : u >= rb.suffix_begin() ? gpu_of_layer.back() : gpu_of_layer[(u - rb.first) / rb.period];
    for (OpId v : rb.units[u]) {
      int k = gpus[gi];
      if (!pb.can_run(v, k)) k = pb.fastest_device(v);
      dev[v] = k;
    }
  }
  std::vector<int> per_server;
  for (int i = 0; i < G; ++i) {
    const int s = pb.platform().devices[gpus[i]].server;
    if (static_cast<int>(per_server.size()) <= s) per_server.resize(s + 1, 0);
    per_server[s] += base + (i < rem ? 1 : 0);
  }
  plan.layers_per_server = per_server;
  plan.summary = fmt::format("{} layers over {} GPUs: {} each{}", rb.count, G, base,
                             rem ? fmt::format(" (+1 on the first {})", rem) : "");
  plan.schedule.replicas = 1;
  plan.schedule.device = {dev};
  plan.schedule.method = what;
  plan.schedule.status = SolveStatus::Heuristic;
  evaluate_llm_plan(pb, plan);
  plan.solve_seconds = since(t0);
  plan.schedule.solve_seconds = plan.solve_seconds;
  plan.schedule.notes = plan.summary;
  return plan;
}

}  // namespace diviml

#include "solvers/heuristics/local_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "schedule/run_order.h"
#include "schedule/simulator.h"
#include "schedule/timing.h"
#include "solvers/bounds/bounds.h"
#include "platform/units.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/memory/feasible_baseline.h"

namespace diviml {

namespace {

using Clock = std::chrono::steady_clock;

// Tuned on RandWire and the fused CNNs on paper-node (docs/split.md): the results were within
// 0.3% of each other for hot temperatures of 0.3-3% of the makespan.
constexpr double kHotFraction = 0.005, kColdFraction = 1e-4;
constexpr long long kMovesPerOpPerCycle = 10000;

/// Moves the element at `from` to `to`, shifting those between; keeps `pos` in step.
void move_in_order(std::vector<OpId>& order, std::vector<int>& pos, int from, int to) {
  if (from < to)
    std::rotate(order.begin() + from, order.begin() + from + 1, order.begin() + to + 1);
  else
    std::rotate(order.begin() + to, order.begin() + from, order.begin() + from + 1);
  for (int i = std::min(from, to); i <= std::max(from, to); ++i) pos[order[i]] = i;
}

}  // namespace


namespace {

/// One annealing chain (the body of local_search for one seed).
LocalSearchResult anneal_chain(const Problem& pb, const std::vector<int>& device, const std::vector<OpId>& order,
                               const LocalSearchOptions& opt) {
  const Graph& g = pb.graph();
  const int n = pb.num_ops(), K = pb.num_devices();
  AsapTimer timer(pb);  // the execution model's timing, flattened for the hot loop
  LocalSearchResult best;
  best.device = device;
  best.order = order;
  best.makespan = best.start_makespan = timer.time(device, order);
  if (n == 0 || opt.seconds <= 0) return best;

  std::vector<int> dev = device;
  std::vector<OpId> ord = order;
  std::vector<int> pos(n);
  for (int i = 0; i < n; ++i) pos[ord[i]] = i;
  double cur = best.makespan;
  std::vector<OpId> chain = timer.critical_chain(dev, ord, cur, pos);
  std::vector<std::vector<int>> runnable(n);
  for (OpId v = 0; v < n; ++v)
    for (int k = 0; k < K; ++k)
      if (pb.can_run(v, k)) runnable[v].push_back(k);
  // Weights resident per device: a device move that would push a device's weights past its
  // usable memory is refused (activations are left to the simulator at the end).
  std::vector<double> weights(K, 0.0);
  for (OpId v = 0; v < n; ++v) weights[device[v]] += pb.weight_bytes(v);
  auto weights_fit = [&](const std::vector<OpId>& ops, int k) {
    double add = 0;
    for (OpId u : ops) add += pb.weight_bytes(u);
    return add <= 0 || weights[k] + add <= pb.memory_capacity(k);
  };

  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // Temperatures relative to the makespan: from 1% (an op-sized loss is often accepted) down to
  // 0.01% (nearly greedy), geometric in elapsed time so any budget ends cold.
  // Cooling cycles: each goes from hot (an op-sized loss is often accepted) to cold (nearly
  // greedy) over a fixed number of moves, starting again from the best schedule found. The
  // search ends when `opt.stale_cycles` cycles in a row bring no improvement, or at the time limit.
  const double t_hot = kHotFraction * best.makespan, t_cold = kColdFraction * best.makespan;
  long long cycle_moves = std::clamp<long long>(kMovesPerOpPerCycle * n, 100000, 20000000);
  bool cycle_checked = false;
  double last_progress = 0;
  const auto t0 = Clock::now();
  double temperature = t_hot;
  long long cycle_start = 0;
  int stale = 0;
  double best_at_cycle_start = best.makespan;
  best.cycles = 0;
  bool chain_stale = false;
  std::vector<OpId> moved;
  // Positions v may take: after its last predecessor, before its first successor.
  auto window = [&](OpId v) {
    int lo = 0, hi = n - 1;
    for (OpId u : g.pred(v)) lo = std::max(lo, pos[u] + 1);
    for (OpId w : g.succ(v)) hi = std::min(hi, pos[w] - 1);
    return std::pair<int, int>(lo, hi);
  };
  // A random other position for v in its window (v's own when it has no other).
  auto random_position = [&](OpId v) {
    const auto [lo, hi] = window(v);
    const int from = pos[v];
    if (hi <= lo) return from;
    int to = lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo));
    return to >= from ? to + 1 : to;
  };
  const double reposition_p = 0.3, cluster_p = 0.3;
  // Metropolis rule on the neighbour just evaluated: true keeps it, false asks the caller to undo.
  auto accept = [&](double ms) {
    if (!(ms <= cur || unit(rng) < std::exp((cur - ms) / temperature))) return false;
    chain_stale = chain_stale || ms != cur;
    cur = ms;
    return true;
  };
  for (long long it = 0;; ++it) {
    if ((it & 255) == 0) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      if (elapsed >= opt.seconds || (opt.interrupt && opt.interrupt->load())) break;
      // On a large graph a cycle of 10,000 moves per op could outlast the budget and end hot:
      // once the speed is known, cycles are shortened to a quarter of the budget. (Only when the
      // time limit would bind anyway, so converged runs stay deterministic.)
      if (!cycle_checked && it >= 4096) {
        cycle_checked = true;
        const double fit = 0.25 * opt.seconds * static_cast<double>(it) / std::max(elapsed, 1e-9);
        if (fit < static_cast<double>(cycle_moves)) cycle_moves = std::max<long long>(1024, static_cast<long long>(fit));
      }
      if (opt.progress && elapsed - last_progress >= 2.0) {
        last_progress = elapsed;
        opt.progress(best.makespan, best.moves);
      }
      if (it - cycle_start >= cycle_moves) {
        ++best.cycles;
        stale = best.makespan < best_at_cycle_start * (1 - 1e-9) ? 0 : stale + 1;
        if (opt.stale_cycles > 0 && stale >= opt.stale_cycles) break;
        best_at_cycle_start = best.makespan;
        cycle_start = it;
        dev = best.device;
        std::fill(weights.begin(), weights.end(), 0.0);
        for (OpId u = 0; u < n; ++u) weights[dev[u]] += pb.weight_bytes(u);
        ord = best.order;
        for (int i = 0; i < n; ++i) pos[ord[i]] = i;
        cur = best.makespan;
        chain_stale = true;
      }
      temperature = t_hot * std::pow(t_cold / t_hot, static_cast<double>(it - cycle_start) / cycle_moves);
    }
    if (chain_stale) {
      timer.time(dev, ord);
      chain = timer.critical_chain(dev, ord, cur, pos);
      chain_stale = false;
    }
    const OpId v = (!chain.empty() && unit(rng) < 0.7) ? chain[rng() % chain.size()] : static_cast<OpId>(rng() % n);
    ++best.moves;
    if (runnable[v].size() > 1 && unit(rng) < 0.5) {
      // Device move.
      const int old = dev[v];
      int k = runnable[v][rng() % (runnable[v].size() - 1)];
      if (k == old) k = runnable[v].back();
      // With some probability the neighbours that share v's device follow it, so that a group
      // of ops can change device without paying transfers between them on the way.
      moved.clear();
      moved.push_back(v);
      if (unit(rng) < cluster_p) {
        for (OpId u : g.pred(v))
          if (dev[u] == old && pb.can_run(u, k) && unit(rng) < 0.5) moved.push_back(u);
        for (OpId w : g.succ(v))
          if (dev[w] == old && pb.can_run(w, k) && unit(rng) < 0.5) moved.push_back(w);
      }
      if (!weights_fit(moved, k)) continue;
      for (OpId u : moved) dev[u] = k;
      // Optionally also a new position for v: its old slot may not suit the new device.
      const int from = pos[v];
      const int to = unit(rng) < reposition_p ? random_position(v) : from;
      if (to != from) move_in_order(ord, pos, from, to);
      if (!accept(timer.time(dev, ord))) {
        for (OpId u : moved) dev[u] = old;
        if (to != from) move_in_order(ord, pos, to, from);
      } else {
        for (OpId u : moved) weights[old] -= pb.weight_bytes(u), weights[k] += pb.weight_bytes(u);
      }
    } else {
      // Order move within the precedence window.
      const int from = pos[v], to = random_position(v);
      if (to == from) continue;
      move_in_order(ord, pos, from, to);
      if (!accept(timer.time(dev, ord))) move_in_order(ord, pos, to, from);
    }
    if (cur < best.makespan * (1 - 1e-12)) {
      best.makespan = cur;
      best.device = dev;
      best.order = ord;
      ++best.improvements;
    }
  }
  return best;
}

}  // namespace

LocalSearchResult local_search(const Problem& pb, const std::vector<int>& device, const std::vector<OpId>& order,
                               const LocalSearchOptions& opt) {
  const int chains = std::max(1, opt.threads);
  if (chains == 1) return anneal_chain(pb, device, order, opt);
  // Independent chains with consecutive seeds on their own threads; the best wins (ties: the
  // lowest seed), so the result depends on the thread count but not on timing once converged.
  std::vector<LocalSearchResult> results(chains);
  std::vector<std::thread> workers;
  for (int c = 0; c < chains; ++c)
    workers.emplace_back([&, c] {
      LocalSearchOptions o = opt;
      o.seed = opt.seed + static_cast<uint64_t>(c);
      if (c > 0) o.progress = nullptr;  // one chain reports
      results[c] = anneal_chain(pb, device, order, o);
    });
  for (std::thread& w : workers) w.join();
  LocalSearchResult best = std::move(results[0]);
  long long moves = best.moves;
  for (int c = 1; c < chains; ++c) {
    moves += results[c].moves;
    if (results[c].makespan < best.makespan) best = std::move(results[c]);
  }
  best.moves = moves;
  return best;
}

Schedule anneal_schedule(const Problem& pb, const SolveOptions& opt) {
  const auto t0 = Clock::now();
  // From the best baseline that fits memory (with tight memory the fastest may not).
  const FeasibleBaseline feasible = best_feasible_baseline(pb);
  const Schedule& base = feasible.schedule;
  const std::string& base_name = feasible.name;
  if (base.device.empty())
    throw InputError("anneal: no list schedule exists for this instance (no device runs every op)");
  const Graph& g = pb.graph();
  LocalSearchOptions lo;
  lo.seconds = opt.time_limit_s;
  lo.seed = opt.seed;
  lo.interrupt = opt.interrupt;
  lo.threads = opt.threads;
  if (opt.progress)
    lo.progress = [&](double best, long long moves) {
      Progress p;
      p.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
      p.incumbent = best;
      p.bound = std::nan("");
      p.gap = std::nan("");
      p.nodes = moves;
      p.counter = "moves";
      p.stage = "anneal";
      opt.progress(p);
    };
  const LocalSearchResult r = local_search(pb, base.device, run_order(pb, g.topo_order(), base.device, base.start), lo);
  Schedule s = schedule_from_order(pb, r.device, r.order);
  s.status = SolveStatus::Heuristic;
  s.claimed_makespan = r.makespan;
  s.lower_bound = latency_lower_bounds(pb).best;
  s.notes = fmt::format("from {} ({}): {} moves, {} improvements, {} cooling cycles, {}", base_name,
                        format_seconds(base.claimed_makespan), r.moves, r.improvements, r.cycles,
                        format_seconds(std::chrono::duration<double>(Clock::now() - t0).count()));
  s.method = "anneal";
  // The search keeps weights within memory but not activations: the simulator decides.
  return no_worse_than_baseline(pb, std::move(s), feasible);
}

}  // namespace diviml

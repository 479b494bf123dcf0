#include "solvers/memory/feasible_baseline.h"

#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "platform/units.h"
#include "schedule/simulator.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/memory/memory.h"

namespace diviml {

namespace {

/// Keeps `s` (named `name`) in `best` when it fits memory and beats it.
void consider(const Problem& pb, Schedule s, const std::string& name, FeasibleBaseline& best) {
  const LatencyResult r = simulate_latency(pb, s);
  if (!r.memory_violations.empty() || !(r.makespan < best.makespan)) return;
  s.start = r.start;
  s.claimed_makespan = r.makespan;
  best.schedule = std::move(s);
  best.name = name;
  best.makespan = r.makespan;
  best.fits_memory = true;
}

}  // namespace

FeasibleBaseline best_feasible_baseline(const Problem& pb) {
  FeasibleBaseline fastest;
  fastest.schedule = best_list_schedule(pb, &fastest.name);
  if (fastest.schedule.device.empty()) return fastest;
  const LatencyResult r = simulate_latency(pb, fastest.schedule);
  fastest.makespan = r.makespan;
  fastest.fits_memory = r.memory_violations.empty();
  if (fastest.fits_memory) return fastest;  // the common case: the same start as without memory limits

  FeasibleBaseline best;
  const std::pair<const char*, Schedule (*)(const Problem&)> list[] = {
      {"fastest-device", fastest_device_schedule}, {"heft", heft_schedule}, {"cpop", cpop_schedule},
      {"peft", peft_schedule}, {"etf", etf_schedule}, {"m-etf", metf_schedule}, {"m-topo", mtopo_schedule}};
  for (const auto& [name, fn] : list) {
    try {
      Schedule s = fn(pb);
      consider(pb, s, name, best);
      if (simulate_latency(pb, s).memory_violations.empty()) continue;
      consider(pb, repair_memory(pb, std::move(s)), std::string(name) + "+repair", best);
    } catch (const InputError&) {
      // this baseline cannot handle the instance (no device runs every op, memory too tight)
    }
  }
  return best.fits_memory ? best : fastest;
}

Schedule no_worse_than_baseline(const Problem& pb, Schedule s, const FeasibleBaseline& base) {
  if (base.schedule.device.empty()) return s;
  const std::string method = s.method, notes = s.notes;
  const double lower_bound = s.lower_bound;
  std::string why;
  try {
    s = repair_memory(pb, std::move(s));
    const double ms = simulate_latency(pb, s).makespan;
    if (ms <= base.makespan * (1 + 1e-9)) return s;  // ties (rounding) keep the method's own status
    why = fmt::format("its schedule ({}) was slower", format_seconds(ms));
  } catch (const InputError& e) {
    if (!base.fits_memory) throw;  // nothing fits: the method's own message says why
    why = fmt::format("its schedule did not fit memory ({})", e.what());
  }
  Schedule b = base.schedule;
  b.method = method;
  b.status = SolveStatus::Heuristic;
  b.lower_bound = lower_bound;  // a proven bound stays valid whatever schedule is returned
  b.notes = fmt::format("{}{}; returned the best feasible baseline {} ({})", notes.empty() ? "" : notes + "; ", why,
                        base.name, format_seconds(base.makespan));
  return b;
}

}  // namespace diviml

// The latency method registry (solver.h): name -> scheduler, plus "device:NAME".
#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "schedule/simulator.h"
#include "solvers/exact/bnb.h"
#include "solvers/heuristics/heuristics.h"
#include "solvers/heuristics/local_search.h"
#include "solvers/memory/feasible_baseline.h"
#include "solvers/memory/memory.h"
#include "solvers/milp/latency_milp.h"
#include "solvers/solver.h"
#include "solvers/split/series_dp.h"
#include "solvers/split/split.h"

namespace diviml {

namespace {
/// The improving methods start from the best feasible baseline and never return anything worse
/// (nor anything that overflows memory when the baseline fits).
Schedule at_least_baseline(const Problem& pb, const SolveOptions& opt,
                           Schedule (*method)(const Problem&, const SolveOptions&)) {
  return no_worse_than_baseline(pb, method(pb, opt), best_feasible_baseline(pb));
}
}  // namespace

const std::vector<MethodInfo>& latency_methods() {
  static const std::vector<MethodInfo> methods = {
      {"fastest-device", "every op on the single device with the lowest simulated latency",
       [](const Problem& pb, const SolveOptions&) { return fastest_device_schedule(pb); },
       /*exact=*/false, /*randomised=*/false, /*uses_milp=*/false, /*in_compare=*/true},
      {"heft", "HEFT list scheduling (Topcuoglu et al. 2002), insertion-based",
       [](const Problem& pb, const SolveOptions&) { return heft_schedule(pb); },
       /*exact=*/false, /*randomised=*/false, /*uses_milp=*/false, /*in_compare=*/true},
      {"cpop", "CPOP: critical path on one device, other ops by earliest finish (Topcuoglu et al. 2002)",
       [](const Problem& pb, const SolveOptions&) { return cpop_schedule(pb); },
       /*exact=*/false, /*randomised=*/false, /*uses_milp=*/false, /*in_compare=*/true},
      {"peft", "PEFT: optimistic cost table lookahead (Arabnejad & Barbosa 2014)",
       [](const Problem& pb, const SolveOptions&) { return peft_schedule(pb); },
       /*exact=*/false, /*randomised=*/false, /*uses_milp=*/false, /*in_compare=*/true},
      {"etf", "ETF: earliest (op, device) start time first (Hwang et al. 1989)",
       [](const Problem& pb, const SolveOptions&) { return etf_schedule(pb); },
       /*exact=*/false, /*randomised=*/false, /*uses_milp=*/false, /*in_compare=*/true},
      {"random", "random valid placement and random topological order (uses --seed)",
       [](const Problem& pb, const SolveOptions& opt) { return random_schedule(pb, opt.seed); },
       /*exact=*/false, /*randomised=*/true, /*uses_milp=*/false, /*in_compare=*/false},
      {"milp", "exact latency MILP solved with CBC, warm-started by the best baseline",
       [](const Problem& pb, const SolveOptions& opt) { return at_least_baseline(pb, opt, milp_schedule); },
       /*exact=*/true, /*randomised=*/false, /*uses_milp=*/true, /*in_compare=*/false},
      {"m-etf", "memory-aware ETF (Baechi m-ETF): only devices with room for the op's weights and tensors", [](const Problem& pb, const SolveOptions&) { return metf_schedule(pb); },
       /*exact=*/false, /*randomised=*/false, /*uses_milp=*/false, /*in_compare=*/true},
      {"m-topo", "memory-aware topological fill (Baechi m-TOPO): devices filled in order up to memory and speed share", [](const Problem& pb, const SolveOptions&) { return mtopo_schedule(pb); },
       /*exact=*/false, /*randomised=*/false, /*uses_milp=*/false, /*in_compare=*/true},
      {"anneal", "simulated annealing over placement and order, from the best list schedule",
       anneal_schedule,  // starts from and falls back to best_feasible_baseline itself
       /*exact=*/false, /*randomised=*/true, /*uses_milp=*/false, /*in_compare=*/true},
      {"split", "DiviML splitting heuristic: MILP per module/part in order, then refinement",
       [](const Problem& pb, const SolveOptions& opt) { return at_least_baseline(pb, opt, split_schedule); },
       /*exact=*/false, /*randomised=*/true, /*uses_milp=*/true, /*in_compare=*/true},
      {"series-dp", "exact series DP: each series module solved by the MILP, optimal when every module is proven",
       [](const Problem& pb, const SolveOptions& opt) { return at_least_baseline(pb, opt, series_dp_schedule); },
       /*exact=*/true, /*randomised=*/false, /*uses_milp=*/true, /*in_compare=*/true},
      {"bnb", "exact branch and bound over placement and order (docs/exact.md), from the anneal incumbent",
       [](const Problem& pb, const SolveOptions& opt) { return at_least_baseline(pb, opt, bnb_schedule); },
       /*exact=*/true, /*randomised=*/true, /*uses_milp=*/false, /*in_compare=*/false},
  };
  return methods;
}

namespace {

Schedule run_device_method(const Problem& pb, const std::string& method) {
  const std::string name = method.substr(std::string("device:").size());
  const Platform& plat = pb.platform();
  const int k = plat.device_index(name);
  if (k < 0) {
    std::string names;
    for (const Device& d : plat.devices) names += (names.empty() ? "" : ", ") + d.name;
    throw InputError("method '" + method + "': unknown device '" + name + "' (platform '" + plat.name +
                     "' has: " + names + ")");
  }
  const Graph& g = pb.graph();
  for (OpId v = 0; v < pb.num_ops(); ++v)
    if (!pb.can_run(v, k))
      throw InputError("method '" + method + "': device '" + name + "' cannot run op '" + g.ops[v].name +
                       "' (type " + g.ops[v].type + ")");
  Schedule s = single_device_schedule(pb, k);
  s.status = SolveStatus::Heuristic;
  return s;
}

}  // namespace

Schedule solve_latency(const Problem& pb, const std::string& method, const SolveOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  Schedule s;
  if (method.rfind("device:", 0) == 0) {
    s = run_device_method(pb, method);
  } else {
    const MethodInfo* found = nullptr;
    for (const MethodInfo& m : latency_methods())
      if (m.name == method) found = &m;
    if (!found) {
      std::string names;
      for (const MethodInfo& m : latency_methods()) names += (names.empty() ? "" : ", ") + m.name;
      throw InputError("unknown method '" + method + "' (valid: " + names + ", device:NAME)");
    }
    check_memory_feasible(pb, "method '" + method + "'");
    // Solvers model weights only; activations are checked here and overflowing ops moved
    // (a schedule that fits comes back unchanged).
    s = repair_memory(pb, found->run(pb, opt));
  }
  s.method = method;
  s.solve_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace diviml

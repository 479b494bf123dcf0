#include "report/latency_report.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace diviml {

using nlohmann::json;

LatencyEvaluation evaluate_latency(const Problem& pb, const Schedule& s, const LatencyBounds& bounds) {
  LatencyEvaluation e;
  e.sim = simulate_latency(pb, s);
  e.makespan = e.sim.makespan;
  SimOptions contention;
  contention.contention = true;
  e.makespan_contention = simulate_latency(pb, s, contention).makespan;
  const auto violations = check_claimed_times(pb, s);
  if (!violations.empty())
    throw std::logic_error(fmt::format("method '{}' returned inconsistent start times: {}", s.method, violations.front()));
  if (std::isfinite(s.claimed_makespan) &&
      std::abs(s.claimed_makespan - e.makespan) > 1e-9 * std::max(1e-12, std::abs(e.makespan)))
    throw std::logic_error(fmt::format("method '{}' claims makespan {:.12g} s but the simulator gives {:.12g} s",
                                       s.method, s.claimed_makespan, e.makespan));
  e.lower_bound = bounds.best;
  if (std::isfinite(s.lower_bound)) e.lower_bound = std::max(e.lower_bound, s.lower_bound);
  if (e.lower_bound > e.makespan * (1 + 1e-9))
    throw std::logic_error(fmt::format("lower bound {:.12g} s exceeds the makespan {:.12g} s of method '{}'",
                                       e.lower_bound, e.makespan, s.method));
  e.lower_bound = std::min(e.lower_bound, e.makespan);  // rounding noise only
  // No bound (--no-bound, or only the trivial 0): the gap is unknown, not 0.
  e.gap = e.lower_bound > 0 ? (e.makespan - e.lower_bound) / e.lower_bound : std::nan("");
  return e;
}

json latency_schedule_json(const Problem& pb, const Schedule& s, const LatencyEvaluation& e,
                           const LatencyBounds& bounds) {
  const Graph& g = pb.graph();
  const Platform& p = pb.platform();
  json j;
  j["format"] = "diviml-schedule";
  j["diviml_version"] = DIVIML_VERSION;
  j["graph"] = g.name;
  j["platform"] = p.name;
  j["method"] = s.method;
  j["objective"] = "latency";
  j["status"] = std::string(to_string(s.status));
  j["makespan_s"] = e.makespan;
  j["makespan_contention_s"] = e.makespan_contention;
  j["lower_bound_s"] = e.lower_bound;
  j["gap"] = e.gap;
  j["solve_seconds"] = s.solve_seconds;
  j["bounds"] = {{"critical_path_s", bounds.critical_path}, {"load_balance_s", bounds.load_balance},
                 {"module_milp_s", bounds.module_milp}, {"decomposition_s", bounds.decomposition},
                 {"solver_bound_s", std::isfinite(s.lower_bound) ? json(s.lower_bound) : json(nullptr)},
                 {"modules", bounds.modules}};
  if (!s.notes.empty()) j["notes"] = s.notes;
  j["ops"] = json::array();
  for (OpId v = 0; v < g.num_ops(); ++v) {
    json o{{"name", g.ops[v].name}, {"type", g.ops[v].type}, {"device", p.devices[s.device[v]].name},
           {"start_s", e.sim.start[v]}, {"finish_s", e.sim.finish[v]}};
    if (!g.ops[v].fused.empty()) o["fused"] = g.ops[v].fused;
    j["ops"].push_back(o);
  }
  j["transfers"] = json::array();
  for (const Transfer& x : e.sim.transfers)
    j["transfers"].push_back({{"tensor", g.tensors[x.tensor].name}, {"from", p.devices[x.from].name},
                              {"to", p.devices[x.to].name}, {"bytes", g.tensors[x.tensor].bytes},
                              {"start_s", x.start}, {"finish_s", x.finish}, {"io", x.io}});
  j["devices"] = json::array();
  for (int k = 0; k < pb.num_devices(); ++k) {
    const DeviceMemory& m = e.sim.memory[k];
    json order = json::array();
    for (OpId v : s.order[k]) order.push_back(g.ops[v].name);
    j["devices"].push_back(
        {{"name", p.devices[k].name}, {"ops", s.order[k].size()}, {"busy_s", e.sim.device_busy[k]},
         {"utilization", e.makespan > 0 ? e.sim.device_busy[k] / e.makespan : 0.0},
         {"order", order},
         {"memory", {{"weight_bytes", m.weight_bytes}, {"peak_activation_bytes", m.peak_activation_bytes},
                     {"reserve_bytes", m.reserve_bytes},
                     {"capacity_bytes", std::isfinite(m.capacity_bytes) ? json(m.capacity_bytes) : json(nullptr)},
                     {"headroom_bytes", std::isfinite(m.capacity_bytes) ? json(m.headroom()) : json(nullptr)}}}});
  }
  if (!e.sim.memory_violations.empty()) j["memory_violations"] = e.sim.memory_violations;
  return j;
}

SolveStatus certified_status(SolveStatus status, const LatencyEvaluation& e) {
  if (!e.sim.memory_violations.empty()) return status == SolveStatus::Optimal ? SolveStatus::Feasible : status;
  return certified_status(status, e.makespan, e.lower_bound);
}

}  // namespace diviml

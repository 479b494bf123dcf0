#include "report/throughput_json.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace diviml {

ThroughputEvaluation evaluate_throughput(const Problem& pb, const ThroughputSchedule& s, const ThroughputBound& b,
                                         int inferences) {
  ThroughputEvaluation e;
  e.a = analyze_throughput(pb, s);
  PipelineOptions po;
  po.inferences = inferences;
  po.contention = true;
  e.pipe = simulate_pipeline(pb, s, po);
  po.dispatch = Dispatch::Greedy;
  e.pipe_greedy = simulate_pipeline(pb, s, po);
  e.bound = b;
  e.throughput = e.a.throughput_per_s;
  e.bound_throughput = b.throughput_upper_per_s();
  const double per_inf = e.a.period_s / s.replicas;
  e.gap = b.best > 0 ? std::max(0.0, (per_inf - b.best) / b.best) : std::nan("");  // NaN: no bound
  if (!std::isnan(s.claimed_period) && e.a.period_s > s.claimed_period * (1 + 1e-6) + 1e-15)
    throw std::logic_error(fmt::format("{}: analytic period {} exceeds the solver's claim {}", s.method, e.a.period_s,
                                       s.claimed_period));
  return e;
}

nlohmann::json throughput_schedule_json(const Problem& pb, const ThroughputSchedule& s, const ThroughputEvaluation& e,
                                        double base_thr) {
  using nlohmann::json;
  const auto& devs = pb.platform().devices;
  const Graph& g = pb.graph();
  json j;
  j["diviml_version"] = DIVIML_VERSION;
  j["graph"] = g.name;
  j["platform"] = pb.platform().name;
  j["objective"] = "throughput";
  j["method"] = s.method;
  j["status"] = std::string(to_string(s.status));
  j["replicas"] = s.replicas;
  j["period_s"] = e.a.period_s;
  j["throughput_per_s"] = e.throughput;
  j["throughput_bound_per_s"] = e.bound_throughput;
  j["gap"] = e.gap;
  // Relative to fastest-device at R = 1 (the whole model on the best single device); null when
  // no single device holds the model.
  if (base_thr > 0) j["speedup_over_fastest_device"] = e.throughput / base_thr;
  else j["speedup_over_fastest_device"] = nullptr;
  j["bound"] = {{"period_per_inference_s", e.bound.best},
                {"lp_s", e.bound.lp},
                {"lp_complete", e.bound.lp_complete},
                {"note", e.bound.note},
                {"load_balance_s", e.bound.load_balance},
                {"average_s", e.bound.average},
                {"max_op_s", e.bound.max_op},
                {"period_bound_at_R_s", e.bound.period_bound(s.replicas)}};
  if (!std::isnan(s.lower_bound_period)) j["milp_period_bound_s"] = s.lower_bound_period;
  if (!std::isnan(s.claimed_period)) j["claimed_period_s"] = s.claimed_period;
  j["bottleneck"] = e.a.bottleneck;
  j["pipelined"] = {{"inferences", e.pipe.inferences},
                    {"contention", true},
                    {"measured_throughput_per_s", e.pipe.throughput_per_s},
                    {"measured_period_per_inference_s", e.pipe.period_per_inference_s},
                    {"first_latency_s", e.pipe.first_latency_s},
                    {"latency_mean_s", e.pipe.latency_mean_s},
                    {"latency_max_s", e.pipe.latency_max_s},
                    {"release_interval_s", e.pipe.release_interval_s},
                    {"dispatch", "periodic"},
                    {"greedy_measured_throughput_per_s", e.pipe_greedy.throughput_per_s},
                    {"greedy_latency_mean_s", e.pipe_greedy.latency_mean_s},
                    {"greedy_latency_max_s", e.pipe_greedy.latency_max_s},
                    {"greedy_first_latency_s", e.pipe_greedy.first_latency_s}};
  json dj = json::array();
  for (int k = 0; k < pb.num_devices(); ++k) {
    int ops = 0;
    for (const auto& rep : s.device)
      for (int d : rep) ops += d == k;
    dj.push_back({{"name", devs[k].name},
                  {"ops", ops},
                  {"busy_per_period_s", e.a.device_seconds[k]},
                  {"utilisation", e.a.device_utilisation[k]},
                  {"weight_bytes", e.a.memory[k].weight_bytes},
                  {"activation_bytes", e.a.memory[k].peak_activation_bytes},
                  {"memory_used_bytes", e.a.memory[k].used()},
                  {"memory_capacity_bytes", e.a.memory[k].capacity_bytes}});
  }
  j["devices"] = dj;
  json lj = json::array();
  for (const auto& l : e.a.links)
    lj.push_back({{"from", devs[l.from].name}, {"to", devs[l.to].name}, {"busy_per_period_s", l.seconds},
                  {"utilisation", l.utilisation}, {"transfers_per_period", l.transfers}});
  j["links"] = lj;
  json rj = json::array();
  for (int r = 0; r < s.replicas; ++r) {
    json counts = json::object(), ops = json::object();
    for (int v = 0; v < g.num_ops(); ++v) {
      const std::string& dn = devs[s.device[r][v]].name;
      counts[dn] = counts.value(dn, 0) + 1;
      ops[g.ops[v].name] = dn;
    }
    rj.push_back({{"replica", r}, {"latency_s", e.a.replica_latency_s[r]}, {"ops_per_device", counts}, {"placement", ops}});
  }
  j["replica_placements"] = rj;
  j["memory_violations"] = e.a.memory_violations;
  j["solver"] = {{"solve_seconds", s.solve_seconds}, {"notes", s.notes}};
  return j;
}

nlohmann::json throughput_compare_row(const std::string& m, const ThroughputSchedule& s, const ThroughputEvaluation& e,
                                      double base) {
  const double speed = base > 0 ? e.throughput / base : std::numeric_limits<double>::quiet_NaN();
  return {{"method", m},
          {"replicas", s.replicas},
          {"throughput_per_s", e.throughput},
          {"period_s", e.a.period_s},
          {"speedup", base > 0 ? nlohmann::json(speed) : nlohmann::json(nullptr)},
          {"measured_throughput_per_s", e.pipe.throughput_per_s},
          {"greedy_measured_throughput_per_s", e.pipe_greedy.throughput_per_s},
          {"throughput_bound_per_s", e.bound_throughput},
          {"gap", e.gap},
          {"latency_mean_s", e.pipe_greedy.latency_mean_s},
          {"periodic_latency_mean_s", e.pipe.latency_mean_s},
          {"first_latency_s", e.pipe_greedy.first_latency_s},
          {"bottleneck", e.a.bottleneck},
          {"status", std::string(to_string(s.status))},
          {"solve_seconds", s.solve_seconds},
          {"memory_violations", e.a.memory_violations.size()}};
}

nlohmann::json throughput_comparison_json(const Problem& pb, double base, const ThroughputBound& b,
                                          const nlohmann::json& rows) {
  const Graph& g = pb.graph();
  return nlohmann::json{{"graph", g.name},
                        {"platform", pb.platform().name},
                        {"objective", "throughput"},
                        {"fastest_device_throughput_per_s", base > 0 ? nlohmann::json(base) : nlohmann::json(nullptr)},
                        {"throughput_bound_per_s", b.throughput_upper_per_s()},
                        {"rows", rows}};
}

}  // namespace diviml

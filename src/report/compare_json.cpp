#include "report/compare_json.h"

#include <cmath>

namespace diviml {

nlohmann::json latency_compare_row(const std::string& m, const Schedule& s, const LatencyEvaluation& e, double speedup) {
  return {{"method", m}, {"makespan_s", e.makespan},
          {"speedup", std::isfinite(speedup) ? nlohmann::json(speedup) : nlohmann::json(nullptr)},
          {"lower_bound_s", e.lower_bound}, {"gap", e.gap}, {"status", std::string(to_string(s.status))},
          {"makespan_contention_s", e.makespan_contention}, {"solve_seconds", s.solve_seconds}};
}

nlohmann::json failed_compare_row(const std::string& method, const std::string& error) {
  return {{"method", method}, {"error", error}};
}

nlohmann::json latency_comparison_json(const Problem& pb, const nlohmann::json& rows, bool interrupted,
                                       const std::vector<std::string>& not_run) {
  nlohmann::json j{{"format", "diviml-comparison"}, {"graph", pb.graph().name}, {"platform", pb.platform().name},
                   {"objective", "latency"}, {"rows", rows}};
  if (interrupted) {
    j["interrupted"] = true;
    j["not_run"] = not_run;
  }
  return j;
}

}  // namespace diviml

// Throughput-method wrappers of the LLM planner (llm_methods.h).
#include "solvers/llm/llm_methods.h"

#include <fmt/format.h>

#include "schedule/simulator.h"

namespace diviml {

namespace {

ThroughputSchedule finish(const Problem& pb, LlmPlan plan, const ThroughputOptions& opt, const char* what) {
  const ThroughputAnalysis a = analyze_throughput(pb, plan.schedule);
  if (!a.memory_violations.empty())
    throw InputError(fmt::format("{}: memory limit cannot be met: {}", what, a.memory_violations.front()));
  if (opt.max_latency_s > 0 && plan.latency_s > opt.max_latency_s * (1 + 1e-9))
    throw InputError(fmt::format("{}: latency cap {:.6g} s cannot be met (its pipeline needs {:.6g} s per inference)", what,
                                 opt.max_latency_s, plan.latency_s));
  ThroughputSchedule s = std::move(plan.schedule);
  s.method = what;
  return s;
}

}  // namespace

ThroughputSchedule llm_symmetric_throughput(const Problem& pb, const ThroughputOptions& opt) {
  return finish(pb, plan_llm_symmetric(pb), opt, "llm-symmetric");
}

ThroughputSchedule uniform_layers_throughput(const Problem& pb, const ThroughputOptions& opt) {
  return finish(pb, plan_uniform_layers(pb), opt, "uniform-layers");
}

}  // namespace diviml

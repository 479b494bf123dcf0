// `schedule --objective throughput` and `compare --objective throughput` (throughput_cli.h).
#include "cli/throughput_cli.h"

#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/table_options.h"
#include "cli/usage_table.h"
#include "report/latency_report.h"
#include "report/compare_json.h"
#include "report/throughput_json.h"
#include "schedule/throughput.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml::cli {

namespace {

ThroughputOptions make_options(const SolveArgs& solve, const ThroughputCliArgs& t) {
  ThroughputOptions o;
  o.replicas = t.replicas == kAutoWord ? 0 : std::stoi(t.replicas);  // checked by the table at parse time
  o.max_latency_s = t.max_latency_s;
  o.solve = solve.options();
  return o;
}

double fastest_device_throughput(const Problem& pb, const ThroughputOptions& o) {
  ThroughputOptions f = o;
  f.replicas = 1;
  f.max_latency_s = 0;
  try {
    return analyze_throughput(pb, solve_throughput(pb, "fastest-device", f)).throughput_per_s;
  } catch (const InputError&) {
    return 0;  // no single device holds the model
  }
}

std::string speedup_text(double thr, double base) {
  return base > 0 ? fmt::format("{:.2f}x", thr / base) : std::string("n/a");
}

/// The bound within a fifth of the time limit (a bound LP that cannot finish leaves the cheaper
/// load-balance bound), so that bound and solve together stay within --time-limit.
ThroughputBound timed_bound(const Problem& pb, const ThroughputOptions& o) {
  ThroughputBoundOptions bo;
  bo.time_limit_s = std::max(0.01, 0.2 * o.solve.time_limit_s);
  return throughput_bound(pb, bo);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void add_throughput_options(CLI::App* cmd, ThroughputCliArgs& a) {
  a.given.push_back(add_table_option(cmd, "replicas", a.replicas));
  a.given.push_back(add_table_option(cmd, "max_latency", a.max_latency_s));
  a.given.push_back(add_table_option(cmd, "inferences", a.inferences));
}

void refuse_throughput_options(const ThroughputCliArgs& a) {
  for (const CLI::Option* o : a.given)
    if (o->count() > 0)
      throw InputError(fmt::format("{} applies to --objective throughput only (the latency objective schedules one "
                                   "inference)", o->get_name()));
}

void refuse_latency_outputs(const std::string& gantt, const std::string& trace, const std::string& dot) {
  for (const auto& [flag, path] : {std::pair<const char*, const std::string&>{"--gantt", gantt}, {"--trace", trace}, {"--dot", dot}})
    if (!path.empty())
      throw InputError(fmt::format("{} is not available with --objective throughput (it draws one inference's timed "
                                   "schedule); use -o FILE for the throughput schedule JSON", flag));
}

void run_throughput_schedule(const ModelArgs& model, const SolveArgs& solve, const ThroughputCliArgs& t,
                             const std::string& method_in, const std::string& out_json) {
  ThroughputOptions o = make_options(solve, t);
  // The latency default (heft) maps to its throughput counterpart.
  const std::string method = method_in == "heft" ? "heft-pipeline" : method_in;
  find_throughput_method(method);  // an unknown name fails before any work
  auto pb = model.load_problem();
  const auto t0 = std::chrono::steady_clock::now();
  const ThroughputBound b = timed_bound(*pb, o);
  o.known_bound = &b;
  o.solve.time_limit_s = std::max(0.05, o.solve.time_limit_s - seconds_since(t0));
  const ThroughputSchedule s = solve_throughput(*pb, method, o);
  const ThroughputEvaluation e = evaluate_throughput(*pb, s, b, t.inferences);
  const double base = fastest_device_throughput(*pb, o);
  for (const auto& m : e.a.memory_violations) fmt::print(stderr, "warning: memory: {}\n", m);
  fmt::print("{} on {}: method {} ({}), R = {}, period {}, throughput {:.6g}/s ({} the fastest single device), "
             "bound {:.6g}/s{}, gap {}, solved in {}\n",
             pb->graph().name, pb->platform().name, s.method, to_string(s.status), s.replicas,
             format_seconds(e.a.period_s), e.throughput, speedup_text(e.throughput, base), e.bound_throughput,
             b.lp_complete ? "" : " (" + b.note + ")", format_gap(e.gap), format_seconds(s.solve_seconds));
  fmt::print("  pipelined simulation (link contention): periodic dispatch {:.6g}/s measured over {} inferences "
             "(latency mean {}); greedy dispatch {:.6g}/s, latency mean {} max {} (one inference alone {}); "
             "bottleneck {}\n",
             e.pipe.throughput_per_s, e.pipe.inferences, format_seconds(e.pipe.latency_mean_s),
             e.pipe_greedy.throughput_per_s, format_seconds(e.pipe_greedy.latency_mean_s),
             format_seconds(e.pipe_greedy.latency_max_s), format_seconds(e.pipe_greedy.first_latency_s), e.a.bottleneck);
  std::vector<DeviceUsage> use(pb->num_devices());  // by server, busy links only unless --verbose
  for (int k = 0; k < pb->num_devices(); ++k)
    use[k] = {-1, e.a.device_seconds[k], e.a.device_utilisation[k],
              e.a.memory[k].weight_bytes + e.a.memory[k].peak_activation_bytes};
  print_device_usage(pb->platform(), use, "period", solve.verbose);
  std::vector<LinkUsage> links;
  for (const auto& l : e.a.links) links.push_back({l.from, l.to, l.seconds, l.utilisation, l.transfers});
  print_link_usage(pb->platform(), links, "period", solve.verbose);
  if (!out_json.empty()) write_text_file(out_json, throughput_schedule_json(*pb, s, e, base).dump(1) + "\n");
}

void run_throughput_compare(const ModelArgs& model, const SolveArgs& solve, const ThroughputCliArgs& t,
                            const std::vector<std::string>& methods_in, const std::string& json_out) {
  ThroughputOptions o = make_options(solve, t);
  std::vector<std::string> methods = methods_in;
  if (methods.empty())  // the table's defaults (the LLM planners need repeated layers: only on request)
    for (const auto& m : throughput_methods())
      if (m.default_in_compare) methods.push_back(m.name);
  for (const auto& m : methods) find_throughput_method(m);  // unknown names fail before any work
  auto pb = model.load_problem();
  const ThroughputBound b = timed_bound(*pb, o);
  o.known_bound = &b;
  const Graph& g = pb->graph();
  const double base = fastest_device_throughput(*pb, o);
  fmt::print("{} ({} ops, {:.3g} GFLOP) on {} ({} devices); throughput bound {:.6g}/s{}; speedup = throughput / "
             "fastest-device at R = 1 ({})\n",
             g.name, g.num_ops(), g.total_flops() / 1e9, pb->platform().name, pb->num_devices(),
             b.throughput_upper_per_s(), b.lp_complete ? "" : " (" + b.note + ")",
             base > 0 ? fmt::format("{:.6g}/s", base) : std::string("n/a: no single device holds the model"));
  fmt::print("{:<15} {:>3} {:>12} {:>8} {:>12} {:>12} {:>12} {:>7} {:>12} {:>10} {:>10}\n", "method", "R", "throughput/s",
             "speedup", "measured/s", "greedy/s", "bound/s", "gap", "latency", "status", "solve");
  nlohmann::json rows = nlohmann::json::array();
  int ok = 0;
  std::string last_error;
  for (const auto& m : methods) {
    ThroughputSchedule s;
    try {
      s = solve_throughput(*pb, m, o);
    } catch (const InputError& err) {
      fmt::print("{:<15} infeasible: {}\n", m, err.what());
      rows.push_back(failed_compare_row(m, err.what()));
      last_error = err.what();
      continue;
    }
    ++ok;
    const ThroughputEvaluation e = evaluate_throughput(*pb, s, b, t.inferences);
    fmt::print("{:<15} {:>3} {:>12.6g} {:>8} {:>12.6g} {:>12.6g} {:>12.6g} {:>7} {:>12} {:>10} {:>10}\n", m,
               s.replicas, e.throughput, speedup_text(e.throughput, base), e.pipe.throughput_per_s, e.pipe_greedy.throughput_per_s,
               e.bound_throughput, format_gap(e.gap), format_seconds(e.pipe_greedy.latency_mean_s), to_string(s.status),
               format_seconds(s.solve_seconds));
    rows.push_back(throughput_compare_row(m, s, e, base));
  }
  if (!json_out.empty())
    write_text_file(json_out, throughput_comparison_json(*pb, base, b, rows).dump(1) + "\n");
  if (ok == 0) throw InputError("no method found a schedule: " + last_error);
}

}  // namespace diviml::cli

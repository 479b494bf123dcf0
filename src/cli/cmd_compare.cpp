// diviml compare GRAPH --platform P [--methods a,b]: one row per method.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/throughput_cli.h"
#include "report/latency_report.h"

namespace diviml::cli {

namespace {
struct CompareArgs {
  ModelArgs model;
  SolveArgs solve;
  std::vector<std::string> methods;
  std::string json_out;
  std::string objective = "latency";
  double bound_milp_s = 0;
  bool no_bound = false;
  ThroughputCliArgs throughput;
};

void run_compare(const CompareArgs& a) {
  if (a.objective == "throughput") {
    install_interrupt_handler();
    run_throughput_compare(a.model, a.solve, a.throughput, a.methods, a.json_out);
    return;
  }
  auto pb = a.model.load_problem();
  install_interrupt_handler();
  std::vector<std::string> methods = a.methods;
  if (methods.empty()) {
    for (const auto& m : latency_methods())
      if (m.name != "random" && m.name != "milp") methods.push_back(m.name);
  }
  const LatencyBounds bounds = reported_latency_bounds(*pb, a.no_bound ? BoundLevel::None : BoundLevel::Series,
                                                       a.solve.threads, a.bound_milp_s);
  const Graph& g = pb->graph();
  fmt::print("{} ({} ops, {:.3g} GFLOP) on {} ({} devices); lower bound {}\n", g.name, g.num_ops(),
             g.total_flops() / 1e9, pb->platform().name, pb->num_devices(), format_seconds(bounds.best));
  // Speedups are relative to the best single device; with tight memory there may be none.
  Schedule fastest;
  double base = std::numeric_limits<double>::quiet_NaN();
  try {
    fastest = solve_latency(*pb, "fastest-device", a.solve.options());
    base = simulate_latency(*pb, fastest).makespan;
  } catch (const InputError&) {
  }
  fmt::print("{:<16} {:>12} {:>8} {:>12} {:>8} {:>10} {:>12} {:>10}\n", "method", "latency", "speedup",
             "lower bound", "gap", "status", "contention", "solve");
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : methods) {
    Schedule s;
    try {
      s = m == "fastest-device" && !std::isnan(base) ? fastest : solve_latency(*pb, m, a.solve.options());
    } catch (const InputError& err) {  // one method failing (e.g. memory) does not hide the others
      fmt::print("{:<16} failed: {}\n", m, err.what());
      rows.push_back({{"method", m}, {"error", err.what()}});
      continue;
    }
    const LatencyEvaluation e = evaluate_latency(*pb, s, bounds);
    s.status = certified_status(s.status, e.makespan, e.lower_bound);
    fmt::print("{:<16} {:>12} {:>7.2f}x {:>12} {:>7.1f}% {:>10} {:>12} {:>10}\n", m, format_seconds(e.makespan),
               base / e.makespan, format_seconds(e.lower_bound), 100 * e.gap, to_string(s.status),
               format_seconds(e.makespan_contention), format_seconds(s.solve_seconds));
    rows.push_back({{"method", m}, {"makespan_s", e.makespan}, {"speedup", base / e.makespan},
                    {"lower_bound_s", e.lower_bound}, {"gap", e.gap}, {"status", std::string(to_string(s.status))},
                    {"makespan_contention_s", e.makespan_contention}, {"solve_seconds", s.solve_seconds}});
  }
  if (!a.json_out.empty())
    write_text_file(a.json_out, nlohmann::json{{"graph", g.name}, {"platform", pb->platform().name},
                                               {"objective", "latency"}, {"rows", rows}}
                                        .dump(1) + "\n");
}
}  // namespace

void add_compare_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand("compare", "run several methods and compare latency, bound and solve time");
  a->model.add(cmd);
  a->solve.add(cmd);
  cmd->add_option("--methods", a->methods, "comma-separated methods (default: every method except random and milp)")
      ->delimiter(',');
  cmd->add_option("--json", a->json_out, "also write the table as JSON");
  cmd->add_option("--bound-milp-time", a->bound_milp_s,
                  "extra seconds of wall-clock per-module MILP bounds (0: only the reproducible series-DP bound)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  cmd->add_flag("--no-bound", a->no_bound, "skip the lower bound (each solver's own bound, if any, is still reported)");
  cmd->add_option("--objective", a->objective, "latency or throughput")
      ->check(CLI::IsMember({"latency", "throughput"}))
      ->capture_default_str();
  add_throughput_options(cmd, a->throughput);
  cmd->callback([a] { run_compare(*a); });
}

}  // namespace diviml::cli

// diviml compare GRAPH --platform P [--methods a,b]: one row per method.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table_options.h"
#include "cli/throughput_cli.h"
#include "report/compare_json.h"

namespace diviml::cli {

namespace {
struct CompareArgs {
  ModelArgs model;
  SolveArgs solve;
  std::vector<std::string> methods;
  std::string json_out;
  std::string objective;
  double bound_milp_s = 0;
  bool no_bound = false;
  ThroughputCliArgs throughput;
};

/// Refuses unknown method names before any work (device:NAME is checked once the platform is known).
void check_method_names(const std::vector<std::string>& methods) {
  std::string names;
  for (const auto& m : latency_methods()) names += (names.empty() ? "" : ", ") + m.name;
  for (const auto& m : methods) {
    if (m.rfind("device:", 0) == 0) continue;
    bool known = false;
    for (const auto& x : latency_methods()) known = known || x.name == m;
    if (!known) throw InputError(fmt::format("--methods: unknown method '{}' (valid: {}, device:NAME)", m, names));
  }
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

void run_compare(const CompareArgs& a) {
  check_writable(a.json_out, "--json");
  if (a.objective == "throughput") {
    install_interrupt_handler();
    run_throughput_compare(a.model, a.solve, a.throughput, a.methods, a.json_out);
    return;
  }
  refuse_throughput_options(a.throughput);
  std::vector<std::string> methods = a.methods;
  if (methods.empty()) {
    for (const auto& m : latency_methods())
      if (m.in_compare) methods.push_back(m.name);
  }
  check_method_names(methods);
  auto pb = a.model.load_problem();
  for (const auto& m : methods)
    if (m.rfind("device:", 0) == 0 && pb->platform().device_index(m.substr(7)) < 0)
      throw InputError(fmt::format("--methods: '{}': platform '{}' has no device '{}'", m, pb->platform().name,
                                   m.substr(7)));
  install_interrupt_handler();
  const LatencyBounds bounds = reported_latency_bounds(*pb, a.no_bound ? BoundLevel::None : BoundLevel::Series,
                                                       a.solve.threads, a.bound_milp_s);
  const Graph& g = pb->graph();
  fmt::print("{} ({} ops, {:.3g} GFLOP) on {} ({} devices); lower bound {}\n", g.name, g.num_ops(),
             g.total_flops() / 1e9, pb->platform().name, pb->num_devices(),
             bounds.best > 0 ? format_seconds(bounds.best) : "n/a (--no-bound)");
  // Speedups are relative to the best single device; with tight memory there may be none.
  Schedule fastest;
  double base = std::numeric_limits<double>::quiet_NaN();
  try {
    fastest = solve_latency(*pb, "fastest-device", a.solve.options());
    base = simulate_latency(*pb, fastest).makespan;
  } catch (const InputError&) {
    fmt::print("(no single device holds the model: no speedup column)\n");
  }
  fmt::print("{:<16} {:>12} {:>8} {:>12} {:>8} {:>12} {:>12} {:>10}\n", "method", "latency", "speedup",
             "lower bound", "gap", "status", "contention", "solve");
  nlohmann::json rows = nlohmann::json::array();
  std::vector<std::string> ran, failed;
  size_t next = 0;
  for (; next < methods.size() && !interrupted(); ++next) {
    const std::string& m = methods[next];
    Schedule s;
    try {
      s = m == "fastest-device" && !std::isnan(base) ? fastest : solve_latency(*pb, m, a.solve.options());
    } catch (const InputError& err) {  // one method failing (e.g. memory) does not hide the others
      fmt::print("{:<16} failed: {}\n", m, err.what());
      rows.push_back(failed_compare_row(m, err.what()));
      failed.push_back(m);
      continue;
    }
    mark_if_interrupted(s);
    ran.push_back(m);
    const LatencyEvaluation e = evaluate_latency(*pb, s, bounds);
    s.status = certified_status(s.status, e);
    const double speedup = base / e.makespan;
    fmt::print("{:<16} {:>12} {:>8} {:>12} {:>8} {:>12} {:>12} {:>10}\n", m, format_seconds(e.makespan),
               std::isfinite(speedup) ? fmt::format("{:.2f}x", speedup) : "-",
               e.lower_bound > 0 ? format_seconds(e.lower_bound) : "n/a", format_gap(e.gap), to_string(s.status), format_seconds(e.makespan_contention), format_seconds(s.solve_seconds));
    rows.push_back(latency_compare_row(m, s, e, speedup));
  }
  // After Ctrl-C the remaining methods would only return their baseline at once: they are not run.
  const std::vector<std::string> not_run(methods.begin() + static_cast<long>(next), methods.end());
  if (interrupted())
    fmt::print(stderr, "interrupted: ran {}; not run: {}\n", ran.empty() ? "none" : joined(ran),
               not_run.empty() ? "none" : joined(not_run));
  if (!a.json_out.empty())
    write_text_file(a.json_out, latency_comparison_json(*pb, rows, interrupted(), not_run).dump(1) + "\n");
  if (ran.empty() && !interrupted())
    throw InputError(fmt::format("every method failed ({})", joined(failed)));
}
}  // namespace

void add_compare_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand("compare", "run several methods and compare latency, bound and solve time");
  a->model.add(cmd);
  a->solve.add(cmd);
  cmd->add_option("--methods", a->methods,
                  "comma-separated methods (default: every latency method except random and milp); each gets "
                  "the whole --time-limit")
      ->delimiter(',');
  cmd->add_option("--json", a->json_out, "also write the table as JSON");
  add_table_option(cmd, "bound_milp_time", a->bound_milp_s);
  cmd->add_flag("--no-bound", a->no_bound, "skip the lower bound (each solver's own bound, if any, is still reported)");
  add_table_option(cmd, "objective", a->objective);
  add_throughput_options(cmd, a->throughput);
  cmd->footer(
      "Columns: latency of one inference (simulated, no link contention); speedup over the best single\n"
      "device; the certified lower bound (the best of all bounds and the method's own); gap =\n"
      "(latency - bound) / bound; status (heuristic, feasible, optimal, time_limit, interrupted);\n"
      "contention: the same schedule simulated with link contention; solve: the method's wall time.\n"
      "--time-limit applies to each method in turn. Exit status 1 when every method failed, 130 after\n"
      "Ctrl-C (the methods not yet run are listed).");
  cmd->callback([a] { run_compare(*a); });
}

}  // namespace diviml::cli

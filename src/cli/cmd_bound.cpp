// diviml bound GRAPH --platform P [--milp-time S] [--json]: certified lower bounds on the latency.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/batch_cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table_options.h"
#include "report/latency_report.h"
#include "solvers/bounds/bounds.h"

namespace diviml::cli {

namespace {
struct BoundArgs {
  ModelArgs model;
  double milp_time_s = 0;
  int threads = 1;
  bool json = false;
  bool cheap = false;
};

void run_bound(const BoundArgs& a) {
  auto pb = a.model.load_problem();
  const auto t0 = std::chrono::steady_clock::now();
  const LatencyBounds b = reported_latency_bounds(*pb, a.cheap ? BoundLevel::Cheap : BoundLevel::Series, a.threads,
                                                  a.milp_time_s);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Graph& g = pb->graph();
  if (a.json) {
    nlohmann::json j{{"graph", g.name},
                     {"platform", pb->platform().name},
                     {"ops", g.num_ops()},
                     {"modules", b.modules},
                     {"critical_path_s", b.critical_path},
                     {"critical_path_comm_s", b.critical_path_comm},
                     {"load_balance_s", b.load_balance},
                     {"module_milp_s", a.milp_time_s > 0 ? nlohmann::json(b.module_milp) : nlohmann::json(nullptr)},
                     {"decomposition_s", b.decomposition},
                     {"series_dp_s", b.series_dp > 0 ? nlohmann::json(b.series_dp) : nlohmann::json(nullptr)},
                     {"series_dp_exact", b.series_dp_exact},
                     {"lower_bound_s", b.best},
                     {"milp_time_limit_s", a.milp_time_s},
                     {"solve_seconds", secs}};
    if (a.model.batch > 1) report_split_batch_bound(a.model, a.threads, a.milp_time_s, &j);  // docs/batch.md
    fmt::print("{}\n", j.dump(1));
    return;
  }
  fmt::print("{} ({} ops, {} series modules) on {}\n", g.name, g.num_ops(), b.modules, pb->platform().name);
  fmt::print("  {:<44} {:>12}\n", "critical path (fastest devices, no transfers)", format_seconds(b.critical_path));
  fmt::print("  {:<44} {:>12}\n", "critical path with transfers and I/O", format_seconds(b.critical_path_comm));
  fmt::print("  {:<44} {:>12}\n", "load balance (LP)", format_seconds(b.load_balance));
  if (a.milp_time_s > 0)
    fmt::print("  {:<44} {:>12}\n", "per-module MILP bounds (sum)", format_seconds(b.module_milp));
  else
    fmt::print("  {:<44} {:>12}\n", "per-module MILP bounds (sum)", "skipped");
  fmt::print("  {:<44} {:>12}\n", "series decomposition", format_seconds(b.decomposition));
  if (b.series_dp > 0)
    fmt::print("  {:<44} {:>12}{}\n", "series DP (exact module solves, node budgets)", format_seconds(b.series_dp),
               b.series_dp_exact ? "  (the optimum)" : "");
  else
    fmt::print("  {:<44} {:>12}\n", "series DP (exact module solves, node budgets)", "skipped");
  fmt::print("  {:<44} {:>12}\n", "lower_bound_s (best)", format_seconds(b.best));
  fmt::print("computed in {}\n", format_seconds(secs));
  if (a.model.batch > 1) report_split_batch_bound(a.model, a.threads, a.milp_time_s, nullptr);  // docs/batch.md
}
}  // namespace

void add_bound_command(CLI::App& app) {
  auto a = std::make_shared<BoundArgs>();
  CLI::App* cmd = app.add_subcommand("bound", "certified lower bounds on the latency of any schedule");
  a->model.add(cmd);
  cmd->add_option("--milp-time", a->milp_time_s, "seconds in total for per-module MILP bounds (0: skip them)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  add_table_option(cmd, "threads", a->threads, "", " (here: the MILP bounds)");
  cmd->add_flag("--cheap", a->cheap, "closed-form bounds only (no series DP)");
  cmd->add_flag("--json", a->json, "print JSON (lower_bound_s and each bound in seconds)");
  cmd->callback([a] { run_bound(*a); });
}

}  // namespace diviml::cli

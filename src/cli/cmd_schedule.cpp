// diviml schedule GRAPH --platform P --method M: one schedule, validated by the simulator.
#include <optional>

#include <fmt/format.h>

#include "cli/batch_cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/throughput_cli.h"
#include "cli/table_options.h"
#include "cli/usage_table.h"
#include "report/gantt.h"
#include "report/latency_report.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml::cli {

namespace {
struct ScheduleArgs {
  ModelArgs model;
  SolveArgs solve;
  std::string method;     ///< empty (the table's default): heft, or heft-pipeline for throughput
  std::string objective;
  std::string out, gantt, trace, dot;
  double bound_milp_s = 0;
  bool no_bound = false;
  ThroughputCliArgs throughput;
  BatchCliArgs batch;
};

void run_schedule(const ScheduleArgs& args) {
  ScheduleArgs a = args;
  if (a.method.empty()) a.method = "heft";  // heft-pipeline under --objective throughput (throughput_cli)
  // Outputs are checked before the solve, not after it.
  check_writable(a.out, "--out");
  check_writable(a.gantt, "--gantt");
  check_writable(a.trace, "--trace");
  check_writable(a.dot, "--dot");
  if (a.batch.active()) {
    if (a.objective != "latency") throw InputError("--micro-batches applies to the latency objective only");
    run_batch_schedule(a.model, a.solve, a.batch, a.method, a.out, a.gantt, a.bound_milp_s);
    return;
  }
  if (a.objective == "throughput") {
    refuse_latency_outputs(a.gantt, a.trace, a.dot);
    install_interrupt_handler();
    run_throughput_schedule(a.model, a.solve, a.throughput, a.method, a.out);
    return;
  }
  refuse_throughput_options(a.throughput);
  // --batch B alone: the whole batch as one inference, reported against splitting it too.
  const std::shared_ptr<const Problem> per_sample = a.model.batch > 1 ? a.model.load_sample_problem() : nullptr;
  const std::shared_ptr<const Problem> pb =
      per_sample ? problem_at_batch(*per_sample, a.model.batch) : a.model.load_problem();
  install_interrupt_handler();
  Schedule s = solve_latency(*pb, a.method, a.solve.options());
  mark_if_interrupted(s);
  // After Ctrl-C only the closed-form bounds (milliseconds): the series DP's module MILPs would
  // keep the user waiting for seconds after the solve stopped.
  const BoundLevel level = a.no_bound ? BoundLevel::None : interrupted() ? BoundLevel::Cheap : BoundLevel::Series;
  const LatencyBounds bounds = reported_latency_bounds(*pb, level, a.solve.threads, interrupted() ? 0 : a.bound_milp_s);
  const LatencyEvaluation e = evaluate_latency(*pb, s, bounds);
  s.status = certified_status(s.status, e);
  for (const auto& m : e.sim.memory_violations) fmt::print(stderr, "warning: memory: {}\n", m);
  fmt::print("{} on {}: method {} ({}), latency {}, lower bound {}, gap {}, solved in {}\n",
             pb->graph().name, pb->platform().name, s.method, to_string(s.status), format_seconds(e.makespan),
             e.lower_bound > 0 ? format_seconds(e.lower_bound) : "n/a", format_gap(e.gap), format_seconds(s.solve_seconds));
  std::vector<DeviceUsage> use(pb->num_devices());
  for (int k = 0; k < pb->num_devices(); ++k)
    use[k] = {static_cast<long>(s.order[k].size()), e.sim.device_busy[k],
              e.makespan > 0 ? e.sim.device_busy[k] / e.makespan : 0.0,
              e.sim.memory[k].weight_bytes + e.sim.memory[k].peak_activation_bytes};
  print_device_usage(pb->platform(), use, "latency", a.solve.verbose);
  std::optional<BatchReference> ref;
  if (per_sample) {
    ref = batch_reference(per_sample, a.model.batch, interrupted() ? 0 : a.bound_milp_s, !a.no_bound);
    print_batch_reference(*ref, e.makespan, a.model.batch);
  }
  if (!a.out.empty()) {
    nlohmann::json j = latency_schedule_json(*pb, s, e, bounds);
    if (ref)
      add_batch_json(j, BatchSplit(per_sample, {a.model.batch}), *ref, e.makespan,
                     {{{a.model.batch}, s.method, e.makespan}});
    write_text_file(a.out, j.dump(1) + "\n");
  }
  if (!a.gantt.empty()) {
    Schedule shown = s;  // the page shows the certified bound, not only the solver's own
    shown.lower_bound = e.lower_bound;
    write_text_file(a.gantt, gantt_html(*pb, shown, e.sim));
  }
  if (!a.trace.empty()) write_text_file(a.trace, chrome_trace_json(*pb, s, e.sim));
  if (!a.dot.empty()) write_text_file(a.dot, schedule_dot(*pb, s));
  if (interrupted()) fmt::print(stderr, "interrupted: the schedule above is the best found before Ctrl-C\n");
}
}  // namespace

void add_schedule_command(CLI::App& app) {
  auto a = std::make_shared<ScheduleArgs>();
  CLI::App* cmd = app.add_subcommand("schedule", "place and order every op of a model on a platform");
  a->model.add(cmd);
  a->solve.add(cmd);
  std::string methods, tmethods;
  for (const auto& m : latency_methods()) methods += (methods.empty() ? "" : ", ") + m.name;
  for (const auto& m : throughput_methods()) tmethods += (tmethods.empty() ? "" : ", ") + m.name;
  add_table_option(cmd, "method", a->method, "-m",
                   "latency: " + methods + ", device:NAME; throughput (--objective throughput): " + tmethods +
                       " (heft means heft-pipeline there)");
  add_table_option(cmd, "objective", a->objective);
  cmd->add_option("-o,--out", a->out, "write the schedule JSON here");
  cmd->add_option("--gantt", a->gantt, "write a Gantt chart (self-contained HTML)");
  cmd->add_option("--trace", a->trace, "write a Chrome/Perfetto trace JSON");
  cmd->add_option("--dot", a->dot, "write the placement as Graphviz DOT");
  add_table_option(cmd, "bound_milp_time", a->bound_milp_s);
  cmd->add_flag("--no-bound", a->no_bound, "skip the lower bound (the solver's own bound, if any, is still reported)");
  add_throughput_options(cmd, a->throughput);
  add_batch_options(cmd, a->batch);
  cmd->footer(
      "Output: the summary line gives the method's status (heuristic, feasible, optimal, time_limit,\n"
      "interrupted), the latency of one inference (simulated), the certified lower bound and\n"
      "gap = (latency - bound) / bound; then per device its ops, busy time (% of the latency) and\n"
      "memory (weights + peak activations; KiB/MiB/GiB are powers of 1024). Ctrl-C stops the solve,\n"
      "writes the best schedule found and exits with status 130. README \"Reading the output\".");
  cmd->callback([a] { run_schedule(*a); });
}

}  // namespace diviml::cli

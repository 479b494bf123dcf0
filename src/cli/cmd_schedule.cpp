// diviml schedule GRAPH --platform P --method M: one schedule, validated by the simulator.
#include <fmt/format.h>

#include "cli/batch_cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/throughput_cli.h"
#include "report/gantt.h"
#include "report/latency_report.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml::cli {

namespace {
struct ScheduleArgs {
  ModelArgs model;
  SolveArgs solve;
  std::string method = "heft";
  std::string objective = "latency";
  std::string out, gantt, trace, dot;
  double bound_milp_s = 2;
  ThroughputCliArgs throughput;
  BatchCliArgs batch;
};

void run_schedule(const ScheduleArgs& a) {
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
  auto pb = a.model.load_problem();
  install_interrupt_handler();
  Schedule s = solve_latency(*pb, a.method, a.solve.options());
  BoundOptions bo;
  bo.milp_time_limit_s = a.bound_milp_s;
  const LatencyBounds bounds = latency_lower_bounds(*pb, bo);
  const LatencyEvaluation e = evaluate_latency(*pb, s, bounds);
  for (const auto& m : e.sim.memory_violations) fmt::print(stderr, "warning: memory: {}\n", m);
  fmt::print("{} on {}: method {} ({}), latency {}, lower bound {}, gap {:.1f}%, solved in {}\n",
             pb->graph().name, pb->platform().name, s.method, to_string(s.status), format_seconds(e.makespan),
             format_seconds(e.lower_bound), 100 * e.gap, format_seconds(s.solve_seconds));
  for (int k = 0; k < pb->num_devices(); ++k)
    fmt::print("  {:<14} {:>5} ops  busy {:>12}  memory {:>10}\n", pb->platform().devices[k].name,
               s.order[k].size(), format_seconds(e.sim.device_busy[k]),
               format_bytes(e.sim.memory[k].weight_bytes + e.sim.memory[k].peak_activation_bytes));
  if (!a.out.empty()) write_text_file(a.out, latency_schedule_json(*pb, s, e, bounds).dump(1) + "\n");
  if (!a.gantt.empty()) {
    Schedule shown = s;  // the page shows the certified bound, not only the solver's own
    shown.lower_bound = e.lower_bound;
    write_text_file(a.gantt, gantt_html(*pb, shown, e.sim));
  }
  if (!a.trace.empty()) write_text_file(a.trace, chrome_trace_json(*pb, s, e.sim));
  if (!a.dot.empty()) write_text_file(a.dot, schedule_dot(*pb, s));
}
}  // namespace

void add_schedule_command(CLI::App& app) {
  auto a = std::make_shared<ScheduleArgs>();
  CLI::App* cmd = app.add_subcommand("schedule", "place and order every op of a model on a platform");
  a->model.add(cmd);
  a->solve.add(cmd);
  std::string methods;
  for (const auto& m : latency_methods()) methods += (methods.empty() ? "" : ", ") + m.name;
  cmd->add_option("-m,--method", a->method,
                  "method: " + methods + ", device:NAME; with --objective throughput: " + throughput_method_names())
      ->capture_default_str();
  cmd->add_option("--objective", a->objective, "latency (one inference) or throughput (a stream)")
      ->check(CLI::IsMember({"latency", "throughput"}))->capture_default_str();
  cmd->add_option("-o,--out", a->out, "write the schedule JSON here");
  cmd->add_option("--gantt", a->gantt, "write a Gantt chart (self-contained HTML)");
  cmd->add_option("--trace", a->trace, "write a Chrome/Perfetto trace JSON");
  cmd->add_option("--dot", a->dot, "write the placement as Graphviz DOT");
  cmd->add_option("--bound-milp-time", a->bound_milp_s, "seconds in total for per-module MILP lower bounds (0: only the closed-form bounds)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  add_throughput_options(cmd, a->throughput);
  add_batch_options(cmd, a->batch);
  cmd->callback([a] { run_schedule(*a); });
}

}  // namespace diviml::cli

// `schedule --batch B --micro-batches auto|N|b1,b2,...` (batch_cli.h).
#include "cli/batch_cli.h"

#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "report/gantt.h"
#include "report/latency_report.h"
#include "solvers/batch/batch_bound.h"
#include "solvers/batch/batch_search.h"
#include "solvers/heuristics/heuristics.h"

namespace diviml::cli {

void add_batch_options(CLI::App* cmd, BatchCliArgs& a) {
  cmd->add_option("--micro-batches", a.micro_batches,
                  "latency: split the --batch into micro-batches: auto (sizes chosen by the solver), N "
                  "(near-equal shares) or sizes b1,b2,...");
}

void run_batch_schedule(const ModelArgs& model, const SolveArgs& solve, const BatchCliArgs& b,
                        const std::string& method, const std::string& out_json, const std::string& gantt,
                        double bound_milp_s) {
  ModelArgs one = model;
  one.batch = 1;
  std::shared_ptr<const Problem> per_sample = one.load_problem();
  install_interrupt_handler();
  BatchSolveOptions bo;
  bo.batch = model.batch;
  bo.micro_batches = b.micro_batches;
  bo.method = method;
  BatchSolveResult r = solve_batch_latency(per_sample, bo, solve.options());
  const BatchSplit& split = *r.split;
  const Problem& pb = split.problem();
  Schedule& s = r.schedule;
  s.method = r.how;

  BoundOptions bopt;
  bopt.milp_time_limit_s = bound_milp_s;
  const BatchBound bb = batch_latency_bound(*per_sample, model.batch, bopt);
  LatencyBounds lb;
  lb.load_balance = bb.load_balance;
  lb.best = bb.best;
  LatencyEvaluation e = evaluate_latency(pb, s, lb);
  split.share_weights(s, e.sim);

  // Reference: the whole batch as one on the fastest single device.
  const BatchSplit whole(per_sample, {model.batch});
  const double fastest = simulate_latency(whole.problem(), fastest_device_schedule(whole.problem())).makespan;

  for (const auto& m : e.sim.memory_violations) fmt::print(stderr, "warning: memory: {}\n", m);
  fmt::print("{} on {}: batch {} as {} micro-batch(es) [{}], method {} ({}), latency {}, lower bound {}, gap "
             "{:.1f}%, {:.2f}x the fastest device ({}), solved in {}\n",
             per_sample->graph().name, pb.platform().name, split.batch(), split.copies(),
             fmt::join(split.sizes(), ","), s.method, to_string(s.status), format_seconds(e.makespan),
             format_seconds(e.lower_bound), 100 * e.gap, fastest / e.makespan, format_seconds(fastest),
             format_seconds(s.solve_seconds));
  for (int j = 0; j < split.copies(); ++j) {
    std::set<std::string> devs;
    for (OpId v = 0; v < per_sample->num_ops(); ++v) devs.insert(pb.platform().devices[s.device[split.op(j, v)]].name);
    fmt::print("  micro-batch {:<3} {:>4} samples on {}\n", j, split.sizes()[j], fmt::join(devs, "+"));
  }
  for (int k = 0; k < pb.num_devices(); ++k)
    fmt::print("  {:<14} {:>5} ops  busy {:>12}  memory {:>10}\n", pb.platform().devices[k].name, s.order[k].size(),
               format_seconds(e.sim.device_busy[k]),
               format_bytes(e.sim.memory[k].weight_bytes + e.sim.memory[k].peak_activation_bytes));
  if (!out_json.empty()) {
    nlohmann::json j = latency_schedule_json(pb, s, e, lb);
    j["graph"] = per_sample->graph().name;
    j["batch"] = {{"batch", split.batch()},
                  {"micro_batch_sizes", split.sizes()},
                  {"load_balance_bound_s", bb.load_balance},
                  {"micro_batch_bound_s", bb.micro_batch},
                  {"fastest_device_s", fastest},
                  {"speedup_over_fastest_device", fastest / e.makespan},
                  {"io_device", pb.platform().io_device >= 0 ? nlohmann::json(pb.platform().devices[pb.platform().io_device].name)
                                                             : nlohmann::json(nullptr)}};
    nlohmann::json trials = nlohmann::json::array();
    for (const BatchTrial& t : r.trials) trials.push_back({{"sizes", t.sizes}, {"how", t.how}, {"latency_s", t.latency}});
    j["batch"]["trials"] = trials;
    for (OpId v = 0; v < pb.num_ops(); ++v) {
      j["ops"][v]["micro_batch"] = split.copy_of(v);
      j["ops"][v]["base_op"] = per_sample->graph().ops[split.base_op(v)].name;
    }
    write_text_file(out_json, j.dump(1) + "\n");
  }
  if (!gantt.empty()) {
    Schedule shown = s;
    shown.lower_bound = e.lower_bound;
    write_text_file(gantt, gantt_html(pb, shown, e.sim));
  }
}

void report_split_batch_bound(const ModelArgs& model, int threads, double milp_time_s, nlohmann::json* json) {
  ModelArgs one = model;
  one.batch = 1;
  const std::shared_ptr<const Problem> per_sample = one.load_problem();
  BoundOptions o;
  o.milp_time_limit_s = milp_time_s;
  o.threads = threads;
  const BatchBound bb = batch_latency_bound(*per_sample, model.batch, o);
  if (json) {
    (*json)["batch_split"] = {{"batch", model.batch},
                              {"load_balance_s", bb.load_balance},
                              {"micro_batch_s", bb.micro_batch},
                              {"lower_bound_s", bb.best}};
    return;
  }
  fmt::print("over every split of the batch of {} into micro-batches (schedule --micro-batches):\n", model.batch);
  fmt::print("  {:<44} {:>12}\n", "load balance at the cheapest rate per sample", format_seconds(bb.load_balance));
  fmt::print("  {:<44} {:>12}\n", "one micro-batch (the per-sample bound)", format_seconds(bb.micro_batch));
  fmt::print("  {:<44} {:>12}\n", "lower bound (best)", format_seconds(bb.best));
}

}  // namespace diviml::cli

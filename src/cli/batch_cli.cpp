// `schedule --batch B --micro-batches auto|N|b1,b2,...` (batch_cli.h).
#include "cli/batch_cli.h"

#include <cmath>
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
  const std::shared_ptr<const Problem> per_sample = model.load_sample_problem();
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

  const BatchReference ref = batch_reference(per_sample, model.batch, bound_milp_s);
  const BatchBound& bb = ref.bound;
  LatencyBounds lb;
  lb.load_balance = bb.load_balance;
  lb.best = bb.best;
  LatencyEvaluation e = evaluate_latency(pb, s, lb);
  split.share_weights(s, e.sim);

  const double fastest = ref.fastest_device_s;

  for (const auto& m : e.sim.memory_violations) fmt::print(stderr, "warning: memory: {}\n", m);
  fmt::print("{} on {}: batch {} as {} micro-batch(es) [{}], method {} ({}), latency {}, lower bound {}, gap "
             "{}, {:.2f}x the fastest device ({}), solved in {}\n",
             per_sample->graph().name, pb.platform().name, split.batch(), split.copies(),
             fmt::join(split.sizes(), ","), s.method, to_string(s.status), format_seconds(e.makespan),
             format_seconds(e.lower_bound), format_gap(e.gap), fastest / e.makespan, format_seconds(fastest),
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
    add_batch_json(j, split, ref, e.makespan, r.trials);
    write_text_file(out_json, j.dump(1) + "\n");
  }
  if (!gantt.empty()) {
    Schedule shown = s;
    shown.lower_bound = e.lower_bound;
    write_text_file(gantt, gantt_html(pb, shown, e.sim));
  }
}

BatchReference batch_reference(const std::shared_ptr<const Problem>& per_sample, int batch, double bound_milp_s,
                               bool with_bound) {
  BatchReference ref;
  if (with_bound) {
    BoundOptions bopt;
    bopt.milp_time_limit_s = bound_milp_s;
    ref.bound = batch_latency_bound(*per_sample, batch, bopt);
  } else {
    ref.bound.load_balance = ref.bound.micro_batch = ref.bound.best = std::nan("");
  }
  const BatchSplit whole(per_sample, {batch});
  ref.fastest_device_s = simulate_latency(whole.problem(), fastest_device_schedule(whole.problem())).makespan;
  return ref;
}

void print_batch_reference(const BatchReference& ref, double makespan, int batch) {
  fmt::print("  batch of {} as one inference: {:.2f}x the whole batch on the fastest device ({})", batch,
             ref.fastest_device_s / makespan, format_seconds(ref.fastest_device_s));
  if (std::isfinite(ref.bound.best))
    fmt::print("; over every split into micro-batches (--micro-batches) the latency is at least {} (at most {:.2f}x)",
               format_seconds(ref.bound.best), ref.fastest_device_s / ref.bound.best);
  fmt::print("\n");
}

void add_batch_json(nlohmann::json& j, const BatchSplit& split, const BatchReference& ref, double makespan,
                    const std::vector<BatchTrial>& trials) {
  const Platform& plat = split.problem().platform();
  auto seconds = [](double s) { return std::isfinite(s) ? nlohmann::json(s) : nlohmann::json(nullptr); };
  j["batch"] = {{"batch", split.batch()},
                {"micro_batch_sizes", split.sizes()},
                {"load_balance_bound_s", seconds(ref.bound.load_balance)},
                {"micro_batch_bound_s", seconds(ref.bound.micro_batch)},
                {"micro_batch_count_bound_s", seconds(ref.bound.micro_batch_count)},
                {"split_bound_s", seconds(ref.bound.best)},
                {"fastest_device_s", ref.fastest_device_s},
                {"speedup_over_fastest_device", ref.fastest_device_s / makespan},
                {"io_device", plat.io_device >= 0 ? nlohmann::json(plat.devices[plat.io_device].name)
                                                  : nlohmann::json(nullptr)}};
  nlohmann::json t = nlohmann::json::array();
  for (const BatchTrial& x : trials) t.push_back({{"sizes", x.sizes}, {"how", x.how}, {"latency_s", x.latency}});
  j["batch"]["trials"] = t;
  const Graph& base = split.per_sample().graph();
  for (OpId v = 0; v < split.problem().num_ops(); ++v) {
    j["ops"][v]["micro_batch"] = split.copy_of(v);
    j["ops"][v]["base_op"] = base.ops[split.base_op(v)].name;
  }
}

void report_split_batch_bound(const ModelArgs& model, int threads, double milp_time_s, nlohmann::json* json) {
  const std::shared_ptr<const Problem> per_sample = model.load_sample_problem();
  BoundOptions o;
  o.milp_time_limit_s = milp_time_s;
  o.threads = threads;
  const BatchBound bb = batch_latency_bound(*per_sample, model.batch, o);
  if (json) {
    (*json)["batch_split"] = {{"batch", model.batch},
                              {"load_balance_s", bb.load_balance},
                              {"micro_batch_s", bb.micro_batch},
                              {"micro_batch_count_s", bb.micro_batch_count},
                              {"weakest_count", bb.weakest_count},
                              {"lower_bound_s", bb.best}};
    return;
  }
  fmt::print("over every split of the batch of {} into micro-batches (schedule --micro-batches):\n", model.batch);
  fmt::print("  {:<44} {:>12}\n", "load balance at the cheapest rate per sample", format_seconds(bb.load_balance));
  fmt::print("  {:<44} {:>12}\n", "one micro-batch (the per-sample bound)", format_seconds(bb.micro_batch));
  if (bb.weakest_count > 0)
    fmt::print("  {:<44} {:>12}  (least at {} micro-batches)\n", "launches per micro-batch vs largest micro-batch",
               format_seconds(bb.micro_batch_count), bb.weakest_count);
  fmt::print("  {:<44} {:>12}\n", "lower bound (best)", format_seconds(bb.best));
}

}  // namespace diviml::cli

// diviml inspect GRAPH [--json] [--modules]: what diviml sees in a model.
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/latency_report.h"
#include "solvers/split/split.h"

namespace diviml::cli {

namespace {
struct InspectArgs {
  ModelArgs model;
  bool json = false;
  bool modules = false;
  bool list_ops = false;
  SolveArgs solve;
};

void run_inspect(const InspectArgs& a) {
  auto g = a.model.load_graph();
  std::map<std::string, int> types;
  for (const Op& op : g->ops) ++types[op.type];
  nlohmann::json j{{"graph", g->name},
                   {"ops", g->num_ops()},
                   {"edges", g->num_edges()},
                   {"tensors", g->num_tensors()},
                   {"flops", g->total_flops()},
                   {"macs", g->total_macs()},
                   {"weight_bytes", g->total_weight_bytes()},
                   {"inputs", g->graph_inputs().size()},
                   {"outputs", g->graph_outputs().size()},
                   {"op_types", types}};
  if (a.list_ops) {
    j["op_list"] = nlohmann::json::array();
    for (const Op& op : g->ops)
      j["op_list"].push_back({{"name", op.name}, {"type", op.type}, {"class", std::string(to_string(op.op_class))},
                              {"flops", op.flops}, {"weight_bytes", op.weight_bytes}, {"fused", op.fused}});
  }
  std::shared_ptr<Problem> pb;
  if (a.modules) {
    pb = a.model.load_problem();
    j["modules"] = modules_report_json(*pb, a.solve.options());
  }
  if (a.json) {
    fmt::print("{}\n", j.dump(1));
    return;
  }
  fmt::print("graph {}: {} ops, {} edges, {} tensors ({} inputs, {} outputs)\n", g->name, g->num_ops(),
             g->num_edges(), g->num_tensors(), j["inputs"].get<size_t>(), j["outputs"].get<size_t>());
  fmt::print("  {:.4g} GFLOP, {:.4g} G multiply-accumulates, weights {}\n", g->total_flops() / 1e9,
             g->total_macs() / 1e9, format_bytes(g->total_weight_bytes()));
  fmt::print("  op types:");
  for (const auto& [t, c] : types) fmt::print(" {}={}", t, c);
  fmt::print("\n");
  if (a.list_ops)
    for (const Op& op : g->ops)
      fmt::print("  {:<40} {:<20} {:>12.4g} FLOP{}\n", op.name, op.type, op.flops,
                 op.fused.size() > 1 ? fmt::format("  (fused {})", op.fused.size()) : "");
  if (a.modules) fmt::print("{}", modules_report_text(*pb, a.solve.options()));
}
}  // namespace

void add_inspect_command(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "show ops, edges, FLOPs, weights and op types of a model");
  a->model.add(cmd);
  cmd->add_flag("--json", a->json, "print JSON (keys ops, edges, flops, macs, weight_bytes, op_types)");
  cmd->add_flag("--ops", a->list_ops, "list every op");
  cmd->add_flag("--modules", a->modules, "list the series modules and MILP parts (needs --platform)");
  a->solve.add_part_budget(cmd);
  cmd->callback([a] { run_inspect(*a); });
}

}  // namespace diviml::cli

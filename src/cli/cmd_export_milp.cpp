// diviml export-milp GRAPH --platform P -o model.mps|model.lp: the latency MILP as a text file
// for other solvers (HiGHS, Gurobi, CPLEX, SCIP, GLPK).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "solvers/milp/latency_milp.h"

namespace diviml::cli {

namespace {
struct ExportMilpArgs {
  ModelArgs model;
  std::string out;
};

void run_export_milp(const ExportMilpArgs& a) {
  check_writable(a.out, "--out");
  auto pb = a.model.load_problem();
  export_latency_milp(*pb, a.out);
  fmt::print("wrote the latency MILP of {} on {} ({} ops, {} devices) to {}\n", pb->graph().name,
             pb->platform().name, pb->num_ops(), pb->num_devices(), a.out);
}
}  // namespace

void add_export_milp_command(CLI::App& app) {
  auto a = std::make_shared<ExportMilpArgs>();
  CLI::App* cmd = app.add_subcommand(
      "export-milp",
      "write the exact latency MILP (docs/milp.md) as free MPS (.mps) or CPLEX LP (.lp); times are in the unit "
      "given in the file's header comment");
  a->model.add(cmd);
  cmd->add_option("-o,--out", a->out, "output file: .mps or .lp")->required();
  cmd->callback([a] { run_export_milp(*a); });
}

}  // namespace diviml::cli

// `diviml run PLAN_DIR`: execute a partition plan with ONNX Runtime, check it against the whole
// model and measure it (runtime/run.js does the work; docs/deploy.md).
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/runtime_launch.h"
#include "graph/graph.h"

namespace diviml::cli {

namespace {
struct RunArgs {
  std::string plan_dir, runtime_dir, inputs, trace;
  std::optional<long> random_weights;
  int runs = 10, warmup = 2, seed = 1;
  double tolerance = 1e-4, spin_us = 0;
  bool json = false, no_pin = false;
  std::vector<std::string> devices;
};
}  // namespace

void add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "execute a partition plan with ONNX Runtime, check its outputs against the whole model, measure latency");
  cmd->add_option("plan_dir", a->plan_dir, "directory written by `diviml partition -o`")->required();
  cmd->add_option("--random-weights", a->random_weights,
                  "seed: fill absent external weights with deterministic random values (same for whole model and segments)");
  cmd->add_option("--runs", a->runs, "measured runs (median and spread reported)")->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", a->warmup, "warm-up runs before measuring")->check(CLI::Range(0, 100000));
  cmd->add_option("--tolerance", a->tolerance, "largest accepted |diff| / max|reference| per output")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--inputs", a->inputs, "JSON file {\"input name\": [flat values]} (default: seeded random)");
  cmd->add_option("--seed", a->seed, "seed of the random inputs");
  cmd->add_option("--device", a->devices, "NAME=PROVIDER[:threads] per plan device (default cpu:1), e.g. gpu=cuda");
  cmd->add_flag("--json", a->json, "print the result as JSON");
  cmd->add_flag("--no-pin", a->no_pin, "do not pin CPU devices to distinct cores");
  cmd->add_option("--trace", a->trace, "write every measured run's per-segment timestamps (JSON) to this file");
  cmd->add_option("--spin-us", a->spin_us, "spin this long before sleeping when a device waits for a tensor (default 0)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--runtime-dir", a->runtime_dir, "the runtime/ folder holding run.js (default: found automatically)");
  cmd->footer(
      "Exit status: 0 outputs match, 1 outputs differ, 2 bad plan or option, 3 ONNX Runtime missing,\n"
      "4 ONNX Runtime refused a model. Needs Node.js and runtime/node_modules (scripts/install-deps.sh).");
  cmd->callback([a] {
    const std::string dir = find_runtime_dir(a->runtime_dir, "run.js");
    std::vector<std::string> args{a->plan_dir, "--runs", std::to_string(a->runs), "--warmup", std::to_string(a->warmup),
                                  "--tolerance", fmt::format("{}", a->tolerance), "--seed", std::to_string(a->seed)};
    if (a->random_weights) args.insert(args.end(), {"--random-weights", std::to_string(*a->random_weights)});
    if (!a->inputs.empty()) args.insert(args.end(), {"--inputs", a->inputs});
    for (const auto& d : a->devices) args.insert(args.end(), {"--device", d});
    if (a->json) args.push_back("--json");
    if (a->no_pin) args.push_back("--no-pin");
    if (!a->trace.empty()) args.insert(args.end(), {"--trace", a->trace});
    if (a->spin_us > 0) args.insert(args.end(), {"--spin-us", fmt::format("{}", a->spin_us)});
    const int rc = run_node_script(dir, "run.js", args);
    if (rc != 0) {
      std::fflush(stdout);
      std::exit(rc);  // the runner printed its one-line reason
    }
  });
}

}  // namespace diviml::cli

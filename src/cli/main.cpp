// The `diviml` command: a thin layer over the library. Every error becomes one line on stderr
// and a non-zero exit.
#include <cstdio>
#include <exception>
#include <memory>

#include <fmt/format.h>

#include "api/options_table.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "graph/graph.h"
#include "schedule/simulator.h"
#include "solvers/milp/milp_settings.h"

int main(int argc, char** argv) {
  CLI::App app{"diviml: map neural networks onto heterogeneous devices (latency and throughput)", "diviml"};
  app.set_version_flag("--version", DIVIML_VERSION);
  app.require_subcommand(1);
  diviml::cli::add_schedule_command(app);
  diviml::cli::add_compare_command(app);
  diviml::cli::add_inspect_command(app);
  diviml::cli::add_bound_command(app);
  diviml::cli::add_generate_command(app);
  diviml::cli::add_export_milp_command(app);
  diviml::cli::add_partition_command(app);
  diviml::cli::add_run_command(app);
  diviml::cli::add_profile_command(app);
  // Advanced options of the library's table (docs/options.md) that have no flag of their own.
  diviml::milp::MilpSettings advanced;
  std::unique_ptr<diviml::milp::ScopedMilpSettings> advanced_scope;
  app.add_option_function<std::vector<std::string>>(
         "--set",
         [&](const std::vector<std::string>& sets) {
           for (const auto& s : sets) diviml::api::apply_advanced_option(s, advanced);
           advanced_scope.reset();
           advanced_scope = std::make_unique<diviml::milp::ScopedMilpSettings>(advanced);
         },
         "advanced option NAME=VALUE before the command, e.g. --set milp.cbc_log=1 (docs/options.md)")
      ->trigger_on_parse();
  // Hidden: regenerates docs/options.md from the options table (a test compares the two).
  app.add_subcommand("options-doc", "")->group("")->callback([] { fmt::print("{}", diviml::api::options_markdown()); });
  auto is_command = [&](const std::string& name) {
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == name) return true;
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
    fmt::print(stderr, "diviml: error: unknown command '{}' (valid: {})\n", argv[1], names);
    return 2;
  }
  try {
    app.parse(argc, argv);
    if (diviml::cli::interrupted()) return 130;  // the best result was written; say it was cut short
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "diviml: error: {}\n", e.what());
    return 2;
  } catch (const diviml::InputError& e) {
    fmt::print(stderr, "diviml: error: {}\n", e.what());
    return 1;
  } catch (const diviml::ScheduleError& e) {
    fmt::print(stderr, "diviml: invalid schedule: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "diviml: error: out of memory\n");
    return 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "diviml: internal error: {}\n", e.what());
    return 4;
  }
  return 0;
}

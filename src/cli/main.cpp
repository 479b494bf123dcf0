// The `diviml` command: a thin layer over the library. Every error becomes one line on stderr
// and a non-zero exit.
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "graph/graph.h"
#include "schedule/simulator.h"

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

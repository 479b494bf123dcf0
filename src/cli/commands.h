// The `diviml` subcommands. Each file cmd_*.cpp registers one subcommand on the app; main.cpp
// only wires them together and turns exceptions into one line and a non-zero exit.
#pragma once

#include <CLI/CLI.hpp>

namespace diviml::cli {

void add_schedule_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_bound_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_export_milp_command(CLI::App& app);
void add_partition_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_profile_command(CLI::App& app);

}  // namespace diviml::cli

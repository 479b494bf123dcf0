// CLI flags generated from the library's options table (src/api/options_table.cpp): the flag's
// name, help text, default, bounds, choices and validation message all come from the option's
// row, so `--help`, docs/options.md and the library's set_option agree by construction.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace diviml::cli {

/// Adds the flag of table option `name` to `cmd`, bound to `target` (which receives the table's
/// default). `alias` is an extra short name ("-m"); `more_help` is appended to the row's text
/// (e.g. the list of method names). Values are checked by the table's parse_option_text, whose
/// message names the option and its type or bounds.
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, double& target, const std::string& alias = "",
                              const std::string& more_help = "");
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, int& target, const std::string& alias = "",
                              const std::string& more_help = "");
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, long& target, const std::string& alias = "",
                              const std::string& more_help = "");
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, uint64_t& target, const std::string& alias = "",
                              const std::string& more_help = "");
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, std::string& target, const std::string& alias = "",
                              const std::string& more_help = "");

/// The text a flag accepts for an integer option whose 0 means "automatic" (--replicas auto).
inline constexpr const char* kAutoWord = "auto";

}  // namespace diviml::cli

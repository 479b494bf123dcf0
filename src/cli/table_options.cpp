#include "cli/table_options.h"

#include <fmt/format.h>

#include "api/options_table.h"
#include "graph/graph.h"

namespace diviml::cli {

namespace {

/// `--replicas auto` is the CLI's word for the table's 0 (automatic).
bool takes_auto(const api::OptionInfo& o) { return o.name == "replicas"; }

CLI::Validator table_validator(const api::OptionInfo& o) {
  return CLI::Validator(
      [&o](std::string& text) -> std::string {
        try {
          api::parse_option_text(o, takes_auto(o) && text == kAutoWord ? "0" : text);
        } catch (const InputError& e) {
          return e.what();
        }
        return "";
      },
      api::option_range_text(o));
}

std::string help_of(const api::OptionInfo& o, const std::string& more) {
  return more.empty() ? o.doc : o.doc + "; " + more;
}

template <class T>
CLI::Option* add(CLI::App* cmd, const std::string& name, T& target, const std::string& alias, const std::string& more,
                 T def) {
  const api::OptionInfo& o = api::find_option(name);
  if (o.cli_flag.rfind("--", 0) != 0) throw std::logic_error("option '" + name + "' has no flag of its own");
  target = def;
  CLI::Option* opt = cmd->add_option(alias.empty() ? o.cli_flag : alias + "," + o.cli_flag, target, help_of(o, more));
  opt->check(table_validator(o));
  opt->capture_default_str();
  return opt;
}

int64_t int_default(const std::string& name) { return std::get<int64_t>(api::find_option(name).default_value); }

}  // namespace

CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, double& target, const std::string& alias,
                              const std::string& more) {
  return add(cmd, name, target, alias, more, std::get<double>(api::find_option(name).default_value));
}
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, int& target, const std::string& alias,
                              const std::string& more) {
  return add(cmd, name, target, alias, more, static_cast<int>(int_default(name)));
}
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, long& target, const std::string& alias,
                              const std::string& more) {
  return add(cmd, name, target, alias, more, static_cast<long>(int_default(name)));
}
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, uint64_t& target, const std::string& alias,
                              const std::string& more) {
  return add(cmd, name, target, alias, more, static_cast<uint64_t>(int_default(name)));
}
CLI::Option* add_table_option(CLI::App* cmd, const std::string& name, std::string& target, const std::string& alias,
                              const std::string& more) {
  const api::OptionInfo& o = api::find_option(name);
  const std::string def = o.type == api::OptionType::String ? std::get<std::string>(o.default_value)
                          : takes_auto(o) && int_default(name) == 0 ? std::string(kAutoWord)
                                                                     : api::option_value_text(o.default_value);
  return add(cmd, name, target, alias, more, def);
}

}  // namespace diviml::cli

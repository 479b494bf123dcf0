// The options table of the front door (include/diviml/diviml.h): one record per option, from
// which set_option's validation, docs/options.md and the Python keywords follow.
#pragma once

#include <map>
#include <string>

#include "diviml/diviml.h"
#include "solvers/milp/milp_settings.h"

namespace diviml::api {

/// Current values by name (every option present).
using OptionValues = std::map<std::string, OptionValue>;

/// The table, in documentation order.
const std::vector<OptionInfo>& option_table();
/// The record of `name`; throws InputError naming the valid options when unknown.
const OptionInfo& find_option(const std::string& name);
/// Defaults of every option.
OptionValues default_option_values();
/// Checks type and bounds (an int is accepted for a double option) and returns the value to
/// store; throws InputError with the option's name, the expected type or bounds.
OptionValue validate_option(const OptionInfo& o, const OptionValue& v);
/// Parses text by the option's type, then validates.
OptionValue parse_option_text(const OptionInfo& o, const std::string& text);
std::string option_value_text(const OptionValue& v);
/// "1 .. 256", "0.001 .. 1e+07", "fused, op" (empty for a free string or a boolean): the `--help`
/// and docs/options.md text of an option's bounds.
std::string option_range_text(const OptionInfo& o);
/// The MILP settings (milp.* options and allow_worker_processes) of a set of values.
milp::MilpSettings milp_settings(const OptionValues& v);
/// `name=value` for an advanced (milp.*) option applied onto `s`: the command's --set.
void apply_advanced_option(const std::string& assignment, milp::MilpSettings& s);

}  // namespace diviml::api

#include "api/options_table.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "graph/graph.h"
#include "platform/units.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml::api {

namespace {

constexpr double kMaxPipelineInferences = 100000;  // 10^7 ran past 60 s at 4.8 GB (issue 12.9)

OptionInfo opt(std::string name, OptionType type, OptionValue def, double lo, double hi, std::string scope,
               std::string cli, std::string doc, std::vector<std::string> choices = {}, bool advanced = false) {
  OptionInfo o;
  o.name = std::move(name);
  o.type = type;
  o.default_value = std::move(def);
  o.min = lo;
  o.max = hi;
  o.scope = std::move(scope);
  o.cli_flag = std::move(cli);
  o.doc = std::move(doc);
  o.choices = std::move(choices);
  o.advanced = advanced;
  return o;
}

const char* type_word(OptionType t) {
  switch (t) {
    case OptionType::Bool: return "a boolean";
    case OptionType::Int: return "an integer";
    case OptionType::Double: return "a number";
    case OptionType::String: return "a string";
  }
  return "?";
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

const std::vector<OptionInfo>& option_table() {
  using T = OptionType;
  constexpr double kBig = 9.2e18;  // int64 range, as a double
  static const std::vector<OptionInfo> table = {
      opt("objective", T::String, std::string("latency"), 0, 0, "general", "--objective",
          "what run() optimises: the latency of one inference or the throughput of a stream",
          {"latency", "throughput"}),
      opt("method", T::String, std::string(""), 0, 0, "general", "--method",
          "method name (Diviml::methods(); latency also device:NAME); empty: heft for latency, "
          "heft-pipeline for throughput"),
      opt("time_limit", T::Double, 60.0, 1e-3, 1e7, "general", "--time-limit",
          "seconds for the whole solve (MILP, split, anneal; in `diviml compare`: for each method)"),
      opt("threads", T::Int, int64_t{1}, 1, 256, "general", "--threads",
          "solver threads (CBC threads, annealing chains, split's parallel parts)"),
      opt("seed", T::Int, int64_t{1}, 0, kBig, "general", "--seed",
          "random seed (random, anneal, split's community detection)"),
      opt("allow_worker_processes", T::Bool, false, 0, 0, "general", "",
          "let split solve independent parts in forked worker processes when threads > 1; off by "
          "default in the library because fork is unsafe in a process with other threads (the "
          "diviml command always allows it)"),
      opt("granularity", T::String, std::string("fused"), 0, 0, "model", "--granularity",
          "ONNX import: fused (conv + activation etc. as one op) or op (one op per ONNX node); "
          "applies to the next read_model", {"fused", "op"}),
      opt("max_part_pairs", T::Int, int64_t{70}, 1, 1e6, "split", "--max-part-pairs",
          "split: budget of incomparable op pairs per MILP part"),
      opt("max_part_ops", T::Int, int64_t{0}, 0, 1e5, "split", "--max-part-ops",
          "split: budget of ops per part (0: use max_part_pairs)"),
      opt("bound_milp_time", T::Double, 0.0, 0, 1e6, "bounds", "--bound-milp-time",
          "latency: extra seconds of wall-clock per-module MILP lower bounds (0: only the reproducible "
          "closed-form and series-DP bounds)"),
      opt("replicas", T::Int, int64_t{1}, 0, kMaxReplicas, "throughput", "--replicas",
          "throughput: R inferences per period (0, or auto on the command line: try a small range)"),
      opt("max_latency", T::Double, 0.0, 0, 1e9, "throughput", "--max-latency",
          "throughput: cap on one inference's latency per replica, seconds (0: none)"),
      opt("inferences", T::Int, int64_t{0}, 0, kMaxPipelineInferences, "throughput", "--inferences",
          "throughput: inferences in the pipelined simulation (0: max(400, 100 R), which reaches the steady "
          "state; more would hold about 480 B of event times each and run for minutes)"),
      opt("milp.cbc_args", T::String, std::string(""), 0, 0, "milp (advanced)", "--set milp.cbc_args=...",
          "extra CBC options, space-separated (\"-cuts off -strong 10\"), for configuration experiments "
          "(docs/milp.md); was DIVIML_CBC_ARGS", {}, true),
      opt("milp.cbc_log", T::Int, int64_t{0}, 0, 4, "milp (advanced)", "--set milp.cbc_log=N",
          "CBC's own log level, printed on stdout (0: silent); was DIVIML_CBC_LOG", {}, true),
      opt("milp.priorities", T::Bool, true, 0, 0, "milp (advanced)", "--set milp.priorities=false",
          "branching priorities in the latency MILP (placements before orders); was DIVIML_MILP_PRIORITIES",
          {}, true),
      opt("milp.ht_rows", T::Bool, false, 0, 0, "milp (advanced)", "--set milp.ht_rows=true",
          "head/tail one-machine rows in the latency MILP (docs/milp.md section 12); was DIVIML_MILP_HTROWS",
          {}, true),
  };
  return table;
}

const OptionInfo& find_option(const std::string& name) {
  for (const OptionInfo& o : option_table())
    if (o.name == name) return o;
  std::vector<std::string> names;
  for (const OptionInfo& o : option_table()) names.push_back(o.name);
  throw InputError(fmt::format("unknown option '{}' (valid: {})", name, join(names)));
}

OptionValues default_option_values() {
  OptionValues v;
  for (const OptionInfo& o : option_table()) v[o.name] = o.default_value;
  return v;
}

OptionValue validate_option(const OptionInfo& o, const OptionValue& v) {
  auto wrong_type = [&] {
    return InputError(fmt::format("option '{}' must be {} (got {} '{}')", o.name, type_word(o.type),
                                  type_word(static_cast<OptionType>(v.index())), option_value_text(v)));
  };
  auto range = [&](double x) {
    if (!(x >= o.min && x <= o.max))
      throw InputError(fmt::format("option '{}' = {} is out of range [{}, {}]", o.name, option_value_text(v),
                                   option_value_text(o.type == OptionType::Int ? OptionValue(int64_t(o.min)) : OptionValue(o.min)),
                                   option_value_text(o.type == OptionType::Int ? OptionValue(int64_t(o.max)) : OptionValue(o.max))));
  };
  switch (o.type) {
    case OptionType::Bool:
      if (!std::holds_alternative<bool>(v)) throw wrong_type();
      return v;
    case OptionType::Int: {
      if (!std::holds_alternative<int64_t>(v)) throw wrong_type();
      range(static_cast<double>(std::get<int64_t>(v)));
      return v;
    }
    case OptionType::Double: {
      double x = 0;
      if (std::holds_alternative<double>(v))
        x = std::get<double>(v);
      else if (std::holds_alternative<int64_t>(v))
        x = static_cast<double>(std::get<int64_t>(v));
      else
        throw wrong_type();
      range(x);
      return x;
    }
    case OptionType::String: {
      if (!std::holds_alternative<std::string>(v)) throw wrong_type();
      const std::string& s = std::get<std::string>(v);
      if (!o.choices.empty()) {
        bool ok = false;
        for (const auto& c : o.choices) ok = ok || c == s;
        if (!ok) throw InputError(fmt::format("option '{}' = '{}' is not one of: {}", o.name, s, join(o.choices)));
      }
      return v;
    }
  }
  return v;
}

OptionValue parse_option_text(const OptionInfo& o, const std::string& text) {
  auto bad = [&] {
    return InputError(fmt::format("option '{}': '{}' is not {}", o.name, text, type_word(o.type)));
  };
  switch (o.type) {
    case OptionType::Bool:
      if (text == "true" || text == "1" || text == "on") return validate_option(o, true);
      if (text == "false" || text == "0" || text == "off") return validate_option(o, false);
      throw bad();
    case OptionType::Int: {
      size_t used = 0;
      long long x = 0;
      try {
        x = std::stoll(text, &used);
      } catch (const std::exception&) {
        throw bad();
      }
      if (used != text.size()) throw bad();
      return validate_option(o, static_cast<int64_t>(x));
    }
    case OptionType::Double: {
      const std::optional<double> x = parse_number(text);
      if (!x || !std::isfinite(*x)) throw bad();
      return validate_option(o, *x);
    }
    case OptionType::String:
      return validate_option(o, text);
  }
  throw bad();
}

std::string option_value_text(const OptionValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const int64_t* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return std::get<std::string>(v);
}

milp::MilpSettings milp_settings(const OptionValues& v) {
  milp::MilpSettings s;
  s.cbc_args = std::get<std::string>(v.at("milp.cbc_args"));
  s.cbc_log = static_cast<int>(std::get<int64_t>(v.at("milp.cbc_log")));
  s.priorities = std::get<bool>(v.at("milp.priorities"));
  s.ht_rows = std::get<bool>(v.at("milp.ht_rows"));
  s.allow_fork = std::get<bool>(v.at("allow_worker_processes"));
  return s;
}

void apply_advanced_option(const std::string& assignment, milp::MilpSettings& s) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(fmt::format("--set '{}': expected NAME=VALUE such as milp.cbc_log=1", assignment));
  const OptionInfo& o = find_option(assignment.substr(0, eq));
  if (!o.advanced)
    throw InputError(fmt::format("--set {}: not an advanced option; use {}", o.name,
                                 o.cli_flag.empty() ? std::string("the library's set_option") : o.cli_flag));
  OptionValues v = default_option_values();
  v["milp.cbc_args"] = s.cbc_args;
  v["milp.cbc_log"] = int64_t{s.cbc_log};
  v["milp.priorities"] = s.priorities;
  v["milp.ht_rows"] = s.ht_rows;
  v["allow_worker_processes"] = s.allow_fork;
  v[o.name] = parse_option_text(o, assignment.substr(eq + 1));
  s = milp_settings(v);
}

std::string option_range_text(const OptionInfo& o) {
  if (o.type == OptionType::Int || o.type == OptionType::Double) {
    auto num = [&](double x) {
      return option_value_text(o.type == OptionType::Int ? OptionValue(int64_t(x)) : OptionValue(x));
    };
    return fmt::format("{} .. {}", num(o.min), o.max > 1e15 ? std::string("2^63") : num(o.max));
  }
  return join(o.choices);
}

std::string options_markdown() {
  std::string md =
      "# Options\n\n"
      "Generated from the options table in `src/api/options_table.cpp` by `diviml options-doc`; do not edit\n"
      "(the `options_doc` test fails when this file is out of date). Set them through the library with\n"
      "`Diviml::set_option(name, value)` (docs/api.md), from Python as keywords of `diviml.schedule`\n"
      "(dots become underscores: `milp_cbc_args`), and from the command line with the flag in the\n"
      "CLI column. Advanced options have no flag of their own; `diviml --set NAME=VALUE` sets them.\n"
      "The command's flags take their default, bounds, help text and error messages from this table\n"
      "(`src/cli/table_options.cpp`): adding an option is one row here plus the line that reads it.\n\n"
      "| option | type | default | range / values | CLI | scope | description |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const OptionInfo& o : option_table()) {
    const std::string range = option_range_text(o);
    std::string def = option_value_text(o.default_value);
    if (o.type == OptionType::String) def = "`\"" + def + "\"`";
    md += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", o.name, to_string(o.type), def, range,
                      o.cli_flag.empty() ? "-" : "`" + o.cli_flag + "`", o.scope, o.doc);
  }
  return md;
}

}  // namespace diviml::api

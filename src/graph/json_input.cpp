#include "graph/json_input.h"

#include <fmt/format.h>

#include "graph/graph.h"

namespace diviml {

using nlohmann::json;

namespace {

/// What kind of diviml file a JSON object is: its "format" field, else guessed from its keys
/// (schedules written before they carried one have "objective" and "method").
std::string file_kind(const json& j) {
  if (j.contains("format") && j["format"].is_string()) return j["format"].get<std::string>();
  if (j.contains("objective") && j.contains("method")) return "diviml-schedule";
  if (j.contains("devices") && !j.contains("ops")) return "diviml-platform";
  return "";
}

}  // namespace

json parse_json_input(const std::string& text, const std::string& origin) {
  // The innermost key being read, for numbers nlohmann rejects (1e400 overflows a double).
  std::string key;
  const json::parser_callback_t remember_key = [&key](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key) key = parsed.get<std::string>();
    return true;
  };
  try {
    return json::parse(text, remember_key);
  } catch (const json::parse_error& e) {
    throw InputError(fmt::format("{}: not valid JSON: {}", origin, e.what()));
  } catch (const json::out_of_range& e) {  // 406: a number beyond the double range
    const std::string what = e.what();
    const auto at = what.find("number overflow");
    throw InputError(fmt::format("{}: field '{}': {} (numbers must be within +-1.8e308)", origin, key,
                                 at == std::string::npos ? what : what.substr(at)));
  }
}

void expect_file_kind(const json& j, const std::string& expected, const std::string& origin) {
  const std::string kind = file_kind(j);
  if (kind.empty() || kind == expected) return;
  std::string hint;
  if (kind == "diviml-schedule") hint = " (a schedule written by `diviml schedule --out`)";
  else if (kind == "diviml-graph") hint = " (a model: give it as GRAPH)";
  else if (kind == "diviml-platform") hint = " (a platform: give it with --platform)";
  throw InputError(fmt::format("{}: this is a '{}' file, not a '{}'{}", origin, kind, expected, hint));
}

}  // namespace diviml

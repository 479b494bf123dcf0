// Reading diviml's JSON inputs (graph, platform): parse errors and out-of-range numbers become an
// InputError naming the file (and the field), and a file of another diviml kind (a schedule
// given as the model, a graph given as the platform) is refused by name.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace diviml {

/// Parses `text`; throws InputError "ORIGIN: not valid JSON: ..." or, for a number beyond the
/// double range such as 1e400, "ORIGIN: field 'flops': number overflow ...".
nlohmann::json parse_json_input(const std::string& text, const std::string& origin);

/// Throws InputError when `j` says (its "format" field) or shows (its keys) that it is another
/// kind of diviml file than `expected` ("diviml-graph", "diviml-platform", "diviml-schedule").
void expect_file_kind(const nlohmann::json& j, const std::string& expected, const std::string& origin);

}  // namespace diviml

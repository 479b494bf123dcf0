// The JSON of `diviml compare` (latency objective; docs/formats.md): one row per method and the
// document around them, so that the library writes the same file as the command.
// (`compare --objective throughput` rows: report/throughput_json.h.)
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/latency_report.h"

namespace diviml {

/// A method's row; `speedup` over the best single device (NaN: none, written as null).
nlohmann::json latency_compare_row(const std::string& method, const Schedule& s, const LatencyEvaluation& e,
                                   double speedup);
/// A method that failed: its name and the error.
nlohmann::json failed_compare_row(const std::string& method, const std::string& error);
/// The document; `not_run` (the methods Ctrl-C skipped) is written when `interrupted`.
nlohmann::json latency_comparison_json(const Problem& pb, const nlohmann::json& rows, bool interrupted,
                                       const std::vector<std::string>& not_run);

}  // namespace diviml

#include "frontend/load_graph.h"

#include <fmt/format.h>

#include "frontend/generators.h"
#include "frontend/onnx_import.h"

namespace diviml {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::shared_ptr<Graph> load_graph(const std::string& path, const LoadOptions& opt) {
  if (ends_with(path, ".onnx")) return import_onnx(path, opt);
  if (ends_with(path, ".stg")) return read_stg(path);
  if (ends_with(path, ".json")) return graph_from_json_text(read_file_text(path), path);
  throw InputError(fmt::format("{}: unknown model format (expected .onnx, .json or .stg)", path));
}

}  // namespace diviml

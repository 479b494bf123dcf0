// Front door for model files: picks the reader by extension (.json, .onnx, .stg).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace diviml {

enum class Granularity { Fused, Op };

struct LoadOptions {
  Granularity granularity = Granularity::Fused;
  /// Overrides for graph inputs with symbolic dims: name -> dims (ONNX only).
  std::map<std::string, std::vector<int64_t>> input_shapes;
  /// Warnings (unknown op types, ...) are appended here when non-null.
  std::vector<std::string>* warnings = nullptr;
};

/// Loads and finalizes a graph; throws InputError naming the file and item on bad input.
std::shared_ptr<Graph> load_graph(const std::string& path, const LoadOptions& opt = {});

/// Graph JSON format (docs/formats.md).
std::shared_ptr<Graph> graph_from_json_text(const std::string& text, const std::string& origin);
std::string graph_to_json_text(const Graph& g);

/// Reads a whole file; throws InputError if it cannot be opened.
std::string read_file_text(const std::string& path);

}  // namespace diviml

// libFuzzer harness: graph JSON (docs/formats.md), parsed then written back and re-read.
#include "frontend/load_graph.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return diviml::fuzz::run_text(data, size, [](const std::string& text) {
    auto g = diviml::graph_from_json_text(text, "fuzz.json");
    auto again = diviml::graph_from_json_text(diviml::graph_to_json_text(*g), "fuzz-roundtrip.json");
    if (again->num_ops() != g->num_ops()) __builtin_trap();
  });
}

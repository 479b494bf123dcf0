// libFuzzer harness: the ONNX importer (both granularities, shape inference, functions).
#include "frontend/onnx_import.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return diviml::fuzz::run_file(data, size, ".onnx", [](const std::string& path) {
    diviml::LoadOptions o;
    o.granularity = diviml::Granularity::Fused;
    auto g = diviml::import_onnx(path, o);
    if (g->num_ops() <= 0) __builtin_trap();
  });
}

// libFuzzer harness: Standard Task Graph files (.stg).
#include "frontend/generators.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return diviml::fuzz::run_file(data, size, ".stg", [](const std::string& path) { (void)diviml::read_stg(path); });
}

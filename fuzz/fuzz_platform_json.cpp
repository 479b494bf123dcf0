// libFuzzer harness: platform JSON (docs/formats.md), parsed then written back and re-read.
#include "fuzz/fuzz_common.h"
#include "platform/platform.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return diviml::fuzz::run_text(data, size, [](const std::string& text) {
    auto p = diviml::platform_from_json_text(text, "fuzz.json");
    (void)diviml::platform_from_json_text(diviml::platform_to_json_text(p), "fuzz-roundtrip.json");
  });
}

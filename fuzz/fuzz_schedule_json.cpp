// libFuzzer harness: schedule JSON as `diviml partition` reads it.
#include "fuzz/fuzz_common.h"
#include "report/partition.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return diviml::fuzz::run_text(data, size, [](const std::string& text) {
    (void)diviml::parse_schedule_placements(text, "fuzz.json");
  });
}

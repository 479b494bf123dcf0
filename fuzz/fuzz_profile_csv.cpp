// libFuzzer harness: measured-times CSV (`op_name,device,seconds`).
#include "fuzz/fuzz_common.h"
#include "platform/cost_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return diviml::fuzz::run_file(data, size, ".csv",
                                [](const std::string& path) { (void)diviml::ProfileTable::load_csv(path); });
}

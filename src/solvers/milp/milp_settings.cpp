#include "solvers/milp/milp_settings.h"

#include <utility>

namespace diviml::milp {

namespace {
MilpSettings& slot() {
  thread_local MilpSettings s;
  return s;
}
}  // namespace

const MilpSettings& current_settings() { return slot(); }

ScopedMilpSettings::ScopedMilpSettings(MilpSettings s) : saved_(std::exchange(slot(), std::move(s))) {}

ScopedMilpSettings::~ScopedMilpSettings() { slot() = std::move(saved_); }

}  // namespace diviml::milp

// Advanced MILP settings (once environment variables: DIVIML_CBC_ARGS, DIVIML_CBC_LOG,
// DIVIML_MILP_PRIORITIES, DIVIML_MILP_HTROWS) and the switch that allows forked worker processes.
// The front door (include/diviml/diviml.h) sets them from its options table for the length of
// one run; the defaults below are what every other caller gets.
//
// Why per thread: two front-door objects may run at once on two threads with different options;
// every CBC call of a run happens on the thread that called run() (CBC's own threads read these
// only at the start of a solve, and a forked worker's thread is a copy of the forking one).
#pragma once

#include <string>

namespace diviml::milp {

struct MilpSettings {
  std::string cbc_args;    ///< extra CBC options, space-separated ("-cuts off -strong 10")
  int cbc_log = 0;         ///< CBC's own log level on stdout (0: silent)
  bool priorities = true;  ///< branching priorities in the latency MILP: placements before orders
  bool ht_rows = false;    ///< head/tail one-machine rows in the latency MILP (docs/milp.md section 12)
  /// Split may solve the parts of a wave in forked worker processes (with threads > 1). The
  /// command allows it; the front door only when its option `allow_worker_processes` is set,
  /// since fork in a process with other threads (thread pools, a held lock) is unsafe.
  bool allow_fork = true;
};

/// The settings in force on this thread.
const MilpSettings& current_settings();

/// Puts `s` in force on this thread until destruction (then the previous settings again).
class ScopedMilpSettings {
 public:
  explicit ScopedMilpSettings(MilpSettings s);
  ~ScopedMilpSettings();
  ScopedMilpSettings(const ScopedMilpSettings&) = delete;
  ScopedMilpSettings& operator=(const ScopedMilpSettings&) = delete;

 private:
  MilpSettings saved_;
};

}  // namespace diviml::milp

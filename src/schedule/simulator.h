// The simulator: the single authority on what a schedule achieves (DESIGN section 3).
#pragma once

#include <string>
#include <vector>

#include "schedule/schedule.h"

namespace diviml {

/// A schedule the simulator cannot execute (wrong device, deadlock, overlap in claimed times...).
struct ScheduleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SimOptions {
  bool contention = false;  ///< each link direction sends one tensor at a time, FIFO by ready time
};

/// One tensor movement. from/to are device indices; for graph inputs from == io device.
struct Transfer {
  TensorId tensor = -1;
  int from = -1, to = -1;
  double start = 0, finish = 0;
  bool io = false;          ///< a graph input from, or an output to, the I/O device
};

struct DeviceMemory {
  double weight_bytes = 0;       ///< weights of the ops placed on the device
  double peak_activation_bytes = 0;
  double reserve_bytes = 0;
  double capacity_bytes = 0;     ///< total memory (including the reserve)
  double used() const { return weight_bytes + peak_activation_bytes + reserve_bytes; }
  double headroom() const { return capacity_bytes - used(); }
};

struct LatencyResult {
  double makespan = 0;           ///< when the last graph output reaches the I/O device
  std::vector<double> start, finish;
  std::vector<Transfer> transfers;
  std::vector<double> device_busy;  ///< compute seconds per device
  std::vector<DeviceMemory> memory;
  std::vector<std::string> memory_violations;  ///< one message per overflowing device
};

/// Checks the schedule's structure: one valid device per op that can run it, every op exactly
/// once in the order of its device. Throws ScheduleError naming the op/device.
void check_schedule_structure(const Problem& pb, const Schedule& s);

/// Runs one inference; throws ScheduleError on a structural problem or a deadlock (an order that
/// contradicts the dependencies, naming the ops involved). O((V+E) log V).
LatencyResult simulate_latency(const Problem& pb, const Schedule& s, const SimOptions& opt = {});

/// Checks solver-claimed start times against the execution model: precedence with transfers,
/// no overlap on a device. Returns messages (empty when consistent).
std::vector<std::string> check_claimed_times(const Problem& pb, const Schedule& s, double tol = 1e-9);

/// Critical path with every op at its fastest device and no transfers (a lower bound).
double critical_path_fastest(const Problem& pb);

}  // namespace diviml

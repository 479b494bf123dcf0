// Platform: devices, links, servers, the I/O device (DESIGN section 2).
#pragma once

#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace diviml {

enum class DeviceKind { Cpu, Gpu, Accelerator };
std::string_view to_string(DeviceKind k);

struct Device {
  std::string name;
  DeviceKind kind = DeviceKind::Gpu;
  int server = 0;                       ///< index of the server holding the device
  double peak_flops = 0;                ///< FLOP/s (dense, the precision the model runs in)
  double mem_bandwidth = 0;             ///< bytes/s of device memory
  double memory_bytes = std::numeric_limits<double>::infinity();  ///< capacity
  double reserve_bytes = 0;             ///< runtime/workspace reserve, not usable by the model
  double launch_overhead_s = 0;         ///< fixed cost per op (kernel launch, dispatch)
  std::map<OpClass, double> efficiency; ///< fraction of peak reached per op class (default 1)
  std::set<std::string> unsupported_op_types;  ///< op types this device cannot run
  double efficiency_for(OpClass c) const;
  double usable_memory() const { return memory_bytes - reserve_bytes; }
};

/// A communication channel between two devices (both directions, full duplex).
struct Link {
  int a = 0, b = 0;
  double bandwidth = 0;   ///< bytes/s
  double latency_s = 0;   ///< fixed cost per transfer
};

struct Platform {
  std::string name;
  std::string description;
  std::vector<Device> devices;
  std::vector<Link> links;     ///< explicit links; pairs not listed use the defaults below
  Link default_intra_server;   ///< for same-server pairs without an explicit link (a, b unused)
  Link default_inter_server;   ///< for pairs on different servers
  bool free_communication = false;  ///< every transfer costs 0 (identical:N)
  int io_device = -1;          ///< where graph inputs start and outputs must end; -1: I/O is free

  int num_devices() const { return static_cast<int>(devices.size()); }
  /// -1 if absent.
  int device_index(const std::string& name) const;
  /// The link used between k and l (k != l).
  Link link_between(int k, int l) const;
  /// Checks names, positive speeds, links to existing devices, io_device; throws InputError.
  void validate() const;
};

/// Loads a platform from a preset name ("paper-node", "identical:4", ...) or a JSON file path.
Platform load_platform(const std::string& name_or_path);
Platform platform_from_json_text(const std::string& text, const std::string& origin);
std::string platform_to_json_text(const Platform& p);
/// Names of the built-in presets (platforms/*.json embedded at build time, plus identical:N).
std::vector<std::string> platform_preset_names();
/// N identical processors (peak 1 FLOP/s so an op's FLOPs are its seconds), free communication,
/// no I/O cost: the classic task-scheduling setting.
Platform make_identical_platform(int n);

}  // namespace diviml

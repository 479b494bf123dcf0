// The device and link lines under a schedule's summary. On a platform of many servers (an LLM
// cluster has 48 devices) one line per device and per idle link buries the result: by default
// devices are summarised per server and only busy links are listed; --verbose lists everything.
#pragma once

#include <string>
#include <vector>

#include "platform/platform.h"

namespace diviml::cli {

struct DeviceUsage {
  long ops = -1;         ///< ops placed on the device (-1: not shown)
  double busy_s = 0;     ///< compute seconds (per inference, or per period)
  double share = 0;      ///< busy_s / latency (or / period)
  double memory_bytes = 0;
};

struct LinkUsage {
  int from = 0, to = 0;
  double busy_s = 0;
  double share = 0;
  int transfers = 0;
};

/// One line per device (verbose, a single server, or at most 8 devices), else one per server
/// with its busiest device; `per` labels the share ("latency", "period").
void print_device_usage(const Platform& p, const std::vector<DeviceUsage>& use, const std::string& per, bool verbose);
/// Links busy at least 0.1% of the time (all when verbose); on several servers (unless verbose)
/// one line for the links within servers and one for those between, with the busiest of each.
void print_link_usage(const Platform& p, const std::vector<LinkUsage>& links, const std::string& per, bool verbose);

}  // namespace diviml::cli

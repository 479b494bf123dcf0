#include "cli/usage_table.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "platform/units.h"

namespace diviml::cli {

namespace {
std::string ops_cell(long ops) { return ops < 0 ? std::string() : fmt::format("{:>5} ops  ", ops); }
}  // namespace

void print_device_usage(const Platform& p, const std::vector<DeviceUsage>& use, const std::string& per, bool verbose) {
  std::map<int, std::vector<int>> by_server;
  for (int k = 0; k < p.num_devices(); ++k) by_server[p.devices[k].server].push_back(k);
  if (verbose || by_server.size() == 1 || p.num_devices() <= 8) {
    for (int k = 0; k < p.num_devices(); ++k)
      fmt::print("  {:<14} {}busy {:>12} ({:5.1f}% of the {})  memory {:>10}\n", p.devices[k].name, ops_cell(use[k].ops),
                 format_seconds(use[k].busy_s), 100 * use[k].share, per, format_bytes(use[k].memory_bytes));
    return;
  }
  int idle = 0;
  for (const auto& [server, devs] : by_server) {
    long ops = 0;
    double busy = 0, memory = 0;
    int top = devs.front();
    for (int k : devs) {
      ops += std::max(0L, use[k].ops);
      busy += use[k].busy_s;
      memory = std::max(memory, use[k].memory_bytes);
      if (use[k].busy_s > use[top].busy_s) top = k;
    }
    if (busy <= 0) {
      ++idle;
      continue;
    }
    fmt::print("  server {:<3} {} devices  {}busy {:>12} in all, busiest {} ({:5.1f}% of the {})  memory <= {}\n", server,
               devs.size(), ops_cell(use[devs.front()].ops < 0 ? -1 : ops), format_seconds(busy), p.devices[top].name,
               100 * use[top].share, per, format_bytes(memory));
  }
  if (idle) fmt::print("  {} server(s) idle; --verbose lists every device\n", idle);
}

void print_link_usage(const Platform& p, const std::vector<LinkUsage>& links, const std::string& per, bool verbose) {
  auto line = [&](const LinkUsage& l) {
    fmt::print("  link {:>10} -> {:<10} busy {:>12} ({:5.1f}% of the {}), {} transfers\n", p.devices[l.from].name,
               p.devices[l.to].name, format_seconds(l.busy_s), 100 * l.share, per, l.transfers);
  };
  std::map<int, int> servers;
  for (const Device& d : p.devices) servers[d.server] = 1;
  if (verbose || servers.size() == 1 || links.size() <= 8) {
    int quiet = 0;
    for (const LinkUsage& l : links) {
      if (!verbose && l.share < 1e-3) {  // prints as 0.0%
        ++quiet;
        continue;
      }
      line(l);
    }
    if (quiet) fmt::print("  {} link(s) busy less than 0.1% of the {} not shown; --verbose lists them\n", quiet, per);
    return;
  }
  // Many servers: one line for the links inside servers, one for those between, each with its busiest.
  for (const bool inside : {true, false}) {
    const LinkUsage* top = nullptr;
    int busy = 0, quiet = 0;
    long transfers = 0;
    for (const LinkUsage& l : links) {
      if ((p.devices[l.from].server == p.devices[l.to].server) != inside) continue;
      (l.share < 1e-3 ? quiet : busy) += 1;
      transfers += l.transfers;
      if (!top || l.busy_s > top->busy_s) top = &l;
    }
    if (!top) continue;
    fmt::print("  links {} servers: {} busy, {} quiet (< 0.1%), {} transfers; busiest {} -> {} {} ({:.1f}% of the {})\n",
               inside ? "within" : "between", busy, quiet, transfers, p.devices[top->from].name,
               p.devices[top->to].name, format_seconds(top->busy_s), 100 * top->share, per);
  }
  fmt::print("  --verbose lists every device and link\n");
}

}  // namespace diviml::cli

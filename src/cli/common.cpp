#include "cli/common.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/table_options.h"
#include "platform/input_check.h"
#include "platform/units.h"
#include "problem/batch_split.h"

namespace diviml::cli {

void ModelArgs::add(CLI::App* cmd, bool with_platform) {
  cmd->add_option("GRAPH", graph, "model file: .onnx (ONNX IR 3-10, opsets 7-23), .json (diviml graph) or .stg")->required();
  add_table_option(cmd, "granularity", granularity);
  cmd->add_option("--input-shape", input_shapes, "shape of a symbolic ONNX input, name=1x3x224x224 (repeatable)");
  cmd->add_option("--batch", batch, "samples per request: the model (one sample) at batch B (docs/batch.md)")
      ->check(CLI::Range(1, 1 << 20));
  if (!with_platform) return;
  cmd->add_option("-p,--platform", platform, "platform preset (paper-node, modern-node, identical:N, ...) or JSON file")
      ->capture_default_str();
  cmd->add_option("--profile", profile, "CSV op_name,device,seconds overriding the analytic cost model");
  cmd->add_option("--memory", memory_overrides, "override a device's memory, device=SIZE (e.g. gtx1080ti=4GiB; repeatable)");
}

LoadOptions ModelArgs::load_options(std::vector<std::string>* warnings) const {
  LoadOptions o;
  o.granularity = granularity == "op" ? Granularity::Op : Granularity::Fused;
  for (const auto& s : input_shapes) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("--input-shape '{}': expected name=DIMS such as input=1x3x224x224", s));
    o.input_shapes[s.substr(0, eq)] = parse_dims(s.substr(eq + 1), "--input-shape " + s);
  }
  o.warnings = warnings;
  return o;
}

namespace {

std::string device_names(const Platform& p) {
  std::string names;
  for (const Device& d : p.devices) names += (names.empty() ? "" : ", ") + d.name;
  return names;
}

/// --memory DEVICE=SIZE: shrinks one device's memory (a bigger device belongs in a platform JSON).
void apply_memory_override(Platform& p, const std::string& m) {
  const auto eq = m.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(fmt::format("--memory '{}': expected DEVICE=SIZE such as {}=4GiB", m, p.devices.front().name));
  const std::string name = m.substr(0, eq);
  const int k = p.device_index(name);
  if (k < 0)
    throw InputError(
        fmt::format("--memory '{}': platform '{}' has no device '{}' (devices: {})", m, p.name, name, device_names(p)));
  Device& d = p.devices[k];
  const double size = parse_bytes(m.substr(eq + 1), "--memory " + m);
  if (size > d.memory_bytes * (1 + 1e-12))
    throw InputError(fmt::format("--memory '{}': {} is more than the {} that device '{}' has; --memory only "
                                 "shrinks a device (describe a bigger one in a platform JSON)",
                                 m, format_bytes(size), format_bytes(d.memory_bytes), name));
  if (size <= d.reserve_bytes)
    throw InputError(fmt::format("--memory '{}': {} leaves nothing for the model on device '{}', whose runtime "
                                 "reserves {} of it; give more than {}",
                                 m, format_bytes(size), name, format_bytes(d.reserve_bytes), format_bytes(d.reserve_bytes)));
  d.memory_bytes = size;
}

}  // namespace

std::shared_ptr<Graph> ModelArgs::load_graph() const {
  auto g = load_sample();
  return batch > 1 ? graph_at_batch(*g, batch) : g;
}

std::shared_ptr<Graph> ModelArgs::load_sample() const {
  std::vector<std::string> warnings;
  auto g = diviml::load_graph(graph, load_options(&warnings));
  print_warnings(warnings);
  return g;
}

std::shared_ptr<Problem> ModelArgs::load_problem() const {
  // The model as loaded is one sample; --batch costs it at that size (a profile's times per size).
  auto pb = load_sample_problem();
  return batch > 1 ? problem_at_batch(*pb, batch) : pb;
}

std::shared_ptr<Problem> ModelArgs::load_sample_problem() const {
  auto g = load_sample();
  auto p = std::make_shared<Platform>(load_platform(platform));
  for (const auto& m : memory_overrides) apply_memory_override(*p, m);
  p->validate();
  std::vector<std::string> warnings;
  std::unique_ptr<ProfileTable> table;
  if (!profile.empty()) {
    table = std::make_unique<ProfileTable>(ProfileTable::load_csv(profile));
    check_profile(*table, *g, *p, &warnings);
  }
  check_device_times(*g, *p, &warnings);
  auto pb = std::make_shared<Problem>(g, p, table.get(), &warnings);
  print_warnings(warnings);
  return pb;
}

void SolveArgs::add(CLI::App* cmd) {
  add_table_option(cmd, "time_limit", time_limit_s);
  add_table_option(cmd, "threads", threads);
  add_table_option(cmd, "seed", seed);
  add_part_budget(cmd);
  cmd->add_flag("-q,--quiet", quiet, "no progress on stderr");
  cmd->add_flag("-v,--verbose", verbose, "list every device and link (default: by server, busy links only)");
}

void SolveArgs::add_part_budget(CLI::App* cmd) {
  add_table_option(cmd, "max_part_pairs", max_part_pairs);
  add_table_option(cmd, "max_part_ops", max_part_ops);
}

SolveOptions SolveArgs::options() const {
  SolveOptions o;
  o.seed = seed;
  o.time_limit_s = time_limit_s;
  o.threads = threads;
  o.max_part_pairs = max_part_pairs;
  o.max_part_ops = max_part_ops;
  o.interrupt = &interrupt_flag();
  if (!quiet)
    o.progress = [](const Progress& p) {
      // Same units and gap as the result line: latency in us/ms/s, gap relative to the bound.
      const bool has_inc = std::isfinite(p.incumbent) && p.incumbent > 0;
      const bool has_bound = std::isfinite(p.bound) && p.bound > 0;
      fmt::print(stderr, "[{:7.1f} s] {:<14} latency {:<12} bound {:<12} gap {:<8} {} {}\n", p.elapsed_s, p.stage,
                 has_inc ? format_seconds(p.incumbent) : "-", has_bound ? format_seconds(p.bound) : "-",
                 has_inc && has_bound ? fmt::format("{:.1f}%", 100 * std::max(0.0, p.incumbent - p.bound) / p.bound)
                                      : "-",
                 p.counter, p.nodes);
    };
  return o;
}

bool interrupted() { return interrupt_flag().load(); }

void mark_if_interrupted(Schedule& s) {
  if (interrupted() && s.status != SolveStatus::Optimal) s.status = SolveStatus::Interrupted;
}

void require_onnx_model(const std::string& model, const std::string& command) {
  if (model.size() < 5 || model.compare(model.size() - 5, 5, ".onnx") != 0)
    throw InputError(fmt::format("{}: {} needs an .onnx model", model, command));
}

void check_writable(const std::string& path, const std::string& option) {
  if (path.empty() || path == "-") return;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec))
    throw InputError(fmt::format("{} {}: is a directory, not a file", option, path));
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw InputError(fmt::format("{} {}: directory '{}' does not exist", option, path, dir.string()));
  const bool exists = fs::exists(p, ec);
  if (::access(exists ? path.c_str() : dir.c_str(), W_OK) != 0)
    throw InputError(fmt::format("{} {}: cannot write there ({})", option, path, exists ? "file is read-only"
                                                                                          : "directory is not writable"));
}

std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {
extern "C" void on_sigint(int) {
  // A second Ctrl-C kills the process the usual way.
  if (interrupt_flag().exchange(true)) std::_Exit(130);
}
}  // namespace

void install_interrupt_handler() {
  // CBC's CbcMain1 installs its own SIGINT handler, which then swallowed Ctrl-C (split ran to the
  // end, exit 0). So SIGINT is blocked in this thread and every thread started later (the
  // solvers' threads, forked workers) and a watcher thread takes it with sigwait, whatever handler
  // CBC put in place. The handler stays for any thread started before (none in practice).
  static std::once_flag once;
  std::call_once(once, [] {
    std::signal(SIGINT, on_sigint);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) == 0 && sig == SIGINT) on_sigint(sig);
      }
    }).detach();
  });
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) fmt::print(stderr, "warning: {}\n", w);
}

std::vector<int64_t> parse_dims(const std::string& s, const std::string& what) {
  std::vector<int64_t> dims;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('x', i);
    if (j == std::string::npos) j = s.size();
    const std::string d = s.substr(i, j - i);
    if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos || d.size() > 12)
      throw InputError(fmt::format("{}: '{}' is not a list of positive integers like 1x3x224x224", what, s));
    const int64_t v = std::stoll(d);
    if (v <= 0) throw InputError(fmt::format("{}: dimension {} must be positive", what, v));
    dims.push_back(v);
    i = j + 1;
  }
  return dims;
}

double parse_bytes(const std::string& s, const std::string& what) {
  static const std::pair<const char*, double> units[] = {
      {"TiB", 1099511627776.0}, {"GiB", 1073741824.0}, {"MiB", 1048576.0}, {"KiB", 1024.0},
      {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}};
  double scale = 1;
  std::string num = s;
  for (const auto& [u, f] : units) {
    const std::string us(u);
    if (num.size() > us.size() && num.compare(num.size() - us.size(), us.size(), us) == 0) {
      num = num.substr(0, num.size() - us.size());
      scale = f;
      break;
    }
  }
  const std::optional<double> parsed = parse_number(num);
  if (!parsed) throw InputError(fmt::format("{}: '{}' is not a size like 8GiB, 500MB or 1e9", what, s));
  const double v = *parsed;
  if (!(v > 0) || !std::isfinite(v)) throw InputError(fmt::format("{}: size must be positive", what));
  return v * scale;
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw InputError(fmt::format("{}: cannot write file", path));
  out << text;
  out.close();
  if (!out) throw InputError(fmt::format("{}: error while writing", path));
}

}  // namespace diviml::cli

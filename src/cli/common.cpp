#include "cli/common.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "problem/batch_split.h"

namespace diviml::cli {

void ModelArgs::add(CLI::App* cmd, bool with_platform) {
  cmd->add_option("GRAPH", graph, "model file: .onnx (ONNX IR 3-10, opsets 7-23), .json (diviml graph) or .stg")->required();
  cmd->add_option("--granularity", granularity, "ONNX granularity: fused (default) or op")
      ->check(CLI::IsMember({"fused", "op"}));
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

std::shared_ptr<Graph> ModelArgs::load_graph() const {
  std::vector<std::string> warnings;
  auto g = diviml::load_graph(graph, load_options(&warnings));
  print_warnings(warnings);
  return batch > 1 ? graph_at_batch(*g, batch) : g;
}

std::shared_ptr<Problem> ModelArgs::load_problem() const {
  auto g = load_graph();
  auto p = std::make_shared<Platform>(load_platform(platform));
  for (const auto& m : memory_overrides) {
    const auto eq = m.find('=');
    const int k = eq == std::string::npos ? -1 : p->device_index(m.substr(0, eq));
    if (k < 0) throw InputError(fmt::format("--memory '{}': expected DEVICE=SIZE with a device of '{}'", m, p->name));
    p->devices[k].memory_bytes = parse_bytes(m.substr(eq + 1), "--memory " + m);
  }
  p->validate();
  std::vector<std::string> warnings;
  std::unique_ptr<ProfileTable> table;
  if (!profile.empty()) table = std::make_unique<ProfileTable>(ProfileTable::load_csv(profile));
  auto pb = std::make_shared<Problem>(g, p, table.get(), &warnings);
  print_warnings(warnings);
  return pb;
}

void SolveArgs::add(CLI::App* cmd) {
  cmd->add_option("--time-limit", time_limit_s, "seconds for the whole solve (MILP, split)")
      ->check(CLI::Range(1e-3, 1e7))
      ->capture_default_str();
  cmd->add_option("--threads", threads, "solver threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--seed", seed, "random seed (random method, community detection)")->capture_default_str();
  cmd->add_option("--max-part-pairs", max_part_pairs, "split: budget of incomparable op pairs per MILP part")
      ->check(CLI::Range(1L, 1000000L))
      ->capture_default_str();
  cmd->add_option("--max-part-ops", max_part_ops, "split: budget of ops per part (overrides --max-part-pairs)")
      ->check(CLI::Range(0, 100000));
  cmd->add_flag("-q,--quiet", quiet, "no progress on stderr");
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
      const bool has_bound = std::isfinite(p.bound) && p.bound > 0;
      fmt::print(stderr, "[{:7.1f}s] {:<14} incumbent {:<12} bound {:<12} gap {:<8} nodes {}\n", p.elapsed_s,
                 p.stage, std::isfinite(p.incumbent) ? fmt::format("{:.6g}s", p.incumbent) : "-",
                 has_bound ? fmt::format("{:.6g}s", p.bound) : "-",
                 has_bound && std::isfinite(p.gap) ? fmt::format("{:.2f}%", 100 * p.gap) : "-", p.nodes);
    };
  return o;
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

void install_interrupt_handler() { std::signal(SIGINT, on_sigint); }

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
  double v = 0;
  try {
    size_t pos = 0;
    v = std::stod(num, &pos);
    if (pos != num.size()) throw std::invalid_argument(num);
  } catch (const std::exception&) {
    throw InputError(fmt::format("{}: '{}' is not a size like 8GiB, 500MB or 1e9", what, s));
  }
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

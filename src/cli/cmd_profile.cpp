// `diviml profile MODEL --device NAME=PROVIDER[:threads]... -o profile.csv [--calibrate out.json]`:
// measure every op on real devices with ONNX Runtime's profiler (runtime/profile.js), map the
// kernels to diviml's ops and write the CSV that `--profile` reads (docs/deploy.md).
#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/runtime_launch.h"
#include "frontend/onnx_op_rules.h"
#include "platform/calibrate.h"
#include "report/latency_report.h"
#include "problem/batch_rule.h"
#include "report/batch_partition.h"
#include "report/partition.h"

namespace diviml::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct ProfileArgs {
  ModelArgs model;
  std::vector<std::string> devices;
  std::string out, calibrate, platform, work_dir, runtime_dir;
  int runs = 10, warmup = 2;
  std::vector<int> batch_sizes;  ///< --batch-sizes (empty: --batch alone)
  std::optional<long> random_weights;
  bool no_pin = false;
};

/// ONNX Runtime names a kernel after its node, or (when a graph optimisation rewrote or fused
/// nodes) after the fused group's output tensor, with a layout suffix such as "_nchwc".
class KernelNames {
 public:
  explicit KernelNames(const std::string& model_path) {
    const onnx::ModelProto m = onnx_rules::read_model(model_path);
    const auto names = onnx_rules::unique_node_names(m.graph());
    for (int i = 0; i < m.graph().node_size(); ++i) {
      nodes_.emplace(names[static_cast<size_t>(i)], names[static_cast<size_t>(i)]);
      for (const auto& o : m.graph().node(i).output()) producer_.emplace(o, names[static_cast<size_t>(i)]);
    }
  }
  /// The ONNX node a kernel ran, or "" when it is one ORT added (layout reorders).
  std::string node_of(const std::string& kernel) const {
    for (std::string k : {kernel, strip(kernel)}) {
      if (auto it = nodes_.find(k); it != nodes_.end()) return it->second;
      if (auto it = producer_.find(k); it != producer_.end()) return it->second;
    }
    return {};
  }

 private:
  static std::string strip(const std::string& s) {
    for (const char* suffix : {"_nchwc", "_fused"})
      if (s.size() > std::strlen(suffix) && s.compare(s.size() - std::strlen(suffix), std::strlen(suffix), suffix) == 0)
        return s.substr(0, s.size() - std::strlen(suffix));
    return s;
  }
  std::unordered_map<std::string, std::string> nodes_, producer_;
};

/// Writes `model` cut into segments alternating between devices a and b at up to kCuts points
/// (evenly spread over the topological order) where exactly one tensor is live across the cut.
/// False when the model has no such point.
bool write_chain_plan(const std::string& model, const Graph& g, const std::string& a, const std::string& b,
                      const std::string& dir, const PartitionOptions& po) {
  constexpr int kCuts = 6;
  const auto& topo = g.topo_order();
  const size_t n = topo.size();
  std::vector<size_t> pos(static_cast<size_t>(g.num_ops()));
  for (size_t i = 0; i < n; ++i) pos[static_cast<size_t>(topo[i])] = i;
  // live[i]: tensors produced at or before position i and read after it.
  std::vector<int> delta(n + 1, 0);
  for (const Tensor& t : g.tensors) {
    if (t.producer == kNoOp || t.consumers.empty()) continue;
    size_t last = 0;
    for (OpId c : t.consumers) last = std::max(last, pos[static_cast<size_t>(c)]);
    const size_t p = pos[static_cast<size_t>(t.producer)];
    if (last > p) {
      ++delta[p];
      --delta[last];
    }
  }
  std::vector<size_t> single;
  int live = 0;
  for (size_t i = 0; i + 1 < n; ++i) {
    live += delta[i];
    if (live == 1) single.push_back(i);
  }
  if (single.empty()) return false;
  std::vector<size_t> cuts;
  for (int k = 1; k <= kCuts; ++k) {
    const size_t want = n * static_cast<size_t>(k) / (kCuts + 1);
    const auto it = std::lower_bound(single.begin(), single.end(), want);
    if (it != single.end() && (cuts.empty() || *it > cuts.back())) cuts.push_back(*it);
  }
  SchedulePlacements sp;
  sp.graph = g.name;
  sp.platform = "profile-chain";
  size_t next_cut = 0;
  bool on_a = true;
  for (size_t i = 0; i < n; ++i) {
    const Op& op = g.ops[static_cast<size_t>(topo[i])];
    const double t = static_cast<double>(i);
    sp.ops.push_back({op.name, on_a ? a : b, t, t + 1, op.fused});
    if (next_cut < cuts.size() && cuts[next_cut] == i) {
      on_a = !on_a;
      ++next_cut;
    }
  }
  partition_onnx(model, sp, "(profile chain)", dir, po);
  return true;
}

/// Per device and op, seconds of one profiled run of a plan directory: its kernels only (what the
/// roofline models, for --calibrate), and with the share of the run outside kernels (the CSV, so
/// that the ops add up to the measured whole run). Prints one summary line per device.
struct OpTimes {
  std::map<std::string, std::map<std::string, double>> measured, kernel_only;
};

OpTimes attribute_kernels(const json& raw, const std::string& plan_dir, const Graph& g, int runs,
                          const std::string& at) {
  const KernelNames names((fs::path(plan_dir) / "whole.onnx").string());
  std::unordered_map<std::string, std::string> op_of_node;
  for (const Op& op : g.ops) {
    if (op.fused.empty()) op_of_node[op.name] = op.name;
    for (const auto& f : op.fused) op_of_node[f] = op.name;
  }
  OpTimes t;
  for (const auto& d : raw["devices"]) {
    const std::string dev = d["name"];
    auto& m = t.measured[dev];
    std::string last_op;
    double unattributed = 0;
    size_t kernels = 0;
    for (const auto& k : d["kernels"]) {
      const std::string node = names.node_of(k["name"]);
      auto it = op_of_node.find(node);
      const double s = k["seconds"];
      ++kernels;
      if (it == op_of_node.end()) {
        unattributed += s;
        if (!last_op.empty()) m[last_op] += s;
        continue;
      }
      m[it->second] += s;
      last_op = it->second;
    }
    // Medians per kernel do not add up to the median run (noise is skewed); the share outside
    // kernels is what makes the ops add up to the measured whole-model latency.
    const double wall = d["wall_s"], ksum = d["kernel_sum_s"];
    double attributed = 0;
    for (const auto& [op, s] : m) attributed += s;
    const double share = m.empty() ? 0 : std::max(0.0, wall - attributed) / static_cast<double>(m.size());
    t.kernel_only[dev] = m;
    for (auto& [op, s] : m) s += share;
    fmt::print("{}{} ({}:{}, {}): whole model {} median of {} runs; kernels: median run {}, sum of medians {}; {} kernels "
               "on {} of {} ops ({} in kernels ORT added), {} per op outside kernels\n",
               dev, at, d["provider"].get<std::string>(), d["threads"].get<int>(), d["affinity"].get<std::string>(),
               format_seconds(wall), runs, format_seconds(ksum), format_seconds(attributed), kernels, m.size(),
               g.num_ops(), format_seconds(unattributed), format_seconds(share));
  }
  return t;
}

void print_errors(const char* title, const std::vector<ClassError>& errs) {
  fmt::print("  {}:", title);
  for (size_t i = 0; i < errs.size(); ++i) {
    const auto& e = errs[i];
    fmt::print(" {} {:.0f}%/{:.0f}% (n={})", i + 1 == errs.size() ? "all" : std::string(to_string(e.op_class)),
               100 * e.median, 100 * e.p90, e.ops);
  }
  fmt::print("   [median/p90 relative error]\n");
}

}  // namespace

void add_profile_command(CLI::App& app) {
  auto a = std::make_shared<ProfileArgs>();
  CLI::App* cmd = app.add_subcommand(
      "profile", "measure every op on real devices with ONNX Runtime's profiler and write a profile CSV for --profile");
  a->model.add(cmd, /*with_platform=*/false);
  cmd->add_option("--device", a->devices, "NAME=PROVIDER[:threads] (repeatable), e.g. cpu0=cpu:1 cpu1=cpu:1")->required();
  cmd->add_option("-o,--out", a->out, "profile CSV to write (op_name,device,seconds)")->required();
  cmd->add_option("--runs", a->runs, "profiled runs per device (medians are written)")->check(CLI::Range(1, 10000));
  cmd->add_option("--warmup", a->warmup, "runs before measuring")->check(CLI::Range(0, 10000));
  cmd->add_option("--batch-sizes", a->batch_sizes,
                  "profile the model at each of these batch sizes, e.g. 1,4,16 (the CSV gets a batch column; "
                  "--batch B alone profiles at B)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1048576));
  cmd->add_option("--random-weights", a->random_weights, "seed: deterministic random weights when the model's are absent");
  cmd->add_option("--calibrate", a->calibrate, "also fit the roofline's per-class efficiencies and write this platform JSON");
  cmd->add_option("-p,--platform", a->platform, "platform to calibrate (default local-cpu:N, N = number of --device)");
  cmd->add_option("--work-dir", a->work_dir, "where to keep the runnable model and raw measurements (default: a temp dir)");
  cmd->add_option("--runtime-dir", a->runtime_dir, "the runtime/ folder holding profile.js (default: found automatically)");
  cmd->add_flag("--no-pin", a->no_pin, "do not pin CPU devices to distinct cores");
  cmd->footer(
      "Each op's time is the median over runs of its kernels' times (fused groups add their nodes; kernels\n"
      "ONNX Runtime adds, such as layout reorders, count for the op before them) plus an equal share of the\n"
      "median run's time not in those medians, so that the ops add up to the measured latency of the whole model.");
  cmd->callback([a, cmd] {
    const std::string& model = a->model.graph;
    require_onnx_model(model, "profile");
    const std::string rt = find_runtime_dir(a->runtime_dir, "profile.js");
    std::vector<std::string> dev_names;
    for (const auto& d : a->devices) {
      const auto eq = d.find('=');
      if (eq == std::string::npos || eq == 0) throw InputError(fmt::format("--device '{}': expected NAME=PROVIDER[:threads]", d));
      dev_names.push_back(d.substr(0, eq));
    }
    std::vector<std::string> warnings;
    const auto g = a->model.load_sample();  // the op names the CSV uses, at every batch size
    std::vector<int> sizes = a->batch_sizes.empty() ? std::vector<int>{a->model.batch} : a->batch_sizes;
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    // The batch column whenever a size other than the model as loaded is asked for.
    const bool batch_column = !a->batch_sizes.empty() || a->model.batch > 1;

    // A runnable copy of the whole model (and its weights) through the partitioner: one device.
    const bool temp = a->work_dir.empty();
    const std::string work = temp ? (fs::temp_directory_path() / fmt::format("diviml-profile-{}-{}", ::getpid(), std::random_device{}())).string()
                                  : a->work_dir;
    struct Cleanup {
      std::string dir;
      bool on;
      ~Cleanup() {
        std::error_code ec;
        if (on) fs::remove_all(dir, ec);
      }
    } cleanup{work, temp};
    SchedulePlacements sp;
    sp.graph = g->name;
    sp.platform = "profile";
    for (OpId v : g->topo_order()) {
      const double t = static_cast<double>(sp.ops.size());
      sp.ops.push_back({g->ops[v].name, "profile", t, t + 1, g->ops[v].fused});
    }
    PartitionOptions po;
    LoadOptions lo = a->model.load_options(&warnings);
    if (cmd->count("--granularity") > 0) po.granularity = lo.granularity;
    po.input_shapes = lo.input_shapes;

    std::ofstream csv(a->out, std::ios::trunc);
    if (!csv) throw InputError(fmt::format("{}: cannot write", a->out));
    csv << (batch_column ? "op_name,device,batch,seconds\n" : "op_name,device,seconds\n");
    json first_raw;
    OpTimes first;
    for (size_t si = 0; si < sizes.size(); ++si) {
      const int b = sizes[si];
      // At b > 1 the model is rewritten with axis 0 of its inputs and outputs at b and cut from
      // there (its weights read where the model keeps them).
      std::string plan_dir = work, runnable = model;
      PartitionOptions pob = po;
      if (b > 1) {
        plan_dir = (fs::path(work) / fmt::format("batch{}", b)).string();
        runnable = (fs::path(work) / fmt::format("model.batch{}.onnx", b)).string();
        fs::create_directories(work);
        write_model_at_batch(model, b, po.input_shapes, runnable);
        pob.input_shapes.clear();
        pob.external_data_dir = fs::absolute(fs::path(model)).parent_path().string();
      }
      partition_onnx(runnable, sp, "(profile)", plan_dir, pob);
      const std::string raw_file = (fs::path(plan_dir) / "profile_raw.json").string();
      std::vector<std::string> args{plan_dir, "--out", raw_file, "--runs", std::to_string(a->runs), "--warmup", std::to_string(a->warmup)};
      // The same model cut where exactly one tensor crosses, into segments that alternate between
      // two devices: run against the whole model, it measures what a cut costs (profile.js). The
      // links are measured once, with the first size.
      if (dev_names.size() >= 2 && si == 0) {
        const std::string chain = (fs::path(work) / "chain").string();
        try {
          if (b == 1 && write_chain_plan(model, *g, dev_names[0], dev_names[1], chain, po))
            args.insert(args.end(), {"--chain", chain});
          else if (b == 1)
            fmt::print("note: no point where one tensor alone is live; the cost of a cut is not measured\n");
          else
            fmt::print("note: the cost of a cut is measured at batch 1 only (not asked for here)\n");
        } catch (const InputError& e) {  // the hand-over is still measured; the link then has no dispatch term
          fmt::print("note: cannot cut the model into a chain ({}); the cost of a cut is not measured\n", e.what());
        }
      }
      for (const auto& d : a->devices) args.insert(args.end(), {"--device", d});
      if (a->random_weights) args.insert(args.end(), {"--random-weights", std::to_string(*a->random_weights)});
      if (a->no_pin) args.push_back("--no-pin");
      if (const int rc = run_node_script(rt, "profile.js", args); rc != 0) {
        std::fflush(stdout);
        std::exit(rc);  // profile.js printed the reason
      }
      json raw = json::parse(read_file_text(raw_file));
      OpTimes times = attribute_kernels(raw, plan_dir, *g, a->runs, batch_column ? fmt::format(" at batch {}", b) : "");
      for (auto& [dev, m] : times.measured)
        for (const Op& op : g->ops) {
          csv << op.name << "," << dev << ",";
          if (batch_column) csv << b << ",";
          csv << fmt::format("{:.9g}", m.count(op.name) ? m[op.name] : 0.0) << "\n";
        }
      if (si == 0) {
        first_raw = std::move(raw);
        first = std::move(times);
      }
    }
    const json& raw = first_raw;
    auto& measured = first.measured;
    auto& kernel_only = first.kernel_only;
    if (!csv) throw InputError(fmt::format("{}: error while writing", a->out));
    fmt::print("profile: {} ({} ops x {} devices{})\n", a->out, g->num_ops(), measured.size(),
               batch_column ? fmt::format(" x batch sizes {}", fmt::join(sizes, ",")) : "");
    std::optional<Link> link;
    if (raw.contains("transfers")) {
      std::vector<HandoverSample> samples;
      for (const auto& s : raw["transfers"]["samples"]) samples.push_back({s["bytes"].get<double>(), s["seconds"].get<double>()});
      link = fit_handover(samples);
      fmt::print("hand-over between device workers (medians):");
      for (const auto& s : samples) fmt::print(" {}: {}", format_bytes(s.bytes), format_seconds(s.seconds));
      fmt::print("\n  fit (monotone): {} + bytes / {:.2f} GB/s\n", format_seconds(link->latency_s), link->bandwidth / 1e9);
      if (raw.contains("cuts")) {
        const auto& c = raw["cuts"];
        const double per_cut = c["per_cut_s"].get<double>(), bytes = c["bytes_per_cut"].get<double>();
        fmt::print("cost of a cut: whole model {}, cut {} times between devices ({} segments, {} per cut on average) "
                   "{}: {} per cut\n",
                   format_seconds(c["whole_s"].get<double>()), c["cuts"].get<int>(), c["segments"].get<int>(),
                   format_bytes(bytes), format_seconds(c["chain_s"].get<double>()), format_seconds(per_cut));
        const double dispatch = segment_dispatch_s(*link, per_cut, bytes);
        link = link_with_dispatch(*link, dispatch);
        fmt::print("  one segment more: {}; link: {} + bytes / {:.2f} GB/s (hand-over + a segment on each side)\n",
                   format_seconds(dispatch), format_seconds(link->latency_s), link->bandwidth / 1e9);
      }
    }
    fmt::print("load average: {:.2f} before, {:.2f} after\n", raw["load_average_before"][0].get<double>(),
               raw["load_average_after"][0].get<double>());

    if (a->calibrate.empty()) return;
    Platform p = load_platform(a->platform.empty() ? fmt::format("local-cpu:{}", dev_names.size()) : a->platform);
    // The roofline is fitted to the first size's kernels, on the graph at that size.
    const auto g_cal = sizes.front() > 1 ? graph_at_batch(*g, sizes.front()) : g;
    if (sizes.size() > 1) fmt::print("calibrating against the kernels at batch {}\n", sizes.front());
    for (const auto& n : dev_names) {
      const int k = p.device_index(n);
      if (k < 0) throw InputError(fmt::format("--calibrate: platform '{}' has no device '{}'", p.name, n));
      fmt::print("{}: roofline against the measured kernel times\n", n);
      print_errors("before", roofline_errors(*g_cal, p.devices[static_cast<size_t>(k)], kernel_only[n]));
      p.devices[static_cast<size_t>(k)] = calibrate_device(*g_cal, p.devices[static_cast<size_t>(k)], kernel_only[n]);
      print_errors("after ", roofline_errors(*g_cal, p.devices[static_cast<size_t>(k)], kernel_only[n]));
    }
    if (link) {
      p.default_intra_server.bandwidth = link->bandwidth;
      p.default_intra_server.latency_s = link->latency_s;
      p.default_inter_server = p.default_intra_server;
      p.links.clear();
    }
    p.name = p.name + " (calibrated)";
    p.description = fmt::format("{} calibrated by `diviml profile` on {}", p.description, model);
    write_text_file(a->calibrate, platform_to_json_text(p) + "\n");
    fmt::print("platform: {}\n", a->calibrate);
  });
}

}  // namespace diviml::cli

// The front door (include/diviml/diviml.h) over the library: loads, runs a method through the
// registries, scores with the simulator and the bounds, and copies everything into plain
// result structs. Exceptions stop here: each call returns a CallStatus.
#include "diviml/diviml.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

#include "api/options_table.h"
#include "frontend/load_graph.h"
#include "problem/problem.h"
#include "report/latency_report.h"
#include "schedule/simulator.h"
#include "schedule/throughput.h"
#include "solvers/bounds/bounds.h"
#include "solvers/milp/milp_settings.h"
#include "solvers/solver.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml::api {

const char* to_string(CallStatus s) {
  switch (s) {
    case CallStatus::Ok: return "ok";
    case CallStatus::Warning: return "warning";
    case CallStatus::Error: return "error";
  }
  return "?";
}

const char* to_string(ModelStatus s) {
  switch (s) {
    case ModelStatus::NotRun: return "not_run";
    case ModelStatus::Optimal: return "optimal";
    case ModelStatus::Feasible: return "feasible";
    case ModelStatus::Heuristic: return "heuristic";
    case ModelStatus::TimeLimit: return "time_limit";
    case ModelStatus::Interrupted: return "interrupted";
    case ModelStatus::Infeasible: return "infeasible";
  }
  return "?";
}

const char* to_string(Objective o) { return o == Objective::Latency ? "latency" : "throughput"; }

const char* to_string(OptionType t) {
  switch (t) {
    case OptionType::Bool: return "bool";
    case OptionType::Int: return "int";
    case OptionType::Double: return "double";
    case OptionType::String: return "string";
  }
  return "?";
}

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// A method's failure to find any schedule (memory, latency cap): data, reported as Infeasible.
struct NoSchedule : std::runtime_error {
  using std::runtime_error::runtime_error;
};

ModelStatus model_status_of(SolveStatus s) {
  switch (s) {
    case SolveStatus::Optimal: return ModelStatus::Optimal;
    case SolveStatus::Feasible: return ModelStatus::Feasible;
    case SolveStatus::Heuristic: return ModelStatus::Heuristic;
    case SolveStatus::TimeLimit: return ModelStatus::TimeLimit;
    case SolveStatus::Interrupted: return ModelStatus::Interrupted;
  }
  return ModelStatus::Heuristic;
}

/// The API's view of a throughput method: the flags come from the throughput table itself.
MethodInfo throughput_flags(const ThroughputMethodInfo& t) {
  MethodInfo m;
  m.name = t.name;
  m.objective = Objective::Throughput;
  m.description = t.description;
  m.exact = t.exact;
  m.uses_milp = t.uses_milp;
  m.randomised = t.randomised;
  m.in_compare = t.default_in_compare;
  return m;
}

}  // namespace

struct Diviml::Impl {
  std::shared_ptr<Graph> graph;
  std::shared_ptr<Platform> platform;
  std::map<std::string, std::vector<int64_t>> input_shapes;
  OptionValues options = default_option_values();
  Observer observer;
  std::atomic<bool> stop{false};
  Result result;
  std::string error;
  std::vector<std::string> warnings;

  template <class T>
  T get(const std::string& name) const {
    return std::get<T>(options.at(name));
  }

  /// Runs `f`, turning every exception into CallStatus::Error and its message.
  /// Calls that load or run (with_warnings) start a fresh warnings list and return Warning when
  /// it is not empty.
  template <class F>
  CallStatus guard(F&& f, bool with_warnings = false) {
    error.clear();
    if (with_warnings) warnings.clear();
    try {
      f();
      return with_warnings && !warnings.empty() ? CallStatus::Warning : CallStatus::Ok;
    } catch (const InputError& e) {
      error = e.what();
    } catch (const ScheduleError& e) {
      error = std::string("invalid schedule: ") + e.what();
    } catch (const NoSchedule& e) {
      error = e.what();
    } catch (const std::bad_alloc&) {
      error = "out of memory";
    } catch (const std::exception& e) {
      error = std::string("internal error: ") + e.what();
    }
    return CallStatus::Error;
  }

  SolveOptions solve_options() {
    SolveOptions o;
    o.seed = static_cast<uint64_t>(get<int64_t>("seed"));
    o.time_limit_s = get<double>("time_limit");
    o.threads = static_cast<int>(get<int64_t>("threads"));
    o.max_part_pairs = static_cast<long>(get<int64_t>("max_part_pairs"));
    o.max_part_ops = static_cast<int>(get<int64_t>("max_part_ops"));
    o.interrupt = &stop;
    o.progress = [this](const Progress& p) {
      ++result.stats.progress_reports;
      result.stats.milp_nodes = std::max(result.stats.milp_nodes, p.nodes);
      if (!observer) return;
      ProgressInfo info{p.elapsed_s, p.incumbent, p.bound, p.gap, p.nodes, p.stage};
      if (!observer(info)) stop = true;
    };
    return o;
  }

  void fill_ops(const Problem& pb, const std::vector<int>& device) {
    const Graph& g = pb.graph();
    const auto& devs = pb.platform().devices;
    result.ops.resize(g.num_ops());
    for (OpId v = 0; v < g.num_ops(); ++v) {
      OpResult& r = result.ops[v];
      r.index = v;
      r.name = g.ops[v].name;
      r.source_nodes = g.ops[v].fused;
      r.device_index = device[v];
      r.device = devs[device[v]].name;
      result.placement[r.name] = r.device;
      if (r.source_nodes.empty())
        result.node_placement[r.name] = r.device;
      else
        for (const auto& n : r.source_nodes) result.node_placement[n] = r.device;
    }
  }

  /// f(), its wall-clock seconds stored in `seconds`.
  template <class F>
  static auto timed(double& seconds, F&& f) {
    const auto t0 = clock_type::now();
    auto r = f();
    seconds = seconds_since(t0);
    return r;
  }
  /// f(); an input the method rejects (infeasible, too large) becomes NoSchedule.
  template <class F>
  static auto no_schedule_on_input_error(F&& f) {
    try {
      return f();
    } catch (const InputError& e) {
      throw NoSchedule(e.what());
    }
  }

  void run_latency(const Problem& pb, const std::string& method, const SolveOptions& so) {
    const Schedule s = timed(result.stats.solve_seconds, [&] {
      return no_schedule_on_input_error([&] { return solve_latency(pb, method, so); });
    });
    // The bound policy of every diviml command (reproducible unless bound_milp_time > 0).
    const LatencyBounds b = timed(result.stats.bound_seconds, [&] {
      return reported_latency_bounds(pb, BoundLevel::Series, so.threads, get<double>("bound_milp_time"));
    });
    const LatencyEvaluation e = timed(result.stats.evaluate_seconds, [&] { return evaluate_latency(pb, s, b); });

    // As in the CLI (schedule, compare): any method whose makespan meets the certified bound is optimal.
    result.status = model_status_of(certified_status(s.status, e));
    result.makespan_s = e.makespan;
    result.makespan_contention_s = e.makespan_contention;
    result.lower_bound_s = e.lower_bound;
    result.gap = e.gap;
    result.stats.claimed_objective = std::isfinite(s.claimed_makespan) ? s.claimed_makespan : 0;
    result.bounds = {b.critical_path, b.critical_path_comm, b.load_balance, b.module_milp, b.decomposition,
                     b.best, std::isfinite(s.lower_bound) ? s.lower_bound : 0, b.modules};
    fill_ops(pb, s.device);
    for (int k = 0; k < pb.num_devices(); ++k)
      for (size_t i = 0; i < s.order[k].size(); ++i) result.ops[s.order[k][i]].position = static_cast<int>(i);
    for (OpId v = 0; v < pb.num_ops(); ++v) {
      result.ops[v].start_s = e.sim.start[v];
      result.ops[v].finish_s = e.sim.finish[v];
    }
    for (int k = 0; k < pb.num_devices(); ++k) {
      DeviceResult d;
      d.name = pb.platform().devices[k].name;
      d.ops = static_cast<int>(s.order[k].size());
      d.busy_s = e.sim.device_busy[k];
      d.utilisation = e.makespan > 0 ? d.busy_s / e.makespan : 0;
      d.memory_bytes = e.sim.memory[k].weight_bytes + e.sim.memory[k].peak_activation_bytes;
      d.memory_capacity_bytes = e.sim.memory[k].capacity_bytes;
      result.devices.push_back(d);
    }
    result.memory_violations = e.sim.memory_violations;
  }

  void run_throughput(const Problem& pb, const std::string& method, const SolveOptions& so) {
    ThroughputOptions to;
    to.replicas = static_cast<int>(get<int64_t>("replicas"));
    to.max_latency_s = get<double>("max_latency");
    to.solve = so;
    const ThroughputSchedule s = timed(result.stats.solve_seconds, [&] {
      return no_schedule_on_input_error([&] { return solve_throughput(pb, method, to); });
    });
    const ThroughputBound b = timed(result.stats.bound_seconds, [&] { return throughput_bound(pb); });
    const auto t2 = clock_type::now();
    const ThroughputAnalysis a = analyze_throughput(pb, s);
    PipelineOptions po;
    po.inferences = static_cast<int>(get<int64_t>("inferences"));
    po.contention = true;
    const PipelineResult periodic = simulate_pipeline(pb, s, po);
    po.dispatch = Dispatch::Greedy;
    const PipelineResult greedy = simulate_pipeline(pb, s, po);
    result.stats.evaluate_seconds = seconds_since(t2);
    if (!std::isnan(s.claimed_period) && a.period_s > s.claimed_period * (1 + 1e-6) + 1e-15)
      throw std::logic_error(fmt::format("{}: analytic period {} exceeds the solver's claim {}", s.method, a.period_s,
                                         s.claimed_period));

    result.status = model_status_of(s.status);
    const double per_inf = a.period_s / s.replicas;
    result.makespan_s = per_inf;
    result.lower_bound_s = b.best;
    result.gap = b.best > 0 ? std::max(0.0, (per_inf - b.best) / b.best) : std::nan("");  // no bound: unknown
    result.stats.claimed_objective = std::isfinite(s.claimed_period) ? s.claimed_period : 0;
    ThroughputResult& t = result.throughput;
    t.replicas = s.replicas;
    t.period_s = a.period_s;
    t.throughput_per_s = a.throughput_per_s;
    t.bound_per_s = b.throughput_upper_per_s();
    t.measured_throughput_per_s = periodic.throughput_per_s;
    t.latency_mean_s = greedy.latency_mean_s;
    t.bottleneck = a.bottleneck;
    const auto& devs = pb.platform().devices;
    for (const auto& rep : s.device) {
      std::vector<std::string> names;
      for (int k : rep) names.push_back(devs[k].name);
      t.replica_devices.push_back(std::move(names));
    }
    fill_ops(pb, s.device.at(0));
    for (int k = 0; k < pb.num_devices(); ++k) {
      DeviceResult d;
      d.name = devs[k].name;
      for (const auto& rep : s.device)
        for (int x : rep) d.ops += x == k;
      d.busy_s = a.device_seconds[k];
      d.utilisation = a.device_utilisation[k];
      d.memory_bytes = a.memory[k].weight_bytes + a.memory[k].peak_activation_bytes;
      d.memory_capacity_bytes = a.memory[k].capacity_bytes;
      result.devices.push_back(d);
    }
    result.memory_violations = a.memory_violations;
  }

  /// The method to run: the argument, else option `method`, else the objective's default; an
  /// unknown name is an error listing the objective's methods.
  std::string resolve_method(Objective obj, const std::string& arg) const {
    std::string m = arg.empty() ? get<std::string>("method") : arg;
    if (m.empty()) m = obj == Objective::Latency ? "heft" : "heft-pipeline";
    if (obj == Objective::Latency && m.rfind("device:", 0) == 0) return m;
    std::vector<std::string> names;
    for (const MethodInfo& x : Diviml::methods())
      if (x.objective == obj) {
        if (x.name == m) return m;
        names.push_back(x.name);
      }
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InputError(fmt::format("unknown {} method '{}' (valid: {}{})", to_string(obj), m, list,
                                 obj == Objective::Latency ? ", device:NAME" : ""));
  }

  void run(Objective obj, const std::string& method_arg) {
    const auto t0 = clock_type::now();
    result = Result{};
    result.objective = obj;
    const std::string method = resolve_method(obj, method_arg);
    result.method = method;
    if (!graph) throw InputError("no graph: call read_model() or pass_graph() before run()");
    if (!platform) platform = std::make_shared<Platform>(load_platform("paper-node"));
    const Problem pb(graph, platform, nullptr, &warnings);
    result.stats.num_ops = pb.num_ops();
    result.stats.num_devices = pb.num_devices();
    stop = false;
    const milp::ScopedMilpSettings scoped(milp_settings(options));
    const SolveOptions so = solve_options();
    try {
      if (obj == Objective::Latency)
        run_latency(pb, method, so);
      else
        run_throughput(pb, method, so);
    } catch (const NoSchedule&) {
      result.status = ModelStatus::Infeasible;
      throw;
    }
    if (stop) result.status = ModelStatus::Interrupted;
    for (const auto& m : result.memory_violations) warnings.push_back("memory: " + m);
    result.stats.total_seconds = seconds_since(t0);
  }
};

Diviml::Diviml() : impl_(std::make_unique<Impl>()) {}
Diviml::~Diviml() = default;
Diviml::Diviml(Diviml&&) noexcept = default;
Diviml& Diviml::operator=(Diviml&&) noexcept = default;

CallStatus Diviml::read_model(const std::string& path) {
  return impl_->guard([&] {
    LoadOptions lo;
    lo.granularity = impl_->get<std::string>("granularity") == "op" ? Granularity::Op : Granularity::Fused;
    lo.input_shapes = impl_->input_shapes;
    lo.warnings = &impl_->warnings;
    impl_->graph = load_graph(path, lo);
    impl_->result = Result{};
  }, true);
}

CallStatus Diviml::set_input_shape(const std::string& input, const std::vector<int64_t>& dims) {
  return impl_->guard([&] {
    if (input.empty()) throw InputError("set_input_shape: empty input name");
    if (dims.empty()) throw InputError(fmt::format("set_input_shape '{}': no dimensions", input));
    for (int64_t d : dims)
      if (d <= 0) throw InputError(fmt::format("set_input_shape '{}': dimension {} must be positive", input, d));
    impl_->input_shapes[input] = dims;
  });
}

CallStatus Diviml::pass_graph(const GraphSpec& spec) {
  return impl_->guard([&] {
    auto g = std::make_shared<Graph>();
    g->name = spec.name;
    std::map<std::string, TensorId> tensor_ids;  // Graph indexes names only in finalize()
    for (const TensorSpec& t : spec.tensors) {
      if (!(t.bytes >= 0) || !std::isfinite(t.bytes))
        throw InputError(fmt::format("graph '{}': tensor '{}': bytes must be finite and >= 0", spec.name, t.name));
      Tensor x;
      x.name = t.name;
      x.bytes = t.bytes;
      x.is_graph_output = t.is_output;
      if (!tensor_ids.emplace(t.name, g->num_tensors()).second)
        throw InputError(fmt::format("graph '{}': tensor '{}' declared twice", spec.name, t.name));
      g->add_tensor(std::move(x));
    }
    auto tensor = [&](const OpSpec& o, const std::string& name) {
      const auto it = tensor_ids.find(name);
      if (it == tensor_ids.end())
        throw InputError(fmt::format("graph '{}': op '{}': unknown tensor '{}' (declare it in tensors)", spec.name,
                                     o.name, name));
      return it->second;
    };
    for (const OpSpec& o : spec.ops) {
      Op op;
      op.name = o.name;
      op.type = o.type;
      try {
        op.op_class = op_class_from_string(o.op_class);
      } catch (const InputError& e) {
        throw InputError(fmt::format("graph '{}': op '{}': {}", spec.name, o.name, e.what()));
      }
      op.flops = o.flops;
      op.bytes_accessed = o.bytes_accessed;
      op.weight_bytes = o.weight_bytes;
      op.device_times = o.device_seconds;
      for (const auto& n : o.inputs) op.inputs.push_back(tensor(o, n));
      for (const auto& n : o.outputs) op.outputs.push_back(tensor(o, n));
      g->add_op(std::move(op));
    }
    g->finalize();  // producers, names, costs, cycles: InputError naming the item
    impl_->graph = std::move(g);
    impl_->result = Result{};
  }, true);
}

CallStatus Diviml::set_platform(const std::string& preset_or_path) {
  return impl_->guard([&] {
    auto p = std::make_shared<Platform>(load_platform(preset_or_path));
    p->validate();
    impl_->platform = std::move(p);
  });
}

CallStatus Diviml::pass_platform_json(const std::string& json_text) {
  return impl_->guard([&] {
    auto p = std::make_shared<Platform>(platform_from_json_text(json_text, "platform JSON"));
    p->validate();
    impl_->platform = std::move(p);
  });
}

CallStatus Diviml::set_option(const std::string& name, const OptionValue& value) {
  return impl_->guard([&] { impl_->options[name] = validate_option(find_option(name), value); });
}
CallStatus Diviml::set_option(const std::string& name, bool value) { return set_option(name, OptionValue(value)); }
CallStatus Diviml::set_option(const std::string& name, int value) {
  return set_option(name, OptionValue(static_cast<int64_t>(value)));
}
CallStatus Diviml::set_option(const std::string& name, int64_t value) { return set_option(name, OptionValue(value)); }
CallStatus Diviml::set_option(const std::string& name, double value) { return set_option(name, OptionValue(value)); }
CallStatus Diviml::set_option(const std::string& name, const char* value) {
  return set_option(name, OptionValue(std::string(value)));
}
CallStatus Diviml::set_option(const std::string& name, const std::string& value) {
  return set_option(name, OptionValue(value));
}
CallStatus Diviml::set_option_text(const std::string& name, const std::string& text) {
  return impl_->guard([&] { impl_->options[name] = parse_option_text(find_option(name), text); });
}
CallStatus Diviml::get_option(const std::string& name, OptionValue& value) const {
  return impl_->guard([&] {
    find_option(name);
    value = impl_->options.at(name);
  });
}
void Diviml::reset_options() { impl_->options = default_option_values(); }

void Diviml::set_observer(Observer observer) { impl_->observer = std::move(observer); }
void Diviml::interrupt() { impl_->stop = true; }

CallStatus Diviml::run(Objective objective, const std::string& method) {
  return impl_->guard([&] { impl_->run(objective, method); }, true);
}

CallStatus Diviml::run() {
  const Objective o = impl_->get<std::string>("objective") == "throughput" ? Objective::Throughput : Objective::Latency;
  return run(o, "");
}

ModelStatus Diviml::model_status() const { return impl_->result.status; }
const Result& Diviml::result() const { return impl_->result; }
const std::string& Diviml::last_error() const { return impl_->error; }
const std::vector<std::string>& Diviml::warnings() const { return impl_->warnings; }

int Diviml::num_ops() const { return impl_->graph ? impl_->graph->num_ops() : 0; }
std::vector<std::string> Diviml::op_names() const {
  std::vector<std::string> v;
  if (impl_->graph)
    for (const Op& o : impl_->graph->ops) v.push_back(o.name);
  return v;
}
std::vector<std::string> Diviml::device_names() const {
  std::vector<std::string> v;
  if (impl_->platform)
    for (const Device& d : impl_->platform->devices) v.push_back(d.name);
  return v;
}

const std::vector<OptionInfo>& Diviml::options() { return option_table(); }

std::vector<MethodInfo> Diviml::methods() {
  std::vector<MethodInfo> out;
  for (const diviml::MethodInfo& m : latency_methods()) {
    MethodInfo x;
    x.name = m.name;
    x.objective = Objective::Latency;
    x.description = m.description;
    x.exact = m.exact;
    x.randomised = m.randomised;
    x.uses_milp = m.uses_milp;
    x.in_compare = m.in_compare;
    out.push_back(std::move(x));
  }
  for (const ThroughputMethodInfo& m : throughput_methods()) out.push_back(throughput_flags(m));
  return out;
}

std::vector<std::string> Diviml::platform_presets() { return platform_preset_names(); }
std::string Diviml::version() { return DIVIML_VERSION; }

}  // namespace diviml::api

// diviml's public API: one front door in the spirit of HiGHS's `Highs` (docs/api.md).
//
//   diviml::api::Diviml d;
//   d.read_model("resnet18.onnx");               // or pass_graph(GraphSpec) built in code
//   d.set_platform("paper-node");                // preset name or JSON file (pass_platform_json)
//   d.set_option("time_limit", 30.0);            // by name, validated (docs/options.md)
//   if (d.run(diviml::api::Objective::Latency, "split") == diviml::api::CallStatus::Ok)
//     for (const auto& op : d.result().ops) ...  // op name, device, start, finish
//
// Every call returns a CallStatus ("did the call work"; the message is last_error()); what was
// found is data: result().status (optimal, feasible, heuristic, time limit, interrupted,
// infeasible). Results use the caller's op names and indices. This header includes only the
// standard library; the implementation (solvers, CBC, ONNX) stays behind a pointer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace diviml::api {

/// Did the call work (HiGHS's HighsStatus). Warning: it worked, see warnings().
enum class CallStatus { Ok, Warning, Error };

/// What a run found (HiGHS's HighsModelStatus); data, not an error.
enum class ModelStatus {
  NotRun,       ///< no run yet, or the last run failed (CallStatus::Error)
  Optimal,      ///< proven optimal (the gap is 0 up to solver tolerances)
  Feasible,     ///< an exact method's schedule, not proven optimal
  Heuristic,    ///< a heuristic's schedule (no optimality claim)
  TimeLimit,    ///< stopped by the time limit; the best schedule found is returned
  Interrupted,  ///< stopped by interrupt() or the observer; the best schedule found is returned
  Infeasible,   ///< no schedule meets the memory limits or the latency cap (see last_error())
};
const char* to_string(CallStatus s);
const char* to_string(ModelStatus s);

enum class Objective { Latency, Throughput };
const char* to_string(Objective o);

// ---- input: a graph built in code ----

/// A tensor (an activation). Tensors no op writes are graph inputs.
struct TensorSpec {
  std::string name;
  double bytes = 0;
  bool is_output = false;  ///< a graph output (must reach the platform's I/O device)
};

/// An operator. `op_class` selects the roofline efficiency: conv, depthwise_conv, matmul,
/// elementwise, normalization, pooling, data_movement, embedding, shape_only, other.
struct OpSpec {
  std::string name;
  std::string type = "op";
  std::string op_class = "other";
  double flops = 0;
  double bytes_accessed = 0;  ///< memory traffic of the roofline model
  double weight_bytes = 0;    ///< parameters resident on the op's device
  std::vector<std::string> inputs;   ///< tensor names read
  std::vector<std::string> outputs;  ///< tensor names written
  std::map<std::string, double> device_seconds;  ///< explicit seconds per device name (overrides the cost model)
};

/// A whole graph; op i of the result is ops[i] here.
struct GraphSpec {
  std::string name = "graph";
  std::vector<TensorSpec> tensors;
  std::vector<OpSpec> ops;
};

// ---- options and methods (tables in the library; docs/options.md, docs/api.md) ----

using OptionValue = std::variant<bool, int64_t, double, std::string>;
enum class OptionType { Bool, Int, Double, String };
const char* to_string(OptionType t);

struct OptionInfo {
  std::string name;
  OptionType type = OptionType::Double;
  OptionValue default_value;
  double min = 0, max = 0;            ///< bounds for Int and Double
  std::vector<std::string> choices;   ///< allowed values for String (empty: any)
  std::string scope;                  ///< "general", "latency", "throughput", "split", "bounds", "milp (advanced)"
  std::string cli_flag;               ///< the `diviml` flag that sets it ("" if none)
  std::string doc;
  bool advanced = false;
};

struct MethodInfo {
  std::string name;
  Objective objective = Objective::Latency;
  std::string description;
  bool exact = false;       ///< can prove optimality
  bool randomised = false;  ///< depends on the seed
  bool uses_milp = false;   ///< calls CBC (serialised process-wide)
  bool in_compare = true;   ///< in `diviml compare`'s default set
};

// ---- output ----

/// One op of the result, in the caller's op order.
struct OpResult {
  int index = 0;                     ///< the op's index (GraphSpec::ops, or the model's fused ops)
  std::string name;
  std::vector<std::string> source_nodes;  ///< ONNX nodes fused into this op (empty for built graphs)
  std::string device;                ///< latency: the device; throughput: replica 0's device
  int device_index = 0;
  double start_s = 0, finish_s = 0;  ///< latency: simulated times (0 for throughput)
  int position = 0;                  ///< latency: position in its device's execution order
};

struct DeviceResult {
  std::string name;
  int ops = 0;
  double busy_s = 0;          ///< latency: compute seconds; throughput: per period
  double utilisation = 0;     ///< busy / makespan (latency) or busy / period (throughput)
  double memory_bytes = 0;    ///< weights + peak activations
  double memory_capacity_bytes = 0;
};

/// Latency lower bounds (DESIGN section 7); best is the certified one.
struct LatencyBoundsResult {
  double critical_path_s = 0;
  double critical_path_comm_s = 0;
  double load_balance_s = 0;
  double module_milp_s = 0;
  double decomposition_s = 0;
  double best_s = 0;
  double solver_bound_s = 0;  ///< the method's own proven bound (0: none)
  int modules = 0;
};

struct ThroughputResult {
  int replicas = 0;
  double period_s = 0;                  ///< analytic period P of R inferences
  double throughput_per_s = 0;          ///< R / P
  double bound_per_s = 0;               ///< upper bound on any schedule's throughput
  double measured_throughput_per_s = 0; ///< pipelined simulation with link contention
  double latency_mean_s = 0;            ///< per inference, pipelined (greedy dispatch)
  std::string bottleneck;
  std::vector<std::vector<std::string>> replica_devices;  ///< [replica][op] device name
};

struct Statistics {
  double solve_seconds = 0;     ///< the method
  double bound_seconds = 0;     ///< lower/upper bounds
  double evaluate_seconds = 0;  ///< simulation and checks
  double total_seconds = 0;
  double claimed_objective = 0; ///< the solver's own makespan/period before simulation (0: none)
  long long milp_nodes = 0;     ///< most branch-and-bound nodes reported by any MILP of the run
  int progress_reports = 0;
  int num_ops = 0, num_devices = 0;
};

struct Result {
  Objective objective = Objective::Latency;
  std::string method;
  ModelStatus status = ModelStatus::NotRun;
  /// Latency: the simulated makespan (no link contention, the model solvers optimise).
  /// Throughput: seconds per inference (P / R).
  double makespan_s = 0;
  double makespan_contention_s = 0;  ///< latency: the same schedule with link contention
  double lower_bound_s = 0;          ///< latency: certified lower bound; throughput: per inference
  double gap = 0;                    ///< (makespan - lower bound) / lower bound; NaN without a bound
  std::vector<OpResult> ops;
  std::map<std::string, std::string> placement;       ///< op name -> device name
  std::map<std::string, std::string> node_placement;  ///< ONNX node name -> device name (fused ops expanded)
  std::vector<DeviceResult> devices;
  LatencyBoundsResult bounds;
  ThroughputResult throughput;
  Statistics stats;
  std::vector<std::string> memory_violations;
};

/// A progress report from a long run (solver.h's Progress in seconds).
struct ProgressInfo {
  double elapsed_s = 0;
  double incumbent_s = 0;  ///< NaN: none yet
  double bound_s = 0;      ///< NaN: none
  double gap = 0;
  long long nodes = 0;
  std::string stage;
};
/// Return false to interrupt the run (it ends with the best schedule so far).
using Observer = std::function<bool(const ProgressInfo&)>;

/// The front door. Not thread-safe per object (one call at a time); distinct objects may be used
/// from distinct threads (their CBC solves are serialised by a process-wide lock; docs/api.md).
class Diviml {
 public:
  Diviml();
  ~Diviml();
  Diviml(Diviml&&) noexcept;
  Diviml& operator=(Diviml&&) noexcept;
  Diviml(const Diviml&) = delete;
  Diviml& operator=(const Diviml&) = delete;

  /// Reads .onnx, .json (diviml graph, docs/formats.md) or .stg; option `granularity` applies.
  CallStatus read_model(const std::string& path);
  /// Sets the shape of a symbolic ONNX input (before read_model).
  CallStatus set_input_shape(const std::string& input, const std::vector<int64_t>& dims);
  CallStatus pass_graph(const GraphSpec& graph);
  /// A preset ("paper-node", "identical:4", ...) or a platform JSON file.
  CallStatus set_platform(const std::string& preset_or_path);
  CallStatus pass_platform_json(const std::string& json_text);

  /// Sets an option by name; the value's type must be the option's (an integer is fine for a
  /// number), within its bounds or choices.
  CallStatus set_option(const std::string& name, const OptionValue& value);
  // Exact overloads, so that set_option("threads", 2.5) is a type error, not a silent 2.
  CallStatus set_option(const std::string& name, bool value);
  CallStatus set_option(const std::string& name, int value);
  CallStatus set_option(const std::string& name, int64_t value);
  CallStatus set_option(const std::string& name, double value);
  CallStatus set_option(const std::string& name, const char* value);
  CallStatus set_option(const std::string& name, const std::string& value);
  /// Sets an option from text ("30", "true", "split"), parsed by its type.
  CallStatus set_option_text(const std::string& name, const std::string& text);
  CallStatus get_option(const std::string& name, OptionValue& value) const;
  void reset_options();

  /// Progress reports every few seconds during run() (on the calling thread or a solver's
  /// reporter thread); may be empty.
  void set_observer(Observer observer);
  /// Asks a running run() to stop and return its best schedule; safe from any thread or a
  /// signal handler.
  void interrupt();

  /// Runs the objective with a method ("" : option `method`, then the objective's default).
  CallStatus run(Objective objective, const std::string& method = "");
  /// Runs with options `objective` and `method`.
  CallStatus run();

  ModelStatus model_status() const;
  const Result& result() const;
  /// The message of the last call that returned Error ("" otherwise).
  const std::string& last_error() const;
  /// Warnings of the last read/run (unknown op types, memory, ...).
  const std::vector<std::string>& warnings() const;

  int num_ops() const;  ///< 0 before a graph is loaded
  std::vector<std::string> op_names() const;
  std::vector<std::string> device_names() const;

  static const std::vector<OptionInfo>& options();
  /// Every method of both objectives (latency first), from the library's registries.
  static std::vector<MethodInfo> methods();
  static std::vector<std::string> platform_presets();
  static std::string version();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// docs/options.md as Markdown, generated from the options table (`diviml options-doc`).
std::string options_markdown();

}  // namespace diviml::api

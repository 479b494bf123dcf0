// The Python module `diviml` (pybind11) over the public API (include/diviml/diviml.h):
//   import diviml
//   r = diviml.schedule("model.onnx", platform="paper-node", method="split", time_limit=60)
//   r.status, r.makespan_s, r.lower_bound_s, r.gap, r.placement   # {op name: device name}
// A graph can be built in Python with diviml.Graph and passed instead of a path.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <diviml/diviml.h>

namespace py = pybind11;
using namespace diviml::api;

namespace {

/// Raised for every CallStatus::Error (bad input, unknown option or method, no schedule).
PyObject* g_error = nullptr;

void check(Diviml& d, CallStatus s) {
  if (s != CallStatus::Error) return;
  PyErr_SetString(g_error, d.last_error().c_str());
  throw py::error_already_set();
}

/// Python keyword -> option name: dots are underscores (milp_cbc_args -> milp.cbc_args).
std::string option_name(const std::string& key) {
  for (const OptionInfo& o : Diviml::options()) {
    std::string k = o.name;
    for (char& c : k)
      if (c == '.') c = '_';
    if (k == key || o.name == key) return o.name;
  }
  return key;  // unknown: set_option reports it with the list of valid names
}

OptionValue to_value(const py::handle& v) {
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  if (py::isinstance<py::int_>(v)) return v.cast<int64_t>();
  if (py::isinstance<py::float_>(v)) return v.cast<double>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  throw py::type_error("option values must be bool, int, float or str, not " +
                       std::string(py::str(py::type::of(v).attr("__name__"))));
}

py::object to_py(const OptionValue& v) {
  return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

void set_options(Diviml& d, const py::dict& kwargs) {
  for (const auto& [k, v] : kwargs) check(d, d.set_option(option_name(k.cast<std::string>()), to_value(v)));
}

void load(Diviml& d, const py::object& model) {
  if (py::isinstance<GraphSpec>(model))
    check(d, d.pass_graph(model.cast<const GraphSpec&>()));
  else
    check(d, d.read_model(py::str(model).cast<std::string>()));  // str or os.PathLike
}

/// Runs with the GIL released; `progress` (optional) is called with a ProgressInfo and may
/// return False to stop the run early (the best schedule so far is returned).
void run(Diviml& d, const std::string& objective, const std::string& method, const py::object& progress) {
  if (!progress.is_none()) {
    py::function f = progress;
    d.set_observer([f](const ProgressInfo& p) {
      py::gil_scoped_acquire gil;
      const py::object r = f(p);
      return r.is_none() || r.cast<bool>();
    });
  }
  if (objective != "latency" && objective != "throughput")
    throw py::value_error("objective must be 'latency' or 'throughput', not '" + objective + "'");
  CallStatus s;
  {
    py::gil_scoped_release release;
    s = d.run(objective == "latency" ? Objective::Latency : Objective::Throughput, method);
  }
  d.set_observer(nullptr);
  check(d, s);
}

Result schedule(const py::object& model, const std::string& platform, const std::string& method, double time_limit,
                const std::string& objective, const py::object& progress, const py::kwargs& kwargs) {
  Diviml d;
  set_options(d, kwargs);  // allow_worker_processes stays off unless asked for: Python may run threads
  check(d, d.set_option("time_limit", time_limit));
  load(d, model);
  if (!platform.empty() && platform.front() == '{')
    check(d, d.pass_platform_json(platform));
  else
    check(d, d.set_platform(platform));
  run(d, objective, method, progress);
  return d.result();
}

}  // namespace

PYBIND11_MODULE(diviml, m) {
  m.doc() = "diviml: place and schedule neural networks on heterogeneous devices (docs/api.md)";
  g_error = PyErr_NewException("diviml.Error", PyExc_RuntimeError, nullptr);
  m.attr("Error") = py::handle(g_error);
  m.attr("__version__") = Diviml::version();

  py::class_<TensorSpec>(m, "TensorSpec")
      .def_readwrite("name", &TensorSpec::name)
      .def_readwrite("bytes", &TensorSpec::bytes)
      .def_readwrite("is_output", &TensorSpec::is_output);
  py::class_<OpSpec>(m, "OpSpec")
      .def_readwrite("name", &OpSpec::name)
      .def_readwrite("type", &OpSpec::type)
      .def_readwrite("op_class", &OpSpec::op_class)
      .def_readwrite("flops", &OpSpec::flops)
      .def_readwrite("bytes_accessed", &OpSpec::bytes_accessed)
      .def_readwrite("weight_bytes", &OpSpec::weight_bytes)
      .def_readwrite("inputs", &OpSpec::inputs)
      .def_readwrite("outputs", &OpSpec::outputs)
      .def_readwrite("device_seconds", &OpSpec::device_seconds);
  py::class_<GraphSpec>(m, "Graph", "a graph built in Python: add_tensor(), then add_op()")
      .def(py::init([](const std::string& name) {
             GraphSpec g;
             g.name = name;
             return g;
           }),
           py::arg("name") = "graph")
      .def_readwrite("name", &GraphSpec::name)
      .def_readwrite("tensors", &GraphSpec::tensors)
      .def_readwrite("ops", &GraphSpec::ops)
      .def(
          "add_tensor",
          [](GraphSpec& g, const std::string& name, double bytes, bool output) {
            g.tensors.push_back({name, bytes, output});
          },
          py::arg("name"), py::arg("bytes") = 0.0, py::arg("output") = false)
      .def(
          "add_op",
          [](GraphSpec& g, const std::string& name, const std::vector<std::string>& inputs,
             const std::vector<std::string>& outputs, double flops, const std::string& op_class, double weight_bytes,
             double bytes_accessed, const std::map<std::string, double>& device_seconds, const std::string& type) {
            OpSpec o;
            o.name = name;
            o.inputs = inputs;
            o.outputs = outputs;
            o.flops = flops;
            o.op_class = op_class;
            o.weight_bytes = weight_bytes;
            o.bytes_accessed = bytes_accessed;
            o.device_seconds = device_seconds;
            o.type = type;
            g.ops.push_back(std::move(o));
            return static_cast<int>(g.ops.size()) - 1;
          },
          py::arg("name"), py::arg("inputs") = std::vector<std::string>{},
          py::arg("outputs") = std::vector<std::string>{}, py::arg("flops") = 0.0, py::arg("op_class") = "other",
          py::arg("weight_bytes") = 0.0, py::arg("bytes_accessed") = 0.0,
          py::arg("device_seconds") = std::map<std::string, double>{}, py::arg("type") = "op",
          "adds an op; returns its index (the index of its entry in Result.ops)");

  py::class_<OpResult>(m, "OpResult")
      .def_readonly("index", &OpResult::index)
      .def_readonly("name", &OpResult::name)
      .def_readonly("source_nodes", &OpResult::source_nodes)
      .def_readonly("device", &OpResult::device)
      .def_readonly("device_index", &OpResult::device_index)
      .def_readonly("start_s", &OpResult::start_s)
      .def_readonly("finish_s", &OpResult::finish_s)
      .def_readonly("position", &OpResult::position)
      .def("__repr__", [](const OpResult& o) { return "<OpResult " + o.name + " on " + o.device + ">"; });
  py::class_<DeviceResult>(m, "DeviceResult")
      .def_readonly("name", &DeviceResult::name)
      .def_readonly("ops", &DeviceResult::ops)
      .def_readonly("busy_s", &DeviceResult::busy_s)
      .def_readonly("utilisation", &DeviceResult::utilisation)
      .def_readonly("memory_bytes", &DeviceResult::memory_bytes)
      .def_readonly("memory_capacity_bytes", &DeviceResult::memory_capacity_bytes);
  py::class_<LatencyBoundsResult>(m, "LatencyBounds")
      .def_readonly("critical_path_s", &LatencyBoundsResult::critical_path_s)
      .def_readonly("critical_path_comm_s", &LatencyBoundsResult::critical_path_comm_s)
      .def_readonly("load_balance_s", &LatencyBoundsResult::load_balance_s)
      .def_readonly("module_milp_s", &LatencyBoundsResult::module_milp_s)
      .def_readonly("decomposition_s", &LatencyBoundsResult::decomposition_s)
      .def_readonly("best_s", &LatencyBoundsResult::best_s)
      .def_readonly("solver_bound_s", &LatencyBoundsResult::solver_bound_s)
      .def_readonly("modules", &LatencyBoundsResult::modules);
  py::class_<ThroughputResult>(m, "ThroughputResult")
      .def_readonly("replicas", &ThroughputResult::replicas)
      .def_readonly("period_s", &ThroughputResult::period_s)
      .def_readonly("throughput_per_s", &ThroughputResult::throughput_per_s)
      .def_readonly("bound_per_s", &ThroughputResult::bound_per_s)
      .def_readonly("measured_throughput_per_s", &ThroughputResult::measured_throughput_per_s)
      .def_readonly("latency_mean_s", &ThroughputResult::latency_mean_s)
      .def_readonly("bottleneck", &ThroughputResult::bottleneck)
      .def_readonly("replica_devices", &ThroughputResult::replica_devices);
  py::class_<Statistics>(m, "Statistics")
      .def_readonly("solve_seconds", &Statistics::solve_seconds)
      .def_readonly("bound_seconds", &Statistics::bound_seconds)
      .def_readonly("evaluate_seconds", &Statistics::evaluate_seconds)
      .def_readonly("total_seconds", &Statistics::total_seconds)
      .def_readonly("claimed_objective", &Statistics::claimed_objective)
      .def_readonly("milp_nodes", &Statistics::milp_nodes)
      .def_readonly("progress_reports", &Statistics::progress_reports)
      .def_readonly("num_ops", &Statistics::num_ops)
      .def_readonly("num_devices", &Statistics::num_devices);
  py::class_<ProgressInfo>(m, "ProgressInfo")
      .def_readonly("elapsed_s", &ProgressInfo::elapsed_s)
      .def_readonly("incumbent_s", &ProgressInfo::incumbent_s)
      .def_readonly("bound_s", &ProgressInfo::bound_s)
      .def_readonly("gap", &ProgressInfo::gap)
      .def_readonly("nodes", &ProgressInfo::nodes)
      .def_readonly("stage", &ProgressInfo::stage);
  py::class_<Result>(m, "Result")
      .def_property_readonly("objective", [](const Result& r) { return std::string(to_string(r.objective)); })
      .def_readonly("method", &Result::method)
      .def_property_readonly("status", [](const Result& r) { return std::string(to_string(r.status)); })
      .def_readonly("makespan_s", &Result::makespan_s)
      .def_readonly("makespan_contention_s", &Result::makespan_contention_s)
      .def_readonly("lower_bound_s", &Result::lower_bound_s)
      .def_readonly("gap", &Result::gap)
      .def_readonly("ops", &Result::ops)
      .def_readonly("placement", &Result::placement)
      .def_readonly("node_placement", &Result::node_placement)
      .def_readonly("devices", &Result::devices)
      .def_readonly("bounds", &Result::bounds)
      .def_readonly("throughput", &Result::throughput)
      .def_readonly("stats", &Result::stats)
      .def_readonly("memory_violations", &Result::memory_violations)
      .def("__repr__", [](const Result& r) {
        return "<diviml.Result " + r.method + " " + to_string(r.status) + " makespan " + std::to_string(r.makespan_s) +
               " s, lower bound " + std::to_string(r.lower_bound_s) + " s>";
      });

  m.def("schedule", &schedule, py::arg("model"), py::arg("platform") = "paper-node", py::arg("method") = "",
        py::arg("time_limit") = 60.0, py::arg("objective") = "latency", py::arg("progress") = py::none(),
        "Places and orders every op of `model` (a path to .onnx/.json/.stg, or a diviml.Graph) on "
        "`platform` (a preset name, a JSON file, or JSON text) and returns a Result. Other options "
        "(docs/options.md) are keywords, dots as underscores: threads=2, seed=3, milp_cbc_log=1. "
        "`progress(info)` is called every few seconds; returning False stops the run early. "
        "Raises diviml.Error on bad input or when no schedule exists.");

  py::class_<Diviml>(m, "Diviml", "the front door, one call at a time (docs/api.md)")
      .def(py::init<>())
      .def("load", [](Diviml& d, const py::object& model) { load(d, model); }, py::arg("model"))
      .def("set_platform",
           [](Diviml& d, const std::string& p) {
             check(d, !p.empty() && p.front() == '{' ? d.pass_platform_json(p) : d.set_platform(p));
           })
      .def("set_input_shape", [](Diviml& d, const std::string& n, const std::vector<int64_t>& dims) {
        check(d, d.set_input_shape(n, dims));
      })
      .def("set_option", [](Diviml& d, const std::string& n, const py::object& v) {
        check(d, d.set_option(option_name(n), to_value(v)));
      })
      .def("get_option", [](Diviml& d, const std::string& n) {
        OptionValue v;
        check(d, d.get_option(option_name(n), v));
        return to_py(v);
      })
      .def("run", [](Diviml& d, const std::string& objective, const std::string& method, const py::object& progress) {
        run(d, objective, method, progress);
        return d.result();
      }, py::arg("objective") = "latency", py::arg("method") = "", py::arg("progress") = py::none())
      .def("interrupt", &Diviml::interrupt)
      .def_property_readonly("result", &Diviml::result)
      .def_property_readonly("warnings", &Diviml::warnings)
      .def_property_readonly("op_names", &Diviml::op_names)
      .def_property_readonly("device_names", &Diviml::device_names);

  m.def("methods", [] {
    py::list out;
    for (const MethodInfo& x : Diviml::methods()) {
      py::dict d;
      d["name"] = x.name;
      d["objective"] = to_string(x.objective);
      d["description"] = x.description;
      d["exact"] = x.exact;
      d["randomised"] = x.randomised;
      d["uses_milp"] = x.uses_milp;
      d["in_compare"] = x.in_compare;
      out.append(d);
    }
    return out;
  }, "every method of both objectives, with its flags");
  m.def("options", [] {
    py::list out;
    for (const OptionInfo& o : Diviml::options()) {
      py::dict d;
      d["name"] = o.name;
      d["type"] = to_string(o.type);
      d["default"] = to_py(o.default_value);
      d["min"] = o.min;
      d["max"] = o.max;
      d["choices"] = o.choices;
      d["scope"] = o.scope;
      d["doc"] = o.doc;
      out.append(d);
    }
    return out;
  }, "the options table (docs/options.md)");
  m.def("platform_presets", &Diviml::platform_presets);
}

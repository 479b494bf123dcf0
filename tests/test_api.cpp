// The public front door (include/diviml/diviml.h): loading, options, methods, statuses, results
// in the caller's names, interruption, and the process-level settings behind it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <set>
#include <string>

#include "api/options_table.h"
#include "cli_helpers.h"
#include "diviml/diviml.h"
#include "solvers/milp/milp_settings.h"
#include "solvers/milp/worker_processes.h"
#include "solvers/solver.h"
#include "solvers/throughput/throughput_solvers.h"

namespace diviml::api {
namespace {

using diviml::testing::data_path;
using diviml::testing::run_cli;

/// a -> {b, c} -> d with seconds = FLOPs on identical:N (free communication): on two devices
/// the optimum runs b and c side by side, 1 + 2 + 1 = 4 s; on one device 6 s.
GraphSpec diamond() {
  GraphSpec g;
  g.name = "diamond";
  g.tensors = {{"x", 0, false}, {"ta", 8, false}, {"tb", 8, false}, {"tc", 8, false}, {"y", 8, true}};
  auto op = [](std::string name, double flops, std::vector<std::string> in, std::vector<std::string> out) {
    OpSpec o;
    o.name = std::move(name);
    o.flops = flops;
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    return o;
  };
  g.ops = {op("A", 1, {"x"}, {"ta"}), op("B", 2, {"ta"}, {"tb"}), op("C", 2, {"ta"}, {"tc"}),
           op("D", 1, {"tb", "tc"}, {"y"})};
  return g;
}

TEST(Api, BuiltGraphSolvedExactlyInTheCallersNames) {
  Diviml d;
  ASSERT_EQ(d.pass_graph(diamond()), CallStatus::Ok) << d.last_error();
  ASSERT_EQ(d.set_platform("identical:2"), CallStatus::Ok) << d.last_error();
  ASSERT_EQ(d.set_option("time_limit", 20.0), CallStatus::Ok);
  ASSERT_EQ(d.run(Objective::Latency, "milp"), CallStatus::Ok) << d.last_error();
  const Result& r = d.result();
  EXPECT_EQ(r.status, ModelStatus::Optimal);
  EXPECT_EQ(d.model_status(), ModelStatus::Optimal);
  EXPECT_EQ(r.method, "milp");
  EXPECT_NEAR(r.makespan_s, 4.0, 1e-9);
  EXPECT_LE(r.lower_bound_s, r.makespan_s + 1e-9);
  EXPECT_GT(r.lower_bound_s, 3.99);  // the optimum is proven, so the bound meets it
  EXPECT_LT(r.gap, 1e-6);
  ASSERT_EQ(r.ops.size(), 4u);
  const std::vector<std::string> names = {"A", "B", "C", "D"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r.ops[i].index, i);
    EXPECT_EQ(r.ops[i].name, names[i]);
    EXPECT_EQ(r.placement.at(names[i]), r.ops[i].device);
  }
  EXPECT_NE(r.placement.at("B"), r.placement.at("C"));  // side by side
  EXPECT_NEAR(r.ops[3].finish_s, 4.0, 1e-9);
  EXPECT_NEAR(r.ops[1].start_s, 1.0, 1e-9);
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_NEAR(r.devices[0].busy_s + r.devices[1].busy_s, 6.0, 1e-9);
  EXPECT_EQ(r.stats.num_ops, 4);
  EXPECT_EQ(r.stats.num_devices, 2);
  EXPECT_GE(r.stats.total_seconds, r.stats.solve_seconds);
}

TEST(Api, BadGraphsAreErrorsNamingTheItem) {
  Diviml d;
  GraphSpec g = diamond();
  g.ops[1].inputs = {"nope"};
  ASSERT_EQ(d.pass_graph(g), CallStatus::Error);
  EXPECT_NE(d.last_error().find("op 'B': unknown tensor 'nope'"), std::string::npos) << d.last_error();
  g = diamond();
  g.ops[0].inputs = {"y"};  // D -> A: a cycle
  ASSERT_EQ(d.pass_graph(g), CallStatus::Error);
  EXPECT_NE(d.last_error().find("cycle"), std::string::npos) << d.last_error();
  g = diamond();
  g.ops[2].op_class = "warp-drive";
  ASSERT_EQ(d.pass_graph(g), CallStatus::Error);
  EXPECT_NE(d.last_error().find("op 'C'"), std::string::npos) << d.last_error();
  EXPECT_EQ(d.num_ops(), 0);  // nothing half-loaded
  ASSERT_EQ(d.run(Objective::Latency, "heft"), CallStatus::Error);
  EXPECT_NE(d.last_error().find("no graph"), std::string::npos);
  EXPECT_EQ(d.model_status(), ModelStatus::NotRun);
  EXPECT_EQ(d.read_model("/nonexistent/model.onnx"), CallStatus::Error);
  EXPECT_NE(d.last_error().find("/nonexistent/model.onnx"), std::string::npos) << d.last_error();
  EXPECT_EQ(d.set_platform("no-such-platform"), CallStatus::Error);
  EXPECT_NE(d.last_error().find("no-such-platform"), std::string::npos) << d.last_error();
}

TEST(Api, OptionsAreValidatedByName) {
  Diviml d;
  EXPECT_EQ(d.set_option("time_limt", 5.0), CallStatus::Error);
  EXPECT_NE(d.last_error().find("unknown option 'time_limt'"), std::string::npos) << d.last_error();
  EXPECT_NE(d.last_error().find("time_limit"), std::string::npos);  // lists the valid names
  EXPECT_EQ(d.set_option("time_limit", "fast"), CallStatus::Error);
  EXPECT_NE(d.last_error().find("must be a number"), std::string::npos) << d.last_error();
  EXPECT_EQ(d.set_option("threads", 0), CallStatus::Error);
  EXPECT_NE(d.last_error().find("out of range [1, 256]"), std::string::npos) << d.last_error();
  EXPECT_EQ(d.set_option("threads", 2.5), CallStatus::Error);  // no silent truncation
  EXPECT_EQ(d.set_option("objective", "speed"), CallStatus::Error);
  EXPECT_NE(d.last_error().find("latency, throughput"), std::string::npos) << d.last_error();
  EXPECT_EQ(d.set_option("milp.priorities", 1), CallStatus::Error);  // a bool is not an int

  EXPECT_EQ(d.set_option("time_limit", 5), CallStatus::Ok);  // an int is a fine number
  OptionValue v;
  ASSERT_EQ(d.get_option("time_limit", v), CallStatus::Ok);
  EXPECT_EQ(std::get<double>(v), 5.0);
  EXPECT_EQ(d.set_option_text("milp.ht_rows", "true"), CallStatus::Ok);
  ASSERT_EQ(d.get_option("milp.ht_rows", v), CallStatus::Ok);
  EXPECT_TRUE(std::get<bool>(v));
  EXPECT_EQ(d.set_option_text("seed", "12x"), CallStatus::Error);
  d.reset_options();
  ASSERT_EQ(d.get_option("time_limit", v), CallStatus::Ok);
  EXPECT_EQ(std::get<double>(v), 60.0);
  // Every default passes its own validation.
  for (const OptionInfo& o : Diviml::options()) EXPECT_NO_THROW(validate_option(o, o.default_value)) << o.name;
}

TEST(Api, MethodsOfBothObjectivesAndUnknownNames) {
  const auto methods = Diviml::methods();
  std::set<std::string> latency, throughput;
  for (const MethodInfo& m : methods) {
    auto& set = m.objective == Objective::Latency ? latency : throughput;
    EXPECT_TRUE(set.insert(m.name).second) << "duplicate " << m.name;
    EXPECT_FALSE(m.description.empty()) << m.name;
    EXPECT_TRUE(!m.exact || m.uses_milp || m.name == "bnb") << m.name;  // the MILPs and the branch and bound prove
  }
  EXPECT_EQ(latency.size(), latency_methods().size());
  EXPECT_EQ(throughput.size(), throughput_methods().size());
  for (const diviml::MethodInfo& m : latency_methods()) {
    EXPECT_TRUE(latency.count(m.name)) << m.name;
    if (m.name == "milp") {
      EXPECT_TRUE(m.exact && m.uses_milp && !m.in_compare);
    } else if (m.name == "random") {
      EXPECT_TRUE(m.randomised && !m.in_compare);
    } else if (m.name == "heft") {
      EXPECT_TRUE(!m.exact && !m.randomised && !m.uses_milp && m.in_compare);
    }
  }

  Diviml d;
  ASSERT_EQ(d.pass_graph(diamond()), CallStatus::Ok);
  ASSERT_EQ(d.run(Objective::Latency, "hefty"), CallStatus::Error);
  EXPECT_NE(d.last_error().find("unknown latency method 'hefty'"), std::string::npos) << d.last_error();
  EXPECT_NE(d.last_error().find("split"), std::string::npos);
  ASSERT_EQ(d.run(Objective::Throughput, "heft"), CallStatus::Error);  // a latency name
  EXPECT_NE(d.last_error().find("heft-pipeline"), std::string::npos) << d.last_error();
  ASSERT_EQ(d.set_option("method", "cpop"), CallStatus::Ok);
  ASSERT_EQ(d.run(), CallStatus::Ok) << d.last_error();
  EXPECT_EQ(d.result().method, "cpop");
  // Any method is optimal when its makespan meets the certified bound (issue 16 part 3).
  const bool meets = d.result().makespan_s <= d.result().lower_bound_s * (1 + 1e-6);
  EXPECT_EQ(d.result().status, meets ? ModelStatus::Optimal : ModelStatus::Heuristic);
}

TEST(Api, OnnxResultsMapBackToOnnxNodes) {
  Diviml d;
  ASSERT_NE(d.read_model(data_path("resnet18.onnx")), CallStatus::Error) << d.last_error();
  ASSERT_EQ(d.set_platform("paper-node"), CallStatus::Ok);
  ASSERT_NE(d.run(Objective::Latency, "heft"), CallStatus::Error) << d.last_error();
  const Result& r = d.result();
  EXPECT_EQ(r.status, ModelStatus::Heuristic);
  EXPECT_GT(r.makespan_s, 0);
  EXPECT_GT(r.lower_bound_s, 0);
  EXPECT_LE(r.lower_bound_s, r.makespan_s);
  EXPECT_NEAR(r.gap, (r.makespan_s - r.lower_bound_s) / r.lower_bound_s, 1e-12);
  EXPECT_EQ(r.bounds.best_s, r.lower_bound_s);
  ASSERT_EQ(static_cast<int>(r.ops.size()), d.num_ops());
  const auto devices = d.device_names();
  size_t nodes = 0, fused = 0;  // ops without source nodes map under their own name
  for (const OpResult& o : r.ops) {
    EXPECT_TRUE(std::find(devices.begin(), devices.end(), o.device) != devices.end()) << o.device;
    EXPECT_LE(o.start_s, o.finish_s);
    EXPECT_LE(o.finish_s, r.makespan_s + 1e-12);
    for (const auto& n : o.source_nodes) EXPECT_EQ(r.node_placement.at(n), o.device) << n;
    nodes += std::max<size_t>(1, o.source_nodes.size());
    fused += o.source_nodes.size() > 1;
  }
  EXPECT_GT(fused, 0u);            // conv + relu and the like
  EXPECT_GT(nodes, r.ops.size());  // so more ONNX nodes than ops, each mapped
  EXPECT_EQ(r.node_placement.size(), nodes);
}

TEST(Api, ThroughputRunReportsPeriodAndBound) {
  Diviml d;
  ASSERT_NE(d.read_model(data_path("resnet18.onnx")), CallStatus::Error) << d.last_error();
  ASSERT_EQ(d.set_option("objective", "throughput"), CallStatus::Ok);
  ASSERT_NE(d.run(), CallStatus::Error) << d.last_error();
  const Result& r = d.result();
  EXPECT_EQ(r.method, "heft-pipeline");  // the throughput default
  EXPECT_EQ(r.objective, Objective::Throughput);
  EXPECT_GT(r.throughput.throughput_per_s, 0);
  EXPECT_LE(r.throughput.throughput_per_s, r.throughput.bound_per_s * (1 + 1e-9));
  EXPECT_NEAR(r.makespan_s, r.throughput.period_s / r.throughput.replicas, 1e-15);
  EXPECT_LE(r.lower_bound_s, r.makespan_s * (1 + 1e-9));
  ASSERT_EQ(r.throughput.replica_devices.size(), static_cast<size_t>(r.throughput.replicas));
  EXPECT_EQ(r.placement.size(), r.ops.size());
}

TEST(Api, ObserverStopsARunWithItsBestSchedule) {
  Diviml d;
  ASSERT_NE(d.read_model(data_path("resnet18.onnx")), CallStatus::Error) << d.last_error();
  ASSERT_EQ(d.set_option("time_limit", 120.0), CallStatus::Ok);
  ASSERT_EQ(d.set_option("bound_milp_time", 0.0), CallStatus::Ok);
  int calls = 0;
  d.set_observer([&](const ProgressInfo& p) {
    ++calls;
    EXPECT_GE(p.elapsed_s, 0);
    return false;  // stop at the first report
  });
  ASSERT_NE(d.run(Objective::Latency, "split"), CallStatus::Error) << d.last_error();
  ASSERT_GE(calls, 1);  // split reports once its baselines are in, before any MILP
  const Result& r = d.result();
  EXPECT_EQ(r.status, ModelStatus::Interrupted);
  EXPECT_GT(r.makespan_s, 0);  // the warm start at least
  EXPECT_GE(r.stats.progress_reports, calls);
  EXPECT_EQ(r.stats.milp_nodes, 0);  // stopped before its first part
}

TEST(Api, NoScheduleIsInfeasibleNotACrash) {
  GraphSpec g = diamond();
  g.ops[1].weight_bytes = 1e15;  // a petabyte of weights fits nowhere
  Diviml d;
  ASSERT_EQ(d.pass_graph(g), CallStatus::Ok);
  ASSERT_EQ(d.set_platform("paper-node"), CallStatus::Ok);
  ASSERT_EQ(d.run(Objective::Latency, "heft"), CallStatus::Error);
  EXPECT_EQ(d.model_status(), ModelStatus::Infeasible);
  EXPECT_NE(d.last_error().find("B"), std::string::npos) << d.last_error();
}

TEST(Api, AdvancedSettingsAreScopedAndForkNeedsPermission) {
  EXPECT_TRUE(milp::current_settings().allow_fork);  // the command's (and tests') default
  const std::vector<std::function<std::string()>> jobs = {[] { return std::to_string(::getpid()); }};
  const std::string here = std::to_string(::getpid());
  {
    milp::MilpSettings s;
    s.allow_fork = false;
    s.cbc_log = 2;
    const milp::ScopedMilpSettings scoped(s);
    EXPECT_EQ(milp::current_settings().cbc_log, 2);
    const auto out = run_in_worker_processes(jobs, 2);
    ASSERT_TRUE(out[0].has_value());
    EXPECT_EQ(*out[0], here);  // ran in this process
  }
  EXPECT_EQ(milp::current_settings().cbc_log, 0);
  const auto out = run_in_worker_processes(jobs, 2);
  ASSERT_TRUE(out[0].has_value());
  EXPECT_NE(*out[0], here);  // a forked worker

  milp::MilpSettings s;
  apply_advanced_option("milp.cbc_args=-cuts off", s);
  EXPECT_EQ(s.cbc_args, "-cuts off");
  apply_advanced_option("milp.priorities=false", s);
  EXPECT_FALSE(s.priorities);
  EXPECT_EQ(s.cbc_args, "-cuts off");  // earlier ones kept
  EXPECT_THROW(apply_advanced_option("threads=2", s), InputError);  // has its own flag
  EXPECT_THROW(apply_advanced_option("milp.cbc_log=9", s), InputError);
  EXPECT_THROW(apply_advanced_option("milp.nope=1", s), InputError);
}

TEST(Api, CommandTakesAdvancedOptionsAndDocumentsThem) {
  const auto bad = run_cli("--set milp.cbc_log=x schedule " + data_path("stg_heft10.stg") + " -p identical:2");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("option 'milp.cbc_log': 'x' is not an integer"), std::string::npos) << bad.output;
  const auto ok = run_cli("--set milp.priorities=false schedule " + data_path("stg_heft10.stg") +
                          " -p identical:2 -m milp --time-limit 2 -q");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  const auto doc = run_cli("options-doc");
  EXPECT_EQ(doc.exit_code, 0);
  EXPECT_EQ(doc.output, options_markdown());
  for (const OptionInfo& o : Diviml::options()) EXPECT_NE(doc.output.find("`" + o.name + "`"), std::string::npos);
}

}  // namespace
}  // namespace diviml::api

#include <gtest/gtest.h>

#include "platform/cost_model.h"
#include "platform/platform.h"
#include "problem/problem.h"
#include "random_instances.h"

using namespace diviml;

TEST(Platform, PresetsLoadAndValidate) {
  for (const auto& name : platform_preset_names()) {
    if (name == "identical:N") continue;
    Platform p = load_platform(name);
    EXPECT_FALSE(p.devices.empty()) << name;
    EXPECT_GE(p.io_device, 0) << name;
    // write/read round trip keeps the devices and links
    Platform q = platform_from_json_text(platform_to_json_text(p), "roundtrip");
    ASSERT_EQ(q.num_devices(), p.num_devices());
    for (int k = 0; k < p.num_devices(); ++k)
      for (int l = 0; l < p.num_devices(); ++l) {
        if (k != l) {
          EXPECT_EQ(q.link_between(k, l).bandwidth, p.link_between(k, l).bandwidth);
        }
      }
  }
  Platform paper = load_platform("paper-node");
  EXPECT_EQ(paper.num_devices(), 3);
  EXPECT_EQ(paper.devices[paper.io_device].kind, DeviceKind::Cpu);
}

TEST(Platform, IdenticalN) {
  Platform p = load_platform("identical:4");
  EXPECT_EQ(p.num_devices(), 4);
  EXPECT_TRUE(p.free_communication);
  EXPECT_EQ(p.io_device, -1);
  EXPECT_THROW(load_platform("identical:0"), InputError);
  EXPECT_THROW(load_platform("identical:x"), InputError);
  EXPECT_THROW(load_platform("identical:3z"), InputError);
}

TEST(Platform, BadInputIsNamed) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    try {
      platform_from_json_text(text, "plat.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const std::string dev = R"({"name": "g", "peak_flops": 1e12, "mem_bandwidth": 1e11})";
  expect_error("{\"devices\": [" + dev, "not valid JSON");
  expect_error("{\"devices\": []}", "no devices");
  expect_error(R"({"devices": [{"name": "g", "peak_flops": -1, "mem_bandwidth": 1}]})", "peak_flops");
  expect_error(R"({"devices": [{"name": "g", "peak_flops": "fast", "mem_bandwidth": 1}]})", "peak_flops");
  expect_error("{\"devices\": [" + dev + "], \"links\": [{\"between\": [\"g\", \"h\"], \"bandwidth\": 1}]}",
               "missing device 'h'");
  expect_error("{\"devices\": [" + dev + "], \"io_device\": \"cpu\"}", "io_device 'cpu'");
  expect_error("{\"devices\": [" + dev + ", " + dev + "]}", "duplicate device");
  expect_error(R"({"devices": [{"name": "g", "kind": "fpga", "peak_flops": 1, "mem_bandwidth": 1}]})", "unknown kind");
  EXPECT_THROW(load_platform("no-such-preset"), InputError);
}

TEST(CostModel, RooflineAndProfile) {
  Device d;
  d.name = "gpu";
  d.peak_flops = 1e12;
  d.mem_bandwidth = 1e11;
  d.launch_overhead_s = 1e-6;
  d.efficiency[OpClass::Conv] = 0.5;
  auto make_op = [](const char* type, OpClass c, double flops, double bytes) {
    Op o;
    o.name = type;
    o.type = type;
    o.op_class = c;
    o.flops = flops;
    o.bytes_accessed = bytes;
    return o;
  };
  const Op conv = make_op("Conv", OpClass::Conv, 1e9, 1e6);
  EXPECT_DOUBLE_EQ(roofline_time(conv, d), 1e-6 + 1e9 / 5e11);  // compute bound
  const Op add = make_op("Add", OpClass::Elementwise, 1e6, 1e9);
  EXPECT_DOUBLE_EQ(roofline_time(add, d), 1e-6 + 1e9 / 1e11);  // memory bound
  d.unsupported_op_types.insert("Add");
  EXPECT_TRUE(std::isinf(roofline_time(add, d)));

  // Profile entries override op by op; missing ones fall back with one warning.
  auto g = diviml::testing::random_dag(5, 0.3, 2, 3);
  auto p = diviml::testing::random_platform(2, 3);
  ProfileTable t;
  t.set("v0", "d1", 0.125);
  std::vector<std::string> warnings;
  Problem pb(g, p, &t, &warnings);
  EXPECT_DOUBLE_EQ(pb.exec(0, 1), 0.125);
  EXPECT_DOUBLE_EQ(pb.exec(0, 0), g->ops[0].device_times.at("d0"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("v1"), std::string::npos);
}

TEST(Problem, OpThatNoDeviceRunsIsAnError) {
  auto g = diviml::testing::random_dag(3, 0.5, 2, 1);
  for (auto& [d, t] : g->ops[1].device_times) t = INFINITY;
  EXPECT_THROW(Problem pb(g, diviml::testing::random_platform(2, 1)), InputError);
}

TEST(Problem, IdenticalDeviceClasses) {
  auto g = diviml::testing::random_dag(6, 0.3, 1, 1);
  for (auto& op : g->ops) op.device_times.clear(), op.flops = 3;
  Problem pb(g, std::make_shared<Platform>(make_identical_platform(3)));
  ASSERT_EQ(pb.identical_device_classes().size(), 1u);
  EXPECT_EQ(pb.identical_device_classes()[0], (std::vector<int>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(pb.exec(2, 1), 3);
  EXPECT_EQ(pb.comm(0, 0, 1), 0);
  Problem paper(g, std::make_shared<Platform>(load_platform("paper-node")));
  EXPECT_EQ(paper.identical_device_classes().size(), 3u);
}

// The hand-over fit and the link of a measured cut (platform/calibrate.h, `diviml profile`).
#include <gtest/gtest.h>

#include "platform/calibrate.h"

using namespace diviml;

TEST(Calibrate, HandoverFitRecoversALine) {
  std::vector<HandoverSample> s;
  for (double b : {4096.0, 65536.0, 524288.0, 2097152.0, 8388608.0}) s.push_back({b, 100e-6 + b / 5e9});
  const Link l = fit_handover(s);
  EXPECT_NEAR(l.latency_s, 100e-6, 1e-9);
  EXPECT_NEAR(l.bandwidth, 5e9, 1e3);
}

TEST(Calibrate, HandoverFitIsMonotoneAndNonNegative) {
  // The medians measured with postMessage on the test VM: 512 KiB slower than 2 MiB. The fit must
  // not let a dip pull the slope below zero, nor the latency below zero.
  const std::vector<HandoverSample> dip{{4096, 26.6e-6}, {65536, 282e-6}, {524288, 1.08e-3}, {2097152, 0.44e-3}, {8388608, 1.22e-3}};
  const Link l = fit_handover(dip);
  EXPECT_GE(l.latency_s, 0);
  EXPECT_GT(l.bandwidth, 0);
  for (const auto& x : dip) EXPECT_GE(l.latency_s + x.bytes / l.bandwidth, 0);
  // Time falling with size: pooled to a constant, so a latency and no bandwidth term.
  const Link flat = fit_handover({{4096, 3e-4}, {1 << 20, 2e-4}, {8 << 20, 1e-4}});
  EXPECT_NEAR(flat.latency_s, 2e-4, 1e-12);
  EXPECT_EQ(flat.bandwidth, kFreeBandwidth);
  // Steep growth from a tiny start: the intercept would be negative; the fit goes through 0.
  const Link steep = fit_handover({{1000, 1e-9}, {2000, 4e-6}, {4000, 12e-6}});
  EXPECT_EQ(steep.latency_s, 0);
  EXPECT_GT(steep.bandwidth, 0);
  EXPECT_EQ(fit_handover({}).latency_s, 0);
}

TEST(Calibrate, CutCostBecomesDispatchOnBothSidesOfTheLink) {
  const Link h{0, 0, 5e9, 100e-6};
  // A cut of 500 KB measured at 600 us: 100 us latency + 100 us moving + 400 us one more segment.
  const double d = segment_dispatch_s(h, 600e-6, 500e3);
  EXPECT_NEAR(d, 400e-6, 1e-12);
  const Link l = link_with_dispatch(h, d);
  EXPECT_NEAR(l.latency_s, 100e-6 + 2 * 400e-6, 1e-12);
  EXPECT_EQ(l.bandwidth, h.bandwidth);
  // A cut that measured cheaper than the hand-over alone (noise) adds nothing.
  EXPECT_EQ(segment_dispatch_s(h, 50e-6, 500e3), 0);
  EXPECT_EQ(link_with_dispatch(h, 0).latency_s, h.latency_s);
}

TEST(Calibrate, DeviceFasterThanItsPeakGetsTheMeasuredPeak) {
  // Convs measured at 200 GFLOP/s on a device that assumes 64: the efficiency cannot exceed 1, so
  // the peak rises to 200 GFLOP/s; matmuls at 100 GFLOP/s then get efficiency 0.5.
  Graph g;
  std::map<std::string, double> measured;
  Device d;
  d.name = "cpu0";
  d.peak_flops = 64e9;
  d.mem_bandwidth = 1e12;  // nothing memory-bound
  d.launch_overhead_s = 0;
  for (int i = 0; i < 5; ++i) {
    Op conv;
    conv.name = "conv" + std::to_string(i);
    conv.op_class = OpClass::Conv;
    conv.flops = 2e8 * (i + 1);
    measured[conv.name] = conv.flops / 200e9;
    g.add_op(conv);
    Op mm;
    mm.name = "mm" + std::to_string(i);
    mm.op_class = OpClass::MatMul;
    mm.flops = 1e8 * (i + 1);
    measured[mm.name] = mm.flops / 100e9;
    g.add_op(mm);
  }
  g.finalize();
  const Device c = calibrate_device(g, d, measured);
  EXPECT_NEAR(c.peak_flops, 200e9, 1e3);
  EXPECT_NEAR(c.efficiency_for(OpClass::Conv), 1.0, 1e-9);
  EXPECT_NEAR(c.efficiency_for(OpClass::MatMul), 0.5, 1e-9);
  for (const auto& e : roofline_errors(g, c, measured)) EXPECT_LT(e.median, 1e-6) << to_string(e.op_class);
  // Slower than the peak everywhere: the peak stays, efficiencies below 1.
  for (auto& [name, s] : measured) s *= 10;
  const Device slow = calibrate_device(g, d, measured);
  EXPECT_EQ(slow.peak_flops, 64e9);
  EXPECT_NEAR(slow.efficiency_for(OpClass::Conv), 200.0 / 640, 1e-9);
}

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

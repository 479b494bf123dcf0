// Gantt HTML, Chrome trace and DOT exports of a simulated schedule (src/report/gantt.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "random_instances.h"
#include "report/gantt.h"
#include "schedule/simulator.h"

namespace diviml {
namespace {

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

/// Places op i on device (i * 7 + seed) % K (only where it can run), topological order.
Schedule spread_schedule(const Problem& pb, uint64_t seed) {
  std::vector<int> dev(static_cast<size_t>(pb.num_ops()));
  for (OpId v = 0; v < pb.num_ops(); ++v) {
    int k = static_cast<int>((static_cast<uint64_t>(v) * 7 + seed) % static_cast<uint64_t>(pb.num_devices()));
    if (!pb.can_run(v, k)) k = pb.fastest_device(v);
    dev[static_cast<size_t>(v)] = k;
  }
  Schedule s = schedule_from_order(pb, dev, pb.graph().topo_order());
  s.method = "spread";
  return s;
}

/// A small graph whose op and tensor names need escaping, on 3 devices with an I/O device.
std::shared_ptr<Problem> tricky_problem() {
  auto g = std::make_shared<Graph>();
  g->name = "esc<graph>";
  const char* names[] = {"a<b&c", "quote\"op'", "plain", "</svg>"};
  for (const char* nm : names) {
    Op op;
    op.name = nm;
    op.type = "T<x>";
    for (int d = 0; d < 3; ++d) op.device_times["d" + std::to_string(d)] = 1.0 + d;
    g->add_op(std::move(op));
  }
  auto tensor = [&](const std::string& name, OpId producer) {
    Tensor t;
    t.name = name;
    t.bytes = 4;
    t.producer = producer;
    return g->add_tensor(t);
  };
  const TensorId in = tensor("in<0>", kNoOp);
  g->ops[0].inputs.push_back(in);
  const TensorId t0 = tensor("t&0", 0);
  g->ops[0].outputs.push_back(t0);
  g->ops[1].inputs.push_back(t0);
  g->ops[2].inputs.push_back(t0);
  const TensorId t1 = tensor("t1", 1), t2 = tensor("t2", 2);
  g->ops[1].outputs.push_back(t1);
  g->ops[2].outputs.push_back(t2);
  g->ops[3].inputs = {t1, t2};
  const TensorId out = tensor("out>", 3);
  g->ops[3].outputs.push_back(out);
  g->tensors[static_cast<size_t>(out)].is_graph_output = true;
  g->finalize();
  return std::make_shared<Problem>(g, testing::random_platform(3, 5, true));
}

Schedule tricky_schedule(const Problem& pb) {
  Schedule s = schedule_from_order(pb, {0, 1, 2, 1}, pb.graph().topo_order());
  s.method = "m<&>";
  return s;
}

/// Very rough XML well-formedness: tags balance as a stack, no stray '<' or '&' in text.
::testing::AssertionResult balanced_markup(const std::string& html) {
  const size_t b = html.find("<svg"), e = html.rfind("</svg>");
  if (b == std::string::npos || e == std::string::npos) return ::testing::AssertionFailure() << "no <svg>";
  const std::string svg = html.substr(b, e + 6 - b);
  std::vector<std::string> stack;
  size_t i = 0;
  while (i < svg.size()) {
    if (svg[i] == '&') {
      const size_t semi = svg.find(';', i);
      if (semi == std::string::npos || semi - i > 8) return ::testing::AssertionFailure() << "bare & at " << i;
      i = semi + 1;
      continue;
    }
    if (svg[i] != '<') {
      ++i;
      continue;
    }
    const size_t close = svg.find('>', i);
    if (close == std::string::npos) return ::testing::AssertionFailure() << "unterminated tag at " << i;
    std::string tag = svg.substr(i + 1, close - i - 1);
    // Inside a tag, attribute values must not contain '<'.
    if (tag.find('<') != std::string::npos) return ::testing::AssertionFailure() << "'<' inside tag: " << tag;
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self = !tag.empty() && tag.back() == '/';
    std::string name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" \n\t/"));
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])))
      return ::testing::AssertionFailure() << "bad tag name in <" << tag << ">";
    if (closing) {
      if (stack.empty() || stack.back() != name)
        return ::testing::AssertionFailure() << "</" << name << "> does not close <" << (stack.empty() ? "" : stack.back()) << ">";
      stack.pop_back();
    } else if (!self) {
      stack.push_back(name);
    }
    i = close + 1;
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "unclosed <" << stack.back() << ">";
  return ::testing::AssertionSuccess();
}

TEST(ReportGantt, OneLanePerDeviceEveryOpAndMakespan) {
  auto pb = testing::random_problem(24, 0.2, 3, 11);
  const Schedule s = spread_schedule(*pb, 1);
  const LatencyResult r = simulate_latency(*pb, s);
  const std::string html = gantt_html(*pb, s, r);

  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count_of(html, "<g class=\"lane device\""), 3u);
  for (int k = 0; k < 3; ++k) EXPECT_NE(html.find("data-device=\"d" + std::to_string(k) + "\""), std::string::npos);
  for (const Op& op : pb->graph().ops) EXPECT_NE(html.find("<title>" + op.name + "\n"), std::string::npos) << op.name;
  EXPECT_EQ(count_of(html, "class=\"bar op\""), static_cast<size_t>(pb->num_ops()));
  // Makespan: exact in a data attribute, and in the title.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", r.makespan);
  EXPECT_NE(html.find(std::string("data-makespan-s=\"") + buf + "\""), std::string::npos);
  EXPECT_NE(html.find("spread"), std::string::npos);
  EXPECT_NE(html.find(pb->graph().name), std::string::npos);
  EXPECT_NE(html.find(pb->platform().name), std::string::npos);
  // Self-contained: no external resources.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(count_of(html, "<svg"), 1u);
  EXPECT_EQ(count_of(html, "</svg>"), 1u);
  EXPECT_TRUE(balanced_markup(html));
}

TEST(ReportGantt, OneLanePerUsedLinkDirectionAndEveryTransfer) {
  auto pb = testing::random_problem(30, 0.25, 3, 4);
  const Schedule s = spread_schedule(*pb, 2);
  const LatencyResult r = simulate_latency(*pb, s);
  ASSERT_FALSE(r.transfers.empty());
  std::set<std::pair<int, int>> dirs;
  size_t moving = 0;
  for (const Transfer& t : r.transfers)
    if (t.from != t.to) {
      dirs.insert({t.from, t.to});
      ++moving;
    }
  const std::string html = gantt_html(*pb, s, r);
  EXPECT_EQ(count_of(html, "<g class=\"lane link\""), dirs.size());
  for (const auto& [a, b] : dirs)
    EXPECT_NE(html.find("data-from=\"d" + std::to_string(a) + "\" data-to=\"d" + std::to_string(b) + "\""),
              std::string::npos);
  EXPECT_EQ(count_of(html, "class=\"bar xfer"), moving);
  EXPECT_TRUE(balanced_markup(html));
}

TEST(ReportGantt, EscapesNames) {
  auto pb = tricky_problem();
  const Schedule s = tricky_schedule(*pb);
  const LatencyResult r = simulate_latency(*pb, s);
  const std::string html = gantt_html(*pb, s, r);
  EXPECT_EQ(html.find("a<b"), std::string::npos);
  EXPECT_NE(html.find("a&lt;b&amp;c"), std::string::npos);
  EXPECT_NE(html.find("quote&quot;op&#39;"), std::string::npos);
  EXPECT_NE(html.find("&lt;/svg&gt;"), std::string::npos);
  EXPECT_EQ(html.find("esc<graph>"), std::string::npos);
  EXPECT_EQ(html.find("m<&>"), std::string::npos);
  EXPECT_EQ(count_of(html, "</svg>"), 1u);
  EXPECT_TRUE(balanced_markup(html));
}

TEST(ReportGantt, LargeScheduleLabelsOnlyWideBars) {
  auto pb = testing::random_problem(800, 0.01, 4, 3);
  const Schedule s = spread_schedule(*pb, 0);
  const LatencyResult r = simulate_latency(*pb, s);
  const std::string html = gantt_html(*pb, s, r);
  EXPECT_EQ(count_of(html, "class=\"bar op\""), 800u);
  // Far fewer text labels than bars: thin bars carry no label.
  EXPECT_LT(count_of(html, "<text class=\"bl\""), 800u);
  EXPECT_TRUE(balanced_markup(html));
}

TEST(ReportGantt, SingleDeviceNoTransfersAndTimeUnits) {
  auto pb = testing::random_problem(6, 0.4, 2, 9, /*with_io=*/false);
  Schedule s = single_device_schedule(*pb, 1);
  s.method = "device:d1";
  const LatencyResult r = simulate_latency(*pb, s);
  const std::string html = gantt_html(*pb, s, r);
  EXPECT_EQ(count_of(html, "<g class=\"lane device\""), 2u);
  EXPECT_EQ(count_of(html, "<g class=\"lane link\""), 0u);
  // The random instances take seconds: the axis is in seconds.
  EXPECT_NE(html.find("time (s)"), std::string::npos);
  EXPECT_TRUE(balanced_markup(html));
}

TEST(ReportTrace, ParsesWithOneEventPerOpAndTransfer) {
  auto pb = testing::random_problem(40, 0.15, 3, 21);
  const Schedule s = spread_schedule(*pb, 1);
  const LatencyResult r = simulate_latency(*pb, s);
  const nlohmann::json j = nlohmann::json::parse(chrome_trace_json(*pb, s, r));
  ASSERT_TRUE(j.contains("traceEvents"));
  size_t ops = 0, transfers = 0;
  std::set<std::string> names;
  std::map<int, std::vector<std::pair<double, double>>> per_tid;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ASSERT_EQ(e["pid"], 1);
    const double ts = e["ts"], dur = e["dur"];
    EXPECT_GE(dur, 0);
    per_tid[e["tid"].get<int>()].emplace_back(ts, ts + dur);
    if (e["cat"] == "op") {
      ++ops;
      names.insert(e["name"].get<std::string>());
    } else {
      ++transfers;
    }
  }
  EXPECT_EQ(ops, static_cast<size_t>(pb->num_ops()));
  EXPECT_EQ(transfers, r.transfers.size());
  for (const Op& op : pb->graph().ops) EXPECT_TRUE(names.count(op.name)) << op.name;
  // Events on one thread never overlap (devices run one op at a time; links are split into rows).
  for (auto& [tid, iv] : per_tid) {
    std::sort(iv.begin(), iv.end());
    for (size_t i = 1; i < iv.size(); ++i)
      EXPECT_GE(iv[i].first, iv[i - 1].second - 1e-6 * std::max(1.0, iv[i].first)) << "overlap on tid " << tid;
  }
  // Microseconds: the makespan in seconds times 1e6 bounds every event end.
  double last = 0;
  for (auto& [tid, iv] : per_tid)
    for (auto& [a, b] : iv) last = std::max(last, b);
  EXPECT_NEAR(last, r.makespan * 1e6, 1e-6 * r.makespan * 1e6 + 1e-9);
  EXPECT_DOUBLE_EQ(j["otherData"]["makespan_s"].get<double>(), r.makespan);
}

TEST(ReportTrace, EscapedNamesStayValidJson) {
  auto pb = tricky_problem();
  const Schedule s = tricky_schedule(*pb);
  const LatencyResult r = simulate_latency(*pb, s);
  const nlohmann::json j = nlohmann::json::parse(chrome_trace_json(*pb, s, r));
  std::set<std::string> names;
  for (const auto& e : j["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "op") names.insert(e["name"].get<std::string>());
  EXPECT_TRUE(names.count("a<b&c"));
  EXPECT_TRUE(names.count("quote\"op'"));
}

TEST(ReportDot, NamesEveryOpAndHighlightsCrossDeviceEdges) {
  auto pb = tricky_problem();
  const Schedule s = tricky_schedule(*pb);
  const std::string dot = schedule_dot(*pb, s);
  EXPECT_EQ(dot.rfind("digraph ", 0), 0u);
  EXPECT_NE(dot.find("a<b&c"), std::string::npos);
  EXPECT_NE(dot.find("quote\\\"op'"), std::string::npos);
  for (OpId v = 0; v < pb->num_ops(); ++v) EXPECT_NE(dot.find("op" + std::to_string(v) + " [label="), std::string::npos);
  // Placement {0,1,2,1}: edges 0->1, 0->2, 2->3 cross devices, 1->3 does not.
  EXPECT_EQ(count_of(dot, "-> op") - count_of(dot, "penwidth=2, label"), 1u + 1u /* input edge */);
  EXPECT_EQ(count_of(dot, "penwidth=2, label"), 3u);
  // Braces balance.
  EXPECT_EQ(count_of(dot, "{"), count_of(dot, "}"));
}

TEST(ReportDot, LargeGraphNamesEveryOp) {
  auto pb = testing::random_problem(200, 0.03, 4, 8);
  const Schedule s = spread_schedule(*pb, 3);
  const std::string dot = schedule_dot(*pb, s);
  for (const Op& op : pb->graph().ops) EXPECT_NE(dot.find("label=\"" + op.name + "\\n"), std::string::npos);
}

}  // namespace
}  // namespace diviml

// Visual and trace exports of a simulated schedule: a self-contained HTML/SVG Gantt chart,
// a Chrome trace (chrome://tracing, Perfetto) and a Graphviz DOT of the placement.
#include "report/gantt.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#ifndef DIVIML_VERSION
#define DIVIML_VERSION "dev"
#endif

namespace diviml {
namespace {

// ---------------------------------------------------------------------------------------------
// Text helpers

/// Escapes text for HTML/XML content and attribute values.
std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters are not allowed in XML 1.0: drop them (keep tab/newline).
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') break;
        out += c;
    }
  }
  return out;
}

/// Escapes text for a double-quoted DOT string ("\n" stays a DOT line break when asked).
std::string dot_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 4);
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      out += c;
    }
  }
  return out;
}

/// printf-style "%.{prec}g".
std::string fmt_g(double v, int prec = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", prec, v);
  return buf;
}

/// Fixed decimals.
std::string fmt_f(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct TimeUnit {
  double per_second;  ///< multiply seconds by this
  const char* name;
};

/// The unit that shows `seconds` with 1..999 in front of the point.
TimeUnit unit_for(double seconds) {
  const double a = std::fabs(seconds);
  if (a == 0 || !std::isfinite(a)) return {1e3, "ms"};
  if (a < 1e-6) return {1e9, "ns"};
  if (a < 1e-3) return {1e6, "us"};
  if (a < 1.0) return {1e3, "ms"};
  return {1.0, "s"};
}

/// "12.35 ms": four significant digits in the unit that suits the value.
std::string fmt_time(double seconds) {
  if (!std::isfinite(seconds)) return seconds > 0 ? "inf" : "n/a";
  if (seconds == 0) return "0";
  const TimeUnit u = unit_for(seconds);
  const double v = seconds * u.per_second;
  const double a = std::fabs(v);
  const int decimals = a >= 100 ? 1 : a >= 10 ? 2 : 3;
  return fmt_f(v, decimals) + " " + u.name;
}

/// Binary units, as the CLI prints them: "16.5 MiB".
std::string fmt_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (std::fabs(b) >= 1024 && i < 4) {
    b /= 1024;
    ++i;
  }
  return (i == 0 ? fmt_g(b, 4) : fmt_f(b, b >= 100 ? 0 : b >= 10 ? 1 : 2)) + " " + units[i];
}

/// A "nice" tick step (1, 2, 2.5 or 5 times a power of ten) giving about `target` ticks.
double nice_step(double range, int target) {
  if (!(range > 0)) return 1;
  const double raw = range / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * mag;
}

/// Decimals needed to print multiples of `step` (in display units) exactly enough.
int decimals_for_step(double step) {
  int d = 0;
  while (d < 9 && std::fabs(step * std::pow(10.0, d) - std::round(step * std::pow(10.0, d))) > 1e-6) ++d;
  return d;
}

// ---------------------------------------------------------------------------------------------
// Colours

const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6",
                                "#8cd17d", "#d4a6c8", "#a0cbe8", "#ffbe7d", "#bab0ac"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

const char* palette(int i) { return kPalette[((i % kPaletteSize) + kPaletteSize) % kPaletteSize]; }

const char* class_colour(OpClass c) {
  switch (c) {
    case OpClass::Conv: return "#4e79a7";
    case OpClass::DepthwiseConv: return "#76b7b2";
    case OpClass::MatMul: return "#f28e2b";
    case OpClass::Elementwise: return "#59a14f";
    case OpClass::Normalization: return "#b07aa1";
    case OpClass::Pooling: return "#edc948";
    case OpClass::DataMovement: return "#9c755f";
    case OpClass::Embedding: return "#ff9da7";
    case OpClass::ShapeOnly: return "#bab0ac";
    case OpClass::Other: return "#e15759";
  }
  return "#bab0ac";
}

/// Dark or light text, whichever reads better on `hex` (#rrggbb).
const char* text_on(const std::string& hex) {
  if (hex.size() != 7) return "#111111";
  auto ch = [&](int i) { return std::stoi(hex.substr(static_cast<size_t>(i), 2), nullptr, 16) / 255.0; };
  const double lum = 0.2126 * ch(1) + 0.7152 * ch(3) + 0.0722 * ch(5);
  return lum > 0.55 ? "#111111" : "#ffffff";
}

const char* kTransferColour = "#8d99ae";
const char* kIoColour = "#4a5568";

// ---------------------------------------------------------------------------------------------
// Lanes

/// Greedy interval partitioning: row of each interval so that intervals in one row do not
/// overlap (in order of start). Returns the number of rows used.
int pack_rows(const std::vector<std::pair<double, double>>& iv, std::vector<int>& row) {
  std::vector<size_t> idx(iv.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return iv[a].first < iv[b].first; });
  row.assign(iv.size(), 0);
  std::vector<double> row_end;
  const double eps = 1e-12;
  for (size_t i : idx) {
    int r = -1;
    for (size_t k = 0; k < row_end.size(); ++k)
      if (row_end[k] <= iv[i].first + eps * std::max(1.0, std::fabs(iv[i].first))) {
        r = static_cast<int>(k);
        break;
      }
    if (r < 0) {
      r = static_cast<int>(row_end.size());
      row_end.push_back(iv[i].second);
    } else {
      row_end[static_cast<size_t>(r)] = iv[i].second;
    }
    row[i] = r;
  }
  return std::max(1, static_cast<int>(row_end.size()));
}

struct Item {
  int index = -1;       ///< op id or transfer index
  bool is_op = true;
  double t0 = 0, t1 = 0;
  int row = 0;
};

struct Lane {
  bool is_device = true;
  int dev = -1;          ///< device lane
  int from = -1, to = -1;  ///< link lane
  std::string label, sublabel;
  std::vector<Item> items;
  int rows = 1;
};

bool valid_times(double a, double b) { return std::isfinite(a) && std::isfinite(b) && b >= a; }

std::string device_name(const Problem& pb, int k) {
  if (k >= 0 && k < pb.num_devices()) return pb.platform().devices[static_cast<size_t>(k)].name;
  return "device" + std::to_string(k);
}

/// Device lanes (every device) then one lane per link direction that carries a transfer.
std::vector<Lane> build_lanes(const Problem& pb, const Schedule& s, const LatencyResult& r) {
  const int K = pb.num_devices();
  const int n = pb.num_ops();
  std::vector<Lane> lanes(static_cast<size_t>(K));
  for (int k = 0; k < K; ++k) {
    lanes[static_cast<size_t>(k)].dev = k;
    lanes[static_cast<size_t>(k)].label = device_name(pb, k);
  }
  const bool have_times = static_cast<int>(r.start.size()) >= n && static_cast<int>(r.finish.size()) >= n;
  for (OpId v = 0; v < n && have_times; ++v) {
    const int k = v < static_cast<int>(s.device.size()) ? s.device[static_cast<size_t>(v)] : -1;
    if (k < 0 || k >= K || !valid_times(r.start[static_cast<size_t>(v)], r.finish[static_cast<size_t>(v)])) continue;
    lanes[static_cast<size_t>(k)].items.push_back(
        Item{v, true, r.start[static_cast<size_t>(v)], r.finish[static_cast<size_t>(v)], 0});
  }
  std::map<std::pair<int, int>, size_t> link_lane;
  for (size_t i = 0; i < r.transfers.size(); ++i) {
    const Transfer& tr = r.transfers[i];
    if (tr.from == tr.to || !valid_times(tr.start, tr.finish)) continue;
    auto key = std::make_pair(tr.from, tr.to);
    auto it = link_lane.find(key);
    if (it == link_lane.end()) it = link_lane.emplace(key, 0).first;
    (void)it;
  }
  // Deterministic order of link lanes: by (from, to).
  for (auto& [key, idx] : link_lane) {
    idx = lanes.size();
    Lane l;
    l.is_device = false;
    l.from = key.first;
    l.to = key.second;
    l.label = device_name(pb, key.first) + " \xe2\x86\x92 " + device_name(pb, key.second);
    lanes.push_back(std::move(l));
  }
  for (size_t i = 0; i < r.transfers.size(); ++i) {
    const Transfer& tr = r.transfers[i];
    if (tr.from == tr.to || !valid_times(tr.start, tr.finish)) continue;
    lanes[link_lane.at({tr.from, tr.to})].items.push_back(Item{static_cast<int>(i), false, tr.start, tr.finish, 0});
  }
  for (Lane& l : lanes) {
    std::vector<std::pair<double, double>> iv;
    iv.reserve(l.items.size());
    for (const Item& it : l.items) iv.emplace_back(it.t0, it.t1);
    std::vector<int> row;
    l.rows = pack_rows(iv, row);
    for (size_t i = 0; i < l.items.size(); ++i) l.items[i].row = row[i];
  }
  return lanes;
}

/// How bars are coloured: by op class when several classes occur, else by op type when several
/// types occur, else by device.
struct ColourKey {
  enum Mode { ByClass, ByType, ByDevice } mode = ByDevice;
  std::map<std::string, int> type_index;  ///< ByType: type -> palette index (-1: "other")
  std::vector<std::pair<std::string, std::string>> legend;  ///< label, colour

  std::string op_colour(const Problem& pb, OpId v, int dev) const {
    const Op& op = pb.graph().ops[static_cast<size_t>(v)];
    switch (mode) {
      case ByClass: return class_colour(op.op_class);
      case ByType: {
        auto it = type_index.find(op.type);
        return it == type_index.end() || it->second < 0 ? "#bab0ac" : palette(it->second);
      }
      case ByDevice: return palette(dev);
    }
    return "#bab0ac";
  }
};

ColourKey make_colour_key(const Problem& pb) {
  ColourKey key;
  const Graph& g = pb.graph();
  std::map<OpClass, int> classes;
  std::map<std::string, int> types;
  for (const Op& op : g.ops) {
    ++classes[op.op_class];
    ++types[op.type];
  }
  if (classes.size() > 1) {
    key.mode = ColourKey::ByClass;
    for (OpClass c : all_op_classes())
      if (classes.count(c)) key.legend.emplace_back(std::string(to_string(c)), class_colour(c));
  } else if (types.size() > 1) {
    key.mode = ColourKey::ByType;
    // The most frequent types get a colour; the rest share grey.
    std::vector<std::pair<int, std::string>> by_count;
    for (auto& [t, c] : types) by_count.emplace_back(-c, t);
    std::sort(by_count.begin(), by_count.end());
    const size_t coloured = std::min<size_t>(by_count.size(), kPaletteSize - 1);
    for (size_t i = 0; i < by_count.size(); ++i)
      key.type_index[by_count[i].second] = i < coloured ? static_cast<int>(i) : -1;
    for (size_t i = 0; i < coloured; ++i)
      key.legend.emplace_back(by_count[i].second.empty() ? "(no type)" : by_count[i].second, palette(static_cast<int>(i)));
    if (coloured < by_count.size()) key.legend.emplace_back("other types", "#bab0ac");
  } else {
    key.mode = ColourKey::ByDevice;
    for (int k = 0; k < pb.num_devices(); ++k) key.legend.emplace_back(device_name(pb, k), palette(k));
  }
  return key;
}

/// Micro-batch of an op of a split batch (problem/batch_split.h names them "mb<j>/<name>" in a
/// graph named "<model>@b<B>"), and the length of that prefix; -1 for any other op.
int micro_batch_of(const Graph& g, std::string_view name, size_t* prefix_len = nullptr) {
  if (g.name.find("@b") == std::string::npos || name.size() < 4 || name.substr(0, 2) != "mb") return -1;
  size_t i = 2;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i < 9) ++i;
  if (i == 2 || i >= name.size() || name[i] != '/') return -1;
  if (prefix_len) *prefix_len = i + 1;
  return std::stoi(std::string(name.substr(2, i - 2)));
}

std::string op_tooltip(const Problem& pb, OpId v, int dev, double t0, double t1) {
  const Op& op = pb.graph().ops[static_cast<size_t>(v)];
  std::string s = op.name + "\n" + op.type + " (" + std::string(to_string(op.op_class)) + ") on " +
                  device_name(pb, dev) + "\nstart " + fmt_time(t0) + ", end " + fmt_time(t1) +
                  "\nduration " + fmt_time(t1 - t0);
  if (const int mb = micro_batch_of(pb.graph(), op.name); mb >= 0) s += "\nmicro-batch " + std::to_string(mb);
  if (op.flops > 0) s += "\n" + fmt_g(op.flops / 1e9, 4) + " GFLOP";
  if (op.weight_bytes > 0) s += ", weights " + fmt_bytes(op.weight_bytes);
  return s;
}

std::string transfer_tooltip(const Problem& pb, const Transfer& tr) {
  const Graph& g = pb.graph();
  const bool valid_t = tr.tensor >= 0 && tr.tensor < g.num_tensors();
  std::string s = valid_t ? g.tensors[static_cast<size_t>(tr.tensor)].name : std::string("(tensor)");
  s += std::string("\n") + (tr.io ? "I/O transfer " : "transfer ") + device_name(pb, tr.from) + " \xe2\x86\x92 " +
       device_name(pb, tr.to);
  if (valid_t) s += ", " + fmt_bytes(g.tensors[static_cast<size_t>(tr.tensor)].bytes);
  s += "\nstart " + fmt_time(tr.start) + ", end " + fmt_time(tr.finish) + "\nduration " + fmt_time(tr.finish - tr.start);
  return s;
}

/// Number of UTF-8 code points.
size_t utf8_len(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// The first `max_chars` code points of `s` followed by an ellipsis.
std::string utf8_truncate(std::string_view s, size_t max_chars) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == max_chars) return std::string(s.substr(0, i)) + "\xe2\x80\xa6";
      ++count;
    }
  }
  return std::string(s);
}

/// A label that fits in `width_px` at ~6.3 px per character, or "" when even 3 characters do
/// not. Path-like names ("/Mixed_5d/branch3x3/conv/Conv", as exported from PyTorch) lose
/// their leading segments first ("…/branch3x3/conv/Conv", "…/conv/Conv"), since the tail
/// tells the op apart from its neighbours; other names are cut at the end.
std::string fit_label(std::string_view name, double width_px, std::string_view op_type = {}) {
  constexpr double kCharPx = 6.3;
  const double avail = width_px - 6;
  if (avail < 3 * kCharPx) return "";
  const size_t max_chars = static_cast<size_t>(avail / kCharPx);
  while (name.size() > 1 && name.front() == '/') name.remove_prefix(1);
  if (utf8_len(name) <= max_chars) return std::string(name);
  // "layer1/layer1.0/conv1/Conv": the trailing op type repeats what the colour says.
  if (!op_type.empty()) {
    const size_t last = name.rfind('/');
    if (last != std::string_view::npos && last > 0 && name.substr(last + 1).substr(0, op_type.size()) == op_type)
      name = name.substr(0, last);
    if (utf8_len(name) <= max_chars) return std::string(name);
  }
  for (size_t pos = name.find('/'); pos != std::string_view::npos; pos = name.find('/', pos + 1)) {
    const std::string_view tail = name.substr(pos);  // starts with '/'
    if (tail.size() > 1 && utf8_len(tail) + 1 <= max_chars) return "\xe2\x80\xa6" + std::string(tail);
  }
  const size_t last = name.rfind('/');
  const std::string_view tail = last != std::string_view::npos && last + 1 < name.size() ? name.substr(last + 1) : name;
  if (utf8_len(tail) <= max_chars) return std::string(tail);
  if (max_chars < 3) return "";
  return utf8_truncate(tail, max_chars - 1);
}

const char* kCss = R"css(
:root { color-scheme: light; }
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 16px 20px; color: #1a202c; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; font-weight: 600; }
h1 .ms { color: #c53030; }
.meta { color: #4a5568; margin: 0 0 10px; }
.meta b { color: #1a202c; font-weight: 600; }
.chart { overflow-x: auto; border: 1px solid #e2e8f0; border-radius: 6px; padding: 6px 0; }
svg { display: block; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
svg text { font-size: 11px; }
.lane-bg { fill: #f7fafc; }
.lane-bg.link { fill: #edf2f7; }
.lane-label { fill: #1a202c; font-weight: 600; }
.lane-sub { fill: #718096; font-size: 10px !important; }
.grid { stroke: #e2e8f0; stroke-width: 1; }
.axis { stroke: #a0aec0; stroke-width: 1; }
.tick { fill: #4a5568; font-size: 10px !important; }
.bar { cursor: pointer; }
.bar:hover, .bar.sel { stroke: #000; stroke-width: 1.5; }
.bl { pointer-events: none; font-size: 10.5px !important; }
.mk { stroke: #c53030; stroke-width: 1.5; stroke-dasharray: 5 3; }
.mk-label { fill: #c53030; font-weight: 600; }
.legend { margin: 10px 0 4px; display: flex; flex-wrap: wrap; gap: 4px 14px; color: #2d3748; }
.legend span i { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
                 margin-right: 5px; vertical-align: -1px; }
#details { min-height: 1.4em; margin: 6px 0 10px; padding: 6px 10px; background: #f7fafc;
           border: 1px solid #e2e8f0; border-radius: 4px; white-space: pre-line; color: #2d3748; }
table { border-collapse: collapse; margin-top: 8px; }
th, td { padding: 3px 12px 3px 0; text-align: right; border-bottom: 1px solid #edf2f7; }
th { color: #4a5568; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
footer { margin-top: 14px; color: #a0aec0; font-size: 11px; }
)css";

const char* kScript = R"js(
(function () {
  var box = document.getElementById('details');
  var sel = null;
  document.querySelectorAll('svg .bar').forEach(function (b) {
    b.addEventListener('click', function () {
      if (sel) sel.classList.remove('sel');
      sel = b; b.classList.add('sel');
      var t = b.querySelector('title');
      box.textContent = t ? t.textContent : '';
    });
  });
})();
)js";

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string gantt_html(const Problem& pb, const Schedule& s, const LatencyResult& r) {
  const Graph& g = pb.graph();
  const Platform& plat = pb.platform();
  const int K = pb.num_devices();
  std::vector<Lane> lanes = build_lanes(pb, s, r);
  const ColourKey key = make_colour_key(pb);

  // Time range.
  double tmax = std::isfinite(r.makespan) ? r.makespan : 0;
  for (const Lane& l : lanes)
    for (const Item& it : l.items) tmax = std::max(tmax, it.t1);
  if (!(tmax > 0)) tmax = 1e-3;
  const TimeUnit unit = unit_for(tmax);

  // Device statistics.
  std::vector<int> ops_on(static_cast<size_t>(K), 0);
  std::vector<double> busy(static_cast<size_t>(K), 0);
  for (const Lane& l : lanes)
    if (l.is_device)
      for (const Item& it : l.items) {
        ++ops_on[static_cast<size_t>(l.dev)];
        busy[static_cast<size_t>(l.dev)] += it.t1 - it.t0;
      }

  // Geometry.
  size_t max_label = 8;
  for (const Lane& l : lanes) max_label = std::max(max_label, l.label.size());
  const double label_w = std::clamp(14.0 + 7.0 * static_cast<double>(max_label), 110.0, 240.0);
  const double chart_w = 1120;
  const double right_pad = 24;
  const double top_pad = 22;  // room for the makespan label
  const double width = label_w + chart_w + right_pad;
  const double gap = 4;
  auto lane_height = [&](const Lane& l) {
    if (l.is_device) return std::max(34.0, 6.0 + l.rows * 24.0);
    // Overlapping transfers (no contention) stack in rows; the lane grows to at most 44 px and
    // its rows get thinner rather than the chart taller.
    return std::clamp(6.0 + l.rows * 8.0, 20.0, 44.0);
  };
  double y = top_pad;
  std::vector<double> lane_y;
  for (const Lane& l : lanes) {
    lane_y.push_back(y);
    y += lane_height(l) + gap;
  }
  const double chart_bottom = y - gap;
  const double height = chart_bottom + 34;
  auto X = [&](double t) { return label_w + chart_w * t / tmax; };

  std::string title = s.method.empty() ? std::string("schedule") : s.method;
  const std::string gname = g.name.empty() ? std::string("graph") : g.name;
  const std::string pname = plat.name.empty() ? std::string("platform") : plat.name;

  std::string o;
  o.reserve(4096 + 400 * static_cast<size_t>(g.num_ops() + static_cast<int>(r.transfers.size())));
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<meta name=\"generator\" content=\"diviml " DIVIML_VERSION "\">\n";
  o += "<title>" + xml_escape(title + " \xc2\xb7 " + gname + " on " + pname + " \xc2\xb7 makespan " +
                              fmt_time(r.makespan)) +
       "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n";
  o += "<h1>" + xml_escape(title) + " \xc2\xb7 " + xml_escape(gname) + " on " + xml_escape(pname) +
       " \xc2\xb7 makespan <span class=\"ms\" data-makespan-s=\"" + fmt_g(r.makespan, 12) + "\">" +
       fmt_time(r.makespan) + "</span></h1>\n";

  // Meta line.
  o += "<p class=\"meta\">status <b>" + std::string(to_string(s.status)) + "</b> \xc2\xb7 <b>" +
       std::to_string(g.num_ops()) + "</b> ops on <b>" + std::to_string(K) + "</b> devices \xc2\xb7 <b>" +
       std::to_string(r.transfers.size()) + "</b> transfers";
  if (s.solve_seconds > 0) o += " \xc2\xb7 solved in <b>" + fmt_time(s.solve_seconds) + "</b>";
  if (std::isfinite(s.lower_bound) && s.lower_bound > 0) {
    o += " \xc2\xb7 lower bound <b>" + fmt_time(s.lower_bound) + "</b> (gap <b>" +
         fmt_f(100.0 * (r.makespan - s.lower_bound) / s.lower_bound, 1) + "%</b>)";
  }
  if (std::isfinite(s.claimed_makespan) && std::fabs(s.claimed_makespan - r.makespan) > 1e-9 * std::max(1.0, r.makespan))
    o += " \xc2\xb7 solver claimed <b>" + fmt_time(s.claimed_makespan) + "</b>";
  if (plat.io_device >= 0 && plat.io_device < K)
    o += " \xc2\xb7 I/O on <b>" + xml_escape(device_name(pb, plat.io_device)) + "</b>";
  if (!r.memory_violations.empty())
    o += " \xc2\xb7 <b style=\"color:#c53030\">" + std::to_string(r.memory_violations.size()) +
         " memory violation(s)</b>";
  o += "</p>\n";

  // Chart.
  o += "<div class=\"chart\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt_f(width, 0) +
       "\" height=\"" + fmt_f(height, 0) + "\" viewBox=\"0 0 " + fmt_f(width, 0) + " " + fmt_f(height, 0) +
       "\" role=\"img\" aria-label=\"Gantt chart\">\n";

  // Lane backgrounds and labels.
  for (size_t i = 0; i < lanes.size(); ++i) {
    const Lane& l = lanes[i];
    const double ly = lane_y[i], lh = lane_height(l);
    if (l.is_device) {
      o += "<g class=\"lane device\" data-device=\"" + xml_escape(l.label) + "\">";
    } else {
      o += "<g class=\"lane link\" data-from=\"" + xml_escape(device_name(pb, l.from)) + "\" data-to=\"" +
           xml_escape(device_name(pb, l.to)) + "\">";
    }
    o += "<rect class=\"lane-bg" + std::string(l.is_device ? "" : " link") + "\" x=\"" + fmt_f(label_w, 1) +
         "\" y=\"" + fmt_f(ly, 1) + "\" width=\"" + fmt_f(chart_w, 1) + "\" height=\"" + fmt_f(lh, 1) + "\"/>";
    if (l.is_device) {
      const Device& d = plat.devices[static_cast<size_t>(l.dev)];
      const double util = tmax > 0 ? busy[static_cast<size_t>(l.dev)] / tmax : 0;
      o += "<text class=\"lane-label\" x=\"8\" y=\"" + fmt_f(ly + lh / 2 - 2, 1) + "\">" +
           xml_escape(l.label) + "</text>";
      o += "<text class=\"lane-sub\" x=\"8\" y=\"" + fmt_f(ly + lh / 2 + 10, 1) + "\">" +
           std::string(to_string(d.kind)) + " \xc2\xb7 " + std::to_string(ops_on[static_cast<size_t>(l.dev)]) +
           " ops \xc2\xb7 " + fmt_f(100 * util, 0) + "%</text>";
    } else {
      o += "<text class=\"lane-sub\" x=\"8\" y=\"" + fmt_f(ly + lh / 2 + 3.5, 1) + "\">" + xml_escape(l.label) +
           "</text>";
    }
    o += "</g>\n";
  }

  // Grid and axis.
  const double step = nice_step(tmax * unit.per_second, 10) / unit.per_second;
  const int dec = decimals_for_step(step * unit.per_second);
  o += "<g class=\"axis-g\">";
  for (int i = 0;; ++i) {
    const double t = i * step;
    if (t > tmax * (1 + 1e-9)) break;
    const double x = X(t);
    o += "<line class=\"grid\" x1=\"" + fmt_f(x, 1) + "\" y1=\"" + fmt_f(top_pad, 1) + "\" x2=\"" + fmt_f(x, 1) +
         "\" y2=\"" + fmt_f(chart_bottom, 1) + "\"/>";
    o += "<text class=\"tick\" text-anchor=\"middle\" x=\"" + fmt_f(x, 1) + "\" y=\"" + fmt_f(chart_bottom + 14, 1) +
         "\">" + fmt_f(t * unit.per_second, dec) + "</text>";
  }
  o += "<line class=\"axis\" x1=\"" + fmt_f(label_w, 1) + "\" y1=\"" + fmt_f(chart_bottom, 1) + "\" x2=\"" +
       fmt_f(label_w + chart_w, 1) + "\" y2=\"" + fmt_f(chart_bottom, 1) + "\"/>";
  o += "<text class=\"tick\" text-anchor=\"middle\" x=\"" + fmt_f(label_w + chart_w / 2, 1) + "\" y=\"" +
       fmt_f(chart_bottom + 29, 1) + "\">time (" + unit.name + ")</text>";
  o += "</g>\n";

  // Bars.
  for (size_t i = 0; i < lanes.size(); ++i) {
    const Lane& l = lanes[i];
    const double ly = lane_y[i], lh = lane_height(l);
    const int vis_rows = l.is_device ? l.rows : std::min(l.rows, 12);
    const double row_h = (lh - 6) / vis_rows;
    const double bar_h = std::max(1.0, row_h - (vis_rows > 1 ? 1.0 : 0.0));
    o += l.is_device ? "<g class=\"ops\">\n" : "<g class=\"transfers\">\n";
    for (const Item& it : l.items) {
      const double x0 = X(it.t0);
      const double w = std::max(0.8, X(it.t1) - x0);
      const double by = ly + 3 + (it.row % vis_rows) * row_h;
      std::string colour, tip, name;
      std::string cls = "bar";
      if (it.is_op) {
        colour = key.op_colour(pb, it.index, l.dev);
        tip = op_tooltip(pb, it.index, l.dev, it.t0, it.t1);
        name = g.ops[static_cast<size_t>(it.index)].name;
        cls += " op";
      } else {
        const Transfer& tr = r.transfers[static_cast<size_t>(it.index)];
        colour = tr.io ? kIoColour : kTransferColour;
        tip = transfer_tooltip(pb, tr);
        name = tr.tensor >= 0 && tr.tensor < g.num_tensors() ? g.tensors[static_cast<size_t>(tr.tensor)].name : "";
        cls += tr.io ? " xfer io" : " xfer";
      }
      o += "<rect class=\"" + cls + "\" x=\"" + fmt_f(x0, 2) + "\" y=\"" + fmt_f(by, 1) + "\" width=\"" +
           fmt_f(w, 2) + "\" height=\"" + fmt_f(bar_h, 1) + "\" fill=\"" + colour + "\"";
      if (w > 4) o += " stroke=\"#fff\" stroke-width=\"0.6\"";
      if (it.row >= vis_rows) o += " fill-opacity=\"0.6\"";
      o += "><title>" + xml_escape(tip) + "</title></rect>\n";
      if (bar_h >= 11) {
        // A micro-batch's ops are labelled "mb<j> <op>" (the micro-batch first: it survives a narrow bar).
        size_t mb_len = 0;
        const int mb = it.is_op ? micro_batch_of(g, name, &mb_len) : -1;
        std::string label =
            fit_label(mb >= 0 ? std::string_view(name).substr(mb_len) : std::string_view(name),
                      mb >= 0 ? w - 6.3 * static_cast<double>(mb_len) : w,
                      it.is_op ? std::string_view(g.ops[static_cast<size_t>(it.index)].type) : std::string_view());
        if (mb >= 0) {
          const std::string tag = name.substr(0, mb_len - 1);
          label = !label.empty() ? tag + " " + label : fit_label(tag, w);
        }
        if (!label.empty())
          o += "<text class=\"bl\" x=\"" + fmt_f(x0 + 3, 2) + "\" y=\"" + fmt_f(by + bar_h / 2 + 3.8, 1) +
               "\" fill=\"" + text_on(colour) + "\">" + xml_escape(label) + "</text>\n";
      }
    }
    o += "</g>\n";
  }

  // Makespan marker.
  {
    const double x = X(std::isfinite(r.makespan) ? r.makespan : tmax);
    o += "<line class=\"mk\" x1=\"" + fmt_f(x, 1) + "\" y1=\"" + fmt_f(top_pad - 6, 1) + "\" x2=\"" + fmt_f(x, 1) +
         "\" y2=\"" + fmt_f(chart_bottom, 1) + "\"/>";
    o += "<text class=\"mk-label\" text-anchor=\"end\" x=\"" + fmt_f(x - 4, 1) + "\" y=\"" + fmt_f(top_pad - 8, 1) +
         "\">makespan " + fmt_time(r.makespan) + "</text>\n";
  }
  o += "</svg>\n</div>\n";

  // Legend.
  o += "<div class=\"legend\">";
  const char* mode = key.mode == ColourKey::ByClass ? "op class" : key.mode == ColourKey::ByType ? "op type" : "device";
  o += std::string("<span style=\"color:#718096\">colour: ") + mode + "</span>";
  for (const auto& [label, colour] : key.legend)
    o += "<span><i style=\"background:" + colour + "\"></i>" + xml_escape(label) + "</span>";
  o += std::string("<span><i style=\"background:") + kTransferColour + "\"></i>transfer</span>";
  o += std::string("<span><i style=\"background:") + kIoColour + "\"></i>I/O transfer</span>";
  o += "</div>\n";
  o += "<div id=\"details\">Hover a bar for its name and times; click to pin them here.</div>\n";

  // Device table.
  o += "<table class=\"devices\">\n<tr><th>device</th><th>kind</th><th>ops</th><th>busy</th><th>utilisation</th>"
       "<th>weights</th><th>peak activations</th><th>usable memory</th></tr>\n";
  for (int k = 0; k < K; ++k) {
    const Device& d = plat.devices[static_cast<size_t>(k)];
    const double b = busy[static_cast<size_t>(k)];
    o += "<tr><td>" + xml_escape(d.name) + "</td><td>" + std::string(to_string(d.kind)) + "</td><td>" +
         std::to_string(ops_on[static_cast<size_t>(k)]) + "</td><td>" + fmt_time(b) + "</td><td>" +
         fmt_f(100 * b / tmax, 1) + "%</td>";
    if (static_cast<size_t>(k) < r.memory.size()) {
      const DeviceMemory& m = r.memory[static_cast<size_t>(k)];
      const double usable = m.capacity_bytes - m.reserve_bytes;
      o += "<td>" + fmt_bytes(m.weight_bytes) + "</td><td>" + fmt_bytes(m.peak_activation_bytes) + "</td><td>" +
           (std::isfinite(usable) ? fmt_bytes(usable) : std::string("unbounded")) + "</td>";
    } else {
      o += "<td>\xe2\x80\x93</td><td>\xe2\x80\x93</td><td>\xe2\x80\x93</td>";
    }
    o += "</tr>\n";
  }
  o += "</table>\n";
  if (!r.memory_violations.empty()) {
    o += "<ul class=\"violations\">";
    for (const std::string& m : r.memory_violations) o += "<li>" + xml_escape(m) + "</li>";
    o += "</ul>\n";
  }
  if (!s.notes.empty()) o += "<p class=\"meta\">" + xml_escape(s.notes) + "</p>\n";
  o += "<footer>generated by diviml " DIVIML_VERSION "</footer>\n";
  o += std::string("<script>") + kScript + "</script>\n</body>\n</html>\n";
  return o;
}

std::string chrome_trace_json(const Problem& pb, const Schedule& s, const LatencyResult& r) {
  using nlohmann::json;
  const Graph& g = pb.graph();
  const int K = pb.num_devices();
  const int n = pb.num_ops();
  constexpr double kUs = 1e6;
  json events = json::array();
  const int pid = 1;
  events.push_back({{"ph", "M"}, {"pid", pid}, {"tid", 0}, {"name", "process_name"},
                    {"args", {{"name", (s.method.empty() ? std::string("schedule") : s.method) + " \xc2\xb7 " +
                                           g.name + " on " + pb.platform().name}}}});
  auto thread_meta = [&](int tid, const std::string& name) {
    events.push_back({{"ph", "M"}, {"pid", pid}, {"tid", tid}, {"name", "thread_name"}, {"args", {{"name", name}}}});
    events.push_back({{"ph", "M"}, {"pid", pid}, {"tid", tid}, {"name", "thread_sort_index"},
                      {"args", {{"sort_index", tid}}}});
  };
  // Devices are tids 1..K; link directions follow. Transfers that overlap on one link (no
  // contention) are spread over sub-threads so that each thread's events nest properly.
  for (int k = 0; k < K; ++k) thread_meta(k + 1, device_name(pb, k));
  const bool have_times = static_cast<int>(r.start.size()) >= n && static_cast<int>(r.finish.size()) >= n;
  for (OpId v = 0; v < n && have_times; ++v) {
    const int k = v < static_cast<int>(s.device.size()) ? s.device[static_cast<size_t>(v)] : -1;
    const double t0 = r.start[static_cast<size_t>(v)], t1 = r.finish[static_cast<size_t>(v)];
    if (!valid_times(t0, t1)) continue;
    const Op& op = g.ops[static_cast<size_t>(v)];
    events.push_back({{"ph", "X"}, {"pid", pid}, {"tid", k + 1}, {"name", op.name}, {"cat", "op"},
                      {"ts", t0 * kUs}, {"dur", (t1 - t0) * kUs},
                      {"args", {{"type", op.type}, {"class", std::string(to_string(op.op_class))},
                                {"device", device_name(pb, k)}, {"start_s", t0}, {"finish_s", t1}}}});
  }
  // Group transfers by direction (from, to), pack overlapping ones into rows.
  std::map<std::pair<int, int>, std::vector<size_t>> by_link;
  for (size_t i = 0; i < r.transfers.size(); ++i) {
    const Transfer& tr = r.transfers[i];
    if (!valid_times(tr.start, tr.finish)) continue;
    by_link[{tr.from, tr.to}].push_back(i);
  }
  int next_tid = K + 1;
  for (const auto& [key, idx] : by_link) {
    std::vector<std::pair<double, double>> iv;
    for (size_t i : idx) iv.emplace_back(r.transfers[i].start, r.transfers[i].finish);
    std::vector<int> row;
    const int rows = pack_rows(iv, row);
    const int base = next_tid;
    const std::string lname = device_name(pb, key.first) + " \xe2\x86\x92 " + device_name(pb, key.second);
    for (int q = 0; q < rows; ++q) thread_meta(base + q, q == 0 ? lname : lname + " #" + std::to_string(q + 1));
    next_tid += rows;
    for (size_t j = 0; j < idx.size(); ++j) {
      const Transfer& tr = r.transfers[idx[j]];
      const bool valid_t = tr.tensor >= 0 && tr.tensor < g.num_tensors();
      const std::string tname = valid_t ? g.tensors[static_cast<size_t>(tr.tensor)].name : std::string("(tensor)");
      events.push_back({{"ph", "X"}, {"pid", pid}, {"tid", base + row[j]}, {"name", tname},
                        {"cat", tr.io ? "io" : "transfer"}, {"ts", tr.start * kUs},
                        {"dur", (tr.finish - tr.start) * kUs},
                        {"args", {{"tensor", tname},
                                  {"bytes", valid_t ? g.tensors[static_cast<size_t>(tr.tensor)].bytes : 0.0},
                                  {"from", device_name(pb, tr.from)}, {"to", device_name(pb, tr.to)},
                                  {"io", tr.io}, {"start_s", tr.start}, {"finish_s", tr.finish}}}});
    }
  }
  json doc = {{"traceEvents", std::move(events)},
              {"displayTimeUnit", unit_for(r.makespan).per_second >= 1e6 ? "ns" : "ms"},
              {"otherData",
               {{"generator", "diviml " DIVIML_VERSION},
                {"method", s.method},
                {"status", std::string(to_string(s.status))},
                {"graph", g.name},
                {"platform", pb.platform().name},
                {"makespan_s", r.makespan}}}};
  // Non-UTF-8 names are replaced rather than throwing.
  return doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string schedule_dot(const Problem& pb, const Schedule& s) {
  const Graph& g = pb.graph();
  const int K = pb.num_devices();
  const int n = pb.num_ops();
  auto dev_of = [&](OpId v) { return v < static_cast<int>(s.device.size()) ? s.device[static_cast<size_t>(v)] : -1; };
  auto colour_of = [&](int k) { return std::string(k >= 0 && k < K ? palette(k) : "#ffffff"); };

  std::string o;
  o.reserve(256 + 120 * static_cast<size_t>(n));
  o += "digraph \"" + dot_escape(g.name.empty() ? std::string("graph") : g.name) + "\" {\n";
  o += "  label=\"" + dot_escape((s.method.empty() ? std::string("schedule") : s.method) + " on " +
                                 pb.platform().name) +
       "\";\n  labelloc=t;\n  rankdir=TB;\n  fontname=\"Helvetica\";\n";
  o += "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n";
  o += "  edge [color=\"#a0aec0\", arrowsize=0.6];\n";
  // Legend: one node per device.
  o += "  subgraph cluster_legend {\n    label=\"devices\";\n    style=dashed;\n    color=\"#a0aec0\";\n";
  for (int k = 0; k < K; ++k)
    o += "    dev" + std::to_string(k) + " [label=\"" + dot_escape(device_name(pb, k)) + "\", fillcolor=\"" +
         colour_of(k) + "\", fontcolor=\"" + text_on(colour_of(k)) + "\"];\n";
  for (int k = 0; k + 1 < K; ++k)
    o += "    dev" + std::to_string(k) + " -> dev" + std::to_string(k + 1) + " [style=invis];\n";
  o += "  }\n";
  for (OpId v = 0; v < n; ++v) {
    const Op& op = g.ops[static_cast<size_t>(v)];
    const int k = dev_of(v);
    o += "  op" + std::to_string(v) + " [label=\"" + dot_escape(op.name) + "\\n" + dot_escape(op.type) +
         "\", fillcolor=\"" + colour_of(k) + "\", fontcolor=\"" + text_on(colour_of(k)) + "\", tooltip=\"" +
         dot_escape(op.name + " on " + device_name(pb, k)) + "\"];\n";
  }
  // Graph inputs and outputs (only where an I/O device exists do they cost anything).
  const int io = pb.io_device();
  for (TensorId t = 0; t < g.num_tensors(); ++t) {
    const Tensor& ten = g.tensors[static_cast<size_t>(t)];
    if (ten.producer == kNoOp && !ten.consumers.empty()) {
      o += "  t" + std::to_string(t) + " [shape=ellipse, style=filled, fillcolor=\"#edf2f7\", label=\"" +
           dot_escape(ten.name) + "\"];\n";
      for (OpId c : ten.consumers) {
        const bool cross = io >= 0 && dev_of(c) != io;
        o += "  t" + std::to_string(t) + " -> op" + std::to_string(c) +
             (cross ? " [color=\"#c53030\", penwidth=2]" : "") + ";\n";
      }
    }
    if (ten.is_graph_output && ten.producer != kNoOp) {
      o += "  t" + std::to_string(t) + " [shape=ellipse, style=filled, fillcolor=\"#edf2f7\", label=\"" +
           dot_escape(ten.name) + "\"];\n";
      const bool cross = io >= 0 && dev_of(ten.producer) != io;
      o += "  op" + std::to_string(ten.producer) + " -> t" + std::to_string(t) +
           (cross ? " [color=\"#c53030\", penwidth=2]" : "") + ";\n";
    }
  }
  // Op-to-op edges, one per (producer, consumer) pair; cross-device edges in red with the bytes moved.
  std::map<std::pair<OpId, OpId>, double> edges;
  for (const Tensor& ten : g.tensors) {
    if (ten.producer == kNoOp) continue;
    for (OpId c : ten.consumers) edges[{ten.producer, c}] += ten.bytes;
  }
  for (const auto& [e, bytes] : edges) {
    const bool cross = dev_of(e.first) != dev_of(e.second);
    o += "  op" + std::to_string(e.first) + " -> op" + std::to_string(e.second);
    if (cross) o += " [color=\"#c53030\", penwidth=2, label=\"" + dot_escape(fmt_bytes(bytes)) + "\", fontsize=8, fontcolor=\"#c53030\"]";
    o += ";\n";
  }
  o += "}\n";
  return o;
}

}  // namespace diviml

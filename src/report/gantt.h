// Visual and trace exports of a simulated schedule.
#pragma once

#include <string>

#include "schedule/simulator.h"

namespace diviml {

/// A self-contained HTML page (inline SVG and CSS, no network): one lane per device and per
/// link, ops and transfers as bars with name and times on hover; method and makespan in title.
std::string gantt_html(const Problem& pb, const Schedule& s, const LatencyResult& r);

/// Chrome trace / Perfetto JSON (chrome://tracing): one "thread" per device and link.
std::string chrome_trace_json(const Problem& pb, const Schedule& s, const LatencyResult& r);

/// Graphviz DOT of the graph with ops coloured by device.
std::string schedule_dot(const Problem& pb, const Schedule& s);

}  // namespace diviml

#include "schedule/schedule.h"

#include "schedule/run_order.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace diviml {

std::string_view to_string(SolveStatus s) {
  switch (s) {
    case SolveStatus::Heuristic: return "heuristic";
    case SolveStatus::Feasible: return "feasible";
    case SolveStatus::Optimal: return "optimal";
    case SolveStatus::TimeLimit: return "time_limit";
    case SolveStatus::Interrupted: return "interrupted";
  }
  return "heuristic";
}

Schedule schedule_from_order(const Problem& pb, const std::vector<int>& device,
                             const std::vector<OpId>& global_order) {
  Schedule s;
  s.device = device;
  s.order.assign(pb.num_devices(), {});
  for (OpId v : global_order) s.order[device[v]].push_back(v);
  return s;
}

Schedule schedule_from_times(const Problem& pb, const std::vector<int>& device,
                             const std::vector<double>& start) {
  // By run midpoints, not starts: a zero-duration op ties with the op that follows it (run_order.h).
  Schedule s = schedule_from_order(pb, device, run_order(pb, pb.graph().topo_order(), device, start));
  s.start = start;
  return s;
}

Schedule single_device_schedule(const Problem& pb, int k) {
  return schedule_from_order(pb, std::vector<int>(pb.num_ops(), k), pb.graph().topo_order());
}

std::vector<OpId> linear_extension(const Graph& g, const std::vector<OpId>& ops, const std::vector<double>& key) {
  const int n = g.num_ops();
  std::vector<char> in(n, 0);
  for (OpId v : ops) in[v] = 1;
  std::vector<int> indeg(n, 0);
  for (OpId v : ops)
    for (OpId u : g.pred(v))
      if (in[u]) ++indeg[v];
  const auto& rank = g.topo_rank();
  using Item = std::tuple<double, int, OpId>;
  std::vector<Item> heap;
  auto cmp = [](const Item& a, const Item& b) { return a > b; };
  for (OpId v : ops)
    if (indeg[v] == 0) heap.emplace_back(key[v], rank[v], v);
  std::make_heap(heap.begin(), heap.end(), cmp);
  std::vector<OpId> out;
  out.reserve(ops.size());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), cmp);
    const OpId v = std::get<2>(heap.back());
    heap.pop_back();
    out.push_back(v);
    for (OpId w : g.succ(v))
      if (in[w] && --indeg[w] == 0) {
        heap.emplace_back(key[w], rank[w], w);
        std::push_heap(heap.begin(), heap.end(), cmp);
      }
  }
  return out;
}

}  // namespace diviml

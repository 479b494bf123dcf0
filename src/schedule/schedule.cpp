#include "schedule/schedule.h"

#include <algorithm>
#include <numeric>

namespace diviml {

std::string_view to_string(SolveStatus s) {
  switch (s) {
    case SolveStatus::Heuristic: return "heuristic";
    case SolveStatus::Feasible: return "feasible";
    case SolveStatus::Optimal: return "optimal";
    case SolveStatus::TimeLimit: return "time_limit";
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
  std::vector<OpId> order(pb.num_ops());
  std::iota(order.begin(), order.end(), 0);
  const auto& rank = pb.graph().topo_rank();
  std::stable_sort(order.begin(), order.end(), [&](OpId a, OpId b) {
    return start[a] != start[b] ? start[a] < start[b] : rank[a] < rank[b];
  });
  Schedule s = schedule_from_order(pb, device, order);
  s.start = start;
  return s;
}

Schedule single_device_schedule(const Problem& pb, int k) {
  return schedule_from_order(pb, std::vector<int>(pb.num_ops(), k), pb.graph().topo_order());
}

}  // namespace diviml

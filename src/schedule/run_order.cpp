#include "schedule/run_order.h"

#include "schedule/schedule.h"

namespace diviml {

std::vector<OpId> run_order(const Problem& pb, const std::vector<OpId>& ops, const std::vector<int>& device,
                            const std::vector<double>& start) {
  std::vector<double> key(start.size(), 0.0);
  for (OpId v : ops) key[v] = start[v] + 0.5 * pb.exec(v, device[v]);
  return linear_extension(pb.graph(), ops, key);
}

}  // namespace diviml

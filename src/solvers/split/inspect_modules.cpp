// `diviml inspect GRAPH --modules`: series modules and the parts of the splitting heuristic.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "graph/series.h"
#include "problem/problem.h"
#include "solvers/split/split.h"

namespace diviml {

std::string describe_modules(const Graph& g, const Problem* pb, const SolveOptions& opt, bool json) {
  const SeriesDecomposition d = series_decomposition(g);
  const Partition p = pb ? split_into_parts(*pb, d, opt) : split_into_parts(g, d, opt);
  const int m = static_cast<int>(d.modules.size());
  std::vector<std::vector<int>> parts_of(m);
  for (size_t i = 0; i < p.parts.size(); ++i) parts_of[p.module_of_part[i]].push_back(static_cast<int>(i));
  std::vector<long long> mod_pairs(m), part_pairs(p.parts.size());
  long long total_pairs = 0, max_part = 0;
  for (int i = 0; i < m; ++i) {
    mod_pairs[i] = count_incomparable_pairs(g, d.modules[i]);
    total_pairs += mod_pairs[i];
  }
  for (size_t i = 0; i < p.parts.size(); ++i) {
    part_pairs[i] = count_incomparable_pairs(g, p.parts[i]);
    max_part = std::max(max_part, part_pairs[i]);
  }
  const std::string budget = opt.max_part_ops > 0 ? fmt::format("{} ops", opt.max_part_ops)
                                                  : fmt::format("{} incomparable pairs", opt.max_part_pairs);
  // Parts that share a wave with an earlier part: solvable in parallel with --threads.
  const std::vector<int> waves = independent_waves(g, p.parts);
  const int parallel = static_cast<int>(p.parts.size()) - (waves.empty() ? 0 : waves.back() + 1);
  auto cut_name = [&](int i) -> std::string {
    return i < static_cast<int>(d.cut_vertices.size()) ? g.ops[d.cut_vertices[i]].name : std::string();
  };

  if (json) {
    nlohmann::json j;
    j["graph"] = g.name;
    j["ops"] = g.num_ops();
    j["budget"] = opt.max_part_ops > 0 ? nlohmann::json{{"max_part_ops", opt.max_part_ops}}
                                       : nlohmann::json{{"max_part_pairs", opt.max_part_pairs}};
    j["weights"] = pb ? "transfer seconds" : "tensor bytes";
    j["num_modules"] = m;
    j["num_cut_vertices"] = d.cut_vertices.size();
    j["num_parts"] = p.parts.size();
    j["num_waves"] = waves.empty() ? 0 : waves.back() + 1;
    j["parts_beside_an_earlier_part"] = parallel;
    j["incomparable_pairs_within_modules"] = total_pairs;
    nlohmann::json mods = nlohmann::json::array();
    for (int i = 0; i < m; ++i) {
      nlohmann::json mj;
      mj["index"] = i;
      mj["ops"] = d.modules[i].size();
      mj["incomparable_pairs"] = mod_pairs[i];
      const std::string c = cut_name(i);
      mj["cut_vertex"] = c.empty() ? nlohmann::json(nullptr) : nlohmann::json(c);
      mj["first_op"] = g.ops[d.modules[i].front()].name;
      nlohmann::json parts = nlohmann::json::array();
      for (int pi : parts_of[i])
        parts.push_back({{"index", pi}, {"ops", p.parts[pi].size()}, {"incomparable_pairs", part_pairs[pi]}});
      mj["parts"] = std::move(parts);
      mods.push_back(std::move(mj));
    }
    j["modules"] = std::move(mods);
    return j.dump(2) + "\n";
  }

  std::string out = fmt::format(
      "graph {}: {} ops, {} series modules ({} cut vertices), {} parts (budget {}; largest part {} pairs; {} "
      "solvable beside an earlier part)\n",
      g.name, g.num_ops(), m, d.cut_vertices.size(), p.parts.size(), budget, max_part, parallel);
  out += fmt::format("{:>6}  {:>5}  {:>9}  {:>5}  {:<28}  {}\n", "module", "ops", "pairs", "parts", "cut vertex",
                     "parts: ops/pairs");
  for (int i = 0; i < m; ++i) {
    std::string detail;
    if (parts_of[i].size() > 1)
      for (int pi : parts_of[i])
        detail += fmt::format("{}{}/{}", detail.empty() ? "" : " ", p.parts[pi].size(), part_pairs[pi]);
    std::string c = cut_name(i);
    if (c.empty()) c.push_back('-');  // not c = "-": GCC 12 warns falsely (-Wrestrict)
    if (c.size() > 28) c = c.substr(0, 25) + "...";
    out += fmt::format("{:>6}  {:>5}  {:>9}  {:>5}  {:<28}  {}\n", i, d.modules[i].size(), mod_pairs[i],
                       parts_of[i].size(), c, detail);
  }
  return out;
}

nlohmann::json modules_report_json(const Problem& pb, const SolveOptions& opt) {
  return nlohmann::json::parse(describe_modules(pb.graph(), &pb, opt, true));
}

std::string modules_report_text(const Problem& pb, const SolveOptions& opt) {
  return describe_modules(pb.graph(), &pb, opt, false);
}

}  // namespace diviml

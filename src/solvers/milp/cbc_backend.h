// MILP backends: an abstract interface and the COIN-OR CBC implementation (C++ API).
// Another backend (HiGHS, Gurobi, ...) is one more subclass of MilpBackend.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "solvers/milp/model.h"
#include "solvers/progress.h"

namespace diviml::milp {

enum class MilpStatus {
  Optimal,     ///< proven optimal (within the gap tolerances of BackendOptions)
  Feasible,    ///< a solution, not proven optimal (time limit or interrupt)
  Infeasible,  ///< proven infeasible
  NoSolution,  ///< stopped before any solution was found
};
const char* to_string(MilpStatus s);

struct BackendOptions {
  double time_limit_s = 60;
  int threads = 1;
  /// Objective values are multiplied by this before being reported through `progress`
  /// (the latency model works in scaled time units; progress is in seconds).
  double objective_unit = 1;
  std::string stage = "milp";
  std::function<void(const Progress&)> progress;  ///< may be empty
  double progress_interval_s = 2;
  const std::atomic<bool>* interrupt = nullptr;   ///< stop and return the best solution when set
  double absolute_gap = 1e-9;   ///< stop when incumbent - bound <= this (model units)
  double relative_gap = 1e-9;   ///< ... or (incumbent - bound) / |incumbent| <= this
  long long max_nodes = -1;     ///< branch-and-bound node budget (< 0: none); reproducible
};

struct MilpSolution {
  MilpStatus status = MilpStatus::NoSolution;
  std::vector<double> values;   ///< best solution (empty when none)
  double objective = 0;         ///< its objective
  double bound = 0;             ///< best proven bound (-inf when unknown)
  long long nodes = 0;
  double seconds = 0;
  bool interrupted = false;     ///< stopped by BackendOptions::interrupt
  bool initial_accepted = false;  ///< the model's initial solution was used as an incumbent
};

class MilpBackend {
 public:
  virtual ~MilpBackend() = default;
  virtual std::string name() const = 0;
  /// Solves the model; never throws on a solver outcome (infeasible, no solution): see status.
  virtual MilpSolution solve(const Model& m, const BackendOptions& opt) = 0;
};

/// CBC 2.10 through CbcMain0/CbcMain1 (standard presolve, cuts and heuristics), warm start as a
/// MIP start, own log silenced, progress and interrupt through event handlers (CBC between nodes,
/// Clp inside every LP, so that a stop is obeyed within an iteration even in the root node).
std::unique_ptr<MilpBackend> make_cbc_backend();

/// The process-wide lock every CBC/CLP call in diviml holds (docs/api.md, thread safety): CBC
/// 2.10 is not reentrant, so solves from several threads run one after the other.
std::mutex& cbc_mutex();

/// Optimal value of the LP relaxation (integrality dropped) with CLP; NaN unless proven optimal
/// (also when time_limit_s > 0 and Clp's wall-clock limit stops it first).
double lp_relaxation_value(const Model& m, double time_limit_s = 0);

}  // namespace diviml::milp

#include "solvers/milp/cbc_backend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "solvers/milp/milp_settings.h"

#include <coin/CbcBranchActual.hpp>
#include <coin/CbcEventHandler.hpp>
#include <coin/CbcModel.hpp>
#include <coin/CbcSolver.hpp>
#include <coin/ClpEventHandler.hpp>
#include <coin/CoinMessageHandler.hpp>
#include <coin/CoinPackedMatrix.hpp>
#include <coin/OsiClpSolverInterface.hpp>

namespace diviml::milp {

const char* to_string(MilpStatus s) {
  switch (s) {
    case MilpStatus::Optimal: return "optimal";
    case MilpStatus::Feasible: return "feasible";
    case MilpStatus::Infeasible: return "infeasible";
    case MilpStatus::NoSolution: return "no solution";
  }
  return "?";
}

std::mutex& cbc_mutex() {
  static std::mutex mu;
  return mu;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMinPreprocessSeconds = 20;
constexpr double kCbcNoSolution = 1e49;  // CBC reports 1e50 (COIN_DBL_MAX-ish) without an incumbent

/// State shared by the event handler clones (one per CBC thread) and the reporter thread.
struct Shared {
  std::mutex mu;
  double incumbent = kNaN;  // model units
  /// Latest bound seen by each handler clone: CBC's worker threads report the bound of their
  /// own node, so only the minimum over the clones is a valid global bound.
  std::map<const void*, double> bounds;
  long long nodes = 0;
  double global_bound() const {
    double b = kNaN;
    for (const auto& [h, v] : bounds) b = std::isnan(b) ? v : std::min(b, v);
    return b;
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> stopped_by_us{false};
  /// The caller's interrupt flag, read directly by the handlers (no reporter-thread delay).
  const std::atomic<bool>* interrupt = nullptr;
  /// Set once a Clp handler cut an LP short: from then on CBC may take an unfinished LP for an
  /// infeasible one and prune, so its own final bound and "infeasible" verdict are not trusted.
  std::atomic<bool> lp_aborted{false};
  /// Set when the stop is first seen; the handlers then stop recording bounds.
  std::atomic<bool> frozen{false};
  bool should_stop() {
    if (!stop.load() && interrupt != nullptr && interrupt->load()) stop = true;
    return stop.load();
  }
};

/// Stops Clp's simplex within an iteration once a stop is requested. CBC calls its event handler
/// only between nodes, and its root node (LP, cut passes, heuristics' LPs and sub-MIPs) can run
/// for minutes; every one of those LPs runs in a clone of this solver, which clones the handler.
class ClpStop : public ClpEventHandler {
 public:
  explicit ClpStop(Shared* s) : s_(s) {}
  ClpStop(const ClpStop& o) : ClpEventHandler(o), s_(o.s_) {}
  ClpEventHandler* clone() const override { return new ClpStop(*this); }
  int event(Event e) override {
    if ((e == endOfIteration || e == endOfFactorization) && s_->should_stop()) {
      s_->frozen = true;
      s_->lp_aborted = true;
      s_->stopped_by_us = true;
      return 0;  // Clp: status 5, stopped by the event handler
    }
    return -1;
  }

 private:
  Shared* s_;
};

class Handler : public CbcEventHandler {
 public:
  explicit Handler(Shared* s) : s_(s) {}
  Handler(const Handler& o) : CbcEventHandler(o), s_(o.s_) {}
  CbcEventHandler* clone() const override { return new Handler(*this); }

  CbcAction event(CbcEvent ev) override {
    const bool stopping = s_->should_stop();
    if (stopping) s_->frozen = true;
    if (model_ != nullptr && !s_->frozen.load()) {
      const double inc = model_->getObjValue();
      const double bnd = model_->getBestPossibleObjValue();
      std::lock_guard<std::mutex> lock(s_->mu);
      if (std::isfinite(inc) && std::fabs(inc) < kCbcNoSolution)
        s_->incumbent = std::isnan(s_->incumbent) ? inc : std::min(s_->incumbent, inc);
      if (std::isfinite(bnd) && std::fabs(bnd) < kCbcNoSolution) s_->bounds[this] = bnd;
      s_->nodes = std::max<long long>(s_->nodes, model_->getNodeCount());
    }
    // Stop only between nodes of the main search. Returning `stop` from other events, or from
    // the sub-MIPs that CBC's heuristics run with a clone of this handler, left CglPreProcess
    // with a half-built model and crashed in postProcess (seen with split's short part solves).
    const bool safe_point = ev == node || ev == treeStatus;
    const bool main_search = model_ == nullptr || model_->parentModel() == nullptr;
    if (stopping && safe_point && main_search) {
      s_->stopped_by_us = true;
      return stop;
    }
    // Elsewhere (root cut passes, heuristics, sub-MIPs) CBC's own time limit is made to strike:
    // it checks it between cut passes and heuristics, and sub-MIPs check their parent's too.
    if (stopping && model_ != nullptr && main_search) {
      s_->stopped_by_us = true;
      model_->setMaximumSeconds(0);
    }
    return noAction;
  }

 private:
  Shared* s_;
};

std::string arg_num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

/// Loads bounds, rows (as one triplet matrix: appending rows one by one reallocates the matrix
/// each time), objective (negated for maximisation), integrality and names into an Osi solver.
void load_model(const Model& m, OsiSolverInterface& si) {
  const double inf = si.getInfinity();
  const int nc = m.num_vars(), nr = m.num_rows();
  std::vector<double> collb(nc), colub(nc), obj(nc), rowlb(nr), rowub(nr);
  for (int j = 0; j < nc; ++j) {
    const Variable& v = m.vars[j];
    collb[j] = std::isinf(v.lb) ? -inf : v.lb;
    colub[j] = std::isinf(v.ub) ? inf : v.ub;
    obj[j] = m.minimize ? v.obj : -v.obj;
  }
  std::vector<int> ri, ci;
  std::vector<double> el;
  for (int i = 0; i < nr; ++i) {
    const Row& r = m.rows[i];
    for (const Term& t : r.terms) {
      ri.push_back(i);
      ci.push_back(t.var);
      el.push_back(t.coef);
    }
    rowlb[i] = std::isinf(r.lb) ? -inf : r.lb;
    rowub[i] = std::isinf(r.ub) ? inf : r.ub;
  }
  CoinPackedMatrix mat(false, ri.data(), ci.data(), el.data(), static_cast<CoinBigIndex>(el.size()));
  mat.setDimensions(nr, nc);
  si.loadProblem(mat, collb.data(), colub.data(), obj.data(), rowlb.data(), rowub.data());
  for (int j = 0; j < nc; ++j) {
    if (m.vars[j].integer) si.setInteger(j);
    si.setColName(j, m.vars[j].name);
  }
  for (int i = 0; i < nr; ++i) si.setRowName(i, m.rows[i].name);
}

class CbcBackend final : public MilpBackend {
 public:
  std::string name() const override { return "cbc"; }

  MilpSolution solve(const Model& m, const BackendOptions& opt) override {
    // CbcMain0/CbcMain1 keep global state (coin-or/Cbc#332): one solve at a time per process.
    // The time limit starts once the lock is held (a waiting solve gets its full budget).
    std::unique_lock<std::mutex> cbc_lock(cbc_mutex());
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const MilpSettings& settings = current_settings();
    auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
    MilpSolution out;
    out.bound = -std::numeric_limits<double>::infinity();

    // ---- load the model into CLP ----
    OsiClpSolverInterface si;
    const int nc = m.num_vars();
    load_model(m, si);
    si.messageHandler()->setLogLevel(0);
    si.getModelPtr()->messageHandler()->setLogLevel(0);

    CbcModel model(si);
    model.messageHandler()->setLogLevel(0);
    model.solver()->messageHandler()->setLogLevel(0);

    // ---- warm start: a MIP start by column name (CbcMain1 maps it through preprocessing) ----
    const bool have_initial = static_cast<int>(m.initial.size()) == nc;
    double initial_obj = kNaN;
    if (have_initial) {
      std::vector<std::pair<std::string, double>> start;
      start.reserve(nc);
      for (int j = 0; j < nc; ++j) start.emplace_back(m.vars[j].name, m.initial[j]);
      initial_obj = m.objective_value(m.initial);
      if (m.max_violation(m.initial) <= 1e-6) {
        model.setMIPStart(start);
        // Also hand it over as the incumbent so that CBC never ends without a solution.
        std::vector<double> x = m.initial;
        model.setBestSolution(x.data(), nc, m.minimize ? initial_obj : -initial_obj, true);
      }
    }

    // Branching priorities (CBC: smaller value branches first, default 1000).
    if (settings.priorities && std::any_of(m.vars.begin(), m.vars.end(), [](const Variable& v) { return v.priority != 0; })) {
      model.findIntegers(false);
      for (int i = 0; i < model.numberObjects(); ++i) {
        auto* obj = dynamic_cast<CbcSimpleInteger*>(model.modifiableObject(i));
        if (obj && m.vars[obj->columnNumber()].priority != 0) obj->setPriority(m.vars[obj->columnNumber()].priority);
      }
    }

    Shared shared;
    shared.interrupt = opt.interrupt;
    Handler handler(&shared);
    model.passInEventHandler(&handler);

    CbcSolverUsefulData data;
    data.noPrinting_ = true;
    data.useSignalHandler_ = false;
    CbcMain0(model, data);
    model.messageHandler()->setLogLevel(0);

    // Option milp.cbc_log >= 1 shows CBC's own log on stdout, for debugging.
    const std::string log_level = std::to_string(settings.cbc_log);
    if (settings.cbc_log > 0) data.noPrinting_ = false;
    std::vector<std::string> args = {"diviml-cbc",
                                     "-log", log_level,
                                     "-slog", "0",
                                     "-timeMode", "elapsed",
                                     "-sec", arg_num(std::max(0.01, opt.time_limit_s)),
                                     "-allowableGap", arg_num(opt.absolute_gap),
                                     "-ratioGap", arg_num(opt.relative_gap),
                                     "-integerTolerance", "1e-7"};
    // CBC 2.10's CglPreProcess::postProcess crashes (null read) when the time limit strikes
    // around preprocessing, which short solves (split's parts and refinement windows, module
    // bounds) hit routinely. Preprocessing pays off only on longer solves.
    if (opt.time_limit_s < kMinPreprocessSeconds) {
      args.push_back("-preprocess");
      args.push_back("off");
    }
    if (opt.max_nodes >= 0) {
      args.push_back("-maxNodes");
      args.push_back(std::to_string(opt.max_nodes));
    }
    if (opt.threads > 1) {
      args.push_back("-threads");
      args.push_back(std::to_string(opt.threads));
    }
    // Option milp.cbc_args: extra CBC options (space-separated, e.g. "-cuts off -strong 10"), for
    // configuration experiments (docs/milp.md section 9).
    if (!settings.cbc_args.empty()) {
      std::string a;
      for (const char* c = settings.cbc_args.c_str();; ++c) {
        if (*c == ' ' || *c == '\0') {
          if (!a.empty()) args.push_back(a);
          a.clear();
          if (*c == '\0') break;
        } else {
          a += *c;
        }
      }
    }
    args.push_back("-solve");
    args.push_back("-quit");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());

    // ---- reporter: progress every few seconds, interrupt and wall-clock guard ----
    std::mutex rep_mu;
    std::condition_variable rep_cv;
    bool done = false;
    std::thread reporter([&] {
      double next_report = opt.progress_interval_s;
      std::unique_lock<std::mutex> lock(rep_mu);
      while (!done) {
        rep_cv.wait_for(lock, std::chrono::milliseconds(100));
        if (done) break;
        const double e = elapsed();
        if ((opt.interrupt && opt.interrupt->load()) || e > opt.time_limit_s + 2) shared.stop = true;
        if (opt.progress && e >= next_report) {
          next_report = e + opt.progress_interval_s;
          Progress p;
          {
            std::lock_guard<std::mutex> g(shared.mu);
            p.incumbent = shared.incumbent;
            p.bound = shared.global_bound();
            p.nodes = shared.nodes;
          }
          if (std::isnan(p.incumbent) && have_initial) p.incumbent = initial_obj;
          p.elapsed_s = e;
          p.incumbent *= opt.objective_unit;
          p.bound *= opt.objective_unit;
          p.gap = (std::isfinite(p.incumbent) && std::isfinite(p.bound) && p.bound > 0)
                      ? std::max(0.0, (p.incumbent - p.bound) / p.bound)
                      : kNaN;
          p.stage = opt.stage;
          lock.unlock();
          opt.progress(p);
          lock.lock();
        }
      }
    });

    // CBC checks its time limit between nodes only, and the event handler can stop it only
    // there; the root LP of a large model can run far past the limit. Clp's own wall-clock limit
    // (a deadline from now) stops the simplex itself, a second after CBC should have stopped.
    // (CbcModel works on its own clone of `si`, so the deadline goes on that clone.)
    // The Clp handler stops any LP at once after Ctrl-C (or once the reporter's guard fires).
    ClpStop clp_stop(&shared);
    if (auto* clp = dynamic_cast<OsiClpSolverInterface*>(model.solver())) {
      clp->getModelPtr()->setMaximumWallSeconds(std::max(0.01, opt.time_limit_s) + 1.0);
      clp->getModelPtr()->passInEventHandler(&clp_stop);
    }
    if (!(opt.interrupt && opt.interrupt->load()))
      CbcMain1(static_cast<int>(argv.size()), argv.data(), model, [](CbcModel*, int) { return 0; }, data);
    {
      std::lock_guard<std::mutex> lock(rep_mu);
      done = true;
    }
    rep_cv.notify_all();
    reporter.join();

    out.seconds = elapsed();
    out.nodes = std::max<long long>(model.getNodeCount(), shared.nodes);
    out.interrupted = opt.interrupt && opt.interrupt->load();

    // ---- collect the result ----
    const double* best = model.bestSolution();
    if (best != nullptr && model.getNumCols() == nc) {
      std::vector<double> x(best, best + nc);
      // Snap integers (CBC returns values within its integer tolerance).
      for (int j = 0; j < nc; ++j)
        if (m.vars[j].integer) x[j] = std::round(x[j]);
      if (m.max_violation(x) <= 1e-5 * (1 + std::fabs(m.objective_value(x)))) {
        out.values = std::move(x);
        out.objective = m.objective_value(out.values);
      }
    }
    if (out.values.empty() && have_initial && m.max_violation(m.initial) <= 1e-6) {
      out.values = m.initial;
      out.objective = initial_obj;
      out.initial_accepted = true;
    }
    double bound = model.getBestPossibleObjValue();
    if (!std::isfinite(bound) || std::fabs(bound) >= kCbcNoSolution) bound = -std::numeric_limits<double>::infinity();
    if (settings.cbc_log > 0)
      std::fprintf(stderr, "cbc: final best possible %.10g, handlers' bound %.10g\n", model.getBestPossibleObjValue(),
                   shared.global_bound());
    if (!std::isfinite(bound) || shared.lp_aborted.load()) bound = shared.global_bound();
    if (std::isnan(bound)) bound = -std::numeric_limits<double>::infinity();
    if (!m.minimize) bound = -bound;

    const bool proven = model.isProvenOptimal() && !model.isSecondsLimitReached() && !shared.stopped_by_us;
    if (model.isProvenInfeasible() && out.values.empty() && !shared.lp_aborted.load()) {
      out.status = MilpStatus::Infeasible;
    } else if (out.values.empty()) {
      out.status = MilpStatus::NoSolution;
    } else if (proven) {
      out.status = MilpStatus::Optimal;
      // A proof means no solution better than the incumbent beyond the tolerances.
      bound = std::max(bound, out.objective - std::max(opt.absolute_gap, opt.relative_gap * std::fabs(out.objective)));
    } else {
      out.status = MilpStatus::Feasible;
    }
    if (!out.values.empty()) bound = std::min(bound, out.objective);
    out.bound = bound;
    return out;
  }
};

}  // namespace

std::unique_ptr<MilpBackend> make_cbc_backend() { return std::make_unique<CbcBackend>(); }

double lp_relaxation_value(const Model& m, double time_limit_s) {
  std::lock_guard<std::mutex> cbc_lock(cbc_mutex());  // COIN-OR state: one solve at a time (docs/api.md)
  OsiClpSolverInterface si;
  load_model(m, si);
  for (int j = 0; j < m.num_vars(); ++j) si.setContinuous(j);
  si.messageHandler()->setLogLevel(0);
  si.getModelPtr()->messageHandler()->setLogLevel(0);
  if (time_limit_s > 0) {
    // Clp's default initial solve may run its "idiot" crash and a crossover, which ignore the
    // wall-clock limit; the dual simplex checks it every iteration.
    si.getModelPtr()->setMaximumWallSeconds(time_limit_s);
    si.getModelPtr()->dual();
  } else {
    si.initialSolve();
  }
  if (!si.isProvenOptimal()) return std::numeric_limits<double>::quiet_NaN();
  return m.minimize ? si.getObjValue() : -si.getObjValue();
}

}  // namespace diviml::milp

#include "solvers/bounds/certified_lp.h"

#include <ClpSimplex.hpp>
#include <CoinError.hpp>

#include <cmath>
#include <limits>

#include <stdexcept>

namespace diviml {

namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();
}

int BoxedLp::add_col(double lb, double ub, double obj) {
  if (!(std::isfinite(lb) && std::isfinite(ub) && lb <= ub && std::isfinite(obj)))
    throw std::logic_error("BoxedLp: a column needs finite bounds lb <= ub and a finite cost");
  col_lb_.push_back(lb);
  col_ub_.push_back(ub);
  obj_.push_back(obj);
  return num_cols() - 1;
}

int BoxedLp::add_row(double lb, double ub, const std::vector<std::pair<int, double>>& terms) {
  for (const auto& [c, a] : terms)
    if (c < 0 || c >= num_cols() || !std::isfinite(a)) throw std::logic_error("BoxedLp: bad row entry");
  row_lb_.push_back(lb);
  row_ub_.push_back(ub);
  rows_.push_back(terms);
  return num_rows() - 1;
}

void BoxedLp::set_row_bounds(int row, double lb, double ub) {
  row_lb_.at(row) = lb;
  row_ub_.at(row) = ub;
}

void BoxedLp::set_coef(int row, int col, double coef) {
  for (auto& [c, a] : rows_.at(row))
    if (c == col) {
      a = coef;
      return;
    }
  throw std::logic_error("BoxedLp::set_coef: no such entry");
}

std::vector<std::vector<std::pair<int, double>>> BoxedLp::by_columns() const {
  std::vector<std::vector<std::pair<int, double>>> cols(num_cols());
  for (int i = 0; i < num_rows(); ++i)
    for (const auto& [c, a] : rows_[i]) cols[c].push_back({i, a});
  return cols;
}

std::vector<double> BoxedLp::row_duals() const {
  const int n = num_cols(), m = num_rows();
  const auto cols = by_columns();  // CLP loads by columns
  std::vector<CoinBigIndex> start{0};
  std::vector<int> index;
  std::vector<double> value;
  for (int c = 0; c < n; ++c) {
    for (const auto& [i, a] : cols[c]) {
      index.push_back(i);
      value.push_back(a);
    }
    start.push_back(static_cast<CoinBigIndex>(index.size()));
  }
  auto clp_bound = [](double b) { return std::isfinite(b) ? b : (b > 0 ? COIN_DBL_MAX : -COIN_DBL_MAX); };
  std::vector<double> rlb(m), rub(m);
  for (int i = 0; i < m; ++i) {
    rlb[i] = clp_bound(row_lb_[i]);
    rub[i] = clp_bound(row_ub_[i]);
  }
  std::vector<double> y(m, 0.0);
  try {
    ClpSimplex lp;
    lp.setLogLevel(0);
    lp.loadProblem(n, m, start.data(), index.data(), value.data(), col_lb_.data(), col_ub_.data(), obj_.data(),
                   rlb.data(), rub.data());
    lp.setOptimizationDirection(1);
    lp.dual();
    if (!lp.isProvenOptimal()) return {};
    const double* dual = lp.dualRowSolution();
    for (int i = 0; i < m; ++i) y[i] = std::isfinite(dual[i]) ? dual[i] : 0.0;
  } catch (const CoinError&) {
    return {};
  }
  // y_i > 0 prices row i's lower side (needs a finite lb), y_i < 0 its upper side.
  for (int i = 0; i < m; ++i) {
    if (y[i] > 0 && !std::isfinite(row_lb_[i])) y[i] = 0;
    if (y[i] < 0 && !std::isfinite(row_ub_[i])) y[i] = 0;
  }
  return y;
}

double BoxedLp::certified_min() const {
  const int n = num_cols(), m = num_rows();
  std::vector<double> y = row_duals();
  if (y.empty() && m > 0) return -kInfinity;
  // Weak duality.
  const auto cols = by_columns();
  double bound = 0;
  for (int i = 0; i < m; ++i)
    if (y[i] != 0) bound += y[i] * (y[i] > 0 ? row_lb_[i] : row_ub_[i]);
  for (int c = 0; c < n; ++c) {
    double reduced = obj_[c];
    for (const auto& [i, a] : cols[c]) reduced -= a * y[i];
    bound += reduced * (reduced >= 0 ? col_lb_[c] : col_ub_[c]);
  }
  return std::isfinite(bound) ? bound : -kInfinity;
}

}  // namespace diviml

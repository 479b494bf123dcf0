// A small linear program whose minimum is reported as a value that is a lower bound whatever the
// LP solver's tolerances: CLP solves it, and weak duality with its dual multipliers (and the
// columns' bounds) turns them into a certified value (the same idea as the load-balance bound W,
// for any LP with bounded columns).
#pragma once

#include <utility>
#include <vector>

namespace diviml {

/// min obj'x  s.t.  row_lb <= A x <= row_ub,  col_lb <= x <= col_ub, every column bounded.
class BoxedLp {
 public:
  /// A column with finite bounds lb <= ub; returns its index.
  int add_col(double lb, double ub, double obj);
  /// A row lb <= sum coef * x[col] <= ub (either side may be infinite); returns its index.
  int add_row(double lb, double ub, const std::vector<std::pair<int, double>>& terms);
  void set_row_bounds(int row, double lb, double ub);
  void set_coef(int row, int col, double coef);  ///< an entry added by add_row
  int num_cols() const { return static_cast<int>(obj_.size()); }
  int num_rows() const { return static_cast<int>(row_lb_.size()); }

  /// A lower bound on the LP's minimum: CLP's row duals y, each clamped to the sign its row
  /// allows, give y'b + sum_j min over [col_lb, col_ub] of (obj_j - A_j'y) x_j <= obj'x for every
  /// feasible x. -inf when CLP fails (never a value above the minimum; +inf cannot occur).
  double certified_min() const;

  /// CLP's row duals at its optimum, each clamped to the sign its row allows (as certified_min
  /// uses them); empty when CLP fails. Multipliers for a Lagrangian bound computed elsewhere.
  std::vector<double> row_duals() const;

 private:
  /// The entries by column: (row, coefficient).
  std::vector<std::vector<std::pair<int, double>>> by_columns() const;
  std::vector<double> col_lb_, col_ub_, obj_, row_lb_, row_ub_;
  std::vector<std::vector<std::pair<int, double>>> rows_;
};

}  // namespace diviml

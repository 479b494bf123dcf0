// A solver-agnostic MILP model (variables, linear rows, a linear objective, an optional initial
// solution) and writers for the MPS (free format) and CPLEX-LP text formats. Backends
// (cbc_backend.h) solve it; users with other solvers read the exported file.
#pragma once

#include <iosfwd>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace diviml::milp {

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct Variable {
  std::string name;
  double lb = 0, ub = kInfinity;
  bool integer = false;  ///< binary when integer with bounds [0, 1]
  double obj = 0;        ///< objective coefficient
  /// Branching priority for integer variables (smaller: branched on first; 0: solver default).
  int priority = 0;
};

struct Term {
  int var = 0;
  double coef = 0;
};

/// lb <= sum coef * var <= ub (either side may be infinite; lb == ub is an equality).
struct Row {
  std::string name;
  std::vector<Term> terms;
  double lb = -kInfinity, ub = kInfinity;
};

class Model {
 public:
  std::string name = "model";
  bool minimize = true;
  std::vector<Variable> vars;
  std::vector<Row> rows;
  /// Optional full assignment (size == vars.size()) passed to the solver as its first incumbent.
  std::vector<double> initial;
  /// Free-text lines written as comments at the top of exported files.
  std::vector<std::string> comments;

  /// Adds a variable; the name is sanitised (sanitize_name) and made unique. Returns its index.
  int add_var(std::string_view name, double lb, double ub, bool integer, double obj = 0);
  int add_binary(std::string_view name) { return add_var(name, 0, 1, true); }
  /// Adds lb <= terms <= ub (terms on the same variable are merged, zeros dropped).
  int add_row(std::string_view name, std::vector<Term> terms, double lb, double ub);
  int add_ge(std::string_view name, std::vector<Term> terms, double rhs) {
    return add_row(name, std::move(terms), rhs, kInfinity);
  }
  int add_le(std::string_view name, std::vector<Term> terms, double rhs) {
    return add_row(name, std::move(terms), -kInfinity, rhs);
  }
  int add_eq(std::string_view name, std::vector<Term> terms, double rhs) {
    return add_row(name, std::move(terms), rhs, rhs);
  }

  int num_vars() const { return static_cast<int>(vars.size()); }
  int num_rows() const { return static_cast<int>(rows.size()); }
  int num_integer() const;
  size_t num_nonzeros() const;

  double objective_value(const std::vector<double>& x) const;
  /// Largest violation of a bound, a row or integrality by x (0 when feasible).
  double max_violation(const std::vector<double>& x, std::string* worst = nullptr) const;

 private:
  std::unordered_set<std::string> used_names_;  // variable and row names, for uniqueness
  std::string unique_name(std::string_view raw, char fallback);
};

/// Replaces every character outside [A-Za-z0-9_.] by '_' and prefixes names that would start
/// with a digit or '.' (illegal in LP files); never returns an empty string.
std::string sanitize_name(std::string_view raw);

/// Free-format MPS (readable by CBC, GLPK `glpsol --freemps`, HiGHS, Gurobi, CPLEX, SCIP).
void write_mps(const Model& m, std::ostream& os);
/// CPLEX LP format (readable by GLPK `glpsol --lp`, HiGHS, Gurobi, CPLEX, SCIP, CBC).
void write_lp(const Model& m, std::ostream& os);
/// Writes .mps or .lp by the extension of `path`; throws diviml::InputError on another
/// extension or an unwritable path.
void write_model(const Model& m, const std::string& path);

}  // namespace diviml::milp

#include "solvers/milp/model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include "graph/graph.h"

namespace diviml::milp {

namespace {

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::string sanitize_name(std::string_view raw) {
  std::string s;
  s.reserve(raw.size() + 2);
  for (char c : raw) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    s.push_back(ok ? c : '_');
  }
  if (s.empty()) return "n_";
  const bool bad_start = (s[0] >= '0' && s[0] <= '9') || s[0] == '.' ||
                         ((s[0] == 'e' || s[0] == 'E') && s.size() > 1 && s[1] >= '0' && s[1] <= '9');
  if (bad_start) s = "n_" + s;
  // MPS/LP readers limit name length (255 in CPLEX LP); keep names well below.
  if (s.size() > 200) s.resize(200);
  return s;
}

std::string Model::unique_name(std::string_view raw, char fallback) {
  std::string base = raw.empty() ? std::string(1, fallback) : sanitize_name(raw);
  if (used_names_.empty()) used_names_.insert("obj");  // the objective row of MPS/LP files
  std::string name = base;
  for (int i = 2; used_names_.count(name); ++i) name = base + "_" + std::to_string(i);
  used_names_.insert(name);
  return name;
}

int Model::add_var(std::string_view name, double lb, double ub, bool integer, double obj) {
  Variable v;
  v.name = unique_name(name, 'x');
  v.lb = lb;
  v.ub = ub;
  v.integer = integer;
  v.obj = obj;
  vars.push_back(std::move(v));
  return num_vars() - 1;
}

int Model::add_row(std::string_view name, std::vector<Term> terms, double lb, double ub) {
  std::sort(terms.begin(), terms.end(), [](const Term& a, const Term& b) { return a.var < b.var; });
  std::vector<Term> merged;
  for (const Term& t : terms) {
    if (!merged.empty() && merged.back().var == t.var)
      merged.back().coef += t.coef;
    else
      merged.push_back(t);
  }
  merged.erase(std::remove_if(merged.begin(), merged.end(), [](const Term& t) { return t.coef == 0; }),
               merged.end());
  Row r;
  r.name = unique_name(name, 'r');
  r.terms = std::move(merged);
  r.lb = lb;
  r.ub = ub;
  rows.push_back(std::move(r));
  return num_rows() - 1;
}

int Model::num_integer() const {
  return static_cast<int>(std::count_if(vars.begin(), vars.end(), [](const Variable& v) { return v.integer; }));
}

size_t Model::num_nonzeros() const {
  size_t n = 0;
  for (const Row& r : rows) n += r.terms.size();
  return n;
}

double Model::objective_value(const std::vector<double>& x) const {
  double s = 0;
  for (size_t j = 0; j < vars.size(); ++j) s += vars[j].obj * x[j];
  return s;
}

double Model::max_violation(const std::vector<double>& x, std::string* worst) const {
  double w = 0;
  auto note = [&](double viol, const std::string& what) {
    if (viol > w) {
      w = viol;
      if (worst) *worst = what;
    }
  };
  for (size_t j = 0; j < vars.size(); ++j) {
    note(vars[j].lb - x[j], "lower bound of " + vars[j].name);
    note(x[j] - vars[j].ub, "upper bound of " + vars[j].name);
    if (vars[j].integer) note(std::fabs(x[j] - std::round(x[j])), "integrality of " + vars[j].name);
  }
  for (const Row& r : rows) {
    double a = 0;
    for (const Term& t : r.terms) a += t.coef * x[t.var];
    note(r.lb - a, "row " + r.name);
    note(a - r.ub, "row " + r.name);
  }
  return w;
}

void write_mps(const Model& m, std::ostream& os) {
  os << "* " << m.name << ": written by diviml\n";
  for (const std::string& c : m.comments) os << "* " << c << "\n";
  os << "NAME " << sanitize_name(m.name) << "\n";
  if (!m.minimize) os << "OBJSENSE\n    MAX\n";
  os << "ROWS\n N  obj\n";
  std::vector<bool> keep(m.rows.size(), false);
  for (size_t i = 0; i < m.rows.size(); ++i) {
    const Row& r = m.rows[i];
    const bool lo = std::isfinite(r.lb), hi = std::isfinite(r.ub);
    if (!lo && !hi) continue;  // free row: nothing to write
    keep[i] = true;
    const char* type = (lo && hi) ? (r.lb == r.ub ? "E" : "G") : lo ? "G" : "L";
    os << " " << type << "  " << r.name << "\n";
  }
  // Column-major copy of the matrix.
  std::vector<std::vector<std::pair<int, double>>> cols(m.vars.size());
  for (size_t i = 0; i < m.rows.size(); ++i)
    if (keep[i])
      for (const Term& t : m.rows[i].terms) cols[t.var].emplace_back(static_cast<int>(i), t.coef);
  os << "COLUMNS\n";
  bool in_int = false;
  int marker = 0;
  for (size_t j = 0; j < m.vars.size(); ++j) {
    const Variable& v = m.vars[j];
    if (v.integer != in_int) {
      os << "    MARKER" << marker++ << " 'MARKER' " << (v.integer ? "'INTORG'" : "'INTEND'") << "\n";
      in_int = v.integer;
    }
    bool any = false;
    if (v.obj != 0) {
      os << "    " << v.name << " obj " << num(v.obj) << "\n";
      any = true;
    }
    for (const auto& [i, a] : cols[j]) {
      os << "    " << v.name << " " << m.rows[i].name << " " << num(a) << "\n";
      any = true;
    }
    if (!any) os << "    " << v.name << " obj 0\n";
  }
  if (in_int) os << "    MARKER" << marker++ << " 'MARKER' 'INTEND'\n";
  os << "RHS\n";
  for (size_t i = 0; i < m.rows.size(); ++i) {
    if (!keep[i]) continue;
    const Row& r = m.rows[i];
    const double rhs = std::isfinite(r.lb) ? r.lb : r.ub;
    if (rhs != 0) os << "    RHS " << r.name << " " << num(rhs) << "\n";
  }
  bool ranges = false;
  for (size_t i = 0; i < m.rows.size(); ++i) {
    const Row& r = m.rows[i];
    if (keep[i] && std::isfinite(r.lb) && std::isfinite(r.ub) && r.lb != r.ub) {
      if (!ranges) os << "RANGES\n";
      ranges = true;
      os << "    RNG " << r.name << " " << num(r.ub - r.lb) << "\n";
    }
  }
  os << "BOUNDS\n";
  for (const Variable& v : m.vars) {
    if (v.lb == v.ub) {
      os << " FX BND " << v.name << " " << num(v.lb) << "\n";
      continue;
    }
    if (std::isinf(v.lb) && std::isinf(v.ub)) {
      os << " FR BND " << v.name << "\n";
      continue;
    }
    if (std::isinf(v.lb))
      os << " MI BND " << v.name << "\n";
    else
      os << " LO BND " << v.name << " " << num(v.lb) << "\n";
    if (std::isfinite(v.ub))
      os << " UP BND " << v.name << " " << num(v.ub) << "\n";
    else
      os << " PL BND " << v.name << "\n";
  }
  os << "ENDATA\n";
}

void write_lp(const Model& m, std::ostream& os) {
  os << "\\ " << m.name << ": written by diviml\n";
  for (const std::string& c : m.comments) os << "\\ " << c << "\n";
  auto write_terms = [&](const std::vector<std::pair<double, std::string>>& terms) {
    if (terms.empty()) {
      os << " 0 " << (m.vars.empty() ? std::string("x") : m.vars[0].name);
      return;
    }
    int on_line = 0;
    for (const auto& [a, name] : terms) {
      if (on_line == 6) {
        os << "\n   ";
        on_line = 0;
      }
      os << (a < 0 ? " - " : " + ") << num(std::fabs(a)) << " " << name;
      ++on_line;
    }
  };
  os << (m.minimize ? "Minimize\n" : "Maximize\n") << " obj:";
  std::vector<std::pair<double, std::string>> obj;
  for (const Variable& v : m.vars)
    if (v.obj != 0) obj.emplace_back(v.obj, v.name);
  write_terms(obj);
  os << "\nSubject To\n";
  for (const Row& r : m.rows) {
    const bool lo = std::isfinite(r.lb), hi = std::isfinite(r.ub);
    if (!lo && !hi) continue;
    std::vector<std::pair<double, std::string>> terms;
    for (const Term& t : r.terms) terms.emplace_back(t.coef, m.vars[t.var].name);
    auto one = [&](const std::string& name, const char* sense, double rhs) {
      os << " " << name << ":";
      write_terms(terms);
      os << " " << sense << " " << num(rhs) << "\n";
    };
    if (lo && hi && r.lb == r.ub)
      one(r.name, "=", r.lb);
    else if (lo && hi) {
      one(r.name + "_lo", ">=", r.lb);
      one(r.name + "_hi", "<=", r.ub);
    } else if (lo)
      one(r.name, ">=", r.lb);
    else
      one(r.name, "<=", r.ub);
  }
  os << "Bounds\n";
  for (const Variable& v : m.vars) {
    const bool binary = v.integer && v.lb == 0 && v.ub == 1;
    if (binary) continue;
    if (v.lb == v.ub)
      os << " " << v.name << " = " << num(v.lb) << "\n";
    else if (std::isinf(v.lb) && std::isinf(v.ub))
      os << " " << v.name << " free\n";
    else if (v.lb == 0 && std::isinf(v.ub))
      continue;  // the default
    else
      os << " " << num(v.lb) << " <= " << v.name << " <= " << num(v.ub) << "\n";
  }
  std::vector<std::string> generals, binaries;
  for (const Variable& v : m.vars) {
    if (!v.integer) continue;
    (v.lb == 0 && v.ub == 1 ? binaries : generals).push_back(v.name);
  }
  auto list = [&](const char* title, const std::vector<std::string>& names) {
    if (names.empty()) return;
    os << title << "\n";
    for (size_t i = 0; i < names.size(); ++i) os << (i % 8 == 0 ? (i ? "\n " : " ") : " ") << names[i];
    os << "\n";
  };
  list("Generals", generals);
  list("Binaries", binaries);
  os << "End\n";
}

void write_model(const Model& m, const std::string& path) {
  auto ends_with = [&](const char* ext) {
    const std::string e(ext);
    if (path.size() < e.size()) return false;
    std::string tail = path.substr(path.size() - e.size());
    std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return std::tolower(c); });
    return tail == e;
  };
  const bool mps = ends_with(".mps"), lp = ends_with(".lp");
  if (!mps && !lp)
    throw InputError("cannot write the MILP to '" + path +
                     "': unknown extension (use .mps for free-format MPS or .lp for CPLEX LP)");
  std::ofstream f(path);
  if (!f) throw InputError("cannot write the MILP to '" + path + "': the file cannot be opened for writing");
  if (mps)
    write_mps(m, f);
  else
    write_lp(m, f);
  f.flush();
  if (!f) throw InputError("cannot write the MILP to '" + path + "': write failed");
}

}  // namespace diviml::milp

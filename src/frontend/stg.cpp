// Standard Task Graph Set reader (Kasahara lab, Waseda University; the format of its rand*,
// fpppp, robot, sparse files). See docs/generators.md.
//
//   n                          number of real tasks
//   0   0  0                   dummy entry task: id, processing time, predecessor count
//   id  time  npred  pred...   n real tasks, ids 1..n in order
//   n+1 0  npred  pred...      dummy exit task
//   # ...                      comment lines (the set appends a description after the tasks)
//
// The dummy entry and exit tasks are dropped: a graph input tensor "entry" (0 bytes) feeds the
// tasks with no real predecessor, and tasks with no real successor write graph outputs. Each real
// task i becomes op "t<i>" (type "task", class other) with flops = its processing time and no
// bytes, and writes one 0-byte tensor "t<i>" read by its successors. Each task is one line (its
// predecessor count must match the values on it). Anything malformed is an InputError naming the
// file and line.
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "frontend/generators.h"

namespace diviml {

namespace {

struct Token {
  std::string text;
  int line;
};

class StgParser {
 public:
  StgParser(std::string path, std::istream& in) : path_(std::move(path)) {
    std::string line;
    int no = 0;
    while (std::getline(in, line)) {
      ++no;
      const auto first = line.find_first_not_of(" \t\r\f\v");
      if (first == std::string::npos || line[first] == '#') continue;
      std::istringstream ss(line);
      std::vector<Token> toks;
      for (std::string t; ss >> t;) toks.push_back({t, no});
      lines_.push_back(std::move(toks));
      line_no_.push_back(no);
    }
    last_line_ = no;
  }

  [[noreturn]] void fail(int line, const std::string& what) const {
    throw InputError(fmt::format("{}: line {}: {}", path_, line, what));
  }
  [[noreturn]] void fail_eof(const std::string& what) const {
    throw InputError(fmt::format("{}: unexpected end of file after line {}: {}", path_, last_line_, what));
  }

  /// Next token: the first of a record starts a new line, the others must be on the same line.
  const Token& next(bool first, const std::string& expecting) {
    if (first) {
      if (ti_ > 0) {
        ++li_;
        ti_ = 0;
      }
      if (li_ >= lines_.size()) fail_eof("expected " + expecting);
    } else if (li_ >= lines_.size() || ti_ >= lines_[li_].size()) {
      fail(record_line(), "missing " + expecting);
    }
    return lines_[li_][ti_++];
  }
  /// Next token on the current line, or null at its end.
  const Token* next_on_line() {
    if (li_ >= lines_.size() || ti_ >= lines_[li_].size()) return nullptr;
    return &lines_[li_][ti_++];
  }
  int record_line() const { return li_ < lines_.size() ? line_no_[li_] : last_line_; }
  /// Ends a record: the rest of its line must be empty.
  void end_record(const std::string& what) {
    if (li_ < lines_.size() && ti_ > 0 && ti_ < lines_[li_].size())
      fail(line_no_[li_], fmt::format("unexpected '{}' after {}", lines_[li_][ti_].text, what));
    if (li_ < lines_.size() && ti_ > 0) {
      ++li_;
      ti_ = 0;
    }
  }
  bool at_end() const { return li_ >= lines_.size(); }
  int current_line() const { return li_ < lines_.size() ? line_no_[li_] : last_line_; }

  long long integer(const Token& t, const std::string& what) const {
    long long v = 0;
    const char* b = t.text.data();
    const char* e = b + t.text.size();
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || p != e) fail(t.line, fmt::format("{}: expected an integer, got '{}'", what, t.text));
    return v;
  }
  double number(const Token& t, const std::string& what) const {
    double v = 0;
    const char* b = t.text.data();
    const char* e = b + t.text.size();
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || p != e || !std::isfinite(v))
      fail(t.line, fmt::format("{}: expected a number, got '{}'", what, t.text));
    return v;
  }

 private:
  std::string path_;
  std::vector<std::vector<Token>> lines_;  // non-blank, non-comment lines
  std::vector<int> line_no_;
  int last_line_ = 0;
  size_t li_ = 0, ti_ = 0;
};

std::string stem_of(const std::string& path) {
  auto slash = path.find_last_of("/\\");
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base.empty() ? "stg" : base;
}

}  // namespace

std::shared_ptr<Graph> read_stg(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path));
  StgParser ps(path, in);

  if (ps.at_end()) throw InputError(fmt::format("{}: empty file: expected the task count n", path));
  const Token& nt = ps.next(true, "the task count n");
  const long long n = ps.integer(nt, "task count n");
  if (n < 1 || n > 50'000'000) ps.fail(nt.line, fmt::format("task count n must be in [1, 50000000] (got {})", n));
  ps.end_record("the task count n");

  const long long exit_id = n + 1;
  std::vector<double> time;  // grown per line: a bogus huge n must not allocate up front
  std::vector<std::vector<int>> preds;
  for (long long id = 0; id <= exit_id; ++id) {
    const std::string task = fmt::format("task {}", id);
    if (ps.at_end())
      ps.fail_eof(fmt::format("expected {} task lines (ids 0..{}: n = {} plus dummy entry and exit), found {}",
                              n + 2, exit_id, n, id));
    const Token& it = ps.next(true, "task id");
    const long long got = ps.integer(it, "task id");
    if (got != id) ps.fail(it.line, fmt::format("task id {} out of order (expected {})", got, id));
    const Token& tt = ps.next(false, task + ": processing time");
    const double t = ps.number(tt, task + ": processing time");
    if (t < 0) ps.fail(tt.line, fmt::format("{}: negative processing time {}", task, tt.text));
    if ((id == 0 || id == exit_id) && t != 0)
      ps.fail(tt.line, fmt::format("{}: the dummy {} task must have processing time 0 (got {})", task,
                                   id == 0 ? "entry" : "exit", tt.text));
    const Token& ct = ps.next(false, task + ": predecessor count");
    const long long np = ps.integer(ct, task + ": predecessor count");
    if (np < 0 || np > exit_id)
      ps.fail(ct.line, fmt::format("{}: predecessor count {} out of range [0, {}]", task, np, exit_id));
    if (id == 0 && np != 0) ps.fail(ct.line, "task 0 (dummy entry) cannot have predecessors");
    std::set<long long> seen;
    preds.emplace_back();
    for (long long j = 0; j < np; ++j) {
      const Token* pt = ps.next_on_line();
      if (!pt)
        ps.fail(ps.record_line(), fmt::format("{} lists {} predecessors but its line has {}", task, np, j));
      const long long p = ps.integer(*pt, task + ": predecessor");
      if (p < 0 || p > exit_id)
        ps.fail(pt->line, fmt::format("{}: predecessor {} out of range [0, {}]", task, p, exit_id));
      if (p == id) ps.fail(pt->line, fmt::format("{}: lists itself as a predecessor", task));
      if (p == exit_id) ps.fail(pt->line, fmt::format("{}: the dummy exit task {} cannot be a predecessor", task, exit_id));
      if (!seen.insert(p).second) ps.fail(pt->line, fmt::format("{}: predecessor {} listed twice", task, p));
      preds[static_cast<size_t>(id)].push_back(static_cast<int>(p));
    }
    ps.end_record(fmt::format("{}'s {} predecessors", task, np));
    time.push_back(t);
  }
  if (!ps.at_end())
    ps.fail(ps.current_line(),
            fmt::format("unexpected content after the exit task {} (is n = {} right? trailing lines must start with '#')",
                        exit_id, n));

  auto g = std::make_shared<Graph>();
  g->name = stem_of(path);
  std::vector<bool> has_real_succ(static_cast<size_t>(n + 2), false);
  for (long long v = 1; v <= n; ++v)
    for (int p : preds[static_cast<size_t>(v)]) has_real_succ[static_cast<size_t>(p)] = true;

  Tensor entry;
  entry.name = "entry";
  const TensorId entry_id = g->add_tensor(std::move(entry));
  std::vector<TensorId> out(static_cast<size_t>(n + 2), -1);
  for (long long v = 1; v <= n; ++v) {
    Tensor t;
    t.name = fmt::format("t{}", v);
    t.is_graph_output = !has_real_succ[static_cast<size_t>(v)];
    out[static_cast<size_t>(v)] = g->add_tensor(std::move(t));
  }
  for (long long v = 1; v <= n; ++v) {
    Op op;
    op.name = fmt::format("t{}", v);
    op.type = "task";
    op.op_class = OpClass::Other;
    op.flops = time[static_cast<size_t>(v)];
    bool real_pred = false;
    for (int p : preds[static_cast<size_t>(v)])
      if (p != 0) {
        op.inputs.push_back(out[static_cast<size_t>(p)]);
        real_pred = true;
      }
    if (!real_pred) op.inputs.push_back(entry_id);
    op.outputs = {out[static_cast<size_t>(v)]};
    g->add_op(std::move(op));
  }
  try {
    g->finalize();
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", path, e.what()));
  }
  return g;
}

}  // namespace diviml

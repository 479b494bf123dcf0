// Options shared by the subcommands: the model, the platform, the solver budget.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "frontend/load_graph.h"
#include "problem/problem.h"
#include "solvers/solver.h"

namespace diviml::cli {

/// GRAPH --platform --granularity --input-shape --profile. Options of the library's table
/// (granularity here, the solver budget below) get their default, help and checks from it
/// (table_options.h); the values here are placeholders until add() runs.
struct ModelArgs {
  std::string graph;
  std::string platform = "paper-node";
  std::string granularity;
  std::vector<std::string> input_shapes;
  std::string profile;
  std::vector<std::string> memory_overrides;  ///< device=SIZE
  int batch = 1;  ///< samples per request: the graph at that batch (docs/batch.md)

  /// Adds the positional GRAPH and, when with_platform, the platform options.
  void add(CLI::App* cmd, bool with_platform = true);
  LoadOptions load_options(std::vector<std::string>* warnings) const;
  /// Loads the graph (warnings printed to stderr).
  std::shared_ptr<Graph> load_graph() const;
  /// Loads graph + platform (+ profile) and builds the Problem at `batch` (problem_at_batch of
  /// load_sample_problem()).
  std::shared_ptr<Problem> load_problem() const;
  /// The Problem of one sample (the graph as loaded, batch 1), whatever `batch` says.
  std::shared_ptr<Problem> load_sample_problem() const;
  std::shared_ptr<Graph> load_sample() const;  ///< the graph as loaded (batch 1), whatever `batch` says
};

/// --time-limit --threads --seed --max-part-pairs --max-part-ops --quiet.
struct SolveArgs {
  double time_limit_s = 0;
  int threads = 0;
  uint64_t seed = 0;
  long max_part_pairs = 0;
  int max_part_ops = 0;
  bool quiet = false;
  bool verbose = false;  ///< every device and link in the tables (default: by server, busy links only)

  void add(CLI::App* cmd);
  /// Only --max-part-pairs and --max-part-ops (inspect --modules).
  void add_part_budget(CLI::App* cmd);
  /// Options with a progress printer on stderr (unless quiet) and the Ctrl-C flag.
  SolveOptions options() const;
};

/// Set by SIGINT once install_interrupt_handler() ran: solvers stop and return their best.
std::atomic<bool>& interrupt_flag();
void install_interrupt_handler();

/// True once Ctrl-C was pressed: the command writes what it has, then exits 130 (main.cpp).
bool interrupted();
/// A schedule returned after Ctrl-C gets status `interrupted` (unless proven optimal anyway).
void mark_if_interrupted(Schedule& s);

/// Checks before any solving that `path` can be written (its directory exists and is writable,
/// it is not a directory); throws InputError naming the option and the path.
void check_writable(const std::string& path, const std::string& option);
/// InputError unless `model` names an .onnx file (commands that cut or run the model itself).
void require_onnx_model(const std::string& model, const std::string& command);
void print_warnings(const std::vector<std::string>& warnings);
/// Parses "1x3x224x224".
std::vector<int64_t> parse_dims(const std::string& s, const std::string& what);
/// Parses sizes like "8GiB", "500MB", "1e9".
double parse_bytes(const std::string& s, const std::string& what);
/// Writes a text file; throws InputError naming the path if it cannot.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace diviml::cli

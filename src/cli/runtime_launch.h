// Starting the Node.js runner in runtime/ (ONNX Runtime) from the C++ CLI: where the runtime
// folder is, whether node and onnxruntime-node are there, and running a script with arguments.
// The C++ core never links ONNX Runtime; `run` and `profile` hand over to this program.
#pragma once

#include <string>
#include <vector>

namespace diviml::cli {

/// The runtime folder: `explicit_dir` if given, else $DIVIML_RUNTIME_DIR, else the source tree's
/// runtime/ (compile-time path), else <prefix>/share/diviml/runtime next to the executable.
/// Throws InputError when none holds `script`, or node / onnxruntime-node are missing.
std::string find_runtime_dir(const std::string& explicit_dir, const std::string& script);

/// Runs `node <runtime_dir>/<script> args...` with stdout/stderr inherited; returns its exit code.
int run_node_script(const std::string& runtime_dir, const std::string& script, const std::vector<std::string>& args);

}  // namespace diviml::cli

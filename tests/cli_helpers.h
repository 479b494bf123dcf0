// Runs the built `diviml` binary for end-to-end tests.
#pragma once

#include <array>
#include <cstdio>
#include <string>

namespace diviml::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `diviml ARGS` through the shell (stderr merged into the output).
inline CliResult run_cli(const std::string& args) {
  CliResult r;
  const std::string cmd = std::string(DIVIML_BINARY) + " " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline std::string data_path(const std::string& name) { return std::string(DIVIML_TEST_DATA) + "/" + name; }

/// A fresh file path under the test's temporary directory.
inline std::string temp_path(const std::string& name) {
  return (::testing::TempDir().empty() ? std::string("/tmp/") : ::testing::TempDir()) + name;
}

}  // namespace diviml::testing

#include "cli/runtime_launch.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "graph/graph.h"

extern char** environ;

namespace diviml::cli {

namespace fs = std::filesystem;

namespace {

std::string node_binary() {
  if (const char* n = std::getenv("DIVIML_NODE"); n && *n) return n;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    const size_t end = p.find(':', start);
    const std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty()) {
      const fs::path cand = fs::path(dir) / "node";
      if (::access(cand.c_str(), X_OK) == 0) return cand.string();
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self.parent_path();
}

}  // namespace

std::string find_runtime_dir(const std::string& explicit_dir, const std::string& script) {
  std::vector<fs::path> candidates;
  if (!explicit_dir.empty()) {
    candidates.push_back(explicit_dir);
  } else {
    if (const char* e = std::getenv("DIVIML_RUNTIME_DIR"); e && *e) candidates.push_back(e);
#ifdef DIVIML_RUNTIME_SOURCE_DIR
    candidates.push_back(DIVIML_RUNTIME_SOURCE_DIR);
#endif
    if (const fs::path exe = executable_dir(); !exe.empty()) candidates.push_back(exe.parent_path() / "share/diviml/runtime");
  }
  fs::path dir;
  for (const auto& c : candidates)
    if (fs::exists(c / script)) {
      dir = c;
      break;
    }
  if (dir.empty()) {
    std::string tried;
    for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c.string();
    throw InputError(fmt::format("the ONNX Runtime runner ({}) is not in {}; give --runtime-dir DIR (the runtime/ folder "
                                 "of the diviml sources)", script, tried.empty() ? "any known place" : tried));
  }
  if (node_binary().empty())
    throw InputError("Node.js ('node') is not on PATH: the runner needs Node.js >= 18 (set DIVIML_NODE to its path)");
  if (!fs::exists(dir / "node_modules/onnxruntime-node/package.json"))
    throw InputError(fmt::format("onnxruntime-node is not installed in {}: run `npm ci --ignore-scripts` there "
                                 "(scripts/install-deps.sh does)", (dir / "node_modules").string()));
  return dir.string();
}

int run_node_script(const std::string& runtime_dir, const std::string& script, const std::vector<std::string>& args) {
  const std::string node = node_binary();
  std::vector<std::string> all{node, (fs::path(runtime_dir) / script).string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  if (const int rc = ::posix_spawn(&pid, node.c_str(), nullptr, nullptr, argv.data(), environ); rc != 0)
    throw InputError(fmt::format("cannot start {}: {}", node, std::strerror(rc)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw InputError(fmt::format("waiting for {}: {}", node, std::strerror(errno)));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace diviml::cli

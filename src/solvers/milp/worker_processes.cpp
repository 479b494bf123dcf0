#include "solvers/milp/worker_processes.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "solvers/milp/milp_settings.h"

namespace diviml {

void ByteReader::need(size_t bytes) const {
  if (pos_ + bytes > in_.size()) throw std::runtime_error("worker result truncated");
}

namespace {

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  size_t job = 0;
  std::string bytes;
};

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

/// Starts job `j` in a child; returns false when fork or pipe failed.
bool start_worker(const std::function<std::string()>& job, size_t j, Worker& w) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  std::fflush(nullptr);  // or buffered output would be written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    int code = 1;
    try {
      const std::string out = job();
      if (write_all(fds[1], out.data(), out.size())) code = 0;
    } catch (...) {
    }
    ::close(fds[1]);
    ::_exit(code);  // no destructors or atexit handlers of the parent's objects
  }
  ::close(fds[1]);
  w = Worker{pid, fds[0], j, {}};
  return true;
}

}  // namespace

std::vector<std::optional<std::string>> run_in_worker_processes(const std::vector<std::function<std::string()>>& jobs,
                                                                int max_parallel) {
  std::vector<std::optional<std::string>> results(jobs.size());
  std::vector<Worker> running;
  size_t next = 0;
  // Without permission to fork (the front door's default), the jobs run here one by one.
  const bool allow_fork = milp::current_settings().allow_fork;
  auto run_here = [&](size_t j) {
    try {
      results[j] = jobs[j]();
    } catch (...) {
      results[j].reset();
    }
  };
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && static_cast<int>(running.size()) < std::max(1, max_parallel)) {
      Worker w;
      if (allow_fork && start_worker(jobs[next], next, w))
        running.push_back(std::move(w));
      else
        run_here(next);
      ++next;
    }
    if (running.empty()) continue;
    std::vector<pollfd> pfds;
    for (const Worker& w : running) pfds.push_back({w.fd, POLLIN, 0});
    if (::poll(pfds.data(), pfds.size(), -1) < 0 && errno != EINTR) break;
    for (size_t i = running.size(); i-- > 0;) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Worker& w = running[i];
      char buf[65536];
      const ssize_t r = ::read(w.fd, buf, sizeof buf);
      if (r > 0) {
        w.bytes.append(buf, static_cast<size_t>(r));
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      // End of the pipe: the worker is done.
      ::close(w.fd);
      int status = 0;
      while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) results[w.job] = std::move(w.bytes);
      running.erase(running.begin() + static_cast<long>(i));
    }
  }
  for (Worker& w : running) {  // only after a poll failure
    ::close(w.fd);
    ::waitpid(w.pid, nullptr, 0);
  }
  return results;
}

}  // namespace diviml

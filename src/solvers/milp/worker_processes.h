// Runs independent jobs in forked worker processes, at most N at a time.
//
// Why processes: CBC 2.10's CbcMain0/CbcMain1 keep global state and are not reentrant
// (coin-or/Cbc#332), so two MILP solves must not share a process. A worker inherits the parent's
// memory (copy-on-write), runs one job, writes the job's result bytes to a pipe and leaves with
// _exit. Call only while the parent runs no other thread (fork copies the calling thread only).
#pragma once

#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace diviml {

/// Each job returns its result serialised as bytes. When milp::current_settings().allow_fork is
/// false (milp_settings.h), every job runs in this process, one after the other. Returns one entry per job: the bytes, or
/// nullopt when the worker failed (threw, crashed, or fork failed: then the job is run in this
/// process instead, so nullopt means the job itself failed).
std::vector<std::optional<std::string>> run_in_worker_processes(const std::vector<std::function<std::string()>>& jobs,
                                                                int max_parallel);

/// Little helpers to (de)serialise plain values and vectors of them into such bytes.
class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put<size_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(const std::string& in) : in_(in) {}
  template <class T>
  T get() {
    T v{};
    need(sizeof(T));
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> get_vector() {
    const size_t n = get<size_t>();
    need(n * sizeof(T));
    std::vector<T> v(n);
    if (n > 0) std::memcpy(v.data(), in_.data() + pos_, n * sizeof(T));  // data() may be null when empty
    pos_ += n * sizeof(T);
    return v;
  }

 private:
  void need(size_t bytes) const;
  const std::string& in_;
  size_t pos_ = 0;
};

}  // namespace diviml

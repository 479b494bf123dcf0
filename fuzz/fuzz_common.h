// Shared by the fuzz harnesses (fuzz/README.md): runs a parser on one input; an InputError is
// the expected answer to bad input, anything else escaping (another exception, a crash, a
// sanitizer report) is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

#include "graph/graph.h"

namespace diviml::fuzz {

/// Calls fn(text); swallows InputError only.
template <typename Fn>
int run_text(const uint8_t* data, size_t size, Fn&& fn) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    fn(text);
  } catch (const InputError&) {
  }
  return 0;
}

/// Parsers that take a path: the input goes to a per-process file with the right extension.
template <typename Fn>
int run_file(const uint8_t* data, size_t size, const char* ext, Fn&& fn) {
  static const std::string path = [&] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir ? dir : "/tmp") + "/diviml_fuzz_" + std::to_string(::getpid()) + ext;
  }();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    fn(path);
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace diviml::fuzz

#include "platform/units.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace diviml {

std::string format_seconds(double s) {
  if (!std::isfinite(s)) return "inf";
  const double a = std::abs(s);
  if (a == 0) return "0 s";
  if (a < 1e-3) return fmt::format("{:.2f} us", s * 1e6);
  if (a < 1) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} s", s);
}

std::string format_gap(double gap) {
  if (!std::isfinite(gap)) return "n/a";
  return fmt::format("{:.1f}%", 100 * gap);
}

std::string format_bytes(double b) {
  if (!std::isfinite(b)) return "unlimited";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (std::abs(b) >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.2f} {}", b, units[u]);
}

std::optional<double> parse_number(const std::string& text) {
  try {
    size_t used = 0;
    const double x = std::stod(text, &used);
    if (used == text.size()) return x;
  } catch (const std::exception&) {  // no number, or out of range
  }
  return std::nullopt;
}

}  // namespace diviml

// How diviml prints quantities (README "Units"): times in s / ms / us, sizes in binary units
// (KiB, MiB, GiB: powers of 1024, as device memory is sold and as `--memory 4GiB` reads).
// Input sizes accept both binary (MiB) and decimal (MB = 10^6) suffixes.
#pragma once

#include <optional>
#include <string>

namespace diviml {

/// "1.234 ms", "56.78 us", "2.000 s", "inf".
std::string format_seconds(double s);
/// "1.38 MiB", "10.75 GiB", "512 B", "unlimited" (infinite).
std::string format_bytes(double b);
/// A relative gap as "12.3%"; "n/a" when unknown (NaN: no lower bound).
std::string format_gap(double gap);

/// `text` read as one number, all of it ("1e-3", " 2" and "inf" too; "2x", "" and "1 2" not):
/// the strict reading every option, CSV cell and size uses. Range checks are the caller's.
std::optional<double> parse_number(const std::string& text);

}  // namespace diviml

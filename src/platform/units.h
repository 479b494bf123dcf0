// How diviml prints quantities (README "Units"): times in s / ms / us, sizes in binary units
// (KiB, MiB, GiB: powers of 1024, as device memory is sold and as `--memory 4GiB` reads).
// Input sizes accept both binary (MiB) and decimal (MB = 10^6) suffixes.
#pragma once

#include <string>

namespace diviml {

/// "1.234 ms", "56.78 us", "2.000 s", "inf".
std::string format_seconds(double s);
/// "1.38 MiB", "10.75 GiB", "512 B", "unlimited" (infinite).
std::string format_bytes(double b);
/// A relative gap as "12.3%"; "n/a" when unknown (NaN: no lower bound).
std::string format_gap(double gap);

}  // namespace diviml

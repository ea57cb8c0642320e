#include "tools/bench/bench_util.h"

#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tqs1::bench {

std::optional<int64_t> AddressesFlag(int argc, char** argv, const char* binary,
                                     int64_t min, int64_t max) {
  int64_t n = 1000000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::string flag = "--addresses=";
    if (arg.rfind(flag, 0) != 0 ||
        !absl::SimpleAtoi(arg.substr(flag.size()), &n) || n < min || n > max) {
      std::cerr << "usage: " << binary << " [--addresses=N]  (" << min
                << " <= N <= " << max << ", default 1000000)\n";
      return std::nullopt;
    }
  }
  return n;
}

std::string Count(int64_t v) {
  std::string digits = absl::StrCat(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string Bytes(int64_t v) {
  if (v < 10000) return absl::StrCat(v, " B");
  if (v < 10000000) {
    return absl::StrFormat("%.1f kB", static_cast<double>(v) / 1e3);
  }
  return absl::StrFormat("%.1f MB", static_cast<double>(v) / 1e6);
}

}  // namespace tqs1::bench

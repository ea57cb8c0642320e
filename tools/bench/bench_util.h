// What the benchmarks of tools/bench share: their one flag, --addresses=N,
// and numbers printed with thousands separators.
//
//   int main(int argc, char** argv) {
//     std::optional<int64_t> n = tqs1::bench::AddressesFlag(
//         argc, argv, "churn_benchmark", 100000, 8000000);
//     if (!n.has_value()) return 2;  // the usage is on stderr
//     std::cout << tqs1::bench::Count(*n);  // "1,000,000"
//   }
#ifndef TQS1_TOOLS_BENCH_BENCH_UTIL_H_
#define TQS1_TOOLS_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>

namespace tqs1::bench {

// The N of `--addresses=N` (1000000 when the flag is not given). When an
// argument is anything else or N is not in [min, max], prints
// "usage: <binary> [--addresses=N]  (<min> <= N <= <max>, default 1000000)"
// on stderr and returns nullopt.
std::optional<int64_t> AddressesFlag(int argc, char** argv, const char* binary,
                                     int64_t min, int64_t max);

// `v` with a comma every three digits: "-1,234,567".
std::string Count(int64_t v);

// A size in bytes: "980 B", "107.1 kB", "14.5 MB" (decimal units).
std::string Bytes(int64_t v);

}  // namespace tqs1::bench

#endif  // TQS1_TOOLS_BENCH_BENCH_UTIL_H_

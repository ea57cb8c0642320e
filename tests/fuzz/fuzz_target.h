// The libFuzzer entry point every fuzz target of tests/fuzz/ defines, and
// the helpers they share. Each target is built twice: with clang and
// -fsanitize=fuzzer,address as a fuzzer (tests/fuzz/run.sh), and with the
// normal gcc build as a cc_test that replays its committed corpus
// (replay_main.cc), so every input that ever crashed stays a regression
// test in `bazel test //...`.
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     absl::string_view text = tqs1::fuzz::AsText(data, size);
//     tqs1::fuzz::Check(Property(text), "what must hold");
//     return 0;
//   }
#ifndef TQS1_TESTS_FUZZ_FUZZ_TARGET_H_
#define TQS1_TESTS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace tqs1::fuzz {

// The input as text (any bytes, not necessarily UTF-8).
inline absl::string_view AsText(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// Aborts (a finding, for the fuzzer and for the replay test alike) when a
// property of the code under test does not hold.
inline void Check(bool holds, absl::string_view what,
                  absl::string_view detail = "") {
  if (holds) return;
  std::fprintf(stderr, "fuzz property violated: %.*s %.*s\n",
               static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace tqs1::fuzz

#endif  // TQS1_TESTS_FUZZ_FUZZ_TARGET_H_

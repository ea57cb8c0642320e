// The knobs of the soak and crash tests: integers from the environment
// (TQS1_TEST_SEED, rounds, seconds), with defaults, the seed announced so
// that a failure can be reproduced, and the time a run has taken.
//
//   const int64_t rounds = EnvInt("TQS1_SOAK_ROUNDS", 300);
//   SCOPED_TRACE(AnnounceSeed("soak", seed));
//   const auto start = std::chrono::steady_clock::now();
//   while (SecondsSince(start) < max_seconds) ...
#ifndef TQS1_TESTS_SOAK_KNOBS_H_
#define TQS1_TESTS_SOAK_KNOBS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace tqs1::soak {

// The integer in environment variable `name`, or `fallback` when it is not
// set or not an integer.
int64_t EnvInt(const char* name, int64_t fallback);

// Prints "<test>: seed <seed> (TQS1_TEST_SEED=<seed> reproduces)<more>" on
// stdout and returns the line for SCOPED_TRACE:
// "seed <seed>; rerun with TQS1_TEST_SEED=<seed>".
std::string AnnounceSeed(absl::string_view test, uint64_t seed,
                         absl::string_view more = "");

// Whole seconds from `start` to now.
int64_t SecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace tqs1::soak

#endif  // TQS1_TESTS_SOAK_KNOBS_H_

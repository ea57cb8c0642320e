// The knobs of the soak and crash tests: integers from the environment
// (TQS1_TEST_SEED, rounds, seconds), with defaults.
//
//   const int64_t rounds = EnvInt("TQS1_SOAK_ROUNDS", 300);
#ifndef TQS1_TESTS_SOAK_KNOBS_H_
#define TQS1_TESTS_SOAK_KNOBS_H_

#include <cstdint>

namespace tqs1::soak {

// The integer in environment variable `name`, or `fallback` when it is not
// set or not an integer.
int64_t EnvInt(const char* name, int64_t fallback);

}  // namespace tqs1::soak

#endif  // TQS1_TESTS_SOAK_KNOBS_H_

#include "tests/soak/knobs.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tqs1::soak {

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  int64_t value = 0;
  if (text != nullptr && absl::SimpleAtoi(text, &value)) return value;
  return fallback;
}

std::string AnnounceSeed(absl::string_view test, uint64_t seed,
                         absl::string_view more) {
  std::cout << test << ": seed " << seed << " (TQS1_TEST_SEED=" << seed
            << " reproduces)" << more << std::endl;
  return absl::StrCat("seed ", seed, "; rerun with TQS1_TEST_SEED=", seed);
}

int64_t SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace tqs1::soak

#include "tests/soak/knobs.h"

#include <cstdlib>

#include "absl/strings/numbers.h"

namespace tqs1::soak {

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  int64_t value = 0;
  if (text != nullptr && absl::SimpleAtoi(text, &value)) return value;
  return fallback;
}

}  // namespace tqs1::soak

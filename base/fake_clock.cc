#include "base/fake_clock.h"

namespace tqs1 {

absl::Time FakeClock::Now() {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::SleepFor(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  now_ += duration;
  sleeps_.push_back(duration);
}

void FakeClock::Advance(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  now_ += duration;
}

std::vector<absl::Duration> FakeClock::Sleeps() const {
  absl::MutexLock lock(&mu_);
  return sleeps_;
}

}  // namespace tqs1

// A Clock for tests: time stands still until SleepFor() or Advance() moves
// it, and every sleep is recorded.
//
//   FakeClock clock;
//   RetryOptions options;
//   options.clock = &clock;
//   ... a retry happens ...
//   EXPECT_THAT(clock.Sleeps(), ElementsAre(absl::Seconds(3)));
#ifndef TQS1_BASE_FAKE_CLOCK_H_
#define TQS1_BASE_FAKE_CLOCK_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace tqs1 {

// Thread-safe.
class FakeClock : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z unless told otherwise.
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1767225600))
      : now_(start) {}

  absl::Time Now() override;
  // Advances the time by `duration` and records it; returns at once.
  void SleepFor(absl::Duration duration) override;
  // Advances the time without recording a sleep.
  void Advance(absl::Duration duration);
  // Every SleepFor() duration, in order.
  std::vector<absl::Duration> Sleeps() const;

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tqs1

#endif  // TQS1_BASE_FAKE_CLOCK_H_

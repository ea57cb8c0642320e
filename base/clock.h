// Time as an injected dependency: retries and token caches ask a Clock for
// the time and sleep through it, so tests run on a FakeClock and never
// really sleep.
//
//   Clock& clock = options.clock != nullptr ? *options.clock : RealClock();
//   absl::Time deadline = clock.Now() + absl::Minutes(5);
//   clock.SleepFor(absl::Seconds(2));
#ifndef TQS1_BASE_CLOCK_H_
#define TQS1_BASE_CLOCK_H_

#include "absl/time/time.h"

namespace tqs1 {

// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // Blocks the calling thread for `duration` (a fake just advances Now()).
  virtual void SleepFor(absl::Duration duration) = 0;
};

// The process-wide wall clock (absl::Now / absl::SleepFor). Never destroyed.
Clock& RealClock();

}  // namespace tqs1

#endif  // TQS1_BASE_CLOCK_H_

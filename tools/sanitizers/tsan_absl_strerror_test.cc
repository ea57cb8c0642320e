// absl::ErrnoToStatus (how base/files.cc and cli/config/state.cc report a
// failed system call) formats errno through absl's StrError, which builds
// its table of messages once, in a function-local static, inside Debian's
// uninstrumented libabsl_strerror. Under --config=tsan, the first calls
// made from several threads at once (concurrent syncs reading their probe
// findings, say) must not be reported as a data race: the static's guard
// orders them, though TSan cannot see it (tsan_suppressions.cc). In the
// other configs the test just runs.
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/barrier.h"
#include "gtest/gtest.h"

namespace {

TEST(TsanAbslStrErrorTest, FirstErrnoToStatusFromManyThreadsAtOnce) {
  constexpr int kThreads = 8;
  absl::Barrier* start = new absl::Barrier(kThreads);
  std::vector<std::string> messages(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      if (start->Block()) delete start;
      messages[t] = absl::ErrnoToStatus(ENOENT, "cannot open x").ToString();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& message : messages) {
    EXPECT_EQ(message, "NOT_FOUND: cannot open x: No such file or directory");
  }
}

}  // namespace

// Under --config=tsan, tsan_absl_mutex.cc must make every way tqs1 (and
// gRPC) synchronizes through absl visible to ThreadSanitizer: without it,
// each counter below is reported as a data race and the test dies. It must
// not hide a real race either: the last test races on purpose and expects
// TSan to kill the process. In the other configs the tests just run.
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 2000;

TEST(TsanAbslMutexTest, LockAndReaderLock) {
  absl::Mutex mu;
  int counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (i % 4 == 0) {
          absl::ReaderMutexLock lock(&mu);
          EXPECT_GE(counter, 0);
        } else if (i % 4 == 1 && mu.TryLock()) {
          ++counter;
          mu.Unlock();
        } else {
          absl::MutexLock lock(&mu);
          ++counter;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&mu);
  EXPECT_GT(counter, kThreads * kRounds / 2);
}

// The condition is evaluated by absl on whichever thread unlocks: its reads
// must count as made under the lock.
TEST(TsanAbslMutexTest, AwaitAndLockWhen) {
  absl::Mutex mu;
  int version = 0;
  int seen = 0;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    auto reached = [&] { return version >= kRounds; };
    while (!mu.AwaitWithTimeout(absl::Condition(&reached),
                                absl::Milliseconds(1))) {
    }
    seen = version;
  });
  std::thread locker([&] {
    auto half = [&] { return version >= kRounds / 2; };
    mu.LockWhen(absl::Condition(&half));
    ++version;
    mu.Unlock();
  });
  for (int i = 0; i < kRounds; ++i) {
    absl::MutexLock lock(&mu);
    ++version;
  }
  waiter.join();
  locker.join();
  absl::MutexLock lock(&mu);
  EXPECT_GE(seen, kRounds);
}

TEST(TsanAbslMutexTest, CondVar) {
  absl::Mutex mu;
  absl::CondVar cv;
  int produced = 0;
  int consumed = 0;
  std::thread consumer([&] {
    absl::MutexLock lock(&mu);
    while (consumed < kRounds) {
      while (produced == consumed) {
        if (consumed % 2 == 0) {
          cv.Wait(&mu);
        } else {
          cv.WaitWithTimeout(&mu, absl::Milliseconds(1));
        }
      }
      consumed = produced;
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    absl::MutexLock lock(&mu);
    ++produced;
    cv.Signal();
  }
  consumer.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(consumed, kRounds);
}

// Mutexes on the heap come and go at the same addresses.
TEST(TsanAbslMutexTest, ShortLivedMutexes) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < kRounds; ++i) {
        auto mu = std::make_unique<absl::Mutex>();
        absl::MutexLock lock(mu.get());
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

TEST(TsanAbslMutexDeathTest, UnlockedAccessIsStillARace) {
#ifndef __SANITIZE_THREAD__
  GTEST_SKIP() << "only meaningful under -fsanitize=thread";
#else
  // A fresh process: TSan's own thread rules out a plain fork.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        absl::Mutex mu;
        int counter = 0;
        auto work = [&] {
          for (int i = 0; i < kRounds; ++i) {
            { absl::MutexLock lock(&mu); }
            ++counter;  // outside the lock
          }
        };
        std::thread a(work);
        std::thread b(work);
        a.join();
        b.join();
        std::exit(counter > 0 ? 0 : 1);
      },
      testing::ExitedWithCode(66), "ThreadSanitizer: data race");
#endif
}

}  // namespace

#include "sync/parallel_runs.h"

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::sync {
namespace {

using ::testing::ElementsAre;

// Counts the items running at once, overall and by key.
struct Tracker {
  void Enter(const std::string& key) {
    absl::MutexLock lock(&mu);
    ++running;
    peak = std::max(peak, running);
    if (++by_key[key] > 1) same_key_at_once = true;
  }
  void Leave(const std::string& key) {
    absl::MutexLock lock(&mu);
    --running;
    --by_key[key];
  }
  absl::Mutex mu;
  int running ABSL_GUARDED_BY(mu) = 0;
  int peak ABSL_GUARDED_BY(mu) = 0;
  bool same_key_at_once ABSL_GUARDED_BY(mu) = false;
  std::map<std::string, int> by_key ABSL_GUARDED_BY(mu);
};

TEST(RunInParallelTest, FinishesInOrderWithinTheBound) {
  Tracker tracker;
  std::vector<int> ran(12, 0);
  std::vector<int> finished;
  RunInParallel(
      12, 3, [](int i) { return std::to_string(i); },
      [&](int i) {
        tracker.Enter(std::to_string(i));
        // Later items are quicker: they end before earlier ones.
        absl::SleepFor(absl::Milliseconds(5 * (12 - i)));
        ++ran[i];
        tracker.Leave(std::to_string(i));
      },
      [&](int i) {
        EXPECT_EQ(ran[i], 1) << "item " << i << " finished before it ran";
        finished.push_back(i);
      });
  EXPECT_THAT(finished, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
  EXPECT_EQ(ran, std::vector<int>(12, 1));
  absl::MutexLock lock(&tracker.mu);
  EXPECT_EQ(tracker.peak, 3);
}

TEST(RunInParallelTest, NeverTwoItemsOfOneKeyAtOnce) {
  Tracker tracker;
  // Two sites, four syncs each, interleaved; parallelism above the keys.
  auto key = [](int i) { return i % 2 == 0 ? "eu\nHQ" : "eu\nBranch"; };
  std::vector<int> finished;
  RunInParallel(
      8, 6, key,
      [&](int i) {
        tracker.Enter(key(i));
        absl::SleepFor(absl::Milliseconds(10));
        tracker.Leave(key(i));
      },
      [&](int i) { finished.push_back(i); });
  EXPECT_THAT(finished, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));
  absl::MutexLock lock(&tracker.mu);
  EXPECT_FALSE(tracker.same_key_at_once);
  EXPECT_EQ(tracker.peak, 2);
}

// A sync that would only wait (for a collection another sync is reading)
// gives its turn to a later one that would not, and still runs, last; the
// output keeps its order.
TEST(RunInParallelTest, AnItemThatWouldWaitGivesItsTurn) {
  absl::Mutex mu;
  std::vector<int> started;  // on the thread that is not running item 0
  std::vector<int> finished;
  RunInParallel(
      5, 2, [](int i) { return std::to_string(i); },
      [&](int i) {
        absl::MutexLock lock(&mu);
        if (i != 0) {
          started.push_back(i);
          return;
        }
        // Item 0 holds its thread until the others have run on the other.
        auto rest = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
          return started.size() == 4;
        };
        mu.AwaitWithTimeout(absl::Condition(&rest), absl::Seconds(10));
      },
      [&](int i) { finished.push_back(i); },
      [](int i) { return i == 1 || i == 2; });
  EXPECT_THAT(started, ElementsAre(3, 4, 1, 2));
  EXPECT_THAT(finished, ElementsAre(0, 1, 2, 3, 4));
}

TEST(RunInParallelTest, ParallelismOneRunsEachItemThenFinishesIt) {
  std::vector<std::string> steps;
  const std::thread::id caller = std::this_thread::get_id();
  RunInParallel(
      3, 1, [](int) { return std::string("one site"); },
      [&](int i) {
        EXPECT_EQ(std::this_thread::get_id(), caller);
        steps.push_back("run " + std::to_string(i));
      },
      [&](int i) { steps.push_back("finish " + std::to_string(i)); });
  EXPECT_THAT(steps, ElementsAre("run 0", "finish 0", "run 1", "finish 1",
                                 "run 2", "finish 2"));
}

TEST(RunInParallelTest, NothingToRunReturnsAtOnce) {
  int calls = 0;
  RunInParallel(
      0, 4, [](int) { return std::string(); }, [&](int) { ++calls; },
      [&](int) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(SiteKeyTest, OneSiteOfOneConsoleHasOneKey) {
  tqs1::v1::SyncConfig a;
  a.set_site("HQ");
  a.set_account("Acme");
  tqs1::v1::SyncConfig b = a;
  b.set_collection("other");
  b.set_site("hq");
  EXPECT_EQ(SiteKey(a), SiteKey(b));
  b.set_sentinelone("us");
  EXPECT_NE(SiteKey(a), SiteKey(b));
  tqs1::v1::SyncConfig by_id;
  by_id.set_site_id("HQ");
  EXPECT_NE(SiteKey(by_id), SiteKey(a));
}

}  // namespace
}  // namespace tqs1::sync

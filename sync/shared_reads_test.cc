#include "sync/shared_reads.h"

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/threatq/fake_indicator_source.h"

namespace tqs1::sync {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::tqs1::v1::SyncConfig;

SyncConfig Sync(const std::string& name, const std::string& collection) {
  SyncConfig sync;
  sync.set_name(name);
  sync.set_collection(collection);
  return sync;
}

class SharedReadsTest : public ::testing::Test {
 protected:
  SharedReadsTest() {
    source_.SetCollection("C2", {{"203.0.113.7", "IP Address", "Active"},
                                 {"198.51.100.0/24", "CIDR Block", "Active"}});
    source_.SetCollection("Scanners", {{"192.0.2.9", "IP Address", "Active"}});
  }
  threatq::FakeIndicatorSource source_;
};

TEST_F(SharedReadsTest, ACollectionOfSeveralSyncsIsReadOnceAndNamesThem) {
  const SyncConfig hq = Sync("C2 -> HQ", "C2");
  const SyncConfig branch = Sync("C2 -> Branch", "C2");
  const SyncConfig scan = Sync("Scanners -> HQ", "Scanners");
  SharedReads reads(source_, {&hq, &scan, &branch});

  auto first = reads.For(hq).ReadCollection("C2");
  ASSERT_TRUE(first.ok()) << first.status();
  auto own = reads.For(hq).ReadCollection("Scanners");
  auto second = reads.For(hq).ReadCollection("C2");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(source_.ReadCount(), 2);  // C2 once, Scanners once

  EXPECT_EQ(second->values, first->values);
  EXPECT_EQ(second->indicator_ids, first->indicator_ids);
  EXPECT_THAT(first->report.shared_by(),
              ElementsAre("C2 -> HQ", "C2 -> Branch"));
  EXPECT_THAT(second->report.shared_by(),
              ElementsAre("C2 -> HQ", "C2 -> Branch"));
  EXPECT_THAT(own->report.shared_by(), IsEmpty());

  // Past the run's syncs, a read goes to ThreatQ again.
  ASSERT_TRUE(reads.For(hq).ReadCollection("C2").ok());
  EXPECT_EQ(source_.ReadCount(), 3);
}

// A thread-safe source whose read of "C2" goes on only once a read of
// "Scanners" has started: reads of two collections must overlap.
class OverlappingSource : public threatq::IndicatorSource {
 public:
  absl::StatusOr<threatq::CollectionRead> ReadCollection(
      absl::string_view collection) override {
    absl::MutexLock lock(&mu_);
    ++reads_[std::string(collection)];
    if (collection == "C2") {
      auto scanners = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return reads_.count("Scanners") > 0;
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&scanners),
                                absl::Seconds(10))) {
        return absl::DeadlineExceededError("C2 was read alone");
      }
    }
    threatq::CollectionRead read;
    read.values.push_back(collection == "C2" ? "203.0.113.7" : "192.0.2.9");
    read.indicator_ids.push_back(1);
    read.origins.push_back({"IP Address", "Active"});
    read.origin_of.push_back(0);
    return read;
  }
  std::map<std::string, int> reads() {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, int> reads_ ABSL_GUARDED_BY(mu_);
};

TEST(SharedReadsThreadsTest, SyncsOnManyThreadsShareOneReadOfEachCollection) {
  OverlappingSource source;
  std::vector<SyncConfig> syncs;
  for (int i = 0; i < 8; ++i) {
    syncs.push_back(Sync("C2 -> S" + std::to_string(i), "C2"));
    syncs.push_back(Sync("Scanners -> S" + std::to_string(i), "Scanners"));
  }
  std::vector<const SyncConfig*> run;
  for (const SyncConfig& sync : syncs) run.push_back(&sync);
  SharedReads reads(source, run);
  std::vector<absl::StatusOr<threatq::CollectionRead>> got(syncs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < syncs.size(); ++i) {
    threads.emplace_back([&, i] {
      got[i] = reads.For(syncs[i]).ReadCollection(syncs[i].collection());
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(source.reads(),
              (std::map<std::string, int>{{"C2", 1}, {"Scanners", 1}}));
  for (size_t i = 0; i < syncs.size(); ++i) {
    ASSERT_TRUE(got[i].ok()) << syncs[i].name() << ": " << got[i].status();
    EXPECT_THAT(got[i]->values,
                ElementsAre(syncs[i].collection() == "C2" ? "203.0.113.7"
                                                          : "192.0.2.9"));
    EXPECT_EQ(got[i]->report.shared_by_size(), 8) << syncs[i].name();
  }
}

// What a parallel run asks before starting a sync: would it only wait for
// another sync's read of its collection?
TEST(SharedReadsThreadsTest, SaysWhileACollectionIsBeingRead) {
  OverlappingSource source;  // C2's read goes on once Scanners' starts
  const SyncConfig hq = Sync("C2 -> HQ", "C2");
  const SyncConfig branch = Sync("C2 -> Branch", "C2");
  const SyncConfig scan = Sync("Scanners -> HQ", "Scanners");
  SharedReads reads(source, {&hq, &branch, &scan});
  EXPECT_FALSE(reads.Reading(hq));
  std::thread reader(
      [&] { ASSERT_TRUE(reads.For(hq).ReadCollection("C2").ok()); });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (source.reads().count("C2") == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_TRUE(reads.Reading(hq));
  EXPECT_TRUE(reads.Reading(branch));  // the same collection
  EXPECT_FALSE(reads.Reading(scan));   // not read yet: it would not wait
  ASSERT_TRUE(reads.For(scan).ReadCollection("Scanners").ok());
  reader.join();
  EXPECT_FALSE(reads.Reading(branch));  // read: it takes the kept read
  EXPECT_FALSE(reads.Reading(scan));
}

TEST_F(SharedReadsTest, AFailedReadFailsTheRunsOtherSyncsWithoutAskingAgain) {
  const SyncConfig hq = Sync("C2 -> HQ", "C2");
  const SyncConfig branch = Sync("C2 -> Branch", "C2");
  SharedReads reads(source_, {&hq, &branch});
  source_.FailNextReads(absl::UnavailableError("ThreatQ is down"));
  EXPECT_EQ(reads.For(hq).ReadCollection("C2").status(),
            absl::UnavailableError("ThreatQ is down"));
  EXPECT_EQ(reads.For(hq).ReadCollection("C2").status(),
            absl::UnavailableError("ThreatQ is down"));
  EXPECT_EQ(source_.ReadCount(), 1);
}

TEST_F(SharedReadsTest, ASyncThatReadsTwiceIsNamedOnce) {
  const SyncConfig lab = Sync("C2 -> Lab", "C2");  // a canary, verified
  const SyncConfig hq = Sync("C2 -> HQ", "C2");
  SharedReads reads(source_, {&lab, &lab, &hq});
  for (int i = 0; i < 3; ++i) {
    auto read = reads.For(hq).ReadCollection("C2");
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_THAT(read->report.shared_by(), ElementsAre("C2 -> Lab", "C2 -> HQ"));
  }
  EXPECT_EQ(source_.ReadCount(), 1);

  SharedReads alone(source_, {&lab, &lab});
  EXPECT_THAT(alone.For(lab).ReadCollection("C2")->report.shared_by(),
              IsEmpty());
}

TEST_F(SharedReadsTest, ACollectionNoSyncNamesIsReadEachTime) {
  const SyncConfig hq = Sync("C2 -> HQ", "C2");
  SharedReads reads(source_, {&hq});
  ASSERT_TRUE(reads.For(hq).ReadCollection("Scanners").ok());
  ASSERT_TRUE(reads.For(hq).ReadCollection("Scanners").ok());
  EXPECT_EQ(source_.ReadCount(), 2);
  auto c2 = reads.For(hq).ReadCollection("C2");
  EXPECT_THAT(c2->report.shared_by(), IsEmpty());  // one sync: its own read
}

TEST_F(SharedReadsTest, ACollectionIsSharedWithinItsThreatQInstanceOnly) {
  threatq::FakeIndicatorSource us;
  us.SetCollection("C2", {{"192.0.2.44", "IP Address", "Active"}});
  SyncConfig emea_hq = Sync("C2 -> HQ", "C2");
  emea_hq.set_threatq("emea");
  SyncConfig emea_branch = Sync("C2 -> Branch", "C2");
  emea_branch.set_threatq("emea");
  SyncConfig us_hq = Sync("C2 -> us:HQ", "C2");
  us_hq.set_threatq("us");
  SyncConfig lost = Sync("C2 -> ap:HQ", "C2");
  lost.set_threatq("ap");  // an instance with no connection
  SharedReads reads(
      [&](const SyncConfig& sync) -> threatq::IndicatorSource* {
        if (sync.threatq() == "emea") return &source_;
        if (sync.threatq() == "us") return &us;
        return nullptr;
      },
      {&emea_hq, &us_hq, &emea_branch, &lost});

  auto emea = reads.For(emea_hq).ReadCollection("C2");
  auto other = reads.For(us_hq).ReadCollection("C2");
  auto branch = reads.For(emea_branch).ReadCollection("C2");
  ASSERT_TRUE(emea.ok() && other.ok() && branch.ok());
  EXPECT_EQ(source_.ReadCount(), 1);
  EXPECT_EQ(us.ReadCount(), 1);
  EXPECT_THAT(emea->values, ElementsAre("203.0.113.7", "198.51.100.0/24"));
  EXPECT_THAT(other->values, ElementsAre("192.0.2.44"));
  EXPECT_THAT(branch->report.shared_by(),
              ElementsAre("C2 -> HQ", "C2 -> Branch"));
  EXPECT_THAT(other->report.shared_by(), IsEmpty());
  EXPECT_EQ(reads.For(lost).ReadCollection("C2").status(),
            absl::FailedPreconditionError(
                "ThreatQ instance \"ap\" is not connected"));
}

}  // namespace
}  // namespace tqs1::sync

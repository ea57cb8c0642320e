#include "sync/shared_reads.h"

#include <string>
#include <vector>

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

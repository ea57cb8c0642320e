// The ledger as applies write it and `why` and restore read it: RunSync()
// with an SqliteLedger on fakes of both vendors.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/ledger/sqlite_ledger.h"
#include "providers/sentinelone/fake_firewall_rules.h"
#include "providers/threatq/fake_indicator_source.h"
#include "reconciler/ownership.h"
#include "sync/restore.h"
#include "sync/sync_runner.h"
#include "sync/why.h"
#include "testing/test_scenario.h"

namespace tqs1 {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::tqs1::ledger::ApplyRecord;
using ::tqs1::ledger::SqliteLedger;
using ::tqs1::sentinelone::FakeFirewallRules;
using ::tqs1::sync::RunSyncRequest;
using ::tqs1::sync::SyncRunResult;
using ::tqs1::sync::testing::kCollection;
using ::tqs1::sync::testing::kSiteId;
using ::tqs1::threatq::FakeIndicatorSource;
using ::tqs1::threatq::Indicator;

constexpr uint64_t kFirstId = 100000;  // FakeIndicatorSource's first id

// Fails RecordWrite() from the `fail_at`-th call on (1-based), and every
// FinishApply() when `fail_finish` (an apply then stays "running", as when
// its process is killed before the end); otherwise the real ledger.
class FailingLedger : public ledger::Ledger {
 public:
  FailingLedger(ledger::Ledger& real, int fail_at, bool fail_finish = false)
      : real_(real), fail_at_(fail_at), fail_finish_(fail_finish) {}
  absl::StatusOr<int64_t> BeginApply(const ApplyRecord& a) override {
    return real_.BeginApply(a);
  }
  absl::Status RecordWrite(int64_t id, const ledger::WriteRecord& w) override {
    if (++calls_ >= fail_at_) {
      return absl::UnavailableError("ledger /x/tqs1.ledger.sqlite: disk full");
    }
    return real_.RecordWrite(id, w);
  }
  absl::Status FinishApply(const ApplyRecord& a) override {
    if (fail_finish_) return absl::UnavailableError("killed");
    return real_.FinishApply(a);
  }
  absl::StatusOr<std::vector<ApplyRecord>> ListApplies(
      const ledger::ApplyFilter& f) override {
    return real_.ListApplies(f);
  }
  absl::StatusOr<ApplyRecord> GetApply(int64_t id) override {
    return real_.GetApply(id);
  }
  absl::StatusOr<std::vector<ledger::WriteRecord>> WritesOf(
      int64_t id) override {
    return real_.WritesOf(id);
  }
  absl::StatusOr<std::map<std::string, ledger::HeldRule>> HeldBy(
      absl::string_view sync, absl::string_view site, int64_t up_to) override {
    return real_.HeldBy(sync, site, up_to);
  }
  absl::StatusOr<std::vector<ledger::EntryHit>> FindEntries(
      const ledger::EntryKey& q, absl::string_view sync) override {
    return real_.FindEntries(q, sync);
  }
  absl::StatusOr<int> Prune(absl::Time cutoff) override {
    return real_.Prune(cutoff);
  }

 private:
  ledger::Ledger& real_;
  int fail_at_;
  bool fail_finish_;
  int calls_ = 0;
};

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sync::testing::SetUpSite(s1_);
    sync_ = sync::testing::TestSync();
    sync_.set_name("c2");
    path_ = absl::StrCat(
        ::testing::TempDir(), "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        ".ledger.sqlite");
    std::remove(path_.c_str());
    auto opened = SqliteLedger::Open(path_, SqliteLedger::Mode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ledger_ = *std::move(opened);
  }

  void SetCollection(const std::vector<std::string>& values) {
    tq_.SetCollection(kCollection, testing::IpIndicators(values));
  }

  SyncRunResult Apply(ledger::Ledger* ledger = nullptr,
                      sync::Approval approval = sync::Approval::kApproved) {
    RunSyncRequest request;
    request.sync = &sync_;
    request.plan_options.set_max_addresses_per_rule(3);
    request.ledger = ledger != nullptr ? ledger : ledger_.get();
    request.identity = {"host-1", "soc", "9.9.9", "run-1"};
    request.approve = [approval](const tqs1::v1::Plan&) { return approval; };
    return sync::RunSync(request, tq_, s1_);
  }

  // What the ledger says the sync's rules hold, all rules together.
  std::vector<std::string> Held(int64_t up_to = 0) {
    auto held = ledger_->HeldBy("c2", kSiteId, up_to);
    EXPECT_TRUE(held.ok()) << held.status();
    std::vector<std::string> out;
    if (!held.ok()) return out;
    for (const auto& [id, rule] : *held) {
      out.insert(out.end(), rule.entries.begin(), rule.entries.end());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<ApplyRecord> Applies() {
    auto applies = ledger_->ListApplies({});
    EXPECT_TRUE(applies.ok()) << applies.status();
    return applies.ok() ? *applies : std::vector<ApplyRecord>{};
  }

  sync::WhyFacts WhyLive(const std::string& address) {
    auto query = reconciler::ParseIpPrefix(address);
    EXPECT_TRUE(query.ok());
    auto facts =
        sync::ExplainLive(*query, sync_, {}, tq_, s1_, {}, {}, ledger_.get());
    EXPECT_TRUE(facts.ok()) << facts.status();
    return facts.ok() ? *facts : sync::WhyFacts{};
  }

  // The entry of `facts` (which must outlive the pointer), or null.
  const sync::WhyEntry* EntryOf(const sync::WhyFacts&& facts,
                                const std::string& entry) = delete;
  const sync::WhyEntry* EntryOf(const sync::WhyFacts& facts,
                                const std::string& entry) {
    for (const sync::WhyEntry& e : facts.entries) {
      if (e.entry == entry) return &e;
    }
    return nullptr;
  }

  FakeFirewallRules s1_;
  FakeIndicatorSource tq_;
  tqs1::v1::SyncConfig sync_;
  std::string path_;
  std::unique_ptr<SqliteLedger> ledger_;
};

TEST_F(LedgerTest, AnApplyIsRecordedWithItsWritesAndSources) {
  SetCollection({"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4",
                 "203.0.113.4/32"});
  SyncRunResult run = Apply();
  ASSERT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_APPLIED) << run.status;

  std::vector<ApplyRecord> applies = Applies();
  ASSERT_THAT(applies, SizeIs(1));
  const ApplyRecord& a = applies[0];
  EXPECT_EQ(a.outcome, "applied");
  EXPECT_EQ(a.sync, "c2");
  EXPECT_EQ(a.site_id, kSiteId);
  EXPECT_EQ(a.host, "host-1");
  EXPECT_EQ(a.user, "soc");
  EXPECT_EQ(a.version, "9.9.9");
  EXPECT_EQ(a.run_id, "run-1");
  EXPECT_EQ(a.created, 2u);
  EXPECT_EQ(a.blocked, 4u);
  EXPECT_EQ(a.fingerprint, run.plan->observed_fingerprint());
  EXPECT_THAT(Held(), ElementsAreArray(sync::testing::ManagedAddresses(s1_)));

  auto writes = ledger_->WritesOf(a.id);
  ASSERT_TRUE(writes.ok()) << writes.status();
  ASSERT_THAT(*writes, SizeIs(2));
  EXPECT_EQ((*writes)[0].kind, ledger::WriteKind::kCreate);
  EXPECT_FALSE((*writes)[0].rule_id.empty());  // the new rule's id
  // 203.0.113.4 came from two indicators: the 4th and 5th values.
  const ledger::WrittenEntry& four = (*writes)[1].added[0];
  ASSERT_EQ(four.text, "203.0.113.4");
  ASSERT_THAT(four.sources, SizeIs(2));
  EXPECT_EQ(four.sources[0].indicator_id, kFirstId + 3);
  EXPECT_EQ(four.sources[0].type, "IP Address");
  EXPECT_EQ(four.sources[0].status, "Active");
  EXPECT_EQ(four.sources[1].value, "203.0.113.4/32");
}

TEST_F(LedgerTest, ChurnAndShrinkAreReplayedToWhatTheSiteHolds) {
  SetCollection({"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"});
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  SetCollection({"203.0.113.2", "203.0.113.5", "203.0.113.6"});
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  EXPECT_THAT(Held(), ElementsAreArray(sync::testing::ManagedAddresses(s1_)));
  EXPECT_THAT(Held(1), ElementsAre("203.0.113.1", "203.0.113.2", "203.0.113.3",
                                   "203.0.113.4"));
  SetCollection({"203.0.113.2"});
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  EXPECT_THAT(Held(), ElementsAre("203.0.113.2"));
  EXPECT_THAT(Applies(), SizeIs(3));
}

TEST_F(LedgerTest, AnInSyncRunAndAPlanOnlyRunAreNotRecorded) {
  SetCollection({"203.0.113.1"});
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_IN_SYNC);
  RunSyncRequest request;
  request.sync = &sync_;
  request.apply = false;
  request.ledger = ledger_.get();
  SetCollection({"203.0.113.9"});
  ASSERT_EQ(sync::RunSync(request, tq_, s1_).outcome,
            tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING);
  EXPECT_THAT(Applies(), SizeIs(1));
}

TEST_F(LedgerTest, DeclinedAndGuardBlockedRunsAreRecordedWithoutWrites) {
  SetCollection({"203.0.113.1"});
  ASSERT_EQ(Apply(nullptr, sync::Approval::kDeclined).outcome,
            tqs1::v1::SYNC_OUTCOME_DECLINED);
  ASSERT_EQ(Apply(nullptr, sync::Approval::kInterrupted).outcome,
            tqs1::v1::SYNC_OUTCOME_INTERRUPTED);
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  SetCollection({});  // the empty-source guard
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED);
  std::vector<ApplyRecord> applies = Applies();
  ASSERT_THAT(applies, SizeIs(4));
  EXPECT_EQ(applies[0].outcome, "declined");
  EXPECT_EQ(applies[1].outcome, "interrupted");
  EXPECT_EQ(applies[2].outcome, "applied");
  EXPECT_EQ(applies[3].outcome, "guard-blocked");
  EXPECT_THAT(applies[3].error, HasSubstr("guard"));
  for (int i : {0, 1, 3}) {
    auto writes = ledger_->WritesOf(applies[i].id);
    ASSERT_TRUE(writes.ok());
    EXPECT_THAT(*writes, IsEmpty()) << applies[i].outcome;
  }
}

TEST_F(LedgerTest, AFailedWriteLeavesTheLedgerEqualToTheSite) {
  SetCollection({"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4",
                 "203.0.113.5", "203.0.113.6", "203.0.113.7"});
  s1_.FailNext(FakeFirewallRules::Method::kCreateRule,
               absl::UnavailableError("503"), 1);
  // The first create fails at once: nothing written.
  SyncRunResult failed = Apply();
  ASSERT_EQ(failed.outcome, tqs1::v1::SYNC_OUTCOME_FAILED);
  EXPECT_THAT(Held(), IsEmpty());
  EXPECT_EQ(Applies().back().outcome, "failed");
  // A write whose answer was lost although it was done: the ledger does
  // not know it, and the next apply records it as found on the site.
  s1_.FailNextAfterApplying(FakeFirewallRules::Method::kCreateRule,
                            absl::UnavailableError("answer lost"));
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_FAILED);
  EXPECT_THAT(Held(), IsEmpty());
  EXPECT_THAT(sync::testing::ManagedAddresses(s1_), SizeIs(3));
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  EXPECT_THAT(Held(), ElementsAreArray(sync::testing::ManagedAddresses(s1_)));
  auto writes = ledger_->WritesOf(Applies().back().id);
  ASSERT_TRUE(writes.ok());
  ASSERT_FALSE(writes->empty());
  EXPECT_EQ((*writes)[0].kind, ledger::WriteKind::kObserved);
  EXPECT_THAT((*writes)[0].added, SizeIs(3));
  // Found on the site, still with the indicators it came from.
  EXPECT_THAT((*writes)[0].added[0].sources, SizeIs(1));
}

TEST_F(LedgerTest, ALedgerThatCannotRecordAWriteStopsTheApplyBeforeTheNext) {
  SetCollection({"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4",
                 "203.0.113.5", "203.0.113.6", "203.0.113.7"});
  FailingLedger failing(*ledger_, /*fail_at=*/2);
  SyncRunResult run = Apply(&failing);
  ASSERT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_FAILED);
  EXPECT_THAT(std::string(run.status.message()),
              HasSubstr("/x/tqs1.ledger.sqlite: disk full"));
  // Two writes reached the site; the third never ran.
  EXPECT_EQ(s1_.WriteCount(), 2);
  EXPECT_THAT(Held(), SizeIs(3));
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  EXPECT_THAT(Held(), ElementsAreArray(sync::testing::ManagedAddresses(s1_)));
}

// A process killed after its last write leaves nothing to do on the site:
// the next apply, in sync, still catches the ledger up.
TEST_F(LedgerTest, AnApplyInSyncSettlesWhatAKilledOneLeft) {
  SetCollection({"203.0.113.1", "203.0.113.2", "203.0.113.3"});
  // Killed after recording its write, before recording its end.
  FailingLedger unfinished(*ledger_, /*fail_at=*/1000, /*fail_finish=*/true);
  ASSERT_EQ(Apply(&unfinished).outcome, tqs1::v1::SYNC_OUTCOME_FAILED);
  ASSERT_EQ(Applies()[0].outcome, ledger::kOutcomeRunning);
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_IN_SYNC);
  ASSERT_THAT(Applies(), SizeIs(1));  // nothing to record but its end
  EXPECT_EQ(Applies()[0].outcome, ledger::kOutcomeEnded);
  EXPECT_THAT(Held(), ElementsAreArray(sync::testing::ManagedAddresses(s1_)));

  // Killed before recording its write: the site holds what the ledger
  // does not know.
  SetCollection({"203.0.113.1", "203.0.113.2", "203.0.113.4"});
  FailingLedger unrecorded(*ledger_, /*fail_at=*/1, /*fail_finish=*/true);
  ASSERT_EQ(Apply(&unrecorded).outcome, tqs1::v1::SYNC_OUTCOME_FAILED);
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_IN_SYNC);
  const std::vector<ApplyRecord> applies = Applies();
  ASSERT_THAT(applies, SizeIs(3));
  EXPECT_EQ(applies[1].outcome, ledger::kOutcomeEnded);
  EXPECT_EQ(applies[2].outcome, ledger::kOutcomeApplied);  // observed rows
  EXPECT_THAT(Held(), ElementsAreArray(sync::testing::ManagedAddresses(s1_)));
  EXPECT_THAT(Held(), Contains("203.0.113.4"));

  // Settled: the next in-sync apply records nothing.
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_IN_SYNC);
  EXPECT_THAT(Applies(), SizeIs(3));
}

TEST_F(LedgerTest, AnApplyInterruptedMidwayRecordsWhatItWrote) {
  SetCollection({"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4",
                 "203.0.113.5", "203.0.113.6", "203.0.113.7"});
  RunSyncRequest request;
  request.sync = &sync_;
  request.plan_options.set_max_addresses_per_rule(3);
  request.ledger = ledger_.get();
  int started = 0;
  request.apply_options.on_action = [&](int, int, const tqs1::v1::Action&) {
    ++started;
  };
  request.apply_options.should_stop = [&] { return started >= 1; };
  SyncRunResult run = sync::RunSync(request, tq_, s1_);
  ASSERT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_INTERRUPTED) << run.status;
  EXPECT_EQ(Applies().back().outcome, "interrupted");
  EXPECT_EQ(Applies().back().created, 1u);
  EXPECT_THAT(Held(), SizeIs(3));
  EXPECT_THAT(Held(), ElementsAreArray(sync::testing::ManagedAddresses(s1_)));
}

TEST_F(LedgerTest, AConsoleEditIsRecordedAsObserved) {
  SetCollection({"203.0.113.1", "203.0.113.2"});
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  // Someone removes an address in the console.
  for (tqs1::v1::Rule rule : s1_.SiteRules(kSiteId)) {
    if (!reconciler::HasOwnershipMarker(rule.description())) continue;
    rule.mutable_remote_hosts(0)->clear_values();
    rule.mutable_remote_hosts(0)->add_values("203.0.113.1");
    ASSERT_TRUE(s1_.UpdateRule(kSiteId, rule).ok());
  }
  SetCollection({"203.0.113.1", "203.0.113.2", "203.0.113.3"});
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  auto writes = ledger_->WritesOf(Applies().back().id);
  ASSERT_TRUE(writes.ok());
  ASSERT_FALSE(writes->empty());
  EXPECT_EQ((*writes)[0].kind, ledger::WriteKind::kObserved);
  ASSERT_THAT((*writes)[0].removed, SizeIs(1));
  EXPECT_EQ((*writes)[0].removed[0].text, "203.0.113.2");
  EXPECT_THAT(Held(), ElementsAreArray(sync::testing::ManagedAddresses(s1_)));
}

TEST_F(LedgerTest, WhyBlockedLeftRejectedSetAsidePendingAndCovered) {
  std::vector<Indicator> indicators =
      testing::IpIndicators({"203.0.113.1", "203.0.113.2", "127.0.0.1"});
  indicators.push_back({"203.0.113.50", "IP Address", "Expired"});
  indicators.push_back({"203.0.113.60", "FQDN", "Active"});
  tq_.SetCollection(kCollection, indicators);
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);

  // Blocked: by which rule, since which apply, from which indicator.
  sync::WhyFacts blocked = WhyLive("203.0.113.1");
  const sync::WhyEntry* e = EntryOf(blocked, "203.0.113.1");
  ASSERT_NE(e, nullptr);
  ASSERT_THAT(e->rules, SizeIs(1));
  EXPECT_TRUE(e->rules[0].tqs1);
  EXPECT_TRUE(e->rules[0].enabled);
  EXPECT_TRUE(e->wanted);
  EXPECT_TRUE(e->history.held);
  EXPECT_EQ(e->history.since_apply, 1);
  ASSERT_THAT(e->indicators, SizeIs(1));
  EXPECT_EQ(e->indicators[0].indicator_id, kFirstId);

  // Rejected (a built-in never-block entry), and set aside for its status
  // or its type.
  sync::WhyFacts loopback = WhyLive("127.0.0.1");
  ASSERT_THAT(loopback.rejected, SizeIs(1));
  EXPECT_EQ(loopback.rejected[0].indicator_id(), kFirstId + 2);
  EXPECT_THAT(loopback.never_block, SizeIs(1));
  sync::WhyFacts expired = WhyLive("203.0.113.50");
  ASSERT_THAT(expired.set_aside, SizeIs(1));
  EXPECT_EQ(expired.set_aside[0].status, "Expired");
  sync::WhyFacts fqdn = WhyLive("203.0.113.60");
  ASSERT_THAT(fqdn.set_aside, SizeIs(1));
  EXPECT_EQ(fqdn.set_aside[0].type, "FQDN");

  // Inherited cover: the account rule of SetUpSite() holds 203.0.113.254;
  // named in the sync's scheme, with the marker, it is the sync's own rule
  // one scope up.
  sync::WhyFacts inherited = WhyLive("203.0.113.254");
  const sync::WhyEntry* i = EntryOf(inherited, "203.0.113.254");
  ASSERT_NE(i, nullptr);
  ASSERT_THAT(i->rules, SizeIs(1));
  EXPECT_EQ(i->rules[0].scope, tqs1::v1::RULE_SCOPE_ACCOUNT);
  EXPECT_TRUE(i->rules[0].tqs1);

  // Pending, then left the collection.
  SetCollection({"203.0.113.2", "203.0.113.9"});
  const sync::WhyFacts before_apply = WhyLive("203.0.113.9");
  const sync::WhyEntry* pending = EntryOf(before_apply, "203.0.113.9");
  ASSERT_NE(pending, nullptr);
  EXPECT_TRUE(pending->pending_block);
  EXPECT_THAT(pending->rules, IsEmpty());
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  sync::WhyFacts left = WhyLive("203.0.113.1");
  const sync::WhyEntry* l = EntryOf(left, "203.0.113.1");
  ASSERT_NE(l, nullptr);
  EXPECT_THAT(l->rules, IsEmpty());
  EXPECT_THAT(l->indicators, IsEmpty());
  EXPECT_FALSE(l->history.held);
  EXPECT_EQ(l->history.unblocked_by, 2);

  // Offline: the same history from the ledger alone.
  auto query = reconciler::ParseIpPrefix("203.0.113.0/24");
  auto offline =
      sync::ExplainOffline(*query, sync::SyncPolicy(sync_, {}), *ledger_);
  ASSERT_TRUE(offline.ok()) << offline.status();
  std::set<std::string> held;
  for (const sync::WhyEntry& entry : offline->entries) {
    if (entry.history.held) held.insert(entry.entry);
  }
  EXPECT_THAT(held, ElementsAre("203.0.113.2", "203.0.113.9"));
  EXPECT_EQ(offline->site_id, kSiteId);
}

TEST_F(LedgerTest, WhyADisabledRuleIsNotEnforced) {
  SetCollection({"203.0.113.1"});
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  for (tqs1::v1::Rule rule : s1_.SiteRules(kSiteId)) {
    if (!reconciler::HasOwnershipMarker(rule.description())) continue;
    rule.set_enabled(false);
    ASSERT_TRUE(s1_.UpdateRule(kSiteId, rule).ok());
  }
  const sync::WhyFacts facts = WhyLive("203.0.113.1");
  const sync::WhyEntry* e = EntryOf(facts, "203.0.113.1");
  ASSERT_NE(e, nullptr);
  ASSERT_THAT(e->rules, SizeIs(1));
  EXPECT_FALSE(e->rules[0].enabled);
  EXPECT_FALSE(e->pending_block);  // tqs1 keeps the operator's brake
}

TEST_F(LedgerTest, RestoreAfterAPoisonedCollection) {
  std::vector<std::string> good;
  for (int i = 1; i <= 9; ++i) good.push_back(absl::StrCat("203.0.113.", i));
  SetCollection(good);
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  // A poisoned collection: most addresses gone, one bad one in. The
  // unblock-share guard stops it, so an operator overrides it by mistake.
  SetCollection({"203.0.113.1", "198.51.100.66"});
  RunSyncRequest forced;
  forced.sync = &sync_;
  forced.plan_options.set_max_addresses_per_rule(3);
  forced.plan_options.set_allow_mass_unblock(true);
  forced.ledger = ledger_.get();
  ASSERT_EQ(sync::RunSync(forced, tq_, s1_).outcome,
            tqs1::v1::SYNC_OUTCOME_APPLIED);

  auto set = sync::ReadRecordedSet(*ledger_, 1);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(set->entries, ElementsAreArray(good));
  sync::RecordedSetSource source(*set);
  RunSyncRequest restore;
  restore.sync = &sync_;
  restore.plan_options.set_max_addresses_per_rule(3);
  restore.ledger = ledger_.get();
  restore.restore_of = 1;
  SyncRunResult run = sync::RunSync(restore, source, s1_);
  ASSERT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_APPLIED) << run.status;
  EXPECT_EQ(run.plan->restore_of(), 1);
  std::vector<std::string> managed = sync::testing::ManagedAddresses(s1_);
  EXPECT_THAT(managed, ElementsAreArray(good));
  EXPECT_EQ(Applies().back().restore_of, 1);

  auto missing = sync::ReadRecordedSet(*ledger_, 99);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, ARestoreGoesThroughTheGuards) {
  SetCollection({"203.0.113.1"});
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  std::vector<std::string> many;
  for (int i = 0; i < 150; ++i) {
    many.push_back(absl::StrCat("198.51.", i / 100, ".", i % 100));
  }
  SetCollection(many);
  ASSERT_EQ(Apply().outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  // Back to apply 1's single address would unblock 150 of 150 entries.
  auto set = sync::ReadRecordedSet(*ledger_, 1);
  ASSERT_TRUE(set.ok()) << set.status();
  sync::RecordedSetSource source(*set);
  RunSyncRequest restore;
  restore.sync = &sync_;
  restore.plan_options.set_max_addresses_per_rule(3);
  restore.ledger = ledger_.get();
  restore.restore_of = 1;
  const int64_t writes = s1_.WriteCount();
  SyncRunResult run = sync::RunSync(restore, source, s1_);
  EXPECT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED) << run.status;
  EXPECT_EQ(s1_.WriteCount(), writes);
  EXPECT_EQ(Applies().back().outcome, "guard-blocked");
  EXPECT_EQ(Applies().back().restore_of, 1);
}

}  // namespace
}  // namespace tqs1

#include "cli/server/drift.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::server {
namespace {

using ::testing::ElementsAre;
using ::tqs1::v1::Plan;
using ::tqs1::v1::SyncDrift;

// A plan of a site that blocks 100 entries (90 IPv4 addresses, 10 IPv6
// /64s) and is to block 5 more IPv4 addresses and unblock 2, with two
// managed rules disabled in the console: "C (1)" of 4 entries, which the
// plan deletes, and "C (2)" of 6, which it updates down to 3.
Plan SitePlan() {
  Plan plan;
  tqs1::v1::PlanSummary* summary = plan.mutable_summary();
  summary->set_newly_blocked(5);
  summary->set_newly_blocked_ipv4_addresses(5);
  summary->set_unblocked(2);
  summary->set_unblocked_ipv4_addresses(2);
  tqs1::v1::ObservedReport* observed = plan.mutable_observed();
  observed->set_blocked(100);
  observed->set_blocked_ipv4_addresses(90);
  observed->set_blocked_ipv6_networks(10);
  observed->set_disabled_rules(2);
  observed->set_not_enforced(10);
  observed->set_not_enforced_ipv4_addresses(10);
  observed->add_warnings("site \"HQ\" inherits its firewall policy");
  for (auto [id, entries] : {std::make_pair("1", 4), std::make_pair("2", 6)}) {
    tqs1::v1::ObservedReport::DisabledRule* rule = observed->add_disabled();
    rule->set_rule_id(id);
    rule->set_entries(entries);
  }
  plan.mutable_inputs()->set_desired(103);
  tqs1::v1::Action* deleted = plan.add_actions();
  deleted->set_kind(tqs1::v1::ACTION_KIND_DELETE);
  deleted->set_rule_id("1");
  tqs1::v1::Action* updated = plan.add_actions();
  updated->set_kind(tqs1::v1::ACTION_KIND_UPDATE);
  updated->set_rule_id("2");
  updated->set_count_after(3);
  plan.add_conflicts();
  return plan;
}

TEST(DriftTest, APlanShowsWhatIsMissingExtraAndNotEnforced) {
  SyncDrift drift;
  drift.set_sync_name("C -> HQ");
  drift.set_from_before_restart(true);
  SetDriftFromPlan(SitePlan(), &drift);
  EXPECT_EQ(drift.sync_name(), "C -> HQ");
  EXPECT_FALSE(drift.in_sync());
  EXPECT_EQ(drift.missing(), 5u);
  EXPECT_EQ(drift.missing_ipv4_addresses(), 5u);
  EXPECT_EQ(drift.extra(), 2u);
  EXPECT_EQ(drift.extra_ipv4_addresses(), 2u);
  EXPECT_EQ(drift.blocked(), 100u);
  EXPECT_EQ(drift.blocked_ipv4_addresses(), 90u);
  EXPECT_EQ(drift.blocked_ipv6_networks(), 10u);
  EXPECT_EQ(drift.conflicts(), 1u);
  EXPECT_EQ(drift.disabled_rules(), 2u);
  EXPECT_EQ(drift.not_enforced(), 10u);
  EXPECT_FALSE(drift.from_before_restart());  // observed now
  EXPECT_THAT(drift.warnings(),
              ElementsAre("site \"HQ\" inherits its firewall policy"));
}

TEST(DriftTest, AnAppliedPlanLeavesTheDesiredSetAndTheRulesItKept) {
  SyncDrift drift;
  SetDriftAfterApply(SitePlan(), &drift);
  EXPECT_TRUE(drift.in_sync());
  EXPECT_EQ(drift.missing(), 0u);
  EXPECT_EQ(drift.extra(), 0u);
  EXPECT_EQ(drift.blocked(), 103u);
  EXPECT_EQ(drift.blocked_ipv4_addresses(), 93u);  // 90 + 5 - 2
  EXPECT_EQ(drift.blocked_ipv6_networks(), 10u);
  // "C (1)" is deleted; "C (2)" stays disabled with its 3 entries after.
  EXPECT_EQ(drift.disabled_rules(), 1u);
  EXPECT_EQ(drift.not_enforced(), 3u);
  EXPECT_EQ(drift.not_enforced_ipv4_addresses(), 10u);  // as observed

  // With every disabled rule deleted, nothing is left unenforced.
  Plan plan = SitePlan();
  plan.mutable_actions(1)->set_kind(tqs1::v1::ACTION_KIND_DELETE);
  SetDriftAfterApply(plan, &drift);
  EXPECT_EQ(drift.disabled_rules(), 0u);
  EXPECT_EQ(drift.not_enforced(), 0u);
  EXPECT_EQ(drift.not_enforced_ipv4_addresses(), 0u);
}

TEST(DriftTest, TheSameDriftAtAnotherTimeIsNoChange) {
  SyncDrift a;
  SetDriftFromPlan(SitePlan(), &a);
  SyncDrift b = a;
  b.mutable_observed_at()->set_seconds(1800000000);
  b.mutable_last_attempt()->set_seconds(1800000000);
  EXPECT_TRUE(SameDrift(a, b));
  b.set_missing(4);
  EXPECT_FALSE(SameDrift(a, b));
}

}  // namespace
}  // namespace tqs1::server

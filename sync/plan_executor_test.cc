#include "sync/plan_executor.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/capturing_logger.h"
#include "base/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/sentinelone/fake_firewall_rules.h"
#include "providers/threatq/fake_indicator_source.h"
#include "sync/sync_runner.h"
#include "testing/test_scenario.h"

namespace tqs1::sync {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::tqs1::sentinelone::FakeFirewallRules;
using ::tqs1::sync::testing::ActionsLine;
using ::tqs1::sync::testing::IpIndicators;
using ::tqs1::sync::testing::kCollection;
using ::tqs1::sync::testing::kHandMadeRuleName;
using ::tqs1::sync::testing::kSiteId;
using ::tqs1::sync::testing::ManagedAddresses;
using ::tqs1::sync::testing::RuleNames;
using ::tqs1::sync::testing::SetUpSite;
using ::tqs1::sync::testing::TestSync;
using ::tqs1::v1::Action;
using ::tqs1::v1::ApplyReport;
using ::tqs1::v1::Plan;
using ::tqs1::v1::Rule;
using Method = FakeFirewallRules::Method;

// "192.0.2.<first>" ... "192.0.2.<first + count - 1>".
std::vector<std::string> Addresses(int first, int count) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) {
    out.push_back(absl::StrCat("192.0.2.", i));
  }
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class PlanExecutorTest : public ::testing::Test {
 protected:
  PlanExecutorTest() : policy_(SyncPolicy(TestSync(), {})) {
    SetUpSite(site_);
    options_.set_max_addresses_per_rule(5);
  }

  // Sets the collection to `values` and plans.
  Plan PlanFor(const std::vector<std::string>& values) {
    source_.SetCollection(kCollection, IpIndicators(values));
    absl::StatusOr<Plan> plan =
        PlanSync(TestSync(), {}, source_, site_, options_);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return plan.ok() ? *plan : Plan();
  }

  // Plans `values` and applies the plan; expects success.
  ApplyReport Converge(const std::vector<std::string>& values) {
    Plan plan = PlanFor(values);
    absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : ApplyReport();
  }

  // Re-plans the current collection from the real site.
  Plan Replan() {
    absl::StatusOr<Plan> plan =
        PlanSync(TestSync(), {}, source_, site_, options_);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return plan.ok() ? *plan : Plan();
  }

  // The hand-made rule as the site holds it now.
  Rule HandMade() {
    for (const Rule& rule : site_.SiteRules(kSiteId)) {
      if (rule.name() == kHandMadeRuleName) return rule;
    }
    ADD_FAILURE() << "the hand-made rule is gone";
    return Rule();
  }

  const tqs1::v1::DesiredState policy_;
  FakeFirewallRules site_;
  threatq::FakeIndicatorSource source_;
  tqs1::v1::PlanOptions options_;
};

TEST_F(PlanExecutorTest, FreshSiteIsAppliedAndThenInSync) {
  const std::string hand_made = HandMade().SerializeAsString();
  std::vector<std::string> wanted = Addresses(70, 12);  // holds 192.0.2.77
  Plan plan = PlanFor(wanted);
  EXPECT_EQ(ActionsLine(plan),
            "+ Known C2 (2) +5 | + Known C2 (3) +5 | + Known C2 (4) +2");
  const int64_t reads_before = site_.Requests().size();

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->sync_name(), plan.sync_name());
  EXPECT_EQ(report->created(), 3);
  EXPECT_EQ(report->updated(), 0);
  EXPECT_EQ(report->deleted(), 0);
  EXPECT_EQ(report->addresses_blocked(), 12);
  EXPECT_EQ(report->addresses_unblocked(), 0);
  std::vector<std::string> requests = site_.Requests();
  requests.erase(requests.begin(), requests.begin() + reads_before);
  EXPECT_THAT(
      requests,
      ElementsAre(absl::StrCat("ReadSite ", kSiteId),
                  absl::StrCat("CreateRule ", kSiteId, " Known C2 (2)"),
                  absl::StrCat("CreateRule ", kSiteId, " Known C2 (3)"),
                  absl::StrCat("CreateRule ", kSiteId, " Known C2 (4)")));
  EXPECT_THAT(ManagedAddresses(site_), ElementsAreArray(Sorted(wanted)));
  EXPECT_EQ(HandMade().SerializeAsString(), hand_made);
  EXPECT_TRUE(Replan().summary().in_sync());
}

TEST_F(PlanExecutorTest, GrowthAndShrinkConverge) {
  Converge(Addresses(1, 12));
  // Drop 1..4 (emptying most of the first rule), add 13..20.
  std::vector<std::string> wanted = Addresses(5, 16);
  Plan plan = PlanFor(wanted);
  ASSERT_FALSE(plan.summary().blocked());

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->created(), plan.summary().creates());
  EXPECT_EQ(report->updated(), plan.summary().updates());
  EXPECT_EQ(report->deleted(), plan.summary().deletes());
  EXPECT_EQ(report->addresses_blocked(), plan.summary().addresses_added());
  EXPECT_EQ(report->addresses_unblocked(), plan.summary().addresses_removed());
  EXPECT_THAT(ManagedAddresses(site_), ElementsAreArray(Sorted(wanted)));
  EXPECT_TRUE(Replan().summary().in_sync());

  // Shrink within the guards' floor.
  wanted = Addresses(5, 3);
  report = ApplyPlan(PlanFor(wanted), policy_, site_, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->deleted(), 0);
  EXPECT_THAT(ManagedAddresses(site_), ElementsAreArray(Sorted(wanted)));
  EXPECT_TRUE(Replan().summary().in_sync());
}

TEST_F(PlanExecutorTest, StalePlanIsRefusedWithoutWriting) {
  Plan plan = PlanFor(Addresses(1, 7));
  Rule someone_elses;
  someone_elses.set_name("Added meanwhile");
  someone_elses.set_action(tqs1::v1::RULE_ACTION_ALLOW);
  site_.PutRule(kSiteId, someone_elses);

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});

  EXPECT_EQ(report.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(report.status().message()),
              StartsWith("the site changed since the plan was made; run plan "
                         "again"));
  EXPECT_EQ(site_.WriteCount(), 0);
  EXPECT_FALSE(PartialApplyReport(report.status()).has_value());
}

TEST_F(PlanExecutorTest, ChangeToAManagedRuleMakesThePlanStale) {
  Converge(Addresses(1, 7));
  Plan plan = PlanFor(Addresses(1, 9));
  const int64_t writes = site_.WriteCount();
  // Someone disables one of tqs1's rules in the console meanwhile.
  for (Rule rule : site_.SiteRules(kSiteId)) {
    if (rule.name() == "Known C2 (2)") {
      rule.set_enabled(false);
      ASSERT_TRUE(site_.UpdateRule(kSiteId, rule).ok());
    }
  }

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});

  EXPECT_EQ(report.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(site_.WriteCount(), writes + 1);  // only the console's edit
}

TEST_F(PlanExecutorTest, GuardBlockedPlanIsRefusedWithoutWriting) {
  options_.set_max_addresses_per_rule(0);
  Converge(Addresses(1, 200));
  const int64_t writes = site_.WriteCount();

  struct Case {
    std::string name;
    std::vector<std::string> values;
    std::string guard;
  };
  for (const Case& c : std::vector<Case>{
           {"shrink to 10", Addresses(1, 10), "\"unblock-share\""},
           {"empty", {}, "\"empty-source\""},
       }) {
    SCOPED_TRACE(c.name);
    Plan plan = PlanFor(c.values);
    ASSERT_TRUE(plan.summary().blocked());

    absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});

    EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(report.status().message()),
                HasSubstr(absl::StrCat("is blocked by the guard")));
    EXPECT_THAT(std::string(report.status().message()), HasSubstr(c.guard));
    EXPECT_THAT(std::string(report.status().message()),
                HasSubstr("must not be applied"));
    EXPECT_EQ(site_.WriteCount(), writes);
  }

  // Overridden on purpose, the same shrink goes through.
  options_.set_allow_mass_unblock(true);
  Plan plan = PlanFor(Addresses(1, 10));
  ASSERT_FALSE(plan.summary().blocked());
  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->addresses_unblocked(), 190);
  EXPECT_THAT(ManagedAddresses(site_),
              ElementsAreArray(Sorted(Addresses(1, 10))));
}

// A failure on the 2nd write, before it happens or after it happened with
// its answer lost: the apply stops there, says what it did, and a re-run
// converges without duplicates and without touching the hand-made rule.
TEST_F(PlanExecutorTest, FailureMidApplyThenReRunConverges) {
  struct Case {
    std::string name;
    bool applied;  // the failed write happened anyway
  };
  for (const Case& c :
       std::vector<Case>{{"before", false}, {"after applying", true}}) {
    SCOPED_TRACE(c.name);
    FakeFirewallRules site;
    SetUpSite(site);
    std::vector<std::string> wanted = Addresses(70, 12);
    source_.SetCollection(kCollection, IpIndicators(wanted));
    absl::StatusOr<Plan> plan =
        PlanSync(TestSync(), {}, source_, site, options_);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_EQ(plan->actions_size(), 3);
    ApplyOptions apply;
    apply.on_action = [&](int index, int, const Action&) {
      if (index != 1) return;
      absl::Status lost = absl::UnavailableError("connection reset");
      if (c.applied) {
        site.FailNextAfterApplying(Method::kCreateRule, lost);
      } else {
        site.FailNext(Method::kCreateRule, lost);
      }
    };

    absl::StatusOr<ApplyReport> report = ApplyPlan(*plan, policy_, site, apply);

    EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(std::string(report.status().message()),
              "action 2 of 3 (create \"Known C2 (3)\") failed: connection "
              "reset; done before it: 1 created, 0 updated, 0 deleted; "
              "re-plan and apply again to converge");
    std::optional<ApplyReport> partial = PartialApplyReport(report.status());
    ASSERT_TRUE(partial.has_value());
    EXPECT_EQ(partial->created(), 1);
    EXPECT_EQ(partial->addresses_blocked(), 5);
    EXPECT_EQ(site.WriteCount(), c.applied ? 2 : 1);

    // The next run re-plans from the real site.
    absl::StatusOr<Plan> again =
        PlanSync(TestSync(), {}, source_, site, options_);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->actions_size(), c.applied ? 1 : 2);
    ASSERT_TRUE(ApplyPlan(*again, policy_, site, {}).ok());
    EXPECT_THAT(ManagedAddresses(site), ElementsAreArray(Sorted(wanted)));
    EXPECT_THAT(RuleNames(site), ElementsAre(kHandMadeRuleName, "Known C2 (2)",
                                             "Known C2 (3)", "Known C2 (4)"));
    absl::StatusOr<Plan> last =
        PlanSync(TestSync(), {}, source_, site, options_);
    ASSERT_TRUE(last.ok());
    EXPECT_TRUE(last->summary().in_sync());
  }
}

TEST_F(PlanExecutorTest, LostUpdateAndDeleteAnswersConverge) {
  Converge(Addresses(1, 15));
  std::vector<std::string> wanted = Addresses(6, 12);  // -1..5, +16, +17
  Plan plan = PlanFor(wanted);
  ASSERT_GT(plan.summary().updates() + plan.summary().deletes(), 0);
  for (Method method : {Method::kUpdateRule, Method::kDeleteRule}) {
    site_.FailNextAfterApplying(method, absl::DeadlineExceededError("slow"));
  }

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});

  EXPECT_EQ(report.status().code(), absl::StatusCode::kDeadlineExceeded);
  for (int attempt = 0; attempt < 3; ++attempt) {
    Plan again = Replan();
    if (again.summary().in_sync()) break;
    (void)ApplyPlan(again, policy_, site_, {});
  }
  EXPECT_THAT(ManagedAddresses(site_), ElementsAreArray(Sorted(wanted)));
  EXPECT_TRUE(Replan().summary().in_sync());
}

TEST_F(PlanExecutorTest, CancellationStopsBetweenWrites) {
  std::vector<std::string> wanted = Addresses(1, 12);
  Plan plan = PlanFor(wanted);
  ASSERT_EQ(plan.actions_size(), 3);
  int writes_started = 0;
  ApplyOptions apply;
  apply.on_action = [&](int, int, const Action&) { ++writes_started; };
  apply.should_stop = [&] { return writes_started == 1; };

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, apply);

  EXPECT_EQ(report.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(std::string(report.status().message()),
            "apply cancelled before action 2 of 3 (create \"Known C2 (3)\"); "
            "done: 1 created, 0 updated, 0 deleted; re-plan and apply again "
            "to finish");
  std::optional<ApplyReport> partial = PartialApplyReport(report.status());
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->created(), 1);
  EXPECT_EQ(site_.WriteCount(), 1);

  ASSERT_TRUE(ApplyPlan(Replan(), policy_, site_, {}).ok());
  EXPECT_THAT(ManagedAddresses(site_), ElementsAreArray(Sorted(wanted)));
}

TEST_F(PlanExecutorTest, CancellationBeforeTheFirstWriteWritesNothing) {
  Plan plan = PlanFor(Addresses(1, 3));
  ApplyOptions apply;
  apply.should_stop = [] { return true; };

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, apply);

  EXPECT_EQ(report.status().code(), absl::StatusCode::kCancelled);
  std::optional<ApplyReport> partial = PartialApplyReport(report.status());
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->created(), 0);
  EXPECT_EQ(site_.WriteCount(), 0);
}

TEST_F(PlanExecutorTest, ProgressFollowsPlanOrder) {
  Converge(Addresses(1, 15));
  Plan plan = PlanFor(Addresses(6, 17));  // updates, creates and deletes
  std::vector<std::string> expected;
  for (int i = 0; i < plan.actions_size(); ++i) {
    expected.push_back(
        absl::StrCat(i, "/", plan.actions_size(), " ", plan.actions(i).name()));
  }
  std::vector<std::string> seen;
  std::vector<int64_t> writes_when_called;
  ApplyOptions apply;
  apply.on_action = [&](int index, int total, const Action& action) {
    seen.push_back(absl::StrCat(index, "/", total, " ", action.name()));
    writes_when_called.push_back(site_.WriteCount());
  };
  const int64_t writes = site_.WriteCount();

  ASSERT_TRUE(ApplyPlan(plan, policy_, site_, apply).ok());

  EXPECT_THAT(seen, ElementsAreArray(expected));
  // Called before each write: the previous ones are done, this one is not.
  for (size_t i = 0; i < writes_when_called.size(); ++i) {
    EXPECT_EQ(writes_when_called[i], writes + static_cast<int64_t>(i));
  }
}

TEST_F(PlanExecutorTest, DurationComesFromTheInjectedClock) {
  Plan plan = PlanFor(Addresses(1, 12));
  tqs1::FakeClock clock;
  log::CapturingLogger logger;
  ApplyOptions apply;
  apply.clock = &clock;
  apply.logger = &logger;
  apply.on_action = [&](int, int, const Action&) {
    clock.Advance(absl::Milliseconds(250));
  };

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, apply);

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->duration_ms(), 750);
  EXPECT_TRUE(logger.Contains(
      "applied plan for sync \"Known C2 -> HQ\": 3 created, 0 updated, 0 "
      "deleted; 12 address entries added, 0 removed, in 750 ms"))
      << logger.Text();
}

// A plan file edited by hand must not reach rules tqs1 does not own; the
// whole plan is refused before any write.
TEST_F(PlanExecutorTest, PlanTouchingRulesTqs1DoesNotOwnIsRefused) {
  Converge(Addresses(1, 7));
  const Plan good = PlanFor(Addresses(1, 9));
  ASSERT_GE(good.actions_size(), 1);
  std::string inherited_id;
  absl::StatusOr<tqs1::v1::ObservedState> observed = site_.ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok());
  for (const Rule& rule : observed->rules()) {
    if (rule.scope() == tqs1::v1::RULE_SCOPE_ACCOUNT) inherited_id = rule.id();
  }
  const int64_t writes = site_.WriteCount();

  struct Case {
    std::string name;
    std::function<void(Plan&)> edit;
    absl::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"delete the hand-made rule",
       [&](Plan& p) {
         Action* a = p.add_actions();
         a->set_kind(tqs1::v1::ACTION_KIND_DELETE);
         a->set_rule_id(HandMade().id());
         a->set_name(kHandMadeRuleName);
       },
       absl::StatusCode::kFailedPrecondition,
       "would touch rule \"Block partner VPN\", which is not a rule of "
       "collection \"Known C2\""},
      {"delete an inherited rule",
       [&](Plan& p) {
         Action* a = p.add_actions();
         a->set_kind(tqs1::v1::ACTION_KIND_DELETE);
         a->set_rule_id(inherited_id);
         a->set_name("Known C2 (1)");
       },
       absl::StatusCode::kFailedPrecondition,
       "which is inherited from another scope"},
      {"delete an unknown rule",
       [&](Plan& p) {
         Action* a = p.add_actions();
         a->set_kind(tqs1::v1::ACTION_KIND_DELETE);
         a->set_rule_id("123");
         a->set_name("Known C2 (9)");
       },
       absl::StatusCode::kFailedPrecondition,
       "names rule 123, which site \"HQ\" does not hold"},
      {"create a rule without the marker",
       [&](Plan& p) {
         Action* a = p.add_actions();
         a->set_kind(tqs1::v1::ACTION_KIND_CREATE);
         a->set_name("Known C2 (7)");
         a->mutable_settings()->set_name("Known C2 (7)");
         a->mutable_settings()->set_action(tqs1::v1::RULE_ACTION_BLOCK);
         a->add_add("203.0.113.1");
       },
       absl::StatusCode::kFailedPrecondition,
       "would write a rule without tqs1's ownership marker"},
      {"an action of no kind",
       [&](Plan& p) { p.add_actions()->set_name("Known C2 (8)"); },
       absl::StatusCode::kFailedPrecondition, "has no valid kind"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Plan plan = good;
    c.edit(plan);

    absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});

    EXPECT_EQ(report.status().code(), c.code);
    EXPECT_THAT(std::string(report.status().message()), HasSubstr(c.message));
    EXPECT_EQ(site_.WriteCount(), writes);
  }
}

TEST_F(PlanExecutorTest, SiteReadFailureIsReportedWithContext) {
  Plan plan = PlanFor(Addresses(1, 3));
  site_.FailNext(Method::kReadSite, absl::UnavailableError("console down"));

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, site_, {});

  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(report.status().message()),
            absl::StrCat("re-reading site \"HQ\" (id ", kSiteId,
                         ") before applying: console down"));
  EXPECT_EQ(site_.WriteCount(), 0);
}

TEST_F(PlanExecutorTest, PlanWithoutSiteIsInvalid) {
  Plan plan = PlanFor(Addresses(1, 3));
  plan.clear_site_id();
  EXPECT_EQ(ApplyPlan(plan, policy_, site_, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PartialApplyReportTest, AbsentOnOtherStatuses) {
  EXPECT_FALSE(PartialApplyReport(absl::OkStatus()).has_value());
  EXPECT_FALSE(PartialApplyReport(absl::UnavailableError("x")).has_value());
}

}  // namespace
}  // namespace tqs1::sync

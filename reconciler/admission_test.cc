#include "reconciler/admission.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/planner.h"
#include "testing/site_model.h"

namespace tqs1::reconciler {
namespace {

using testing::Desired;
using ::testing::HasSubstr;
using testing::ManagedRule;
using testing::Site;
using ::tqs1::v1::DesiredState;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Plan;
using ::tqs1::v1::Rule;

// n distinct addresses 198.18.x.y (benchmarking space: public, never
// refused).
std::vector<std::string> Ips(int n, int first = 0) {
  std::vector<std::string> out;
  for (int k = first; k < first + n; ++k) {
    out.push_back(absl::StrCat("198.18.", (k >> 8) & 255, ".", k & 255));
  }
  return out;
}

std::vector<std::string> Concat(std::vector<std::string> a,
                                const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The policy of the sync of Desired("C", ...): its config and never-block
// entries, no values.
DesiredState Policy() {
  DesiredState policy = Desired("C", {});
  tqs1::v1::NeverBlock* host = policy.add_never_block();
  host->set_prefix("9.9.9.9");
  host->set_reason("SentinelOne console (console.example.net)");
  return policy;
}

Plan PlanFor(const std::vector<std::string>& values, const ObservedState& site,
             const tqs1::v1::PlanOptions& options = {}) {
  DesiredState desired = Policy();
  for (const std::string& v : values) desired.add_values(v);
  absl::StatusOr<Plan> plan = ComputePlan(desired, site, options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

TEST(AdmissionTest, AdmitsTheFreshPlanUnchanged) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(3))});
  Plan plan = PlanFor(Ips(5, 1), site);
  ASSERT_EQ(plan.actions_size(), 1);

  absl::StatusOr<AdmittedPlan> admitted = AdmitPlan(plan, Policy(), site);
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  ASSERT_EQ(admitted->plan.actions_size(), 1);
  EXPECT_EQ(admitted->plan.actions(0).DebugString(),
            plan.actions(0).DebugString());
  ASSERT_EQ(admitted->writes.size(), 1u);
  EXPECT_EQ(testing::Entries(admitted->writes[0]).size(), 5u);
}

TEST(AdmissionTest, RefusesAddedValuesThatPlanningRefuses) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(3))});
  for (const char* value :
       {"0.0.0.0/0", "::/0", "127.0.0.1", "9.9.9.9", "10.0.0.0/4", "junk"}) {
    SCOPED_TRACE(value);
    Plan plan = PlanFor(Ips(4), site);
    ASSERT_EQ(plan.actions_size(), 1);
    plan.mutable_actions(0)->add_add(value);
    absl::StatusOr<AdmittedPlan> admitted = AdmitPlan(plan, Policy(), site);
    EXPECT_EQ(admitted.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(admitted.status().message(),
                HasSubstr(absl::StrCat("it would block \"", value, "\"")));
  }
}

TEST(AdmissionTest, RefusesAValueAddedToANewRule) {
  ObservedState site = Site({});
  Plan plan = PlanFor(Ips(2), site);
  ASSERT_EQ(plan.actions_size(), 1);
  plan.mutable_actions(0)->add_add("127.0.0.1");
  EXPECT_THAT(AdmitPlan(plan, Policy(), site).status().message(),
              HasSubstr("\"127.0.0.1\""));
}

TEST(AdmissionTest, EvaluatesGuardsAgainNeverTrustingThePlansVerdicts) {
  ObservedState site = Site({ManagedRule("1", "C (1)", Ips(200)),
                             ManagedRule("2", "C (2)", Ips(200, 200))});
  Plan plan = PlanFor({}, site);  // an emptied collection
  ASSERT_TRUE(plan.summary().blocked());
  // Someone edits the file: the guards "passed".
  for (tqs1::v1::GuardVerdict& v : *plan.mutable_guards()) {
    v.set_tripped(false);
  }
  plan.mutable_summary()->set_blocked(false);

  absl::StatusOr<AdmittedPlan> admitted = AdmitPlan(plan, Policy(), site);
  EXPECT_EQ(admitted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsGuardRefusal(admitted.status()));
  EXPECT_THAT(admitted.status().message(), HasSubstr("\"empty-source\""));
}

TEST(AdmissionTest, HonoursOnlyTheOverridesThePlanRecords) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(200))});
  tqs1::v1::PlanOptions allow;
  allow.set_allow_empty(true);
  allow.set_allow_mass_unblock(true);
  Plan plan = PlanFor({}, site, allow);
  EXPECT_TRUE(AdmitPlan(plan, Policy(), site).ok());
}

tqs1::v1::FirewallConfiguration Firewall(bool enabled) {
  tqs1::v1::FirewallConfiguration firewall;
  firewall.set_known(true);
  firewall.set_enabled(enabled);
  return firewall;
}

// The firewall-disabled guard is evaluated again from the site as re-read:
// a plan made while Firewall Control was enabled is refused once it is
// disabled, unless the plan records the override.
TEST(AdmissionTest, RefusesAPlanOnceTheSitesFirewallIsDisabled) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(3))});
  *site.mutable_firewall() = Firewall(true);
  Plan plan = PlanFor(Ips(4), site);
  ASSERT_FALSE(plan.summary().blocked());
  ASSERT_TRUE(AdmitPlan(plan, Policy(), site).ok());

  ObservedState disabled = site;
  *disabled.mutable_firewall() = Firewall(false);
  absl::StatusOr<AdmittedPlan> admitted = AdmitPlan(plan, Policy(), disabled);
  EXPECT_EQ(admitted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsGuardRefusal(admitted.status()));
  EXPECT_THAT(admitted.status().message(), HasSubstr("\"firewall-disabled\""));

  // The override counts only when the plan records it.
  tqs1::v1::PlanOptions allow;
  allow.set_allow_disabled_firewall(true);
  Plan overridden = PlanFor(Ips(4), site, allow);
  absl::StatusOr<AdmittedPlan> let_through =
      AdmitPlan(overridden, Policy(), disabled);
  ASSERT_TRUE(let_through.ok()) << let_through.status();
  ASSERT_GE(let_through->plan.guards_size(), 3);
  EXPECT_TRUE(let_through->plan.guards(2).overridden());
}

// A read-only or unreadable rule is never written, even by a hand-edited
// plan whose guards "passed".
TEST(AdmissionTest, RefusesToTouchAReadOnlyOrUnreadableRule) {
  Rule read_only = ManagedRule("1", "C (1)", Ips(3));
  read_only.set_read_only(true);
  Rule unreadable = ManagedRule("2", "C (2)", {});
  unreadable.set_unreadable("field \"values[]\" should be a string, got null");
  struct Touch {
    Rule rule;
    tqs1::v1::ActionKind kind;
    std::string says;
  };
  const std::vector<Touch> touches = {
      {read_only, tqs1::v1::ACTION_KIND_UPDATE,
       "would touch rule \"C (1)\" (id 1), which the console says cannot be "
       "edited at this scope (editable: false)"},
      {read_only, tqs1::v1::ACTION_KIND_DELETE, "(editable: false)"},
      {unreadable, tqs1::v1::ACTION_KIND_DELETE,
       "would touch rule \"C (2)\" (id 2), which could not be read (field "
       "\"values[]\" should be a string, got null); tqs1 does not rewrite a "
       "rule it cannot read"},
      {unreadable, tqs1::v1::ACTION_KIND_UPDATE, "could not be read"},
  };
  for (const Touch& t : touches) {
    SCOPED_TRACE(absl::StrCat(t.rule.name(), " ", t.kind));
    ObservedState site = Site({t.rule});
    Plan plan = PlanFor(Ips(3), site);
    ASSERT_TRUE(plan.summary().blocked());  // guard unmanageable-rule
    // Someone edits the file: the guards "passed", and the rule is written.
    plan.mutable_summary()->set_blocked(false);
    plan.clear_guards();
    plan.clear_actions();
    tqs1::v1::Action* touch = plan.add_actions();
    touch->set_kind(t.kind);
    touch->set_rule_id(t.rule.id());
    touch->set_name(t.rule.name());
    if (t.kind == tqs1::v1::ACTION_KIND_UPDATE) {
      touch->mutable_settings()->set_name(t.rule.name());
      touch->mutable_settings()->set_description(t.rule.description());
      touch->mutable_settings()->set_action(tqs1::v1::RULE_ACTION_BLOCK);
      for (const std::string& ip : Ips(3)) touch->add_add(ip);
    }
    absl::StatusOr<AdmittedPlan> admitted = AdmitPlan(plan, Policy(), site);
    EXPECT_EQ(admitted.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(admitted.status().message(), HasSubstr(t.says));
  }
}

TEST(AdmissionTest, RefusesActionsForRulesTheSiteDoesNotHold) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(3))});
  Plan plan = PlanFor(Ips(4), site);
  tqs1::v1::Action* ghost = plan.add_actions();
  ghost->set_kind(tqs1::v1::ACTION_KIND_DELETE);
  ghost->set_rule_id("777");
  ghost->set_name("C (7)");
  absl::StatusOr<AdmittedPlan> admitted = AdmitPlan(plan, Policy(), site);
  EXPECT_EQ(admitted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(admitted.status().message(),
              HasSubstr("names rule 777, which site"));
}

TEST(AdmissionTest, RefusesAnExtraDeleteOfAManagedRule) {
  ObservedState site = Site({ManagedRule("1", "C (1)", Ips(3)),
                             ManagedRule("2", "C (2)", Ips(3, 3))});
  Plan plan = PlanFor(Concat(Ips(3), Ips(4, 3)), site);
  tqs1::v1::Action* drop = plan.add_actions();
  drop->set_kind(tqs1::v1::ACTION_KIND_DELETE);
  drop->set_rule_id("1");
  drop->set_name("C (1)");
  absl::StatusOr<AdmittedPlan> admitted = AdmitPlan(plan, Policy(), site);
  EXPECT_EQ(admitted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(admitted.status().message(), HasSubstr("\"C (1)\""));
}

TEST(AdmissionTest, RefusesWhenTheSiteChanged) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(3))});
  Plan plan = PlanFor(Ips(4), site);
  ObservedState changed = Site({ManagedRule("1", "C", Ips(2))});
  EXPECT_EQ(AdmitPlan(plan, Policy(), changed).status().code(),
            absl::StatusCode::kAborted);
}

TEST(AdmissionTest, RefusesAValueTheConfigNowNeverBlocks) {
  ObservedState site = Site({});
  Plan plan = PlanFor(Ips(3), site);
  DesiredState policy = Policy();
  tqs1::v1::NeverBlock* partner = policy.add_never_block();
  partner->set_prefix("198.18.0.1");
  partner->set_reason("never_block of the config");
  absl::StatusOr<AdmittedPlan> admitted = AdmitPlan(plan, policy, site);
  EXPECT_EQ(admitted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(admitted.status().message(), HasSubstr("\"198.18.0.1\""));
}

TEST(AdmissionTest, RefusesAPlanOfAnotherSyncOrWithAnError) {
  ObservedState site = Site({});
  Plan plan = PlanFor(Ips(3), site);
  Plan other = plan;
  other.set_collection("D");
  EXPECT_THAT(AdmitPlan(other, Policy(), site).status().message(),
              HasSubstr("not for sync"));
  Plan failed = plan;
  failed.set_error("reading ThreatQ collection \"C\": unavailable");
  EXPECT_EQ(AdmitPlan(failed, Policy(), site).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdmissionTest, RefusesAWriteWithoutTheOwnershipMarker) {
  ObservedState site = Site({});
  Plan plan = PlanFor(Ips(3), site);
  plan.mutable_actions(0)->mutable_settings()->set_description("mine now");
  EXPECT_THAT(AdmitPlan(plan, Policy(), site).status().message(),
              HasSubstr("ownership marker"));
}

}  // namespace
}  // namespace tqs1::reconciler

#include "sync/plan_executor.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/capturing_logger.h"
#include "base/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/sentinelone/fake_firewall_rules.h"
#include "providers/threatq/fake_indicator_source.h"
#include "reconciler/ownership.h"
#include "sync/plan_runner.h"
#include "sync/sync_runner.h"
#include "testing/test_scenario.h"

namespace tqs1::sync {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::tqs1::sentinelone::FakeFirewallRules;
using ::tqs1::sync::testing::ActionsLine;
using ::tqs1::sync::testing::BlockRule;
using ::tqs1::sync::testing::IpIndicators;
using ::tqs1::sync::testing::kCollection;
using ::tqs1::sync::testing::kHandMadeRuleName;
using ::tqs1::sync::testing::kSiteId;
using ::tqs1::sync::testing::ManagedAddresses;
using ::tqs1::sync::testing::RuleNames;
using ::tqs1::sync::testing::SetUpSite;
using ::tqs1::sync::testing::TestSync;
using ::tqs1::v1::Action;
using ::tqs1::v1::AddressFamily;
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

constexpr AddressFamily kV4 = tqs1::v1::ADDRESS_FAMILY_IPV4;
constexpr AddressFamily kV6 = tqs1::v1::ADDRESS_FAMILY_IPV6;

// The answer of a console that takes no IPv6 value, as SentinelOneClient
// reports it (the emulator's refuse_ipv6 mode).
std::string RefusalAnswer(absl::string_view endpoint, absl::string_view value) {
  return absl::StrCat(
      "SentinelOne ", endpoint,
      ": HTTP 400: Validation Error (code 4000010): data.remoteHosts.values: "
      "'",
      value, "' is not a valid IPv4 address, range or CIDR block");
}

// A console that refuses every rule written with an IPv6 value in it, with
// a 400 (kInvalidArgument) naming the first; the rest goes to `site`.
class RefusesIpv6 : public sentinelone::FirewallRules {
 public:
  explicit RefusesIpv6(FakeFirewallRules& site) : site_(site) {}

  // The writes refused so far: "CreateRule <name>", "UpdateRule <id>".
  const std::vector<std::string>& Refused() const { return refused_; }

  absl::StatusOr<std::string> FindSite(
      const sentinelone::SiteSelector& selector) override {
    return site_.FindSite(selector);
  }
  absl::StatusOr<std::string> FindAccount(
      absl::string_view name_or_id) override {
    return site_.FindAccount(name_or_id);
  }
  absl::StatusOr<std::string> FindGroup(absl::string_view site_id,
                                        absl::string_view name) override {
    return site_.FindGroup(site_id, name);
  }
  absl::StatusOr<tqs1::v1::ObservedState> ReadSite(
      const sentinelone::Scope& scope) override {
    return site_.ReadSite(scope);
  }
  absl::StatusOr<Rule> CreateRule(const sentinelone::Scope& scope,
                                  const Rule& rule) override {
    if (std::string v6 = FirstIpv6(rule); !v6.empty()) {
      refused_.push_back(absl::StrCat("CreateRule ", rule.name()));
      return absl::InvalidArgumentError(
          RefusalAnswer("POST /firewall-control", v6));
    }
    return site_.CreateRule(scope, rule);
  }
  absl::StatusOr<Rule> UpdateRule(const sentinelone::Scope& scope,
                                  const Rule& rule) override {
    if (std::string v6 = FirstIpv6(rule); !v6.empty()) {
      refused_.push_back(absl::StrCat("UpdateRule ", rule.id()));
      return absl::InvalidArgumentError(
          RefusalAnswer(absl::StrCat("PUT /firewall-control/", rule.id()), v6));
    }
    return site_.UpdateRule(scope, rule);
  }
  absl::Status DeleteRule(const sentinelone::Scope& scope,
                          absl::string_view rule_id) override {
    return site_.DeleteRule(scope, rule_id);
  }

 private:
  static std::string FirstIpv6(const Rule& rule) {
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      for (const std::string& v : hosts.values()) {
        if (v.find(':') != std::string::npos) return v;
      }
    }
    return "";
  }

  FakeFirewallRules& site_;
  std::vector<std::string> refused_;
};

std::vector<std::string> Entries(const Rule& rule) {
  std::vector<std::string> out;
  for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
    out.insert(out.end(), hosts.values().begin(), hosts.values().end());
  }
  return out;
}

// One action of a plan made by hand, and the rule it writes.
struct Step {
  Action action;
  Rule write;
};

Step Create(const std::string& name, AddressFamily family,
            const std::vector<std::string>& add) {
  Step step;
  step.action.set_kind(tqs1::v1::ACTION_KIND_CREATE);
  step.action.set_name(name);
  step.action.set_family(family);
  for (const std::string& a : add) step.action.add_add(a);
  step.write = BlockRule(name, "managed", add);
  return step;
}

// Updates `rule` (as the site holds it) to hold its entries but `remove`,
// then `add`.
Step Update(const Rule& rule, AddressFamily family,
            const std::vector<std::string>& add,
            const std::vector<std::string>& remove) {
  Step step;
  step.action.set_kind(tqs1::v1::ACTION_KIND_UPDATE);
  step.action.set_rule_id(rule.id());
  step.action.set_name(rule.name());
  step.action.set_family(family);
  for (const std::string& a : add) step.action.add_add(a);
  for (const std::string& r : remove) step.action.add_remove(r);
  std::vector<std::string> after;
  for (const std::string& e : Entries(rule)) {
    if (std::find(remove.begin(), remove.end(), e) == remove.end()) {
      after.push_back(e);
    }
  }
  after.insert(after.end(), add.begin(), add.end());
  step.write = BlockRule(rule.name(), "managed", after);
  step.write.set_id(rule.id());
  return step;
}

Step Delete(const Rule& rule, AddressFamily family) {
  Step step;
  step.action.set_kind(tqs1::v1::ACTION_KIND_DELETE);
  step.action.set_rule_id(rule.id());
  step.action.set_name(rule.name());
  step.action.set_family(family);
  for (const std::string& e : Entries(rule)) step.action.add_remove(e);
  return step;
}

// The runner's tests: plans made by hand (actions with their family set),
// against a console that refuses IPv6 values.
class RunAdmittedPlanTest : public ::testing::Test {
 protected:
  RunAdmittedPlanTest() : console_(site_) { SetUpSite(site_); }

  // Puts a rule named `name` with `entries` and id `id` into the site.
  Rule Put(const std::string& id, const std::string& name,
           const std::vector<std::string>& entries) {
    Rule rule = BlockRule(name, "managed", entries);
    rule.set_id(id);
    site_.PutRule(kSiteId, rule);
    for (const Rule& r : site_.SiteRules(kSiteId)) {
      if (r.id() == id) return r;
    }
    ADD_FAILURE() << "rule " << id << " was not put";
    return rule;
  }

  RunOutcome Run(const std::vector<Step>& steps,
                 const ApplyOptions& options = {}) {
    reconciler::AdmittedPlan admitted;
    admitted.plan.set_sync_name("Known C2 -> HQ");
    admitted.plan.set_site_id(kSiteId);
    admitted.plan.set_site_name("HQ");
    for (const Step& step : steps) {
      *admitted.plan.add_actions() = step.action;
      admitted.writes.push_back(step.write);
    }
    return RunAdmittedPlan(admitted, console_, options, clock_.Now());
  }

  // "name: entries" of each site rule tqs1's tests made, sorted by name.
  std::vector<std::string> Rules() {
    std::vector<std::string> out;
    for (const Rule& rule : site_.SiteRules(kSiteId)) {
      if (rule.name() == kHandMadeRuleName) continue;
      out.push_back(
          absl::StrCat(rule.name(), ": ", absl::StrJoin(Entries(rule), " ")));
    }
    return Sorted(out);
  }

  FakeFirewallRules site_;
  RefusesIpv6 console_;
  tqs1::FakeClock clock_;
};

TEST(IsIpv6RefusalTest, OnlyA400OnACreateOrUpdateOfAnIpv6Rule) {
  const absl::Status bad_request = absl::InvalidArgumentError("HTTP 400");
  struct Case {
    std::string name;
    tqs1::v1::ActionKind kind;
    AddressFamily family;
    absl::Status status;
    bool refusal;
  };
  for (const Case& c : std::vector<Case>{
           {"create IPv6, 400", tqs1::v1::ACTION_KIND_CREATE, kV6, bad_request,
            true},
           {"update IPv6, 400", tqs1::v1::ACTION_KIND_UPDATE, kV6, bad_request,
            true},
           {"delete IPv6, 400", tqs1::v1::ACTION_KIND_DELETE, kV6, bad_request,
            false},
           {"create IPv4, 400", tqs1::v1::ACTION_KIND_CREATE, kV4, bad_request,
            false},
           {"create, no family, 400", tqs1::v1::ACTION_KIND_CREATE,
            tqs1::v1::ADDRESS_FAMILY_UNSPECIFIED, bad_request, false},
           {"create IPv6, 503", tqs1::v1::ACTION_KIND_CREATE, kV6,
            absl::UnavailableError("HTTP 503"), false},
           {"create IPv6, duplicate name", tqs1::v1::ACTION_KIND_CREATE, kV6,
            absl::AlreadyExistsError("taken"), false},
           {"create IPv6, 403", tqs1::v1::ACTION_KIND_CREATE, kV6,
            absl::PermissionDeniedError("HTTP 403"), false},
       }) {
    SCOPED_TRACE(c.name);
    Action action;
    action.set_kind(c.kind);
    action.set_family(c.family);
    EXPECT_EQ(IsIpv6Refusal(action, c.status), c.refusal);
  }
}

// IPv6 addresses move out of a rule that held both families into a new
// IPv6 rule, which the console refuses: the IPv4 work is done, the removal
// from the old rule and the delete of a rule whose prefix covers a refused
// entry are skipped, an unrelated IPv6 delete runs, and the apply fails
// naming each refusal and suggesting ipv6: off.
TEST_F(RunAdmittedPlanTest, RefusedIpv6WriteSkipsOnlyWhatWouldUnblockIt) {
  const Rule mixed =
      Put("201", "Known C2 (1)", {"192.0.2.1", "2001:db8::1", "2001:db8::2"});
  const Rule gone_v4 = Put("202", "Known C2 (4)", {"198.51.100.1"});
  const Rule wide_v6 = Put("203", "Known C2 (5)", {"2001:db8:5::/48"});
  const Rule gone_v6 = Put("204", "Known C2 (6)", {"2001:db8:9::1"});
  const std::vector<Step> steps = {
      Create("Known C2 (2)", kV4, {"192.0.2.2"}),
      Create("Known C2 (3)", kV6,
             {"2001:db8::1", "2001:db8::2", "2001:db8:5:1::/64"}),
      Update(mixed, kV4, {}, {"2001:db8::1", "2001:db8::2"}),
      Delete(gone_v4, kV4),
      Delete(wide_v6, kV6),
      Delete(gone_v6, kV6),
  };
  std::vector<int> started;
  ApplyOptions options;
  options.on_action = [&](int index, int, const Action&) {
    started.push_back(index);
  };

  RunOutcome run = Run(steps, options);

  EXPECT_EQ(run.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      std::string(run.status.message()),
      "the console refused the IPv6 values of 1 write: action 2 of 6 (create "
      "\"Known C2 (3)\"); 2 actions skipped so as not to unblock what the "
      "refused writes were to hold: action 3 of 6 (update \"Known C2 (1)\", "
      "rule 201); action 5 of 6 (delete \"Known C2 (5)\", rule 203); every "
      "other action ran (done: 1 created, 0 updated, 2 deleted, 1 IPv6 write "
      "refused, 2 actions skipped); the console answered: SentinelOne POST "
      "/firewall-control: HTTP 400: Validation Error (code 4000010): "
      "data.remoteHosts.values: '2001:db8::1' is not a valid IPv4 address, "
      "range or CIDR block; if this console does not take IPv6 values, set "
      "`ipv6: off` for sync \"Known C2 -> HQ\" and apply again");
  EXPECT_THAT(
      run.report.ipv6_refused(),
      ElementsAre(
          "action 2 of 6 (create \"Known C2 (3)\") refused by the console: "
          "SentinelOne POST /firewall-control: HTTP 400: Validation Error "
          "(code 4000010): data.remoteHosts.values: '2001:db8::1' is not a "
          "valid IPv4 address, range or CIDR block",
          "action 3 of 6 (update \"Known C2 (1)\", rule 201) skipped: it would "
          "unblock 2001:db8::1, which action 2 was to hold",
          "action 5 of 6 (delete \"Known C2 (5)\", rule 203) skipped: it would "
          "unblock 2001:db8:5::/48, which action 2 was to hold"));
  EXPECT_EQ(run.report.created(), 1);
  EXPECT_EQ(run.report.updated(), 0);
  EXPECT_EQ(run.report.deleted(), 2);
  EXPECT_EQ(run.report.addresses_blocked(), 1);
  EXPECT_EQ(run.report.addresses_unblocked(), 2);
  EXPECT_THAT(console_.Refused(), ElementsAre("CreateRule Known C2 (3)"));
  EXPECT_THAT(started, ElementsAre(0, 1, 3, 5));  // not the skipped ones
  // Every address wanted and blocked before is still blocked.
  EXPECT_THAT(
      Rules(),
      ElementsAre("Known C2 (1): 192.0.2.1 2001:db8::1 2001:db8::2",
                  "Known C2 (2): 192.0.2.2", "Known C2 (5): 2001:db8:5::/48"));
}

// What a skipped action was to add counts as unwritten too: a later action
// that would remove it is skipped in turn, whatever its family.
TEST_F(RunAdmittedPlanTest, SkipsAreTransitive) {
  const Rule v6 = Put("301", "Known C2 (1)", {"2001:db8::5"});
  const Rule mixed = Put("302", "Known C2 (2)", {"192.0.2.8", "2001:db8::7"});
  const Rule v4 = Put("303", "Known C2 (3)", {"192.0.2.9", "192.0.2.10"});
  const std::vector<Step> steps = {
      // Takes 2001:db8::7 over from (2): refused.
      Update(v6, kV6, {"2001:db8::7"}, {}),
      // Sheds 2001:db8::7 and takes 192.0.2.9 over from (3): skipped.
      Update(mixed, kV4, {"192.0.2.9"}, {"2001:db8::7"}),
      // Sheds 192.0.2.9 (and an unwanted address): skipped, as (2) did not
      // take it.
      Update(v4, kV4, {}, {"192.0.2.10", "192.0.2.9"}),
  };

  RunOutcome run = Run(steps);

  EXPECT_EQ(run.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      run.report.ipv6_refused(),
      ElementsAre(StartsWith("action 1 of 3 (update \"Known C2 (1)\", rule "
                             "301) refused by the console: SentinelOne PUT "
                             "/firewall-control/301: HTTP 400"),
                  "action 2 of 3 (update \"Known C2 (2)\", rule 302) skipped: "
                  "it would unblock 2001:db8::7, which action 1 was to hold",
                  "action 3 of 3 (update \"Known C2 (3)\", rule 303) skipped: "
                  "it would unblock 192.0.2.9, which action 2 was to hold"));
  EXPECT_EQ(run.report.updated(), 0);
  EXPECT_EQ(site_.WriteCount(), 0);
}

// The entries compared are addresses and prefixes, not text: another
// spelling, host bits past the length, and an entry that is no address at
// all (skipped: the safe side).
TEST_F(RunAdmittedPlanTest, RemovedEntriesAreReadAsPrefixes) {
  struct Case {
    std::string name;
    std::string entry;  // held by the rule a later action deletes
    bool skipped;
  };
  for (const Case& c : std::vector<Case>{
           {"same address, upper case", "2001:DB8::1", true},
           {"inside the refused prefix", "2001:db8:7::1", true},
           {"a prefix with host bits set", "2001:db8:7::1/32", true},
           {"unreadable", "not an address", true},
           {"another IPv6 network", "2001:db8:8::1", false},
           {"an IPv4 address", "192.0.2.1", false},
       }) {
    SCOPED_TRACE(c.name);
    FakeFirewallRules site;
    SetUpSite(site);
    RefusesIpv6 console(site);
    Rule old = BlockRule("Known C2 (1)", "managed", {c.entry});
    old.set_id("401");
    site.PutRule(kSiteId, old);
    reconciler::AdmittedPlan admitted;
    admitted.plan.set_sync_name("Known C2 -> HQ");
    admitted.plan.set_site_id(kSiteId);
    for (const Step& step :
         {Create("Known C2 (2)", kV6, {"2001:db8::1", "2001:db8:7::/48"}),
          Delete(old, kV4)}) {
      *admitted.plan.add_actions() = step.action;
      admitted.writes.push_back(step.write);
    }

    RunOutcome run = RunAdmittedPlan(admitted, console, {}, absl::Now());

    EXPECT_EQ(run.status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(run.report.deleted(), c.skipped ? 0 : 1);
    ASSERT_EQ(run.report.ipv6_refused_size(), c.skipped ? 2 : 1);
    if (c.skipped) {
      EXPECT_EQ(run.report.ipv6_refused(1),
                absl::StrCat("action 2 of 2 (delete \"Known C2 (1)\", rule "
                             "401) skipped: it would unblock ",
                             c.entry, ", which action 1 was to hold"));
    }
  }
}

// Only the console's refusal of IPv6 values lets the apply go on; any other
// failure, of an IPv6 write too, stops it at once as before.
TEST_F(RunAdmittedPlanTest, OtherFailuresStillStopAtOnce) {
  struct Case {
    std::string name;
    Step step;
    FakeFirewallRules::Method method;
    absl::Status failure;
  };
  for (const Case& c : std::vector<Case>{
           {"IPv6 create, console down",
            Create("Known C2 (2)", kV6, {"2001:db8::1"}),
            FakeFirewallRules::Method::kCreateRule,
            absl::UnavailableError("console down")},
           {"IPv4 create, 400", Create("Known C2 (2)", kV4, {"192.0.2.1"}),
            FakeFirewallRules::Method::kCreateRule,
            absl::InvalidArgumentError("HTTP 400: bad")},
       }) {
    SCOPED_TRACE(c.name);
    FakeFirewallRules site;
    SetUpSite(site);
    site.FailNext(c.method, c.failure);
    reconciler::AdmittedPlan admitted;
    admitted.plan.set_sync_name("Known C2 -> HQ");
    admitted.plan.set_site_id(kSiteId);
    for (const Step& step :
         {c.step, Create("Known C2 (3)", kV4, {"192.0.2.200"})}) {
      *admitted.plan.add_actions() = step.action;
      admitted.writes.push_back(step.write);
    }

    RunOutcome run = RunAdmittedPlan(admitted, site, {}, absl::Now());

    EXPECT_EQ(run.status.code(), c.failure.code());
    EXPECT_EQ(std::string(run.status.message()),
              absl::StrCat("action 1 of 2 (create \"Known C2 (2)\") failed: ",
                           c.failure.message(),
                           "; done before it: 0 created, 0 updated, 0 "
                           "deleted; re-plan and apply again to converge"));
    EXPECT_TRUE(run.report.ipv6_refused().empty());
    EXPECT_EQ(site.WriteCount(), 0);
  }
}

// A stop after a refusal says so, and its report keeps the refusal.
TEST_F(RunAdmittedPlanTest, StopsAfterARefusalCarryIt) {
  const std::vector<Step> steps = {
      Create("Known C2 (2)", kV6, {"2001:db8::1"}),
      Create("Known C2 (3)", kV4, {"192.0.2.1"}),
  };
  ApplyOptions options;
  int asked = 0;
  options.should_stop = [&] { return ++asked == 2; };

  RunOutcome run = Run(steps, options);

  EXPECT_EQ(run.status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(std::string(run.status.message()),
            "apply cancelled before action 2 of 2 (create \"Known C2 (3)\"); "
            "done: 0 created, 0 updated, 0 deleted, 1 IPv6 write refused; "
            "re-plan and apply again to finish");
  ASSERT_EQ(run.report.ipv6_refused_size(), 1);
  EXPECT_THAT(run.report.ipv6_refused(0),
              StartsWith("action 1 of 2 (create \"Known C2 (2)\") refused by "
                         "the console: "));
}

// More than ten refused writes: the message names ten and counts the rest;
// the report lists each.
TEST_F(RunAdmittedPlanTest, ManyRefusalsAreCountedInTheMessage) {
  std::vector<Step> steps;
  for (int k = 0; k < 12; ++k) {
    steps.push_back(Create(absl::StrCat("Known C2 (", k + 2, ")"), kV6,
                           {absl::StrCat("2001:db8::", k + 1)}));
  }

  RunOutcome run = Run(steps);

  EXPECT_EQ(run.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(run.status.message()),
              HasSubstr("of 12 writes: action 1 of 12 (create \"Known C2 "
                        "(2)\"); "));
  EXPECT_THAT(std::string(run.status.message()),
              HasSubstr("action 10 of 12 (create \"Known C2 (11)\"); and 2 "
                        "more (listed in the apply report); every other "
                        "action ran"));
  EXPECT_EQ(run.report.ipv6_refused_size(), 12);
}

// No refusal: the runner is the plain in-order apply.
TEST_F(RunAdmittedPlanTest, WithoutRefusalsEveryActionRuns) {
  const Rule old = Put("501", "Known C2 (1)", {"2001:db8::1"});
  RunOutcome run =
      Run({Create("Known C2 (2)", kV4, {"192.0.2.1"}), Delete(old, kV6)});
  EXPECT_TRUE(run.status.ok()) << run.status;
  EXPECT_TRUE(run.report.ipv6_refused().empty());
  EXPECT_THAT(Rules(), ElementsAre("Known C2 (2): 192.0.2.1"));
}

// Through ApplyPlan, with the plan the planner makes: a rule holding both
// families sheds its IPv6 address into a new IPv6 rule, which the console
// refuses. The IPv4 rule keeps the address it was to shed (its update is
// skipped), the IPv4-only work runs, and the partial report says it all.
TEST_F(PlanExecutorTest, RefusedIpv6WriteThroughApplyPlan) {
  Rule mixed = BlockRule(
      "Known C2 (2)", reconciler::DescriptionWithMarker("Blocked by ThreatQ"),
      {"192.0.2.1", "192.0.2.2", "2001:db8::1"});
  site_.PutRule(kSiteId, mixed);
  Plan plan = PlanFor({"192.0.2.1", "192.0.2.2", "2001:db8::1", "192.0.2.3",
                       "192.0.2.4", "192.0.2.5", "192.0.2.6"});
  ASSERT_FALSE(plan.summary().blocked()) << ActionsLine(plan);
  RefusesIpv6 console(site_);

  absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy_, console, {});

  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition)
      << ActionsLine(plan);
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("set `ipv6: off` for sync \"Known C2 -> HQ\""));
  std::optional<ApplyReport> partial = PartialApplyReport(report.status());
  ASSERT_TRUE(partial.has_value());
  ASSERT_GE(partial->ipv6_refused_size(), 1) << ActionsLine(plan);
  EXPECT_THAT(partial->ipv6_refused(0), HasSubstr("refused by the console"));
  // Every wanted address blocked before is still blocked.
  std::vector<std::string> blocked = ManagedAddresses(site_);
  for (const char* wanted : {"192.0.2.1", "192.0.2.2", "2001:db8::1"}) {
    EXPECT_NE(std::find(blocked.begin(), blocked.end(), wanted), blocked.end())
        << wanted << " in " << ActionsLine(plan);
  }
  EXPECT_THAT(partial->ipv6_refused(),
              Contains(HasSubstr("skipped: it would unblock 2001:db8::1, "
                                 "which action ")))
      << ActionsLine(plan);
}

}  // namespace
}  // namespace tqs1::sync

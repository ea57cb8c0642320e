#include "sync/sync_runner.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/sentinelone/fake_firewall_rules.h"
#include "providers/threatq/fake_indicator_source.h"
#include "reconciler/admission.h"
#include "reconciler/normalize.h"
#include "reconciler/ownership.h"
#include "sync/plan_executor.h"
#include "testing/invariant_checker.h"
#include "testing/test_scenario.h"

namespace tqs1::sync {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::tqs1::sentinelone::FakeFirewallRules;
using ::tqs1::sync::testing::ActionsLine;
using ::tqs1::sync::testing::IpIndicators;
using ::tqs1::sync::testing::kCollection;
using ::tqs1::sync::testing::kSiteId;
using ::tqs1::sync::testing::ManagedAddresses;
using ::tqs1::sync::testing::SetUpSite;
using ::tqs1::sync::testing::TestSync;
using ::tqs1::v1::NeverBlock;
using ::tqs1::v1::Plan;
using ::tqs1::v1::Rule;
using Method = FakeFirewallRules::Method;

class SyncRunnerTest : public ::testing::Test {
 protected:
  SyncRunnerTest() {
    SetUpSite(site_);
    options_.set_max_addresses_per_rule(5);
  }

  FakeFirewallRules site_;
  threatq::FakeIndicatorSource source_;
  tqs1::v1::PlanOptions options_;

  // The sync run unattended (RunSync() with no confirmation), as a
  // scheduled server round runs it.
  SyncRunResult Run(sentinelone::FirewallRules& site) {
    const tqs1::v1::SyncConfig sync = TestSync();
    RunSyncRequest request;
    request.sync = &sync;
    request.plan_options = options_;
    return RunSync(request, source_, site);
  }
};

TEST_F(SyncRunnerTest, PlanCarriesSiteInputsAndFingerprint) {
  source_.SetCollection(
      kCollection,
      {{"192.0.2.1", "IP Address", "Active"},
       {"192.0.2.1", "IP Address", "Active"},  // duplicate
       {"2001:db8::1", "IPv6 Address", "Active"},
       {"198.51.100.0/24", "CIDR Block", "Active"},
       {"192.0.2.300", "IP Address", "Active"},     // invalid
       {"192.0.2.9", "IP Address", "Whitelisted"},  // skipped status
       {"evil.example", "FQDN", "Active"},          // skipped type
       {"203.0.113.5", "IP Address", "Active"}});   // never-block
  std::vector<NeverBlock> never_block(1);
  never_block[0].set_prefix("203.0.113.0/24");
  never_block[0].set_reason("SentinelOne console address");

  absl::StatusOr<Plan> plan =
      PlanSync(TestSync(), never_block, source_, site_, options_);

  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->site_id(), kSiteId);
  EXPECT_EQ(plan->site_name(), "HQ");
  EXPECT_EQ(plan->collection(), kCollection);
  EXPECT_EQ(plan->sync_name(), "Known C2 -> HQ");
  EXPECT_TRUE(absl::StartsWith(plan->observed_fingerprint(), "sha256:"));
  EXPECT_EQ(plan->inputs().source().indicators_read(), 8);
  EXPECT_EQ(plan->inputs().source().skipped_types().at("FQDN"), 1);
  EXPECT_EQ(plan->inputs().source().skipped_statuses().at("Whitelisted"), 1);
  EXPECT_EQ(plan->inputs().duplicates(), 1);
  EXPECT_EQ(plan->inputs().invalid(), 1);
  EXPECT_EQ(plan->inputs().never_blocked(), 1);
  EXPECT_EQ(plan->inputs().desired(), 3);
  // IPv4 and IPv6 never share a rule.
  EXPECT_EQ(ActionsLine(*plan), "+ Known C2 (2) +2 | + Known C2 (3) +1");
  // Rejected values name the ThreatQ indicator they came from (the fake
  // numbers them from 100000, in collection order).
  ASSERT_EQ(plan->inputs().rejected_size(), 2);
  EXPECT_EQ(plan->inputs().rejected(0).value(), "192.0.2.300");
  EXPECT_EQ(plan->inputs().rejected(0).indicator_id(), 100004u);
  EXPECT_EQ(plan->inputs().rejected(1).value(), "203.0.113.5");
  EXPECT_EQ(plan->inputs().rejected(1).indicator_id(), 100007u);
  // Reads only.
  EXPECT_THAT(site_.Requests(),
              ElementsAre("FindSite HQ", absl::StrCat("ReadSite ", kSiteId)));
  EXPECT_EQ(site_.WriteCount(), 0);
}

TEST_F(SyncRunnerTest, ThreatQFailureMeansNoPlanAndNoSiteCall) {
  struct Case {
    std::string name;
    std::function<void()> arrange;
    absl::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"outage",
       [&] {
         source_.SetCollection(kCollection, IpIndicators({"192.0.2.1"}));
         source_.FailNextReads(absl::UnavailableError("ThreatQ down"));
       },
       absl::StatusCode::kUnavailable,
       "reading ThreatQ collection \"Known C2\": ThreatQ down"},
      {"missing collection", [&] { source_.RemoveCollection(kCollection); },
       absl::StatusCode::kNotFound,
       "reading ThreatQ collection \"Known C2\": "},
  };
  // The site holds managed rules: an empty desired set would delete them.
  source_.SetCollection(kCollection, IpIndicators({"192.0.2.1", "192.0.2.2"}));
  ASSERT_TRUE(Run(site_).status.ok());
  const size_t requests = site_.Requests().size();
  const int64_t writes = site_.WriteCount();

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    c.arrange();

    absl::StatusOr<Plan> plan = PlanSync(TestSync(), {}, source_, site_, {});
    EXPECT_EQ(plan.status().code(), c.code);
    EXPECT_TRUE(absl::StartsWith(plan.status().message(), c.message))
        << plan.status();

    c.arrange();
    SyncRunResult result = Run(site_);
    EXPECT_EQ(result.status.code(), c.code);

    EXPECT_EQ(site_.Requests().size(), requests);
    EXPECT_EQ(site_.WriteCount(), writes);
  }
}

TEST_F(SyncRunnerTest, SiteErrorsSayWhichReadFailed) {
  source_.SetCollection(kCollection, IpIndicators({"192.0.2.1"}));
  tqs1::v1::SyncConfig missing = TestSync();
  missing.set_site("Nowhere");
  absl::StatusOr<Plan> plan = PlanSync(missing, {}, source_, site_, {});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StartsWith(plan.status().message(),
                               "finding SentinelOne site \"Nowhere\": "))
      << plan.status();

  site_.FailNext(Method::kReadSite, absl::UnavailableError("console down"));
  plan = PlanSync(TestSync(), {}, source_, site_, {});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(plan.status().message()),
            absl::StrCat("reading the firewall rules of site \"HQ\" (id ",
                         kSiteId, "): console down"));
}

TEST_F(SyncRunnerTest, BadNeverBlockEntryIsInvalidArgument) {
  source_.SetCollection(kCollection, IpIndicators({"192.0.2.1"}));
  std::vector<NeverBlock> never_block(1);
  never_block[0].set_prefix("not-a-prefix");
  never_block[0].set_reason("config never_block");
  EXPECT_EQ(
      PlanSync(TestSync(), never_block, source_, site_, {}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(SyncRunnerTest, RunSyncConvergesAndThenDoesNothing) {
  std::vector<std::string> wanted = {"192.0.2.1", "192.0.2.2", "2001:db8::7",
                                     "198.51.100.0/24"};
  source_.SetCollection(kCollection, IpIndicators(wanted));

  SyncRunResult first = Run(site_);
  ASSERT_TRUE(first.status.ok()) << first.status;
  EXPECT_EQ(first.report.created(), 2);  // an IPv4 rule and an IPv6 rule
  EXPECT_EQ(first.report.addresses_blocked(), 4);
  std::sort(wanted.begin(), wanted.end());
  EXPECT_THAT(ManagedAddresses(site_), ElementsAreArray(wanted));

  const size_t requests = site_.Requests().size();
  SyncRunResult second = Run(site_);
  ASSERT_TRUE(second.status.ok()) << second.status;
  EXPECT_TRUE(second.plan->summary().in_sync());
  EXPECT_EQ(second.report.sync_name(), "Known C2 -> HQ");
  EXPECT_EQ(second.report.created() + second.report.updated() +
                second.report.deleted(),
            0);
  // An in-sync plan is not applied: no second read of the site.
  EXPECT_EQ(site_.Requests().size(), requests + 2);
}

TEST_F(SyncRunnerTest, RunSyncRefusesAGuardBlockedPlan) {
  source_.SetCollection(kCollection, IpIndicators({"192.0.2.1", "192.0.2.2"}));
  ASSERT_TRUE(Run(site_).status.ok());
  source_.SetCollection(kCollection, {});
  const int64_t writes = site_.WriteCount();

  SyncRunResult result = Run(site_);

  EXPECT_EQ(result.outcome, tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED);
  EXPECT_TRUE(reconciler::IsGuardRefusal(result.status)) << result.status;
  EXPECT_EQ(result.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(result.status.message(), "empty-source"))
      << result.status;
  EXPECT_EQ(site_.WriteCount(), writes);
}

// The server and the CLI learn which step failed from the result, not from
// counters or messages.
TEST_F(SyncRunnerTest, RunSyncSaysWhichStepFailed) {
  source_.SetCollection(kCollection, IpIndicators({"192.0.2.1"}));
  source_.FailNextReads(absl::UnavailableError("ThreatQ down"));
  SyncRunResult run = Run(site_);
  EXPECT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_FAILED);
  EXPECT_EQ(run.failed_step, tqs1::v1::SYNC_STEP_READ_COLLECTION);
  EXPECT_FALSE(run.plan.has_value());

  site_.FailNext(Method::kReadSite, absl::UnavailableError("console down"));
  run = Run(site_);
  EXPECT_EQ(run.failed_step, tqs1::v1::SYNC_STEP_READ_SITE);
  EXPECT_EQ(run.status.code(), absl::StatusCode::kUnavailable);

  const tqs1::v1::SyncConfig elsewhere = [] {
    tqs1::v1::SyncConfig sync = TestSync();
    sync.set_site("Nowhere");
    return sync;
  }();
  RunSyncRequest request;
  request.sync = &elsewhere;
  run = RunSync(request, source_, site_);
  EXPECT_EQ(run.failed_step, tqs1::v1::SYNC_STEP_FIND_SITE);

  site_.FailNext(Method::kCreateRule, absl::UnavailableError("503"));
  run = Run(site_);
  EXPECT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_FAILED);
  EXPECT_EQ(run.failed_step, tqs1::v1::SYNC_STEP_APPLY);
  ASSERT_TRUE(run.plan.has_value());
  EXPECT_EQ(run.plan->actions_size(), 1);
}

// Nothing is written unless the plan is approved; each answer has its own
// outcome, and a plan-only run never asks.
TEST_F(SyncRunnerTest, RunSyncWritesOnlyWhatIsApproved) {
  source_.SetCollection(kCollection, IpIndicators({"192.0.2.1"}));
  const tqs1::v1::SyncConfig sync = TestSync();
  const int64_t writes = site_.WriteCount();
  int asked = 0;
  int shown = 0;
  const std::vector<std::pair<Approval, tqs1::v1::SyncOutcome>> answers = {
      {Approval::kDeclined, tqs1::v1::SYNC_OUTCOME_DECLINED},
      {Approval::kNoOneToAsk, tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING},
      {Approval::kInterrupted, tqs1::v1::SYNC_OUTCOME_INTERRUPTED},
  };
  for (const auto& [answer, outcome] : answers) {
    RunSyncRequest request;
    request.sync = &sync;
    request.on_plan = [&shown](const Plan&) { ++shown; };
    request.approve = [&asked, answer = answer](const Plan& plan) {
      ++asked;
      EXPECT_EQ(plan.actions_size(), 1);
      return answer;
    };
    SyncRunResult run = RunSync(request, source_, site_);
    EXPECT_EQ(run.outcome, outcome);
    EXPECT_EQ(site_.WriteCount(), writes);
  }
  RunSyncRequest plan_only;
  plan_only.sync = &sync;
  plan_only.apply = false;
  plan_only.approve = [&asked](const Plan&) {
    ++asked;
    return Approval::kApproved;
  };
  EXPECT_EQ(RunSync(plan_only, source_, site_).outcome,
            tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING);
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(shown, 3);
  EXPECT_EQ(site_.WriteCount(), writes);

  SyncRunResult run = Run(site_);
  EXPECT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_APPLIED);
  EXPECT_EQ(site_.WriteCount(), writes + 1);
  EXPECT_EQ(Run(site_).outcome, tqs1::v1::SYNC_OUTCOME_IN_SYNC);
}

// A saved plan that holds an error has nothing to apply.
TEST_F(SyncRunnerTest, RunSyncRefusesAGivenPlanThatHoldsAnError) {
  const tqs1::v1::SyncConfig sync = TestSync();
  Plan failed;
  failed.set_sync_name("Known C2 -> HQ");
  failed.set_error("reading ThreatQ collection: down");
  RunSyncRequest request;
  request.sync = &sync;
  request.plan = &failed;
  SyncRunResult run = RunSync(request, source_, site_);
  EXPECT_EQ(run.outcome, tqs1::v1::SYNC_OUTCOME_FAILED);
  EXPECT_EQ(run.failed_step, tqs1::v1::SYNC_STEP_PLAN);
  EXPECT_EQ(run.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(site_.Requests().empty());
}

// The old connector's rule (managed name, no marker) is a conflict: left
// alone, and no second rule of its name; adopting takes it over.
TEST_F(SyncRunnerTest, LegacyRuleIsLeftAloneUntilAdopted) {
  site_.PutRule(kSiteId, testing::BlockRule(kCollection,
                                            "Created by the ThreatQ connector",
                                            {"192.0.2.1", "192.0.2.99"}));
  source_.SetCollection(kCollection, IpIndicators({"192.0.2.1", "192.0.2.2"}));
  testing::InvariantChecker checked(site_, kSiteId, kCollection, 5);
  checked.StartRound({"192.0.2.1", "192.0.2.2"});

  SyncRunResult result = Run(checked);

  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.plan->conflicts_size(), 1);
  EXPECT_THAT(checked.Violations(), IsEmpty());
  EXPECT_THAT(ManagedAddresses(site_), ElementsAre("192.0.2.1", "192.0.2.2"));

  // Adopting: the legacy rule gets the marker; its stale address goes and
  // the duplicate copy in tqs1's own rule is resolved.
  options_.set_adopt(true);
  for (int run = 0; run < 2; ++run) {
    result = Run(site_);
    ASSERT_TRUE(result.status.ok()) << result.status;
  }
  EXPECT_TRUE(result.plan->summary().in_sync()) << ActionsLine(*result.plan);
  EXPECT_THAT(ManagedAddresses(site_), ElementsAre("192.0.2.1", "192.0.2.2"));
  for (const Rule& rule : site_.SiteRules(kSiteId)) {
    if (rule.name() == kCollection) {
      EXPECT_TRUE(reconciler::HasOwnershipMarker(rule.description()));
    }
  }
}

// Failures injected mid-apply, then re-runs until in sync, with the
// invariants checked on the fake's state after every write.
TEST_F(SyncRunnerTest, ReRunsAfterInjectedFailuresConvergeSafely) {
  testing::InvariantChecker checked(site_, kSiteId, kCollection, 5);
  std::set<std::string> wanted;
  std::vector<std::string> values;
  for (int i = 1; i <= 23; ++i) values.push_back(absl::StrCat("192.0.2.", i));
  source_.SetCollection(kCollection, IpIndicators(values));
  wanted.insert(values.begin(), values.end());
  checked.StartRound(wanted);
  ASSERT_TRUE(Run(checked).status.ok());

  // Move a third of the set: updates, creates and deletes, each failing once.
  values.erase(values.begin(), values.begin() + 8);
  for (int i = 30; i < 60; ++i) values.push_back(absl::StrCat("192.0.2.", i));
  source_.SetCollection(kCollection, IpIndicators(values));
  wanted = std::set<std::string>(values.begin(), values.end());
  checked.StartRound(wanted);
  // Writes 2, 3, 5 and 6 of the runs fail: before the write, or after it
  // happened with its answer lost.
  const int64_t first_write = checked.Writes();
  checked.set_before_write([&](Method method) {
    switch (checked.Writes() - first_write) {
      case 1:
      case 4:
        site_.FailNext(method, absl::UnavailableError("503"));
        break;
      case 2:
      case 5:
        site_.FailNextAfterApplying(method,
                                    absl::UnavailableError("connection reset"));
        break;
      default:
        break;
    }
  });
  int failures = 0;
  bool in_sync = false;
  for (int run = 0; run < 10 && !in_sync; ++run) {
    SyncRunResult result = Run(checked);
    if (!result.status.ok()) {
      EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
      ++failures;
      continue;
    }
    in_sync = result.plan->summary().in_sync();
  }

  EXPECT_TRUE(in_sync);
  EXPECT_EQ(failures, 4);
  EXPECT_EQ(checked.FailedWrites(), 4);
  EXPECT_THAT(checked.Violations(), IsEmpty());
  EXPECT_THAT(
      ManagedAddresses(site_),
      ElementsAreArray(std::vector<std::string>(wanted.begin(), wanted.end())));
}

TEST_F(SyncRunnerTest, Ipv6AutoFollowsTheResolverForTheSiteFound) {
  source_.SetCollection(kCollection,
                        IpIndicators({"192.0.2.1", "2001:db8::7"}));
  tqs1::v1::SyncConfig sync = TestSync();
  sync.set_ipv6(tqs1::v1::IPV6_MODE_AUTO);
  std::vector<std::string> asked;
  RunSyncRequest request;
  request.sync = &sync;
  request.plan_options = options_;
  request.ipv6_auto = [&asked](const tqs1::v1::SyncConfig&,
                               absl::string_view site_id) {
    asked.emplace_back(site_id);
    return tqs1::v1::IPV6_MODE_OFF;
  };

  SyncRunResult run = RunSync(request, source_, site_);

  ASSERT_TRUE(run.status.ok()) << run.status;
  // Asked for the site found, at plan time and again at admission.
  EXPECT_THAT(asked, ElementsAre(kSiteId, kSiteId));
  ASSERT_EQ(run.plan->inputs().rejected_size(), 1);
  EXPECT_EQ(run.plan->inputs().rejected(0).value(), "2001:db8::7");
  EXPECT_EQ(run.plan->inputs().rejected(0).reason(),
            reconciler::kIpv6OffReason);
  EXPECT_THAT(ManagedAddresses(site_), ElementsAre("192.0.2.1"));

  // Nothing learned (AUTO) or no resolver: on.
  for (const Ipv6AutoResolver& resolver :
       {Ipv6AutoResolver([](const tqs1::v1::SyncConfig&, absl::string_view) {
          return tqs1::v1::IPV6_MODE_AUTO;
        }),
        Ipv6AutoResolver()}) {
    EXPECT_EQ(DecideIpv6(sync, kSiteId, resolver).ipv6(),
              tqs1::v1::IPV6_MODE_ON);
  }
  // An explicit mode is never overridden.
  sync.set_ipv6(tqs1::v1::IPV6_MODE_ON);
  EXPECT_EQ(DecideIpv6(sync, kSiteId, request.ipv6_auto).ipv6(),
            tqs1::v1::IPV6_MODE_ON);
}

}  // namespace
}  // namespace tqs1::sync

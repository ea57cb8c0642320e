// Seeded soak of plan + apply against the in-memory fakes: hundreds of
// rounds in which the collection changes at random (small churn, bursts,
// mass removals, shrinking to almost nothing) and writes fail at random
// (before the write, or after it with the answer lost), site reads fail,
// applies get cancelled between writes and the site changes between plan
// and apply. Each round re-runs plan + apply until the plan is in sync. The
// invariants (no duplicate names, no foreign rule touched, no wanted
// address unblocked, per-rule limit) are checked on the fake's state after
// every write; after each round the site must hold exactly the desired set.
//
// The seed is printed with every failure; reproduce with
//   TQS1_TEST_SEED=<seed> bazel test //sync:sync_soak_test
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "providers/sentinelone/fake_firewall_rules.h"
#include "providers/threatq/fake_indicator_source.h"
#include "sync/plan_executor.h"
#include "sync/sync_runner.h"
#include "testing/invariant_checker.h"
#include "testing/test_scenario.h"

namespace tqs1::sync {
namespace {

using ::tqs1::sentinelone::FakeFirewallRules;
using ::tqs1::sync::testing::InvariantChecker;
using ::tqs1::sync::testing::kCollection;
using ::tqs1::sync::testing::kSiteId;
using ::tqs1::sync::testing::ManagedAddresses;
using ::tqs1::sync::testing::RuleNames;
using ::tqs1::sync::testing::SetUpSite;
using ::tqs1::sync::testing::TestSync;
using ::tqs1::v1::Action;
using ::tqs1::v1::ApplyReport;
using ::tqs1::v1::Plan;
using Method = FakeFirewallRules::Method;

constexpr uint64_t kDefaultSeed = 20260101;
constexpr int kRounds = 300;
// The usual per-rule limit (SentinelOne's 5000, scaled down).
constexpr int kPerRule = 20;
constexpr int kMaxDesired = 1500;
// Attempts per round; faults are injected only in the first half, so a
// round that does not converge by the end is a bug, not bad luck.
constexpr int kAttempts = 12;
constexpr int kFaultyAttempts = kAttempts / 2;

uint64_t Seed() {
  const char* env = std::getenv("TQS1_TEST_SEED");
  uint64_t seed = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &seed)) return seed;
  return kDefaultSeed;
}

class Soak {
 public:
  explicit Soak(uint64_t seed)
      : rng_(seed), checked_(site_, kSiteId, kCollection, kPerRule) {
    SetUpSite(site_);
  }

  // Runs one round; returns false (after reporting) when it failed.
  bool Round(int round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    ChangeCollection();
    checked_.StartRound(desired_);
    tqs1::v1::PlanOptions options;
    // Now and then a smaller per-rule limit: over-full rules then move
    // addresses into other rules, which must never open an unblock window.
    options.set_max_addresses_per_rule(
        Chance(0.15) ? Uniform(kPerRule / 4, kPerRule - 1) : kPerRule);
    const double fault_rate = Pick<double>({0.0, 0.1, 0.2, 0.3});
    bool in_sync = false;
    for (int attempt = 0; attempt < kAttempts && !in_sync; ++attempt) {
      const bool faulty = attempt < kFaultyAttempts && fault_rate > 0;
      in_sync = Attempt(options, faulty ? fault_rate : 0.0);
      if (::testing::Test::HasFailure()) return false;
    }
    EXPECT_TRUE(in_sync) << "no convergence in " << kAttempts << " attempts";
    const std::vector<std::string> want(desired_.begin(), desired_.end());
    EXPECT_EQ(ManagedAddresses(site_), want);
    std::vector<std::string> names = RuleNames(site_);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(),
              names.size())
        << absl::StrJoin(names, ", ");
    EXPECT_TRUE(checked_.Violations().empty())
        << absl::StrJoin(checked_.Violations(), "\n");
    ++rounds_;
    return !::testing::Test::HasFailure();
  }

  std::string Stats() const {
    return absl::StrCat(
        rounds_, " rounds, ", attempts_, " runs (", failed_runs_, " failed, ",
        cancelled_, " cancelled, ", stale_, " stale plans refused, ",
        guard_refusals_, " guard refusals), ", checked_.Writes(), " writes (",
        checked_.FailedWrites(), " failed), ", faults_, " faults injected, ",
        checked_.Checks(), " invariant checks passed");
  }

 private:
  // One plan + apply run. Returns whether the plan was in sync.
  bool Attempt(tqs1::v1::PlanOptions& options, double fault_rate) {
    ++attempts_;
    checked_.set_before_write([this, fault_rate](Method method) {
      if (!Chance(fault_rate)) return;
      ++faults_;
      absl::Status status =
          Pick<absl::Status>({absl::UnavailableError("503 from console"),
                              absl::DeadlineExceededError("timed out"),
                              absl::InternalError("connection reset")});
      if (Chance(0.5)) {
        site_.FailNext(method, status);
      } else {
        site_.FailNextAfterApplying(method, status);
      }
    });
    if (fault_rate > 0 && Chance(0.05)) {
      ++faults_;
      source_.FailNextReads(absl::UnavailableError("ThreatQ down"));
    }
    if (fault_rate > 0 && Chance(0.05)) {
      ++faults_;
      site_.FailNext(Method::kReadSite, absl::UnavailableError("console down"));
    }
    const int64_t writes_before_plan = site_.WriteCount();
    absl::StatusOr<Plan> plan =
        PlanSync(TestSync(), {}, source_, checked_, options);
    if (!plan.ok()) {
      EXPECT_EQ(plan.status().code(), absl::StatusCode::kUnavailable)
          << plan.status();
      EXPECT_EQ(site_.WriteCount(), writes_before_plan);
      ++failed_runs_;
      return false;
    }
    if (plan->summary().in_sync()) return true;

    if (plan->summary().blocked()) {
      // Refused without a write; the operator then overrides on purpose.
      absl::StatusOr<ApplyReport> refused =
          ApplyPlan(*plan, SyncPolicy(TestSync(), {}), checked_, {});
      EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
          << refused.status();
      EXPECT_EQ(site_.WriteCount(), writes_before_plan);
      ++guard_refusals_;
      options.set_allow_empty(true);
      options.set_allow_mass_unblock(true);
      return false;
    }

    bool changed_site = false;
    if (fault_rate > 0 && Chance(0.03)) {
      // Someone adds a rule in the console between plan and apply.
      tqs1::v1::Rule rule;
      rule.set_name(absl::StrCat("Console rule ", ++console_rules_));
      rule.set_action(tqs1::v1::RULE_ACTION_ALLOW);
      site_.PutRule(kSiteId, rule);
      checked_.RefreshForeign();
      changed_site = true;
    } else if (fault_rate > 0 && Chance(0.03)) {
      ++faults_;
      site_.FailNext(Method::kReadSite, absl::UnavailableError("console down"));
    }
    ApplyOptions apply;
    int started = 0;
    const int stop_after = fault_rate > 0 && Chance(0.1)
                               ? Uniform(0, plan->actions_size() - 1)
                               : -1;
    apply.on_action = [&started](int, int, const Action&) { ++started; };
    apply.should_stop = [&started, stop_after] {
      return started == stop_after;
    };
    const int64_t writes_before = site_.WriteCount();
    absl::StatusOr<ApplyReport> report =
        ApplyPlan(*plan, SyncPolicy(TestSync(), {}), checked_, apply);
    if (changed_site) {
      EXPECT_EQ(report.status().code(), absl::StatusCode::kAborted)
          << report.status();
      EXPECT_EQ(site_.WriteCount(), writes_before);
      ++stale_;
      return false;
    }
    if (report.ok()) {
      EXPECT_EQ(site_.WriteCount() - writes_before, plan->actions_size());
      return false;  // in sync is decided by the next plan
    }
    if (report.status().code() == absl::StatusCode::kCancelled) {
      ++cancelled_;
      EXPECT_EQ(site_.WriteCount() - writes_before, stop_after);
    } else {
      ++failed_runs_;
      // Stopped at the first failure: never more writes than started.
      EXPECT_LE(site_.WriteCount() - writes_before, started);
    }
    return false;
  }

  void ChangeCollection() {
    const int kind = Uniform(0, 99);
    if (kind < 50) {  // small churn
      RemoveRandom(Uniform(0, 10));
      AddRandom(Uniform(0, 10));
    } else if (kind < 65) {  // a burst
      AddRandom(Uniform(200, 600));
    } else if (kind < 75) {  // a mass removal
      RemoveRandom(static_cast<int>(desired_.size() / 2));
    } else if (kind < 80) {  // almost nothing left
      RemoveRandom(static_cast<int>(desired_.size()) - Uniform(0, 3));
    } else if (kind < 83) {  // empty
      desired_.clear();
    }  // else: no change at all
    while (static_cast<int>(desired_.size()) > kMaxDesired) RemoveRandom(1);

    // What ThreatQ returns: the wanted values in random order, plus
    // duplicates, invalid values, never-block addresses, a whitelisted
    // indicator and one of another type, none of which may be blocked.
    std::vector<threatq::Indicator> indicators;
    for (const std::string& value : desired_) {
      threatq::Indicator indicator = testing::IpIndicators({value})[0];
      if (Chance(0.01)) indicators.push_back(indicator);  // a duplicate
      indicators.push_back(std::move(indicator));
    }
    for (int i = Uniform(0, 3); i > 0; --i) {
      indicators.push_back(
          Pick<threatq::Indicator>({{"10.0.0.256", "IP Address", "Active"},
                                    {"not an ip", "IP Address", "Active"},
                                    {"127.0.0.9", "IP Address", "Active"},
                                    {"fe80::1", "IPv6 Address", "Active"},
                                    {"10.9.9.9", "IP Address", "Whitelisted"},
                                    {"evil.example", "FQDN", "Active"}}));
    }
    std::shuffle(indicators.begin(), indicators.end(), rng_);
    source_.SetCollection(kCollection, std::move(indicators));
  }

  // A canonical address or prefix, none of them overlapping another.
  std::string RandomValue() {
    const int kind = Uniform(0, 9);
    if (kind < 7) {
      return absl::StrCat("10.", Uniform(0, 3), ".", Uniform(0, 255), ".",
                          Uniform(1, 254));
    }
    if (kind < 9) {
      return absl::StrCat("172.", Uniform(16, 17), ".", Uniform(0, 255),
                          ".0/24");
    }
    return absl::StrCat("2001:db8:", absl::Hex(Uniform(1, 0xff)),
                        "::", absl::Hex(Uniform(1, 0xffff)));
  }

  void AddRandom(int count) {
    for (int i = 0; i < count; ++i) desired_.insert(RandomValue());
  }

  void RemoveRandom(int count) {
    for (int i = 0; i < count && !desired_.empty(); ++i) {
      auto it = desired_.begin();
      std::advance(it, Uniform(0, static_cast<int>(desired_.size()) - 1));
      desired_.erase(it);
    }
  }

  int Uniform(int lo, int hi) {
    if (hi < lo) return lo;
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  T Pick(std::vector<T> options) {
    return options[Uniform(0, static_cast<int>(options.size()) - 1)];
  }

  std::mt19937_64 rng_;
  FakeFirewallRules site_;
  threatq::FakeIndicatorSource source_;
  InvariantChecker checked_;
  std::set<std::string> desired_;
  int rounds_ = 0;
  int attempts_ = 0;
  int failed_runs_ = 0;
  int cancelled_ = 0;
  int stale_ = 0;
  int guard_refusals_ = 0;
  int faults_ = 0;
  int console_rules_ = 0;
};

TEST(SyncSoakTest, RandomChangesAndFaultsConverge) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(absl::StrCat("seed ", seed,
                            " (reproduce with TQS1_TEST_SEED=", seed, ")"));
  Soak soak(seed);
  for (int round = 0; round < kRounds; ++round) {
    if (!soak.Round(round)) break;
  }
  std::cout << "seed " << seed << ": " << soak.Stats() << std::endl;
  RecordProperty("stats", soak.Stats());
}

}  // namespace
}  // namespace tqs1::sync

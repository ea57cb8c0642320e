// Soak under faults: hundreds of rounds in which the emulated ThreatQ
// collection changes at random (small churn, bursts of thousands, shrinks
// to near empty, regrowth), both emulators fail 10-30% of the requests
// (429 with Retry-After, 500/503, dropped connections, lost responses to
// writes, slow answers), and one apply (plan, then apply; re-run up to a
// few times when a run fails) goes through the real clients, the real
// libcurl transport with retries (on a fake clock: no real backoff sleeps)
// and HTTP on loopback. The SentinelOne emulator's own write log is checked
// after every write (tests/soak/site_invariants.h); after each round the
// site must equal the collection. In the multi-target mode three sites are
// fed the collection (one config entry's syncs): each round reads it once
// for all of them, and each site's write log is checked on its own.
//
// The emulators also behave as real services do (spec/fidelity-audit.md),
// in their opt-in modes: the console holds odd foreign rules, "Default
// site"s in two accounts and a Firewall Control policy the site inherits;
// each round picks, at random, ThreatQ cursor paging or offset paging, an
// unstable default order, a collection that grows while it is read, and
// SentinelOne writes answered 429 without Retry-After.
//
// Seeded: TQS1_TEST_SEED overrides the seed (printed on every run). Bounded:
// TQS1_SOAK_ROUNDS (default 300) rounds or TQS1_SOAK_SECONDS (default 40)
// seconds, whichever ends first. A longer run:
//   bazel test //tests/soak:soak_test --test_output=streamed
//     --test_env=TQS1_SOAK_ROUNDS=20000 --test_env=TQS1_SOAK_SECONDS=3600
//     --test_timeout=4000        (one command line)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fake_clock.h"
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"
#include "gtest/gtest.h"
#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"
#include "providers/http/curl_transport.h"
#include "providers/http/retrying_transport.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/threatq/threatq_client.h"
#include "reconciler/ownership.h"
#include "sync/plan_executor.h"
#include "sync/shared_reads.h"
#include "sync/sync_runner.h"
#include "testing/builders.h"
#include "testing/vendors_env.h"
#include "tests/soak/fault_scheduler.h"
#include "tests/soak/knobs.h"
#include "tests/soak/site_invariants.h"

namespace tqs1::soak {
namespace {

using ::tqs1::testing::BlockRule;
using ::tqs1::testing::IpIndicators;
using ::tqs1::testing::kAccountId;
using ::tqs1::testing::kClientId;
using ::tqs1::testing::kCollection;
using ::tqs1::testing::kSiteId;
using ::tqs1::testing::kUser;

constexpr char kPassword[] = "soak-password";
constexpr char kToken[] = "soak-token";
// Small rules, so that a few thousand addresses make many rules and writes.
constexpr int kPerRule = 250;
constexpr int kMaxAttempts = 6;

uint64_t Seed() {
  const char* text = std::getenv("TQS1_TEST_SEED");
  uint64_t value = 0;
  if (text != nullptr && absl::SimpleAtoi(text, &value)) return value;
  return 20260515;
}

std::vector<threatq::Indicator> AsIndicators(
    const std::set<std::string>& values, const std::vector<std::string>& junk) {
  std::vector<threatq::Indicator> out =
      IpIndicators(std::vector<std::string>(values.begin(), values.end()));
  for (const std::string& v : junk) out.push_back({v, "IP Address", "Active"});
  return out;
}

// One site of the collection, or `sites` sites (HQ, then sites of their
// own) fed by one config entry's syncs: each round reads the collection
// once for all of them (sync::SharedReads), plans and applies each, and
// checks each site's write log on its own.
// At least `min_rounds` rounds must fit in the time (under the sanitizers
// too).
void Soak(const char* label, int sites, int64_t default_rounds,
          int64_t default_seconds, int64_t min_rounds) {
  const uint64_t seed = Seed();
  const int64_t max_rounds = EnvInt("TQS1_SOAK_ROUNDS", default_rounds);
  const int64_t max_seconds = EnvInt("TQS1_SOAK_SECONDS", default_seconds);
  SCOPED_TRACE(
      AnnounceSeed(label, seed,
                   absl::StrCat(", ", sites, " site(s), up to ", max_rounds,
                                " rounds or ", max_seconds, " s")));
  std::mt19937_64 rng(seed);
  AddressGenerator addresses(seed ^ 0x5eed);

  // The two vendors.
  absl::StatusOr<std::unique_ptr<testing::VendorsEnv>> vendors =
      testing::VendorsEnv::Start(
          {/*password=*/kPassword, /*api_token=*/kToken});
  ASSERT_TRUE(vendors.ok()) << vendors.status();
  threatq::ThreatQEmulator* const tq = &(*vendors)->tq();
  sentinelone::SentinelOneEmulator* const s1 = &(*vendors)->s1();
  const int collection_id = (*vendors)->collection_id();
  // Rules tqs1 must leave alone: a hand-made site rule (blocking an address
  // the collection will also hold), a rule of the sync's name scheme
  // without the marker (a conflict), and inherited account rules, one of
  // them named like the sync's first rule.
  const std::string shared = addresses.Next();
  s1->AddRule(
      tqs1::v1::RULE_SCOPE_SITE, kSiteId,
      BlockRule("Block partner VPN", "made by hand", {shared, "198.51.100.7"}));
  s1->AddRule(tqs1::v1::RULE_SCOPE_SITE, kSiteId,
              BlockRule(reconciler::RuleName(kCollection, 7), "made by hand",
                        {"198.51.100.8"}));
  s1->AddRule(tqs1::v1::RULE_SCOPE_ACCOUNT, kAccountId,
              BlockRule(kCollection, "made by hand", {"198.51.100.9"}));
  s1->AddRule(
      tqs1::v1::RULE_SCOPE_ACCOUNT, kAccountId,
      BlockRule(reconciler::RuleName(kCollection, 1), "made by hand", {}));
  // A real console's shapes: foreign rules tqs1 parses leniently, site
  // names repeated in other accounts, a policy inherited from the account.
  ASSERT_TRUE(s1->AddOddForeignRules(kSiteId).ok());
  s1->AddDefaultSitesInTwoAccounts();
  sentinelone::EmulatedFirewallConfig firewall;
  firewall.inherited_from = "Account";
  firewall.inherits = true;
  ASSERT_TRUE(s1->SetFirewallConfig(kSiteId, firewall).ok());

  // The real clients over libcurl, each behind the fault scheduler of its
  // emulator and a RetryingTransport on a fake clock.
  tqs1::FakeClock clock;
  http::CurlTransportOptions curl;
  curl.connect_timeout = absl::Seconds(5);
  curl.total_timeout = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<http::CurlTransport>> tq_curl =
      http::CurlTransport::Create(curl);
  absl::StatusOr<std::unique_ptr<http::CurlTransport>> s1_curl =
      http::CurlTransport::Create(curl);
  ASSERT_TRUE(tq_curl.ok() && s1_curl.ok());
  FaultScheduler tq_faults(*std::move(tq_curl), &tq->server(), rng());
  FaultScheduler s1_faults(*std::move(s1_curl), &s1->server(), rng());
  http::RetryOptions retry;
  retry.max_attempts = 5;
  retry.initial_backoff = absl::Milliseconds(100);
  retry.clock = &clock;
  retry.seed = rng();
  http::RetryingTransport tq_transport(
      std::make_unique<ForwardingTransport>(&tq_faults), retry);
  http::RetryingTransport s1_transport(
      std::make_unique<ForwardingTransport>(&s1_faults), retry);

  threatq::ThreatQClientOptions tq_options;
  tq_options.base_url = tq->base_url();
  tq_options.email = kUser;
  tq_options.password = kPassword;
  tq_options.client_id = kClientId;
  tq_options.clock = &clock;
  absl::StatusOr<std::unique_ptr<threatq::ThreatQClient>> tq_client =
      threatq::ThreatQClient::Create(&tq_transport, tq_options);
  ASSERT_TRUE(tq_client.ok()) << tq_client.status();
  sentinelone::SentinelOneClientOptions s1_client_options;
  s1_client_options.base_url = s1->base_url();
  s1_client_options.api_token = kToken;
  absl::StatusOr<std::unique_ptr<sentinelone::SentinelOneClient>> s1_client =
      sentinelone::SentinelOneClient::Create(s1_client_options, &s1_transport);
  ASSERT_TRUE(s1_client.ok()) << s1_client.status();

  // The sites, each with its sync (as `sites: [HQ, ...]` makes them) and
  // its write-log checker.
  struct Target {
    tqs1::v1::SyncConfig sync;
    std::unique_ptr<EventLogChecker> checker;
  };
  std::vector<Target> targets;
  for (int i = 0; i < sites; ++i) {
    const std::string name = i == 0 ? "HQ" : absl::StrCat("Site ", i);
    const std::string site_id = i == 0 ? kSiteId : (*vendors)->AddSite(name);
    Target& t = targets.emplace_back();
    t.sync.set_name(absl::StrCat("soak -> ", name));
    t.sync.set_fleet("soak");
    t.sync.set_collection(kCollection);
    t.sync.set_site(name);
    t.sync.mutable_rule()->set_description("Blocked by ThreatQ");
    t.sync.mutable_rule()->set_enabled(true);
    t.checker =
        std::make_unique<EventLogChecker>(site_id, kCollection, kPerRule);
  }
  auto consume = [&] {
    const std::vector<sentinelone::WriteEvent> events = s1->Events();
    for (Target& t : targets) t.checker->Consume(events);
  };
  const std::vector<std::string> junk = {
      "127.0.0.1", "0.0.0.0/0", "not-an-address", "10.0.0.5/8", "ff02::1"};
  const std::set<std::string> forbidden = {"127.0.0.1",    "0.0.0.0/0",
                                           "ff02::1",      "198.51.100.7",
                                           "198.51.100.8", "198.51.100.9"};

  std::set<std::string> wanted;
  int64_t rounds = 0, runs = 0, failed_runs = 0, writes_before = 0;
  std::map<std::string, int64_t> shapes, modes;
  int growths = 0;
  int64_t grown_seen = 0;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed_s = [&] { return SecondsSince(start); };
  for (; rounds < max_rounds && elapsed_s() < max_seconds; ++rounds) {
    SCOPED_TRACE(absl::StrCat("round ", rounds));
    // 1. The collection changes.
    std::vector<std::string> current(wanted.begin(), wanted.end());
    std::shuffle(current.begin(), current.end(), rng);
    const int shape = static_cast<int>(rng() % 100);
    size_t remove = 0, add = 0;
    if (wanted.size() < 50 || shape < 8) {
      add = 1000 + rng() % 4000;  // a burst of thousands
      shapes["burst"]++;
    } else if (shape < 13) {
      remove = current.size() - rng() % 20;  // shrink to near empty
      shapes["shrink"]++;
    } else if (shape < 20) {
      remove = current.size() / (2 + rng() % 4);  // a big cut
      add = rng() % 50;
      shapes["cut"]++;
    } else {
      remove = rng() % 40;  // everyday churn
      add = rng() % 60;
      shapes["churn"]++;
    }
    remove = std::min(remove, current.size());
    for (size_t i = 0; i < remove; ++i) wanted.erase(current[i]);
    for (size_t i = 0; i < add; ++i) wanted.insert(addresses.Next());
    if (rng() % 10 == 0) wanted.insert(shared);
    ASSERT_TRUE(tq->SetIndicators(collection_id, AsIndicators(wanted, junk)));
    consume();
    for (Target& t : targets) t.checker->StartRound(wanted, forbidden);

    // 2. Faults on 10-30% of the requests of both vendors, and the
    // vendors' real behaviours, picked at random.
    const double rate =
        0.10 + 0.20 * std::uniform_real_distribution<double>(0, 1)(rng);
    tq_faults.set_rate(rate);
    s1_faults.set_rate(rate);
    threatq::ThreatQModes tq_modes;
    tq_modes.cursor_paging = rng() % 2 == 0;
    tq_modes.unstable_default_order = rng() % 2 == 0;
    if (rng() % 6 == 0) {
      // One growth, at the next page served.
      tq_modes.grow_every_pages = 1;
      tq_modes.grow_by = 1 + static_cast<int>(rng() % 25);
      tq_modes.grow_times = ++growths;
    }
    tq->SetModes(tq_modes);
    sentinelone::ConsoleModes s1_modes;
    if (rng() % 3 == 0) {
      s1_modes.throttle_every_kth_write = 3 + static_cast<int>(rng() % 8);
    }
    s1->SetModes(s1_modes);
    modes["cursor"] += tq_modes.cursor_paging;
    modes["unstable-order"] += tq_modes.unstable_default_order;
    modes["growth"] += tq_modes.grow_by > 0;
    modes["429-without-retry-after"] += s1_modes.throttle_every_kth_write > 0;

    // 3. Apply: plan, apply; re-run while it fails.
    tqs1::v1::PlanOptions plan_options;
    plan_options.set_max_addresses_per_rule(kPerRule);
    // Shrinks are the user's intent in this test; the guards have their
    // own tests.
    plan_options.set_allow_empty(true);
    plan_options.set_allow_mass_unblock(true);
    std::vector<Target*> pending;
    for (Target& t : targets) pending.push_back(&t);
    std::vector<std::string> errors;
    for (int attempt = 0; attempt < kMaxAttempts && !pending.empty();
         ++attempt) {
      // One run: the pending sites share one read of the collection.
      std::vector<const tqs1::v1::SyncConfig*> syncs;
      for (const Target* t : pending) syncs.push_back(&t->sync);
      sync::SharedReads reads(**tq_client, syncs);
      std::vector<Target*> still;
      for (Target* t : pending) {
        ++runs;
        absl::StatusOr<tqs1::v1::Plan> plan = sync::PlanSync(
            t->sync, {}, reads.For(t->sync), **s1_client, plan_options);
        if (!plan.ok()) {
          ++failed_runs;
          errors.push_back(std::string(plan.status().message()));
          still.push_back(t);
          continue;
        }
        if (plan->actions_size() == 0) continue;  // converged
        still.push_back(t);
        absl::StatusOr<tqs1::v1::ApplyReport> report = sync::ApplyPlan(
            *plan, sync::SyncPolicy(t->sync, {}), **s1_client, {});
        consume();
        if (!report.ok()) {
          ++failed_runs;
          errors.push_back(std::string(report.status().message()));
        }
      }
      pending = std::move(still);
    }
    // Converged means a fault-free plan shows nothing to do; when the
    // faults kept every attempt from getting there, finish without faults.
    // A collection that grew is wanted whole.
    tq_faults.set_rate(0);
    s1_faults.set_rate(0);
    tq->SetModes({});
    s1->SetModes({});
    const std::set<std::string> junk_values(junk.begin(), junk.end());
    for (const threatq::Indicator& i : tq->Indicators(collection_id)) {
      if (junk_values.count(i.value) == 0) wanted.insert(i.value);
      // The emulator's growth comes from 198.18.0.0/15.
      if (absl::StartsWith(i.value, "198.18.")) ++grown_seen;
    }
    for (const Target* t : pending) {
      sync::RunSyncRequest request;
      request.sync = &t->sync;
      request.plan_options = plan_options;
      const sync::SyncRunResult result =
          sync::RunSync(request, **tq_client, **s1_client);
      ASSERT_TRUE(result.status.ok())
          << t->sync.name() << ": " << result.status << "\nearlier errors:\n"
          << absl::StrJoin(errors, "\n");
    }
    std::vector<const tqs1::v1::SyncConfig*> all;
    for (const Target& t : targets) all.push_back(&t.sync);
    sync::SharedReads reads(**tq_client, all);
    const size_t tq_requests = tq->server().Requests().size();
    size_t after_first = 0;
    for (const Target& t : targets) {
      absl::StatusOr<tqs1::v1::Plan> again = sync::PlanSync(
          t.sync, {}, reads.For(t.sync), **s1_client, plan_options);
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_EQ(again->actions_size(), 0) << t.sync.name() << " not converged";
      EXPECT_EQ(again->inputs().source().shared_by_size(),
                sites > 1 ? sites : 0);
      if (&t == &targets[0]) after_first = tq->server().Requests().size();
    }
    // The collection was read by the first site's plan only.
    EXPECT_GT(after_first, tq_requests);
    EXPECT_EQ(tq->server().Requests().size(), after_first);
    consume();

    // 4. Each site equals the collection, and nothing unsafe happened.
    const std::vector<std::string> expected(wanted.begin(), wanted.end());
    for (const Target& t : targets) {
      SCOPED_TRACE(t.sync.name());
      ASSERT_EQ(t.checker->ManagedValues(), expected) << "site != collection";
      ASSERT_EQ(t.checker->violation_count(), 0)
          << absl::StrJoin(t.checker->Violations(), "\n");
      // Empty rules are deleted: at most one rule per address.
      EXPECT_LE(static_cast<size_t>(t.checker->ManagedRules()), wanted.size());
    }
  }
  int64_t checks_passed = 0;
  for (const Target& t : targets) {
    writes_before += t.checker->writes();
    checks_passed += t.checker->checks_passed();
  }

  std::cout << label << ": " << rounds << " rounds in " << elapsed_s() << " s ("
            << absl::StrJoin(shapes, ", ", absl::PairFormatter(" "))
            << "; rounds in each mode: "
            << absl::StrJoin(modes, ", ", absl::PairFormatter(" ")) << "); "
            << runs << " plan/apply runs, " << failed_runs
            << " failed and were re-run; " << writes_before
            << " writes; faults injected: SentinelOne "
            << s1_faults.TotalInjected() << " of " << s1_faults.Requests()
            << " requests ("
            << absl::StrJoin(s1_faults.Injected(), ", ",
                             absl::PairFormatter(" "))
            << "), ThreatQ " << tq_faults.TotalInjected() << " of "
            << tq_faults.Requests() << " ("
            << absl::StrJoin(tq_faults.Injected(), ", ",
                             absl::PairFormatter(" "))
            << "); invariant checks passed: " << checks_passed << std::endl;
  EXPECT_GE(rounds, std::min(max_rounds, min_rounds));
  if (rounds >= 50) {
    for (const char* mode :
         {"cursor", "unstable-order", "growth", "429-without-retry-after"}) {
      EXPECT_GT(modes[mode], 0) << mode;
    }
    // The collection did grow while it was read, and what it grew by was
    // blocked (the site equals the collection after each round).
    EXPECT_GT(grown_seen, 0);
  }
  EXPECT_GT(s1_faults.TotalInjected(), 0);
}

TEST(SoakTest, ConvergesUnderFaultsWithoutUnsafeWrites) {
  Soak("soak", 1, 300, 40, 50);
}

// The multi-target mode: three sites of one collection (a round costs
// three sites' plans and applies: about 55 rounds in 25 s, fewer under
// the sanitizers).
TEST(SoakTest, SeveralSitesOfOneCollectionConvergeUnderFaults) {
  Soak("soak-sites", 3, 150, 25, 10);
}

}  // namespace
}  // namespace tqs1::soak

// End-to-end: failures part-way through an apply of the real binary (vendor
// errors, dropped connections, lost responses) and how a re-run converges;
// the apply lock that serializes concurrent applies.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/config/state.h"
#include "emulators/emulator_server.h"
#include "gtest/gtest.h"
#include "reconciler/ownership.h"
#include "testing/builders.h"
#include "testing/vendors_env.h"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

using ::tqs1::emulator::Fault;
using ::tqs1::emulator::FaultKind;
using ::tqs1::v1::Rule;

using ::tqs1::testing::kCollection;
using ::tqs1::testing::RulesFault;

class FailureTest : public E2eTest {
 protected:
  // 12,000 addresses (three rules to create) and a site with a hand-made
  // rule. Returns the config folder.
  std::string Seed() {
    collection_ =
        env().tq().AddCollection(kCollection, Ipv4Indicators(0, 12000));
    site_ = env().AddSite("HQ");
    env().s1().AddRule(tqs1::v1::RULE_SCOPE_SITE, site_,
                       testing::BlockRule("Block scanners", "made by hand",
                                          {"198.51.100.7", "198.51.100.8"}));
    hand_made_ = SiteJson();
    return WriteConfig("c",
                       env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""}}));
  }

  std::string SiteJson() {
    std::string out;
    for (const auto& rule :
         env().s1().RulesJson(tqs1::v1::RULE_SCOPE_SITE, site_)) {
      if (rule.value("name", "") == "Block scanners") out += rule.dump();
    }
    return out;
  }

  // Checks the site holds exactly the collection in uniquely named tqs1
  // rules, beside the untouched hand-made rule.
  void ExpectConverged() {
    std::set<std::string> names;
    std::set<std::string> blocked;
    int managed = 0;
    for (const Rule& rule : env().SiteRules(site_)) {
      EXPECT_TRUE(names.insert(rule.name()).second)
          << "duplicate name " << rule.name();
      if (!reconciler::HasOwnershipMarker(rule.description())) continue;
      ++managed;
      for (const auto& hosts : rule.remote_hosts()) {
        blocked.insert(hosts.values().begin(), hosts.values().end());
      }
    }
    EXPECT_EQ(managed, 3);
    std::vector<std::string> want = Ipv4Addresses(0, 12000);
    EXPECT_EQ(blocked, std::set<std::string>(want.begin(), want.end()));
    EXPECT_EQ(SiteJson(), hand_made_) << "the hand-made rule was touched";
  }

  int collection_ = 0;
  std::string site_;
  std::string hand_made_;
};

struct MidApplyCase {
  const char* name;
  // The fault on the second create (POST).
  FaultKind kind;
  // Also fail the re-read that follows (GET of the site's rules) with a 403.
  bool fail_reread;
  int want_exit;
  // A fragment of stderr.
  const char* want_err;
  // API writes that reached the site in the first apply.
  int writes;
};

class MidApplyFailureTest : public FailureTest,
                            public ::testing::WithParamInterface<MidApplyCase> {
};

TEST_P(MidApplyFailureTest, ARerunConverges) {
  const MidApplyCase& c = GetParam();
  const std::string dir = Seed();
  // The first create passes (a zero delay takes it), the second fails.
  Fault pass = RulesFault(FaultKind::kDelay, "POST");
  pass.delay = absl::ZeroDuration();
  env().s1().server().InjectFault(pass);
  env().s1().server().InjectFault(RulesFault(c.kind, "POST"));
  if (c.fail_reread) {
    // Two reads pass (the plan's, and the check before applying), each a
    // GET of the rules and one of the Firewall Control configuration; the
    // re-read after the lost create (rules only) fails.
    Fault reads = RulesFault(FaultKind::kDelay, "GET");
    reads.delay = absl::ZeroDuration();
    reads.count = 4;
    env().s1().server().InjectFault(reads);
    Fault reread = RulesFault(FaultKind::kServerError, "GET");
    reread.status = 403;
    env().s1().server().InjectFault(reread);
  }

  RunResult first = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(first.exit_code, c.want_exit) << first;
  EXPECT_TRUE(Contains(first.err, c.want_err)) << c.want_err << "\n" << first;
  if (c.want_exit == 1) {
    EXPECT_TRUE(Contains(first.err,
                         "done before it: 1 created, 0 updated, 0 deleted; "
                         "re-plan and apply again to converge"))
        << first;
    EXPECT_FALSE(Contains(first.out, "Apply complete")) << first;
    absl::StatusOr<tqs1::v1::LastRun> record =
        config::LoadLastRun(dir + "/tqs1.last-run.json");
    ASSERT_TRUE(record.ok()) << record.status();
    ASSERT_EQ(record->syncs_size(), 1);
    EXPECT_EQ(record->syncs(0).outcome(), tqs1::v1::SYNC_OUTCOME_FAILED);
    EXPECT_EQ(record->syncs(0).rules_created(), 1u);
    EXPECT_TRUE(Contains(first.err, record->syncs(0).error())) << first;
  }
  EXPECT_EQ(env().s1().server().PendingFaults(), 0);
  EXPECT_EQ(env().ApiWrites(), c.writes);

  RunResult rerun = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(rerun.exit_code, 0) << rerun;
  EXPECT_EQ(env().ApiWrites(), 3) << "the re-run wrote more than needed";
  RunResult plan = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  ExpectConverged();
}

INSTANTIATE_TEST_SUITE_P(
    Faults, MidApplyFailureTest,
    ::testing::Values(
        // A create is not idempotent: a 500 is not retried.
        MidApplyCase{"ServerError", FaultKind::kServerError, false, 1,
                     "Error: sync \"c2-hq\": action 2 of 3 (create \"Known "
                     "C2 IPs (2)\") failed: SentinelOne POST "
                     "/firewall-control: HTTP 500: ",
                     1},
        // No answer: a re-read shows the create did not happen.
        MidApplyCase{"DroppedConnection", FaultKind::kDropConnection, false, 1,
                     "Error: sync \"c2-hq\": action 2 of 3 (create \"Known "
                     "C2 IPs (2)\") failed: SentinelOne POST "
                     "/firewall-control: POST http://127.0.0.1:",
                     1},
        // The create happened, its answer was lost: a re-read finds the
        // rule and the apply goes on.
        MidApplyCase{"LostResponse", FaultKind::kLoseResponse, false, 0,
                     "W tqs1: create of rule \"Known C2 IPs (2)\" in site "
                     "1758952600032200001 failed (UNAVAILABLE); re-reading the "
                     "site to learn whether it happened\n",
                     3},
        // ... and when that re-read fails too, the run stops; the next one
        // finds the rule and does not create a second one.
        MidApplyCase{"LostResponseAndReread", FaultKind::kLoseResponse, true, 1,
                     "; re-reading the site to learn the outcome failed too: "
                     "SentinelOne GET /firewall-control: HTTP 403: ",
                     2}),
    [](const ::testing::TestParamInfo<MidApplyCase>& info) {
      return std::string(info.param.name);
    });

TEST_F(FailureTest, RetriedUpdateSucceeds) {
  const std::string dir = Seed();
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  env().tq().SetIndicators(collection_, Ipv4Indicators(0, 12010));
  // An update is idempotent: a 503 is retried and the apply succeeds.
  Fault fault = RulesFault(FaultKind::kServerError, "PUT");
  fault.status = 503;
  env().s1().server().InjectFault(fault);
  RunResult r = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(Contains(r.out,
                       "Apply complete for \"c2-hq\": 0 created, 1 "
                       "updated, 0 deleted; 10 addresses blocked"))
      << r;
  EXPECT_EQ(env().s1().server().PendingFaults(), 0);
}

TEST_F(FailureTest, ThreatQOutageMeansNoPlan) {
  const std::string dir = Seed();
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  const int writes = env().ApiWrites();
  // Every collection read fails: never taken for an empty collection.
  Fault fault;
  fault.kind = FaultKind::kServerError;
  fault.status = 400;
  fault.path_prefix = "/api/indicators/query";
  fault.count = 100;
  env().tq().server().InjectFault(fault);
  RunResult r = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "Error: sync \"c2-hq\": ")) << r;
  EXPECT_FALSE(Contains(r.out, "delete")) << r;
  EXPECT_EQ(env().ApiWrites(), writes);
  ExpectConverged();
}

TEST_F(FailureTest, HeldLockFailsWithTheLockMessage) {
  const std::string dir = Seed();
  const std::string lock_file = dir + "/tqs1.lock";
  absl::StatusOr<config::ApplyLock> lock =
      config::ApplyLock::Acquire(lock_file);
  ASSERT_TRUE(lock.ok()) << lock.status();

  RunResult r =
      Run({"apply", "--auto-approve", "--lock-timeout", "0s", "-c", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_EQ(r.err,
            absl::StrCat("Error: lock file ", lock_file, " is held by pid ",
                         getpid(), ": another tqs1 apply is running\n"));
  r = Run({"apply", "--auto-approve", "--lock-timeout", "200ms", "-c", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_EQ(r.err, absl::StrCat("Error: lock file ", lock_file,
                                " is held by pid ", getpid(),
                                ": another tqs1 apply is running (waited "
                                "200ms)\n"));
  EXPECT_TRUE(env().s1().server().Requests().empty());
  EXPECT_EQ(env().ApiWrites(), 0);

  // plan takes no lock.
  EXPECT_EQ(Run({"plan", "--detailed-exitcode", "-c", dir}).exit_code, 2);
}

TEST_F(FailureTest, ApplyWaitsForTheLockThenProceeds) {
  const std::string dir = Seed();
  absl::StatusOr<config::ApplyLock> lock =
      config::ApplyLock::Acquire(dir + "/tqs1.lock");
  ASSERT_TRUE(lock.ok()) << lock.status();
  std::optional<config::ApplyLock> held(*std::move(lock));

  Process apply =
      Start({"apply", "--auto-approve", "--lock-timeout", "30s", "-c", dir});
  // While the lock is held, the apply waits and touches nothing (bounded
  // polling: 300 ms).
  const absl::Time until = absl::Now() + absl::Milliseconds(300);
  while (absl::Now() < until) {
    ASSERT_FALSE(apply.Exited()) << apply.Wait();
    ASSERT_EQ(env().ApiWrites(), 0);
    absl::SleepFor(absl::Milliseconds(10));
  }
  held.reset();  // releases the lock

  RunResult r = apply.Wait();
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(env().ApiWrites(), 3);
  ExpectConverged();
}

TEST_F(FailureTest, ConcurrentAppliesAreSerialized) {
  const std::string dir = Seed();
  std::vector<Process> applies;
  for (int k = 0; k < 3; ++k) {
    applies.push_back(Start({"apply", "--auto-approve", "-c", dir}));
  }
  int applied = 0;
  for (Process& p : applies) {
    RunResult r = p.Wait();
    EXPECT_EQ(r.exit_code, 0) << r;
    applied += Contains(r.out, "Apply complete for \"c2-hq\": 3 created");
  }
  // One apply did the work; the others, serialized after it, found the
  // site in sync.
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(env().ApiWrites(), 3);
  ExpectConverged();
}

}  // namespace
}  // namespace tqs1::e2e

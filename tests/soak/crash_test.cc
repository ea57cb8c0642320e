// Crashes: the real tqs1 binary (//cli:tqs1, a subprocess) applies large
// changes to in-process emulators and is killed with SIGKILL at a random
// point: after a random number of writes reached the SentinelOne emulator,
// or at a random moment before the first one. After each kill the
// emulator's write log must show no unsafe write (site_invariants.h), the
// next `tqs1 apply --auto-approve` must succeed and converge, and
// `tqs1 plan --detailed-exitcode` must then say "in sync" (0), and the
// ledger must then hold what the site holds, with no apply left running.
//
// The collection starts at 30,000 addresses (six full rules); each round
// removes a share spread over every rule and adds thousands, so an apply
// is several 5,000-address writes. Seeded: TQS1_TEST_SEED (printed).
// Bounded: TQS1_CRASH_ROUNDS (default 12) rounds or TQS1_CRASH_SECONDS
// (default 40) seconds.
//
// Usage (Bazel passes the binary): crash_test path/to/tqs1
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "providers/ledger/sqlite_ledger.h"
#include "testing/builders.h"
#include "testing/vendors_env.h"
#include "tests/soak/knobs.h"
#include "tests/soak/site_invariants.h"

namespace tqs1::soak {
namespace {

const char* g_binary = nullptr;

using ::tqs1::testing::kCollection;
using ::tqs1::testing::kSiteId;
using ::tqs1::testing::kSiteName;

constexpr char kPassword[] = "crash-password";
constexpr char kToken[] = "crash-token";

// Starts `tqs1 args...` with the vendors' secrets in its environment and
// its output in `log`. Returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
  }
  int null = open("/dev/null", O_RDONLY);
  if (null >= 0) dup2(null, STDIN_FILENO);
  setenv(testing::kPasswordEnv, kPassword, 1);
  setenv(testing::kTokenEnv, kToken, 1);
  setenv("NO_COLOR", "1", 1);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(g_binary));
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(g_binary, argv.data());
  _exit(127);
}

// Waits for `pid`; its exit code, or 128 + signal.
int Wait(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

TEST(CrashTest, KilledAppliesConvergeOnTheNextRun) {
  ASSERT_NE(g_binary, nullptr) << "usage: crash_test path/to/tqs1";
  const uint64_t seed = static_cast<uint64_t>(EnvInt("TQS1_TEST_SEED", 7331));
  const int64_t max_rounds = EnvInt("TQS1_CRASH_ROUNDS", 12);
  const int64_t max_seconds = EnvInt("TQS1_CRASH_SECONDS", 40);
  const int64_t initial = EnvInt("TQS1_CRASH_ADDRESSES", 30000);
  SCOPED_TRACE(AnnounceSeed("crash", seed));
  std::mt19937_64 rng(seed);
  AddressGenerator addresses(seed ^ 0xc4a5);

  absl::StatusOr<std::unique_ptr<testing::VendorsEnv>> vendors =
      testing::VendorsEnv::Start(
          {/*password=*/kPassword, /*api_token=*/kToken});
  ASSERT_TRUE(vendors.ok()) << vendors.status();
  threatq::ThreatQEmulator* const tq = &(*vendors)->tq();
  sentinelone::SentinelOneEmulator* const s1 = &(*vendors)->s1();
  const int collection_id = (*vendors)->collection_id();
  s1->AddRule(tqs1::v1::RULE_SCOPE_SITE, kSiteId,
              testing::BlockRule("Block partner VPN", "made by hand",
                                 {"198.51.100.7"}));

  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp ? tmp : "/tmp", "/crash");
  mkdir(dir.c_str(), 0700);
  const std::string sync_name = absl::StrCat(kCollection, " -> ", kSiteName);
  std::ofstream(dir + "/tqs1.yaml")
      << (*vendors)->ConfigYaml({{sync_name, kCollection, kSiteName,
                                  "    guards: {max_unblock_fraction: 1}\n"}});
  const std::string log = dir + "/tqs1.out";
  const std::vector<std::string> apply = {
      "apply", "--auto-approve", "-c", dir, "-ll", dir};
  const std::vector<std::string> plan = {
      "plan", "--detailed-exitcode", "-c", dir, "-ll", dir};

  EventLogChecker checker(kSiteId, kCollection, 5000);
  std::set<std::string> wanted;
  int64_t rounds = 0, kills = 0, killed_before_writes = 0, finished_first = 0;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed_s = [&] { return SecondsSince(start); };
  for (; rounds < max_rounds && elapsed_s() < max_seconds; ++rounds) {
    SCOPED_TRACE(absl::StrCat("round ", rounds, "; output in ", log));
    // A large change: the first round fills an empty site; later ones drop
    // ~2% spread over every rule and add thousands.
    if (wanted.empty()) {
      while (static_cast<int64_t>(wanted.size()) < initial) {
        wanted.insert(addresses.Next());
      }
    } else {
      std::vector<std::string> current(wanted.begin(), wanted.end());
      std::shuffle(current.begin(), current.end(), rng);
      const size_t remove = current.size() / 50;
      for (size_t i = 0; i < remove; ++i) wanted.erase(current[i]);
      const size_t add = 1000 + rng() % 9000;
      for (size_t i = 0; i < add; ++i) wanted.insert(addresses.Next());
    }
    ASSERT_TRUE(tq->SetIndicators(
        collection_id, testing::IpIndicators(std::vector<std::string>(
                           wanted.begin(), wanted.end()))));
    checker.Consume(s1->Events());
    checker.StartRound(wanted, {"198.51.100.7"});

    // Kill the apply at a random point.
    const size_t writes_at_start = s1->Events().size();
    const int kill_after = static_cast<int>(rng() % 8);  // 0: before writes
    const auto delay = std::chrono::milliseconds(rng() % 400);
    const auto launched = std::chrono::steady_clock::now();
    pid_t pid = Spawn(apply, log);
    ASSERT_GT(pid, 0);
    bool killed = false;
    for (;;) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) break;  // finished first
      const size_t writes = s1->Events().size() - writes_at_start;
      const bool due =
          kill_after == 0 ? std::chrono::steady_clock::now() - launched >= delay
                          : static_cast<int>(writes) >= kill_after;
      if (due) {
        kill(pid, SIGKILL);
        // The apply may have ended between the check above and the kill:
        // then it exited by itself, and must have succeeded.
        const int code = Wait(pid);
        if (code != 0) {
          EXPECT_EQ(code, 128 + SIGKILL);
          killed = true;
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (killed) {
      ++kills;
      killed_before_writes += s1->Events().size() == writes_at_start;
    } else {
      ++finished_first;
    }
    checker.Consume(s1->Events());
    ASSERT_EQ(checker.violation_count(), 0)
        << "after the kill:\n"
        << absl::StrJoin(checker.Violations(), "\n");

    // The next run converges; a plan then says "in sync".
    EXPECT_EQ(Wait(Spawn(apply, log)), 0) << "apply after the kill failed";
    EXPECT_EQ(Wait(Spawn(plan, log)), 0) << "not in sync after the re-run";
    checker.Consume(s1->Events());
    ASSERT_EQ(checker.violation_count(), 0)
        << absl::StrJoin(checker.Violations(), "\n");
    const std::vector<std::string> expected(wanted.begin(), wanted.end());
    ASSERT_EQ(checker.ManagedValues(), expected) << "site != collection";

    // The ledger agrees with the site, and no apply is left "running": the
    // re-run marked the killed one "ended" and recorded what it had
    // written unrecorded as "observed".
    auto ledger = ledger::SqliteLedger::Open(
        dir + "/tqs1.ledger.sqlite", ledger::SqliteLedger::Mode::kReadOnly);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    auto held = (*ledger)->HeldBy(sync_name, kSiteId);
    ASSERT_TRUE(held.ok()) << held.status();
    std::vector<std::string> recorded;
    for (const auto& [id, rule] : *held) {
      recorded.insert(recorded.end(), rule.entries.begin(), rule.entries.end());
    }
    std::sort(recorded.begin(), recorded.end());
    ASSERT_EQ(recorded, expected) << "ledger != site";
    auto applies = (*ledger)->ListApplies({});
    ASSERT_TRUE(applies.ok()) << applies.status();
    for (const ledger::ApplyRecord& a : *applies) {
      EXPECT_NE(a.outcome, "running") << "apply " << a.id;
    }
  }
  std::cout << "crash: " << rounds << " rounds in " << elapsed_s() << " s, "
            << kills << " applies killed (" << killed_before_writes
            << " before any write), " << finished_first
            << " finished before their kill point; " << checker.writes()
            << " writes, " << wanted.size()
            << " addresses at the end; invariant checks passed: "
            << checker.checks_passed()
            << ", violations: " << checker.violation_count() << std::endl;
  EXPECT_GE(kills, std::min<int64_t>(rounds, 3));
}

}  // namespace
}  // namespace tqs1::soak

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (argc > 1) tqs1::soak::g_binary = argv[1];
  return RUN_ALL_TESTS();
}

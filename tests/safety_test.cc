// End to end: every way into apply is checked the same way. A saved plan
// file is untrusted (signed, then admitted again against the config and the
// re-read site); a signal stops an apply between two writes; a sync that
// cannot be planned still has its entry in the JSON plan.
#include <signal.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/app.h"
#include "cli/config/config_loader.h"
#include "cli/config/secrets.h"
#include "cli/config/state.h"
#include "emulators/emulator_server.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reconciler/plan_file.h"
#include "reconciler/render.h"
#include "testing/vendors_env.h"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

using ::tqs1::v1::PlanFile;

using ::tqs1::testing::kCollection;

class SafetyTest : public E2eTest {
 protected:
  // A collection of `n` addresses, a site "HQ" and a config in dir()/<folder>.
  std::string Setup(int n, const std::string& folder = "c") {
    if (collection_ == 0) {
      collection_ = env().tq().AddCollection(kCollection, Ipv4Indicators(0, n));
      site_ = env().AddSite("HQ");
    }
    return WriteConfig(folder,
                       env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""}}));
  }

  // The saved plan, parsed.
  PlanFile Load(const std::string& path) {
    absl::StatusOr<PlanFile> file =
        reconciler::ParsePlanFileJson(ReadFile(path));
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? *file : PlanFile();
  }

  // Writes `file` to `path` as JSON; signed with the key of the instance in
  // `dir` when `sign` (as someone who can read the key could).
  void Save(PlanFile file, const std::string& path, const std::string& dir,
            bool sign) {
    if (sign) {
      std::string hex = ReadFile(dir + "/tqs1.plan-key");
      ASSERT_GE(hex.size(), 64u);
      ASSERT_TRUE(reconciler::SignPlanFile(
                      absl::HexStringToBytes(hex.substr(0, 64)), file)
                      .ok());
    }
    absl::StatusOr<std::string> json = reconciler::RenderPlanFileJson(file);
    ASSERT_TRUE(json.ok());
    std::ofstream(path, std::ios::trunc) << *json;
  }

  int ManagedAddresses() {
    int n = 0;
    for (const tqs1::v1::Rule& rule : env().SiteRules(site_)) {
      n += AddressCount(rule);
    }
    return n;
  }

  // Every rule write of the SentinelOne emulator waits `delay` first.
  void SlowWrites(absl::Duration delay) {
    emulator::Fault slow;
    slow.kind = emulator::FaultKind::kDelay;
    slow.method = "POST";
    // Rule writes only: the token check at the start of an apply is a POST
    // too (/users/api-token-details).
    slow.path_prefix = "/web/api/v2.1/firewall-control";
    slow.count = 6;
    slow.delay = delay;
    env().s1().server().InjectFault(slow);
  }

  // Waits (at most 30 s) until the emulator has served `apply`'s first rule
  // write (it logs a request once its handler ran, before it answers).
  bool WaitForFirstWrite(Process& apply) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    auto writes = [this] {
      int n = 0;
      for (const auto& r : env().s1().server().Requests()) {
        n += r.method == "POST" &&
             absl::StartsWith(r.path, "/web/api/v2.1/firewall-control");
      }
      return n;
    };
    while (writes() == 0 && absl::Now() < deadline && !apply.Exited()) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return writes() == 1;
  }

  int collection_ = 0;
  std::string site_;
};

TEST_F(SafetyTest, AnEditedPlanFileIsRefusedSignedOrNot) {
  const std::string dir = Setup(100);
  const std::string path = dir + "/p.json";
  ASSERT_EQ(Run({"plan", "--out", path, "-c", dir}).exit_code, 0);
  const PlanFile genuine = Load(path);
  ASSERT_EQ(genuine.plans_size(), 1);
  ASSERT_EQ(genuine.plans(0).actions_size(), 1);
  EXPECT_FALSE(
      Contains(ReadFile(path), ReadFile(dir + "/tqs1.plan-key").substr(0, 64)))
      << "the key is in the plan file";

  for (const char* value : {"0.0.0.0/0", "::/0", "127.0.0.1", "10.0.0.0/4"}) {
    SCOPED_TRACE(value);
    PlanFile edited = genuine;
    edited.mutable_plans(0)->mutable_actions(0)->add_add(value);

    // Edited by someone without the key: the signature breaks.
    Save(edited, path, dir, /*sign=*/false);
    RunResult unsigned_edit = Run({"apply", path, "-c", dir});
    EXPECT_EQ(unsigned_edit.exit_code, 1) << unsigned_edit;
    EXPECT_TRUE(Contains(unsigned_edit.err, "was changed since tqs1 wrote it"))
        << unsigned_edit;

    // Re-signed by someone with the key: admission still refuses it.
    Save(edited, path, dir, /*sign=*/true);
    RunResult signed_edit = Run({"apply", path, "-c", dir});
    EXPECT_EQ(signed_edit.exit_code, 1) << signed_edit;
    EXPECT_TRUE(Contains(signed_edit.err,
                         absl::StrCat("it would block \"", value, "\"")))
        << signed_edit;
  }

  // An action for a rule the site does not hold.
  PlanFile ghost = genuine;
  tqs1::v1::Action* del = ghost.mutable_plans(0)->add_actions();
  del->set_kind(tqs1::v1::ACTION_KIND_DELETE);
  del->set_rule_id("1758952600099999999");
  del->set_name("Known C2 IPs (9)");
  Save(ghost, path, dir, /*sign=*/true);
  RunResult ghost_run = Run({"apply", path, "-c", dir});
  EXPECT_EQ(ghost_run.exit_code, 1) << ghost_run;
  EXPECT_TRUE(Contains(ghost_run.err, "names rule 1758952600099999999"))
      << ghost_run;

  // Truncated.
  Save(genuine, path, dir, /*sign=*/false);
  std::string text = ReadFile(path);
  std::ofstream(path, std::ios::trunc) << text.substr(0, text.size() / 2);
  RunResult truncated = Run({"apply", path, "-c", dir});
  EXPECT_EQ(truncated.exit_code, 1) << truncated;
  EXPECT_TRUE(Contains(truncated.err, "not a tqs1 plan")) << truncated;

  // Made by another instance (another state folder, another key).
  const std::string other = Setup(100, "other");
  const std::string foreign = other + "/p.json";
  ASSERT_EQ(Run({"plan", "--out", foreign, "-c", other}).exit_code, 0);
  RunResult foreign_run = Run({"apply", foreign, "-c", dir});
  EXPECT_EQ(foreign_run.exit_code, 1) << foreign_run;
  EXPECT_TRUE(Contains(foreign_run.err, "made by another tqs1 instance"))
      << foreign_run;

  EXPECT_EQ(env().ApiWrites(), 0) << "a refused plan wrote";

  // The genuine file still applies; one older than --plan-max-age warns.
  Save(genuine, path, dir, /*sign=*/false);
  RunResult ok = Run({"apply", path, "--plan-max-age", "1ms", "-c", dir});
  EXPECT_EQ(ok.exit_code, 0) << ok;
  EXPECT_TRUE(Contains(
      ok.err, absl::StrCat("Warning: plan file \"", path, "\" was made ")))
      << ok;
  EXPECT_EQ(ManagedAddresses(), 100);
}

TEST_F(SafetyTest, AFileCannotSayItsOwnGuardsPassed) {
  const std::string dir = Setup(7000);
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  const int writes = env().ApiWrites();
  env().tq().SetIndicators(collection_, {});

  const std::string path = dir + "/p.json";
  RunResult plan = Run({"plan", "--out", path, "-c", dir});
  EXPECT_EQ(plan.exit_code, 3) << plan;
  EXPECT_TRUE(Contains(plan.out, "a guard blocks it, so apply would refuse it"))
      << plan;
  EXPECT_FALSE(Contains(plan.out, "apply it with")) << plan;

  PlanFile file = Load(path);
  for (tqs1::v1::Plan& p : *file.mutable_plans()) {
    for (tqs1::v1::GuardVerdict& v : *p.mutable_guards()) v.set_tripped(false);
    p.mutable_summary()->set_blocked(false);
  }
  Save(file, path, dir, /*sign=*/true);
  RunResult apply = Run({"apply", path, "-c", dir});
  EXPECT_EQ(apply.exit_code, 3) << apply;
  EXPECT_TRUE(Contains(apply.err, "is blocked by the guards")) << apply;
  EXPECT_EQ(env().ApiWrites(), writes) << "a guard-blocked plan wrote";
  EXPECT_EQ(ManagedAddresses(), 7000);
}

TEST_F(SafetyTest, FlagsThatAPlanFileFixesAreRefused) {
  const std::string dir = Setup(100);
  const std::string path = dir + "/p.json";
  ASSERT_EQ(Run({"plan", "--out", path, "-c", dir}).exit_code, 0);
  for (const char* flag :
       {"--allow-empty", "--allow-mass-unblock", "--adopt"}) {
    SCOPED_TRACE(flag);
    RunResult r = Run({"apply", path, flag, "-c", dir});
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_TRUE(Contains(
        r.err, absl::StrCat("Error: ", flag, " cannot change a saved plan")))
        << r;
  }
  RunResult sync = Run({"apply", path, "--sync", "c2-hq", "-c", dir});
  EXPECT_EQ(sync.exit_code, 1) << sync;
  EXPECT_EQ(env().ApiWrites(), 0);
}

TEST_F(SafetyTest, AFailedSyncHasItsEntryInTheJsonPlan) {
  collection_ = env().tq().AddCollection(kCollection, Ipv4Indicators(0, 10));
  site_ = env().AddSite("HQ");
  env().AddSite("Branch");
  const std::string dir = WriteConfig(
      "c", env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""},
                             {"gone", "No Such Collection", "HQ", ""},
                             {"c2-branch", kCollection, "Branch", ""}}));
  RunResult r = Run({"plan", "--json", "-c", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  absl::StatusOr<PlanFile> file = reconciler::ParsePlanFileJson(r.out);
  ASSERT_TRUE(file.ok()) << file.status() << "\n" << r;
  ASSERT_EQ(file->plans_size(), 3);
  EXPECT_EQ(file->plans(1).sync_name(), "gone");
  EXPECT_TRUE(Contains(file->plans(1).error(), "No Such Collection"))
      << file->plans(1).error();
  EXPECT_TRUE(file->plans(0).error().empty());
  EXPECT_FALSE(file->signature().empty());
}

// Applies on a "terminal" (in-process, the answers scripted) and returns
// the exit code; `prompts` gets each question asked.
int ApplyOnTerminal(const std::string& dir, const std::string& answer,
                    std::vector<std::string>& prompts, std::string& out,
                    tqs1::v1::LastRun& record) {
  absl::StatusOr<tqs1::v1::Config> config =
      config::LoadConfigFile(dir + "/tqs1.yaml");
  EXPECT_TRUE(config.ok()) << config.status();
  config::Credentials secrets;
  secrets.threatq_password = kPassword;
  secrets.sentinelone_api_token = kToken;
  absl::StatusOr<cli::Backends> backends =
      cli::Connect(*config, secrets, nullptr);
  EXPECT_TRUE(backends.ok()) << backends.status();
  std::ostringstream out_stream, err_stream;
  cli::Io io;
  io.out = &out_stream;
  io.err = &err_stream;
  io.interactive = true;
  io.ask = [&](const std::string& prompt, bool) {
    prompts.push_back(prompt);
    return std::optional<std::string>(answer);
  };
  cli::CommandLine cl;
  cl.command = "apply";
  cl.config = dir;
  int code = cli::RunApply(*config, *backends, cli::ApplyCommandFrom(cl), io,
                           nullptr, &record);
  out = out_stream.str();
  return code;
}

TEST_F(SafetyTest, ADeclinedApplyExitsOneAndIsRecorded) {
  collection_ = env().tq().AddCollection(kCollection, Ipv4Indicators(0, 10));
  site_ = env().AddSite("HQ");
  env().AddSite("Branch");
  const std::string dir = WriteConfig(
      "c", env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""},
                             {"c2-branch", kCollection, "Branch", ""}}));
  std::vector<std::string> prompts;
  std::string out;
  tqs1::v1::LastRun record;
  EXPECT_EQ(ApplyOnTerminal(dir, "no", prompts, out, record), 1) << out;
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(prompts[0],
            "Apply these changes to site \"HQ\" (sync \"c2-hq\")? Only 'yes' "
            "is accepted: ");
  EXPECT_EQ(prompts[1],
            "Apply these changes to site \"Branch\" (sync \"c2-branch\")? "
            "Only 'yes' is accepted: ");
  EXPECT_TRUE(Contains(out,
                       "Apply cancelled: sync \"c2-hq\" was not "
                       "applied.\n"))
      << out;
  ASSERT_EQ(record.syncs_size(), 2);
  EXPECT_EQ(record.syncs(0).outcome(), tqs1::v1::SYNC_OUTCOME_DECLINED);
  EXPECT_EQ(record.syncs(1).outcome(), tqs1::v1::SYNC_OUTCOME_DECLINED);
  EXPECT_EQ(env().ApiWrites(), 0);

  record = {};
  prompts.clear();
  EXPECT_EQ(ApplyOnTerminal(dir, "yes", prompts, out, record), 0) << out;
  EXPECT_EQ(record.syncs(0).outcome(), tqs1::v1::SYNC_OUTCOME_APPLIED);
}

TEST_F(SafetyTest, ARuleDisabledInTheConsoleIsSaidNotHidden) {
  const std::string dir = Setup(6000);
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  std::string disabled_id;
  for (const tqs1::v1::Rule& rule : env().SiteRules(site_)) {
    if (rule.name() == "Known C2 IPs (2)") disabled_id = rule.id();
  }
  ASSERT_FALSE(disabled_id.empty());
  ASSERT_TRUE(
      env()
          .s1()
          .ModifyRule(disabled_id,
                      [](nlohmann::json& rule) { rule["status"] = "Disabled"; })
          .ok());
  const int writes = env().ApiWrites();

  // Still in sync (tqs1 keeps the operator's brake), but said.
  RunResult plan = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  EXPECT_TRUE(Contains(
      plan.out, absl::StrCat("  ! \"Known C2 IPs (2)\"  id ", disabled_id,
                             ": 1,000 addresses not "
                             "enforced: disabled in the "
                             "console")))
      << plan;
  EXPECT_TRUE(Contains(plan.out,
                       "Not enforced: 1,000 addresses in 1 managed "
                       "rule disabled in the console"))
      << plan;

  RunResult json = Run({"plan", "--json", "-c", dir});
  absl::StatusOr<PlanFile> file = reconciler::ParsePlanFileJson(json.out);
  ASSERT_TRUE(file.ok()) << file.status() << json;
  EXPECT_EQ(file->plans(0).observed().disabled_rules(), 1u);
  EXPECT_EQ(file->plans(0).observed().not_enforced(), 1000u);
  EXPECT_EQ(env().ApiWrites(), writes);
}

struct SignalCase {
  int signo;
  int exit_code;
};

class InterruptTest : public SafetyTest,
                      public ::testing::WithParamInterface<SignalCase> {};

TEST_P(InterruptTest, TheFirstSignalStopsBeforeTheNextWrite) {
  const std::string dir = Setup(30000);  // six rules of 5,000
  SlowWrites(absl::Milliseconds(800));
  const std::string logs = MakeDir("logs");
  Process apply = Start({"apply", "--auto-approve", "-c", dir, "-ll", logs});
  ASSERT_TRUE(WaitForFirstWrite(apply)) << "the first write did not land";
  apply.Signal(GetParam().signo);
  RunResult r = apply.Wait();

  EXPECT_EQ(r.exit_code, GetParam().exit_code) << r;
  EXPECT_TRUE(Contains(r.err, "Interrupted: sync \"c2-hq\" stopped after "))
      << r;
  EXPECT_TRUE(Contains(r.err, " of 6 actions; run apply again to finish."))
      << r;
  EXPECT_TRUE(Contains(r.out, "  + create \"Known C2 IPs (1)\"")) << r;
  EXPECT_LE(env().ApiWrites(), 2) << "more than the write in flight landed";
  const std::string log = ReadFile(logs + "/tqs1.log");
  EXPECT_TRUE(Contains(log, absl::StrCat("apply, exit ", GetParam().exit_code,
                                         " (interrupted by a signal)")))
      << log;
  EXPECT_TRUE(Contains(log, "Interrupted: sync \"c2-hq\" stopped after"))
      << log;
  absl::StatusOr<tqs1::v1::LastRun> record =
      config::LoadLastRun(dir + "/tqs1.last-run.json");
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->syncs_size(), 1);
  EXPECT_EQ(record->syncs(0).outcome(), tqs1::v1::SYNC_OUTCOME_INTERRUPTED);
  EXPECT_EQ(record->syncs(0).rules_created(),
            static_cast<uint64_t>(env().ApiWrites()));

  RunResult again = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(again.exit_code, 0) << again;
  EXPECT_EQ(ManagedAddresses(), 30000);
}

TEST_F(SafetyTest, ASecondSignalEndsTheApplyAtOnce) {
  const std::string dir = Setup(30000);
  SlowWrites(absl::Seconds(3));
  Process apply = Start({"apply", "--auto-approve", "-c", dir});
  ASSERT_TRUE(WaitForFirstWrite(apply)) << "the first write did not land";
  // The second write starts as soon as the first is answered and takes 3 s:
  // both signals arrive while it is in flight.
  absl::SleepFor(absl::Milliseconds(500));
  apply.Signal(SIGTERM);
  absl::SleepFor(absl::Milliseconds(100));
  apply.Signal(SIGTERM);
  RunResult r = apply.Wait(absl::Seconds(2));
  EXPECT_EQ(r.exit_code, -1) << "not ended by the signal: " << r;
}

TEST_F(SafetyTest, AFailedWriteIsLoggedOnce) {
  const std::string dir = Setup(100);
  const std::string logs = MakeDir("logs");
  emulator::Fault down;
  down.kind = emulator::FaultKind::kServerError;
  down.method = "POST";
  down.status = 400;
  down.count = 100;
  env().s1().server().InjectFault(down);
  RunResult r = Run({"apply", "--auto-approve", "-c", dir, "-ll", logs, "-v3"});
  EXPECT_EQ(r.exit_code, 1) << r;
  const std::string log = ReadFile(logs + "/tqs1.log");
  size_t count = 0;
  for (size_t at = log.find("(create \"Known C2 IPs\") failed");
       at != std::string::npos;
       at = log.find("(create \"Known C2 IPs\") failed", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << log;
}

INSTANTIATE_TEST_SUITE_P(Signals, InterruptTest,
                         ::testing::Values(SignalCase{SIGTERM, 143},
                                           SignalCase{SIGINT, 130}),
                         [](const auto& info) {
                           return info.param.signo == SIGTERM ? "SIGTERM"
                                                              : "SIGINT";
                         });

}  // namespace
}  // namespace tqs1::e2e

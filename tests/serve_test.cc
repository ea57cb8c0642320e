// End-to-end: the `tqs1 serve` binary, asked by `tqs1 drift` while
// `tqs1 apply` runs beside it on the same state folder.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "cli/server/test_env.h"
#include "emulators/emulator_server.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "testing/builders.h"
#include "testing/vendors_env.h"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

using ::tqs1::testing::kCollection;

// Waits (bounded) until `process` has written `text`; false if it exited
// or the time ran out first.
bool WaitForOutput(Process& process, const std::string& text) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (Contains(process.OutputSoFar(), text)) return true;
    if (process.Exited()) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

// How many times `text` occurs in `out`.
int Occurrences(const std::string& out, const std::string& text) {
  int n = 0;
  for (size_t at = out.find(text); at != std::string::npos;
       at = out.find(text, at + text.size())) {
    ++n;
  }
  return n;
}

// Waits (bounded) until `process` has written `text` `n` times.
bool WaitForOccurrences(Process& process, const std::string& text, int n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (Occurrences(process.OutputSoFar(), text) >= n) return true;
    if (process.Exited()) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

// The address of the last "listening on ADDRESS;" in `out`.
std::string ListeningOn(const std::string& out) {
  const std::string marker = "listening on ";
  const size_t at = out.rfind(marker);
  if (at == std::string::npos) return "";
  const size_t start = at + marker.size();
  return out.substr(start, out.find(';', start) - start);
}

class ServeTest : public E2eTest {
 protected:
  // A config of one sync "c2" of kCollection (3,000 addresses) into site
  // HQ; returns its folder.
  std::string OneSync() {
    collection_ =
        env().tq().AddCollection(kCollection, Ipv4Indicators(0, 3000));
    env().AddSite("HQ");
    return WriteConfig("c", env().ConfigYaml({{"c2", kCollection, "HQ", ""}}));
  }

  // Starts `tqs1 serve -c dir --listen 127.0.0.1:0 --interval 0s` and
  // returns the address it listens on ("" if it did not start).
  std::string StartServe(const std::string& dir,
                         std::vector<std::string> flags = {},
                         const EnvOverrides& env = {}) {
    std::vector<std::string> args = {
        "serve", "-c", dir, "--listen", "127.0.0.1:0", "--interval", "0s"};
    args.insert(args.end(), flags.begin(), flags.end());
    serve_ = std::make_unique<Process>(Start(args, env));
    if (!WaitForOutput(*serve_, "; observing")) return "";
    return ListeningOn(serve_->OutputSoFar());
  }

  // Stops the server as systemd would; its exit code.
  int StopServe() {
    serve_->Signal(SIGTERM);
    RunResult r = serve_->Wait();
    EXPECT_TRUE(Contains(r.out, "SIGTERM, stopping")) << r;
    return r.exit_code;
  }

  std::unique_ptr<Process> serve_;
  int collection_ = 0;
};

// The metrics page of a server at 127.0.0.1:`port`, sample by sample
// ("name{labels}" -> value).
std::map<std::string, double> Metrics(int port) {
  std::map<std::string, double> out;
  httplib::Client http("127.0.0.1", port);
  httplib::Result result = http.Get("/metrics");
  if (!result) return out;
  for (absl::string_view line : absl::StrSplit(result->body, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space != absl::string_view::npos &&
        absl::SimpleAtod(line.substr(space + 1), &value)) {
      out[std::string(line.substr(0, space))] = value;
    }
  }
  return out;
}

TEST_F(ServeTest, DriftFollowsACliApplyAndRefreshesWhenAsked) {
  const std::string dir = OneSync();
  const std::string server = StartServe(dir);
  ASSERT_NE(server, "");

  // No round yet (--interval 0s): said plainly, exit 1.
  RunResult before = Run({"drift", "--server", server});
  EXPECT_EQ(before.exit_code, 1) << before;
  EXPECT_TRUE(Contains(before.out, "c2: not observed yet (no round has run"))
      << before;

  RunResult refreshed = Run({"drift", "--server", server, "--refresh"});
  EXPECT_EQ(refreshed.exit_code, 2) << refreshed;
  EXPECT_TRUE(Contains(refreshed.out, "c2: drifted: 3,000 missing, 0 extra"))
      << refreshed;

  // An apply from the CLI, beside the server: the next answer follows it
  // without being asked to refresh.
  RunResult apply = Run({"apply", "--auto-approve", "-c", dir});
  ASSERT_EQ(apply.exit_code, 0) << apply;
  RunResult after = Run({"drift", "--server", server});
  EXPECT_EQ(after.exit_code, 0) << after;
  EXPECT_TRUE(Contains(after.out, "c2: in sync; observed ")) << after;
  EXPECT_TRUE(Contains(after.out, "; last apply ")) << after;

  EXPECT_EQ(StopServe(), 0);
}

TEST_F(ServeTest, ARestartedServerReportsWhatItKnewUntilItLooksAgain) {
  const std::string dir = OneSync();
  std::string server = StartServe(dir);
  ASSERT_NE(server, "");
  ASSERT_EQ(Run({"drift", "--server", server, "--refresh"}).exit_code, 2);
  EXPECT_EQ(StopServe(), 0);
  EXPECT_TRUE(Contains(ReadFile(dir + "/tqs1.serve-state.json"),
                       "\"tqs1.serve-state.v1\""));

  server = StartServe(dir);
  ASSERT_NE(server, "");
  RunResult kept = Run({"drift", "--server", server});
  EXPECT_EQ(kept.exit_code, 2) << kept;
  EXPECT_TRUE(Contains(kept.out, "c2: drifted: 3,000 missing")) << kept;
  EXPECT_TRUE(Contains(kept.out, " (before the server restarted)")) << kept;
  RunResult fresh = Run({"drift", "--server", server, "--refresh"});
  EXPECT_FALSE(Contains(fresh.out, "before the server restarted")) << fresh;
  EXPECT_EQ(StopServe(), 0);
}

TEST_F(ServeTest, AReviewedPlanIsAppliedRemotelyAndAStaleOneRefused) {
  const std::string dir = OneSync();
  // Applies need the server's token.
  const std::string token = dir + "/grpc-token";
  ASSERT_TRUE(
      ::tqs1::WriteFileAtomically(token, "e2e-grpc-token\n", 0600).ok());
  std::string server = StartServe(dir, {"--token-file", token});
  ASSERT_NE(server, "");
  const std::string file = dir + "/reviewed.json";
  RunResult plan = Run({"plan", "--server", server, "--out", file});
  ASSERT_EQ(plan.exit_code, 0) << plan;
  EXPECT_TRUE(Contains(plan.out, "+3,000")) << plan;

  // The server signs with a key kept in its state folder: a plan reviewed
  // before a restart is still its own.
  EXPECT_EQ(StopServe(), 0);
  server = StartServe(dir, {"--token-file", token});
  ASSERT_NE(server, "");
  // Without the token: refused, with what to do.
  RunResult anonymous = Run({"apply", "--server", server, file});
  EXPECT_EQ(anonymous.exit_code, 1) << anonymous;
  EXPECT_TRUE(Contains(anonymous.err,
                       "pass the server's token with "
                       "--token-file FILE"))
      << anonymous;
  RunResult apply =
      Run({"apply", "--server", server, "--token-file", token, file});
  ASSERT_EQ(apply.exit_code, 0) << apply;
  EXPECT_TRUE(Contains(apply.out,
                       "Apply complete for \"c2\": 1 created, 0 updated, 0 "
                       "deleted."))
      << apply;
  RunResult drift = Run({"drift", "--server", server});
  EXPECT_EQ(drift.exit_code, 0) << drift;
  EXPECT_TRUE(Contains(drift.out,
                       "(1 created, 0 updated, 0 deleted: 3,000 "
                       "blocked, 0 unblocked)"))
      << drift;

  // Reviewed, then someone else applies first: the site is not what was
  // reviewed, and the file is refused with nothing written.
  ASSERT_TRUE(env().tq().SetIndicators(collection_, Ipv4Indicators(0, 3500)));
  ASSERT_EQ(Run({"plan", "--server", server, "--out", file}).exit_code, 0);
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  const size_t writes = env().s1().Events().size();
  RunResult stale =
      Run({"apply", "--server", server, "--token-file", token, file});
  EXPECT_EQ(stale.exit_code, 1) << stale;
  EXPECT_TRUE(Contains(stale.err, "the site changed since the plan was made"))
      << stale;
  EXPECT_EQ(env().s1().Events().size(), writes);
  EXPECT_EQ(StopServe(), 0);
}

TEST_F(ServeTest, HealthAndMetricsOfTheBinaryThroughAnOutageAndAGuard) {
  const std::string dir = OneSync();
  serve_ = std::make_unique<Process>(
      Start({"serve", "-c", dir, "--listen", "127.0.0.1:0", "--interval", "0s",
             "--metrics-listen", "127.0.0.1:0"}));
  ASSERT_TRUE(WaitForOutput(*serve_, "; observing"));
  const std::string out = serve_->OutputSoFar();
  const size_t at = out.find("listening on ") + 13;
  const std::string server = out.substr(at, out.find(';', at) - at);
  const size_t m = out.find("metrics on http://127.0.0.1:") + 28;
  int metrics_port = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(out.substr(m, out.find('/', m) - m), &metrics_port))
      << out;
  auto channel =
      grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  auto health = [&channel](const std::string& service) {
    return server::CheckHealth(channel, service).value_or("?");
  };
  EXPECT_EQ(health(""), "SERVING");
  EXPECT_EQ(health("tqs1.ready"), "NOT_SERVING");
  ASSERT_EQ(Run({"drift", "--server", server, "--refresh"}).exit_code, 2);
  EXPECT_EQ(health("tqs1.ready"), "SERVING");
  EXPECT_EQ(health("tqs1.sync/c2"), "SERVING");

  // ThreatQ down: not ready, still alive.
  emulator::Fault down;
  down.kind = emulator::FaultKind::kServerError;
  down.status = 503;
  down.count = 100000;
  env().tq().server().InjectFault(down);
  RunResult failed = Run({"drift", "--server", server, "--refresh"});
  EXPECT_EQ(failed.exit_code, 1) << failed;
  EXPECT_TRUE(Contains(failed.out, " failed: ")) << failed;
  EXPECT_EQ(health("tqs1.ready"), "NOT_SERVING");
  EXPECT_EQ(health(""), "SERVING");
  EXPECT_EQ(health("tqs1.live"), "SERVING");
  env().tq().server().ClearFaults();

  // Blocked, then the collection empties: the empty-source guard trips,
  // counted as its own result, not as an error.
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  ASSERT_TRUE(env().tq().SetIndicators(collection_, {}));
  RunResult guarded = Run({"drift", "--server", server, "--refresh"});
  EXPECT_EQ(guarded.exit_code, 2) << guarded;
  std::map<std::string, double> metrics = Metrics(metrics_port);
  EXPECT_EQ(
      metrics["tqs1_sync_guard_tripped{sync=\"c2\",guard=\"empty-source\"}"],
      1);
  EXPECT_GE(
      metrics
          ["tqs1_sync_reconciles_total{sync=\"c2\",result=\"guard_blocked\"}"],
      1);
  EXPECT_EQ(metrics["tqs1_sync_healthy{sync=\"c2\"}"], 1);
  // Which build answers: the version, and a commit stamped at build time.
  bool build_info = false;
  for (const auto& [sample, value] : metrics) {
    build_info |= absl::StartsWith(sample, "tqs1_build_info{version=\"") &&
                  Contains(sample, ",commit=\"") && value == 1;
  }
  EXPECT_TRUE(build_info);
  EXPECT_EQ(health("tqs1.ready"), "SERVING");
  EXPECT_EQ(StopServe(), 0);
}

TEST_F(ServeTest, AWatchSaysWhenTheServerShutsDown) {
  const std::string server = StartServe(OneSync());
  ASSERT_NE(server, "");
  Process watch = Start({"drift", "--server", server, "--watch"});
  ASSERT_TRUE(WaitForOutput(watch, "c2: not observed yet"));
  EXPECT_EQ(StopServe(), 0);
  RunResult r = watch.Wait();
  EXPECT_TRUE(Contains(
      r.err, absl::StrCat("tqs1 drift: ", server, ": server shut down")))
      << r;
}

// SIGHUP, as logrotate and `systemctl reload` send it: the log file is
// opened again by its name; an unchanged config changes nothing; a changed
// one restarts the server in place (same pid) with the new syncs.
TEST_F(ServeTest, SighupReopensTheLogAndTakesAChangedConfigInPlace) {
  const std::string dir = OneSync();
  const std::string logs = MakeDir("logs");
  const std::string server = StartServe(dir, {"-ll", logs});
  ASSERT_NE(server, "");
  ASSERT_EQ(
      rename((logs + "/tqs1.log").c_str(), (logs + "/tqs1.log.1").c_str()), 0);

  serve_->Signal(SIGHUP);
  ASSERT_TRUE(WaitForOutput(*serve_, "tqs1.yaml unchanged"))
      << serve_->OutputSoFar();
  EXPECT_TRUE(
      Contains(ReadFile(logs + "/tqs1.log"), "reload: log file reopened"));
  RunResult same = Run({"drift", "--server", server, "--refresh"});
  EXPECT_EQ(same.exit_code, 2) << same;

  env().AddSite("Branch");
  WriteConfig("c",
              env().ConfigYaml({{"c2", kCollection, "HQ", ""},
                                {"c2-branch", kCollection, "Branch", ""}}));
  serve_->Signal(SIGHUP);
  ASSERT_TRUE(WaitForOccurrences(*serve_, "; observing", 2))
      << serve_->OutputSoFar();
  const std::string out = serve_->OutputSoFar();
  EXPECT_TRUE(Contains(out, "SIGHUP: config " + dir +
                                "/tqs1.yaml: sync \"c2-branch\" added; "
                                "restarting in place"))
      << out;
  RunResult both = Run({"drift", "--server", ListeningOn(out), "--refresh"});
  EXPECT_EQ(both.exit_code, 2) << both;
  EXPECT_TRUE(Contains(both.out, "c2: drifted: 3,000 missing")) << both;
  EXPECT_TRUE(Contains(both.out, "c2-branch: drifted: 3,000 missing")) << both;

  // One process throughout: the renamed file has the first start, the new
  // one the restart, with the same pid.
  const std::string before = ReadFile(logs + "/tqs1.log.1");
  const std::string after = ReadFile(logs + "/tqs1.log");
  const size_t at = before.find(", pid ");
  ASSERT_NE(at, std::string::npos) << before;
  const std::string pid = before.substr(at, before.find('\n', at) - at);
  EXPECT_TRUE(Contains(after, "restarting in place on SIGHUP" + pid)) << after;
  EXPECT_EQ(Occurrences(after, "start: tqs1 "), 1) << after;
  EXPECT_TRUE(Contains(after, "serve on 127.0.0.1:")) << after;
  EXPECT_EQ(StopServe(), 0);
}

TEST_F(ServeTest, SighupKeepsTheRunningConfigWhenTheNewOneIsInvalid) {
  const std::string dir = OneSync();
  const std::string server = StartServe(dir);
  ASSERT_NE(server, "");
  WriteConfig("c", "syncs: [\n");
  serve_->Signal(SIGHUP);
  ASSERT_TRUE(WaitForOutput(*serve_, "the running one kept"))
      << serve_->OutputSoFar();
  EXPECT_TRUE(Contains(serve_->OutputSoFar(),
                       "SIGHUP: the new config is refused, the running one "
                       "kept: " +
                           dir + "/tqs1.yaml"))
      << serve_->OutputSoFar();
  RunResult drift = Run({"drift", "--server", server, "--refresh"});
  EXPECT_EQ(drift.exit_code, 2) << drift;
  EXPECT_TRUE(Contains(drift.out, "c2: drifted: 3,000 missing")) << drift;
  EXPECT_EQ(StopServe(), 0);
}

// systemd's side of Type=notify: an abstract datagram socket, as systemd
// passes in NOTIFY_SOCKET.
class NotifySocket {
 public:
  NotifySocket() {
    name_ = absl::StrCat("tqs1-notify-test-", getpid());
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, name_.data(), name_.size());
    bound_ = fd_ >= 0 &&
             bind(fd_, reinterpret_cast<sockaddr*>(&addr),
                  offsetof(sockaddr_un, sun_path) + 1 + name_.size()) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
  }
  bool bound() const { return bound_; }
  std::string env_value() const { return "@" + name_; }

  // Messages until one holds `state` (true), or 20 s pass (false).
  bool WaitFor(const std::string& state) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      pollfd p = {fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) continue;
      const std::string message(buffer, static_cast<size_t>(n));
      messages_.push_back(message);
      if (Contains(message, state)) return true;
    }
    return false;
  }
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
  std::vector<std::string> messages_;
};

// Under systemd (Type=notify, WatchdogSec=): READY=1 once it serves, the
// watchdog fed while it is live, RELOADING=1 and READY=1 again across a
// restart in place, STOPPING=1 on SIGTERM.
TEST_F(ServeTest, TellsSystemdItIsReadyFeedsItsWatchdogAndStops) {
  NotifySocket systemd;
  ASSERT_TRUE(systemd.bound());
  const std::string dir = OneSync();
  const std::string server = StartServe(
      dir, {},
      {{"NOTIFY_SOCKET", systemd.env_value()}, {"WATCHDOG_USEC", "200000"}});
  ASSERT_NE(server, "");
  ASSERT_TRUE(systemd.WaitFor("READY=1"));
  EXPECT_TRUE(
      Contains(systemd.messages().back(), "STATUS=serving on " + server));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(systemd.WaitFor("WATCHDOG=1"));

  env().AddSite("Branch");
  WriteConfig("c",
              env().ConfigYaml({{"c2", kCollection, "HQ", ""},
                                {"c2-branch", kCollection, "Branch", ""}}));
  serve_->Signal(SIGHUP);
  ASSERT_TRUE(systemd.WaitFor("RELOADING=1"));
  ASSERT_TRUE(systemd.WaitFor("READY=1"));
  ASSERT_TRUE(systemd.WaitFor("WATCHDOG=1"));  // the new image feeds it too

  EXPECT_EQ(StopServe(), 0);
  EXPECT_TRUE(systemd.WaitFor("STOPPING=1"));
}

}  // namespace
}  // namespace tqs1::e2e

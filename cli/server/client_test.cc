// `tqs1 drift` and plan/apply with --server against an in-process server.
#include "cli/server/client.h"

#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/time/clock.h"
#include "cli/server/test_env.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "testing/builders.h"

namespace tqs1::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kToken[] = "client-test-token";

struct Terminal {
  std::ostringstream out;
  std::ostringstream err;
  cli::Io io() {
    cli::Io io;
    io.out = &out;
    io.err = &err;
    return io;
  }
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServeOptions serve;
    serve.token = kToken;
    serve.plan_key = std::string(32, 'k');
    absl::StatusOr<std::unique_ptr<ServerTestEnv>> env =
        ServerTestEnv::Start(serve);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    options_.server = env_->server().address();
    options_.token = kToken;
  }
  cli::CommandLine Command(const std::string& command) {
    cli::CommandLine cl;
    cl.command = command;
    cl.server = options_.server;
    return cl;
  }

  std::unique_ptr<ServerTestEnv> env_;
  ClientOptions options_;
};

TEST(RenderDriftTextTest, Forms) {
  tqs1::v1::SyncDrift drift;
  drift.set_sync_name("c2-hq");
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: not observed yet (no round has run; `tqs1 drift "
            "--refresh` observes now)");
  EXPECT_EQ(DriftExit(drift), cli::kExitError);
  // Never observed: the first attempt failed.
  *drift.mutable_last_attempt() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1767225660);
  drift.set_last_error("ThreatQ: connection refused");
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: not observed yet; last attempt 2026-01-01T00:01:00Z "
            "failed: ThreatQ: connection refused");
  drift.clear_last_error();
  drift.clear_last_attempt();
  *drift.mutable_observed_at() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1767225600);
  drift.set_missing(12345);
  drift.set_extra(3);
  drift.set_conflicts(1);
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: drifted: 12,345 missing, 3 extra, 1 conflict; observed "
            "2026-01-01T00:00:00Z");
  drift.set_in_sync(true);
  drift.set_conflicts(0);
  *drift.mutable_last_successful_apply() = drift.observed_at();
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: in sync; observed 2026-01-01T00:00:00Z; last apply "
            "2026-01-01T00:00:00Z");
  // In sync, and still saying what a disabled rule leaves unenforced.
  drift.set_disabled_rules(1);
  drift.set_not_enforced(2);
  drift.set_not_enforced_ipv4_addresses(65537);
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: in sync, 1 managed rule disabled in the console: 2 not "
            "enforced (65,537 IPv4 addresses); observed "
            "2026-01-01T00:00:00Z; last apply 2026-01-01T00:00:00Z");
  // What the last apply wrote, when the server knows it.
  drift.mutable_last_apply()->set_rules_created(3);
  drift.mutable_last_apply()->set_rules_deleted(1);
  drift.mutable_last_apply()->set_addresses_blocked(12345);
  drift.mutable_last_apply()->set_addresses_unblocked(7);
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: in sync, 1 managed rule disabled in the console: 2 not "
            "enforced (65,537 IPv4 addresses); observed "
            "2026-01-01T00:00:00Z; last apply 2026-01-01T00:00:00Z (3 "
            "created, 0 updated, 1 deleted: 12,345 blocked, 7 unblocked)");
  drift.clear_last_apply();
  // Address space beside entries where it says more.
  drift.set_in_sync(false);
  drift.set_disabled_rules(0);
  drift.set_missing(2);
  drift.set_missing_ipv4_addresses(2);
  drift.set_extra(45);
  drift.set_extra_ipv4_addresses(2949120);
  drift.set_extra_ipv6_networks(3);
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: drifted: 2 missing, 45 extra (2,949,120 IPv4 addresses "
            "and 3 IPv6 /64 networks); observed 2026-01-01T00:00:00Z; last "
            "apply 2026-01-01T00:00:00Z");
  // A disabled Firewall Control in the line; the plan's warnings below it.
  drift.set_in_sync(true);
  drift.clear_last_successful_apply();
  drift.mutable_firewall()->set_known(true);
  drift.add_warnings("the site inherits its firewall policy from \"Account\"");
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: in sync, Firewall Control disabled for the site (no rule "
            "is enforced); observed 2026-01-01T00:00:00Z\n  warning: the site "
            "inherits its firewall policy from \"Account\"");
  // Not read: nothing said.
  drift.mutable_firewall()->set_known(false);
  drift.clear_warnings();
  EXPECT_EQ(RenderDriftText(drift),
            "c2-hq: in sync; observed 2026-01-01T00:00:00Z");
}

TEST_F(ClientTest, DriftTextJsonAndExitCodes) {
  env_->supervisor().ReconcileAll(/*apply=*/false);
  {
    Terminal t;
    EXPECT_EQ(RunDrift(Command("drift"), options_, t.io()), cli::kExitChanges);
    EXPECT_THAT(t.out.str(), StartsWith("c2-hq: drifted: 5 missing, 0 extra; "
                                        "observed 2026-01-01T00:00:00Z\n"));
    EXPECT_EQ(t.err.str(), "");
  }
  {
    Terminal t;
    cli::CommandLine cl = Command("drift");
    cl.json = true;
    EXPECT_EQ(RunDrift(cl, options_, t.io()), cli::kExitChanges);
    // Numbers as numbers, as in the plan document.
    EXPECT_THAT(t.out.str(), HasSubstr("\"missing\": 5,"));
    EXPECT_THAT(t.out.str(), HasSubstr("\"sync_name\": \"c2-hq\""));
  }
  env_->supervisor().ReconcileAll(/*apply=*/true);
  {
    Terminal t;
    EXPECT_EQ(RunDrift(Command("drift"), options_, t.io()), cli::kExitOk);
    EXPECT_THAT(t.out.str(), StartsWith("c2-hq: in sync"));
  }
  {
    Terminal t;
    cli::CommandLine cl = Command("drift");
    cl.syncs = {"nope"};
    EXPECT_EQ(RunDrift(cl, options_, t.io()), cli::kExitError);
    EXPECT_THAT(t.err.str(),
                HasSubstr(": INVALID_ARGUMENT: unknown sync \"nope\""));
  }
}

// A string buffer that another thread may read while the watcher writes.
class LockedBuf : public std::stringbuf {
 public:
  std::string Contents() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return str();
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return std::stringbuf::xsputn(s, n);
  }
  int_type overflow(int_type c) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return std::stringbuf::overflow(c);
  }

 private:
  // Recursive: xsputn() may call overflow().
  std::recursive_mutex mu_;
};

// Polls (bounded: 10 s) until `buf` holds `text`.
bool WaitFor(LockedBuf& buf, const std::string& text) {
  for (int i = 0; i < 1000; ++i) {
    if (buf.Contents().find(text) != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

TEST_F(ClientTest, WatchPrintsEventsUntilTheServerStops) {
  LockedBuf out_buf;
  std::ostream out(&out_buf);
  std::ostringstream err;
  cli::Io io;
  io.out = &out;
  io.err = &err;
  cli::CommandLine cl = Command("drift");
  cl.watch = true;
  cl.json = true;
  int code = -1;
  std::thread watcher([&] { code = RunDrift(cl, options_, io); });
  // The current drift first, then a change.
  ASSERT_TRUE(WaitFor(out_buf, "\"sync_name\":\"c2-hq\""));
  env_->supervisor().ReconcileAll(/*apply=*/false);
  ASSERT_TRUE(WaitFor(out_buf, "\"missing\":5,"));
  // Stopping the server ends the stream cleanly.
  env_->server().Shutdown();
  watcher.join();
  EXPECT_THAT(out_buf.Contents(),
              StartsWith("{\"drift\":{\"sync_name\":\"c2-hq\""));
  EXPECT_EQ(err.str(), absl::StrCat("tqs1 drift: ", options_.server,
                                    ": server shut down\n"));
  EXPECT_EQ(code, cli::kExitChanges);
}

TEST_F(ClientTest, RemotePlanAndApply) {
  {
    Terminal t;
    cli::CommandLine cl = Command("plan");
    cl.detailed_exitcode = true;
    EXPECT_EQ(RunRemotePlan(cl, options_, t.io()), cli::kExitChanges);
    EXPECT_THAT(t.out.str(), HasSubstr("Known C2 IPs"));
  }
  {
    Terminal t;
    EXPECT_EQ(RunRemoteApply(Command("apply"), options_, t.io()),
              cli::kExitError);
    EXPECT_THAT(t.err.str(), HasSubstr("add --auto-approve"));
  }
  {
    Terminal t;
    cli::CommandLine cl = Command("apply");
    cl.auto_approve = true;
    ClientOptions no_token = options_;
    no_token.token.clear();
    EXPECT_EQ(RunRemoteApply(cl, no_token, t.io()), cli::kExitError);
    EXPECT_THAT(t.err.str(), HasSubstr("UNAUTHENTICATED: missing bearer"));
    EXPECT_THAT(t.err.str(),
                HasSubstr("pass the server's token with --token-file FILE"));
    EXPECT_TRUE(env_->vendors().s1().Events().empty());
  }
  {
    Terminal t;
    cli::CommandLine cl = Command("apply");
    cl.auto_approve = true;
    ClientOptions wrong = options_;
    wrong.token = "not-the-token";
    EXPECT_EQ(RunRemoteApply(cl, wrong, t.io()), cli::kExitError);
    EXPECT_THAT(t.err.str(), HasSubstr("PERMISSION_DENIED: invalid bearer"));
    EXPECT_THAT(t.err.str(), HasSubstr("the token given is not the server's"));
  }
  {
    Terminal t;
    cli::CommandLine cl = Command("apply");
    cl.auto_approve = true;
    EXPECT_EQ(RunRemoteApply(cl, options_, t.io()), cli::kExitOk)
        << t.err.str();
    // The server's plan options are the test's (2 addresses a rule), but a
    // remote apply uses the request's defaults: one rule.
    EXPECT_EQ(t.out.str(),
              "Apply complete for \"c2-hq\": 1 created, 0 updated, 0 "
              "deleted.\n");
    EXPECT_EQ(env_->vendors().BlockedAddresses(), TestAddresses(5));
  }
  {
    Terminal t;
    cli::CommandLine cl = Command("plan");
    cl.detailed_exitcode = true;
    EXPECT_EQ(RunRemotePlan(cl, options_, t.io()), cli::kExitOk);
  }
}

TEST_F(ClientTest, RemoteApplyNamesTheRefusedIpv6Writes) {
  sentinelone::ConsoleModes modes;
  modes.refuse_ipv6 = true;
  env_->vendors().s1().SetModes(modes);
  std::vector<std::string> values = TestAddresses(3);
  values.push_back("2001:db8::7");
  env_->vendors().SetCollection(values);
  Terminal t;
  cli::CommandLine cl = Command("apply");
  cl.auto_approve = true;
  EXPECT_EQ(RunRemoteApply(cl, options_, t.io()), cli::kExitError);
  // The IPv4 rule went in; the error, then the refused write on its own
  // line, as a local apply prints them.
  EXPECT_EQ(env_->vendors().BlockedAddresses(), TestAddresses(3));
  EXPECT_THAT(t.err.str(), HasSubstr("Error: sync \"c2-hq\": "));
  EXPECT_THAT(t.err.str(), HasSubstr("ipv6: off"));
  EXPECT_THAT(t.err.str(), HasSubstr("IPv6 values refused by the console:\n"
                                     "  ! "));
  EXPECT_THAT(t.err.str(), HasSubstr("2001:db8::7"));
}

TEST_F(ClientTest, AReviewedPlanIsAppliedExactlyAndAStaleOneRefused) {
  const std::string file = absl::StrCat(::testing::TempDir(), "/reviewed.json");
  {
    Terminal t;
    cli::CommandLine cl = Command("plan");
    cl.out = file;
    EXPECT_EQ(RunRemotePlan(cl, options_, t.io()), cli::kExitOk) << t.err.str();
    EXPECT_THAT(t.out.str(),
                HasSubstr(absl::StrCat("; apply it with `tqs1 apply --server ",
                                       options_.server, " ", file, "`")));
  }
  {
    // The file is the approval: no --auto-approve.
    Terminal t;
    cli::CommandLine cl = Command("apply");
    cl.positional = {file};
    EXPECT_EQ(RunRemoteApply(cl, options_, t.io()), cli::kExitOk)
        << t.err.str();
    EXPECT_EQ(t.out.str(),
              "Apply complete for \"c2-hq\": 1 created, 0 updated, 0 "
              "deleted.\n");
    EXPECT_EQ(env_->vendors().BlockedAddresses(), TestAddresses(5));
  }
  {
    // Reviewed, then the site changes by hand: refused, nothing written.
    env_->vendors().SetCollection(TestAddresses(7));
    Terminal plan;
    cli::CommandLine cl = Command("plan");
    cl.out = file;
    ASSERT_EQ(RunRemotePlan(cl, options_, plan.io()), cli::kExitOk);
    env_->vendors().s1().AddRule(
        tqs1::v1::RULE_SCOPE_SITE, testing::kSiteId,
        testing::BlockRule("Made by hand", "", {"198.51.100.77"}));
    const size_t events = env_->vendors().s1().Events().size();
    Terminal t;
    cli::CommandLine apply = Command("apply");
    apply.positional = {file};
    EXPECT_EQ(RunRemoteApply(apply, options_, t.io()), cli::kExitError);
    EXPECT_THAT(t.err.str(),
                HasSubstr("the site changed since the plan was made"));
    EXPECT_EQ(env_->vendors().s1().Events().size(), events);
    // Flags that would change a saved plan are refused before any call.
    apply.adopt = true;
    Terminal flags;
    EXPECT_EQ(RunRemoteApply(apply, options_, flags.io()), cli::kExitError);
    EXPECT_THAT(flags.err.str(), HasSubstr("cannot change a saved plan"));
  }
  {
    // A file changed after the server signed it is refused whole.
    std::string text;
    {
      std::ifstream in(file);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::string site = "\"site_name\": \"";
    const size_t at = text.find(site);
    ASSERT_NE(at, std::string::npos);
    text.insert(at + site.size(), "X");
    { std::ofstream(file) << text; }
    Terminal t;
    cli::CommandLine cl = Command("apply");
    cl.positional = {file};
    EXPECT_EQ(RunRemoteApply(cl, options_, t.io()), cli::kExitError);
    EXPECT_THAT(t.err.str(), HasSubstr("FAILED_PRECONDITION"));
    EXPECT_THAT(t.err.str(), HasSubstr("changed since tqs1 wrote it"));
  }
}

TEST(ClientOptionsTest, NeedsAServer) {
  cli::CommandLine cl;
  cl.command = "plan";
  EXPECT_EQ(ClientOptionsFrom(cl).status(),
            absl::InvalidArgumentError(
                "this needs --server HOST:PORT (a running `tqs1 serve`)"));
  // drift asks where `tqs1 serve` listens by default.
  cl.command = "drift";
  ASSERT_TRUE(ClientOptionsFrom(cl).ok());
  EXPECT_EQ(ClientOptionsFrom(cl)->server, "127.0.0.1:50051");
  cl.server = "127.0.0.1:1";
  cl.tls_cert = "/c.pem";
  ASSERT_TRUE(ClientOptionsFrom(cl).ok());
  EXPECT_EQ(MakeChannel(*ClientOptionsFrom(cl)).status(),
            absl::InvalidArgumentError(
                "a client certificate needs both --tls-cert and --tls-key"));
}

// A plan file larger than gRPC's default 4 MiB gets to the server and is
// judged on what it says, not cut off by the transport.
TEST_F(ClientTest, APlanFileBeyondFourMebibytesReachesTheServer) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeChannel(options_);
  ASSERT_TRUE(channel.ok()) << channel.status();
  tqs1::v1::ApplyRequest request;
  request.set_plan_file(absl::StrCat("{\"plans\": [], \"padding\": \"",
                                     std::string(10 << 20, 'x'), "\"}"));
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  tqs1::v1::ApplyResponse response;
  const grpc::Status status =
      tqs1::v1::Tqs1::NewStub(*channel)->Apply(&context, request, &response);
  EXPECT_NE(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
}

}  // namespace
}  // namespace tqs1::server

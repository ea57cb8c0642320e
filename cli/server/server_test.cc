// The gRPC service end to end: an in-process Tqs1Server against both
// emulators on loopback.
#include "cli/server/server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/timestamp.h"
#include "cli/build_info.h"
#include "cli/config/state.h"
#include "cli/server/metrics.h"
#include "cli/server/test_env.h"
#include "emulators/emulator_server.h"
#include "emulators/self_signed_cert.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "proto/run.pb.h"
#include "proto/service.grpc.pb.h"
#include "reconciler/ownership.h"
#include "testing/builders.h"

namespace tqs1::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "correct-horse-battery-staple";

std::unique_ptr<ServerTestEnv> StartEnv(ServeOptions serve = {}) {
  if (serve.token.empty()) serve.token = kToken;
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> env =
      ServerTestEnv::Start(serve);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

// Every call to `vendor` fails with a 500 from now on (ClearFaults() ends
// it).
void FailEveryCall(emulator::EmulatorServer& vendor) {
  emulator::Fault fault;
  fault.kind = emulator::FaultKind::kServerError;
  fault.count = 1000;
  vendor.InjectFault(fault);
}

// A server with a metrics listener, and an HTTP client of it.
struct WithMetrics {
  std::unique_ptr<ServerTestEnv> env;
  std::unique_ptr<httplib::Client> http;
};
WithMetrics StartEnvWithMetrics(ServeOptions serve = {}) {
  serve.metrics_listen = "127.0.0.1:0";
  WithMetrics out;
  out.env = StartEnv(serve);
  if (out.env != nullptr) {
    out.http = std::make_unique<httplib::Client>(
        "127.0.0.1", out.env->server().metrics_port());
  }
  return out;
}

void WithToken(grpc::ClientContext& context, const std::string& token) {
  context.AddMetadata("authorization", "Bearer " + token);
}

tqs1::v1::PlanOptions TestPlanOptions() {
  tqs1::v1::PlanOptions options;
  options.set_max_addresses_per_rule(2);
  return options;
}

tqs1::v1::SyncDrift GetDrift(tqs1::v1::Tqs1::Stub& stub) {
  grpc::ClientContext context;
  tqs1::v1::GetDriftResponse response;
  grpc::Status status = stub.GetDrift(&context, {}, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.syncs_size(), 1);
  return response.syncs_size() == 1 ? response.syncs(0) : tqs1::v1::SyncDrift();
}

TEST(ServerTest, ARoundReadsACollectionOnceForAllItsSyncs) {
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> env =
      ServerTestEnv::Start({}, {}, {"Branch", "Lab"});
  ASSERT_TRUE(env.ok()) << env.status();
  SyncSupervisor& supervisor = (*env)->supervisor();
  emulator::EmulatorServer& tq = (*env)->vendors().tq().server();
  supervisor.Observe(kTestSync);  // signs in
  tq.ClearRequests();
  supervisor.Observe(kTestSync);
  const size_t one_read = tq.Requests().size();
  ASSERT_GT(one_read, 0u);

  tq.ClearRequests();
  supervisor.ReconcileAll(/*apply=*/false);
  EXPECT_EQ(tq.Requests().size(), one_read);
  absl::StatusOr<std::vector<tqs1::v1::SyncDrift>> drift = supervisor.Drift({});
  ASSERT_TRUE(drift.ok()) << drift.status();
  ASSERT_EQ(drift->size(), 3u);
  for (const tqs1::v1::SyncDrift& d : *drift) {
    EXPECT_EQ(d.missing(), 5u) << d.sync_name();
  }

  // An applying round too.
  tq.ClearRequests();
  supervisor.ReconcileAll(/*apply=*/true);
  EXPECT_EQ(tq.Requests().size(), one_read);
  // Three sites of 5 addresses in rules of 2: three creates each.
  EXPECT_EQ((*env)->vendors().ApiWrites(), 9);
}

TEST(ServerTest, AScheduledRoundRunsItsSitesAtOnce) {
  SupervisorOptions supervisor;
  supervisor.parallelism = 4;
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> env =
      ServerTestEnv::Start({}, supervisor, {"Branch", "Lab", "Depot"});
  ASSERT_TRUE(env.ok()) << env.status();
  emulator::EmulatorServer& s1 = (*env)->vendors().s1().server();
  // Every console call takes a while, so that the syncs overlap.
  emulator::Fault slow;
  slow.kind = emulator::FaultKind::kDelay;
  slow.delay = absl::Milliseconds(40);
  slow.count = 100000;
  s1.InjectFault(slow);
  s1.ClearRequests();
  (*env)->supervisor().ReconcileAll(/*apply=*/false);
  EXPECT_GT(s1.MaxInFlight(), 1);
  EXPECT_LE(s1.MaxInFlight(), 4);

  s1.ClearRequests();
  (*env)->supervisor().ReconcileAll(/*apply=*/true);
  EXPECT_GT(s1.MaxInFlight(), 1);
  EXPECT_LE(s1.MaxInFlight(), 4);
  // Four sites of 5 addresses in rules of 2: three creates each.
  EXPECT_EQ((*env)->vendors().ApiWrites(), 12);
  absl::StatusOr<std::vector<tqs1::v1::SyncDrift>> drift =
      (*env)->supervisor().Drift({});
  ASSERT_TRUE(drift.ok()) << drift.status();
  ASSERT_EQ(drift->size(), 4u);
  for (const tqs1::v1::SyncDrift& d : *drift) {
    EXPECT_TRUE(d.in_sync()) << d.sync_name();
    EXPECT_EQ(d.last_error(), "") << d.sync_name();
  }
}

TEST(ServerTest, AScheduledRoundHoldsARolloutBackWhenItsCanaryFails) {
  // c2-Lab is the canary of the three syncs, which may run three at once.
  SupervisorOptions supervisor;
  supervisor.parallelism = 3;
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> env = ServerTestEnv::Start(
      {}, supervisor, {"Branch", "Lab"}, [](tqs1::v1::Config& config) {
        for (tqs1::v1::SyncConfig& sync : *config.mutable_syncs()) {
          sync.set_fleet("c2");
          sync.set_canary(sync.name() == "c2-Lab");
        }
      });
  ASSERT_TRUE(env.ok()) << env.status();
  emulator::Fault refused =
      ::tqs1::testing::RulesFault(emulator::FaultKind::kServerError, "POST");
  refused.status = 400;
  (*env)->vendors().s1().server().InjectFault(refused);
  (*env)->supervisor().ReconcileAll(/*apply=*/true);
  EXPECT_EQ((*env)->vendors().ApiWrites(), 0);  // the canary's was refused

  // The canary passes: applied, planned again, then the others.
  (*env)->supervisor().ReconcileAll(/*apply=*/true);
  EXPECT_EQ((*env)->vendors().ApiWrites(), 9);
  absl::StatusOr<std::vector<tqs1::v1::SyncDrift>> drift =
      (*env)->supervisor().Drift({"c2-Lab"});
  ASSERT_TRUE(drift.ok()) << drift.status();
  EXPECT_TRUE((*drift)[0].in_sync());  // its verification observed it
}

TEST(ServerTest, GetDriftBeforeAndAfterAReconcile) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());

  tqs1::v1::SyncDrift before = GetDrift(*stub);
  EXPECT_EQ(before.sync_name(), kTestSync);
  EXPECT_FALSE(before.in_sync());
  EXPECT_FALSE(before.has_observed_at());
  EXPECT_EQ(before.last_error(), "");
  EXPECT_FALSE(before.has_last_attempt());

  env->supervisor().ReconcileAll(/*apply=*/false);
  tqs1::v1::SyncDrift after = GetDrift(*stub);
  EXPECT_FALSE(after.in_sync());
  EXPECT_EQ(after.missing(), 5u);
  EXPECT_EQ(after.extra(), 0u);
  EXPECT_EQ(after.conflicts(), 0u);
  EXPECT_EQ(after.observed_at().seconds(),
            absl::ToUnixSeconds(env->fake_clock().Now()));
  EXPECT_FALSE(after.has_last_successful_apply());
  EXPECT_EQ(after.last_error(), "");
  // Observing writes nothing.
  EXPECT_TRUE(env->vendors().s1().Events().empty());

  grpc::ClientContext context;
  tqs1::v1::GetDriftRequest request;
  request.add_syncs("no-such-sync");
  tqs1::v1::GetDriftResponse response;
  grpc::Status status = stub->GetDrift(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "unknown sync \"no-such-sync\"; this server's syncs are: "
            "\"c2-hq\"");
}

tqs1::v1::SyncDrift GetDriftWith(tqs1::v1::Tqs1::Stub& stub, bool refresh,
                                 absl::Duration max_age = {}) {
  grpc::ClientContext context;
  tqs1::v1::GetDriftRequest request;
  request.set_refresh(refresh);
  request.mutable_max_age()->set_seconds(absl::ToInt64Seconds(max_age));
  tqs1::v1::GetDriftResponse response;
  grpc::Status status = stub.GetDrift(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.syncs_size() == 1 ? response.syncs(0) : tqs1::v1::SyncDrift();
}

// Requests for indicator pages the ThreatQ emulator has answered.
int IndicatorQueries(ServerTestEnv& env) {
  int n = 0;
  for (const emulator::LoggedRequest& r :
       env.vendors().tq().server().Requests()) {
    n += r.path == "/api/indicators/query";
  }
  return n;
}

TEST(ServerTest, GetDriftObservesAgainWhenAskedOrTooOld) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  tqs1::v1::SyncDrift drift = GetDriftWith(*stub, /*refresh=*/true);
  EXPECT_EQ(drift.missing(), 5u);
  EXPECT_TRUE(drift.has_observed_at());
  EXPECT_EQ(drift.last_attempt().seconds(), drift.observed_at().seconds());

  // The collection changes: the drift says so only when asked.
  env->vendors().SetCollection(TestAddresses(7));
  EXPECT_EQ(GetDriftWith(*stub, false).missing(), 5u);
  EXPECT_EQ(GetDriftWith(*stub, false, absl::Hours(1)).missing(), 5u);
  env->fake_clock().Advance(absl::Hours(2));
  drift = GetDriftWith(*stub, false, absl::Hours(1));
  EXPECT_EQ(drift.missing(), 7u);
  EXPECT_EQ(drift.observed_at().seconds(),
            absl::ToUnixSeconds(env->fake_clock().Now()));

  // A failed attempt keeps the last good observation and says when it
  // failed.
  emulator::Fault down;
  down.kind = emulator::FaultKind::kServerError;
  down.status = 503;
  down.count = 1000;
  env->vendors().tq().server().InjectFault(down);
  env->fake_clock().Advance(absl::Minutes(5));
  tqs1::v1::SyncDrift failed = GetDriftWith(*stub, /*refresh=*/true);
  EXPECT_EQ(failed.missing(), 7u);
  EXPECT_EQ(failed.observed_at().seconds(), drift.observed_at().seconds());
  EXPECT_EQ(failed.last_attempt().seconds(),
            absl::ToUnixSeconds(env->fake_clock().Now()));
  EXPECT_NE(failed.last_error(), "");
}

TEST(ServerTest, ConcurrentRefreshesShareOneObservation) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  // The first page is slow, so the second caller arrives during the read.
  emulator::Fault slow;
  slow.kind = emulator::FaultKind::kDelay;
  slow.path_prefix = "/api/indicators/query";
  slow.delay = absl::Seconds(2);
  env->vendors().tq().server().InjectFault(slow);
  tqs1::v1::SyncDrift first, second;
  std::thread a([&] { first = GetDriftWith(*stub, /*refresh=*/true); });
  while (env->vendors().tq().server().PendingFaults() > 0) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  std::thread b([&] { second = GetDriftWith(*stub, /*refresh=*/true); });
  // The schedule loop's way in: its stop check asks the supervisor.
  SyncSupervisor& supervisor = env->supervisor();
  std::thread c([&supervisor] {
    supervisor.Observe(kTestSync,
                       [&supervisor] { return supervisor.shutting_down(); });
  });
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(first.missing(), 5u);
  EXPECT_EQ(second.missing(), 5u);
  EXPECT_EQ(IndicatorQueries(*env), 1);
}

TEST(ServerTest, AnApplyOfTheCliIsNoticedAndObserved) {
  const std::string last_run =
      absl::StrCat(::testing::TempDir(), "/cli-apply.last-run.json");
  std::remove(last_run.c_str());
  SupervisorOptions supervisor;
  supervisor.last_run_file = last_run;
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> started =
      ServerTestEnv::Start({}, supervisor);
  ASSERT_TRUE(started.ok()) << started.status();
  ServerTestEnv& env = **started;
  auto stub = tqs1::v1::Tqs1::NewStub(env.Channel());
  env.supervisor().ReconcileAll(/*apply=*/false);
  ASSERT_EQ(GetDrift(*stub).missing(), 5u);

  // `tqs1 apply` of the same state folder: the site changes, the record
  // says so.
  tqs1::v1::Rule rule = testing::BlockRule(
      reconciler::RuleName(testing::kCollection, 1),
      reconciler::DescriptionWithMarker("Blocked"), TestAddresses(5));
  env.vendors().s1().AddRule(tqs1::v1::RULE_SCOPE_SITE, testing::kSiteId, rule);
  const int queries = IndicatorQueries(env);
  tqs1::v1::LastRun record;
  record.set_command("plan");
  *record.mutable_finished() = ToTimestamp(absl::FromUnixSeconds(1767225600));
  tqs1::v1::SyncRun* run = record.add_syncs();
  run->set_name(kTestSync);
  run->set_outcome(tqs1::v1::SYNC_OUTCOME_APPLIED);
  run->set_rules_created(1);
  run->set_addresses_blocked(5);
  *run->mutable_finished() = record.finished();
  // Not an apply: nothing to look at.
  ASSERT_TRUE(config::SaveLastRun(last_run, record).ok());
  EXPECT_EQ(GetDrift(*stub).missing(), 5u);
  EXPECT_EQ(IndicatorQueries(env), queries);
  record.set_command("apply");
  ASSERT_TRUE(config::SaveLastRun(last_run, record).ok());
  tqs1::v1::SyncDrift drift = GetDrift(*stub);
  EXPECT_EQ(drift.missing(), 0u);
  EXPECT_EQ(drift.last_successful_apply().seconds(), 1767225600);
  // What the CLI's apply wrote, as its record says.
  EXPECT_EQ(drift.last_apply().rules_created(), 1u);
  EXPECT_EQ(drift.last_apply().addresses_blocked(), 5u);
  EXPECT_EQ(IndicatorQueries(env), queries + 1);
  // Seen once: the next answer does not read again.
  EXPECT_EQ(GetDrift(*stub).missing(), 0u);
  EXPECT_EQ(IndicatorQueries(env), queries + 1);
}

TEST(ServerTest, ARestartedServerReportsWhatItKept) {
  const std::string state_file =
      absl::StrCat(::testing::TempDir(), "/restart.serve-state.json");
  std::remove(state_file.c_str());
  SupervisorOptions supervisor;
  supervisor.state_file = state_file;
  tqs1::v1::SyncDrift kept;
  {
    absl::StatusOr<std::unique_ptr<ServerTestEnv>> env =
        ServerTestEnv::Start({}, supervisor);
    ASSERT_TRUE(env.ok()) << env.status();
    (*env)->supervisor().ReconcileAll(/*apply=*/true);
    kept = GetDrift(*tqs1::v1::Tqs1::NewStub((*env)->Channel()));
    ASSERT_TRUE(kept.has_last_successful_apply());
    // The server's own apply: its counts.
    EXPECT_EQ(kept.last_apply().outcome(), tqs1::v1::SYNC_OUTCOME_APPLIED);
    EXPECT_GE(kept.last_apply().rules_created(), 1u);
    EXPECT_EQ(kept.last_apply().addresses_blocked(), 5u);
  }
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> env =
      ServerTestEnv::Start({}, supervisor);
  ASSERT_TRUE(env.ok()) << env.status();
  auto stub = tqs1::v1::Tqs1::NewStub((*env)->Channel());
  // Before its first round: what the last one knew, said to be old.
  tqs1::v1::SyncDrift before = GetDrift(*stub);
  EXPECT_TRUE(before.from_before_restart());
  EXPECT_TRUE(before.in_sync());
  EXPECT_EQ(before.blocked(), 5u);
  EXPECT_EQ(before.observed_at().seconds(), kept.observed_at().seconds());
  EXPECT_EQ(before.last_successful_apply().seconds(),
            kept.last_successful_apply().seconds());
  EXPECT_EQ(before.last_apply().DebugString(), kept.last_apply().DebugString());
  EXPECT_EQ(CheckHealth((*env)->Channel(), "tqs1.ready").value_or("?"),
            "NOT_SERVING");
  // The first observation replaces it. (This env's emulators are new and
  // empty: the site blocks nothing.)
  (*env)->supervisor().ReconcileAll(/*apply=*/false);
  tqs1::v1::SyncDrift after = GetDrift(*stub);
  EXPECT_FALSE(after.from_before_restart());
  EXPECT_EQ(after.missing(), 5u);

  // A corrupt file is set aside with a warning, never a failed start.
  { std::ofstream(state_file) << "{not json"; }
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> third =
      ServerTestEnv::Start({}, supervisor);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE(GetDrift(*tqs1::v1::Tqs1::NewStub((*third)->Channel()))
                   .has_observed_at());
}

TEST(ServerTest, AnApplyOfAPlanFileIsCheckedBeforeAnything) {
  auto apply = [](ServerTestEnv& env, const tqs1::v1::ApplyRequest& request) {
    grpc::ClientContext context;
    WithToken(context, kToken);
    tqs1::v1::ApplyResponse response;
    return tqs1::v1::Tqs1::NewStub(env.Channel())
        ->Apply(&context, request, &response);
  };
  ServeOptions keyed;
  keyed.plan_key = std::string(32, 'k');
  std::unique_ptr<ServerTestEnv> env = StartEnv(keyed);
  ASSERT_NE(env, nullptr);
  // Plan returns a file signed with the server's key.
  grpc::ClientContext context;
  tqs1::v1::PlanResponse planned;
  ASSERT_TRUE(tqs1::v1::Tqs1::NewStub(env->Channel())
                  ->Plan(&context, {}, &planned)
                  .ok());
  ASSERT_NE(planned.plan_file(), "");
  EXPECT_THAT(planned.plan_file(), HasSubstr("\"signature\""));

  tqs1::v1::ApplyRequest request;
  request.set_plan_file(planned.plan_file());
  request.add_syncs(kTestSync);
  grpc::Status status = apply(*env, request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("send neither with it"));
  request.clear_syncs();
  request.set_plan_file("{\"plans\": [");
  EXPECT_EQ(apply(*env, request).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Signed by another server: refused whole.
  ServeOptions other;
  other.plan_key = std::string(32, 'o');
  std::unique_ptr<ServerTestEnv> elsewhere = StartEnv(other);
  ASSERT_NE(elsewhere, nullptr);
  request.set_plan_file(planned.plan_file());
  status = apply(*elsewhere, request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("another tqs1 instance"));
  // A server without a key takes no plan file.
  std::unique_ptr<ServerTestEnv> keyless = StartEnv();
  ASSERT_NE(keyless, nullptr);
  status = apply(*keyless, request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("has no plan key"));
  EXPECT_TRUE(env->vendors().s1().Events().empty());
  EXPECT_TRUE(elsewhere->vendors().s1().Events().empty());
  EXPECT_TRUE(keyless->vendors().s1().Events().empty());
}

TEST(ServerTest, PlanReturnsThePlanAndChangesNothing) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  grpc::ClientContext context;
  tqs1::v1::PlanRequest request;
  *request.mutable_options() = TestPlanOptions();
  tqs1::v1::PlanResponse response;
  grpc::Status status = stub->Plan(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.plans_size(), 1);
  const tqs1::v1::SyncPlan& plan = response.plans(0);
  EXPECT_EQ(plan.sync_name(), kTestSync);
  EXPECT_EQ(plan.error(), "");
  EXPECT_EQ(plan.plan().summary().creates(), 3u);  // 5 addresses, 2 a rule
  EXPECT_EQ(plan.plan().summary().newly_blocked(), 5u);
  EXPECT_TRUE(env->vendors().s1().Events().empty());
  // A plan with the server's options is an observation.
  EXPECT_EQ(GetDrift(*stub).missing(), 5u);
}

TEST(ServerTest, ApplyNeedsTheRightToken) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  struct Case {
    const char* name;
    std::string header;  // empty: no metadata
    grpc::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {"no token", "", grpc::StatusCode::UNAUTHENTICATED,
       "missing bearer token (send metadata \"authorization: Bearer "
       "<token>\")"},
      {"not bearer", "Basic dXNlcjpwdw==", grpc::StatusCode::UNAUTHENTICATED,
       "missing bearer token (send metadata \"authorization: Bearer "
       "<token>\")"},
      {"wrong token", "Bearer nope", grpc::StatusCode::PERMISSION_DENIED,
       "invalid bearer token"},
      {"a prefix of it", "Bearer correct-horse",
       grpc::StatusCode::PERMISSION_DENIED, "invalid bearer token"},
      {"right token", std::string("Bearer ") + kToken, grpc::StatusCode::OK,
       ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::ClientContext context;
    if (!c.header.empty()) context.AddMetadata("authorization", c.header);
    tqs1::v1::ApplyRequest request;
    *request.mutable_options() = TestPlanOptions();
    tqs1::v1::ApplyResponse response;
    grpc::Status status = stub->Apply(&context, request, &response);
    EXPECT_EQ(status.error_code(), c.code);
    EXPECT_EQ(status.error_message(), c.message);
    // Nothing about the config in a refusal.
    EXPECT_THAT(status.error_message(), Not(HasSubstr(kTestSync)));
    if (c.code != grpc::StatusCode::OK) {
      EXPECT_TRUE(env->vendors().s1().Events().empty());
    }
  }
}

TEST(ServerTest, ApplyAppliesAndTheDriftFollows) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  env->fake_clock().Advance(absl::Minutes(1));
  grpc::ClientContext context;
  WithToken(context, kToken);
  tqs1::v1::ApplyRequest request;
  *request.mutable_options() = TestPlanOptions();
  tqs1::v1::ApplyResponse response;
  grpc::Status status = stub->Apply(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).error(), "");
  EXPECT_EQ(response.results(0).report().created(), 3u);
  EXPECT_EQ(env->vendors().BlockedAddresses(), TestAddresses(5));

  tqs1::v1::SyncDrift drift = GetDrift(*stub);
  EXPECT_TRUE(drift.in_sync());
  EXPECT_EQ(drift.missing(), 0u);
  EXPECT_EQ(drift.last_successful_apply().seconds(),
            absl::ToUnixSeconds(env->fake_clock().Now()));

  // The next observation agrees.
  env->supervisor().ReconcileAll(/*apply=*/false);
  EXPECT_TRUE(GetDrift(*stub).in_sync());
}

TEST(ServerTest, ScheduledApplyConvergesAndKeepsDriftOnSourceFailure) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  env->supervisor().ReconcileAll(/*apply=*/true);
  EXPECT_EQ(env->vendors().BlockedAddresses(), TestAddresses(5));
  const size_t writes = env->vendors().s1().Events().size();

  // ThreatQ fails: no plan, nothing unblocked, the last good drift stays.
  emulator::Fault fault;
  fault.kind = emulator::FaultKind::kServerError;
  fault.status = 503;
  fault.count = 1000;
  env->vendors().tq().server().InjectFault(fault);
  env->supervisor().ReconcileAll(/*apply=*/true);
  EXPECT_EQ(env->vendors().s1().Events().size(), writes);
  EXPECT_EQ(env->vendors().BlockedAddresses(), TestAddresses(5));
  tqs1::v1::SyncDrift drift = GetDrift(*stub);
  EXPECT_TRUE(drift.in_sync());
  EXPECT_NE(drift.last_error(), "");
}

TEST(ServerTest, WatchDriftSeesAChangeOnTheEmulatorAndEndsOnCancel) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  env->supervisor().ReconcileAll(/*apply=*/true);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());

  grpc::ClientContext context;
  auto reader = stub->WatchDrift(&context, {});
  tqs1::v1::DriftEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.drift().sync_name(), kTestSync);
  EXPECT_TRUE(event.drift().in_sync());

  // An unchanged observation sends nothing; a changed collection does.
  env->supervisor().ReconcileAll(/*apply=*/false);
  std::vector<std::string> more = TestAddresses(7);
  more.erase(more.begin());  // one gone, two new
  env->vendors().SetCollection(more);
  env->supervisor().ReconcileAll(/*apply=*/false);
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_FALSE(event.drift().in_sync());
  EXPECT_EQ(event.drift().missing(), 2u);
  EXPECT_EQ(event.drift().extra(), 1u);

  context.TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(ServerTest, WatchDriftEndsCleanlyOnShutdown) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  grpc::ClientContext context;
  auto reader = stub->WatchDrift(&context, {});
  tqs1::v1::DriftEvent event;
  ASSERT_TRUE(reader->Read(&event));
  std::thread stopper([&env] { env->server().Shutdown(); });
  while (reader->Read(&event)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  stopper.join();
}

TEST(ServerTest, ASecondApplyIsAborted) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  auto apply = [&stub] {
    grpc::ClientContext context;
    WithToken(context, kToken);
    tqs1::v1::ApplyRequest request;
    *request.mutable_options() = TestPlanOptions();
    tqs1::v1::ApplyResponse response;
    return stub->Apply(&context, request, &response);
  };
  {
    // An apply of this server holds the sync.
    absl::StatusOr<ApplyReservation> held =
        env->supervisor().ReserveApply({kTestSync});
    ASSERT_TRUE(held.ok()) << held.status();
    grpc::Status status = apply();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
    EXPECT_EQ(status.error_message(),
              "an apply of sync \"c2-hq\" is already running on this server; "
              "try again when it has finished");
  }
  {
    // A CLI apply holds the instance's lock file.
    absl::StatusOr<config::ApplyLock> cli_lock =
        config::ApplyLock::Acquire(env->lock_file());
    ASSERT_TRUE(cli_lock.ok()) << cli_lock.status();
    grpc::Status status = apply();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
    EXPECT_EQ(status.error_message(),
              "another tqs1 apply of this instance is running (a `tqs1 "
              "apply` or another server); try again when it has finished");
    EXPECT_THAT(status.error_message(), Not(HasSubstr(env->lock_file())));
  }
  EXPECT_TRUE(env->vendors().s1().Events().empty());
  // Free again.
  EXPECT_TRUE(apply().ok());
  // While the server applies, a CLI apply cannot take the lock.
  absl::StatusOr<ApplyReservation> held =
      env->supervisor().ReserveApply({kTestSync});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(config::ApplyLock::Acquire(env->lock_file()).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(ServerTest, ShutdownStopsAnApplyBetweenWrites) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  absl::StatusOr<ApplyReservation> reservation =
      env->supervisor().ReserveApply({kTestSync});
  ASSERT_TRUE(reservation.ok());
  int checks = 0;
  absl::StatusOr<ApplyOutcome> outcome =
      env->supervisor().Apply(*reservation, kTestSync, TestPlanOptions(), [&] {
        // SIGTERM arrives while the first write is under way.
        if (++checks == 1) env->supervisor().Shutdown();
        return false;
      });
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(env->vendors().s1().Events().size(), 1u);
  EXPECT_EQ(env->vendors().BlockedAddresses().size(), 2u);
}

TEST(ServerTest, HealthFollowsThreatQ) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  std::shared_ptr<grpc::Channel> channel = env->Channel();
  const std::string sync_service = SyncHealthName(kTestSync);
  // Alive at once; not ready before the first reconcile.
  EXPECT_EQ(CheckHealth(channel, "").value_or("?"), "SERVING");
  EXPECT_EQ(CheckHealth(channel, "tqs1.live").value_or("?"), "SERVING");
  EXPECT_EQ(CheckHealth(channel, "tqs1.ready").value_or("?"), "NOT_SERVING");
  EXPECT_EQ(CheckHealth(channel, sync_service).value_or("?"), "NOT_SERVING");

  env->supervisor().ReconcileAll(/*apply=*/false);
  EXPECT_EQ(CheckHealth(channel, "tqs1.ready").value_or("?"), "SERVING");
  EXPECT_EQ(CheckHealth(channel, "tqs1.v1.Tqs1").value_or("?"), "SERVING");
  EXPECT_EQ(CheckHealth(channel, sync_service).value_or("?"), "SERVING");

  FailEveryCall(env->vendors().tq().server());
  env->supervisor().ReconcileAll(/*apply=*/false);
  EXPECT_EQ(CheckHealth(channel, "tqs1.ready").value_or("?"), "NOT_SERVING");
  EXPECT_EQ(CheckHealth(channel, sync_service).value_or("?"), "NOT_SERVING");
  // A ThreatQ outage is no reason to restart the server.
  EXPECT_EQ(CheckHealth(channel, "").value_or("?"), "SERVING");
  EXPECT_EQ(CheckHealth(channel, "tqs1.live").value_or("?"), "SERVING");
  auto statuses = env->supervisor().Statuses();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_FALSE(statuses[0].second.source_reachable);
  EXPECT_EQ(statuses[0].second.drift.missing(), 5u);  // last known good

  env->vendors().tq().server().ClearFaults();
  env->supervisor().ReconcileAll(/*apply=*/false);
  EXPECT_EQ(CheckHealth(channel, "tqs1.ready").value_or("?"), "SERVING");
  EXPECT_EQ(CheckHealth(channel, sync_service).value_or("?"), "SERVING");
  EXPECT_EQ(CheckHealth(channel, "tqs1.sync/nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ServerTest, LivenessFollowsTheScheduleLoop) {
  ServeOptions serve;
  // The loop turns once, at start, then not for an hour.
  serve.cli_apply_poll = absl::Hours(1);
  serve.loop_stall = absl::Milliseconds(200);
  serve.health_poll = absl::Milliseconds(10);
  std::unique_ptr<ServerTestEnv> env = StartEnv(serve);
  ASSERT_NE(env, nullptr);
  std::shared_ptr<grpc::Channel> channel = env->Channel();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (CheckHealth(channel, "tqs1.live").value_or("?") == "SERVING" &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(CheckHealth(channel, "tqs1.live").value_or("?"), "NOT_SERVING");
  EXPECT_EQ(CheckHealth(channel, "").value_or("?"), "NOT_SERVING");
}

TEST(SyncHealthNameTest, SlugsSafeOnACommandLine) {
  EXPECT_EQ(SyncHealthName("c2-hq"), "tqs1.sync/c2-hq");
  EXPECT_EQ(SyncHealthName("Known C2 IPs -> HQ"), "tqs1.sync/known-c2-ips-hq");
  EXPECT_EQ(SyncHealthName("  Botnet/Branch #2 "), "tqs1.sync/botnet-branch-2");
  EXPECT_EQ(SyncHealthName("->"), "tqs1.sync/sync");
}

std::map<std::string, double> ParseMetrics(const std::string& page) {
  std::map<std::string, double> out;
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &value)) << line;
    out[std::string(line.substr(0, space))] = value;
  }
  return out;
}

TEST(ServerTest, MetricsPage) {
  ServeOptions serve;
  serve.metrics_listen = "127.0.0.1:0";
  std::unique_ptr<ServerTestEnv> env = StartEnv(serve);
  ASSERT_NE(env, nullptr);
  ASSERT_GT(env->server().metrics_port(), 0);
  env->supervisor().ReconcileAll(/*apply=*/false);

  httplib::Client http("127.0.0.1", env->server().metrics_port());
  httplib::Result result = http.Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_THAT(result->get_header_value("Content-Type"),
              HasSubstr("text/plain"));
  std::map<std::string, double> m = ParseMetrics(result->body);
  EXPECT_EQ(m["tqs1_sync_addresses_desired{sync=\"c2-hq\"}"], 5);
  EXPECT_EQ(m["tqs1_sync_addresses_blocked{sync=\"c2-hq\"}"], 0);
  EXPECT_EQ(m["tqs1_sync_addresses_missing{sync=\"c2-hq\"}"], 5);
  EXPECT_EQ(m["tqs1_sync_addresses_extra{sync=\"c2-hq\"}"], 0);
  EXPECT_EQ(m["tqs1_sync_healthy{sync=\"c2-hq\"}"], 1);
  EXPECT_EQ(m["tqs1_sync_last_success_timestamp_seconds{sync=\"c2-hq\"}"],
            absl::ToUnixSeconds(env->fake_clock().Now()));
  EXPECT_EQ(m["tqs1_sync_reconciles_total{sync=\"c2-hq\",result=\"ok\"}"], 1);
  EXPECT_EQ(m["tqs1_api_calls_total{vendor=\"threatq\",operation=\"read_"
              "collection\",code=\"OK\"}"],
            1);
  EXPECT_EQ(m["tqs1_api_calls_total{vendor=\"sentinelone\",operation=\"read_"
              "site\",code=\"OK\"}"],
            1);
  EXPECT_EQ(http.Get("/other")->status, 404);
}

// What the alert rules need (monitoring/tqs1.rules.yml): how many rounds a
// drift has lasted, whether ThreatQ answered, when the console's token
// expires.
TEST(ServerTest, MetricsForAlerts) {
  WithMetrics server = StartEnvWithMetrics();
  ASSERT_NE(server.env, nullptr);
  ServerTestEnv* env = server.env.get();
  auto metrics = [&server] {
    httplib::Result result = server.http->Get("/metrics");
    EXPECT_TRUE(result);
    return result ? ParseMetrics(result->body)
                  : std::map<std::string, double>();
  };
  const std::string rounds = "tqs1_sync_drift_rounds{sync=\"c2-hq\"}";
  const std::string reachable = "tqs1_sync_source_reachable{sync=\"c2-hq\"}";
  const std::string expiry = "tqs1_sentinelone_token_expiry_timestamp_seconds";
  EXPECT_EQ(metrics().count(expiry), 0u);  // not asked yet

  env->supervisor().ReconcileAll(/*apply=*/false);
  std::map<std::string, double> m = metrics();
  EXPECT_EQ(m[rounds], 1);
  EXPECT_EQ(m[reachable], 1);
  // The emulator's token expires 180 days from now.
  ASSERT_EQ(m.count(expiry), 1u);
  EXPECT_NEAR(m[expiry],
              absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 180)), 600);

  FailEveryCall(env->vendors().tq().server());
  env->supervisor().ReconcileAll(/*apply=*/false);
  m = metrics();
  EXPECT_EQ(m[reachable], 0);
  EXPECT_EQ(m[rounds], 1);  // a failed read says nothing of the drift
  env->vendors().tq().server().ClearFaults();

  env->supervisor().ReconcileAll(/*apply=*/false);
  EXPECT_EQ(metrics()[rounds], 2);
  env->supervisor().ReconcileAll(/*apply=*/true);
  m = metrics();
  EXPECT_EQ(m[rounds], 0);
  EXPECT_EQ(m[reachable], 1);
  env->supervisor().ReconcileAll(/*apply=*/false);
  EXPECT_EQ(metrics()[rounds], 0);  // in sync
}

// ThreatQ answered even when the sync failed later, at SentinelOne: the
// alert on ThreatQ stays quiet.
TEST(ServerTest, ThreatQReachableWhenSentinelOneFails) {
  std::unique_ptr<ServerTestEnv> env = StartEnv();
  ASSERT_NE(env, nullptr);
  FailEveryCall(env->vendors().s1().server());
  env->supervisor().ReconcileAll(/*apply=*/false);
  auto statuses = env->supervisor().Statuses();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_FALSE(statuses[0].second.healthy);
  EXPECT_TRUE(statuses[0].second.source_reachable);
}

// The HTTP probes say what the gRPC health service says.
TEST(ServerTest, HealthzAndReadyz) {
  WithMetrics server = StartEnvWithMetrics();
  ASSERT_NE(server.env, nullptr);
  ServerTestEnv* env = server.env.get();
  httplib::Client& http = *server.http;
  httplib::Result live = http.Get("/healthz");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(live->body, "ok\n");
  httplib::Result ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, "sync \"c2-hq\": not observed yet\n");

  env->supervisor().ReconcileAll(/*apply=*/false);
  ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ok\n");

  FailEveryCall(env->vendors().tq().server());
  env->supervisor().ReconcileAll(/*apply=*/false);
  ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_THAT(ready->body,
              HasSubstr("sync \"c2-hq\": its last reconcile failed"));
  // A ThreatQ outage is no reason to restart the server.
  EXPECT_EQ(http.Get("/healthz")->status, 200);
}

TEST(ServerTest, HealthzFailsWhenTheScheduleLoopStalls) {
  ServeOptions serve;
  serve.cli_apply_poll = absl::Hours(1);
  serve.loop_stall = absl::Milliseconds(200);
  WithMetrics server = StartEnvWithMetrics(serve);
  ASSERT_NE(server.env, nullptr);
  httplib::Client& http = *server.http;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  httplib::Result live = http.Get("/healthz");
  while (live && live->status == 200 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    live = http.Get("/healthz");
  }
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 503);
  EXPECT_THAT(live->body, HasSubstr("the schedule loop has not turned for"));
}

// Drift and metrics weigh address space beside entries, and say what a
// managed rule disabled in the console leaves unenforced, in sync or not.
TEST(ServerTest, DriftAndMetricsShowAddressSpaceAndDisabledRules) {
  ServeOptions serve;
  serve.metrics_listen = "127.0.0.1:0";
  std::unique_ptr<ServerTestEnv> env = StartEnv(serve);
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  env->supervisor().ReconcileAll(/*apply=*/true);
  ASSERT_EQ(env->vendors().BlockedAddresses(), TestAddresses(5));

  // By hand in the console: a managed rule gains a /26 the collection does
  // not hold, and another managed rule is disabled.
  std::vector<tqs1::v1::Rule> rules =
      env->vendors().s1().Rules(tqs1::v1::RULE_SCOPE_SITE, testing::kSiteId);
  ASSERT_EQ(rules.size(), 3u);
  tqs1::v1::Rule extra = rules[0];
  extra.clear_id();
  extra.set_name(absl::StrCat(testing::kCollection, " (9)"));
  extra.clear_remote_hosts();
  tqs1::v1::HostSet* cidr = extra.add_remote_hosts();
  cidr->set_type("cidr");
  cidr->add_values("203.0.113.0/26");
  env->vendors().s1().AddRule(tqs1::v1::RULE_SCOPE_SITE, testing::kSiteId,
                              extra);
  const std::string disabled_id = rules[1].id();
  ASSERT_TRUE(
      env->vendors()
          .s1()
          .ModifyRule(disabled_id,
                      [](nlohmann::json& rule) { rule["status"] = "Disabled"; })
          .ok());

  env->supervisor().ReconcileAll(/*apply=*/false);
  tqs1::v1::SyncDrift drift = GetDrift(*stub);
  EXPECT_FALSE(drift.in_sync());
  EXPECT_EQ(drift.blocked(), 6u);
  EXPECT_EQ(drift.blocked_ipv4_addresses(), 5u + 64u);
  EXPECT_EQ(drift.blocked_ipv6_networks(), 0u);
  EXPECT_EQ(drift.extra(), 1u);
  EXPECT_EQ(drift.extra_ipv4_addresses(), 64u);
  EXPECT_EQ(drift.missing(), 0u);
  EXPECT_EQ(drift.missing_ipv4_addresses(), 0u);
  EXPECT_EQ(drift.disabled_rules(), 1u);
  EXPECT_EQ(drift.not_enforced(),
            static_cast<uint64_t>(rules[1].remote_hosts(0).values_size()));
  EXPECT_EQ(drift.not_enforced_ipv4_addresses(), drift.not_enforced());

  httplib::Client http("127.0.0.1", env->server().metrics_port());
  httplib::Result result = http.Get("/metrics");
  ASSERT_TRUE(result);
  std::map<std::string, double> m = ParseMetrics(result->body);
  EXPECT_EQ(m["tqs1_sync_ipv4_addresses_blocked{sync=\"c2-hq\"}"], 69);
  EXPECT_EQ(m["tqs1_sync_ipv4_addresses_extra{sync=\"c2-hq\"}"], 64);
  EXPECT_EQ(m["tqs1_sync_addresses_extra{sync=\"c2-hq\"}"], 1);
  EXPECT_EQ(m["tqs1_sync_disabled_rules{sync=\"c2-hq\"}"], 1);
  EXPECT_EQ(m["tqs1_sync_addresses_not_enforced{sync=\"c2-hq\"}"],
            drift.not_enforced());
  EXPECT_EQ(m.count("tqs1_sync_ipv6_networks_blocked{sync=\"c2-hq\"}"), 1u);

  // The apply removes the /26 and leaves the disabled rule disabled: in
  // sync, and still saying it.
  env->supervisor().ReconcileAll(/*apply=*/true);
  drift = GetDrift(*stub);
  EXPECT_TRUE(drift.in_sync()) << drift.last_error();
  EXPECT_EQ(drift.blocked(), 5u);
  EXPECT_EQ(drift.blocked_ipv4_addresses(), 5u);
  EXPECT_EQ(drift.extra_ipv4_addresses(), 0u);
  EXPECT_EQ(drift.disabled_rules(), 1u);
  EXPECT_EQ(env->vendors().BlockedAddresses(), TestAddresses(5));
  // The next observation agrees.
  env->supervisor().ReconcileAll(/*apply=*/false);
  tqs1::v1::SyncDrift again = GetDrift(*stub);
  EXPECT_TRUE(again.in_sync());
  EXPECT_EQ(again.blocked_ipv4_addresses(), 5u);
  EXPECT_EQ(again.disabled_rules(), 1u);
  EXPECT_EQ(again.not_enforced(), drift.not_enforced());
  for (const tqs1::v1::Rule& rule :
       env->vendors().s1().Rules(tqs1::v1::RULE_SCOPE_SITE, testing::kSiteId)) {
    EXPECT_EQ(rule.enabled(), rule.id() != disabled_id) << rule.name();
  }
}

TEST(ServerTest, DriftAndMetricsShowTheFirewallConfiguration) {
  ServeOptions serve;
  serve.metrics_listen = "127.0.0.1:0";
  std::unique_ptr<ServerTestEnv> env = StartEnv(serve);
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  httplib::Client http("127.0.0.1", env->server().metrics_port());
  auto metrics = [&http] {
    httplib::Result result = http.Get("/metrics");
    EXPECT_TRUE(result);
    return result ? ParseMetrics(result->body)
                  : std::map<std::string, double>();
  };

  env->supervisor().ReconcileAll(/*apply=*/false);
  tqs1::v1::SyncDrift drift = GetDrift(*stub);
  EXPECT_TRUE(drift.firewall().known());
  EXPECT_TRUE(drift.firewall().enabled());
  EXPECT_TRUE(drift.warnings().empty());
  std::map<std::string, double> m = metrics();
  EXPECT_EQ(m["tqs1_sync_firewall_known{sync=\"c2-hq\"}"], 1);
  EXPECT_EQ(m["tqs1_sync_firewall_disabled{sync=\"c2-hq\"}"], 0);
  EXPECT_EQ(m["tqs1_sync_firewall_inherited{sync=\"c2-hq\"}"], 0);
  EXPECT_EQ(m["tqs1_sync_warnings{sync=\"c2-hq\"}"], 0);

  // Disabled in the console, inheriting the account's policy.
  sentinelone::EmulatedFirewallConfig firewall;
  firewall.enabled = false;
  firewall.inherited_from = "Account";
  firewall.inherits = true;
  ASSERT_TRUE(
      env->vendors().s1().SetFirewallConfig(testing::kSiteId, firewall).ok());
  env->supervisor().ReconcileAll(/*apply=*/true);
  drift = GetDrift(*stub);
  EXPECT_TRUE(drift.firewall().known());
  EXPECT_FALSE(drift.firewall().enabled());
  EXPECT_EQ(drift.firewall().inherited_from(), "Account");
  ASSERT_FALSE(drift.warnings().empty());
  EXPECT_THAT(drift.warnings(0), HasSubstr("Account"));
  // The guard kept the apply from writing rules nothing would enforce.
  EXPECT_TRUE(env->vendors().BlockedAddresses().empty());
  m = metrics();
  EXPECT_EQ(m["tqs1_sync_firewall_disabled{sync=\"c2-hq\"}"], 1);
  EXPECT_EQ(m["tqs1_sync_firewall_inherited{sync=\"c2-hq\"}"], 1);
  EXPECT_EQ(m["tqs1_sync_warnings{sync=\"c2-hq\"}"], drift.warnings_size());
  // The guard trip is its own result, not an error, with a gauge of its own.
  EXPECT_EQ(
      m["tqs1_sync_guard_tripped{sync=\"c2-hq\",guard=\"firewall-disabled\"}"],
      1);
  EXPECT_EQ(m["tqs1_sync_guard_tripped{sync=\"c2-hq\",guard=\"empty-source\"}"],
            0);
  EXPECT_EQ(
      m["tqs1_sync_applies_total{sync=\"c2-hq\",result=\"guard_blocked\"}"], 1);
  EXPECT_EQ(m["tqs1_sync_applies_total{sync=\"c2-hq\",result=\"error\"}"], 0);
  EXPECT_EQ(m["tqs1_sync_reconciles_total{sync=\"c2-hq\",result=\"error\"}"],
            0);
  EXPECT_EQ(m["tqs1_sync_healthy{sync=\"c2-hq\"}"], 1);
  // One plan before and one apply (with its plan) after: durations of each.
  EXPECT_EQ(m["tqs1_sync_reconcile_duration_seconds_count{sync=\"c2-hq\"}"], 2);
  EXPECT_EQ(m["tqs1_sync_reconcile_duration_seconds_bucket{sync=\"c2-hq\",le="
              "\"+Inf\"}"],
            2);
  EXPECT_EQ(m["tqs1_sync_apply_duration_seconds_count{sync=\"c2-hq\"}"], 1);
}

TEST(RenderMetricsTest, BuildInfoAndRejectedValues) {
  SyncStatus status;
  status.rejected_values = 3;
  status.reconcile_duration.Observe(absl::Milliseconds(700));
  status.reconcile_duration.Observe(absl::Seconds(2000));
  const std::string page = RenderMetrics({{"s", status}}, {});
  EXPECT_THAT(page, HasSubstr(absl::StrCat("tqs1_build_info{version=\"",
                                           cli::kVersion, "\",commit=\"")));
  EXPECT_THAT(page, HasSubstr("tqs1_sync_rejected_values{sync=\"s\"} 3\n"));
  EXPECT_THAT(page, HasSubstr("tqs1_sync_reconcile_duration_seconds_bucket{"
                              "sync=\"s\",le=\"0.5\"} 0\n"));
  EXPECT_THAT(page, HasSubstr("tqs1_sync_reconcile_duration_seconds_bucket{"
                              "sync=\"s\",le=\"1\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("tqs1_sync_reconcile_duration_seconds_bucket{"
                              "sync=\"s\",le=\"900\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("tqs1_sync_reconcile_duration_seconds_bucket{"
                              "sync=\"s\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(page, HasSubstr("tqs1_sync_reconcile_duration_seconds_count{"
                              "sync=\"s\"} 2\n"));
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(ServerTest, TlsWithATestCa) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  absl::StatusOr<emulator::TestCertificates> certs =
      emulator::GenerateTestCertificates(dir);
  ASSERT_TRUE(certs.ok()) << certs.status();
  ServeOptions serve;
  serve.tls_cert_file = certs->cert_file;
  serve.tls_key_file = certs->key_file;
  std::unique_ptr<ServerTestEnv> env = StartEnv(serve);
  ASSERT_NE(env, nullptr);
  const std::string target = absl::StrCat("localhost:", env->server().port());

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(certs->ca_file);
  auto secure = tqs1::v1::Tqs1::NewStub(
      grpc::CreateChannel(target, grpc::SslCredentials(ssl)));
  EXPECT_EQ(GetDrift(*secure).sync_name(), kTestSync);

  // Plaintext to a TLS server fails.
  auto plain = tqs1::v1::Tqs1::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  tqs1::v1::GetDriftResponse response;
  EXPECT_EQ(plain->GetDrift(&context, {}, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(ServerTest, ReadsNeedTheTokenWhenRequired) {
  ServeOptions serve;
  serve.require_token_for_reads = true;  // as on a non-loopback address
  std::unique_ptr<ServerTestEnv> env = StartEnv(serve);
  ASSERT_NE(env, nullptr);
  auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
  {
    grpc::ClientContext context;
    tqs1::v1::GetDriftResponse response;
    grpc::Status status = stub->GetDrift(&context, {}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    WithToken(context, "wrong");
    tqs1::v1::PlanResponse response;
    grpc::Status status = stub->Plan(&context, {}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(status.error_message(), "invalid bearer token");
  }
  {
    grpc::ClientContext context;
    WithToken(context, kToken);
    tqs1::v1::GetDriftResponse response;
    EXPECT_TRUE(stub->GetDrift(&context, {}, &response).ok());
  }
  // Health stays open to probes.
  EXPECT_TRUE(CheckHealth(env->Channel(), "").ok());
}

TEST(ServerTest, ClientCertificatesWhenAClientCaIsGiven) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/mtls");
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  absl::StatusOr<emulator::TestCertificates> certs =
      emulator::GenerateTestCertificates(dir);
  ASSERT_TRUE(certs.ok()) << certs.status();
  // A client certificate signed by the same test CA.
  const std::string make_client = absl::StrCat(
      "cd ", dir,
      " && printf 'extendedKeyUsage=clientAuth\\n' > client.ext"
      " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
      "-nodes -keyout client.key -out client.csr -subj /CN=tqs1-client "
      ">/dev/null 2>&1"
      " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -days 2 -extfile client.ext -out client.pem "
      ">/dev/null 2>&1");
  ASSERT_EQ(std::system(make_client.c_str()), 0);
  ServeOptions serve;
  serve.tls_cert_file = certs->cert_file;
  serve.tls_key_file = certs->key_file;
  serve.tls_client_ca_file = certs->ca_file;
  std::unique_ptr<ServerTestEnv> env = StartEnv(serve);
  ASSERT_NE(env, nullptr);
  const std::string target = absl::StrCat("localhost:", env->server().port());
  auto get_drift = [&](bool with_cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(certs->ca_file);
    if (with_cert) {
      ssl.pem_cert_chain = ReadFile(dir + "/client.pem");
      ssl.pem_private_key = ReadFile(dir + "/client.key");
    }
    auto stub = tqs1::v1::Tqs1::NewStub(
        grpc::CreateChannel(target, grpc::SslCredentials(ssl)));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    tqs1::v1::GetDriftResponse response;
    return stub->GetDrift(&context, {}, &response).error_code();
  };
  EXPECT_EQ(get_drift(true), grpc::StatusCode::OK);
  EXPECT_EQ(get_drift(false), grpc::StatusCode::UNAVAILABLE);
}

TEST(ServerTest, APortInUseIsAnError) {
  absl::StatusOr<std::unique_ptr<ServerTestEnv>> env =
      ServerTestEnv::Start(ServeOptions());
  ASSERT_TRUE(env.ok()) << env.status();
  const std::string listen =
      absl::StrCat("127.0.0.1:", (*env)->server().port());
  ServeOptions serve;
  serve.listen = listen;
  absl::StatusOr<std::unique_ptr<Tqs1Server>> second =
      Tqs1Server::Start(serve, {}, {}, {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            absl::StrCat("cannot listen on ", listen,
                         ": the address is in use (another tqs1 serve?) or "
                         "not an address of this machine"));
}

TEST(ServerTest, NonLoopbackNeedsTlsAndToken) {
  ServeOptions serve;
  serve.listen = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<Tqs1Server>> server =
      Tqs1Server::Start(serve, {}, {}, {});
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server.status().message(),
            "listening on 0.0.0.0:0 (not loopback) needs TLS (--tls-cert and "
            "--tls-key) and a token (--token-file or --token-env)");
}

TEST(ServerTest, TheScheduleRunsAtOnceAndStopsPromptly) {
  ServeOptions serve;
  serve.interval = absl::Hours(1);
  serve.apply_on_schedule = true;
  serve.jitter_seed = 7;
  std::unique_ptr<ServerTestEnv> env = StartEnv(serve);
  ASSERT_NE(env, nullptr);
  // The first round starts right away (bounded polling: 10 s).
  for (int i = 0;
       i < 1000 && env->supervisor().Statuses()[0].second.applies_ok == 0;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(env->supervisor().Statuses()[0].second.applies_ok, 1u);
  EXPECT_EQ(env->vendors().BlockedAddresses(), TestAddresses(5));
  // The hour-long pause does not hold up a shutdown.
  const absl::Time start = absl::Now();
  env->server().Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(RenderMetricsTest, EscapesLabelsAndIsDeterministic) {
  SyncStatus status;
  status.addresses_desired = 3;
  std::map<ApiCallKey, uint64_t> calls = {
      {{"threatq", "read_collection", "UNAVAILABLE"}, 2}};
  const std::string page = RenderMetrics({{"a \"b\"\\c\nd", status}}, calls);
  EXPECT_THAT(page, HasSubstr("tqs1_sync_addresses_desired{sync=\"a "
                              "\\\"b\\\"\\\\c\\nd\"} 3\n"));
  EXPECT_THAT(page, HasSubstr("# TYPE tqs1_api_calls_total counter\n"));
  EXPECT_THAT(page,
              HasSubstr("tqs1_api_calls_total{vendor=\"threatq\","
                        "operation=\"read_collection\",code=\"UNAVAILABLE\"} "
                        "2\n"));
  EXPECT_EQ(page, RenderMetrics({{"a \"b\"\\c\nd", status}}, calls));
}

TEST(ServerTest, JitteredIntervalIsSeededAndBounded) {
  std::mt19937_64 a(42), b(42);
  for (int i = 0; i < 100; ++i) {
    absl::Duration d = JitteredInterval(absl::Minutes(10), 0.1, a);
    EXPECT_EQ(d, JitteredInterval(absl::Minutes(10), 0.1, b));
    EXPECT_GE(d, absl::Minutes(9));
    EXPECT_LE(d, absl::Minutes(11));
  }
  EXPECT_EQ(JitteredInterval(absl::Minutes(10), 0, a), absl::Minutes(10));
}

}  // namespace
}  // namespace tqs1::server

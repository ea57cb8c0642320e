// SentinelOneClient + RetryingTransport + CurlTransport against the
// SentinelOneEmulator on loopback: the FirewallRules conformance suite, and
// every fault kind of the harness.
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/capturing_logger.h"
#include "base/fake_clock.h"
#include "emulators/emulator_server.h"
#include "emulators/self_signed_cert.h"
#include "emulators/sentinelone_emulator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/http/curl_transport.h"
#include "providers/http/retrying_transport.h"
#include "providers/sentinelone/firewall_rules_conformance.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/sentinelone/wire.h"
#include "testing/builders.h"

namespace tqs1::sentinelone {
namespace {

using ::testing::HasSubstr;
using ::tqs1::emulator::Fault;
using ::tqs1::emulator::FaultKind;
using ::tqs1::testing::kAccountId;
using ::tqs1::testing::kSiteId;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

constexpr char kToken[] = "s1-token-9f8e7d6c5b4a-DO-NOT-LEAK";
constexpr char kRulesPath[] = "/web/api/v2.1/firewall-control";

struct Stack {
  std::unique_ptr<SentinelOneEmulator> emulator;
  tqs1::FakeClock clock;
  log::CapturingLogger logger;
  std::unique_ptr<http::HttpTransport> transport;
  std::unique_ptr<SentinelOneClient> client;
};

// Emulator, transports and client; fails the test (and returns null) when
// something cannot start.
std::unique_ptr<Stack> MakeStack(
    int page_size, absl::Duration total_timeout = absl::Seconds(20),
    std::string token = kToken, emulator::ServerOptions server = {},
    std::string ca_file = "") {
  auto stack = std::make_unique<Stack>();
  EmulatorOptions options;
  options.api_token = kToken;
  options.server = std::move(server);
  absl::StatusOr<std::unique_ptr<SentinelOneEmulator>> emulator =
      SentinelOneEmulator::Start(options);
  EXPECT_TRUE(emulator.ok()) << emulator.status();
  if (!emulator.ok()) return nullptr;
  stack->emulator = *std::move(emulator);

  http::CurlTransportOptions curl;
  curl.total_timeout = total_timeout;
  curl.connect_timeout = absl::Seconds(5);
  curl.ca_bundle_file = std::move(ca_file);
  curl.logger = &stack->logger;
  absl::StatusOr<std::unique_ptr<http::CurlTransport>> base =
      http::CurlTransport::Create(curl);
  EXPECT_TRUE(base.ok()) << base.status();
  if (!base.ok()) return nullptr;
  http::RetryOptions retry;
  retry.max_attempts = 4;
  retry.clock = &stack->clock;
  retry.logger = &stack->logger;
  stack->transport =
      std::make_unique<http::RetryingTransport>(*std::move(base), retry);

  SentinelOneClientOptions client_options;
  client_options.base_url = stack->emulator->base_url();
  client_options.api_token = std::move(token);
  client_options.page_size = page_size;
  client_options.rule_page_size = page_size;
  client_options.logger = &stack->logger;
  absl::StatusOr<std::unique_ptr<SentinelOneClient>> client =
      SentinelOneClient::Create(client_options, stack->transport.get());
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return nullptr;
  stack->client = *std::move(client);
  return stack;
}

class ClientBackend : public ConformanceBackend {
 public:
  explicit ClientBackend(int page_size) : stack_(MakeStack(page_size)) {
    if (stack_ == nullptr) std::abort();
  }
  FirewallRules& rules() override { return *stack_->client; }
  void AddSite(const std::string& id, const std::string& name,
               const std::string& account_id, bool active) override {
    stack_->emulator->AddSite({id, name, account_id,
                               absl::StrCat("Account ", account_id),
                               active ? "active" : "expired"});
    accounts_[id] = account_id;
  }
  void AddGroup(const std::string& id, const std::string& site_id,
                const std::string& name) override {
    stack_->emulator->AddGroup({id, name, site_id});
  }
  std::string PutRule(const std::string& site_id, const Rule& rule) override {
    switch (rule.scope()) {
      case v1::RULE_SCOPE_ACCOUNT:
        return stack_->emulator->AddRule(rule.scope(), accounts_[site_id],
                                         rule);
      case v1::RULE_SCOPE_GLOBAL:
        return stack_->emulator->AddRule(rule.scope(), "", rule);
      default:
        return stack_->emulator->AddRule(v1::RULE_SCOPE_SITE, site_id, rule);
    }
  }
  void SetFirewallConfiguration(
      const std::string& site_id,
      const v1::FirewallConfiguration& config) override {
    EmulatedFirewallConfig emulated;
    emulated.enabled = config.enabled();
    emulated.inherited_from = config.inherited_from();
    emulated.inherits = !config.inherited_from().empty();
    emulated.inherit_all_firewall_rules = config.inherits_rules();
    if (!stack_->emulator->SetFirewallConfig(site_id, emulated).ok()) {
      std::abort();
    }
  }

 private:
  std::unique_ptr<Stack> stack_;
  std::map<std::string, std::string> accounts_;
};

INSTANTIATE_TEST_SUITE_P(
    ClientVsEmulator, FirewallRulesConformanceTest,
    ::testing::Values(
        ConformanceParam{"page_size_1000",
                         [] { return std::make_unique<ClientBackend>(1000); }},
        ConformanceParam{"page_size_97",
                         [] { return std::make_unique<ClientBackend>(97); }}),
    ConformanceParamName);

Rule BlockRule(const std::string& name) {
  return ::tqs1::testing::BlockRule(name,
                                    "Blocked by ThreatQ [managed-by:tqs1]",
                                    {"203.0.113.7", "192.0.2.0/24"});
}

Fault MakeFault(FaultKind kind, std::string method, int count = 1) {
  Fault fault;
  fault.kind = kind;
  fault.method = std::move(method);
  fault.path_prefix = kRulesPath;
  fault.count = count;
  return fault;
}

int CountRequests(SentinelOneEmulator& emulator, absl::string_view method) {
  int n = 0;
  for (const auto& r : emulator.server().Requests()) {
    if (r.method == method) ++n;
  }
  return n;
}

class ClientFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = MakeStack(1000);
    ASSERT_NE(stack_, nullptr);
    emulator().AddSite({kSiteId, "HQ", kAccountId, "Acme"});
  }
  SentinelOneEmulator& emulator() { return *stack_->emulator; }
  SentinelOneClient& client() { return *stack_->client; }
  std::vector<Rule> SiteRules() {
    return emulator().Rules(v1::RULE_SCOPE_SITE, kSiteId);
  }
  int Events(absl::string_view kind) {
    int n = 0;
    for (const WriteEvent& e : emulator().Events()) n += e.kind == kind;
    return n;
  }

  std::unique_ptr<Stack> stack_;
};

TEST_F(ClientFaultTest, TooManyRequestsWaitsRetryAfterOnTheInjectedClock) {
  Fault fault = MakeFault(FaultKind::kTooManyRequests, "GET", 2);
  fault.retry_after = absl::Seconds(3);
  emulator().server().InjectFault(fault);
  absl::StatusOr<ObservedState> observed = client().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_THAT(stack_->clock.Sleeps(),
              ::testing::ElementsAre(absl::Seconds(3), absl::Seconds(3)));
  // Two refused and the rule page, then the firewall configuration.
  EXPECT_EQ(CountRequests(emulator(), "GET"), 4);
}

TEST_F(ClientFaultTest, TooManyRequestsOnCreateIsRetriedOnce) {
  // A 429 means the console did not process the request: safe to re-send.
  emulator().server().InjectFault(
      MakeFault(FaultKind::kTooManyRequests, "POST"));
  absl::StatusOr<Rule> created = client().CreateRule(kSiteId, BlockRule("A"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(SiteRules().size(), 1u);
  EXPECT_EQ(Events("create"), 1);
}

TEST_F(ClientFaultTest, ServerErrorOnReadIsRetried) {
  emulator().AddRule(v1::RULE_SCOPE_SITE, kSiteId, BlockRule("A"));
  emulator().server().InjectFault(MakeFault(FaultKind::kServerError, "GET"));
  absl::StatusOr<ObservedState> observed = client().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_EQ(observed->rules_size(), 1);
  std::vector<emulator::LoggedRequest> log = emulator().server().Requests();
  ASSERT_EQ(log.size(), 3u);  // the rule page twice, the configuration
  EXPECT_EQ(log[0].response_status, 500);
  EXPECT_EQ(log[1].response_status, 200);
  EXPECT_EQ(log[2].path, "/web/api/v2.1/firewall-control/configuration");
}

TEST_F(ClientFaultTest, ServerErrorOnCreateIsSettledByReadingNotResending) {
  emulator().server().InjectFault(MakeFault(FaultKind::kServerError, "POST"));
  absl::StatusOr<Rule> created = client().CreateRule(kSiteId, BlockRule("A"));
  // The harness answered 500 without applying: the re-read finds nothing.
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(created.status().message(),
              HasSubstr("SentinelOne POST /firewall-control: HTTP 500"));
  EXPECT_EQ(CountRequests(emulator(), "POST"), 1);
  EXPECT_TRUE(SiteRules().empty());
  // Running again converges.
  ASSERT_TRUE(client().CreateRule(kSiteId, BlockRule("A")).ok());
  EXPECT_EQ(SiteRules().size(), 1u);
}

TEST_F(ClientFaultTest, SlowAnswerWithinTheTimeoutIsFine) {
  Fault fault = MakeFault(FaultKind::kDelay, "GET");
  fault.delay = absl::Milliseconds(50);
  emulator().server().InjectFault(fault);
  EXPECT_TRUE(client().ReadSite(kSiteId).ok());
}

TEST(ClientSlowTest, SlowAnswerPastTheTimeoutIsDeadlineExceeded) {
  std::unique_ptr<Stack> stack = MakeStack(1000, absl::Milliseconds(100));
  ASSERT_NE(stack, nullptr);
  stack->emulator->AddSite({kSiteId, "HQ", kAccountId, "Acme"});
  Fault fault = MakeFault(FaultKind::kDelay, "GET");
  fault.delay = absl::Milliseconds(400);
  stack->emulator->server().InjectFault(fault);
  absl::StatusOr<ObservedState> observed = stack->client->ReadSite(kSiteId);
  EXPECT_EQ(observed.status().code(), absl::StatusCode::kDeadlineExceeded)
      << observed.status();
  EXPECT_THAT(observed.status().message(),
              HasSubstr("SentinelOne GET /firewall-control"));
}

TEST_F(ClientFaultTest, DroppedConnectionOnReadIsRetried) {
  emulator().server().InjectFault(MakeFault(FaultKind::kDropConnection, "GET"));
  EXPECT_TRUE(client().ReadSite(kSiteId).ok());
  // The rule page twice, then the configuration.
  EXPECT_EQ(CountRequests(emulator(), "GET"), 3);
}

TEST_F(ClientFaultTest, DroppedConnectionOnCreateNeverMakesTwoRules) {
  emulator().server().InjectFault(
      MakeFault(FaultKind::kDropConnection, "POST"));
  absl::StatusOr<Rule> created = client().CreateRule(kSiteId, BlockRule("A"));
  // Dropped before the handler ran: either reported (and nothing made) or,
  // if the transport knew it was never sent, retried once.
  if (created.ok()) {
    EXPECT_EQ(SiteRules().size(), 1u);
  } else {
    EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(SiteRules().empty());
    ASSERT_TRUE(client().CreateRule(kSiteId, BlockRule("A")).ok());
  }
  EXPECT_EQ(SiteRules().size(), 1u);
  EXPECT_EQ(Events("create"), 1);
}

TEST_F(ClientFaultTest, LostCreateResponseYieldsExactlyOneRule) {
  emulator().server().InjectFault(MakeFault(FaultKind::kLoseResponse, "POST"));
  absl::StatusOr<Rule> created = client().CreateRule(kSiteId, BlockRule("A"));
  ASSERT_TRUE(created.ok()) << created.status();
  std::vector<Rule> rules = SiteRules();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(created->id(), rules[0].id());
  EXPECT_TRUE(SameRuleContent(*created, BlockRule("A")));
  EXPECT_EQ(Events("create"), 1);
  EXPECT_EQ(CountRequests(emulator(), "POST"), 1);
  EXPECT_TRUE(stack_->logger.Contains("the create succeeded"));
}

TEST_F(ClientFaultTest, LostCreateResponseWithOtherContentIsAlreadyExists) {
  // A hand-made rule holds the name; the console's refusal is lost too.
  Rule hand_made = BlockRule("A");
  hand_made.set_description("hand made");
  emulator().AddRule(v1::RULE_SCOPE_SITE, kSiteId, hand_made);
  emulator().server().InjectFault(MakeFault(FaultKind::kLoseResponse, "POST"));
  absl::StatusOr<Rule> created = client().CreateRule(kSiteId, BlockRule("A"));
  EXPECT_EQ(created.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(created.status().message(), HasSubstr("with different content"));
  ASSERT_EQ(SiteRules().size(), 1u);
  EXPECT_EQ(SiteRules()[0].description(), "hand made");
}

TEST_F(ClientFaultTest, LostUpdateAndDeleteResponsesConverge) {
  absl::StatusOr<Rule> created = client().CreateRule(kSiteId, BlockRule("A"));
  ASSERT_TRUE(created.ok()) << created.status();
  Rule changed = *created;
  changed.mutable_remote_hosts(0)->add_values("198.51.100.1");
  emulator().server().InjectFault(MakeFault(FaultKind::kLoseResponse, "PUT"));
  absl::StatusOr<Rule> updated = client().UpdateRule(kSiteId, changed);
  ASSERT_TRUE(updated.ok()) << updated.status();
  ASSERT_EQ(SiteRules().size(), 1u);
  EXPECT_TRUE(SameRuleContent(SiteRules()[0], changed));

  emulator().server().InjectFault(
      MakeFault(FaultKind::kLoseResponse, "DELETE"));
  EXPECT_TRUE(client().DeleteRule(kSiteId, created->id()).ok());
  EXPECT_TRUE(SiteRules().empty());
  EXPECT_EQ(Events("delete"), 1);
}

// Sends every POST twice and returns the second answer: what libcurl does
// when a reused connection dies after the server applied the first copy.
class ResendingTransport : public http::HttpTransport {
 public:
  explicit ResendingTransport(http::HttpTransport* base) : base_(base) {}
  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest& request) override {
    if (request.method == "POST") (void)base_->Send(request);
    return base_->Send(request);
  }

 private:
  http::HttpTransport* base_;
};

TEST_F(ClientFaultTest, DuplicateAnswerToOurOwnResentCreateIsSuccess) {
  ResendingTransport resending(stack_->transport.get());
  SentinelOneClientOptions options;
  options.base_url = emulator().base_url();
  options.api_token = kToken;
  absl::StatusOr<std::unique_ptr<SentinelOneClient>> client =
      SentinelOneClient::Create(options, &resending);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<Rule> created = (*client)->CreateRule(kSiteId, BlockRule("A"));
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_EQ(SiteRules().size(), 1u);
  EXPECT_EQ(SiteRules()[0].id(), created->id());
  std::vector<emulator::LoggedRequest> log = emulator().server().Requests();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[1].response_status, 400);  // the duplicate answer
}

TEST_F(ClientFaultTest, TokenNeverInLogsOrErrors) {
  std::vector<absl::Status> errors;
  emulator().server().InjectFault(MakeFault(FaultKind::kServerError, "POST"));
  errors.push_back(client().CreateRule(kSiteId, BlockRule("A")).status());
  emulator().server().InjectFault(MakeFault(FaultKind::kLoseResponse, "POST"));
  errors.push_back(client().CreateRule(kSiteId, BlockRule("B")).status());
  errors.push_back(client().CreateRule(kSiteId, BlockRule("B")).status());
  errors.push_back(client().FindSite("Nowhere").status());
  Rule gone = BlockRule("Gone");
  gone.set_id("199999999999999999");
  errors.push_back(client().UpdateRule(kSiteId, gone).status());
  std::unique_ptr<Stack> wrong =
      MakeStack(1000, absl::Seconds(20), absl::StrCat(kToken, "-wrong"));
  ASSERT_NE(wrong, nullptr);
  absl::Status unauthenticated = wrong->client->ReadSite(kSiteId).status();
  EXPECT_EQ(unauthenticated.code(), absl::StatusCode::kUnauthenticated);
  errors.push_back(unauthenticated);
  int failures = 0;
  for (const absl::Status& s : errors) {
    SCOPED_TRACE(s.ToString());
    failures += !s.ok();
    EXPECT_FALSE(absl::StrContains(s.ToString(), kToken));
  }
  EXPECT_GE(failures, 4);
  EXPECT_FALSE(stack_->logger.Text().empty());
  EXPECT_FALSE(stack_->logger.Contains(kToken));
  EXPECT_FALSE(wrong->logger.Contains(kToken));
}

TEST_F(ClientFaultTest, PagesWithCursorsAtTheMaximumPageSize) {
  for (int i = 0; i < 2500; ++i) {
    emulator().AddRule(v1::RULE_SCOPE_SITE, kSiteId,
                       BlockRule(absl::StrCat("R", i)));
  }
  absl::StatusOr<ObservedState> observed = client().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_EQ(observed->rules_size(), 2500);
  std::vector<emulator::LoggedRequest> log = emulator().server().Requests();
  ASSERT_EQ(log.size(), 4u);  // three rule pages, the configuration
  EXPECT_THAT(log[0].query, HasSubstr("limit=1000"));
  EXPECT_THAT(log[0].query, ::testing::Not(HasSubstr("cursor")));
  EXPECT_THAT(log[1].query, HasSubstr("cursor="));
  EXPECT_THAT(log[2].query, HasSubstr("cursor="));
}

TEST(ClientHttpsTest, TalksToTheEmulatorOverVerifiedTls) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  absl::StatusOr<emulator::TestCertificates> certs =
      emulator::GenerateTestCertificates(tmp);
  ASSERT_TRUE(certs.ok()) << certs.status();
  emulator::ServerOptions server;
  server.cert_file = certs->cert_file;
  server.key_file = certs->key_file;
  std::unique_ptr<Stack> stack =
      MakeStack(1000, absl::Seconds(20), kToken, server, certs->ca_file);
  ASSERT_NE(stack, nullptr);
  ASSERT_TRUE(absl::StartsWith(stack->emulator->base_url(), "https://"));
  stack->emulator->AddSite({kSiteId, "HQ", kAccountId, "Acme"});
  absl::StatusOr<std::string> site = stack->client->FindSite("HQ");
  ASSERT_TRUE(site.ok()) << site.status();
  EXPECT_EQ(*site, kSiteId);
  EXPECT_TRUE(stack->client->CreateRule(kSiteId, BlockRule("A")).ok());
}

}  // namespace
}  // namespace tqs1::sentinelone

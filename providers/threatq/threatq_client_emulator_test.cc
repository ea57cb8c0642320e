// ThreatQClient over the real libcurl transport against ThreatQEmulator on
// loopback: the IndicatorSource conformance suite, plus what only a real
// server shows: paging across many pages, token expiry mid-read, and every
// fault kind of the harness.
#include <stdlib.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/capturing_logger.h"
#include "base/fake_clock.h"
#include "emulators/emulator_server.h"
#include "emulators/self_signed_cert.h"
#include "emulators/threatq_emulator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/http/curl_transport.h"
#include "providers/http/retrying_transport.h"
#include "providers/threatq/indicator_source_conformance.h"
#include "providers/threatq/threatq_client.h"

namespace tqs1::threatq {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEmail[] = "svc-tq@example.org";
constexpr char kPassword[] = "pa55-w0rd-SECRET";
constexpr char kClientId[] = "cid-7f3a9";
constexpr char kClientSecret[] = "cs-SECRET-91b2";

std::vector<Indicator> Ips(int n, int first = 0) {
  std::vector<Indicator> out;
  for (int i = first; i < first + n; ++i) {
    out.push_back(
        {absl::StrCat("10.0.", i / 256, ".", i % 256), "IP Address", "Active"});
  }
  return out;
}

std::vector<std::string> Values(const std::vector<Indicator>& indicators) {
  std::vector<std::string> out;
  for (const Indicator& i : indicators) out.push_back(i.value);
  return out;
}

// An emulator plus a client over curl (and optionally retries on a fake
// clock: no test really sleeps).
struct Stack {
  struct Options {
    int page_size = 100;
    bool retries = false;
    ThreatQClientOptions::Grant grant = ThreatQClientOptions::Grant::kPassword;
    absl::Duration total_timeout = absl::Seconds(10);
    ThreatQEmulatorOptions emulator;
    std::string ca_file;
    int64_t max_body = 1 << 20;
    int max_reads_at_once = 0;
  };
  explicit Stack(Options o) {
    auto started = ThreatQEmulator::Start(o.emulator);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return;
    tq = *std::move(started);
    tq->AddUser(kEmail, kPassword, kClientId);
    tq->AddOAuthClient(kClientId, kClientSecret);
    http::CurlTransportOptions curl;
    curl.total_timeout = o.total_timeout;
    curl.max_response_body_bytes = o.max_body;
    curl.ca_bundle_file = o.ca_file;
    curl.logger = &logger;
    auto transport = http::CurlTransport::Create(curl);
    EXPECT_TRUE(transport.ok()) << transport.status();
    if (!transport.ok()) return;
    if (o.retries) {
      http::RetryOptions retry;
      retry.clock = &clock;
      retry.logger = &logger;
      transport_ = std::make_unique<http::RetryingTransport>(
          *std::move(transport), retry);
    } else {
      transport_ = *std::move(transport);
    }
    ThreatQClientOptions options;
    options.base_url = tq->base_url();
    options.grant = o.grant;
    options.email = kEmail;
    options.password = kPassword;
    options.client_id = kClientId;
    options.client_secret = kClientSecret;
    options.page_size = o.page_size;
    options.max_reads_at_once = o.max_reads_at_once;
    options.clock = &clock;
    options.logger = &logger;
    auto made = ThreatQClient::Create(transport_.get(), options);
    EXPECT_TRUE(made.ok()) << made.status();
    if (made.ok()) client = *std::move(made);
  }
  bool ok() const { return client != nullptr; }
  int Count(absl::string_view method, absl::string_view path) const {
    int n = 0;
    for (const emulator::LoggedRequest& r : tq->server().Requests()) {
      n += r.method == method && r.path == path ? 1 : 0;
    }
    return n;
  }
  // Reading collection "C2" fails with `code` and exactly the message
  // `before` + the emulator's base URL + `after`.
  void ExpectReadOfC2Fails(absl::StatusCode code, absl::string_view before,
                           absl::string_view after) {
    absl::Status status = client->ReadCollection("C2").status();
    EXPECT_EQ(status.code(), code);
    EXPECT_EQ(status.message(), absl::StrCat(before, tq->base_url(), after));
  }

  tqs1::FakeClock clock;
  log::CapturingLogger logger;
  std::unique_ptr<ThreatQEmulator> tq;
  std::unique_ptr<http::HttpTransport> transport_;
  std::unique_ptr<ThreatQClient> client;
};

// --- Conformance --------------------------------------------------------

absl::StatusOr<IndicatorSourceBackend> MakeRealSource(
    const IndicatorWorld& world) {
  Stack::Options options;
  options.page_size = 100;
  auto stack = std::make_shared<Stack>(options);
  if (!stack->ok()) return absl::InternalError("stack did not start");
  for (const auto& [name, indicators] : world) {
    stack->tq->AddCollection(name, indicators);
  }
  // The source is owned by the backend; the stack (emulator, transport) by
  // its resources.
  IndicatorSourceBackend backend;
  backend.source = std::move(stack->client);
  backend.resources = stack;
  return backend;
}

INSTANTIATE_TEST_SUITE_P(ThreatQClientOverCurl, IndicatorSourceConformanceTest,
                         testing::Values(IndicatorSourceFactory{
                             "threatq_client", MakeRealSource}),
                         [](const auto& info) { return info.param.name; });

// --- Paging and tokens ----------------------------------------------------

TEST(ThreatQClientEmulatorTest, PagesToTheEndWithServerClampedPages) {
  Stack::Options options;
  options.page_size = 1000;
  options.emulator.max_page_size = 70;  // the server gives fewer than asked
  Stack s(options);
  ASSERT_TRUE(s.ok());
  std::vector<Indicator> all = Ips(1000);
  s.tq->AddCollection("Big", all);
  absl::StatusOr<CollectionRead> read = s.client->ReadCollection("Big");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values, Values(all));
  std::vector<std::string> queries;
  for (const auto& r : s.tq->server().Requests()) {
    if (r.path == "/api/indicators/query") queries.push_back(r.query);
  }
  ASSERT_EQ(queries.size(), 15u);  // ceil(1000 / 70)
  // The first page asks for a cursor; without one offered, the read goes
  // on by offset from the rows received.
  EXPECT_EQ(queries[0], "limit=1000&sort=id&cursorMark=*");
  EXPECT_EQ(queries[1], "limit=1000&offset=70&sort=id");
  EXPECT_EQ(queries[14], "limit=1000&offset=980&sort=id");
  EXPECT_EQ(s.Count("POST", "/api/token"), 1);  // the token is cached
}

// Reads asked at once beyond max_reads_at_once wait for one to end: three
// collections read by three threads, one at a time, never have more than
// one read's two pages (the page and the next one fetched ahead) in flight.
TEST(ThreatQClientEmulatorTest, ReadsBeyondTheBoundWaitForOneToEnd) {
  Stack::Options options;
  options.page_size = 100;
  options.max_reads_at_once = 1;
  Stack s(options);
  ASSERT_TRUE(s.ok());
  for (const char* name : {"A", "B", "C"}) s.tq->AddCollection(name, Ips(800));
  emulator::Fault slow;
  slow.kind = emulator::FaultKind::kDelay;
  slow.path_prefix = "/api/indicators/query";
  slow.delay = absl::Milliseconds(20);
  slow.count = 1000;
  s.tq->server().InjectFault(slow);
  std::vector<std::thread> readers;
  std::vector<absl::Status> results(3);
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&s, &results, i] {
      results[i] = s.client->ReadCollection(std::string(1, 'A' + i)).status();
    });
  }
  for (std::thread& t : readers) t.join();
  for (const absl::Status& status : results) EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(s.Count("POST", "/api/indicators/query"), 3 * 8);
  EXPECT_LE(s.tq->server().MaxInFlight(), 2);
}

TEST(ThreatQClientEmulatorTest, CarriesEachValuesIndicatorId) {
  Stack::Options options;
  options.page_size = 2;  // ids across pages
  Stack s(options);
  ASSERT_TRUE(s.ok());
  s.tq->AddCollection("C2", {{"192.0.2.1", "IP Address", "Active"},
                             {"evil.example", "FQDN", "Active"},
                             {"1.2.3.11:443", "IP Address", "Active"},
                             {"192.0.2.4", "IP Address", "Whitelisted"},
                             {"2001:db8::5", "IPv6 Address", "Active"}});
  absl::StatusOr<CollectionRead> read = s.client->ReadCollection("C2");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values, (std::vector<std::string>{"192.0.2.1", "1.2.3.11:443",
                                                    "2001:db8::5"}));
  // The emulator numbers a collection's indicators from 100000.
  EXPECT_EQ(read->indicator_ids,
            (std::vector<uint64_t>{100000, 100002, 100004}));
}

TEST(ThreatQClientEmulatorTest, TokenExpiryMidReadReauthenticatesOnce) {
  Stack s({});
  ASSERT_TRUE(s.ok());
  std::vector<Indicator> all = Ips(450);
  s.tq->AddCollection("C2", all);
  s.tq->ExpireTokensAfter(3);  // the listing and two pages
  absl::StatusOr<CollectionRead> read = s.client->ReadCollection("C2");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values, Values(all));
  EXPECT_EQ(s.tq->TokensIssued(), 2);
  int refused = 0;
  for (const auto& r : s.tq->server().Requests()) {
    refused += r.response_status == 401 ? 1 : 0;
  }
  EXPECT_EQ(refused, 1);
  EXPECT_TRUE(s.logger.Contains("token refused (HTTP 401)"));
}

TEST(ThreatQClientEmulatorTest, TokenRenewedByClockBeforeExpiry) {
  Stack::Options options;
  options.emulator.token_lifetime = absl::Hours(1);
  Stack s(options);
  ASSERT_TRUE(s.ok());
  s.tq->AddCollection("C2", Ips(5));
  ASSERT_TRUE(s.client->ReadCollection("C2").ok());
  s.clock.Advance(absl::Minutes(58));  // within the 60 s margin? not yet
  ASSERT_TRUE(s.client->ReadCollection("C2").ok());
  EXPECT_EQ(s.Count("POST", "/api/token"), 1);
  s.clock.Advance(absl::Seconds(90));  // now past expires_in - margin
  ASSERT_TRUE(s.client->ReadCollection("C2").ok());
  EXPECT_EQ(s.Count("POST", "/api/token"), 2);
}

TEST(ThreatQClientEmulatorTest, ClientCredentialsGrant) {
  Stack::Options options;
  options.grant = ThreatQClientOptions::Grant::kClientCredentials;
  Stack s(options);
  ASSERT_TRUE(s.ok());
  s.tq->AddCollection("C2", Ips(3));
  absl::StatusOr<CollectionRead> read = s.client->ReadCollection("C2");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 3u);
}

TEST(ThreatQClientEmulatorTest, WrongPasswordIsUnauthenticatedWithoutSecrets) {
  Stack s({});
  ASSERT_TRUE(s.ok());
  s.tq->AddUser(kEmail, "another-password", kClientId);  // ours is now wrong
  s.tq->AddCollection("C2", Ips(3));
  s.ExpectReadOfC2Fails(absl::StatusCode::kUnauthenticated,
                        "ThreatQ refused the credentials: HTTP 400 Bad "
                        "Request from POST ",
                        "/api/token: invalid_grant: The user credentials were "
                        "incorrect.");
}

TEST(ThreatQClientEmulatorTest, EmulatorRefusesLowerCaseBearerAndNoToken) {
  Stack s({});
  ASSERT_TRUE(s.ok());
  for (const char* auth : {"", "bearer tqemu-access-1-1", "Bearer nope"}) {
    SCOPED_TRACE(auth);
    http::HttpRequest request;
    request.method = "GET";
    request.url = s.tq->base_url() + "/api/search/query";
    if (*auth != '\0') request.headers.emplace_back("Authorization", auth);
    absl::StatusOr<http::HttpResponse> response = s.transport_->Send(request);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 401);
  }
}

TEST(ThreatQClientEmulatorTest, SavedSearchOnAnotherObjectTypeIsRefused) {
  Stack s({});
  ASSERT_TRUE(s.ok());
  int id = s.tq->AddCollection("Adversaries", {});
  ASSERT_TRUE(s.tq->SetCollectionObjectType(id, "adversaries"));
  absl::Status status = s.client->ReadCollection("Adversaries").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("is a search on \"adversaries\""));
}

// --- Faults ----------------------------------------------------------------

TEST(ThreatQClientEmulatorTest, RetriesThroughEachFaultKind) {
  struct Case {
    std::string name;
    emulator::Fault fault;
  };
  std::vector<Case> cases;
  auto add = [&](std::string name, emulator::FaultKind kind, std::string method,
                 std::string path) {
    emulator::Fault fault;
    fault.kind = kind;
    fault.method = std::move(method);
    fault.path_prefix = std::move(path);
    fault.retry_after = absl::Seconds(3);
    fault.delay = absl::Milliseconds(50);
    cases.push_back({std::move(name), fault});
  };
  add("429 on a page", emulator::FaultKind::kTooManyRequests, "POST",
      "/api/indicators/query");
  add("500 on a page", emulator::FaultKind::kServerError, "POST",
      "/api/indicators/query");
  add("500 on the token", emulator::FaultKind::kServerError, "POST",
      "/api/token");
  add("dropped listing", emulator::FaultKind::kDropConnection, "GET",
      "/api/search/query");
  add("dropped page", emulator::FaultKind::kDropConnection, "POST",
      "/api/indicators/query");
  add("lost token answer", emulator::FaultKind::kLoseResponse, "POST",
      "/api/token");
  add("slow page", emulator::FaultKind::kDelay, "POST",
      "/api/indicators/query");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Stack::Options options;
    options.retries = true;
    Stack s(options);
    ASSERT_TRUE(s.ok());
    std::vector<Indicator> all = Ips(250);
    s.tq->AddCollection("C2", all);
    s.tq->server().InjectFault(c.fault);
    absl::StatusOr<CollectionRead> read = s.client->ReadCollection("C2");
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->values, Values(all));
    EXPECT_EQ(s.tq->server().PendingFaults(), 0);
    if (c.fault.kind == emulator::FaultKind::kTooManyRequests) {
      EXPECT_THAT(s.clock.Sleeps(), ElementsAre(absl::Seconds(3)));
    }
    if (c.fault.kind == emulator::FaultKind::kDelay) {
      EXPECT_TRUE(s.clock.Sleeps().empty());
    }
  }
}

TEST(ThreatQClientEmulatorTest, PersistentFailuresFailTheWholeRead) {
  struct Case {
    std::string name;
    emulator::FaultKind kind;
    absl::StatusCode code;
    std::string message;  // a substring
  };
  const std::vector<Case> kCases = {
      {"503 forever", emulator::FaultKind::kServerError,
       absl::StatusCode::kUnavailable,
       "at offset 100: HTTP 500 Internal Server Error from POST "},
      {"429 forever", emulator::FaultKind::kTooManyRequests,
       absl::StatusCode::kUnavailable, "HTTP 429 Too Many Requests"},
      {"dropped forever", emulator::FaultKind::kDropConnection,
       absl::StatusCode::kUnavailable,
       "Server returned nothing (no headers, no data)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Stack::Options options;
    options.retries = true;
    Stack s(options);
    ASSERT_TRUE(s.ok());
    s.tq->AddCollection("C2", Ips(250));
    // The first page is fine; the second fails on every attempt.
    emulator::Fault pass;
    pass.kind = emulator::FaultKind::kDelay;
    pass.delay = absl::ZeroDuration();
    pass.path_prefix = "/api/indicators/query";
    s.tq->server().InjectFault(pass);
    emulator::Fault fault;
    fault.kind = c.kind;
    fault.path_prefix = "/api/indicators/query";
    fault.count = 1000;
    s.tq->server().InjectFault(fault);
    absl::Status status = s.client->ReadCollection("C2").status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_THAT(status.message(), HasSubstr(c.message));
    EXPECT_THAT(status.message(),
                HasSubstr("ThreatQ: reading data collection \"C2\""));
    // One good page, then 5 attempts of the failing one (8 for a 429,
    // which has a budget of its own). libcurl itself may re-send an
    // idempotent request once when a reused connection is dropped, so a
    // dropped connection can count twice.
    const int attempts =
        c.kind == emulator::FaultKind::kTooManyRequests ? 8 : 5;
    const int pages = s.Count("POST", "/api/indicators/query");
    EXPECT_GE(pages, 1 + attempts);
    EXPECT_LE(pages, c.kind == emulator::FaultKind::kDropConnection
                         ? 1 + 10
                         : 1 + attempts);
  }
}

TEST(ThreatQClientEmulatorTest, SlowServerPastTheTimeoutIsDeadlineExceeded) {
  Stack::Options options;
  options.total_timeout = absl::Milliseconds(100);
  Stack s(options);
  ASSERT_TRUE(s.ok());
  s.tq->AddCollection("C2", Ips(3));
  emulator::Fault fault;
  fault.kind = emulator::FaultKind::kDelay;
  fault.delay = absl::Milliseconds(400);
  fault.path_prefix = "/api/indicators/query";
  s.tq->server().InjectFault(fault);
  absl::Status status = s.client->ReadCollection("C2").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(status.message(),
              HasSubstr("ThreatQ: reading data collection \"C2\" at offset 0: "
                        "POST " +
                        s.tq->base_url() +
                        "/api/indicators/query: Timeout was reached"));
}

TEST(ThreatQClientEmulatorTest, OversizedPageFailsTheRead) {
  Stack::Options options;
  options.max_body = 4000;  // a page of 100 indicators is larger
  Stack s(options);
  ASSERT_TRUE(s.ok());
  s.tq->AddCollection("C2", Ips(250));
  s.ExpectReadOfC2Fails(absl::StatusCode::kResourceExhausted,
                        "ThreatQ: reading data collection \"C2\" at offset "
                        "0: POST ",
                        "/api/indicators/query: response body is larger "
                        "than 4000 bytes");
}

TEST(ThreatQClientEmulatorTest, SecretsNeverInLogsOrErrors) {
  Stack::Options options;
  options.retries = true;
  Stack s(options);
  ASSERT_TRUE(s.ok());
  s.tq->AddCollection("C2", Ips(150));
  std::vector<std::string> errors;
  // A success, faults, a token expiry, a wrong name, then bad credentials.
  emulator::Fault fault;
  fault.kind = emulator::FaultKind::kServerError;
  fault.count = 2;
  s.tq->server().InjectFault(fault);
  s.tq->ExpireTokensAfter(2);
  EXPECT_TRUE(s.client->ReadCollection("C2").ok());
  errors.push_back(s.client->ReadCollection("c2").status().ToString());
  s.tq->AddUser(kEmail, "changed", kClientId);
  s.tq->ExpireAllTokens();
  errors.push_back(s.client->ReadCollection("C2").status().ToString());
  EXPECT_THAT(errors[1], HasSubstr("UNAUTHENTICATED"));
  std::vector<std::string> secrets = {kPassword, kClientSecret, kClientId,
                                      "tqemu-access-", "tqemu-refresh-"};
  for (const std::string& secret : secrets) {
    SCOPED_TRACE(secret);
    EXPECT_FALSE(s.logger.Contains(secret)) << s.logger.Text();
    for (const std::string& error : errors) {
      EXPECT_THAT(error, Not(HasSubstr(secret)));
    }
  }
}

TEST(ThreatQClientEmulatorTest, WorksOverVerifiedHttps) {
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/tq-tls");
  mkdir(dir.c_str(), 0700);
  absl::StatusOr<emulator::TestCertificates> certs =
      emulator::GenerateTestCertificates(dir);
  ASSERT_TRUE(certs.ok()) << certs.status();
  Stack::Options options;
  options.emulator.server.cert_file = certs->cert_file;
  options.emulator.server.key_file = certs->key_file;
  options.ca_file = certs->ca_file;
  Stack s(options);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.tq->base_url(), "https://"));
  s.tq->AddCollection("C2", Ips(120));
  absl::StatusOr<CollectionRead> read = s.client->ReadCollection("C2");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 120u);
}

}  // namespace
}  // namespace tqs1::threatq

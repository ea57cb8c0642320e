#include "providers/http/curl_transport.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/capturing_logger.h"
#include "emulators/emulator_server.h"
#include "emulators/self_signed_cert.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/http/http_transport_conformance.h"

namespace tqs1::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// --- The CURLcode mapping ---------------------------------------------------

TEST(CurlCodeToStatusTest, CodeAndMessage) {
  struct Case {
    CURLcode curl;
    absl::StatusCode code;
    std::string text;  // curl_easy_strerror in libcurl 7.88
  };
  const Case kCases[] = {
      {CURLE_COULDNT_RESOLVE_HOST, absl::StatusCode::kUnavailable,
       "Couldn't resolve host name"},
      {CURLE_COULDNT_CONNECT, absl::StatusCode::kUnavailable,
       "Couldn't connect to server"},
      {CURLE_COULDNT_RESOLVE_PROXY, absl::StatusCode::kUnavailable,
       "Couldn't resolve proxy name"},
      {CURLE_SEND_ERROR, absl::StatusCode::kUnavailable,
       "Failed sending data to the peer"},
      {CURLE_RECV_ERROR, absl::StatusCode::kUnavailable,
       "Failure when receiving data from the peer"},
      {CURLE_GOT_NOTHING, absl::StatusCode::kUnavailable,
       "Server returned nothing (no headers, no data)"},
      {CURLE_PARTIAL_FILE, absl::StatusCode::kUnavailable,
       "Transferred a partial file"},
      {CURLE_SSL_CONNECT_ERROR, absl::StatusCode::kUnavailable,
       "SSL connect error"},
      {CURLE_OPERATION_TIMEDOUT, absl::StatusCode::kDeadlineExceeded,
       "Timeout was reached"},
      {CURLE_PEER_FAILED_VERIFICATION, absl::StatusCode::kFailedPrecondition,
       "SSL peer certificate or SSH remote key was not OK"},
      {CURLE_SSL_CACERT_BADFILE, absl::StatusCode::kFailedPrecondition,
       "Problem with the SSL CA cert (path? access rights?)"},
      {CURLE_TOO_MANY_REDIRECTS, absl::StatusCode::kFailedPrecondition,
       "Number of redirects hit maximum amount"},
      {CURLE_URL_MALFORMAT, absl::StatusCode::kInvalidArgument,
       "URL using bad/illegal format or missing URL"},
      {CURLE_UNSUPPORTED_PROTOCOL, absl::StatusCode::kInvalidArgument,
       "Unsupported protocol"},
      {CURLE_FILESIZE_EXCEEDED, absl::StatusCode::kResourceExhausted,
       "Maximum file size exceeded"},
      {CURLE_OUT_OF_MEMORY, absl::StatusCode::kResourceExhausted,
       "Out of memory"},
      {CURLE_ABORTED_BY_CALLBACK, absl::StatusCode::kCancelled,
       "Operation was aborted by an application callback"},
      {CURLE_WRITE_ERROR, absl::StatusCode::kInternal,
       "Failed writing received data to disk/application"},
      {CURLE_LDAP_CANNOT_BIND, absl::StatusCode::kUnknown, "LDAP: cannot bind"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.curl);
    absl::Status status =
        CurlCodeToStatus(c.curl, "POST", "https://tq.test/api/token?pw=x", "");
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(),
              absl::StrCat("POST https://tq.test/api/token: ", c.text));
  }
  EXPECT_TRUE(CurlCodeToStatus(CURLE_OK, "GET", "https://x/", "").ok());
}

TEST(CurlCodeToStatusTest, DetailIsAppendedWithoutTheQuery) {
  absl::Status status = CurlCodeToStatus(
      CURLE_COULDNT_CONNECT, "GET", "https://tq.test/a?token=s3cr3t",
      "Failed to connect to tq.test/a?token=s3cr3t port 443");
  EXPECT_EQ(status.message(),
            "GET https://tq.test/a: Couldn't connect to server (Failed to "
            "connect to tq.test/a port 443)");
}

// --- Against an emulator on loopback -----------------------------------------

std::unique_ptr<emulator::EmulatorServer> StartServer(
    emulator::Handler handler, emulator::ServerOptions options = {}) {
  auto server = emulator::EmulatorServer::Start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

emulator::Response Echo(const emulator::Request& request) {
  return emulator::JsonResponse(
      200, absl::StrCat("{\"path\": \"", request.path, "\"}"));
}

std::unique_ptr<CurlTransport> MakeTransport(
    CurlTransportOptions options = {}) {
  auto transport = CurlTransport::Create(options);
  EXPECT_TRUE(transport.ok()) << transport.status();
  return transport.ok() ? *std::move(transport) : nullptr;
}

HttpRequest Req(std::string method, std::string url, std::string body = "") {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.body = std::move(body);
  return request;
}

absl::StatusOr<ConformanceBackend> MakeCurlBackend(emulator::Handler server,
                                                   int64_t max_body) {
  auto started = emulator::EmulatorServer::Start({}, std::move(server));
  if (!started.ok()) return started.status();
  CurlTransportOptions options;
  options.max_response_body_bytes = max_body;
  auto transport = CurlTransport::Create(options);
  if (!transport.ok()) return transport.status();
  ConformanceBackend backend;
  backend.base_url = (*started)->base_url();
  backend.transport = *std::move(transport);
  backend.resources =
      std::shared_ptr<emulator::EmulatorServer>(std::move(started).value());
  return backend;
}

INSTANTIATE_TEST_SUITE_P(Curl, HttpTransportConformanceTest,
                         testing::Values(ConformanceBackendFactory{
                             "curl", MakeCurlBackend}),
                         [](const auto& info) { return info.param.name; });

TEST(CurlTransportTest, SendsUserAgentAndAcceptEncoding) {
  auto server = StartServer(Echo);
  ASSERT_NE(server, nullptr);
  CurlTransportOptions options;
  options.version = "1.2.3";
  auto transport = MakeTransport(options);
  ASSERT_NE(transport, nullptr);
  ASSERT_TRUE(transport->Send(Req("GET", server->base_url() + "/ua")).ok());
  emulator::LoggedRequest logged = server->Requests().at(0);
  emulator::Request as_request;
  as_request.headers = logged.headers;
  EXPECT_EQ(as_request.Header("User-Agent"), "tqs1/1.2.3");
  EXPECT_THAT(as_request.Header("Accept-Encoding").value_or(""),
              HasSubstr("gzip"));
  EXPECT_EQ(as_request.Header("Expect"), std::nullopt);
}

TEST(CurlTransportTest, ReusesConnectionsButNeverForPost) {
  auto server = StartServer(Echo);
  ASSERT_NE(server, nullptr);
  auto transport = MakeTransport();
  ASSERT_NE(transport, nullptr);
  const std::string url = server->base_url() + "/x";
  ASSERT_TRUE(transport->Send(Req("GET", url)).ok());
  ASSERT_TRUE(transport->Send(Req("GET", url)).ok());
  ASSERT_TRUE(transport->Send(Req("POST", url, "{}")).ok());
  ASSERT_TRUE(transport->Send(Req("POST", url, "{}")).ok());
  ASSERT_TRUE(transport->Send(Req("GET", url)).ok());
  std::vector<emulator::LoggedRequest> log = server->Requests();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].remote_port, log[1].remote_port);  // reused
  EXPECT_NE(log[2].remote_port, log[1].remote_port);  // fresh for POST
  EXPECT_NE(log[3].remote_port, log[2].remote_port);
  EXPECT_NE(log[3].remote_port, log[1].remote_port);
  EXPECT_NE(log[4].remote_port, log[3].remote_port);  // POST's not kept
}

TEST(CurlTransportTest, LostResponseToPostIsOutcomeUnknownAndNotResent) {
  int applied = 0;
  absl::Mutex mu;
  auto server = StartServer([&](const emulator::Request& request) {
    if (request.method == "POST") {
      absl::MutexLock lock(&mu);
      ++applied;
    }
    return Echo(request);
  });
  ASSERT_NE(server, nullptr);
  auto transport = MakeTransport();
  ASSERT_NE(transport, nullptr);
  // A warm keep-alive connection: the setting in which libcurl would
  // silently re-send.
  ASSERT_TRUE(transport->Send(Req("GET", server->base_url() + "/warm")).ok());
  emulator::Fault fault;
  fault.kind = emulator::FaultKind::kLoseResponse;
  fault.method = "POST";
  server->InjectFault(fault);
  HttpRequest post =
      Req("POST", server->base_url() + "/rules?token=s3cr3t", "pw=hunter2");
  post.headers.emplace_back("Authorization", "Bearer t0ken");
  absl::Status status = transport->Send(post).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsOutcomeUnknown(status));
  EXPECT_THAT(status.message(),
              HasSubstr("POST " + server->base_url() + "/rules: "));
  for (const char* secret : {"s3cr3t", "hunter2", "t0ken"}) {
    EXPECT_THAT(status.message(), Not(HasSubstr(secret)));
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(applied, 1);
}

TEST(CurlTransportTest, DroppedConnectionIsUnavailable) {
  auto server = StartServer(Echo);
  ASSERT_NE(server, nullptr);
  struct Case {
    std::string method;
    bool outcome_unknown;
  };
  const Case kCases[] = {{"GET", false}, {"POST", true}};
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.method);
    auto transport = MakeTransport();  // no warm connection to retry on
    ASSERT_NE(transport, nullptr);
    emulator::Fault fault;
    fault.kind = emulator::FaultKind::kDropConnection;
    server->InjectFault(fault);
    absl::Status status =
        transport->Send(Req(c.method, server->base_url() + "/d")).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(IsOutcomeUnknown(status), c.outcome_unknown);
    EXPECT_THAT(status.message(),
                HasSubstr("Server returned nothing (no headers, no data)"));
  }
}

TEST(CurlTransportTest, ConnectionRefusedIsUnavailableAndKnownNotSent) {
  auto server = StartServer(Echo);
  ASSERT_NE(server, nullptr);
  const std::string url = server->base_url() + "/x";
  server.reset();  // nothing listens there any more
  auto transport = MakeTransport();
  ASSERT_NE(transport, nullptr);
  absl::Status status = transport->Send(Req("POST", url, "{}")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsOutcomeUnknown(status));
  EXPECT_THAT(status.message(),
              HasSubstr("POST " + url + ": Couldn't connect to server"));
}

TEST(CurlTransportTest, TotalTimeoutIsDeadlineExceeded) {
  auto server = StartServer(Echo);
  ASSERT_NE(server, nullptr);
  emulator::Fault fault;
  fault.kind = emulator::FaultKind::kDelay;
  fault.delay = absl::Milliseconds(400);
  server->InjectFault(fault);
  CurlTransportOptions options;
  options.total_timeout = absl::Milliseconds(100);
  auto transport = MakeTransport(options);
  ASSERT_NE(transport, nullptr);
  absl::Status status =
      transport->Send(Req("GET", server->base_url() + "/slow")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(status.message(), HasSubstr("Timeout was reached"));
}

TEST(CurlTransportTest, ConcurrentSendsAreSafe) {
  auto server = StartServer(Echo);
  ASSERT_NE(server, nullptr);
  auto transport = MakeTransport();
  ASSERT_NE(transport, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        auto response = transport->Send(
            Req(i % 3 == 0 ? "POST" : "GET",
                absl::StrCat(server->base_url(), "/t", t, "/", i)));
        if (response.ok() && response->status == 200 &&
            response->body ==
                absl::StrCat("{\"path\": \"/t", t, "/", i, "\"}")) {
          ++ok;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 90);
}

class CurlTlsTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/tls");
    mkdir(dir.c_str(), 0700);
    absl::StatusOr<emulator::TestCertificates> certs =
        emulator::GenerateTestCertificates(dir);
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
    emulator::ServerOptions options;
    options.cert_file = certs_.cert_file;
    options.key_file = certs_.key_file;
    server_ = StartServer(Echo, options);
    ASSERT_NE(server_, nullptr);
  }
  emulator::TestCertificates certs_;
  std::unique_ptr<emulator::EmulatorServer> server_;
};

TEST_F(CurlTlsTest, VerifiesAgainstTheGivenCa) {
  for (const char* host : {"127.0.0.1", "localhost"}) {
    SCOPED_TRACE(host);
    CurlTransportOptions options;
    options.ca_bundle_file = certs_.ca_file;
    auto transport = MakeTransport(options);
    ASSERT_NE(transport, nullptr);
    absl::StatusOr<HttpResponse> response = transport->Send(
        Req("GET", absl::StrCat("https://", host, ":", server_->port(), "/s")));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
  }
}

TEST_F(CurlTlsTest, RefusesAnUntrustedCertificateByDefault) {
  auto transport = MakeTransport();
  ASSERT_NE(transport, nullptr);
  absl::Status status =
      transport->Send(Req("GET", server_->base_url() + "/s")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("GET " + server_->base_url() +
                        "/s: SSL peer "
                        "certificate or SSH remote key was not OK"));
}

TEST_F(CurlTlsTest, InsecureSwitchWorksAndWarnsLoudly) {
  log::CapturingLogger logger;
  CurlTransportOptions options;
  options.insecure_skip_tls_verify = true;
  options.logger = &logger;
  auto transport = MakeTransport(options);
  ASSERT_NE(transport, nullptr);
  EXPECT_TRUE(
      logger.Contains("W INSECURE: TLS certificate verification is "
                      "OFF"));
  absl::StatusOr<HttpResponse> response =
      transport->Send(Req("GET", server_->base_url() + "/s"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

TEST(CurlTransportCreateTest, RejectsBadOptions) {
  struct Case {
    std::string name;
    CurlTransportOptions options;
    std::string message;
  };
  std::vector<Case> cases(3);
  cases[0].name = "missing CA file";
  cases[0].options.ca_bundle_file = "/nonexistent/ca.pem";
  cases[0].message =
      "HTTP transport: cannot read CA bundle file \"/nonexistent/ca.pem\"";
  cases[1].name = "zero timeout";
  cases[1].options.total_timeout = absl::ZeroDuration();
  cases[1].message = "HTTP transport: timeouts must be positive";
  cases[2].name = "zero body limit";
  cases[2].options.max_response_body_bytes = 0;
  cases[2].message = "HTTP transport: max_response_body_bytes must be positive";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status status = CurlTransport::Create(c.options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), c.message);
  }
}

}  // namespace
}  // namespace tqs1::http

#include "emulators/emulator_server.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "emulators/self_signed_cert.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace tqs1::emulator {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;

// Echoes the request: "<method> <path>?<query> <body>", and 201 for POST.
Response Echo(const Request& request) {
  Response response =
      JsonResponse(request.method == "POST" ? 201 : 200,
                   absl::StrCat(request.method, " ", request.path, "?",
                                request.query, " ", request.body));
  response.headers.emplace_back("X-Echo-Param",
                                request.Param("name").value_or("-"));
  return response;
}

std::unique_ptr<EmulatorServer> StartEcho(ServerOptions options = {}) {
  auto server = EmulatorServer::Start(std::move(options), Echo);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// A gzip stream decoded, or "<not gzip>".
std::string Gunzip(const std::string& packed) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return "<not gzip>";
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  stream.avail_in = static_cast<uInt>(packed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = inflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return result == Z_STREAM_END ? out : "<not gzip>";
}

TEST(AppendJsonStringTest, WritesStringsThatJsonParsersReadBack) {
  for (const std::string& text :
       {std::string(""), std::string("192.0.2.1"), std::string("a\"b\\c/d"),
        std::string("tab\tnl\ncr\r\x01\x1f"),
        std::string("caf\xc3\xa9 \xe2\x82\xac"), std::string("nul\0in", 6)}) {
    SCOPED_TRACE(text);
    std::string out = "[";
    AppendJsonString(text, out);
    out += "]";
    const nlohmann::json parsed = nlohmann::json::parse(out, nullptr, false);
    ASSERT_TRUE(parsed.is_array()) << out;
    EXPECT_EQ(parsed[0].get<std::string>(), text);
  }
  std::string out;
  AppendJsonString("x\x07", out);
  EXPECT_EQ(out, R"("x\u0007")");
}

TEST(EmulatorServerTest, ServesOnLoopbackEphemeralPortAndLogs) {
  std::unique_ptr<EmulatorServer> server = StartEcho();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->base_url(),
            absl::StrCat("http://127.0.0.1:", server->port()));
  httplib::Client client("127.0.0.1", server->port());
  auto get = client.Get("/a/b?name=x%20y&k=1", {{"X-Test", "v"}});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "GET /a/b?name=x%20y&k=1 ");
  EXPECT_EQ(get->get_header_value("X-Echo-Param"), "x y");
  EXPECT_EQ(get->get_header_value("Content-Type"),
            "application/json; charset=utf-8");
  auto post = client.Post("/p", "{\"a\":1}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 201);
  httplib::Request del;
  del.method = "DELETE";
  del.path = "/d";
  del.body = "gone";
  del.set_header("Content-Type", "text/plain");
  auto del_result = client.send(del);
  ASSERT_TRUE(del_result);
  EXPECT_EQ(del_result->body, "DELETE /d? gone");

  std::vector<LoggedRequest> log = server->Requests();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].method, "GET");
  EXPECT_EQ(log[0].path, "/a/b");
  EXPECT_EQ(log[0].query, "name=x%20y&k=1");
  EXPECT_THAT(log[0].headers, testing::Contains(Pair("X-Test", "v")));
  EXPECT_EQ(log[0].response_status, 200);
  EXPECT_EQ(log[1].body, "{\"a\":1}");
  EXPECT_EQ(log[1].response_status, 201);
  EXPECT_EQ(log[2].method, "DELETE");
  EXPECT_EQ(log[2].body, "gone");
  EXPECT_EQ(log[2].body_bytes, 4u);
  server->ClearRequests();
  EXPECT_TRUE(server->Requests().empty());
}

TEST(EmulatorServerTest, LogsOnlySizesWithoutLogContents) {
  ServerOptions options;
  options.log_contents = false;
  std::unique_ptr<EmulatorServer> server = StartEcho(options);
  ASSERT_NE(server, nullptr);
  httplib::Client client("127.0.0.1", server->port());
  auto post =
      client.Post("/p?k=1", {{"X-Test", "v"}}, "{\"a\":1}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->body, "POST /p?k=1 {\"a\":1}");  // served as ever
  std::vector<LoggedRequest> log = server->Requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].path, "/p");
  EXPECT_EQ(log[0].query, "k=1");
  EXPECT_TRUE(log[0].headers.empty());
  EXPECT_EQ(log[0].body, "");
  EXPECT_EQ(log[0].body_bytes, 7u);
  EXPECT_EQ(log[0].response_status, 201);
  EXPECT_EQ(log[0].response_bytes, post->body.size());
}

TEST(EmulatorServerTest, GzipsLargeJsonAnswersOnceAtItsOwnLevel) {
  const std::string big(5000, 'a');  // echoed back in the body
  for (const int level : {0, 1, 9}) {
    SCOPED_TRACE(absl::StrCat("gzip_level ", level));
    ServerOptions options;
    options.gzip_level = level;
    std::unique_ptr<EmulatorServer> server = StartEcho(options);
    ASSERT_NE(server, nullptr);
    httplib::Client client("127.0.0.1", server->port());
    client.set_decompress(false);
    const httplib::Headers gzip = {{"Accept-Encoding", "gzip"}};
    auto gzipped = client.Post("/big", gzip, big, "text/plain");
    ASSERT_TRUE(gzipped);
    EXPECT_EQ(gzipped->get_header_value("Content-Encoding"),
              level > 0 ? "gzip" : "");
    // Compressed once: one gunzip gives the answer back.
    EXPECT_EQ(level > 0 ? Gunzip(gzipped->body) : gzipped->body,
              absl::StrCat("POST /big? ", big));
    if (level > 0) {
      EXPECT_LT(gzipped->body.size(), big.size() / 10);
    }
    // Without Accept-Encoding, or for a short answer: as it is.
    auto raw = client.Post("/big", {{"Accept-Encoding", "identity"}}, big,
                           "text/plain");
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->get_header_value("Content-Encoding"), "");
    EXPECT_EQ(raw->body, absl::StrCat("POST /big? ", big));
    auto small = client.Get("/small", gzip);
    ASSERT_TRUE(small);
    EXPECT_EQ(small->get_header_value("Content-Encoding"), "");
    EXPECT_EQ(small->body, "GET /small? ");
  }
}

TEST(EmulatorServerTest, FaultsMatchMethodPathAndCount) {
  std::unique_ptr<EmulatorServer> server = StartEcho();
  ASSERT_NE(server, nullptr);
  Fault too_many;
  too_many.kind = FaultKind::kTooManyRequests;
  too_many.method = "GET";
  too_many.path_prefix = "/api/";
  too_many.count = 2;
  too_many.retry_after = absl::Seconds(7);
  server->InjectFault(too_many);
  Fault error;
  error.kind = FaultKind::kServerError;
  error.status = 503;
  error.path_prefix = "/other";
  server->InjectFault(error);
  EXPECT_EQ(server->PendingFaults(), 2);

  httplib::Client client("127.0.0.1", server->port());
  struct Step {
    std::string method;
    std::string path;
    int want_status;
    std::string want_fault;
  };
  const Step kSteps[] = {
      {"POST", "/api/x", 201, ""},  // method does not match
      {"GET", "/nope", 200, ""},    // path does not match
      {"GET", "/api/x", 429, "too_many_requests"},
      {"GET", "/api/y", 429, "too_many_requests"},
      {"GET", "/api/z", 200, ""},  // count used up
      {"GET", "/other/1", 503, "server_error"},
      {"GET", "/other/2", 200, ""},
  };
  for (const Step& step : kSteps) {
    SCOPED_TRACE(absl::StrCat(step.method, " ", step.path));
    auto result = step.method == "GET"
                      ? client.Get(step.path.c_str())
                      : client.Post(step.path.c_str(), "", "text/plain");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, step.want_status);
    if (step.want_status == 429) {
      EXPECT_EQ(result->get_header_value("Retry-After"), "7");
    }
    EXPECT_EQ(server->Requests().back().fault, step.want_fault);
  }
  EXPECT_EQ(server->PendingFaults(), 0);
}

TEST(EmulatorServerTest, TooManyRequestsWithoutRetryAfterAndOwnBody) {
  std::unique_ptr<EmulatorServer> server = StartEcho();
  ASSERT_NE(server, nullptr);
  Fault bare;
  bare.kind = FaultKind::kTooManyRequests;
  bare.omit_retry_after = true;
  bare.body = R"({"errors":[{"code":4290010,"title":"Too Many Requests"}]})";
  server->InjectFault(bare);
  Fault error;
  error.kind = FaultKind::kServerError;
  error.status = 502;
  error.body = R"({"message":"Bad gateway"})";
  server->InjectFault(error);
  httplib::Client client("127.0.0.1", server->port());
  auto limited = client.Get("/x");
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_FALSE(limited->has_header("Retry-After"));
  EXPECT_EQ(limited->body, bare.body);
  auto failed = client.Get("/x");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 502);
  EXPECT_EQ(failed->body, error.body);
}

TEST(EmulatorServerTest, DropAndLoseCloseTheConnectionWithoutResponse) {
  int handled = 0;
  absl::Mutex mu;
  auto started = EmulatorServer::Start({}, [&](const Request& request) {
    absl::MutexLock lock(&mu);
    ++handled;
    return Echo(request);
  });
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<EmulatorServer> server = *std::move(started);
  struct Case {
    FaultKind kind;
    int want_handled;
  };
  const Case kCases[] = {{FaultKind::kDropConnection, 0},
                         {FaultKind::kLoseResponse, 1}};
  for (const Case& c : kCases) {
    SCOPED_TRACE(FaultKindName(c.kind));
    {
      absl::MutexLock lock(&mu);
      handled = 0;
    }
    Fault fault;
    fault.kind = c.kind;
    server->InjectFault(fault);
    httplib::Client client("127.0.0.1", server->port());
    auto result = client.Post("/create", "{}", "application/json");
    EXPECT_FALSE(result);  // no response at all
    {
      absl::MutexLock lock(&mu);
      EXPECT_EQ(handled, c.want_handled);
    }
    EXPECT_EQ(server->Requests().back().response_status, 0);
    EXPECT_EQ(server->Requests().back().fault, FaultKindName(c.kind));
    // The server keeps serving afterwards.
    auto again = client.Get("/after");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
  }
}

TEST(EmulatorServerTest, DelayDelaysThenServes) {
  std::unique_ptr<EmulatorServer> server = StartEcho();
  ASSERT_NE(server, nullptr);
  Fault fault;
  fault.kind = FaultKind::kDelay;
  fault.delay = absl::Milliseconds(150);
  server->InjectFault(fault);
  httplib::Client client("127.0.0.1", server->port());
  absl::Time start = absl::Now();
  auto result = client.Get("/slow");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
}

TEST(EmulatorServerTest, LatencyServesAtOnceAndAnswersAfterIt) {
  // The handler runs when the request arrives, and the answer still comes
  // only `delay` after it did: the handler's time is inside the latency.
  absl::Time handled = absl::InfinitePast();
  auto server = EmulatorServer::Start({}, [&handled](const Request& request) {
    handled = absl::Now();
    return Echo(request);
  });
  ASSERT_TRUE(server.ok()) << server.status();
  Fault fault;
  fault.kind = FaultKind::kLatency;
  fault.delay = absl::Seconds(2);
  (*server)->InjectFault(fault);
  httplib::Client client("127.0.0.1", (*server)->port());
  auto result = client.Get("/slow");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  std::vector<LoggedRequest> log = (*server)->Requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].fault, "latency");
  EXPECT_LT(handled - log[0].arrived, absl::Seconds(1));
  EXPECT_GE(log[0].served, absl::Seconds(2));
  EXPECT_GE(absl::Now() - handled, absl::Seconds(1));
}

TEST(EmulatorServerTest, CountsTheRequestsServedAtOnce) {
  std::unique_ptr<EmulatorServer> server = StartEcho();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->MaxInFlight(), 0);
  Fault fault;
  fault.kind = FaultKind::kDelay;
  fault.delay = absl::Seconds(1);
  fault.count = 3;
  server->InjectFault(fault);
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&server] {
      httplib::Client client("127.0.0.1", server->port());
      auto result = client.Get("/slow");
      ASSERT_TRUE(result);
      EXPECT_EQ(result->status, 200);
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(server->MaxInFlight(), 3);
  server->ClearRequests();
  EXPECT_EQ(server->MaxInFlight(), 0);
  httplib::Client client("127.0.0.1", server->port());
  ASSERT_TRUE(client.Get("/one"));
  EXPECT_EQ(server->MaxInFlight(), 1);
}

TEST(EmulatorServerTest, ServesHttpsWithGeneratedCertificates) {
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/certs");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  absl::StatusOr<TestCertificates> certs = GenerateTestCertificates(dir);
  ASSERT_TRUE(certs.ok()) << certs.status();
  ServerOptions options;
  options.cert_file = certs->cert_file;
  options.key_file = certs->key_file;
  std::unique_ptr<EmulatorServer> server = StartEcho(options);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(server->tls());
  EXPECT_THAT(server->base_url(), HasSubstr("https://127.0.0.1:"));

  httplib::SSLClient trusted("127.0.0.1", server->port());
  trusted.set_ca_cert_path(certs->ca_file.c_str());
  trusted.enable_server_certificate_verification(true);
  auto ok = trusted.Get("/secure");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);

  httplib::SSLClient untrusted("127.0.0.1", server->port());
  untrusted.set_ca_cert_path("/nonexistent");
  untrusted.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusted.Get("/secure"));
}

TEST(EmulatorServerTest, RejectsHalfTlsConfigAndBadFiles) {
  ServerOptions half;
  half.cert_file = "/x.pem";
  EXPECT_EQ(EmulatorServer::Start(half, Echo).status().code(),
            absl::StatusCode::kInvalidArgument);
  ServerOptions missing;
  missing.cert_file = "/nonexistent/cert.pem";
  missing.key_file = "/nonexistent/key.pem";
  absl::Status status = EmulatorServer::Start(missing, Echo).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent/cert.pem"));
}

TEST(EmulatorServerTest, StopIsQuickWithIdleKeepAliveConnections) {
  std::unique_ptr<EmulatorServer> server = StartEcho();
  ASSERT_NE(server, nullptr);
  httplib::Client client("127.0.0.1", server->port());
  client.set_keep_alive(true);
  ASSERT_TRUE(client.Get("/1"));
  absl::Time start = absl::Now();
  server->Stop();
  server->Stop();  // idempotent
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

}  // namespace
}  // namespace tqs1::emulator

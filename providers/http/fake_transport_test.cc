#include "providers/http/fake_transport.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "base/net.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/http/http_transport_conformance.h"

namespace tqs1::http {
namespace {

using ::testing::ElementsAre;

HttpResponse Ok(std::string body) {
  HttpResponse response;
  response.status = 200;
  response.body = std::move(body);
  return response;
}

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

TEST(FakeTransportTest, QueuedOutcomesComeFirstThenTheHandler) {
  FakeTransport fake([](const HttpRequest& request) {
    return absl::StatusOr<HttpResponse>(Ok("handled " + request.url));
  });
  fake.Enqueue(absl::UnavailableError("reset"));
  fake.Enqueue(Ok("queued"));
  EXPECT_EQ(fake.Send(Get("https://a.test/1")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake.Send(Get("https://a.test/2"))->body, "queued");
  EXPECT_EQ(fake.Send(Get("https://a.test/3"))->body,
            "handled https://a.test/3");
  std::vector<std::string> urls;
  for (const HttpRequest& r : fake.Requests()) urls.push_back(r.url);
  EXPECT_THAT(urls, ElementsAre("https://a.test/1", "https://a.test/2",
                                "https://a.test/3"));
  EXPECT_EQ(fake.RequestCount(), 3);
}

TEST(FakeTransportTest, WithoutScriptOrHandlerIsUnavailable) {
  FakeTransport fake;
  absl::Status status = fake.Send(Get("https://a.test/x?secret=1")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "GET https://a.test/x: no response scripted");
}

TEST(FakeTransportTest, PolicyRefusalsAreNotRecorded) {
  FakeTransport fake(
      [](const HttpRequest&) { return absl::StatusOr<HttpResponse>(Ok("")); });
  EXPECT_EQ(fake.Send(Get("http://example.com/")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fake.RequestCount(), 0);
}

TEST(FakeTransportTest, AllowPlainHttpOption) {
  FakeTransportOptions options;
  options.allow_plain_http = true;
  FakeTransport fake(
      [](const HttpRequest&) { return absl::StatusOr<HttpResponse>(Ok("")); },
      options);
  EXPECT_TRUE(fake.Send(Get("http://example.com/")).ok());
}

TEST(FakeTransportTest, OversizedAnswerToPostIsOutcomeUnknown) {
  FakeTransportOptions options;
  options.max_response_body_bytes = 2;
  FakeTransport fake(
      [](const HttpRequest&) {
        return absl::StatusOr<HttpResponse>(Ok("abc"));
      },
      options);
  HttpRequest post = Get("https://a.test/x");
  post.method = "POST";
  absl::Status status = fake.Send(post).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(IsOutcomeUnknown(status));
}

// Conformance: the fake, with the suite's server run in-process.
absl::StatusOr<ConformanceBackend> MakeFakeBackend(emulator::Handler server,
                                                   int64_t max_body) {
  FakeTransportOptions options;
  options.max_response_body_bytes = max_body;
  ConformanceBackend backend;
  backend.base_url = "http://127.0.0.1:1";
  backend.transport = std::make_unique<FakeTransport>(
      [server](const HttpRequest& request) -> absl::StatusOr<HttpResponse> {
        absl::StatusOr<net::ParsedUrl> url = net::ParseUrl(request.url);
        if (!url.ok()) return url.status();
        emulator::Request in;
        in.method = request.method;
        std::string target = url->target;
        size_t q = target.find('?');
        in.path = target.substr(0, q);
        if (q != std::string::npos) in.query = target.substr(q + 1);
        for (absl::string_view pair :
             absl::StrSplit(in.query, '&', absl::SkipEmpty())) {
          std::pair<std::string, std::string> kv =
              absl::StrSplit(pair, absl::MaxSplits('=', 1));
          in.params.emplace_back(net::PercentDecode(kv.first),
                                 net::PercentDecode(kv.second));
        }
        in.headers = request.headers;
        in.body = request.body;
        return server(in);
      },
      options);
  return backend;
}

INSTANTIATE_TEST_SUITE_P(Fake, HttpTransportConformanceTest,
                         testing::Values(ConformanceBackendFactory{
                             "fake", MakeFakeBackend}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tqs1::http

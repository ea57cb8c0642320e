#include "providers/http/http_transport_conformance.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/net.h"
#include "gmock/gmock.h"

namespace tqs1::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kLimit = 4096;

// The server side of every test:
//   /status/<n>   answers status n (3xx with a Location header)
//   /size/<n>     answers n bytes of 'x'
//   anything else echoes "method|path|query|X-Custom|body" with 200.
// Every answer carries "X-Reply: yes".
emulator::Response Server(const emulator::Request& request) {
  emulator::Response response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", "text/plain");
  response.headers.emplace_back("X-Reply", "yes");
  int n = 0;
  if (absl::StartsWith(request.path, "/status/") &&
      absl::SimpleAtoi(request.path.substr(8), &n)) {
    response.status = n;
    if (n >= 300 && n < 400) {
      response.headers.emplace_back("Location", "/elsewhere");
    }
    if (n != 204) response.body = absl::StrCat("status ", n);
  } else if (absl::StartsWith(request.path, "/size/") &&
             absl::SimpleAtoi(request.path.substr(6), &n)) {
    response.body = std::string(n, 'x');
  } else {
    response.body = absl::StrCat(
        request.method, "|", request.path, "|", request.query, "|",
        request.Header("X-Custom").value_or("-"), "|", request.body);
  }
  return response;
}

class Fixture {
 public:
  explicit Fixture(const ConformanceBackendFactory& factory) {
    absl::StatusOr<ConformanceBackend> made = factory.make(Server, kLimit);
    EXPECT_TRUE(made.ok()) << made.status();
    if (made.ok()) backend_ = *std::move(made);
  }
  bool ok() const { return backend_.transport != nullptr; }
  std::string Url(absl::string_view target) const {
    return absl::StrCat(backend_.base_url, target);
  }
  absl::StatusOr<HttpResponse> Send(std::string method,
                                    absl::string_view target,
                                    std::string body = "",
                                    Headers headers = {}) {
    HttpRequest request;
    request.method = std::move(method);
    request.url = Url(target);
    request.body = std::move(body);
    request.headers = std::move(headers);
    return backend_.transport->Send(request);
  }
  HttpTransport& transport() { return *backend_.transport; }

 private:
  ConformanceBackend backend_;
};

TEST_P(HttpTransportConformanceTest, GetCarriesQueryAndHeaders) {
  Fixture f(GetParam());
  ASSERT_TRUE(f.ok());
  absl::StatusOr<HttpResponse> response =
      f.Send("GET", "/things?name=a%20b&limit=5", "", {{"X-Custom", "v1"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET|/things|name=a%20b&limit=5|v1|");
  EXPECT_EQ(response->Header("x-reply"), "yes");
  EXPECT_EQ(response->Header("X-REPLY"), "yes");
  EXPECT_EQ(response->Header("X-Absent"), std::nullopt);
}

TEST_P(HttpTransportConformanceTest, MethodsCarryTheirBodies) {
  Fixture f(GetParam());
  ASSERT_TRUE(f.ok());
  struct Case {
    std::string method;
    std::string body;
  };
  const std::vector<Case> kCases = {
      {"POST", R"({"name": "Block – C2", "n": 1})"},
      {"PUT", "line1\nline2"},
      {"PATCH", "{}"},
      {"DELETE", R"({"filter": {"ids": ["1", "2"]}})"},
      {"DELETE", ""},
      {"POST", ""},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat(c.method, " body=", c.body));
    absl::StatusOr<HttpResponse> response =
        f.Send(c.method, "/echo", c.body,
               {{"Content-Type", "application/json"}, {"X-Custom", "m"}});
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, absl::StrCat(c.method, "|/echo||m|", c.body));
  }
}

TEST_P(HttpTransportConformanceTest, StatusCodesArePassedThrough) {
  Fixture f(GetParam());
  ASSERT_TRUE(f.ok());
  for (int status : {200, 201, 204, 301, 302, 400, 401, 403, 404, 409, 422, 429,
                     500, 502, 503}) {
    for (const char* method : {"GET", "POST"}) {
      SCOPED_TRACE(absl::StrCat(method, " ", status));
      absl::StatusOr<HttpResponse> response =
          f.Send(method, absl::StrCat("/status/", status));
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_EQ(response->status, status);
      EXPECT_EQ(response->body,
                status == 204 ? "" : absl::StrCat("status ", status));
      if (status >= 300 && status < 400) {
        // Redirects are returned, never followed.
        EXPECT_EQ(response->Header("Location"), "/elsewhere");
      }
    }
  }
}

TEST_P(HttpTransportConformanceTest, ResponseBodyIsLimited) {
  Fixture f(GetParam());
  ASSERT_TRUE(f.ok());
  absl::StatusOr<HttpResponse> at_limit =
      f.Send("GET", absl::StrCat("/size/", kLimit));
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->body.size(), static_cast<size_t>(kLimit));

  const std::string target = absl::StrCat("/size/", kLimit + 1);
  absl::StatusOr<HttpResponse> over =
      f.Send("GET", absl::StrCat(target, "?token=s3cr3t"));
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(over.status().message(),
            absl::StrCat("GET ", f.Url(target),
                         ": response body is larger than 4096 bytes"));
  EXPECT_FALSE(IsOutcomeUnknown(over.status()));
}

TEST_P(HttpTransportConformanceTest, PlainHttpOnlyToLoopback) {
  Fixture f(GetParam());
  ASSERT_TRUE(f.ok());
  for (const char* url :
       {"http://example.com/api/x?token=s3cr3t", "http://10.1.2.3:8080/x",
        "http://[2001:db8::1]/x", "http://127.example.com/x"}) {
    SCOPED_TRACE(url);
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    absl::Status status = f.transport().Send(request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    net::ParsedUrl parsed = *net::ParseUrl(url);
    EXPECT_THAT(status.message(),
                HasSubstr(absl::StrCat("refusing plain http:// to host \"",
                                       parsed.host, "\"")));
    EXPECT_THAT(status.message(), Not(HasSubstr("s3cr3t")));
  }
}

TEST_P(HttpTransportConformanceTest, MalformedRequestsAreInvalidArgument) {
  Fixture f(GetParam());
  ASSERT_TRUE(f.ok());
  struct Case {
    std::string method;
    std::string url;
  };
  const std::vector<Case> kCases = {
      {"BREW", f.Url("/pot")},
      {"GET", "not a url"},
      {"GET", "ftp://127.0.0.1/x"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat(c.method, " ", c.url));
    HttpRequest request;
    request.method = c.method;
    request.url = c.url;
    EXPECT_EQ(f.transport().Send(request).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace tqs1::http

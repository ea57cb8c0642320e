#include "providers/http/url.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::http {
namespace {

TEST(ParseUrlTest, Shapes) {
  struct Case {
    std::string url;
    std::string scheme, host;
    int port;
    std::string target;
  };
  const Case kCases[] = {
      {"https://tq.example.net/api/token?a=1", "https", "tq.example.net", 0,
       "/api/token?a=1"},
      {"HTTP://127.0.0.1:8080", "http", "127.0.0.1", 8080, "/"},
      {"http://[::1]:99/x", "http", "::1", 99, "/x"},
      {"https://user:pw@h.test?q", "https", "h.test", 0, "/?q"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.url);
    absl::StatusOr<ParsedUrl> parsed = ParseUrl(c.url);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->scheme, c.scheme);
    EXPECT_EQ(parsed->host, c.host);
    EXPECT_EQ(parsed->port, c.port);
    EXPECT_EQ(parsed->target, c.target);
  }
}

TEST(ParseUrlTest, Rejects) {
  struct Case {
    std::string url;
    std::string message;
  };
  const Case kCases[] = {
      {"no-scheme/x?secret", "bad URL \"no-scheme/x\": no scheme"},
      {"https:///path", "bad URL \"https:///path\": no host"},
      {"https://h:0/", "bad URL \"https://h:0/\": bad port"},
      {"https://h:99999/", "bad URL \"https://h:99999/\": bad port"},
      {"http://[::1/", "bad URL \"http://[::1/\": unclosed '['"},
      {"http://a b/", "bad URL \"http://a b/\": invalid character in host"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.url);
    absl::Status status = ParseUrl(c.url).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(UrlWithoutQueryTest, DropsQueryFragmentAndUserInfo) {
  struct Case {
    std::string in, out;
  };
  const Case kCases[] = {
      {"https://h/a?b=c", "https://h/a"},   {"https://h/a#frag", "https://h/a"},
      {"https://u:p@h/a?x", "https://h/a"}, {"https://h/a@b", "https://h/a@b"},
      {"no scheme?x", "no scheme"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(UrlWithoutQuery(c.in), c.out);
  }
}

TEST(IsLoopbackHostTest, Table) {
  struct Case {
    std::string host;
    bool loopback;
  };
  const Case kCases[] = {
      {"localhost", true},
      {"LocalHost", true},
      {"127.0.0.1", true},
      {"127.1.2.3", true},
      {"::1", true},
      {"[::1]", true},
      {"128.0.0.1", false},
      {"10.0.0.1", false},
      {"example.com", false},
      {"127.example", false},
      {"::2", false},
      {"", false},
      {"localhost.evil.com", false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.host);
    EXPECT_EQ(IsLoopbackHost(c.host), c.loopback);
  }
}

TEST(CheckPlainHttpPolicyTest, Table) {
  struct Case {
    std::string scheme, host;
    bool allow;
    absl::StatusCode code;
  };
  const Case kCases[] = {
      {"https", "example.com", false, absl::StatusCode::kOk},
      {"http", "127.0.0.1", false, absl::StatusCode::kOk},
      {"http", "example.com", true, absl::StatusCode::kOk},
      {"http", "example.com", false, absl::StatusCode::kFailedPrecondition},
      {"ftp", "127.0.0.1", true, absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.scheme + "://" + c.host);
    EXPECT_EQ(CheckPlainHttpPolicy("GET", c.scheme + "://" + c.host + "/?k=v",
                                   c.scheme, c.host, c.allow)
                  .code(),
              c.code);
  }
  EXPECT_EQ(CheckPlainHttpPolicy("POST", "http://example.com/x?tok=1", "http",
                                 "example.com", false)
                .message(),
            "POST http://example.com/x: refusing plain http:// to host "
            "\"example.com\" (only loopback hosts may use http; use https)");
}

TEST(PercentEncodingTest, RoundTrips) {
  EXPECT_EQ(PercentEncode("Block - C2 IPs/é&="),
            "Block%20-%20C2%20IPs%2F%C3%A9%26%3D");
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentDecode("Block%20-+C2%2fx%ZZ%4"), "Block - C2/x%ZZ%4");
  EXPECT_EQ(PercentDecode(PercentEncode("a b&c=d/é")), "a b&c=d/é");
}

}  // namespace
}  // namespace tqs1::http

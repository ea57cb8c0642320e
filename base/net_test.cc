#include "base/net.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::net {
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

TEST(SplitUrlTest, PartsAsWritten) {
  const UrlParts parts = SplitUrl("HTTPS://u:p@[::1]:x/a?b");
  EXPECT_TRUE(parts.has_separator);
  EXPECT_EQ(parts.scheme, "https");
  EXPECT_TRUE(parts.has_user_info);
  EXPECT_EQ(parts.authority.shape, HostPortParts::Shape::kOk);
  EXPECT_EQ(parts.authority.host, "::1");
  EXPECT_TRUE(parts.authority.bracketed);
  EXPECT_TRUE(parts.authority.has_port);
  EXPECT_EQ(parts.authority.port, "x");
  EXPECT_EQ(parts.target, "/a?b");

  const UrlParts bare = SplitUrl("u@h");
  EXPECT_FALSE(bare.has_separator);
  EXPECT_EQ(bare.scheme, "");
  EXPECT_TRUE(bare.has_user_info);
  EXPECT_EQ(bare.authority.host, "h");
  EXPECT_EQ(bare.target, "/");
}

TEST(SplitHostPortTest, Shapes) {
  struct Case {
    std::string text;
    HostPortParts::Shape shape;
    std::string host;
    bool bracketed, has_port;
    std::string port;
  };
  using Shape = HostPortParts::Shape;
  const Case kCases[] = {
      {"h", Shape::kOk, "h", false, false, ""},
      {"h:", Shape::kOk, "h", false, true, ""},
      {"h:80", Shape::kOk, "h", false, true, "80"},
      {"::1:80", Shape::kOk, "::1", false, true, "80"},
      {"[::1]", Shape::kOk, "::1", true, false, ""},
      {"[::1]:80", Shape::kOk, "::1", true, true, "80"},
      {"[::1", Shape::kUnclosedBracket, "", true, false, ""},
      {"[::1]x", Shape::kJunkAfterBracket, "::1", true, false, ""},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.text);
    const HostPortParts parts = SplitHostPort(c.text);
    EXPECT_EQ(parts.shape, c.shape);
    EXPECT_EQ(parts.host, c.host);
    EXPECT_EQ(parts.bracketed, c.bracketed);
    EXPECT_EQ(parts.has_port, c.has_port);
    EXPECT_EQ(parts.port, c.port);
  }
}

TEST(ParseHostPortTest, Table) {
  struct Case {
    const char* address;
    std::string host;
    int port;
  };
  const Case good[] = {{"127.0.0.1:0", "127.0.0.1", 0},
                       {"localhost:50051", "localhost", 50051},
                       {"[::1]:443", "::1", 443},
                       {"0.0.0.0:65535", "0.0.0.0", 65535}};
  for (const Case& c : good) {
    SCOPED_TRACE(c.address);
    absl::StatusOr<HostPort> hp = ParseHostPort(c.address);
    ASSERT_TRUE(hp.ok()) << hp.status();
    EXPECT_EQ(hp->host, c.host);
    EXPECT_EQ(hp->port, c.port);
  }
  struct Bad {
    const char* address;
    const char* message;
  };
  const Bad bad[] = {
      {"127.0.0.1", "address \"127.0.0.1\" has no port (expected HOST:PORT)"},
      {":80", "address \":80\" has no host (expected HOST:PORT)"},
      {"h:70000", "address \"h:70000\" has no valid port (expected HOST:PORT)"},
      {"::1:80",
       "address \"::1:80\" needs brackets around an IPv6 host (expected "
       "HOST:PORT)"},
      {"[::1]", "address \"[::1]\" has no port (expected HOST:PORT)"},
      {"[::1]x80", "address \"[::1]x80\" has no port (expected HOST:PORT)"},
  };
  for (const Bad& c : bad) {
    SCOPED_TRACE(c.address);
    EXPECT_EQ(ParseHostPort(c.address).status(),
              absl::InvalidArgumentError(c.message));
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
      // The config validator once said yes to this one; the transports
      // said no (one IsLoopbackHost now).
      {"localhost.", false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.host);
    EXPECT_EQ(IsLoopbackHost(c.host), c.loopback);
  }
  // From the server's listen-address policy.
  for (const char* host : {"localhost", "127.0.0.1", "127.1.2.3", "::1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host :
       {"0.0.0.0", "::", "10.0.0.1", "example.net", "128.0.0.1", "::2"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
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
}  // namespace tqs1::net

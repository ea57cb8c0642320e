// Network addresses as text, in one place for every layer: the URL parser,
// the "host:port" parser, the one IsLoopbackHost, redaction of URLs for
// error messages, the plain-http policy, and percent-encoding.
//
//   ASSIGN_OR_RETURN(ParsedUrl url, ParseUrl("https://tq.example.net/api"));
//   UrlWithoutQuery("https://u:p@tq.example.net/api/token?client_id=abc")
//       == "https://tq.example.net/api/token"
//   RETURN_IF_ERROR(CheckPlainHttpPolicy("GET", url, "http", host, false));
//   ASSIGN_OR_RETURN(HostPort hp, ParseHostPort("[::1]:50051"));
//   if (IsLoopbackHost(hp.host)) { ... }
//   std::string q = absl::StrCat("?name=", PercentEncode("Block - C2 IPs"));
//
// No libcurl, no sockets: text in, text out.
#ifndef TQS1_BASE_NET_H_
#define TQS1_BASE_NET_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tqs1::net {

// "host", "host:port", "[v6]" or "[v6]:port" in parts, as written, before
// any judgement of the host or the port. Outside brackets the last ':'
// starts the port, so "::1:80" is host "::1", port "80" (callers that want
// brackets around IPv6 check `host` for a ':').
struct HostPortParts {
  enum class Shape {
    kOk,
    kUnclosedBracket,   // "[::1"
    kJunkAfterBracket,  // "[::1]x" (`host` is still set)
  };
  Shape shape = Shape::kOk;
  std::string host;        // without brackets
  bool bracketed = false;  // the host was written in [...]
  bool has_port = false;   // a ':' follows the host (the port may be empty)
  std::string port;        // the text after that ':'
};
HostPortParts SplitHostPort(absl::string_view text);

// A URL in parts, as written, before any judgement of them. Never fails:
// ParseUrl() and callers with their own messages (config validation) judge.
struct UrlParts {
  bool has_separator = false;  // "://" is there
  std::string scheme;          // lower-case text before "://"; "" if none
  bool has_user_info = false;  // "user[:password]@" before the host
  HostPortParts authority;     // without the user info
  std::string target;          // path and query, at least "/"
};
UrlParts SplitUrl(absl::string_view url);

struct ParsedUrl {
  std::string scheme;  // lower-case, e.g. "https"
  std::string host;    // e.g. "tq.example.net", "127.0.0.1", "::1"
  int port = 0;        // 0 when absent
  std::string target;  // path and query, at least "/"
};

// Parses "scheme://[userinfo@]host[:port][/path][?query]". IPv6 hosts are
// bracketed in the URL and returned without brackets. kInvalidArgument when
// the URL does not have that shape (the message shows the URL without its
// query string).
absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url);

// Splits "HOST:PORT" or "[V6HOST]:PORT". kInvalidArgument naming `address`
// when there is no port or the port is not 0..65535, e.g.
// "address \"127.0.0.1\" has no port (expected HOST:PORT)".
struct HostPort {
  std::string host;  // without brackets
  int port = 0;
};
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address);

// `url` without user info, query string or fragment: safe to show in logs
// and error messages.
std::string UrlWithoutQuery(absl::string_view url);

// Whether `host` (no brackets, or bracketed IPv6) names this machine:
// "localhost" in any case, 127.0.0.0/8 or ::1. Nothing else ("localhost."
// and "localhost.example.net" are names a resolver may send elsewhere).
bool IsLoopbackHost(absl::string_view host);

// OK for https, and for http to a loopback host or when `allow_plain_http`.
// Otherwise kFailedPrecondition naming the method, URL (without query) and
// host (without IPv6 brackets); kInvalidArgument for any scheme but
// http/https.
absl::Status CheckPlainHttpPolicy(absl::string_view method,
                                  absl::string_view url,
                                  absl::string_view scheme,
                                  absl::string_view host,
                                  bool allow_plain_http);

// kResourceExhausted: "<method> <url without query>: response body is larger
// than <limit> bytes". Shared so every transport says it the same way.
absl::Status ResponseTooLargeError(absl::string_view method,
                                   absl::string_view url, int64_t limit);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string PercentEncode(absl::string_view value);
// Decodes %XX escapes and '+' (as a space). Invalid escapes are kept as is.
std::string PercentDecode(absl::string_view value);

}  // namespace tqs1::net

#endif  // TQS1_BASE_NET_H_

// Small URL helpers shared by the transports and the clients: a minimal
// parser, redaction for error messages, the plain-http policy, and
// percent-encoding of query values.
//
//   UrlWithoutQuery("https://u:p@tq.example.net/api/token?client_id=abc")
//       == "https://tq.example.net/api/token"
//   RETURN_IF_ERROR(CheckPlainHttpPolicy("GET", url, "http", host, false));
//   std::string q = absl::StrCat("?name=", PercentEncode("Block - C2 IPs"));
#ifndef TQS1_PROVIDERS_HTTP_URL_H_
#define TQS1_PROVIDERS_HTTP_URL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tqs1::http {

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

// `url` without user info, query string or fragment: safe to show in logs
// and error messages.
std::string UrlWithoutQuery(absl::string_view url);

// Whether `host` (no brackets, or bracketed IPv6) names this machine:
// "localhost", 127.0.0.0/8 or ::1.
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

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_URL_H_

// The one door to the network: an HTTP transport interface with no libcurl
// dependency. Clients (ThreatQ, SentinelOne) take an HttpTransport in their
// constructor; production wires the libcurl implementation, tests wire a fake
// or the libcurl implementation pointed at an emulator on loopback.
//
//   HttpRequest req;
//   req.method = "GET";
//   req.url = "https://console.example.net/web/api/v2.1/sites?name=HQ";
//   req.headers.emplace_back("Authorization", "ApiToken " + token);
//   absl::StatusOr<HttpResponse> resp = transport.Send(req);
//   if (!resp.ok()) return resp.status();     // no response at all
//   if (resp->status != 200) ...              // a response, maybe an error
#ifndef TQS1_PROVIDERS_HTTP_HTTP_TRANSPORT_H_
#define TQS1_PROVIDERS_HTTP_HTTP_TRANSPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tqs1::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  // "GET", "POST", "PUT" or "DELETE" (DELETE may carry a body).
  std::string method;
  // Absolute URL with any query string already encoded.
  std::string url;
  Headers headers;
  std::string body;
  // Whether sending the request twice has the same effect as once. Defaults
  // by method (POST is not idempotent); a transport never re-sends a
  // non-idempotent request on its own once any byte of it may have reached
  // the server.
  std::optional<bool> idempotent;

  bool IsIdempotent() const { return idempotent.value_or(method != "POST"); }
};

struct HttpResponse {
  int status = 0;
  // Header names as received; look them up with Header().
  Headers headers;
  std::string body;

  // The first header named `name` (case-insensitive), if any.
  std::optional<std::string> Header(absl::string_view name) const;
};

// Sends HTTP requests.
//
// Send() returns a response for every HTTP status, 4xx and 5xx included; it
// fails only when no complete response arrived:
//   kUnavailable        connection refused or reset, DNS failure, response
//                       cut short: may succeed if tried again. When the
//                       request was not idempotent and may have reached the
//                       server, the status carries IsOutcomeUnknown().
//   kDeadlineExceeded   the connect or total timeout passed.
//   kFailedPrecondition TLS verification failed, or a policy refused the
//                       URL (plain http:// to a non-loopback host).
//   kInvalidArgument    the request is malformed (bad URL or method).
//   kResourceExhausted  the response body is larger than allowed.
// Error messages name the method and URL without the query string and never
// contain header values or bodies (they may hold secrets).
//
// Implementations are thread-safe.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

// Marks `status` as "the request may or may not have been applied": the
// caller must find out by reading, never by re-sending blindly.
absl::Status MarkOutcomeUnknown(absl::Status status);
bool IsOutcomeUnknown(const absl::Status& status);

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_HTTP_TRANSPORT_H_

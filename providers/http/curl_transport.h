// HttpTransport over libcurl: TLS verification on by default, connection
// reuse for idempotent requests, a fresh connection for every
// non-idempotent one, bounded response bodies, no redirects followed.
//
//   CurlTransportOptions options;
//   options.version = "1.4.0";                  // User-Agent: tqs1/1.4.0
//   options.ca_bundle_file = "/etc/tqs1/threatq-ca.pem";
//   options.logger = &logger;
//   ASSIGN_OR_RETURN(std::unique_ptr<CurlTransport> transport,
//                    CurlTransport::Create(options));
//   ASSIGN_OR_RETURN(HttpResponse response, transport->Send(request));
#ifndef TQS1_PROVIDERS_HTTP_CURL_TRANSPORT_H_
#define TQS1_PROVIDERS_HTTP_CURL_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/logger.h"
#include "providers/http/http_transport.h"

namespace tqs1::http {

struct CurlTransportOptions {
  // Sent as "User-Agent: tqs1/<version>".
  std::string version = "dev";
  absl::Duration connect_timeout = absl::Seconds(10);
  // Whole request, connect included.
  absl::Duration total_timeout = absl::Minutes(2);
  // PEM file of CAs to trust instead of the system store (e.g. a ThreatQ
  // appliance's own CA). Empty: the system store.
  std::string ca_bundle_file;
  // Turns TLS certificate and host name verification OFF. Logged loudly at
  // Create(). Only for a lab; prefer ca_bundle_file.
  bool insecure_skip_tls_verify = false;
  // Allows plain http:// to hosts other than loopback.
  bool allow_plain_http = false;
  // Larger (decompressed) response bodies fail with kResourceExhausted.
  int64_t max_response_body_bytes = 64 << 20;
  // Not owned; may be null (silent). Must outlive the transport.
  log::Logger* logger = nullptr;
};

// Thread-safe: concurrent Send() calls each take an easy handle from a
// small pool; idle handles keep their connections for reuse. Proxies come
// from the standard environment variables (https_proxy, no_proxy, ...), as
// libcurl does by default.
class CurlTransport : public HttpTransport {
 public:
  // kInvalidArgument when ca_bundle_file is set but unreadable, or a timeout
  // is not positive; kInternal when libcurl cannot initialise.
  static absl::StatusOr<std::unique_ptr<CurlTransport>> Create(
      CurlTransportOptions options);

  ~CurlTransport() override;

  // See HttpTransport. Methods: GET, POST, PUT, PATCH, DELETE (a body is
  // sent whenever `request.body` is not empty, and always for POST/PUT/
  // PATCH). Redirects are returned, not followed.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  explicit CurlTransport(CurlTransportOptions options)
      : options_(std::move(options)) {}
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  const CurlTransportOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);  // CURL* easy handles
};

// The one CURLcode -> absl::Status mapping (code as int so that this header
// needs no curl.h):
//   kUnavailable        resolve/connect failures, send/receive errors, empty
//                       or cut-short responses, TLS handshake failures
//   kDeadlineExceeded   CURLE_OPERATION_TIMEDOUT
//   kFailedPrecondition certificate verification, bad CA file, redirects
//   kInvalidArgument    malformed URL, unsupported protocol
//   kResourceExhausted  file size exceeded, out of memory
//   kCancelled          aborted by callback
//   kInternal           write errors; kUnknown anything else.
// Message: "<method> <url without query>: <curl's text for the code>" plus
// " (<detail>)" when `detail` is not empty; any query string of `url` found
// in `detail` is cut out.
absl::Status CurlCodeToStatus(int curl_code, absl::string_view method,
                              absl::string_view url, absl::string_view detail);

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_CURL_TRANSPORT_H_

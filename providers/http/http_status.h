// The one HTTP status -> absl::Status mapping for the vendor clients. The
// code says what the caller should do (retry, re-read, fix config...).
//
//   if (response.status != 200) {
//     return HttpStatusToStatus(response.status, "GET", url,
//                               "ThreatQ: listing data collections");
//   }
#ifndef TQS1_PROVIDERS_HTTP_HTTP_STATUS_H_
#define TQS1_PROVIDERS_HTTP_HTTP_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tqs1::http {

// The one table from an HTTP status to an absl::StatusCode; every vendor
// client and the retry layer use it (a vendor layer may add its own detail
// to the message, never its own code). kOk for 2xx. Otherwise:
//   3xx                 kFailedPrecondition (redirects are never followed:
//                       usually a wrong base URL)
//   400, 405, 413, 422  kInvalidArgument (our request is wrong)
//   401                 kUnauthenticated
//   403                 kPermissionDenied
//   404, 410            kNotFound
//   409                 kAlreadyExists
//   412                 kFailedPrecondition
//   408, 429, 5xx       kUnavailable (retry later); 501 kUnimplemented
//   other 4xx           kFailedPrecondition
//   anything else       kUnknown
// Decisions where the SentinelOne wire layer and the retry layer used to
// disagree with this table (they now ask it):
//   408 Request Timeout: kUnavailable, retried like a 5xx. The server gave
//       up waiting for the request; sending it again is the cure, not a
//       human (it was kFailedPrecondition for SentinelOne, never retried).
//   410 Gone: kNotFound. The resource is gone for good: deleting it is done,
//       reading it finds nothing (it was kFailedPrecondition for
//       SentinelOne, which stopped a delete of a rule already gone).
//   501 Not Implemented: kUnimplemented, never retried. The server lacks
//       the method (an older console, a wrong URL): neither a retry nor a
//       re-read helps (it was kUnavailable for SentinelOne, so a write was
//       re-read as if it might have been applied).
//   405, 413, 422: kInvalidArgument (they were kFailedPrecondition for
//       SentinelOne); 1xx and other non-HTTP codes: kUnknown (likewise).
absl::StatusCode HttpStatusCode(int http_status);

// What a retry layer may do after an answer of `http_status` (from
// HttpStatusCode, so the two cannot disagree):
enum class HttpRetry {
  kNever,         // anything but kUnavailable: the answer stands
  kIfIdempotent,  // kUnavailable but 429 (408, 5xx but 501): the server may
                  // have acted on the request; only an idempotent one may
                  // be sent again
  kAlways,        // 429: the server refused the request without acting on
                  // it; any request may be sent again
};
HttpRetry HttpRetryFor(int http_status);

// OK for 2xx. Otherwise the code of HttpStatusCode() and the message
// "<context>: HTTP <code> <reason> from <method> <url without query>" plus
// ": <detail>" when `detail` is not empty. `detail` must not hold secrets;
// callers pass a server error text they extracted, never a whole body.
absl::Status HttpStatusToStatus(int http_status, absl::string_view method,
                                absl::string_view url,
                                absl::string_view context,
                                absl::string_view detail = "");

// "OK", "Not Found", ... ("" for codes it does not know).
absl::string_view HttpReasonPhrase(int http_status);

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_HTTP_STATUS_H_

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

// OK for 2xx. Otherwise:
//   3xx                 kFailedPrecondition (redirects are never followed:
//                       usually a wrong base URL)
//   400, 405, 413, 422  kInvalidArgument
//   401                 kUnauthenticated
//   403                 kPermissionDenied
//   404, 410            kNotFound
//   409                 kAlreadyExists
//   412                 kFailedPrecondition
//   408, 429, 5xx       kUnavailable (retry later); 501 kUnimplemented
//   other 4xx           kFailedPrecondition
//   anything else       kUnknown
// Message: "<context>: HTTP <code> <reason> from <method> <url without
// query>" plus ": <detail>" when `detail` is not empty. `detail` must not
// hold secrets; callers pass a server error text they extracted, never a
// whole body.
absl::Status HttpStatusToStatus(int http_status, absl::string_view method,
                                absl::string_view url,
                                absl::string_view context,
                                absl::string_view detail = "");

// "OK", "Not Found", ... ("" for codes it does not know).
absl::string_view HttpReasonPhrase(int http_status);

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_HTTP_STATUS_H_

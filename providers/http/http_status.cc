#include "providers/http/http_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "base/net.h"

namespace tqs1::http {

// The table of http_status.h; its decisions are written there.
absl::StatusCode HttpStatusCode(int s) {
  if (s >= 200 && s < 300) return absl::StatusCode::kOk;
  if (s >= 300 && s < 400) return absl::StatusCode::kFailedPrecondition;
  switch (s) {
    case 400:
    case 405:
    case 413:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAlreadyExists;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 408:
    case 429:
      return absl::StatusCode::kUnavailable;
    case 501:
      return absl::StatusCode::kUnimplemented;
    default:
      break;
  }
  if (s >= 500 && s < 600) return absl::StatusCode::kUnavailable;
  if (s >= 400 && s < 500) return absl::StatusCode::kFailedPrecondition;
  return absl::StatusCode::kUnknown;
}

HttpRetry HttpRetryFor(int http_status) {
  if (HttpStatusCode(http_status) != absl::StatusCode::kUnavailable) {
    return HttpRetry::kNever;
  }
  return http_status == 429 ? HttpRetry::kAlways : HttpRetry::kIfIdempotent;
}

absl::string_view HttpReasonPhrase(int s) {
  switch (s) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

absl::Status HttpStatusToStatus(int http_status, absl::string_view method,
                                absl::string_view url,
                                absl::string_view context,
                                absl::string_view detail) {
  const absl::StatusCode code = HttpStatusCode(http_status);
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  absl::string_view reason = HttpReasonPhrase(http_status);
  std::string message =
      absl::StrCat(context, context.empty() ? "" : ": ", "HTTP ", http_status,
                   reason.empty() ? "" : " ", reason, " from ", method, " ",
                   net::UrlWithoutQuery(url));
  if (!detail.empty()) absl::StrAppend(&message, ": ", detail);
  return absl::Status(code, message);
}

}  // namespace tqs1::http

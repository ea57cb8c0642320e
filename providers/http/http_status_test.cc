#include "providers/http/http_status.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tqs1::http {
namespace {

TEST(HttpStatusToStatusTest, CodeAndMessage) {
  struct Case {
    int http;
    absl::StatusCode code;
    std::string message;
  };
  const std::string kSuffix = " from GET https://h/api/x";
  const Case kCases[] = {
      {200, absl::StatusCode::kOk, ""},
      {204, absl::StatusCode::kOk, ""},
      {301, absl::StatusCode::kFailedPrecondition,
       "ctx: HTTP 301 Moved Permanently"},
      {400, absl::StatusCode::kInvalidArgument, "ctx: HTTP 400 Bad Request"},
      {401, absl::StatusCode::kUnauthenticated, "ctx: HTTP 401 Unauthorized"},
      {403, absl::StatusCode::kPermissionDenied, "ctx: HTTP 403 Forbidden"},
      {404, absl::StatusCode::kNotFound, "ctx: HTTP 404 Not Found"},
      {405, absl::StatusCode::kInvalidArgument,
       "ctx: HTTP 405 Method Not Allowed"},
      {408, absl::StatusCode::kUnavailable, "ctx: HTTP 408 Request Timeout"},
      {409, absl::StatusCode::kAlreadyExists, "ctx: HTTP 409 Conflict"},
      {410, absl::StatusCode::kNotFound, "ctx: HTTP 410 Gone"},
      {412, absl::StatusCode::kFailedPrecondition,
       "ctx: HTTP 412 Precondition Failed"},
      {413, absl::StatusCode::kInvalidArgument,
       "ctx: HTTP 413 Payload Too Large"},
      {418, absl::StatusCode::kFailedPrecondition, "ctx: HTTP 418"},
      {422, absl::StatusCode::kInvalidArgument,
       "ctx: HTTP 422 Unprocessable Entity"},
      {429, absl::StatusCode::kUnavailable, "ctx: HTTP 429 Too Many Requests"},
      {500, absl::StatusCode::kUnavailable,
       "ctx: HTTP 500 Internal Server Error"},
      {501, absl::StatusCode::kUnimplemented, "ctx: HTTP 501 Not Implemented"},
      {502, absl::StatusCode::kUnavailable, "ctx: HTTP 502 Bad Gateway"},
      {503, absl::StatusCode::kUnavailable,
       "ctx: HTTP 503 Service Unavailable"},
      {599, absl::StatusCode::kUnavailable, "ctx: HTTP 599"},
      {100, absl::StatusCode::kUnknown, "ctx: HTTP 100"},
      {0, absl::StatusCode::kUnknown, "ctx: HTTP 0"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.http);
    absl::Status status =
        HttpStatusToStatus(c.http, "GET", "https://h/api/x?secret=1", "ctx");
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(),
              c.message.empty() ? "" : absl::StrCat(c.message, kSuffix));
  }
}

TEST(HttpStatusToStatusTest, DetailAndEmptyContext) {
  EXPECT_EQ(
      HttpStatusToStatus(400, "POST", "https://h/t", "", "bad email").message(),
      "HTTP 400 Bad Request from POST https://h/t: bad email");
}

// The retry verdict reads the same table: what is kUnavailable may be sent
// again; only a 429 (refused before any work) whatever the method.
TEST(HttpRetryForTest, FollowsTheCodeTable) {
  struct Case {
    int http;
    HttpRetry retry;
  };
  const Case kCases[] = {
      {200, HttpRetry::kNever},        {302, HttpRetry::kNever},
      {400, HttpRetry::kNever},        {404, HttpRetry::kNever},
      {408, HttpRetry::kIfIdempotent}, {409, HttpRetry::kNever},
      {410, HttpRetry::kNever},        {429, HttpRetry::kAlways},
      {500, HttpRetry::kIfIdempotent}, {501, HttpRetry::kNever},
      {502, HttpRetry::kIfIdempotent}, {503, HttpRetry::kIfIdempotent},
      {504, HttpRetry::kIfIdempotent}, {599, HttpRetry::kIfIdempotent},
      {0, HttpRetry::kNever},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.http);
    EXPECT_EQ(HttpRetryFor(c.http), c.retry);
    EXPECT_EQ(c.retry != HttpRetry::kNever,
              HttpStatusCode(c.http) == absl::StatusCode::kUnavailable);
  }
}

}  // namespace
}  // namespace tqs1::http

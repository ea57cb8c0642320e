// An HttpTransport decorator that retries what is safe to retry: 429 (after
// Retry-After), 408, 5xx and kUnavailable failures, with exponential backoff
// and full jitter, bounded attempts and an overall deadline.
//
//   RetryOptions retry;
//   retry.max_attempts = 5;
//   RetryingTransport transport(std::move(curl_transport), retry);
//   ASSIGN_OR_RETURN(HttpResponse response, transport.Send(request));
//
// What is retried (an HTTP answer: as HttpRetryFor() in http_status.h says,
// from the one HTTP status table):
//   429                       any request (the server did not process it);
//                             waits Retry-After (seconds or HTTP-date),
//                             capped at max_retry_after; without a usable
//                             one, 5 s doubling to 60 s (RetryOptions).
//                             A 429 has its own, larger, budget of attempts
//                             and time: rate limits are often per minute.
//                             Each 429 is logged at kWarning with what it
//                             carried (Retry-After, a redacted body excerpt).
//   408, 5xx (not 501)        idempotent requests only: a non-idempotent
//                             request may have been applied; the caller
//                             must re-read instead.
//   kUnavailable              idempotent requests, and non-idempotent ones
//                             whose status is not IsOutcomeUnknown() (e.g.
//                             connection refused: never sent).
// Everything else (other statuses, kDeadlineExceeded, policy and TLS
// errors) is returned at once. When attempts or the deadline run out, the
// last response or error is returned as is.
#ifndef TQS1_PROVIDERS_HTTP_RETRYING_TRANSPORT_H_
#define TQS1_PROVIDERS_HTTP_RETRYING_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/clock.h"
#include "base/logger.h"
#include "providers/http/http_transport.h"

namespace tqs1::http {

struct RetryOptions {
  // Attempts in all, the first included (at least 1).
  int max_attempts = 5;
  // Backoff before retry n (n = 0, 1, ...) is uniform in
  // [0, min(max_backoff, initial_backoff * 2^n)] ("full jitter").
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  // A longer Retry-After is cut to this.
  absl::Duration max_retry_after = absl::Minutes(2);
  // No retry starts (or sleeps) past this much time after the first
  // attempt began.
  absl::Duration deadline = absl::Minutes(5);
  // After a 429 without a usable Retry-After, retry n (n = 0, 1, ... counts
  // this request's 429s) waits b = min(max_rate_limit_backoff,
  // rate_limit_backoff * 2^n), plus up to rate_limit_jitter * b (upward
  // only: never less than b, at most b * (1 + rate_limit_jitter)).
  absl::Duration rate_limit_backoff = absl::Seconds(5);
  absl::Duration max_rate_limit_backoff = absl::Seconds(60);
  double rate_limit_jitter = 0.2;
  // Used instead of max_attempts and deadline when the last answer was a
  // 429 (the server did not process the request; its window may be a
  // minute long). Both count from the first attempt, whatever it answered.
  int max_rate_limit_attempts = 8;
  absl::Duration rate_limit_deadline = absl::Minutes(10);
  // Texts taken out of the body excerpt of a logged 429, besides the
  // credentials the request itself carries (a password sent in a body).
  std::vector<std::string> secrets;
  // Seed of the jitter; the same seed gives the same waits.
  uint64_t seed = 0x7471733172657472;  // "tqs1retr"
  // Not owned; null: RealClock(). Must outlive the transport.
  Clock* clock = nullptr;
  // Not owned; may be null. Each retry is logged at kInfo, each 429 and
  // each deadline that stops retrying at kWarning.
  log::Logger* logger = nullptr;
};

// Thread-safe when the wrapped transport is.
class RetryingTransport : public HttpTransport {
 public:
  RetryingTransport(std::unique_ptr<HttpTransport> base, RetryOptions options);

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  absl::Duration Backoff(int retry);
  absl::Duration RateLimitBackoff(int rate_limited);
  void LogRateLimited(const HttpRequest& request, const HttpResponse& response,
                      int attempt, int max_attempts,
                      const std::optional<std::string>& retry_after,
                      absl::Duration wait, absl::string_view stop);

  const std::unique_ptr<HttpTransport> base_;
  const RetryOptions options_;
  Clock& clock_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date ("Wed,
// 21 Oct 2015 07:28:00 GMT", made relative to `now`; a past date gives
// zero). nullopt when it is neither.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now);

// A one-line excerpt of a response body for a log line: control characters
// and runs of white space become one space, every occurrence of `secrets`
// is replaced by "[redacted]" before anything is cut, and the text is cut
// to at most `max_bytes` (on a UTF-8 boundary, "..." appended). Prefixed
// with the body's size: `312 bytes: {"errors":[...]}`, or "empty".
std::string BodyExcerpt(absl::string_view body,
                        absl::Span<const absl::string_view> secrets,
                        size_t max_bytes = 200);

// The credentials `request` carries, for redaction: the values of its
// Authorization, Cookie and other token, key, secret or auth headers (also
// without their scheme, and Basic credentials decoded), and the values of
// such query parameters.
std::vector<std::string> RequestSecrets(const HttpRequest& request);

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_RETRYING_TRANSPORT_H_

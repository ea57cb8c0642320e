#include "providers/http/retrying_transport.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/net.h"
#include "providers/http/http_status.h"

namespace tqs1::http {
namespace {

// What an attempt's outcome asks for.
enum class Verdict { kReturn, kRetry };

Verdict Judge(const HttpRequest& request,
              const absl::StatusOr<HttpResponse>& outcome) {
  const bool idempotent = request.IsIdempotent();
  if (outcome.ok()) {
    switch (HttpRetryFor(outcome->status)) {
      case HttpRetry::kAlways:
        return Verdict::kRetry;
      case HttpRetry::kIfIdempotent:
        return idempotent ? Verdict::kRetry : Verdict::kReturn;
      case HttpRetry::kNever:
        return Verdict::kReturn;
    }
  }
  if (outcome.status().code() != absl::StatusCode::kUnavailable) {
    return Verdict::kReturn;
  }
  if (idempotent || !IsOutcomeUnknown(outcome.status())) {
    return Verdict::kRetry;
  }
  return Verdict::kReturn;
}

std::string Describe(const absl::StatusOr<HttpResponse>& outcome) {
  if (outcome.ok()) return absl::StrCat("HTTP ", outcome->status);
  return std::string(absl::StatusCodeToString(outcome.status().code()));
}

}  // namespace

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  // IMF-fixdate, always GMT.
  if (!absl::EndsWith(value, " GMT")) return std::nullopt;
  std::string text = absl::StrCat(value.substr(0, value.size() - 4), " +0000");
  absl::Time when;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S %z", text, &when, &error)) {
    return std::nullopt;
  }
  return std::max(absl::ZeroDuration(), when - now);
}

RetryingTransport::RetryingTransport(std::unique_ptr<HttpTransport> base,
                                     RetryOptions options)
    : base_(std::move(base)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock()),
      rng_(options_.seed) {}

absl::Duration RetryingTransport::Backoff(int retry) {
  absl::Duration cap = options_.initial_backoff;
  for (int i = 0; i < retry && cap < options_.max_backoff; ++i) cap *= 2;
  cap = std::min(cap, options_.max_backoff);
  absl::MutexLock lock(&mu_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return cap * unit(rng_);
}

absl::StatusOr<HttpResponse> RetryingTransport::Send(
    const HttpRequest& request) {
  const absl::Time deadline = clock_.Now() + options_.deadline;
  const int max_attempts = std::max(1, options_.max_attempts);
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpResponse> outcome = base_->Send(request);
    if (Judge(request, outcome) == Verdict::kReturn ||
        attempt >= max_attempts) {
      return outcome;
    }
    absl::Duration wait = Backoff(attempt - 1);
    if (outcome.ok() && outcome->status == 429) {
      if (std::optional<std::string> header = outcome->Header("Retry-After")) {
        if (std::optional<absl::Duration> after =
                ParseRetryAfter(*header, clock_.Now())) {
          wait = std::min(*after, options_.max_retry_after);
        }
      }
    }
    if (clock_.Now() + wait > deadline) {
      log::LogTo(
          options_.logger, log::LogLevel::kWarning,
          absl::StrCat("giving up on ", request.method, " ",
                       net::UrlWithoutQuery(request.url), " after ",
                       Describe(outcome), ": the retry deadline of ",
                       absl::FormatDuration(options_.deadline), " would pass"));
      return outcome;
    }
    log::LogTo(
        options_.logger, log::LogLevel::kInfo,
        absl::StrCat("retrying ", request.method, " ",
                     net::UrlWithoutQuery(request.url), " after ",
                     Describe(outcome), " in ", absl::FormatDuration(wait),
                     " (attempt ", attempt + 1, " of ", max_attempts, ")"));
    clock_.SleepFor(wait);
  }
}

}  // namespace tqs1::http

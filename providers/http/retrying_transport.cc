#include "providers/http/retrying_transport.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/net.h"
#include "base/redact.h"
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

// Whether a header or query parameter named `name` may carry a credential.
bool IsSensitiveName(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (absl::string_view word :
       {"auth", "cookie", "token", "secret", "password", "key", "session"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

// `text` on one line: control characters and runs of white space become
// one space; leading and trailing space is dropped.
std::string OneLine(absl::string_view text) {
  std::string line;
  line.reserve(text.size());
  bool space = false;
  for (const char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ') {
      space = !line.empty();
      continue;
    }
    if (space) line.push_back(' ');
    space = false;
    line.push_back(c);
  }
  return line;
}

// `text` cut to at most `max_bytes`, never inside a UTF-8 sequence.
std::string CutUtf8(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  text.resize(end);
  return text;
}

// How much of a body BodyExcerpt() reads at most.
constexpr size_t kExcerptScan = 64 * 1024;

}  // namespace

std::string BodyExcerpt(absl::string_view body,
                        absl::Span<const absl::string_view> secrets,
                        size_t max_bytes) {
  if (body.empty()) return "empty";
  const bool scan_cut = body.size() > kExcerptScan;
  // Redacted before it is cut, so that no part of a secret is left.
  std::string line =
      OneLine(RedactSecrets(body.substr(0, kExcerptScan), secrets));
  const std::string size = absl::StrCat(body.size(), " bytes");
  // A scan cut inside a secret leaves its start unredacted at the end of
  // the line: only shown when the line is cut well before it.
  if (scan_cut && line.size() <= max_bytes) {
    return absl::StrCat(size, ", mostly blank");
  }
  if (line.empty()) return absl::StrCat(size, ", all blank");
  if (line.size() <= max_bytes) return absl::StrCat(size, ": ", line);
  return absl::StrCat(size, ": ", CutUtf8(std::move(line), max_bytes), "...");
}

std::vector<std::string> RequestSecrets(const HttpRequest& request) {
  std::vector<std::string> secrets;
  auto add_credential = [&secrets](absl::string_view value) {
    value = absl::StripAsciiWhitespace(value);
    if (value.empty()) return;
    secrets.emplace_back(value);
    // "ApiToken <t>", "Bearer <t>", "Basic <base64 id:secret>".
    const size_t space = value.find(' ');
    if (space == absl::string_view::npos) return;
    const absl::string_view scheme = value.substr(0, space);
    const absl::string_view credential =
        absl::StripAsciiWhitespace(value.substr(space + 1));
    if (credential.empty()) return;
    secrets.emplace_back(credential);
    std::string decoded;
    if (absl::EqualsIgnoreCase(scheme, "Basic") &&
        absl::Base64Unescape(credential, &decoded) && !decoded.empty()) {
      const size_t colon = decoded.find(':');
      if (colon != std::string::npos && colon + 1 < decoded.size()) {
        secrets.push_back(decoded.substr(colon + 1));
      }
      secrets.push_back(std::move(decoded));
    }
  };
  for (const auto& [name, value] : request.headers) {
    if (IsSensitiveName(name)) add_credential(value);
  }
  const size_t query = request.url.find('?');
  if (query != std::string::npos) {
    absl::string_view rest = absl::string_view(request.url).substr(query + 1);
    rest = rest.substr(0, rest.find('#'));
    for (absl::string_view pair : absl::StrSplit(rest, '&')) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(pair, absl::MaxSplits('=', 1));
      if (kv.second.empty() || !IsSensitiveName(net::PercentDecode(kv.first))) {
        continue;
      }
      secrets.emplace_back(kv.second);
      secrets.push_back(net::PercentDecode(kv.second));
    }
  }
  return secrets;
}

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

absl::Duration RetryingTransport::RateLimitBackoff(int rate_limited) {
  absl::Duration base = options_.rate_limit_backoff;
  for (int i = 0; i < rate_limited && base < options_.max_rate_limit_backoff;
       ++i) {
    base *= 2;
  }
  base = std::min(base, options_.max_rate_limit_backoff);
  const double jitter = std::max(0.0, options_.rate_limit_jitter);
  if (jitter == 0) return base;
  absl::MutexLock lock(&mu_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return base + base * (jitter * unit(rng_));
}

void RetryingTransport::LogRateLimited(
    const HttpRequest& request, const HttpResponse& response, int attempt,
    int max_attempts, const std::optional<std::string>& retry_after,
    absl::Duration wait, absl::string_view stop) {
  if (options_.logger == nullptr) return;
  std::vector<std::string> owned = RequestSecrets(request);
  std::vector<absl::string_view> secrets(owned.begin(), owned.end());
  secrets.insert(secrets.end(), options_.secrets.begin(),
                 options_.secrets.end());
  std::string header = "none";
  if (retry_after.has_value()) {
    header = absl::StrCat(
        "\"", CutUtf8(OneLine(RedactSecrets(*retry_after, secrets)), 64), "\"");
    if (!ParseRetryAfter(*retry_after, clock_.Now()).has_value()) {
      absl::StrAppend(&header, " (not usable)");
    }
  }
  const std::string next =
      stop.empty() ? absl::StrCat("retrying in ", absl::FormatDuration(wait))
                   : absl::StrCat("giving up: ", stop);
  options_.logger->Log(
      log::LogLevel::kWarning,
      absl::StrCat("rate limited (HTTP 429) on ", request.method, " ",
                   net::UrlWithoutQuery(request.url), ", attempt ", attempt,
                   " of ", max_attempts, "; Retry-After: ", header, "; ", next,
                   "; body: ", BodyExcerpt(response.body, secrets)));
}

absl::StatusOr<HttpResponse> RetryingTransport::Send(
    const HttpRequest& request) {
  const absl::Time start = clock_.Now();
  int rate_limited = 0;  // 429 answers so far
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpResponse> outcome = base_->Send(request);
    if (Judge(request, outcome) == Verdict::kReturn) return outcome;
    const bool is_429 = outcome.ok() && outcome->status == 429;
    const int max_attempts = std::max(
        1, is_429 ? options_.max_rate_limit_attempts : options_.max_attempts);
    const absl::Duration budget =
        is_429 ? options_.rate_limit_deadline : options_.deadline;
    std::optional<std::string> retry_after;
    absl::Duration wait;
    if (is_429) {
      retry_after = outcome->Header("Retry-After");
      std::optional<absl::Duration> after;
      if (retry_after.has_value()) {
        after = ParseRetryAfter(*retry_after, clock_.Now());
      }
      wait = after.has_value() ? std::min(*after, options_.max_retry_after)
                               : RateLimitBackoff(rate_limited);
      ++rate_limited;
    } else {
      wait = Backoff(attempt - 1);
    }
    std::string stop;  // why no retry follows; empty when one does
    if (attempt >= max_attempts) {
      stop = "no attempts left";
    } else if (clock_.Now() + wait > start + budget) {
      stop = absl::StrCat("the ", is_429 ? "429 " : "", "retry deadline of ",
                          absl::FormatDuration(budget), " would pass");
    }
    if (is_429) {
      LogRateLimited(request, *outcome, attempt, max_attempts, retry_after,
                     wait, stop);
    } else if (!stop.empty() && attempt < max_attempts) {
      log::LogTo(options_.logger, log::LogLevel::kWarning,
                 absl::StrCat("giving up on ", request.method, " ",
                              net::UrlWithoutQuery(request.url), " after ",
                              Describe(outcome), ": ", stop));
    } else if (stop.empty()) {
      log::LogTo(
          options_.logger, log::LogLevel::kInfo,
          absl::StrCat("retrying ", request.method, " ",
                       net::UrlWithoutQuery(request.url), " after ",
                       Describe(outcome), " in ", absl::FormatDuration(wait),
                       " (attempt ", attempt + 1, " of ", max_attempts, ")"));
    }
    if (!stop.empty()) return outcome;
    clock_.SleepFor(wait);
  }
}

}  // namespace tqs1::http

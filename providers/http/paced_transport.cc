#include "providers/http/paced_transport.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/net.h"

namespace tqs1::http {
namespace {

absl::Duration IntervalFor(double writes_per_second) {
  if (!std::isfinite(writes_per_second) || writes_per_second <= 0) {
    return absl::ZeroDuration();
  }
  return absl::Seconds(1.0 / writes_per_second);
}

}  // namespace

bool IsPacedWrite(const HttpRequest& request) {
  return request.method != "GET" && request.method != "HEAD";
}

PacedTransport::PacedTransport(std::unique_ptr<HttpTransport> base,
                               PaceOptions options)
    : base_(std::move(base)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock()),
      interval_(IntervalFor(options_.writes_per_second)) {}

void PacedTransport::AwaitTurn(const HttpRequest& request) {
  absl::Time now;
  absl::Time start;
  {
    absl::MutexLock lock(&mu_);
    now = clock_.Now();
    start = next_.has_value() ? std::max(now, *next_) : now;
    next_ = start + interval_;
  }
  if (start <= now) return;
  log::LogTo(options_.logger, log::LogLevel::kDebug,
             absl::StrCat("pacing ", request.method, " ",
                          net::UrlWithoutQuery(request.url), ": waiting ",
                          absl::FormatDuration(start - now), " (at most ",
                          options_.writes_per_second, " writes a second)"));
  clock_.SleepFor(start - now);
}

absl::StatusOr<HttpResponse> PacedTransport::Send(const HttpRequest& request) {
  if (interval_ > absl::ZeroDuration() && IsPacedWrite(request)) {
    AwaitTurn(request);
  }
  return base_->Send(request);
}

}  // namespace tqs1::http

#include "tests/soak/fault_scheduler.h"

#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tqs1::soak {
namespace {

// The path of `url` ("http://host:port/path?query" -> "/path").
std::string PathOf(absl::string_view url) {
  size_t scheme = url.find("://");
  size_t start =
      url.find('/', scheme == absl::string_view::npos ? 0 : scheme + 3);
  if (start == absl::string_view::npos) return "/";
  size_t end = url.find('?', start);
  return std::string(url.substr(start, end == absl::string_view::npos
                                           ? absl::string_view::npos
                                           : end - start));
}

}  // namespace

FaultScheduler::FaultScheduler(std::unique_ptr<http::HttpTransport> base,
                               emulator::EmulatorServer* server, uint64_t seed)
    : base_(std::move(base)), server_(server), rng_(seed) {}

void FaultScheduler::set_rate(double rate) {
  absl::MutexLock lock(&mu_);
  rate_ = rate;
}

absl::StatusOr<http::HttpResponse> FaultScheduler::Send(
    const http::HttpRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    ++requests_;
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < rate_) {
      emulator::Fault fault;
      fault.method = request.method;
      // The exact path: only this request can match (the client sends one
      // request at a time).
      fault.path_prefix = PathOf(request.url);
      fault.count = 1;
      const int pick = static_cast<int>(rng_() % 100);
      if (pick < 30) {
        fault.kind = emulator::FaultKind::kTooManyRequests;
        fault.retry_after = absl::Seconds(1 + rng_() % 3);
      } else if (pick < 50) {
        fault.kind = emulator::FaultKind::kServerError;
        fault.status = pick < 45 ? 500 : 503;
      } else if (pick < 65) {
        fault.kind = emulator::FaultKind::kDropConnection;
      } else if (pick < 85 && lose_responses_ && request.method != "GET") {
        fault.kind = emulator::FaultKind::kLoseResponse;
      } else {
        fault.kind = emulator::FaultKind::kDelay;
        fault.delay = absl::Milliseconds(2 + rng_() % 20);
      }
      ++injected_[std::string(emulator::FaultKindName(fault.kind))];
      server_->InjectFault(std::move(fault));
    }
  }
  absl::StatusOr<http::HttpResponse> response = base_->Send(request);
  // A fault whose request never reached the server (e.g. the connection
  // failed first) must not hit a later request.
  server_->ClearFaults();
  return response;
}

std::map<std::string, int64_t> FaultScheduler::Injected() const {
  absl::MutexLock lock(&mu_);
  return injected_;
}

int64_t FaultScheduler::TotalInjected() const {
  absl::MutexLock lock(&mu_);
  int64_t total = 0;
  for (const auto& [kind, n] : injected_) total += n;
  return total;
}

int64_t FaultScheduler::Requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

}  // namespace tqs1::soak

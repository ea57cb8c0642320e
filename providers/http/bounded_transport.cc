#include "providers/http/bounded_transport.h"

#include <algorithm>
#include <utility>

namespace tqs1::http {

BoundedTransport::BoundedTransport(std::unique_ptr<HttpTransport> base,
                                   int max_in_flight)
    : base_(std::move(base)), max_in_flight_(std::max(1, max_in_flight)) {}

absl::StatusOr<HttpResponse> BoundedTransport::Send(
    const HttpRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    const int64_t ticket = next_ticket_++;
    auto may_go = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return serving_ == ticket && in_flight_ < max_in_flight_;
    };
    mu_.Await(absl::Condition(&may_go));
    ++serving_;
    ++in_flight_;
  }
  absl::StatusOr<HttpResponse> response = base_->Send(request);
  {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }
  return response;
}

int BoundedTransport::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(next_ticket_ - serving_);
}

}  // namespace tqs1::http

// An HttpTransport decorator that keeps at most `max_in_flight` requests in
// flight at once: a console's token (a ThreatQ instance's client) is its
// rate-limit unit, so the syncs of a run that share one take turns on it.
// A request that finds every slot taken waits for one, in the order the
// waiters arrived.
//
//   auto bounded = std::make_unique<BoundedTransport>(std::move(curl), 4);
//   PacedTransport paced(std::move(bounded), pace);  // a paced write waits
//                                                    // its turn, then a slot
//
// Below pacing and retries: a write waiting its turn, or a retry waiting out
// its backoff, holds no slot.
#ifndef TQS1_PROVIDERS_HTTP_BOUNDED_TRANSPORT_H_
#define TQS1_PROVIDERS_HTTP_BOUNDED_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "providers/http/http_transport.h"

namespace tqs1::http {

// Thread-safe when the wrapped transport is. Send() returns what the
// wrapped transport returns; it adds no error of its own.
class BoundedTransport : public HttpTransport {
 public:
  // `max_in_flight` below 1 counts as 1.
  BoundedTransport(std::unique_ptr<HttpTransport> base, int max_in_flight);

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  int max_in_flight() const { return max_in_flight_; }
  // Requests waiting for a slot now.
  int waiting() const;

 private:
  const std::unique_ptr<HttpTransport> base_;
  const int max_in_flight_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // Tickets: a waiter takes `next_ticket_` and goes when `serving_` reaches
  // it and a slot is free (first come, first served).
  int64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t serving_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_BOUNDED_TRANSPORT_H_

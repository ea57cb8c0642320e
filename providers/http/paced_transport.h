// An HttpTransport decorator that paces writes: at most `writes_per_second`
// requests whose method is not GET or HEAD start per second, so that a long
// apply does not run into the console's rate limit. Reads pass at once.
//
//   PaceOptions pace;
//   pace.writes_per_second = 2;
//   auto paced = std::make_unique<PacedTransport>(std::move(curl), pace);
//   RetryingTransport transport(std::move(paced), retry);  // retries paced too
//
// The first write goes at once; each later write waits until 1 /
// writes_per_second after the previous write started (writes from several
// threads take turns in the order they arrive). Only the start is paced:
// a slow answer does not delay the next write further.
#ifndef TQS1_PROVIDERS_HTTP_PACED_TRANSPORT_H_
#define TQS1_PROVIDERS_HTTP_PACED_TRANSPORT_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/logger.h"
#include "providers/http/http_transport.h"

namespace tqs1::http {

struct PaceOptions {
  // Most writes started per second; 0, negative or not finite: no pacing.
  double writes_per_second = 0;
  // Not owned; null: RealClock(). Must outlive the transport.
  Clock* clock = nullptr;
  // Not owned; may be null. Each wait is logged at kDebug.
  log::Logger* logger = nullptr;
};

// Whether `request` is paced as a write: any method but GET and HEAD.
bool IsPacedWrite(const HttpRequest& request);

// Thread-safe when the wrapped transport is. Send() returns what the
// wrapped transport returns; it adds no error of its own.
class PacedTransport : public HttpTransport {
 public:
  PacedTransport(std::unique_ptr<HttpTransport> base, PaceOptions options);

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  // Reserves the next write's start and sleeps until it.
  void AwaitTurn(const HttpRequest& request);

  const std::unique_ptr<HttpTransport> base_;
  const PaceOptions options_;
  Clock& clock_;
  // Zero when writes are not paced.
  const absl::Duration interval_;
  absl::Mutex mu_;
  // When the next write may start; nullopt before the first.
  std::optional<absl::Time> next_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_PACED_TRANSPORT_H_

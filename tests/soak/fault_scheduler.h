// An HttpTransport decorator for soak tests that makes an emulator fail a
// random share of the requests sent through it: before forwarding a
// request it may schedule, on the emulator's harness, a one-shot fault for
// exactly that method and path, which the emulator then applies to the
// request (a real 429 with Retry-After, 500, closed connection, lost
// response or slow answer on the wire). The decision is the test's (seeded,
// per request); the fault itself is the emulator's.
//
//   FaultScheduler faults(std::move(curl), &s1->server(), seed);
//   faults.set_rate(0.2);                      // 20% of requests
//   RetryingTransport transport(
//       std::make_unique<...>(&faults), retry);  // retries above the faults
//   ... faults.Injected() == {{"too_many_requests", 12}, ...}
#ifndef TQS1_TESTS_SOAK_FAULT_SCHEDULER_H_
#define TQS1_TESTS_SOAK_FAULT_SCHEDULER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "emulators/emulator_server.h"
#include "providers/http/http_transport.h"

namespace tqs1::soak {

// Thread-safe.
class FaultScheduler : public http::HttpTransport {
 public:
  // `base` sends the requests; `server` is the emulator they reach (not
  // owned, must outlive this).
  FaultScheduler(std::unique_ptr<http::HttpTransport> base,
                 emulator::EmulatorServer* server, uint64_t seed);

  // Share of requests to fail, in [0, 1].
  void set_rate(double rate);
  // Whether writes (POST) may lose their response after being applied.
  void set_lose_responses(bool lose) { lose_responses_ = lose; }

  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest& request) override;

  // Faults scheduled so far, by FaultKindName, and requests sent.
  std::map<std::string, int64_t> Injected() const;
  int64_t TotalInjected() const;
  int64_t Requests() const;

 private:
  const std::unique_ptr<http::HttpTransport> base_;
  emulator::EmulatorServer* const server_;
  bool lose_responses_ = true;
  mutable absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  double rate_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int64_t> injected_ ABSL_GUARDED_BY(mu_);
  int64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
};

// A non-owning HttpTransport that forwards to another (to stack decorators
// that take ownership).
class ForwardingTransport : public http::HttpTransport {
 public:
  explicit ForwardingTransport(http::HttpTransport* target) : target_(target) {}
  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest& request) override {
    return target_->Send(request);
  }

 private:
  http::HttpTransport* const target_;
};

}  // namespace tqs1::soak

#endif  // TQS1_TESTS_SOAK_FAULT_SCHEDULER_H_

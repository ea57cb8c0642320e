// An in-memory HttpTransport for tests: scripted outcomes first, then a
// handler; every request recorded. It applies the same policies as the real
// transport (methods, URL shape, plain-http only to loopback, response size
// limit) with the same error codes, which the conformance suite checks.
//
//   FakeTransport fake([](const HttpRequest& req) ->
//   absl::StatusOr<HttpResponse> {
//     HttpResponse response;
//     response.status = 200;
//     response.body = R"({"data": []})";
//     return response;
//   });
//   fake.Enqueue(absl::UnavailableError("connection reset"));  // 1st call
//   EXPECT_FALSE(fake.Send(request).ok());  // the queued error
//   EXPECT_TRUE(fake.Send(request).ok());   // the handler's answer
//   EXPECT_EQ(fake.Requests().size(), 2);
#ifndef TQS1_PROVIDERS_HTTP_FAKE_TRANSPORT_H_
#define TQS1_PROVIDERS_HTTP_FAKE_TRANSPORT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "providers/http/http_transport.h"

namespace tqs1::http {

struct FakeTransportOptions {
  bool allow_plain_http = false;
  int64_t max_response_body_bytes = 64 << 20;
};

// Thread-safe. The handler runs without the fake's lock held.
class FakeTransport : public HttpTransport {
 public:
  using Handler =
      std::function<absl::StatusOr<HttpResponse>(const HttpRequest&)>;

  explicit FakeTransport(Handler handler = nullptr,
                         FakeTransportOptions options = {});

  // Replaces the handler.
  void SetHandler(Handler handler);
  // Queues one outcome; queued outcomes answer requests, in order, before
  // the handler does.
  void Enqueue(absl::StatusOr<HttpResponse> outcome);

  // Policy errors as the real transport (see HttpTransport); then the next
  // queued outcome, else the handler's, else kUnavailable "no response
  // scripted". Responses whose body exceeds the limit become
  // kResourceExhausted. Policy-refused requests are not recorded.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  // The requests sent so far, in order.
  std::vector<HttpRequest> Requests() const;
  int RequestCount() const;

 private:
  const FakeTransportOptions options_;
  mutable absl::Mutex mu_;
  Handler handler_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::StatusOr<HttpResponse>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_FAKE_TRANSPORT_H_

// A minimal HttpTransport for the fuzz targets: answers each request with
// what a function of the request returns and counts requests. Unlike
// providers/http:fake_transport it is not testonly and applies no policy,
// so it links into the fuzzer binaries built outside of tests.
//
//   ScriptedTransport transport([&](const http::HttpRequest& request) {
//     return Answer(200, fuzzed_body);
//   });
//   SentinelOneClient::Create(options, &transport);
#ifndef TQS1_TESTS_FUZZ_SCRIPTED_TRANSPORT_H_
#define TQS1_TESTS_FUZZ_SCRIPTED_TRANSPORT_H_

#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "providers/http/http_transport.h"

namespace tqs1::fuzz {

// A response with `status` and `body`.
inline http::HttpResponse Answer(int status, std::string body) {
  http::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Content-Type", "application/json");
  return response;
}

// Thread-compatible (the fuzz targets are single-threaded).
class ScriptedTransport : public http::HttpTransport {
 public:
  using Script = std::function<absl::StatusOr<http::HttpResponse>(
      const http::HttpRequest&)>;
  explicit ScriptedTransport(Script script) : script_(std::move(script)) {}

  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest& request) override {
    ++requests_;
    return script_(request);
  }
  int requests() const { return requests_; }

 private:
  Script script_;
  int requests_ = 0;
};

}  // namespace tqs1::fuzz

#endif  // TQS1_TESTS_FUZZ_SCRIPTED_TRANSPORT_H_

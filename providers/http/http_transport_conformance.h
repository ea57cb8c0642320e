// One conformance suite for every HttpTransport: the same tests run against
// FakeTransport and against CurlTransport talking to an EmulatorServer on
// loopback, so that the fake cannot drift from the real thing.
//
// A backend test file instantiates it:
//   INSTANTIATE_TEST_SUITE_P(
//       Curl, HttpTransportConformanceTest,
//       ::testing::Values(ConformanceBackendFactory{"curl", MakeCurlBackend}),
//       [](const auto& info) { return info.param.name; });
#ifndef TQS1_PROVIDERS_HTTP_HTTP_TRANSPORT_CONFORMANCE_H_
#define TQS1_PROVIDERS_HTTP_HTTP_TRANSPORT_CONFORMANCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "emulators/emulator_server.h"
#include "gtest/gtest.h"
#include "providers/http/http_transport.h"

namespace tqs1::http {

// A transport wired to a server that answers every request with `server`.
struct ConformanceBackend {
  std::unique_ptr<HttpTransport> transport;
  // Where `server` listens, e.g. "http://127.0.0.1:41234".
  std::string base_url;
  // Whatever must live as long as the transport (e.g. the emulator).
  std::shared_ptr<void> resources;
};

struct ConformanceBackendFactory {
  std::string name;
  // Builds a backend whose transport limits response bodies to
  // `max_response_body_bytes` and allows plain http only to loopback.
  std::function<absl::StatusOr<ConformanceBackend>(
      emulator::Handler server, int64_t max_response_body_bytes)>
      make;
};

// For gtest's messages.
inline void PrintTo(const ConformanceBackendFactory& factory,
                    std::ostream* os) {
  *os << factory.name;
}

class HttpTransportConformanceTest
    : public ::testing::TestWithParam<ConformanceBackendFactory> {};

}  // namespace tqs1::http

#endif  // TQS1_PROVIDERS_HTTP_HTTP_TRANSPORT_CONFORMANCE_H_

// One conformance suite for IndicatorSource, run against FakeIndicatorSource
// and against ThreatQClient + CurlTransport + ThreatQEmulator, so that the
// fake cannot drift from the real client.
//
//   INSTANTIATE_TEST_SUITE_P(
//       Fake, IndicatorSourceConformanceTest,
//       ::testing::Values(IndicatorSourceFactory{"fake", MakeFakeSource}),
//       [](const auto& info) { return info.param.name; });
#ifndef TQS1_PROVIDERS_THREATQ_INDICATOR_SOURCE_CONFORMANCE_H_
#define TQS1_PROVIDERS_THREATQ_INDICATOR_SOURCE_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "providers/threatq/collection_read_builder.h"
#include "providers/threatq/indicator_source.h"

namespace tqs1::threatq {

// The collections a backend must serve, in order (names may repeat).
using IndicatorWorld =
    std::vector<std::pair<std::string, std::vector<Indicator>>>;

struct IndicatorSourceBackend {
  std::unique_ptr<IndicatorSource> source;
  // Whatever must outlive the source (emulator, transport...).
  std::shared_ptr<void> resources;
};

struct IndicatorSourceFactory {
  std::string name;
  // A source serving `world` with the default never-block statuses. Real
  // backends should use a small page size so that reads span many pages.
  std::function<absl::StatusOr<IndicatorSourceBackend>(
      const IndicatorWorld& world)>
      make;
};

inline void PrintTo(const IndicatorSourceFactory& factory, std::ostream* os) {
  *os << factory.name;
}

class IndicatorSourceConformanceTest
    : public ::testing::TestWithParam<IndicatorSourceFactory> {};

}  // namespace tqs1::threatq

#endif  // TQS1_PROVIDERS_THREATQ_INDICATOR_SOURCE_CONFORMANCE_H_

#include "providers/threatq/fake_indicator_source.h"

#include <memory>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/threatq/indicator_source_conformance.h"

namespace tqs1::threatq {
namespace {

using ::testing::ElementsAre;

TEST(FakeIndicatorSourceTest, FaultsApplyToTheNextReadsThenClear) {
  FakeIndicatorSource source;
  source.SetCollection("C2", {{"192.0.2.1", "IP Address", "Active"}});
  source.FailNextReads(absl::UnavailableError("ThreatQ down"), 2);
  EXPECT_EQ(source.ReadCollection("C2").status(),
            absl::UnavailableError("ThreatQ down"));
  EXPECT_EQ(source.ReadCollection("C2").status(),
            absl::UnavailableError("ThreatQ down"));
  absl::StatusOr<CollectionRead> read = source.ReadCollection("C2");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, ElementsAre("192.0.2.1"));
  EXPECT_EQ(source.ReadCount(), 3);
}

TEST(FakeIndicatorSourceTest, SetReplacesAddDuplicatesRemoveDeletes) {
  FakeIndicatorSource source;
  source.SetCollection("C2", {{"192.0.2.1", "IP Address", "Active"}});
  source.SetCollection("C2", {{"192.0.2.2", "IP Address", "Active"}});
  EXPECT_THAT(source.ReadCollection("C2")->values, ElementsAre("192.0.2.2"));
  source.AddCollection("C2", {});
  EXPECT_EQ(source.ReadCollection("C2").status().code(),
            absl::StatusCode::kFailedPrecondition);
  source.RemoveCollection("C2");
  EXPECT_EQ(source.ReadCollection("C2").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(FakeIndicatorSourceTest, NumbersIndicatorsAsTheEmulatorDoes) {
  FakeIndicatorSource source;
  source.SetCollection("C2", {{"192.0.2.1", "IP Address", "Active"},
                              {"evil.example", "FQDN", "Active"},
                              {"192.0.2.3", "IP Address", "Active"}});
  absl::StatusOr<CollectionRead> read = source.ReadCollection("C2");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, ElementsAre("192.0.2.1", "192.0.2.3"));
  EXPECT_THAT(read->indicator_ids, ElementsAre(100000u, 100002u));
}

TEST(FakeIndicatorSourceTest, BlockStatusesAreConfigurable) {
  FakeIndicatorSource source({"Review"});
  source.SetCollection("C2", {{"192.0.2.1", "IP Address", "Review"},
                              {"192.0.2.2", "IP Address", "Active"},
                              {"192.0.2.3", "IP Address", "Whitelisted"}});
  EXPECT_THAT(source.ReadCollection("C2")->values, ElementsAre("192.0.2.1"));
}

absl::StatusOr<IndicatorSourceBackend> MakeFakeSource(
    const IndicatorWorld& world) {
  auto fake = std::make_unique<FakeIndicatorSource>();
  for (const auto& [name, indicators] : world) {
    fake->AddCollection(name, indicators);
  }
  IndicatorSourceBackend backend;
  backend.source = std::move(fake);
  return backend;
}

INSTANTIATE_TEST_SUITE_P(Fake, IndicatorSourceConformanceTest,
                         testing::Values(IndicatorSourceFactory{
                             "fake", MakeFakeSource}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tqs1::threatq

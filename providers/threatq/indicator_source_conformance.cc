#include "providers/threatq/indicator_source_conformance.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"

namespace tqs1::threatq {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::unique_ptr<IndicatorSource> Make(const IndicatorSourceFactory& factory,
                                      const IndicatorWorld& world,
                                      std::shared_ptr<void>& resources) {
  absl::StatusOr<IndicatorSourceBackend> backend = factory.make(world);
  EXPECT_TRUE(backend.ok()) << backend.status();
  if (!backend.ok()) return nullptr;
  resources = backend->resources;
  return std::move(backend->source);
}

TEST_P(IndicatorSourceConformanceTest, KeepsIpTypesAndReportsTheRest) {
  std::shared_ptr<void> keep;
  auto source = Make(GetParam(),
                     {{"Other", {{"192.0.2.99", "IP Address", "Active"}}},
                      {"Block - C2 IPs",
                       {{"203.0.113.7", "IP Address", "Active"},
                        {"2001:db8::1", "IPv6 Address", "Active"},
                        {"198.51.100.0/24", "CIDR Block", "Active"},
                        {"192.0.2.2", "IP Address", "Whitelisted"},
                        {"192.0.2.3", "IP Address", "Review"},
                        {"192.0.2.4", "IP Address", "Expired"},
                        {"evil.example", "FQDN", "Active"},
                        {"http://evil.example/x", "URL", "Active"},
                        {"evil2.example", "FQDN", "Whitelisted"},
                        {" not-an-ip ", "IP Address", "Active"}}}},
                     keep);
  ASSERT_NE(source, nullptr);
  absl::StatusOr<CollectionRead> read =
      source->ReadCollection("Block - C2 IPs");
  ASSERT_TRUE(read.ok()) << read.status();
  // In collection order, unvalidated.
  EXPECT_THAT(read->values, ElementsAre("203.0.113.7", "2001:db8::1",
                                        "198.51.100.0/24", " not-an-ip "));
  EXPECT_EQ(read->report.indicators_read(), 10u);
  EXPECT_THAT(read->report.skipped_types(),
              UnorderedElementsAre(Pair("FQDN", 2), Pair("URL", 1)));
  // By default only Active indicators are blocked.
  EXPECT_THAT(read->report.skipped_statuses(),
              UnorderedElementsAre(Pair("Whitelisted", 1), Pair("Review", 1),
                                   Pair("Expired", 1)));
}

TEST_P(IndicatorSourceConformanceTest, ReadsLargeCollectionsToTheEnd) {
  std::vector<Indicator> many;
  std::vector<std::string> want;
  for (int i = 0; i < 2345; ++i) {
    std::string ip =
        absl::StrCat("10.", i / 65536, ".", (i / 256) % 256, ".", i % 256);
    many.push_back({ip, "IP Address", "Active"});
    want.push_back(ip);
  }
  std::shared_ptr<void> keep;
  auto source = Make(GetParam(), {{"Big", many}}, keep);
  ASSERT_NE(source, nullptr);
  absl::StatusOr<CollectionRead> read = source->ReadCollection("Big");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, ElementsAreArray(want));
  EXPECT_EQ(read->report.indicators_read(), 2345u);
}

TEST_P(IndicatorSourceConformanceTest, EmptyCollectionIsAnEmptyRead) {
  std::shared_ptr<void> keep;
  auto source = Make(GetParam(), {{"Empty", {}}}, keep);
  ASSERT_NE(source, nullptr);
  absl::StatusOr<CollectionRead> read = source->ReadCollection("Empty");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, IsEmpty());
  EXPECT_EQ(read->report.indicators_read(), 0u);
}

TEST_P(IndicatorSourceConformanceTest, NamesMatchExactly) {
  std::shared_ptr<void> keep;
  auto source = Make(GetParam(),
                     {{"Block - C2 IPs", {}},
                      {"Block - C2 IPs (old)", {}},
                      {"Dup", {}},
                      {"Dup", {}},
                      {"Unrelated", {}}},
                     keep);
  ASSERT_NE(source, nullptr);
  struct Case {
    std::string wanted;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> kCases = {
      {"block - c2 ips", absl::StatusCode::kNotFound,
       "ThreatQ: no data collection is named exactly \"block - c2 ips\" (5 "
       "visible to this user; a collection must be owned by or shared with "
       "the API user); near matches: \"Block - C2 IPs\", \"Block - C2 IPs "
       "(old)\""},
      {"Nothing", absl::StatusCode::kNotFound,
       "ThreatQ: no data collection is named exactly \"Nothing\" (5 visible "
       "to this user; a collection must be owned by or shared with the API "
       "user)"},
      {"Dup", absl::StatusCode::kFailedPrecondition,
       "ThreatQ: 2 data collections are named \"Dup\"; rename all but one so "
       "the name is unique"},
      {"Block - C2 IPs", absl::StatusCode::kOk, ""},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.wanted);
    absl::Status status = source->ReadCollection(c.wanted).status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(), c.message);
  }
}

}  // namespace
}  // namespace tqs1::threatq

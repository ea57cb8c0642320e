#include "providers/threatq/collection_read_builder.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::threatq {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(CollectionReadBuilderTest, KeepsIpTypesAndCountsTheRest) {
  CollectionReadBuilder builder(DefaultBlockStatuses());
  const Indicator kIn[] = {
      {"203.0.113.7", "IP Address", "Active"},
      {"2001:db8::1", "IPv6 Address", "active"},  // case-insensitive status
      {"198.51.100.0/24", "CIDR Block", "Active"},
      {"192.0.2.1", "ip address", "Active"},       // case-insensitive type
      {"192.0.2.2", "IP Address", "Whitelisted"},  // never blocked
      {"192.0.2.3", "IP Address", "Expired"},      // not meant for blocking
      {"192.0.2.4", "IP Address", "Review"},
      {"192.0.2.5", "IP Address", "Indirect"},
      {"192.0.2.6", "IP Address", "False Positive"},  // a custom status
      {"evil.example", "FQDN", "Active"},
      {"http://x", "URL", "Whitelisted"},     // counted as a type, not a status
      {"not an ip", "IP Address", "Active"},  // kept as is: validated later
  };
  for (const Indicator& i : kIn) builder.Add(i.value, i.type, i.status);
  CollectionRead read = std::move(builder).Finish();
  EXPECT_THAT(read.values,
              ElementsAre("203.0.113.7", "2001:db8::1", "198.51.100.0/24",
                          "192.0.2.1", "not an ip"));
  EXPECT_EQ(read.report.indicators_read(), 12u);
  EXPECT_THAT(read.report.skipped_types(),
              UnorderedElementsAre(Pair("FQDN", 1), Pair("URL", 1)));
  EXPECT_THAT(read.report.skipped_statuses(),
              UnorderedElementsAre(Pair("Whitelisted", 1), Pair("Expired", 1),
                                   Pair("Review", 1), Pair("Indirect", 1),
                                   Pair("False Positive", 1)));
}

TEST(CollectionReadBuilderTest, KeepsEachValuesIndicatorIdBesideIt) {
  CollectionReadBuilder builder(DefaultBlockStatuses());
  builder.Add("203.0.113.7", "IP Address", "Active", 11);
  builder.Add("evil.example", "FQDN", "Active", 12);          // skipped
  builder.Add("192.0.2.2", "IP Address", "Whitelisted", 13);  // skipped
  builder.Add("1.2.3.4:443", "IP Address", "Active", 14);
  builder.Add("192.0.2.9", "IP Address", "Active");  // id unknown
  CollectionRead read = std::move(builder).Finish();
  EXPECT_THAT(read.values,
              ElementsAre("203.0.113.7", "1.2.3.4:443", "192.0.2.9"));
  EXPECT_THAT(read.indicator_ids, ElementsAre(11u, 14u, 0u));
}

TEST(CollectionReadBuilderTest, ConfigurableStatuses) {
  CollectionReadBuilder builder({"Active", "Review"});
  builder.Add("192.0.2.1", "IP Address", "Review");
  builder.Add("192.0.2.2", "IP Address", "Active");
  builder.Add("192.0.2.3", "IP Address", "Expired");
  CollectionRead read = std::move(builder).Finish();
  EXPECT_THAT(read.values, ElementsAre("192.0.2.1", "192.0.2.2"));
  EXPECT_THAT(read.report.skipped_statuses(),
              UnorderedElementsAre(Pair("Expired", 1)));
}

TEST(CollectionReadBuilderTest, WhitelistedIsNeverBlockedEvenWhenListed) {
  CollectionReadBuilder builder({"Active", "whitelisted"});
  builder.Add("192.0.2.1", "IP Address", "Whitelisted");
  builder.Add("192.0.2.2", "IP Address", "Active");
  CollectionRead read = std::move(builder).Finish();
  EXPECT_THAT(read.values, ElementsAre("192.0.2.2"));
  EXPECT_THAT(read.report.skipped_statuses(),
              UnorderedElementsAre(Pair("Whitelisted", 1)));
}

TEST(NearMatchesTest, Table) {
  const std::vector<std::string> kNames = {
      "Block - C2 IPs", "block - c2 ips", "Block - C2 IPs (old)", "Other", "C2",
      "Block - C2 IPs"};
  struct Case {
    std::string wanted;
    std::vector<std::string> want;
  };
  const std::vector<Case> kCases = {
      {"BLOCK - C2 IPS",
       {"Block - C2 IPs", "block - c2 ips", "Block - C2 IPs (old)", "C2"}},
      {"Block - C2 IPs", {"block - c2 ips", "Block - C2 IPs (old)", "C2"}},
      {"nothing", {}},
      {"", {}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.wanted);
    EXPECT_EQ(NearMatches(c.wanted, kNames), c.want);
  }
  EXPECT_THAT(NearMatches("c2", kNames, 2),
              ElementsAre("Block - C2 IPs", "block - c2 ips"));
}

TEST(CollectionErrorsTest, CodesAndMessages) {
  absl::Status none = NoSuchCollectionError("C2 ips", {"C2 IPs", "Other"});
  EXPECT_EQ(none.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(none.message(),
            "ThreatQ: no data collection is named exactly \"C2 ips\" (2 "
            "visible to this user; a collection must be owned by or shared "
            "with the API user); near matches: \"C2 IPs\"");
  EXPECT_EQ(NoSuchCollectionError("x", {}).message(),
            "ThreatQ: no data collection is named exactly \"x\" (0 visible to "
            "this user; a collection must be owned by or shared with the API "
            "user)");
  absl::Status dup = DuplicateCollectionError("C2", 2);
  EXPECT_EQ(dup.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(dup.message(),
            "ThreatQ: 2 data collections are named \"C2\"; rename all but one "
            "so the name is unique");
}

}  // namespace
}  // namespace tqs1::threatq

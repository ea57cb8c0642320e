#include "reconciler/normalize.h"

#include "gtest/gtest.h"

namespace tqs1::reconciler {
namespace {

std::vector<std::string> Text(const std::vector<IpPrefix>& v) {
  std::vector<std::string> out;
  for (const IpPrefix& p : v) out.push_back(p.ToString());
  return out;
}

NormalizedValues Normalize(const std::vector<std::string>& values,
                           tqs1::v1::DesiredState desired = {}) {
  desired.mutable_values()->Assign(values.begin(), values.end());
  absl::StatusOr<NeverBlockList> never = NeverBlockList::Create(desired);
  EXPECT_TRUE(never.ok()) << never.status();
  return NormalizeValues(desired.values(), *never,
                         GuardSettings::FromProto(desired.sync().guards()));
}

TEST(NormalizeTest, CanonicalSortedUniqueWithCounts) {
  NormalizedValues n = Normalize({"198.51.100.7", "2001:DB8::1", "198.51.100.7",
                                  " 198.51.100.7 ", "2001:db8::1/128",
                                  "203.0.113.0/24", "bogus", "300.1.1.1"});
  EXPECT_EQ(Text(n.prefixes),
            (std::vector<std::string>{"198.51.100.7", "203.0.113.0/24",
                                      "2001:db8::1"}));
  EXPECT_EQ(n.report.values(), 8u);
  EXPECT_EQ(n.report.duplicates(), 3u);
  EXPECT_EQ(n.report.invalid(), 2u);
  EXPECT_EQ(n.report.never_blocked(), 0u);
  EXPECT_EQ(n.report.desired(), 3u);
  ASSERT_EQ(n.report.rejected_size(), 2);
  EXPECT_EQ(n.report.rejected(0).value(), "bogus");
  EXPECT_EQ(n.report.rejected(0).reason(), "not an IPv4 address");
  EXPECT_EQ(n.report.rejected(1).reason(),
            "IPv4 octet 300 is out of range (0-255)");
  EXPECT_EQ(n.report.rejected(1).value(), "300.1.1.1");
}

TEST(NormalizeTest, NeverBlockBuiltInsAndConfigured) {
  tqs1::v1::DesiredState desired;
  desired.mutable_sync()->set_name("hq");
  desired.mutable_sync()->add_never_block("192.0.2.0/28");
  tqs1::v1::NeverBlock* host = desired.add_never_block();
  host->set_prefix("198.51.100.10");
  host->set_reason("SentinelOne console address");
  NormalizedValues n =
      Normalize({"127.0.0.1", "169.254.1.1", "224.0.0.251", "::1", "fe80::1",
                 "ff02::1", "0.0.0.0", "192.0.2.5", "198.51.100.10",
                 "198.51.100.0/24", "198.51.100.11"},
                desired);
  EXPECT_EQ(Text(n.prefixes), (std::vector<std::string>{"198.51.100.11"}));
  EXPECT_EQ(n.report.never_blocked(), 10u);
  ASSERT_EQ(n.report.rejected_size(), 10);
  EXPECT_EQ(n.report.rejected(0).reason(),
            "never blocked: 127.0.0.0/8 (built-in: loopback)");
  EXPECT_EQ(n.report.rejected(7).reason(),
            "never blocked: 192.0.2.0/28 (never_block of sync \"hq\")");
  // A prefix that covers a protected address is refused whole.
  EXPECT_EQ(n.report.rejected(9).value(), "198.51.100.0/24");
  EXPECT_EQ(n.report.rejected(9).reason(),
            "never blocked: 198.51.100.10 (SentinelOne console address)");
}

TEST(NormalizeTest, OverBroadPrefixesRefused) {
  tqs1::v1::DesiredState desired;
  NormalizedValues n = Normalize(
      {"0.0.0.0/0", "12.0.0.0/7", "11.0.0.0/8", "2001::/16", "2001:db8::/32"},
      desired);
  EXPECT_EQ(Text(n.prefixes),
            (std::vector<std::string>{"11.0.0.0/8", "2001:db8::/32"}));
  EXPECT_EQ(n.report.invalid(), 3u);
  EXPECT_EQ(n.report.rejected(1).reason(),
            "prefix /7 is too broad (shortest allowed: /8)");
  EXPECT_EQ(n.report.rejected(2).reason(),
            "prefix /16 is too broad (shortest allowed: /32)");

  desired.mutable_sync()->mutable_guards()->set_min_ipv4_prefix(16);
  n = Normalize({"11.0.0.0/8", "11.1.0.0/16"}, desired);
  EXPECT_EQ(Text(n.prefixes), (std::vector<std::string>{"11.1.0.0/16"}));
}

TEST(NormalizeTest, BadNeverBlockEntryNamesItAndItsSource) {
  tqs1::v1::DesiredState desired;
  desired.mutable_sync()->set_name("hq");
  desired.mutable_sync()->add_never_block("10.0.0.300");
  absl::StatusOr<NeverBlockList> never = NeverBlockList::Create(desired);
  EXPECT_EQ(never.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(never.status().message(),
            "never_block entry \"10.0.0.300\" of sync \"hq\": IPv4 octet "
            "300 is out of range (0-255)");
}

TEST(NormalizeTest, RejectedExamplesAreCappedButCounted) {
  std::vector<std::string> values(kMaxRejectedExamples + 25, "nope");
  NormalizedValues n = Normalize(values);
  EXPECT_EQ(n.report.invalid(), values.size());
  EXPECT_EQ(n.report.rejected_size(), kMaxRejectedExamples);
  EXPECT_EQ(n.report.rejected_truncated(), 25u);
}

TEST(NormalizeTest, RejectedValuesCarryTheirIndicatorIds) {
  tqs1::v1::DesiredState desired;
  for (const char* v : {"11.0.0.1", "1.2.3.11:443", "11.0.0.2", "127.0.0.1"}) {
    desired.add_values(v);
  }
  for (uint64_t id : {101, 102, 103, 104}) desired.add_indicator_ids(id);
  absl::StatusOr<NeverBlockList> never = NeverBlockList::Create(desired);
  ASSERT_TRUE(never.ok());
  NormalizedValues n = NormalizeValues(desired, *never, GuardSettings());
  ASSERT_EQ(n.report.rejected_size(), 2);
  EXPECT_EQ(n.report.rejected(0).value(), "1.2.3.11:443");
  EXPECT_EQ(n.report.rejected(0).reason(),
            "has a port (:443): give the address alone");
  EXPECT_EQ(n.report.rejected(0).indicator_id(), 102u);
  EXPECT_EQ(n.report.rejected(1).indicator_id(), 104u);

  // Ids that do not line up with the values are not used at all.
  desired.add_indicator_ids(105);
  n = NormalizeValues(desired, *never, GuardSettings());
  EXPECT_EQ(n.report.rejected(0).indicator_id(), 0u);
}

TEST(NormalizeTest, CategoriesOfValidValues) {
  struct Case {
    const char* value;
    uint32_t mask;
  };
  constexpr uint32_t kPrivate = 1u << tqs1::v1::INPUT_CATEGORY_PRIVATE;
  constexpr uint32_t kCgnat = 1u << tqs1::v1::INPUT_CATEGORY_CGNAT;
  constexpr uint32_t kDoc = 1u << tqs1::v1::INPUT_CATEGORY_DOCUMENTATION;
  constexpr uint32_t kUla = 1u << tqs1::v1::INPUT_CATEGORY_UNIQUE_LOCAL;
  constexpr uint32_t kShort = 1u << tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX;
  const Case cases[] = {
      {"11.0.0.1", 0},
      {"9.255.255.255", 0},
      {"10.1.2.3", kPrivate},
      {"10.0.0.0/8", kPrivate | kShort},
      {"172.16.0.1", kPrivate},
      {"172.31.255.255", kPrivate},
      {"172.32.0.1", 0},
      {"172.15.255.255", 0},
      {"172.0.0.0/8", kPrivate | kShort},  // contains 172.16.0.0/12
      {"192.168.7.7", kPrivate},
      {"192.169.0.1", 0},
      {"100.64.0.1", kCgnat},
      {"100.127.255.255", kCgnat},
      {"100.128.0.1", 0},
      {"192.0.2.9", kDoc},
      {"192.0.0.0/16", kDoc},  // contains 192.0.2.0/24
      {"198.51.100.200", kDoc},
      {"203.0.113.0/25", kDoc},
      {"203.0.114.1", 0},
      {"2001:db8::1", kDoc},
      {"2001:db9::1", 0},
      {"fc00::1", kUla},
      {"fdff:1::/48", kUla},
      {"fe00::1", 0},
      {"11.0.0.0/15", kShort},
      {"11.0.0.0/16", 0},
      {"2001:4000::/31", kShort},
      {"2001:4000::/32", 0},
      {"8.0.0.0/6", kPrivate | kShort},  // 8.0.0.0-11.255.255.255
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    absl::StatusOr<IpPrefix> p = ParseIpPrefix(c.value);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(InputCategories(*p), c.mask);
  }
  EXPECT_EQ(InputCategoryKey(tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX),
            "short_prefix");
  EXPECT_EQ(InputCategoryKey(tqs1::v1::INPUT_CATEGORY_UNIQUE_LOCAL),
            "unique_local");
}

TEST(NormalizeTest, CategoriesAreBlockedWithAWarning) {
  NormalizedValues n =
      Normalize({"10.1.2.3", "11.0.0.1", "10.1.2.3", "192.168.0.9", "10.0.0.7",
                 "10.9.9.9", "100.64.1.1", "2001:db8::5", "11.0.0.0/12"});
  EXPECT_EQ(n.report.desired(), 8u);
  EXPECT_EQ(n.report.refused(), 0u);
  EXPECT_EQ(n.report.rejected_size(), 0);
  ASSERT_EQ(n.report.warnings_size(), 4);
  const tqs1::v1::InputWarning& w = n.report.warnings(0);
  EXPECT_EQ(w.category(), tqs1::v1::INPUT_CATEGORY_PRIVATE);
  EXPECT_EQ(w.count(), 4u);  // unique: the repeated 10.1.2.3 counts once
  EXPECT_FALSE(w.refused());
  EXPECT_EQ(std::vector<std::string>(w.examples().begin(), w.examples().end()),
            (std::vector<std::string>{"10.1.2.3", "192.168.0.9", "10.0.0.7"}));
  EXPECT_EQ(n.report.warnings(1).category(), tqs1::v1::INPUT_CATEGORY_CGNAT);
  EXPECT_EQ(n.report.warnings(1).count(), 1u);
  EXPECT_EQ(n.report.warnings(2).category(),
            tqs1::v1::INPUT_CATEGORY_DOCUMENTATION);
  EXPECT_EQ(n.report.warnings(3).category(),
            tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX);
  EXPECT_EQ(n.report.warnings(3).examples(0), "11.0.0.0/12");
}

TEST(NormalizeTest, RefusedCategoriesAreRejectedWithTheirReason) {
  tqs1::v1::DesiredState desired;
  desired.mutable_sync()->add_refuse(tqs1::v1::INPUT_CATEGORY_PRIVATE);
  desired.mutable_sync()->add_refuse(tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX);
  for (const char* v :
       {"10.1.2.3", "11.0.0.1", "100.64.1.1", "11.0.0.0/12", "192.168.1.1"}) {
    desired.add_values(v);
  }
  for (uint64_t id : {7, 8, 9, 10, 11}) desired.add_indicator_ids(id);
  absl::StatusOr<NeverBlockList> never = NeverBlockList::Create(desired);
  ASSERT_TRUE(never.ok());
  NormalizedValues n = NormalizeValues(desired, *never, GuardSettings());
  EXPECT_EQ(Text(n.prefixes),
            (std::vector<std::string>{"11.0.0.1", "100.64.1.1"}));
  EXPECT_EQ(n.report.refused(), 3u);
  EXPECT_EQ(n.report.invalid(), 0u);
  ASSERT_EQ(n.report.rejected_size(), 3);
  EXPECT_EQ(n.report.rejected(0).value(), "10.1.2.3");
  EXPECT_EQ(n.report.rejected(0).reason(),
            "private (RFC 1918) address: refused (refuse: private)");
  EXPECT_EQ(n.report.rejected(0).indicator_id(), 7u);
  EXPECT_EQ(n.report.rejected(1).reason(),
            "short prefix (IPv4 shorter than /16, IPv6 shorter than /32): "
            "refused (refuse: short_prefix)");
  EXPECT_EQ(n.report.rejected(1).indicator_id(), 10u);
  // The CGNAT address is blocked, with a warning; the refused categories
  // are reported as such.
  ASSERT_EQ(n.report.warnings_size(), 3);
  EXPECT_EQ(n.report.warnings(0).category(), tqs1::v1::INPUT_CATEGORY_PRIVATE);
  EXPECT_TRUE(n.report.warnings(0).refused());
  EXPECT_EQ(n.report.warnings(0).count(), 2u);
  EXPECT_EQ(n.report.warnings(1).category(), tqs1::v1::INPUT_CATEGORY_CGNAT);
  EXPECT_FALSE(n.report.warnings(1).refused());
  EXPECT_EQ(n.report.warnings(2).category(),
            tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX);
  EXPECT_TRUE(n.report.warnings(2).refused());
}

// With ipv6: off, IPv6 values are rejected, not blocked; AUTO counts as ON
// (the sync layer resolves it before planning).
TEST(NormalizeTest, Ipv6OffRejectsIpv6Values) {
  for (tqs1::v1::Ipv6Mode mode :
       {tqs1::v1::IPV6_MODE_AUTO, tqs1::v1::IPV6_MODE_ON,
        tqs1::v1::IPV6_MODE_OFF}) {
    SCOPED_TRACE(tqs1::v1::Ipv6Mode_Name(mode));
    tqs1::v1::DesiredState desired;
    desired.mutable_sync()->set_ipv6(mode);
    for (const char* v : {"198.51.100.7", "2001:DB8::1", "2001:db8:1::/48"}) {
      desired.add_values(v);
    }
    for (uint64_t id : {7, 8, 9}) desired.add_indicator_ids(id);
    absl::StatusOr<NeverBlockList> never = NeverBlockList::Create(desired);
    ASSERT_TRUE(never.ok());
    NormalizedValues n = NormalizeValues(desired, *never, GuardSettings());
    if (mode != tqs1::v1::IPV6_MODE_OFF) {
      EXPECT_EQ(n.prefixes.size(), 3u);
      EXPECT_EQ(n.report.rejected_size(), 0);
      continue;
    }
    EXPECT_EQ(Text(n.prefixes), (std::vector<std::string>{"198.51.100.7"}));
    EXPECT_EQ(n.report.refused(), 2u);
    EXPECT_EQ(n.report.invalid(), 0u);
    ASSERT_EQ(n.report.rejected_size(), 2);
    EXPECT_EQ(n.report.rejected(0).value(), "2001:DB8::1");
    EXPECT_EQ(n.report.rejected(0).reason(),
              "IPv6 is off for this sync (ipv6: off)");
    EXPECT_EQ(n.report.rejected(0).indicator_id(), 8u);
    EXPECT_EQ(n.report.rejected(1).indicator_id(), 9u);
  }
}

}  // namespace
}  // namespace tqs1::reconciler

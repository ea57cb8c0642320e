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
            "never_block entry \"10.0.0.300\" of sync \"hq\": not an IPv4 "
            "address");
}

TEST(NormalizeTest, RejectedExamplesAreCappedButCounted) {
  std::vector<std::string> values(kMaxRejectedExamples + 25, "nope");
  NormalizedValues n = Normalize(values);
  EXPECT_EQ(n.report.invalid(), values.size());
  EXPECT_EQ(n.report.rejected_size(), kMaxRejectedExamples);
  EXPECT_EQ(n.report.rejected_truncated(), 25u);
}

}  // namespace
}  // namespace tqs1::reconciler

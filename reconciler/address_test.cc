#include "reconciler/address.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tqs1::reconciler {
namespace {

TEST(ParseIpPrefixTest, CanonicalForms) {
  struct Case {
    const char* input;
    const char* canonical;
    int length;
  };
  const Case cases[] = {
      {"192.0.2.1", "192.0.2.1", 32},
      {"  192.0.2.1\t", "192.0.2.1", 32},
      {"0.0.0.0", "0.0.0.0", 32},
      {"255.255.255.255", "255.255.255.255", 32},
      {"192.0.2.1/32", "192.0.2.1", 32},
      {"10.0.0.0/8", "10.0.0.0/8", 8},
      {"0.0.0.0/0", "0.0.0.0/0", 0},
      {"2001:DB8::1", "2001:db8::1", 128},
      {"2001:db8:0:0:0:0:0:1", "2001:db8::1", 128},
      {"2001:db8::1/128", "2001:db8::1", 128},
      {"2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1", 128},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", 128},
      {"2001:db8::/32", "2001:db8::/32", 32},
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1", 128},
      {"::", "::", 128},
      {"fe80::/10", "fe80::/10", 10},
      // Looks like "address:port" but is a whole IPv6 address.
      {"2001:db8::1:443", "2001:db8::1:443", 128},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    absl::StatusOr<IpPrefix> p = ParseIpPrefix(c.input);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->ToString(), c.canonical);
    EXPECT_EQ(p->length(), c.length);
    // Canonical text parses back to the same value.
    EXPECT_EQ(*ParseIpPrefix(p->ToString()), *p);
  }
}

TEST(ParseIpPrefixTest, RejectsWithReason) {
  struct Case {
    const char* input;
    const char* reason;
  };
  const Case cases[] = {
      {"", "empty value"},
      {"   ", "empty value"},
      {"1.2.3", "IPv4 address with 3 octets (need 4)"},
      {"1.2.3.4.5", "IPv4 address with 5 octets (need 4)"},
      {"256.1.1.1", "IPv4 octet 256 is out of range (0-255)"},
      {"1.2.3.1000", "IPv4 octet 1000 is out of range (0-255)"},
      {"010.0.0.1", "IPv4 octet with a leading zero (octal ambiguity)"},
      {"010.1.1.1", "IPv4 octet with a leading zero (octal ambiguity)"},
      {"10.0.0.01/32", "IPv4 octet with a leading zero (octal ambiguity)"},
      {"1.2.3.4 5",
       "contains whitespace: give one address or prefix per value"},
      {"1.2.3.4\t1.2.3.5",
       "contains whitespace: give one address or prefix per value"},
      {"1.2.3.4 /24",
       "contains whitespace: give one address or prefix per value"},
      {"1..2.3", "empty IPv4 octet"},
      {"1.2.3.4.", "trailing dot: give the address without it"},
      {"+1.2.3.4", "not an IPv4 address"},
      {"example.com", "not an IPv4 address"},
      {"1.2.3.11:443", "has a port (:443): give the address alone"},
      {"1.2.3.11:8", "has a port (:8): give the address alone"},
      {"[2001:db8::1]:443", "has a port (:443): give the address alone"},
      {"[2001:db8::1]", "IPv6 address in brackets: give the address alone"},
      {"1.2.3.7-1.2.3.9",
       "an address range: not supported (give a CIDR or single addresses)"},
      {"1.2.3.7 - 1.2.3.9",
       "contains whitespace: give one address or prefix per value"},
      {"2001:db8::1-2001:db8::9",
       "an address range: not supported (give a CIDR or single addresses)"},
      {"1.2.3.7-9",
       "an address range: not supported (give a CIDR or single addresses)"},
      {"http://1.2.3.4", "a URL, not an address: give the address alone"},
      {"1.2.3[.]4", "a defanged address (\"[.]\"): give it as a plain address"},
      {"1.2.3.4/33", "prefix length 33 is out of range (0-32)"},
      {"1.2.3.4/", "prefix length \"\" is not a number"},
      {"1.2.3.0/024", "prefix length \"024\" is not a number"},
      {"1.2.3.0/-1", "prefix length \"-1\" is not a number"},
      {"10.0.0.5/8", "host bits set: the network is 10.0.0.0/8"},
      {"2001:db8::1/32", "host bits set: the network is 2001:db8::/32"},
      {"2001:db8::/129", "prefix length 129 is out of range (0-128)"},
      {"2001:db8:::1", "not an IPv6 address"},
      {"fe80::1%eth0", "IPv6 zone ids are not allowed"},
      {"1:2:3:4:5:6:7:8:9", "not an IPv6 address"},
      // A valid IPv6 address that ends like a port is an address.
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    absl::StatusOr<IpPrefix> p = ParseIpPrefix(c.input);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(), c.reason);
  }
}

TEST(IpPrefixTest, ContainsAndOverlaps) {
  IpPrefix net = *ParseIpPrefix("10.0.0.0/8");
  EXPECT_TRUE(net.Contains(*ParseIpPrefix("10.1.2.3")));
  EXPECT_TRUE(net.Contains(*ParseIpPrefix("10.128.0.0/9")));
  EXPECT_TRUE(net.Contains(net));
  EXPECT_FALSE(net.Contains(*ParseIpPrefix("11.0.0.1")));
  EXPECT_FALSE(net.Contains(*ParseIpPrefix("0.0.0.0/0")));
  EXPECT_TRUE(net.Overlaps(*ParseIpPrefix("0.0.0.0/0")));
  // Families never mix, even for IPv4-mapped addresses.
  EXPECT_FALSE(ParseIpPrefix("::/0")->Contains(*ParseIpPrefix("10.0.0.1")));
  IpPrefix v6 = *ParseIpPrefix("2001:db8::/32");
  EXPECT_TRUE(v6.Contains(*ParseIpPrefix("2001:db8:ffff::1")));
  EXPECT_FALSE(v6.Contains(*ParseIpPrefix("2001:db9::1")));
  IpPrefix v6_long = *ParseIpPrefix("2001:db8:0:0:8000::/65");
  EXPECT_TRUE(v6_long.Contains(*ParseIpPrefix("2001:db8::8000:0:0:1")));
  EXPECT_FALSE(v6_long.Contains(*ParseIpPrefix("2001:db8::1")));
}

TEST(IpPrefixTest, OrdersIpv4FirstThenByAddressThenLength) {
  std::vector<IpPrefix> v = {
      *ParseIpPrefix("::1"),         *ParseIpPrefix("10.0.0.0/8"),
      *ParseIpPrefix("10.0.0.0"),    *ParseIpPrefix("9.255.255.255"),
      *ParseIpPrefix("2001:db8::1"),
  };
  std::sort(v.begin(), v.end());
  std::vector<std::string> text;
  for (const IpPrefix& p : v) text.push_back(p.ToString());
  EXPECT_EQ(text, (std::vector<std::string>{"9.255.255.255", "10.0.0.0/8",
                                            "10.0.0.0", "::1", "2001:db8::1"}));
}

TEST(IpPrefixTest, IsCompact) { EXPECT_LE(sizeof(IpPrefix), 24u); }

}  // namespace
}  // namespace tqs1::reconciler

namespace tqs1::reconciler {
namespace {

TEST(SortPrefixesTest, MatchesStdSortOnMixedInput) {
  std::mt19937_64 rng(7);
  std::vector<IpPrefix> v;
  for (int k = 0; k < 5000; ++k) {
    uint64_t r = rng();
    switch (r % 4) {
      case 0:
        v.push_back(IpPrefix::V4(static_cast<uint32_t>(r >> 8), 32));
        break;
      case 1:
        v.push_back(IpPrefix::V4(static_cast<uint32_t>(r >> 8), 8 + r % 24));
        break;
      case 2:
        v.push_back(IpPrefix::V6(rng(), rng(), 128));
        break;
      default:
        v.push_back(IpPrefix::V6(rng(), 0, 16 + r % 48));
        break;
    }
  }
  v.push_back(v.front());  // a duplicate
  std::vector<IpPrefix> expected = v;
  std::sort(expected.begin(), expected.end());
  SortPrefixes(v);
  EXPECT_TRUE(v == expected);
}

}  // namespace
}  // namespace tqs1::reconciler

#include "reconciler/address_space.h"

#include <bitset>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "reconciler/address.h"

namespace tqs1::reconciler {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::vector<IpPrefix> Prefixes(const std::vector<std::string>& texts) {
  std::vector<IpPrefix> out;
  for (const std::string& t : texts) {
    absl::StatusOr<IpPrefix> p = ParseIpPrefix(t);
    EXPECT_TRUE(p.ok()) << t << ": " << p.status();
    if (p.ok()) out.push_back(*p);
  }
  return out;
}

AddressSpace Space(uint64_t v4, uint64_t v6) {
  AddressSpace s;
  s.ipv4_addresses = v4;
  s.ipv6_networks = v6;
  return s;
}

std::string Str(const AddressSpace& s) {
  return absl::StrCat(s.ipv4_addresses, " v4, ", s.ipv6_networks, " v6");
}

TEST(UnionSpaceTest, Table) {
  struct Case {
    std::string name;
    std::vector<std::string> prefixes;
    AddressSpace want;
  };
  const std::vector<Case> cases = {
      {"nothing", {}, Space(0, 0)},
      {"one address", {"192.0.2.1"}, Space(1, 0)},
      {"duplicates count once", {"192.0.2.1", "192.0.2.1"}, Space(1, 0)},
      {"an address inside a prefix counts once",
       {"10.0.0.0/8", "10.1.1.1"},
       Space(16777216, 0)},
      {"a prefix inside a prefix",
       {"10.0.0.0/8", "10.1.0.0/16"},
       Space(16777216, 0)},
      {"adjacent halves", {"192.0.2.0/25", "192.0.2.128/25"}, Space(256, 0)},
      {"disjoint", {"192.0.2.0/24", "198.51.100.7"}, Space(257, 0)},
      {"all of IPv4", {"0.0.0.0/0", "1.2.3.4"}, Space(uint64_t{1} << 32, 0)},
      {"the last IPv4 address", {"255.255.255.255"}, Space(1, 0)},
      {"an IPv6 address is one /64", {"2001:db8::1"}, Space(0, 1)},
      {"two addresses of one /64 count once",
       {"2001:db8::1", "2001:db8::ffff:1"},
       Space(0, 1)},
      {"two /64s", {"2001:db8::1", "2001:db8:0:1::1"}, Space(0, 2)},
      {"a /96 is one /64, with the address beside it",
       {"2001:db8::/96", "2001:db8::ffff:0:1"},
       Space(0, 1)},
      {"a /48 is 2^16 /64s", {"2001:db8::/48", "2001:db8::1"}, Space(0, 65536)},
      {"the last /64", {"ffff:ffff:ffff:ffff::1"}, Space(0, 1)},
      {"all of IPv6 saturates", {"::/0"}, Space(0, kMax)},
      {"two halves of IPv6 saturate", {"::/1", "8000::/1"}, Space(0, kMax)},
      {"half of IPv6", {"8000::/1", "8000::1"}, Space(0, uint64_t{1} << 63)},
      {"both families",
       {"10.0.0.0/30", "2001:db8::/63", "10.0.0.1"},
       Space(4, 2)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<IpPrefix> v = Prefixes(c.prefixes);
    EXPECT_EQ(Str(UnionSpace(v)), Str(c.want));
    // Any order gives the same union.
    std::vector<IpPrefix> reversed(v.rbegin(), v.rend());
    EXPECT_EQ(Str(UnionSpace(reversed)), Str(c.want));
  }
}

TEST(UnionSpaceTest, TwoSortedVectorsMergeAsOne) {
  std::vector<IpPrefix> a =
      Prefixes({"10.0.0.0/8", "192.0.2.1", "2001:db8::1"});
  std::vector<IpPrefix> b =
      Prefixes({"10.1.1.1", "192.0.2.0/31", "2001:db8::2", "2001:db8:1::1"});
  EXPECT_EQ(Str(UnionSpaceOfSorted(a, b)), Str(Space(16777216 + 2, 2)));
  EXPECT_EQ(Str(UnionSpaceOfSorted(b, a)), Str(Space(16777216 + 2, 2)));
  EXPECT_EQ(Str(UnionSpaceOfSorted(a, {})), Str(UnionSpaceOfSorted(a)));
  EXPECT_EQ(Str(UnionSpaceOfSorted({}, b)), Str(UnionSpaceOfSorted(b)));
}

TEST(UnionSpaceTest, OutOfOrderInputNeverCountsTooLittle) {
  // The caller's promise broken: the counter may count too much, never too
  // little (the guards then err on the side of stopping).
  UnionCounter counter;
  for (const IpPrefix& p : Prefixes({"10.1.1.1", "10.0.0.0/8"})) {
    counter.Add(p);
  }
  EXPECT_GE(counter.Total().ipv4_addresses, uint64_t{16777216});
}

TEST(UnionSpaceTest, SubtractionStopsAtZero) {
  EXPECT_EQ(Str(Space(5, 1) - Space(2, 3)), Str(Space(3, 0)));
}

// Against a brute-force count over one /20 (IPv4) and one /52 (IPv6 in
// /64s): random prefixes, seeded.
TEST(UnionSpaceTest, MatchesBruteForce) {
  std::mt19937 rng(20261201);
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    std::bitset<4096> v4, v6;
    std::vector<IpPrefix> prefixes;
    int n = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int k = 0; k < n; ++k) {
      uint32_t offset = std::uniform_int_distribution<uint32_t>(0, 4095)(rng);
      if (rng() % 2 == 0) {
        int length = std::uniform_int_distribution<int>(20, 32)(rng);
        uint32_t size = uint32_t{1} << (32 - length);
        offset &= ~(size - 1);
        prefixes.push_back(IpPrefix::V4(0x0A000000u + offset, length));
        for (uint32_t a = offset; a < offset + size; ++a) v4.set(a);
      } else {
        int length = std::uniform_int_distribution<int>(52, 128)(rng);
        uint64_t size = length >= 64 ? 1 : uint64_t{1} << (64 - length);
        offset &= ~static_cast<uint32_t>(size - 1);
        uint64_t high = 0x20010db800000000u + offset;
        // Host bits beyond the length stay zero.
        uint64_t low = (uint64_t{rng()} << 32) | rng();
        if (length <= 64) {
          low = 0;
        } else if (length < 128) {
          low &= ~uint64_t{0} << (128 - length);
        }
        prefixes.push_back(IpPrefix::V6(high, low, length));
        for (uint64_t a = offset; a < offset + size; ++a) v6.set(a);
      }
    }
    AddressSpace got = UnionSpace(prefixes);
    EXPECT_EQ(got.ipv4_addresses, v4.count());
    EXPECT_EQ(got.ipv6_networks, v6.count());
    // Split in two sorted halves, merged on the fly: the same union.
    std::vector<IpPrefix> a, b;
    for (size_t k = 0; k < prefixes.size(); ++k) {
      (k % 3 == 0 ? a : b).push_back(prefixes[k]);
    }
    SortPrefixes(a);
    SortPrefixes(b);
    EXPECT_EQ(Str(UnionSpaceOfSorted(a, b)), Str(got));
  }
}

TEST(FormatSpaceTest, Words) {
  EXPECT_EQ(FormatSpace(Space(0, 0)), "0 IPv4 addresses");
  EXPECT_EQ(FormatSpace(Space(1, 0)), "1 IPv4 address");
  EXPECT_EQ(FormatSpace(Space(2949120, 0)), "2,949,120 IPv4 addresses");
  EXPECT_EQ(FormatSpace(Space(0, 1)), "1 IPv6 /64 network");
  EXPECT_EQ(FormatSpace(Space(256, 3)),
            "256 IPv4 addresses and 3 IPv6 /64 networks");
}

}  // namespace
}  // namespace tqs1::reconciler

// How much address space a set of prefixes covers: the size of their union,
// per family, in the units the guards and reports weigh.
//
//   std::vector<IpPrefix> v = {*ParseIpPrefix("10.0.0.0/8"),
//                              *ParseIpPrefix("10.1.1.1"),
//                              *ParseIpPrefix("2001:db8::/48"),
//                              *ParseIpPrefix("2001:db8::1")};
//   AddressSpace s = UnionSpace(v);
//   s.ipv4_addresses;   // 16777216: 10.1.1.1 is inside 10.0.0.0/8
//   s.ipv6_networks;    // 65536: a /48 holds 2^16 /64s; ::1 is inside
//
// Units: IPv4 counts addresses. IPv6 counts /64 networks, the size of one
// LAN segment (the unit an attacker or an ISP hands out), because counting
// IPv6 addresses would make one /64 outweigh every IPv4 address there is:
// a prefix of length L <= 64 is 2^(64-L) /64s, and a longer prefix or a
// single IPv6 address counts as the one /64 that holds it (two addresses of
// one /64 count once). Sums saturate at 2^64 - 1 (::/0 is 2^64 /64s), so
// nothing overflows.
//
// Entries that overlap (10.0.0.0/8 and 10.1.1.1) count once: the union is
// found by merging the prefixes' intervals in address order, in O(n) on
// sorted input and O(n log n) otherwise, without allocating per address.
#ifndef TQS1_RECONCILER_ADDRESS_SPACE_H_
#define TQS1_RECONCILER_ADDRESS_SPACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "reconciler/address.h"

namespace tqs1::reconciler {

// Address space per family: IPv4 addresses and IPv6 /64 networks.
struct AddressSpace {
  uint64_t ipv4_addresses = 0;
  uint64_t ipv6_networks = 0;

  friend bool operator==(const AddressSpace& a, const AddressSpace& b) {
    return a.ipv4_addresses == b.ipv4_addresses &&
           a.ipv6_networks == b.ipv6_networks;
  }
  friend bool operator!=(const AddressSpace& a, const AddressSpace& b) {
    return !(a == b);
  }
};

// `a - b` per family, 0 where b is larger. For sizes of nested sets
// (|A ∪ B| - |B|), where the result is exact.
AddressSpace operator-(const AddressSpace& a, const AddressSpace& b);

// Measures the union of prefixes fed in ascending IpPrefix order (as
// SortPrefixes or std::sort leave them: IPv4 first, then by address).
// Duplicates and nested prefixes are fine; the order is the caller's
// promise, and prefixes out of order are counted as if disjoint (too much,
// never too little).
//
//   UnionCounter counter;
//   for (const IpPrefix& p : sorted) counter.Add(p);
//   AddressSpace total = counter.Total();
class UnionCounter {
 public:
  // Inline: the planner calls it for every entry of a site.
  void Add(const IpPrefix& prefix) {
    uint64_t start, end;
    Interval(prefix, &start, &end);
    if (open_ && prefix.family() == family_ && start >= start_ &&
        start <= end_) {
      if (end > end_) end_ = end;
      return;
    }
    Close();
    open_ = true;
    family_ = prefix.family();
    start_ = start;
    end_ = end;
  }
  // The union of everything added so far.
  AddressSpace Total() const {
    UnionCounter copy = *this;
    copy.Close();
    return copy.closed_;
  }

 private:
  static constexpr uint64_t kMax = ~uint64_t{0};

  // `prefix` as a closed interval in its family's unit.
  static void Interval(const IpPrefix& prefix, uint64_t* start, uint64_t* end) {
    if (prefix.family() == IpPrefix::Family::kV4) {
      *start = prefix.low_bits();
      *end = *start + ((uint64_t{1} << (32 - prefix.length())) - 1);
      return;
    }
    *start = prefix.high_bits();
    const int length = prefix.length();
    if (length >= 64) {
      *end = *start;
    } else if (length == 0) {
      *end = kMax;
    } else {
      *end = *start + ((uint64_t{1} << (64 - length)) - 1);
    }
  }
  // Adds the open interval's size to its family's total, saturating.
  void Close() {
    if (!open_) return;
    open_ = false;
    const uint64_t span = end_ - start_;
    const uint64_t width = span == kMax ? kMax : span + 1;
    uint64_t& total = family_ == IpPrefix::Family::kV4 ? closed_.ipv4_addresses
                                                       : closed_.ipv6_networks;
    total = total > kMax - width ? kMax : total + width;
  }

  // The interval being merged, in the family's unit: [start, end], closed,
  // so that the whole IPv6 space (end 2^64 - 1) fits.
  bool open_ = false;
  IpPrefix::Family family_ = IpPrefix::Family::kV4;
  uint64_t start_ = 0;
  uint64_t end_ = 0;
  AddressSpace closed_;  // the intervals already merged and closed
};

// The union of `prefixes` in ascending IpPrefix order (UnionCounter over
// them).
AddressSpace UnionSpaceOfSorted(absl::Span<const IpPrefix> prefixes);

// The union of two vectors, each in ascending IpPrefix order: |a ∪ b|,
// merged on the fly (no copy).
AddressSpace UnionSpaceOfSorted(absl::Span<const IpPrefix> a,
                                absl::Span<const IpPrefix> b);

// The union of `prefixes` in any order (sorts a copy).
AddressSpace UnionSpace(std::vector<IpPrefix> prefixes);

// For people: "2,949,120 IPv4 addresses", "1 IPv6 /64 network",
// "256 IPv4 addresses and 3 IPv6 /64 networks"; IPv4 alone when both are 0.
std::string FormatSpace(const AddressSpace& space);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_ADDRESS_SPACE_H_

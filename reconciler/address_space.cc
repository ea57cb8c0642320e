#include "reconciler/address_space.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "reconciler/format.h"

namespace tqs1::reconciler {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > kMax - b ? kMax : a + b;
}

// The size of [start, end], closed; the whole 64-bit range saturates.
uint64_t Width(uint64_t start, uint64_t end) {
  uint64_t span = end - start;
  return span == kMax ? kMax : span + 1;
}

}  // namespace

AddressSpace operator-(const AddressSpace& a, const AddressSpace& b) {
  AddressSpace d;
  d.ipv4_addresses =
      a.ipv4_addresses > b.ipv4_addresses ? a.ipv4_addresses - b.ipv4_addresses
                                          : 0;
  d.ipv6_networks =
      a.ipv6_networks > b.ipv6_networks ? a.ipv6_networks - b.ipv6_networks
                                        : 0;
  return d;
}

void UnionCounter::Close() {
  if (open_) closed_ = Total();
}

AddressSpace UnionCounter::Total() const {
  AddressSpace total = closed_;
  if (!open_) return total;
  uint64_t& field = family_ == IpPrefix::Family::kV4 ? total.ipv4_addresses
                                                      : total.ipv6_networks;
  field = SaturatingAdd(field, Width(start_, end_));
  return total;
}

AddressSpace UnionSpaceOfSorted(absl::Span<const IpPrefix> prefixes) {
  UnionCounter counter;
  for (const IpPrefix& p : prefixes) counter.Add(p);
  return counter.Total();
}

AddressSpace UnionSpaceOfSorted(absl::Span<const IpPrefix> a,
                                absl::Span<const IpPrefix> b) {
  UnionCounter counter;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i] < b[j])) {
      counter.Add(a[i++]);
    } else {
      counter.Add(b[j++]);
    }
  }
  return counter.Total();
}

AddressSpace UnionSpace(std::vector<IpPrefix> prefixes) {
  SortPrefixes(prefixes);
  return UnionSpaceOfSorted(prefixes);
}

std::string FormatSpace(const AddressSpace& space) {
  std::string v4 = absl::StrCat(FormatCount(space.ipv4_addresses), " IPv4 ",
                                space.ipv4_addresses == 1 ? "address"
                                                          : "addresses");
  std::string v6 = absl::StrCat(FormatCount(space.ipv6_networks),
                                " IPv6 /64 ",
                                space.ipv6_networks == 1 ? "network"
                                                         : "networks");
  if (space.ipv6_networks == 0) return v4;
  if (space.ipv4_addresses == 0) return v6;
  return absl::StrCat(v4, " and ", v6);
}

}  // namespace tqs1::reconciler

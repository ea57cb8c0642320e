#include "reconciler/address_space.h"

#include "absl/strings/str_cat.h"
#include "reconciler/format.h"

namespace tqs1::reconciler {
AddressSpace operator-(const AddressSpace& a, const AddressSpace& b) {
  AddressSpace d;
  d.ipv4_addresses = a.ipv4_addresses > b.ipv4_addresses
                         ? a.ipv4_addresses - b.ipv4_addresses
                         : 0;
  d.ipv6_networks =
      a.ipv6_networks > b.ipv6_networks ? a.ipv6_networks - b.ipv6_networks : 0;
  return d;
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
  std::string v4 =
      absl::StrCat(FormatCount(space.ipv4_addresses), " IPv4 ",
                   space.ipv4_addresses == 1 ? "address" : "addresses");
  std::string v6 =
      absl::StrCat(FormatCount(space.ipv6_networks), " IPv6 /64 ",
                   space.ipv6_networks == 1 ? "network" : "networks");
  if (space.ipv6_networks == 0) return v4;
  if (space.ipv4_addresses == 0) return v6;
  return absl::StrCat(v4, " and ", v6);
}

}  // namespace tqs1::reconciler

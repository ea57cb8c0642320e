// IPv4 and IPv6 addresses and CIDR prefixes in a compact value type, with a
// strict parser and a canonical text form.
//
//   absl::StatusOr<IpPrefix> p = ParseIpPrefix(" 2001:DB8::0:1 ");
//   p->ToString();                        // "2001:db8::1"
//   ParseIpPrefix("10.0.0.0/8")->length();  // 8
//   ParseIpPrefix("10.0.0.5/8").status();   // kInvalidArgument, "host bits
//                                          // set: the network is 10.0.0.0/8"
//
// An IpPrefix is 24 bytes and allocates nothing, so a million of them sit in
// one vector; they sort IPv4 first, then by address, then by length.
#ifndef TQS1_RECONCILER_ADDRESS_H_
#define TQS1_RECONCILER_ADDRESS_H_

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tqs1::reconciler {

// An IPv4 or IPv6 address (a host prefix: /32 or /128) or network prefix.
// Bits beyond the prefix length are always zero.
class IpPrefix {
 public:
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

  // `address` holds the IPv4 address in host byte order.
  static IpPrefix V4(uint32_t address, int length);
  // `high` and `low` hold the 128-bit IPv6 address, most significant first.
  static IpPrefix V6(uint64_t high, uint64_t low, int length);

  Family family() const { return family_; }
  // The 128-bit address, most significant word first (IPv4: 0 and the
  // address).
  uint64_t high_bits() const { return high_; }
  uint64_t low_bits() const { return low_; }
  int length() const { return length_; }
  int max_length() const { return family_ == Family::kV4 ? 32 : 128; }
  // A single address (/32 or /128), written without a suffix.
  bool is_host() const { return length_ == max_length(); }

  // True when every address of `other` is in this prefix.
  bool Contains(const IpPrefix& other) const {
    if (family_ != other.family_ || length_ > other.length_) return false;
    return (other.high_ & HighMask(length_)) == high_ &&
           (other.low_ & LowMask(length_)) == low_;
  }
  // True when the two prefixes share an address.
  bool Overlaps(const IpPrefix& other) const {
    return Contains(other) || other.Contains(*this);
  }

  // Canonical text: dotted quad for IPv4, RFC 5952 for IPv6, "/n" only for
  // network prefixes.
  std::string ToString() const;
  // Appends ToString() to `out` (no temporary string).
  void AppendTo(std::string* out) const;

  friend bool operator==(const IpPrefix& a, const IpPrefix& b) {
    return a.Key() == b.Key();
  }
  friend bool operator!=(const IpPrefix& a, const IpPrefix& b) {
    return !(a == b);
  }
  friend bool operator<(const IpPrefix& a, const IpPrefix& b) {
    return a.Key() < b.Key();
  }

 private:
  IpPrefix(Family family, uint64_t high, uint64_t low, int length)
      : high_(high), low_(low), family_(family), length_(length) {}
  std::tuple<Family, uint64_t, uint64_t, uint8_t> Key() const {
    return {family_, high_, low_, length_};
  }
  // Masks of the first `length` bits of the 128-bit value (IPv4 addresses
  // sit in the low word's low 32 bits, so their masks are shifted there).
  uint64_t HighMask(int length) const {
    if (family_ == Family::kV4) return 0;
    return TopBits(length);
  }
  uint64_t LowMask(int length) const {
    if (family_ == Family::kV4) return TopBits(length) >> 32;
    return TopBits(length - 64);
  }
  static uint64_t TopBits(int length) {
    if (length <= 0) return 0;
    if (length >= 64) return ~uint64_t{0};
    return ~uint64_t{0} << (64 - length);
  }

  uint64_t high_;  // IPv4: 0.
  uint64_t low_;   // IPv4: the address in the low 32 bits.
  Family family_;
  uint8_t length_;
};

// Sorts `prefixes` into IpPrefix order. A radix sort: linear in the number
// of prefixes, several times faster than std::sort on a million addresses.
void SortPrefixes(std::vector<IpPrefix>& prefixes);

// Parses an IPv4 address ("192.0.2.1"), IPv6 address ("2001:db8::1") or
// CIDR prefix ("192.0.2.0/24", "2001:db8::/32"). Surrounding ASCII
// whitespace is ignored. Strict: no leading zeros in IPv4 octets (they read
// as octal elsewhere), no zone ids, no host bits beyond the prefix length.
// Errors are kInvalidArgument with a short reason naming the problem as
// precisely as the value's shape allows, e.g. "prefix length 33 is out of
// range (0-32)", "has a port (:443): give the address alone", "IPv4 octet
// with a leading zero (octal ambiguity)", "an address range: not supported
// (give a CIDR or single addresses)". Working out the precise reason costs
// time only for values that fail; a valid value allocates nothing.
absl::StatusOr<IpPrefix> ParseIpPrefix(absl::string_view text);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_ADDRESS_H_

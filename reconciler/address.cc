#include "reconciler/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tqs1::reconciler {
namespace {

// Mask of the top `length` bits of a 64-bit word (length in 0..64).
uint64_t TopBits(int length) {
  if (length <= 0) return 0;
  if (length >= 64) return ~uint64_t{0};
  return ~uint64_t{0} << (64 - length);
}

absl::Status Invalid(absl::string_view reason) {
  return absl::InvalidArgumentError(reason);
}

// Parses a dotted quad; false when `text` is not one. Always inlined: the
// hot path of ParseIpPrefix, also called by the (cold) diagnostics.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseV4(absl::string_view text,
                                                 uint32_t* out) {
  uint32_t address = 0;
  int octets = 0;
  size_t i = 0;
  while (true) {
    if (i >= text.size() || !absl::ascii_isdigit(text[i])) return false;
    size_t start = i;
    uint32_t value = 0;
    while (i < text.size() && absl::ascii_isdigit(text[i]) && i - start < 4) {
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    size_t digits = i - start;
    if (digits > 3 || value > 255) return false;
    if (digits > 1 && text[start] == '0') return false;  // octal ambiguity
    address = (address << 8) | value;
    ++octets;
    if (octets == 4) break;
    if (i >= text.size() || text[i] != '.') return false;
    ++i;
  }
  if (i != text.size()) return false;
  *out = address;
  return true;
}

bool ParseV6(absl::string_view text, uint64_t* high, uint64_t* low) {
  // INET6_ADDRSTRLEN is 46 including the terminator.
  char buffer[64];
  if (text.size() >= sizeof(buffer)) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, buffer, bytes) != 1) return false;
  uint64_t h = 0, l = 0;
  for (int k = 0; k < 8; ++k) h = (h << 8) | bytes[k];
  for (int k = 8; k < 16; ++k) l = (l << 8) | bytes[k];
  *high = h;
  *low = l;
  return true;
}

void AppendV4(uint32_t address, std::string* out) {
  char buffer[16];
  char* p = buffer;
  for (int shift = 24; shift >= 0; shift -= 8) {
    unsigned octet = (address >> shift) & 0xff;
    if (octet >= 100) *p++ = static_cast<char>('0' + octet / 100);
    if (octet >= 10) *p++ = static_cast<char>('0' + octet / 10 % 10);
    *p++ = static_cast<char>('0' + octet % 10);
    if (shift > 0) *p++ = '.';
  }
  out->append(buffer, p - buffer);
}

// Whether `text` is a whole IPv4 or IPv6 address (no prefix length).
bool IsAddress(absl::string_view text) {
  uint32_t v4;
  uint64_t high, low;
  return ParseV4(text, &v4) || ParseV6(text, &high, &low);
}

bool AllDigits(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// ":443" when `text` is "<address>:<port>" with an IPv4 address or a
// bracketed IPv6 one; empty otherwise.
absl::string_view PortSuffix(absl::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return {};
  absl::string_view port = text.substr(colon + 1);
  if (!AllDigits(port) || port.size() > 5) return {};
  absl::string_view host = text.substr(0, colon);
  uint32_t v4;
  if (ParseV4(host, &v4)) return text.substr(colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']' &&
      IsAddress(host.substr(1, host.size() - 2))) {
    return text.substr(colon);
  }
  return {};
}

// Why the address part of a value is not an address, as precisely as its
// shape allows. Only called for values that failed to parse, so it may take
// its time. `text` is the whole value (surrounding whitespace stripped),
// `address_text` the part before any '/'.
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD std::string DiagnoseAddress(
    absl::string_view text, absl::string_view address_text, bool v6) {
  for (char c : text) {
    if (absl::ascii_isspace(c)) {
      return "contains whitespace: give one address or prefix per value";
    }
  }
  if (absl::string_view port = PortSuffix(text); !port.empty()) {
    return absl::StrCat("has a port (", port, "): give the address alone");
  }
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    return "IPv6 address in brackets: give the address alone";
  }
  if (text.find("://") != absl::string_view::npos) {
    return "a URL, not an address: give the address alone";
  }
  if (text.find("[.]") != absl::string_view::npos ||
      text.find("[:]") != absl::string_view::npos) {
    return "a defanged address (\"[.]\"): give it as a plain address";
  }
  if (size_t dash = text.find('-');
      dash != absl::string_view::npos && IsAddress(text.substr(0, dash))) {
    return "an address range: not supported (give a CIDR or single "
           "addresses)";
  }
  if (v6) return "not an IPv6 address";
  // Only digits and dots: an IPv4 address gone wrong; say which way.
  for (char c : address_text) {
    if (!absl::ascii_isdigit(c) && c != '.') return "not an IPv4 address";
  }
  if (!address_text.empty() && address_text.back() == '.') {
    uint32_t v4;
    if (ParseV4(address_text.substr(0, address_text.size() - 1), &v4)) {
      return "trailing dot: give the address without it";
    }
  }
  std::vector<absl::string_view> octets;
  size_t start = 0;
  while (true) {
    size_t dot = address_text.find('.', start);
    octets.push_back(address_text.substr(start, dot - start));
    if (dot == absl::string_view::npos) break;
    start = dot + 1;
  }
  for (absl::string_view octet : octets) {
    if (octet.empty()) return "empty IPv4 octet";
  }
  for (absl::string_view octet : octets) {
    if (octet.size() > 1 && octet[0] == '0') {
      return "IPv4 octet with a leading zero (octal ambiguity)";
    }
  }
  for (absl::string_view octet : octets) {
    int value = 0;
    if (octet.size() > 3 || !absl::SimpleAtoi(octet, &value) || value > 255) {
      return absl::StrCat("IPv4 octet ", octet, " is out of range (0-255)");
    }
  }
  if (octets.size() != 4) {
    return absl::StrCat("IPv4 address with ", octets.size(),
                        " octets (need 4)");
  }
  return "not an IPv4 address";
}

}  // namespace

IpPrefix IpPrefix::V4(uint32_t address, int length) {
  uint64_t mask = TopBits(length) >> 32;
  return IpPrefix(Family::kV4, 0, address & mask, length);
}

IpPrefix IpPrefix::V6(uint64_t high, uint64_t low, int length) {
  return IpPrefix(Family::kV6, high & TopBits(length),
                  low & TopBits(length - 64), length);
}

void IpPrefix::AppendTo(std::string* out) const {
  if (family_ == Family::kV4) {
    AppendV4(static_cast<uint32_t>(low_), out);
  } else {
    unsigned char bytes[16];
    for (int k = 0; k < 8; ++k) bytes[k] = (high_ >> (56 - 8 * k)) & 0xff;
    for (int k = 0; k < 8; ++k) bytes[8 + k] = (low_ >> (56 - 8 * k)) & 0xff;
    char buffer[INET6_ADDRSTRLEN];
    // glibc's inet_ntop writes RFC 5952 text: lower case, the longest run of
    // two or more zero groups compressed, IPv4-mapped addresses dotted.
    inet_ntop(AF_INET6, bytes, buffer, sizeof(buffer));
    out->append(buffer);
  }
  if (!is_host()) {
    out->push_back('/');
    absl::StrAppend(out, length_);
  }
}

void SortPrefixes(std::vector<IpPrefix>& prefixes) {
  // Least significant digit first: length, then the low word, the high word
  // and the family, a byte at a time. Bytes equal in every prefix (most of
  // them: IPv4 hosts differ in four) cost no pass.
  constexpr int kDigits = 1 + 8 + 8 + 1;
  auto digit = [](const IpPrefix& p, int d) -> uint8_t {
    if (d == 0) return static_cast<uint8_t>(p.length());
    if (d <= 8) return static_cast<uint8_t>(p.low_bits() >> (8 * (d - 1)));
    if (d <= 16) return static_cast<uint8_t>(p.high_bits() >> (8 * (d - 9)));
    return static_cast<uint8_t>(p.family());
  };
  const size_t n = prefixes.size();
  if (n < 2) return;
  std::vector<std::array<size_t, 256>> counts(kDigits);
  for (auto& c : counts) c.fill(0);
  for (const IpPrefix& p : prefixes) {
    for (int d = 0; d < kDigits; ++d) ++counts[d][digit(p, d)];
  }
  std::vector<IpPrefix> buffer(n, IpPrefix::V4(0, 0));
  for (int d = 0; d < kDigits; ++d) {
    std::array<size_t, 256>& c = counts[d];
    if (*std::max_element(c.begin(), c.end()) == n) continue;
    size_t offset = 0;
    for (size_t& slot : c) {
      size_t count = slot;
      slot = offset;
      offset += count;
    }
    for (const IpPrefix& p : prefixes) buffer[c[digit(p, d)]++] = p;
    prefixes.swap(buffer);
  }
}

std::string IpPrefix::ToString() const {
  std::string out;
  AppendTo(&out);
  return out;
}

absl::StatusOr<IpPrefix> ParseIpPrefix(absl::string_view text) {
  if (!text.empty() &&
      (absl::ascii_isspace(text.front()) || absl::ascii_isspace(text.back()))) {
    text = absl::StripAsciiWhitespace(text);
  }
  if (text.empty()) return Invalid("empty value");

  // One pass to find the shape: a '/' splits off the length, a ':' means
  // IPv6, a '%' a zone id.
  size_t slash = absl::string_view::npos;
  bool v6 = false, zone = false;
  for (size_t k = 0; k < text.size(); ++k) {
    char c = text[k];
    if (c == '/') {
      slash = k;
      break;
    }
    v6 |= c == ':';
    zone |= c == '%';
  }
  absl::string_view address_text = text.substr(0, slash);
  absl::string_view length_text;
  bool has_length = slash != absl::string_view::npos;
  if (has_length) length_text = text.substr(slash + 1);
  if (v6 && zone) return Invalid("IPv6 zone ids are not allowed");
  int max_length = v6 ? 128 : 32;

  int length = max_length;
  if (has_length) {
    bool digits_only = !length_text.empty() && length_text.size() <= 3;
    for (char c : length_text) digits_only &= absl::ascii_isdigit(c) != 0;
    if (!digits_only || (length_text.size() > 1 && length_text[0] == '0') ||
        !absl::SimpleAtoi(length_text, &length)) {
      if (text.find("://") != absl::string_view::npos) {
        return Invalid("a URL, not an address: give the address alone");
      }
      return Invalid(
          absl::StrCat("prefix length \"", length_text, "\" is not a number"));
    }
    if (length > max_length) {
      return Invalid(absl::StrCat("prefix length ", length,
                                  " is out of range (0-", max_length, ")"));
    }
  }

  IpPrefix prefix = IpPrefix::V4(0, 32);
  bool host_bits_set = false;
  if (v6) {
    uint64_t high, low;
    if (!ParseV6(address_text, &high, &low)) {
      return Invalid(DiagnoseAddress(text, address_text, /*v6=*/true));
    }
    prefix = IpPrefix::V6(high, low, length);
    host_bits_set =
        (high & TopBits(length)) != high || (low & TopBits(length - 64)) != low;
  } else {
    uint32_t address;
    if (!ParseV4(address_text, &address)) {
      return Invalid(DiagnoseAddress(text, address_text, /*v6=*/false));
    }
    prefix = IpPrefix::V4(address, length);
    host_bits_set = ((TopBits(length) >> 32) & address) != address;
  }
  if (host_bits_set) {
    return Invalid(
        absl::StrCat("host bits set: the network is ", prefix.ToString()));
  }
  return prefix;
}

}  // namespace tqs1::reconciler

#include "providers/http/url.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tqs1::http {

absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad URL \"", UrlWithoutQuery(url), "\": ", why));
  };
  size_t sep = url.find("://");
  if (sep == absl::string_view::npos || sep == 0) return bad("no scheme");
  ParsedUrl parsed;
  parsed.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  absl::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  parsed.target =
      end == absl::string_view::npos ? "/" : std::string(rest.substr(end));
  if (parsed.target[0] != '/') parsed.target.insert(0, "/");
  size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) authority.remove_prefix(at + 1);
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return bad("unclosed '['");
    parsed.host = std::string(authority.substr(1, close - 1));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after IPv6 address");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) port = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) return bad("no host");
  for (char c : parsed.host) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '\\') {
      return bad("invalid character in host");
    }
  }
  if (!port.empty()) {
    if (!absl::SimpleAtoi(port, &parsed.port) || parsed.port <= 0 ||
        parsed.port > 65535) {
      return bad("bad port");
    }
  }
  return parsed;
}

std::string UrlWithoutQuery(absl::string_view url) {
  absl::string_view cut = url.substr(0, url.find_first_of("?#"));
  size_t sep = cut.find("://");
  if (sep == absl::string_view::npos) return std::string(cut);
  absl::string_view rest = cut.substr(sep + 3);
  size_t slash = rest.find('/');
  size_t at = rest.substr(0, slash).rfind('@');
  if (at == absl::string_view::npos) return std::string(cut);
  return absl::StrCat(cut.substr(0, sep + 3), rest.substr(at + 1));
}

bool IsLoopbackHost(absl::string_view host) {
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

absl::Status CheckPlainHttpPolicy(absl::string_view method,
                                  absl::string_view url,
                                  absl::string_view scheme,
                                  absl::string_view host,
                                  bool allow_plain_http) {
  if (absl::EqualsIgnoreCase(scheme, "https")) return absl::OkStatus();
  if (!absl::EqualsIgnoreCase(scheme, "http")) {
    return absl::InvalidArgumentError(
        absl::StrCat(method, " ", UrlWithoutQuery(url), ": scheme \"", scheme,
                     "\" is not supported (use https)"));
  }
  if (allow_plain_http || IsLoopbackHost(host)) return absl::OkStatus();
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      method, " ", UrlWithoutQuery(url), ": refusing plain http:// to host \"",
      host, "\" (only loopback hosts may use http; use https)"));
}

absl::Status ResponseTooLargeError(absl::string_view method,
                                   absl::string_view url, int64_t limit) {
  return absl::ResourceExhaustedError(
      absl::StrCat(method, " ", UrlWithoutQuery(url),
                   ": response body is larger than ", limit, " bytes"));
}

std::string PercentEncode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string PercentDecode(absl::string_view value) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '+') {
      out.push_back(' ');
    } else if (value[i] == '%' && i + 2 < value.size() &&
               hex(value[i + 1]) >= 0 && hex(value[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(hex(value[i + 1]) * 16 + hex(value[i + 2])));
      i += 2;
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
}

}  // namespace tqs1::http

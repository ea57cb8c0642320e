#include "base/net.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tqs1::net {

HostPortParts SplitHostPort(absl::string_view text) {
  HostPortParts parts;
  if (absl::StartsWith(text, "[")) {
    parts.bracketed = true;
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      parts.shape = HostPortParts::Shape::kUnclosedBracket;
      return parts;
    }
    parts.host = std::string(text.substr(1, close - 1));
    const absl::string_view after = text.substr(close + 1);
    if (after.empty()) return parts;
    if (after[0] != ':') {
      parts.shape = HostPortParts::Shape::kJunkAfterBracket;
      return parts;
    }
    parts.has_port = true;
    parts.port = std::string(after.substr(1));
    return parts;
  }
  const size_t colon = text.rfind(':');
  parts.host = std::string(text.substr(0, colon));
  if (colon != absl::string_view::npos) {
    parts.has_port = true;
    parts.port = std::string(text.substr(colon + 1));
  }
  return parts;
}

UrlParts SplitUrl(absl::string_view url) {
  UrlParts parts;
  absl::string_view rest = url;
  const size_t sep = url.find("://");
  if (sep != absl::string_view::npos) {
    parts.has_separator = true;
    parts.scheme = absl::AsciiStrToLower(url.substr(0, sep));
    rest = url.substr(sep + 3);
  }
  const size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  parts.target =
      end == absl::string_view::npos ? "/" : std::string(rest.substr(end));
  if (parts.target[0] != '/') parts.target.insert(0, "/");
  const size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) {
    parts.has_user_info = true;
    authority.remove_prefix(at + 1);
  }
  parts.authority = SplitHostPort(authority);
  return parts;
}

absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad URL \"", UrlWithoutQuery(url), "\": ", why));
  };
  UrlParts parts = SplitUrl(url);
  if (parts.scheme.empty()) return bad("no scheme");
  switch (parts.authority.shape) {
    case HostPortParts::Shape::kOk:
      break;
    case HostPortParts::Shape::kUnclosedBracket:
      return bad("unclosed '['");
    case HostPortParts::Shape::kJunkAfterBracket:
      return bad("junk after IPv6 address");
  }
  ParsedUrl parsed;
  parsed.scheme = std::move(parts.scheme);
  parsed.host = std::move(parts.authority.host);
  parsed.target = std::move(parts.target);
  if (parsed.host.empty()) return bad("no host");
  for (char c : parsed.host) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '\\') {
      return bad("invalid character in host");
    }
  }
  const std::string& port = parts.authority.port;
  if (!port.empty()) {
    if (!absl::SimpleAtoi(port, &parsed.port) || parsed.port <= 0 ||
        parsed.port > 65535) {
      return bad("bad port");
    }
  }
  return parsed;
}

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address \"", address, "\" ", why, " (expected HOST:PORT)"));
  };
  const HostPortParts parts = SplitHostPort(address);
  if (parts.shape != HostPortParts::Shape::kOk || !parts.has_port) {
    return bad("has no port");
  }
  if (!parts.bracketed && parts.host.find(':') != std::string::npos) {
    return bad("needs brackets around an IPv6 host");
  }
  if (parts.host.empty()) return bad("has no host");
  HostPort out;
  out.host = parts.host;
  if (!absl::SimpleAtoi(parts.port, &out.port) || out.port < 0 ||
      out.port > 65535) {
    return bad("has no valid port");
  }
  return out;
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

}  // namespace tqs1::net

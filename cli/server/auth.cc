#include "cli/server/auth.h"

#include <arpa/inet.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tqs1::server {

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address \"", address, "\" ", why, " (expected HOST:PORT)"));
  };
  HostPort out;
  absl::string_view port;
  if (absl::StartsWith(address, "[")) {
    size_t close = address.find(']');
    if (close == absl::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return bad("has no port");
    }
    out.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return bad("has no port");
    out.host = std::string(address.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return bad("needs brackets around an IPv6 host");
    }
    port = address.substr(colon + 1);
  }
  if (out.host.empty()) return bad("has no host");
  if (!absl::SimpleAtoi(port, &out.port) || out.port < 0 || out.port > 65535) {
    return bad("has no valid port");
  }
  return out;
}

bool IsLoopbackHost(absl::string_view host) {
  std::string h(host);
  if (absl::AsciiStrToLower(h) == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
    return std::equal(std::begin(v6.s6_addr), std::end(v6.s6_addr),
                      std::begin(kLoopback.s6_addr));
  }
  return false;
}

absl::Status CheckListenPolicy(absl::string_view listen_address, bool tls,
                               bool has_token) {
  absl::StatusOr<HostPort> hp = ParseHostPort(listen_address);
  if (!hp.ok()) return hp.status();
  if (IsLoopbackHost(hp->host) || (tls && has_token)) return absl::OkStatus();
  std::string missing;
  if (!tls) missing = "TLS (--tls-cert and --tls-key)";
  if (!has_token) {
    absl::StrAppend(&missing, missing.empty() ? "" : " and ",
                    "a token (--token-file or --token-env)");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "listening on ", listen_address, " (not loopback) needs ", missing));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Walks the longer string whole; a length difference alone fails.
  const size_t n = std::max(a.size(), b.size());
  uint8_t diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t x = i < a.size() ? static_cast<uint8_t>(a[i]) : 0;
    const uint8_t y = i < b.size() ? static_cast<uint8_t>(b[i]) : 0;
    diff |= static_cast<uint8_t>(x ^ y);
  }
  return diff == 0;
}

absl::Status CheckBearerToken(std::optional<absl::string_view> header,
                              absl::string_view expected) {
  constexpr absl::string_view kBearer = "Bearer ";
  if (!header.has_value() || header->size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(header->substr(0, kBearer.size()), kBearer)) {
    return absl::UnauthenticatedError(
        "missing bearer token (send metadata \"authorization: Bearer "
        "<token>\")");
  }
  absl::string_view token =
      absl::StripAsciiWhitespace(header->substr(kBearer.size()));
  // Compare even when the server has no token, so the timing is the same.
  const bool equal = ConstantTimeEquals(token, expected);
  if (expected.empty() || !equal) {
    return absl::PermissionDeniedError("invalid bearer token");
  }
  return absl::OkStatus();
}

std::optional<absl::string_view> AuthorizationHeader(
    const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

absl::StatusOr<std::string> ResolveToken(absl::string_view file,
                                         absl::string_view env,
                                         const config::SecretOptions& options) {
  if (!file.empty() && !env.empty()) {
    return absl::InvalidArgumentError(
        "give the token by --token-file or by --token-env, not both");
  }
  if (file.empty() && env.empty()) return std::string();
  tqs1::v1::SecretRef ref;
  if (!file.empty()) {
    ref.set_file(std::string(file));
  } else {
    ref.set_env(std::string(env));
  }
  return config::ResolveSecret(ref, "token", options);
}

}  // namespace tqs1::server

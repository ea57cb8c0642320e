#include "cli/server/auth.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/net.h"

namespace tqs1::server {

absl::Status CheckListenPolicy(absl::string_view listen_address, bool tls,
                               bool has_token) {
  absl::StatusOr<net::HostPort> hp = net::ParseHostPort(listen_address);
  if (!hp.ok()) return hp.status();
  if (net::IsLoopbackHost(hp->host) || (tls && has_token)) {
    return absl::OkStatus();
  }
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

absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view option) {
  // A PEM file is a few kilobytes; a bundle of CAs well under a megabyte.
  absl::StatusOr<std::string> text = ReadFileUpTo(path, 16 << 20);
  if (!text.ok() || text->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", option, " \"", path, "\""));
  }
  return text;
}

}  // namespace tqs1::server

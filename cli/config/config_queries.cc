// The queries of a loaded config (its defaults, instances, consoles and
// how messages name a sync's target) and the check of an API URL: the half
// of config_loader.h that reads no YAML.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/net.h"
#include "cli/config/config_loader.h"
#include "cli/config/schema.h"

namespace tqs1::config {

using ::tqs1::v1::Config;
using ::tqs1::v1::SentinelOneConfig;
using ::tqs1::v1::SyncConfig;
using ::tqs1::v1::ThreatQConfig;

std::string DefaultSyncName(absl::string_view stem,
                            const tqs1::v1::SyncConfig& sync,
                            const tqs1::v1::Config& config) {
  const std::string console = config.sentinelone_consoles_size() > 1
                                  ? absl::StrCat(sync.sentinelone(), ":")
                                  : "";
  return absl::StrCat(
      stem, " -> ", console,
      sync.global()             ? std::string("global")
      : sync.account_scope()    ? absl::StrCat("account ", sync.account())
      : !sync.site_id().empty() ? absl::StrCat("site ", sync.site_id())
      : !sync.account().empty() ? absl::StrCat(sync.account(), "/", sync.site())
                                : sync.site(),
      sync.group().empty() ? "" : " group ", sync.group());
}

int Parallelism(const Config& config) {
  return config.parallelism() > 0 ? static_cast<int>(config.parallelism())
                                  : kDefaultParallelism;
}

int MaxInFlight(const SentinelOneConfig& console) {
  return console.max_in_flight() > 0 ? static_cast<int>(console.max_in_flight())
                                     : kDefaultConsoleInFlight;
}

int MaxInFlight(const ThreatQConfig& instance) {
  return instance.max_in_flight() > 0
             ? static_cast<int>(instance.max_in_flight())
             : kDefaultThreatQInFlight;
}

std::vector<const ThreatQConfig*> ThreatQInstances(const Config& config) {
  std::vector<const ThreatQConfig*> out;
  if (config.threatq_instances().empty()) out.push_back(&config.threatq());
  for (const ThreatQConfig& tq : config.threatq_instances()) out.push_back(&tq);
  return out;
}

std::vector<const SentinelOneConfig*> SentinelOneConsoles(
    const Config& config) {
  std::vector<const SentinelOneConfig*> out;
  if (config.sentinelone_consoles().empty()) {
    out.push_back(&config.sentinelone());
  }
  for (const SentinelOneConfig& s1 : config.sentinelone_consoles()) {
    out.push_back(&s1);
  }
  return out;
}

const ThreatQConfig& ThreatQOf(const Config& config, const SyncConfig& sync) {
  for (const ThreatQConfig& tq : config.threatq_instances()) {
    if (tq.name() == sync.threatq()) return tq;
  }
  return config.threatq();
}

const SentinelOneConfig& SentinelOneOf(const Config& config,
                                       const SyncConfig& sync) {
  for (const SentinelOneConfig& s1 : config.sentinelone_consoles()) {
    if (s1.name() == sync.sentinelone()) return s1;
  }
  return config.sentinelone();
}

namespace {

// A site sync's site: "\"HQ\"", "\"HQ\" of account \"ACME\"", "id 1234".
std::string SiteOnlyLabel(const SyncConfig& sync) {
  if (!sync.site_id().empty()) {
    if (sync.site().empty()) return absl::StrCat("id ", sync.site_id());
    return absl::StrCat(Quote(sync.site()), " (id ", sync.site_id(), ")");
  }
  if (sync.account().empty()) return Quote(sync.site());
  return absl::StrCat(Quote(sync.site()), " of account ",
                      Quote(sync.account()));
}

}  // namespace

std::string SiteLabel(const SyncConfig& sync) {
  if (sync.global()) return "the global scope";
  if (!sync.group().empty()) {
    return absl::StrCat("group ", Quote(sync.group()), " of site ",
                        SiteOnlyLabel(sync));
  }
  if (sync.account_scope()) {
    return absl::StrCat("account ", Quote(sync.account()));
  }
  return SiteOnlyLabel(sync);
}

absl::Status ValidateApiUrl(absl::string_view url) {
  if (url.empty()) return absl::InvalidArgumentError("must not be empty");
  const net::UrlParts parts = net::SplitUrl(url);
  if (parts.has_user_info) {
    // Never shown: the user info may hold a password.
    return absl::InvalidArgumentError(
        "the URL embeds credentials (user:password@host); remove them and "
        "reference secrets with the *_env or *_file keys");
  }
  // A query string may hold a token too: never shown either.
  const absl::string_view shown = url.substr(0, url.find_first_of("?#"));
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(shown), why));
  };
  if (!parts.has_separator) {
    return bad(absl::StrCat(" has no scheme; write ",
                            Quote(absl::StrCat("https://", shown))));
  }
  if (parts.scheme != "https" && parts.scheme != "http") {
    return bad(absl::StrCat(" has the unsupported scheme ", Quote(parts.scheme),
                            "; use https://"));
  }
  if (shown.size() != url.size()) {
    return bad(
        " must be a base URL, without a query (?...) or fragment (#...)");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return bad(" contains whitespace or control characters");
    }
  }
  const net::HostPortParts& host = parts.authority;
  using Shape = net::HostPortParts::Shape;
  if (host.shape == Shape::kUnclosedBracket) {
    return bad(" has an unterminated [IPv6] host");
  }
  if (host.bracketed) {
    in6_addr v6;
    if (inet_pton(AF_INET6, host.host.c_str(), &v6) != 1) {
      return bad(" has an invalid IPv6 address in brackets");
    }
    if (host.shape == Shape::kJunkAfterBracket) {
      return bad(" has an invalid host");
    }
  } else {
    if (host.host.find(':') != std::string::npos) {
      return bad(
          ": write IPv6 addresses in brackets, e.g. https://[2001:db8::1]/");
    }
    const bool valid_name =
        std::all_of(host.host.begin(), host.host.end(), [](char c) {
          return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
        });
    if (!valid_name) return bad(" has an invalid host name");
  }
  if (host.host.empty()) return bad(" has no host");
  if (host.has_port) {
    int n = 0;
    const bool digits =
        std::all_of(host.port.begin(), host.port.end(), absl::ascii_isdigit);
    if (host.port.empty() || !digits || !absl::SimpleAtoi(host.port, &n) ||
        n < 1 || n > 65535) {
      return bad(" has an invalid port");
    }
  }
  if (parts.scheme == "http" && !net::IsLoopbackHost(host.host)) {
    return bad(
        " uses http://, which sends credentials in clear text; use https:// "
        "(http:// is allowed only to localhost, 127.0.0.0/8 and ::1)");
  }
  return absl::OkStatus();
}

}  // namespace tqs1::config

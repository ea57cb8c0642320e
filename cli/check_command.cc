// `tqs1 check`, wired to the backends Connect() made; what plan and apply
// take from its probes: `ipv6: auto` decided from what the write probe
// saved, and the token-expiry warning.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/app.h"
#include "cli/check/check.h"
#include "cli/check/probe_findings.h"
#include "cli/config/config_loader.h"
#include "cli/stop_signals.h"
#include "providers/sentinelone/sentinelone_client.h"

namespace tqs1::cli {

sync::Ipv6AutoResolver Ipv6FromProbes(std::string state_dir,
                                      const tqs1::v1::Config& config,
                                      log::Logger* logger) {
  std::map<std::string, std::string> console_urls;  // by console name
  for (const tqs1::v1::SentinelOneConfig* s1 :
       config::SentinelOneConsoles(config)) {
    console_urls[s1->name()] = s1->url();
  }
  return
      [state_dir = std::move(state_dir), console_urls = std::move(console_urls),
       logger](const tqs1::v1::SyncConfig& sync, absl::string_view site_id) {
        auto url = console_urls.find(sync.sentinelone());
        if (url == console_urls.end()) return tqs1::v1::IPV6_MODE_AUTO;
        absl::StatusOr<std::optional<check::ProbeFindings>> found =
            check::ReadProbeFindings(state_dir, url->second, site_id);
        if (!found.ok()) {
          log::LogTo(logger, log::LogLevel::kWarning,
                     absl::StrCat("ipv6: auto counts as on for site ", site_id,
                                  ": ", found.status().message()));
          return tqs1::v1::IPV6_MODE_AUTO;
        }
        if (!found->has_value()) return tqs1::v1::IPV6_MODE_AUTO;
        switch ((*found)->ipv6_accepted) {
          case check::Tristate::kNo:
            return tqs1::v1::IPV6_MODE_OFF;
          case check::Tristate::kYes:
            return tqs1::v1::IPV6_MODE_ON;
          case check::Tristate::kUnknown:
            break;
        }
        return tqs1::v1::IPV6_MODE_AUTO;
      };
}

void WarnIfTokenExpiresSoon(Backends& backends, const Io& io,
                            log::Logger* logger, absl::Time now) {
  for (const auto& [name, client] : backends.ConsoleClients()) {
    const std::string of =
        name.empty() ? "" : absl::StrCat(" of console \"", name, "\"");
    absl::StatusOr<sentinelone::ApiTokenDetails> token = client->TokenDetails();
    if (!token.ok()) {
      log::LogTo(logger, log::LogLevel::kDebug,
                 absl::StrCat("the SentinelOne API token's expiry", of,
                              " is unknown: ", token.status().message()));
      continue;
    }
    std::optional<std::string> warning =
        sentinelone::TokenRenewalWarning(*token, now);
    if (!warning.has_value()) continue;
    if (!name.empty())
      *warning = absl::StrCat("console \"", name, "\": ", *warning);
    *io.err << "Warning: " << *warning << "\n";
    log::LogTo(logger, log::LogLevel::kWarning, *warning);
  }
}

namespace {

// Syncs of one ThreatQ instance and one console (their names, "" when
// unnamed), as a config of their own with that instance and console
// unnamed: what `tqs1 check` probes together.
struct EndpointPart {
  std::string threatq;
  std::string sentinelone;
  tqs1::v1::Config config;
};

// `syncs` of `config` by the instance and console they use, in order of
// first use.
std::vector<EndpointPart> ByEndpoints(
    const tqs1::v1::Config& config,
    const std::vector<const tqs1::v1::SyncConfig*>& syncs) {
  std::vector<EndpointPart> parts;
  for (const tqs1::v1::SyncConfig* sync : syncs) {
    auto part = std::find_if(parts.begin(), parts.end(), [&](const auto& p) {
      return p.threatq == sync->threatq() &&
             p.sentinelone == sync->sentinelone();
    });
    if (part == parts.end()) {
      part = parts.insert(
          parts.end(),
          EndpointPart{sync->threatq(), sync->sentinelone(), config});
      tqs1::v1::Config& c = part->config;
      c.clear_syncs();
      c.clear_threatq_instances();
      c.clear_sentinelone_consoles();
      *c.mutable_threatq() = config::ThreatQOf(config, *sync);
      *c.mutable_sentinelone() = config::SentinelOneOf(config, *sync);
    }
    tqs1::v1::SyncConfig* copy = part->config.add_syncs();
    *copy = *sync;
    copy->clear_threatq();
    copy->clear_sentinelone();
  }
  return parts;
}

}  // namespace

int RunCheckCommand(const tqs1::v1::Config& config, Backends& backends,
                    const config::Credentials& secrets, const CommandLine& cl,
                    const std::string& state_dir, const Io& io,
                    log::Logger* logger) {
  check::CheckOptions options;
  options.write_probe = cl.write_probe;
  options.syncs = cl.syncs;
  options.state_dir = state_dir;
  // Ctrl-C or SIGTERM: the write probe skips to its clean-up.
  StopSignals stop;
  options.should_stop = [&stop] { return stop.received() != 0; };
  check::CheckBackends check;
  check.secrets = secrets.All();
  int code = kExitOk;
  if (config.threatq_instances().empty() &&
      config.sentinelone_consoles().empty()) {
    check.threatq = backends.threatq_client;
    check.sentinelone = backends.sentinelone_client;
    check.sentinelone_transport = backends.sentinelone_transport.get();
    check.sentinelone_api_token = secrets.sentinelone_api_token;
    code = check::RunCheck(config, check, options, *io.out, logger, nullptr);
  } else {
    // Named instances or consoles: each pair of them that syncs use is
    // checked in turn, under a heading.
    const sync::SyncSelection selection =
        sync::SelectSyncs(config, options.syncs);
    if (selection.unknown.has_value()) {
      *io.err << "Error: --sync \"" << *selection.unknown
              << "\" is not in the config\n";
      return kExitError;
    }
    options.syncs.clear();
    for (const EndpointPart& part : ByEndpoints(config, selection.syncs)) {
      *io.out << "== ThreatQ "
              << (part.threatq.empty() ? "(unnamed)" : part.threatq)
              << ", console "
              << (part.sentinelone.empty() ? "(unnamed)" : part.sentinelone)
              << " ==\n";
      auto tq = backends.named_threatq.find(part.threatq);
      check.threatq = part.threatq.empty() ? backends.threatq_client
                      : tq != backends.named_threatq.end() ? tq->second.client
                                                           : nullptr;
      auto s1 = backends.named_consoles.find(part.sentinelone);
      const bool unnamed = part.sentinelone.empty();
      const bool found = s1 != backends.named_consoles.end();
      check.sentinelone = unnamed ? backends.sentinelone_client
                          : found ? s1->second.client
                                  : nullptr;
      check.sentinelone_transport = unnamed
                                        ? backends.sentinelone_transport.get()
                                    : found ? s1->second.transport.get()
                                            : nullptr;
      check.sentinelone_api_token =
          secrets.SentinelOneApiToken(part.sentinelone);
      code = std::max(code, check::RunCheck(part.config, check, options,
                                            *io.out, logger, nullptr));
      if (stop.received() != 0) break;
    }
  }
  return stop.received() != 0 ? ExitForSignal(stop.received()) : code;
}

}  // namespace tqs1::cli

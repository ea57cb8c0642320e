// `tqs1 check`, wired to the backends Connect() made; what plan and apply
// take from its probes: `ipv6: auto` decided from what the write probe
// saved, and the token-expiry warning.
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/app.h"
#include "cli/check/check.h"
#include "cli/check/probe_findings.h"
#include "cli/stop_signals.h"
#include "providers/sentinelone/sentinelone_client.h"

namespace tqs1::cli {

sync::Ipv6AutoResolver Ipv6FromProbes(std::string state_dir,
                                      std::string console_url,
                                      log::Logger* logger) {
  return
      [state_dir = std::move(state_dir), console_url = std::move(console_url),
       logger](absl::string_view site_id) {
        absl::StatusOr<std::optional<check::ProbeFindings>> found =
            check::ReadProbeFindings(state_dir, console_url, site_id);
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
  if (backends.sentinelone_client == nullptr) return;
  absl::StatusOr<sentinelone::ApiTokenDetails> token =
      backends.sentinelone_client->TokenDetails();
  if (!token.ok()) {
    log::LogTo(logger, log::LogLevel::kDebug,
               absl::StrCat("the SentinelOne API token's expiry is unknown: ",
                            token.status().message()));
    return;
  }
  const std::optional<std::string> warning =
      sentinelone::TokenRenewalWarning(*token, now);
  if (!warning.has_value()) return;
  *io.err << "Warning: " << *warning << "\n";
  log::LogTo(logger, log::LogLevel::kWarning, *warning);
}

int RunCheckCommand(const tqs1::v1::Config& config, Backends& backends,
                    const config::Credentials& secrets, const CommandLine& cl,
                    const std::string& state_dir, const Io& io,
                    log::Logger* logger) {
  check::CheckBackends check;
  check.threatq = backends.threatq_client;
  check.sentinelone = backends.sentinelone_client;
  check.sentinelone_transport = backends.sentinelone_transport.get();
  check.sentinelone_api_token = secrets.sentinelone_api_token;
  check.secrets = {secrets.threatq_password, secrets.threatq_client_secret,
                   secrets.sentinelone_api_token};
  check::CheckOptions options;
  options.write_probe = cl.write_probe;
  options.syncs = cl.syncs;
  options.state_dir = state_dir;
  // Ctrl-C or SIGTERM: the write probe skips to its clean-up.
  StopSignals stop;
  options.should_stop = [&stop] { return stop.received() != 0; };
  const int code =
      check::RunCheck(config, check, options, *io.out, logger, nullptr);
  return stop.received() != 0 ? ExitForSignal(stop.received()) : code;
}

}  // namespace tqs1::cli

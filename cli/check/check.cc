#include "cli/check/check.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/check/raw_rules.h"
#include "cli/check/report.h"
#include "cli/check/sentinelone_probes.h"
#include "cli/check/threatq_probes.h"
#include "cli/check/write_probe.h"

namespace tqs1::check {
namespace {

// The syncs `names` selects, in config order; unknown names are FAIL lines.
std::vector<const v1::SyncConfig*> SelectSyncs(
    const v1::Config& config, const std::vector<std::string>& names,
    CheckReport& report) {
  std::vector<const v1::SyncConfig*> out;
  std::vector<std::string> known;
  for (const v1::SyncConfig& sync : config.syncs()) {
    known.push_back(absl::StrCat("\"", sync.name(), "\""));
    if (names.empty() ||
        std::find(names.begin(), names.end(), sync.name()) != names.end()) {
      out.push_back(&sync);
    }
  }
  for (const std::string& name : names) {
    const bool found = std::any_of(
        config.syncs().begin(), config.syncs().end(),
        [&name](const v1::SyncConfig& s) { return s.name() == name; });
    if (!found) {
      report.Fail("check.syncs",
                  absl::StrCat("--sync \"", name,
                               "\" is not in the config; its syncs: ",
                               absl::StrJoin(known, ", ")));
    }
  }
  return out;
}

void WriteProbe(const v1::Config& config, const CheckBackends& backends,
                const CheckOptions& options, RawRuleCalls* raw,
                const std::string& site_id, Clock* clock, CheckReport& report) {
  WriteProbeOptions probe;
  probe.site_id = site_id;
  probe.should_stop = options.should_stop;
  probe.suffix = options.probe_suffix;
  probe.clock = clock;
  WriteProbeResult result =
      RunWriteProbe(*backends.sentinelone, raw, probe, report);
  if (result.findings.ipv6_accepted == Tristate::kUnknown) {
    report.Warn("sentinelone.probe.saved",
                "nothing saved: the probe did not settle whether the console "
                "takes IPv6 (earlier findings are kept)");
    return;
  }
  absl::Status saved = WriteProbeFindings(
      options.state_dir, config.sentinelone().url(), site_id, result.findings);
  if (!saved.ok()) {
    report.Fail("sentinelone.probe.saved", saved);
    return;
  }
  absl::StatusOr<std::string> path =
      ProbeFindingsPath(options.state_dir, config.sentinelone().url(), site_id);
  report.Pass("sentinelone.probe.saved",
              absl::StrCat("ipv6 accepted: ",
                           TristateName(result.findings.ipv6_accepted),
                           " (for ipv6: auto), in ", path.ok() ? *path : ""));
}

}  // namespace

int RunCheck(const v1::Config& config, const CheckBackends& backends,
             const CheckOptions& options, std::ostream& out,
             log::Logger* logger, Clock* clock) {
  Clock& time = clock != nullptr ? *clock : RealClock();
  std::vector<std::string> secrets = backends.secrets;
  secrets.push_back(backends.sentinelone_api_token);
  CheckReport report(std::move(secrets), &out);
  std::vector<const v1::SyncConfig*> syncs =
      SelectSyncs(config, options.syncs, report);

  if (backends.threatq == nullptr) {
    report.Fail("threatq", "not connected (no ThreatQ client)");
  } else {
    std::vector<std::string> collections;
    for (const v1::SyncConfig* sync : syncs) {
      collections.push_back(sync->collection());
    }
    RunThreatQProbes(*backends.threatq, config.threatq(), collections, report);
  }

  if (backends.sentinelone == nullptr) {
    report.Fail("sentinelone", "not connected (no SentinelOne client)");
    return report.ExitCode();
  }
  std::unique_ptr<HttpRawRuleCalls> raw;
  if (backends.sentinelone_transport != nullptr &&
      !backends.sentinelone_api_token.empty()) {
    absl::StatusOr<std::unique_ptr<HttpRawRuleCalls>> made =
        HttpRawRuleCalls::Create(backends.sentinelone_transport,
                                 config.sentinelone().url(),
                                 backends.sentinelone_api_token);
    if (made.ok()) raw = *std::move(made);
  }
  if (!ProbeConsole(*backends.sentinelone, time.Now(), report)) {
    return report.ExitCode();
  }
  std::set<std::string> probed;
  for (const v1::SyncConfig* sync : syncs) {
    std::optional<std::string> site =
        ProbeSite(*backends.sentinelone, raw.get(), *sync, report);
    if (!site.has_value() || !options.write_probe) continue;
    if (!probed.insert(*site).second) continue;  // one probe per site
    WriteProbe(config, backends, options, raw.get(), *site, &time, report);
  }
  if (logger != nullptr) {
    int fails = 0;
    int warns = 0;
    for (const CheckLine& line : report.lines()) {
      fails += line.verdict == Verdict::kFail ? 1 : 0;
      warns += line.verdict == Verdict::kWarn ? 1 : 0;
    }
    logger->Log(log::LogLevel::kInfo,
                absl::StrCat("tqs1 check: ", report.lines().size(), " lines, ",
                             warns, " WARN, ", fails, " FAIL"));
  }
  return report.ExitCode();
}

}  // namespace tqs1::check

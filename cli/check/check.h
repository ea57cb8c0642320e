// `tqs1 check`: a doctor for first contact with a real console and a real
// instance. Read-only by default; one line per probe, PASS, WARN or FAIL
// with what it found (report.h), secrets redacted, so that the output can
// be pasted into a support ticket; exit 1 on any FAIL.
//
//   CheckBackends check;
//   check.threatq = backends.threatq_client;
//   check.sentinelone = backends.sentinelone_client;
//   check.sentinelone_transport = backends.sentinelone_transport.get();
//   check.sentinelone_api_token = secrets.sentinelone_api_token;
//   check.secrets = {secrets.threatq_password, secrets.threatq_client_secret,
//                    secrets.sentinelone_api_token};
//   CheckOptions options;
//   options.write_probe = command_line.write_probe;
//   options.state_dir = paths.state_dir;
//   options.should_stop = [&signals] { return signals.received() != 0; };
//   int code = RunCheck(config, check, options, *io.out, &logger, nullptr);
//
// The lines, in order (threatq_probes.h, sentinelone_probes.h,
// write_probe.h): threatq.token, .types, .statuses, .collections, and per
// collection of the selected syncs .collection, .query, .counts;
// sentinelone.console, .user, .token, and per selected sync .site,
// .firewall, .rules, .marked, .fields; with --write-probe, per site
// sentinelone.probe.* and sentinelone.probe.saved.
//
// Output on the demo emulators (check_test.cc prints the whole of it):
//   PASS  threatq.token           grant password: token_type "bearer",
//                                 expires_in 3600, taken as 1h, ...
//   PASS  threatq.query           "Known C2 IPs": keys [data, limit, offset,
//                                 total], total 3, limit echoed 1000 ...
//   PASS  sentinelone.site        sync "Known C2 IPs -> HQ" uses "HQ"
//                                 (account "Acme", id 1758952600032266153):
//                                 active, licence Complete, isDefault false
//   PASS  sentinelone.probe.ipv6  a rule of IPv6 values only (2001:db8::1,
//                                 2001:db8::/32) was accepted (id ...)
// (each line is one line; wrapped here).
//
// ipv6: auto reads what the write probe saved with ReadProbeFindings()
// (probe_findings.h): `<state_dir>/probe-<console host>-<site id>.json`.
#ifndef TQS1_CLI_CHECK_CHECK_H_
#define TQS1_CLI_CHECK_CHECK_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/logger.h"
#include "cli/check/probe_findings.h"
#include "proto/config.pb.h"
#include "providers/http/http_transport.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/threatq/threatq_client.h"

namespace tqs1::check {

// The connections the probes use; none owned, each must outlive RunCheck.
// (Not cli::Backends: //cli:app depends on this package to wire the
// command, so this package cannot depend on it.)
struct CheckBackends {
  // The real clients (the probes use what only they offer). Null: that
  // vendor's probes are a FAIL line "not connected".
  threatq::ThreatQClient* threatq = nullptr;
  sentinelone::SentinelOneClient* sentinelone = nullptr;
  // The SentinelOne transport and token, for the few requests the probes
  // must see unsettled (raw_rules.h): the fields of listed rules, and the
  // write probe's duplicate answers, description-only PUT and delete
  // counts. Null or empty: those stay unknown (a WARN line).
  http::HttpTransport* sentinelone_transport = nullptr;
  std::string sentinelone_api_token;
  // Every secret of the run (password, client secret, API token): never
  // printed.
  std::vector<std::string> secrets;
};

struct CheckOptions {
  // --write-probe: run write_probe.h on each selected sync's site and save
  // its findings.
  bool write_probe = false;
  // --sync: the syncs to check, in config order (all when empty). An
  // unknown name is a FAIL line.
  std::vector<std::string> syncs;
  // Where the findings are saved (the state folder).
  std::string state_dir;
  // Asked by the write probe before each step (SIGINT): true skips to its
  // clean-up. Empty: never.
  std::function<bool()> should_stop;
  // The write probe's rule-name suffix (8 hex digits); empty: random.
  std::string probe_suffix;
};

// Runs every probe, prints each line to `out` as it comes, and returns 1
// when any line is a FAIL, else 0. Findings of a write probe are saved only
// when it settled the IPv6 question (a "sentinelone.probe.saved" line; a
// write error is a FAIL): an interrupted probe never overwrites what an
// earlier one learned. `logger` and `clock` may be null (RealClock()).
int RunCheck(const tqs1::v1::Config& config, const CheckBackends& backends,
             const CheckOptions& options, std::ostream& out,
             log::Logger* logger, Clock* clock);

}  // namespace tqs1::check

#endif  // TQS1_CLI_CHECK_CHECK_H_

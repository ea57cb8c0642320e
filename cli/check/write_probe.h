// `tqs1 check --write-probe`: what a console does with writes, learned on
// throw-away rules in the configured site only. Every rule it makes is named
// tqs1-probe-<8 hex> (the IPv6 one tqs1-probe-<8 hex>-v6), is Disabled and
// holds documentation addresses (RFC 5737, RFC 3849) only:
//
//   1. sweep: delete every tqs1-probe-* site rule an earlier, interrupted
//      probe left behind;
//   2. create the probe rule with 192.0.2.1, 198.51.100.0/24, 2001:db8::1
//      and 2001:db8::/32 (IPv4 only when that is refused);
//   3. read it back: values (as a set), description (byte for byte) and OS
//      types (as a set) as sent?
//   4. create the same name again (the duplicate-name answer), then the name
//      upper-cased (do names clash ignoring case?);
//   5. PUT only a changed description and read back (partial or full
//      update?);
//   6. create a rule of IPv6 values only (does the console take IPv6?);
//   7. clean up, always (after a failure and after a stop too): delete
//      every rule of this run, each delete's `affected` noted, and re-read
//      the site to make sure none is left.
//
//   WriteProbeOptions options;
//   options.site_id = site_id;
//   options.should_stop = [&] { return signals.received() != 0; };
//   WriteProbeResult result = RunWriteProbe(rules, raw.get(), options, report);
//   if (result.findings.ipv6_accepted == Tristate::kNo) ...
#ifndef TQS1_CLI_CHECK_WRITE_PROBE_H_
#define TQS1_CLI_CHECK_WRITE_PROBE_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "base/clock.h"
#include "cli/check/probe_findings.h"
#include "cli/check/raw_rules.h"
#include "cli/check/report.h"
#include "providers/sentinelone/firewall_rules.h"

namespace tqs1::check {

struct WriteProbeOptions {
  // The configured site (already found); the only one written to.
  std::string site_id;
  // Asked before each step; true: skip to the clean-up. Empty: never.
  std::function<bool()> should_stop;
  // The 8 lower-case hex digits of this run's rule names; empty: random.
  std::string suffix;
  // For learned_at; null: RealClock().
  Clock* clock = nullptr;
};

struct WriteProbeResult {
  // What was learned (console and site are left for the caller to set).
  ProbeFindings findings;
  // should_stop() said stop before every step had run.
  bool interrupted = false;
  // After the clean-up the site held no tqs1-probe-* rule.
  bool clean = false;
};

// Whether `name` is one the write probe makes: "tqs1-probe-" and 8 hex
// digits, optionally "-v6", in any letter case.
bool IsProbeRuleName(absl::string_view name);

// Runs the probe above on `rules` (and `raw`, which may be null: then the
// duplicate answers are the client's words, and the partial-update and
// `affected` questions stay unknown), adding "sentinelone.probe.*" lines to
// `report`. A step that fails is a FAIL line; the steps that need its rule
// are skipped; the clean-up always runs, and a rule it cannot remove is a
// FAIL line naming its id.
WriteProbeResult RunWriteProbe(sentinelone::FirewallRules& rules,
                               RawRuleCalls* raw,
                               const WriteProbeOptions& options,
                               CheckReport& report);

}  // namespace tqs1::check

#endif  // TQS1_CLI_CHECK_WRITE_PROBE_H_

// The --help texts of the commands (declared in cli/args.h): what each
// command does, its options, and the exit codes. Kept apart from the
// parser; //cli:args_test and //packaging:completion_test check that the
// two agree.
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/args.h"

namespace tqs1::cli {

std::string HelpText(const std::string& command) {
  if (command == kLegacyProgramName) {
    return absl::StrCat(
        "Usage: ", kLegacyProgramName,
        " [-c DIR] [-ll DIR|stdout] [-v {1,2,3}] [-n NAME]\n\n"
        "tqs1 under the old connector's name: runs `tqs1 apply "
        "--auto-approve` with\nthe old connector's flags, so its cron line "
        "keeps working:\n  0 */2 * * * ",
        kLegacyProgramName,
        " -c /etc/tq_labs/ -ll /var/log/tq_labs/ -v3\n\n"
        "  -c, --config DIR        the folder holding tqs1.yaml (or "
        "NAME.yaml), or a file\n"
        "  -ll, --loglocation DIR  write DIR/tqs1.log; \"stdout\": the "
        "console (default)\n"
        "  -v, --verbosity {1,2,3} 1: errors and warnings, 2: progress, 3: "
        "everything\n"
        "  -n, --name NAME         instance name\n\n"
        "For plan, drift and the other commands, run `tqs1 help`.\n");
  }
  const std::string common = R"(
Options for every command that reads a config:
  -c, --config PATH       config file, or a folder holding tqs1.yaml (or
                          NAME.yaml with -n); without --state-dir the folder
                          also keeps tqs1's state (apply lock, last run).
                          Default: .
  -n, --name NAME         instance name: NAME.yaml and its own state/lock
  --state-dir DIR         keep the state in DIR instead (an existing folder;
                          the Debian package uses /var/lib/tqs1)
  -ll, --loglocation DIR  write DIR/tqs1.log (or NAME.log); "stdout" logs to
                          the console (default)
  -v, --verbosity {1,2,3} 1: errors and warnings, 2: progress, 3: everything
  --log-format {text,json}  json: one JSON object per log line (time, level,
                          message, run_id, sync, counts, error), for a SIEM
  --sync NAME             only this sync (repeatable)
  --no-color              no colour (also when NO_COLOR is set)
)";
  const std::string exit_codes = R"(
Exit codes:
  0  success; with --detailed-exitcode: every site in sync
  1  error (config, network, vendor API, or a sync failed)
  2  with --detailed-exitcode: changes pending
  3  a guard blocks a plan (empty source, mass unblock, Firewall Control
     disabled, a rule tqs1 cannot manage): nothing applied
)";
  const std::string client = R"(
Remote (a `tqs1 serve`):
  --server HOST:PORT      run on that server instead of locally
  --tls-ca FILE           verify the server's certificate with this CA (TLS
                          is always used for a non-loopback server)
  --tls-cert FILE, --tls-key FILE   a client certificate, when asked for
  --token-file PATH, --token-env VAR   the bearer token (apply needs it)
)";
  if (command == "plan") {
    return "Usage: tqs1 plan [options]\n\n"
           "Reads each collection and site and prints what apply would "
           "change. Changes nothing.\n\n"
           "  --json                print the versioned JSON plan instead\n"
           "  --out FILE            also save the plan (JSON) for `tqs1 "
           "apply FILE`\n"
           "  --detailed-exitcode   exit 2 when changes are pending\n"
           "  --parallelism N       plan up to N syncs at once (default: the "
           "config's\n"
           "                        `parallelism:`, else 8); output stays in "
           "config order\n"
           "  --adopt               take over unmarked rules with this "
           "sync's names\n"
           "  --allow-empty         override the empty-source guard (a "
           "collection "
           "that\n"
           "                        yields nothing); unblocking more than the "
           "share\n"
           "                        also needs --allow-mass-unblock\n"
           "  --allow-mass-unblock  let a plan unblock more than the "
           "guard's share\n"
           "  --allow-disabled-firewall   plan for a site whose Firewall "
           "Control is\n"
           "                        disabled (its rules are not enforced "
           "until it is on)\n"
           "  --show-addresses N    list up to N addresses per action\n"
           "  --show-rejected N     list up to N (or all) rejected values "
           "with their\n"
           "                        reasons and ThreatQ indicator ids\n"
           "  --restore APPLY_ID    plan the address set the ledger recorded "
           "after that\n"
           "                        apply (`tqs1 history`) instead of the "
           "collection, for\n"
           "                        its sync only; save it with --out and "
           "apply the file.\n"
           "                        The next normal apply follows the "
           "collection again\n" +
           common + client + exit_codes;
  }
  if (command == "apply") {
    return "Usage: tqs1 apply [PLANFILE] [options]\n\n"
           "Without PLANFILE: reads, plans, shows the plan and asks for "
           "confirmation\n(on a terminal), then applies it. With PLANFILE: "
           "applies exactly that plan\nafter checking its signature and "
           "admitting it again (refused if the site\nchanged, a value or a "
           "guard no longer passes, or the file was edited).\n"
           "Ctrl-C or SIGTERM stops before the next write (exit 130/143); "
           "a second one\nstops at once.\n\n"
           "  --auto-approve        apply without asking (cron); without a "
           "terminal\n"
           "                        and without this flag apply plans and "
           "refuses\n"
           "                        when there are changes\n"
           "  --plan-max-age D      with PLANFILE: warn when the plan is "
           "older than D\n"
           "                        (default 24h)\n"
           "  --lock-timeout D      wait up to D (default 30s) for another "
           "apply of this\n"
           "                        instance to finish\n"
           "  --parallelism N       apply up to N syncs at once (as for plan; "
           "one at a time\n"
           "                        when it asks for confirmation)\n"
           "  --adopt, --allow-empty, --allow-mass-unblock, "
           "--allow-disabled-firewall,\n  --show-addresses N, "
           "--show-rejected N: as for plan\n"
           "  (with PLANFILE, --sync, --adopt and --allow-* are refused: "
           "they are decided\n   when the plan is made)\n"
           "  (with --server: PLANFILE is one `tqs1 plan --server ... --out "
           "FILE` wrote,\n   checked and admitted by that server; without "
           "one, --auto-approve re-plans\n   and applies there)\n" +
           common + client + exit_codes;
  }
  if (command == "serve") {
    return "Usage: tqs1 serve [options]\n\n"
           "Serves the gRPC service tqs1.v1.Tqs1 (Plan, Apply, GetDrift, "
           "WatchDrift),\nthe standard health service (liveness \"\", "
           "readiness \"tqs1.ready\", per sync\n\"tqs1.sync/<slug>\") and "
           "server reflection, and reconciles\nevery sync on a schedule. "
           "Stops cleanly on SIGTERM/SIGINT. SIGHUP reopens the log\nfile "
           "and loads the config again: an invalid one is refused (the "
           "running one\nkept), a changed one restarts the server in place. "
           "HTTP probes /healthz and\n/readyz beside the metrics page.\n\n"
           "  --listen ADDR:PORT       default 127.0.0.1:50051 (port 0: any; "
           "the bound\n"
           "                           address is printed). A non-loopback "
           "address needs\n"
           "                           TLS and a token\n"
           "  --interval D             scheduled rounds every D, +-10% "
           "(default 5m; 0s: none)\n"
           "  --apply                  scheduled rounds apply (default: "
           "observe only)\n"
           "  --tls-cert FILE, --tls-key FILE   serve TLS\n"
           "  --tls-client-ca FILE     require client certificates signed "
           "by this CA\n"
           "  --token-file PATH, --token-env VAR   the bearer token; Apply "
           "always needs it\n"
           "  --metrics-listen ADDR:PORT   Prometheus metrics on GET "
           "/metrics, HTTP\n"
           "                           probes on /healthz and /readyz\n"
           "  --demo                   serve the demo scenario on built-in "
           "emulators\n"
           "                           (no config; to try clients and "
           "tooling)\n" +
           common;
  }
  if (command == "drift") {
    return "Usage: tqs1 drift [--server HOST:PORT] [--refresh | --max-age D] "
           "[--watch]\n                  [--json] [--sync NAME]\n\n"
           "Asks a `tqs1 serve` (default 127.0.0.1:50051) how far each site "
           "has drifted\nfrom its collection, as of its last observation "
           "(\"observed ...\"). The server\nobserves again on its schedule, "
           "after a `tqs1 apply` of its state folder, and\nwhen asked:\n\n"
           "  --refresh               observe again now (both sides are "
           "read) before answering\n"
           "  --max-age D             observe again when the last "
           "observation is older than D\n"
           "  --watch                 keep streaming changes (one line or "
           "JSON object each)\n"
           "  --json                  JSON output\n" +
           client +
           "\nExit codes: 0 every sync in sync, 2 drift, 1 error (also "
           "when a sync's last\nattempt failed or it was never "
           "observed).\n";
  }
  if (command == "why") {
    return "Usage: tqs1 why ADDRESS|CIDR [--offline] [--json] [--sync NAME] "
           "[options]\n\n"
           "Says, for each sync, whether the address is blocked and why: by "
           "which rule\nof which site, since which apply, from which ThreatQ "
           "indicators; or why not\n(not in the collection and when it "
           "left it, rejected, set aside for its\nstatus or type, on a "
           "never-block list, only in a disabled rule, pending the\nnext "
           "apply). A CIDR answers for every entry that overlaps it. Reads "
           "both\nvendors, as plan does, and the ledger; changes nothing.\n\n"
           "  --offline   answer from the ledger alone (no vendor is "
           "contacted)\n"
           "  --json      JSON output\n" +
           common + "\nExit codes: 0 answered, 1 error.\n";
  }
  if (command == "history") {
    return "Usage: tqs1 history [--sync NAME] [--since WHEN] [--address "
           "ADDR] [--json]\n"
           "       tqs1 history show APPLY_ID [--json]\n\n"
           "Lists the applies the ledger recorded, oldest first: id, time, "
           "sync, rules\ncreated/updated/deleted, address entries "
           "blocked/unblocked, outcome. `show`\nprints one apply whole: who "
           "ran it where, each write and its entries.\nReads the ledger "
           "only.\n\n"
           "  --since WHEN    only applies started since WHEN: a duration "
           "(72h) or a date\n"
           "                  (2026-11-01, UTC) or an RFC 3339 time\n"
           "  --address ADDR  that address's (or prefix's) timeline: each "
           "time it was\n"
           "                  blocked or unblocked, by which apply and "
           "rule\n"
           "  --json          JSON output\n" +
           common + "\nExit codes: 0 success, 1 error.\n";
  }
  if (command == "demo") {
    return "Usage: tqs1 demo [--no-color] [--show-addresses N]\n\n"
           "Starts emulators of ThreatQ and SentinelOne on 127.0.0.1 with a "
           "seeded\nscenario (a collection of about 12,000 values; a site "
           "with a hand-made rule\nand a rule of the old connector), then "
           "runs plan, apply and plan again.\nNeeds no config and no "
           "network.\n";
  }
  if (command == "check") {
    return "Usage: tqs1 check [--write-probe | --config-only] [--sync NAME] "
           "[options]\n\n"
           "Probes ThreatQ and SentinelOne as the config sets them up and "
           "prints one\nline per probe: PASS, WARN or FAIL and what it "
           "found (token, types and\nstatuses, the collection and its "
           "first page, the console, the token's\nexpiry, each site, its "
           "Firewall Control configuration and rules). Reads\nonly; "
           "secrets never appear, so the output can go into a support "
           "ticket.\nExit 1 on any FAIL.\n\n"
           "  --write-probe   also write to each selected sync's site: "
           "create, read back,\n"
           "                  update and delete Disabled rules named "
           "tqs1-probe-<hex>\n"
           "                  (documentation addresses only), always "
           "cleaned up, even\n"
           "                  on Ctrl-C; what it learns (does the console "
           "take IPv6?)\n"
           "                  is saved in the state folder for `ipv6: "
           "auto`\n"
           "  --config-only   only load and validate the config and its "
           "credentials;\n"
           "                  contacts neither vendor (a service's "
           "ExecStartPre)\n"
           "  --demo          check the built-in emulators of `tqs1 demo` "
           "instead\n" +
           common;
  }
  if (command == "version") {
    return "Usage: tqs1 version (or tqs1 --version, -V)\n\n"
           "Prints tqs1's version and the git commit it was built from, "
           "e.g.\n  tqs1 0.1.0 (commit 4b14c9e0a1b2)\n";
  }
  if (command == "init") {
    return "Usage: tqs1 init [-c FOLDER] [-n NAME]\n\n"
           "Asks for the ThreatQ host, client id, username and password "
           "(hidden) and the\nSentinelOne console, token, site and "
           "collection, then writes FOLDER/tqs1.yaml\n(mode 0600) and the "
           "secrets to files beside it (mode 0600).\n";
  }
  return R"(tqs1: keeps SentinelOne firewall block rules equal to ThreatQ data collections.

Usage: tqs1 COMMAND [options]

Commands:
  plan      show what apply would change (a dry run)
  apply     apply the changes (asks first; --auto-approve for cron)
  check     probe both vendors for first contact (--write-probe to test writes)
  demo      plan and apply against built-in emulators of both APIs
  serve     run as a daemon: gRPC service, schedule, health, metrics
  drift     ask a `tqs1 serve` how far each site has drifted
  why       why an address is blocked, or why not (--offline: ledger only)
  history   the applies the ledger recorded; `history show ID` for one
  init      write a config file interactively
  version   print the version
  help      this text; `tqs1 help COMMAND` or `tqs1 COMMAND --help` for more
  (--version, -V: the version, as `tqs1 version`)

Cron, as with the old connector:
  0 */2 * * * tqs1 apply --auto-approve -c /etc/tq_labs/ -ll /var/log/tq_labs/ -v3
)" + common +
         exit_codes;
}

}  // namespace tqs1::cli

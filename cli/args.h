// The tqs1 command line: a command followed by options, in the style users
// know from Terraform, plus the old connector's flags with their old meaning
// (-c/--config, -ll/--loglocation, -v/--verbosity, -n/--name).
//
//   ASSIGN_OR_RETURN(CommandLine cl, ParseCommandLine({"apply",
//       "--auto-approve", "-c", "/etc/tq_labs/", "-ll", "/var/log/tq_labs/",
//       "-v3"}));
//   cl.command;       // "apply"
//   cl.verbosity;     // 3
//
// A command line without a command is not help: the old connector's cron
// line with only the program name swapped (`tqs1 -c /etc/tq_labs/ ...`)
// would otherwise do nothing and exit 0. main() prints MissingCommandText()
// and exits 1. Invoked under the old connector's name (a symlink named
// tq-conn-sentinelone), tqs1 parses with ParseLegacyCommandLine(): the old
// flags only, run as `apply --auto-approve`.
#ifndef TQS1_CLI_ARGS_H_
#define TQS1_CLI_ARGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tqs1::cli {

struct CommandLine {
  // plan, apply, check, serve, drift, why, history, demo, init, version,
  // help; empty when none
  // was given (an error unless --help or --version: see
  // MissingCommandText()).
  std::string command;
  // Arguments that are not options (apply's PLANFILE).
  std::vector<std::string> positional;

  bool help = false;     // -h/--help
  bool version = false;  // -V/--version: as `tqs1 version`
  // -c/--config: a config file, or a folder holding tqs1.yaml (or
  // <name>.yaml with -n). Default: the current directory.
  std::string config = ".";
  // -ll/--loglocation: a folder for tqs1.log, or "stdout" (the default).
  std::string log_location = "stdout";
  // -v/--verbosity: 1 errors and warnings, 2 progress, 3 everything.
  int verbosity = 1;
  // --log-format json: log lines as JSON objects (cli/logging.h); "text",
  // the default: as the old connector's.
  bool log_json = false;
  // -n/--name: the instance name: selects <name>.yaml and its own state.
  std::string name;
  // --state-dir: the folder of tqs1's state (apply lock, last-run record,
  // serve state, plan key, probe findings) when it is not the config's
  // folder (a package keeps the config in /etc/tqs1, its state in
  // /var/lib/tqs1). Empty: the config's folder.
  std::string state_dir;
  // --sync NAME (repeatable): only these syncs.
  std::vector<std::string> syncs;

  bool json = false;                // plan: print the JSON plan
  std::string out;                  // plan: --out FILE saves the plan
  bool detailed_exitcode = false;   // plan: 2 when changes are pending
  bool auto_approve = false;        // apply: no confirmation
  bool adopt = false;               // take over the old connector's rules
  bool allow_empty = false;         // override the empty-source guard
  bool allow_mass_unblock = false;  // override the unblock-share guard
  // Override the firewall-disabled guard.
  bool allow_disabled_firewall = false;
  bool no_color = false;
  // apply: --lock-timeout DURATION ("30s", "500ms", "0s": one try): how
  // long to wait for another apply of this instance to finish.
  absl::Duration lock_timeout = absl::Seconds(30);
  // apply PLANFILE: --plan-max-age DURATION: warn when the plan file is
  // older than this.
  absl::Duration plan_max_age = absl::Hours(24);
  // -vv-style address listing in plans: --show-addresses N.
  int show_addresses = 0;
  // plan, apply: --show-rejected N|all lists up to N rejected source values
  // (all: INT_MAX), each with its reason and ThreatQ indicator id; 0, the
  // default, shows the first few.
  int show_rejected = 0;

  // plan, apply: --parallelism N, how many syncs run at once (0: the
  // config's).
  int parallelism = 0;
  // plan: --restore APPLY_ID plans the address set the ledger recorded
  // after that apply instead of the collection (0: none).
  int64_t restore = 0;
  // why: --offline answers from the ledger alone.
  bool offline = false;
  // history: --since TIME|DURATION (InfinitePast: all) and --address ADDR
  // (that address's timeline).
  absl::Time since = absl::InfinitePast();
  std::string address;

  // gRPC (cli/server/): `serve`, `drift`, and plan/apply with --server.
  std::string server;  // --server HOST:PORT: run remotely
  bool watch = false;  // drift: --watch streams changes
  // drift: --refresh has the server observe again before answering;
  // --max-age DURATION only when its observation is older.
  bool refresh = false;
  absl::Duration max_age = absl::ZeroDuration();
  std::string listen = "127.0.0.1:50051";  // serve: --listen ADDR:PORT
  // serve: --interval DURATION between scheduled rounds (with jitter);
  // zero: no schedule.
  absl::Duration interval = absl::Minutes(5);
  bool apply_on_schedule = false;  // serve: --apply
  // serve: --demo serves the `tqs1 demo` scenario on in-process emulators
  // instead of a config (to try clients and tooling).
  bool serve_demo = false;
  // check: --write-probe writes (and removes) probe rules in each site.
  bool write_probe = false;
  // check: --config-only validates the config and its credentials without
  // contacting either vendor (systemd's ExecStartPre).
  bool config_only = false;
  std::string metrics_listen;  // serve: --metrics-listen ADDR:PORT
  // TLS: serve: the server's certificate and key (--tls-cert, --tls-key)
  // and --tls-client-ca; clients: their own certificate and key, and
  // --tls-ca to verify the server.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string tls_ca;
  // The bearer token: --token-file PATH or --token-env VAR.
  std::string token_file;
  std::string token_env;
};

// Parses argv without the program name. kInvalidArgument naming the
// offending argument: unknown options, missing values, a verbosity outside
// 1..3, a command that does not exist (also after `help`). An unknown
// command or option close to a known one (edit distance) adds a
// suggestion: `unknown command "aply"; did you mean "apply"?`.
absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args);

// The old connector's program name. A tqs1 started under this name (the
// basename of argv[0], e.g. a symlink the package installs) runs as
// `apply --auto-approve` with the old connector's flags, so its documented
// cron line keeps working unchanged.
inline constexpr char kLegacyProgramName[] = "tq-conn-sentinelone";

// Whether `argv0` (a path) names kLegacyProgramName.
bool IsLegacyProgramName(absl::string_view argv0);

// Parses argv (without the program name) of a run under
// kLegacyProgramName: only the old connector's flags -c/--config,
// -ll/--loglocation, -v/--verbosity (also -v1..-v3), -n/--name, -h/--help
// and --version are accepted; the result is `apply --auto-approve` with
// them. kInvalidArgument for anything else, e.g. a command word:
// "tq-conn-sentinelone takes only the old connector's flags (-c, -ll, -v,
// -n); for \"plan\" run `tqs1 plan` instead".
absl::StatusOr<CommandLine> ParseLegacyCommandLine(
    const std::vector<std::string>& args);

// What to print (on stderr, before exiting 1) for a command line without a
// command: why this is an error, and the line that does what the old
// connector did with the same flags, e.g. for {"-c", "/etc/tq_labs/",
// "-ll", "/var/log/tq_labs/", "-v3"}:
//   tqs1 apply --auto-approve -c /etc/tq_labs/ -ll /var/log/tq_labs/ -v3
// Arguments are quoted for a POSIX shell where needed.
std::string MissingCommandText(const std::vector<std::string>& args);

// `args` as a POSIX shell reads them back: words joined by spaces, each
// quoted with '...' when it holds anything but letters, digits and
// "-_./:=@%+,".
std::string ShellJoin(const std::vector<std::string>& args);

// The edit distance between two strings: the fewest insertions, deletions,
// substitutions and swaps of adjacent bytes that turn one into the other
// (optimal string alignment), e.g. 1 for "plna" and "plan".
size_t EditDistance(absl::string_view a, absl::string_view b);

// The --help text of `command` ("" for the overview; kLegacyProgramName
// for a run under the old connector's name).
std::string HelpText(const std::string& command);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_ARGS_H_

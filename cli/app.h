// The tqs1 commands, as functions of a config, connections to both vendors
// and the terminal: `main` wires the real ones, the demo wires emulators,
// tests wire both and read what was printed.
//
//   ASSIGN_OR_RETURN(config::Credentials secrets,
//                    config::ResolveCredentials(config));
//   ASSIGN_OR_RETURN(Backends backends, Connect(config, secrets, &logger));
//   int code = RunPlan(config, backends, PlanCommandFrom(command_line), io,
//                      &logger);
#ifndef TQS1_CLI_APP_H_
#define TQS1_CLI_APP_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/logger.h"
#include "cli/args.h"
#include "cli/config/secrets.h"
#include "cli/config/state.h"
#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "proto/run.pb.h"
#include "proto/state.pb.h"
#include "providers/http/http_transport.h"
#include "providers/sentinelone/firewall_rules.h"
#include "providers/threatq/indicator_source.h"
#include "reconciler/render.h"
#include "sync/apply_journal.h"
#include "sync/shared_reads.h"
#include "sync/sync_runner.h"

namespace tqs1::threatq {
class ThreatQClient;
}
namespace tqs1::ledger {
class Ledger;
}
namespace tqs1::sentinelone {
class SentinelOneClient;
}

namespace tqs1::cli {

// SentinelOne writes started a second when the config sets none: about
// what the console's rate limit lets one token sustain.
inline constexpr double kDefaultWritesPerSecond = 2;

// Exit codes (also in `tqs1 help` and README.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitChanges = 2;
inline constexpr int kExitGuard = 3;

// The worse of two exit codes: error, then guard, then changes, then ok.
int WorseExit(int a, int b);

// The exit code a plan calls for: kExitGuard when a guard blocks it,
// kExitChanges when it has actions, else kExitOk.
int ExitFor(const tqs1::v1::Plan& plan);

// The transport a vendor client gets: libcurl (TLS from `tls`), then at most
// `max_in_flight` requests at once (when > 0), then, when
// `writes_per_second` > 0, write pacing, then retries (a retried write waits
// its turn like any other; neither a paced write waiting its turn nor a
// retry waiting out its backoff holds a slot). `logger` may be null.
absl::StatusOr<std::unique_ptr<http::HttpTransport>> MakeTransport(
    const tqs1::v1::TlsConfig& tls, double writes_per_second, int max_in_flight,
    log::Logger* logger);

// An empty plan file of this tqs1, made `now` (format, created_at,
// tqs1_version set): `tqs1 plan` and the server's Plan fill its plans.
tqs1::v1::PlanFile NewPlanFile(absl::Time now);

// The largest plan file read (`apply FILE`, `apply --server FILE`): a plan
// of a million addresses is about 40 MB.
inline constexpr size_t kMaxPlanFileBytes = size_t{1} << 30;

// The per-run plan switches a command line sets (--adopt, --allow-empty,
// --allow-mass-unblock).
tqs1::v1::PlanOptions PlanOptionsFrom(const CommandLine& cl);

// The terminal the commands talk to.
struct Io {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // stdin and stdout are terminals: confirmation prompts and progress.
  bool interactive = false;
  bool color = false;
  // Asks a question on the terminal; nullopt at end of input.
  std::function<std::optional<std::string>(const std::string& prompt,
                                           bool hidden)>
      ask;
};

// A connection to one ThreatQ instance.
struct ThreatQBackend {
  std::unique_ptr<http::HttpTransport> transport;
  std::unique_ptr<threatq::IndicatorSource> source;
  // `source` as the real client, for what only it offers (`tqs1 check`);
  // null when it is a fake. Not owned.
  threatq::ThreatQClient* client = nullptr;
};

// A connection to one SentinelOne console.
struct ConsoleBackend {
  std::unique_ptr<http::HttpTransport> transport;
  std::unique_ptr<sentinelone::FirewallRules> rules;
  // `rules` as the real client, or null. Not owned.
  sentinelone::SentinelOneClient* client = nullptr;
};

// Connections to both vendors.
struct Backends {
  // The config's unnamed instance and console (Config.threatq,
  // Config.sentinelone).
  std::unique_ptr<http::HttpTransport> threatq_transport;
  std::unique_ptr<http::HttpTransport> sentinelone_transport;
  std::unique_ptr<threatq::IndicatorSource> threatq;
  std::unique_ptr<sentinelone::FirewallRules> sentinelone;
  // The same clients as `threatq` and `sentinelone`, for what only the
  // real clients offer (`tqs1 check`'s probes); null when the backends are
  // fakes. Not owned.
  threatq::ThreatQClient* threatq_client = nullptr;
  sentinelone::SentinelOneClient* sentinelone_client = nullptr;
  // The config's named instances and consoles (Config.threatq_instances,
  // Config.sentinelone_consoles), by name.
  std::map<std::string, ThreatQBackend, std::less<>> named_threatq;
  std::map<std::string, ConsoleBackend, std::less<>> named_consoles;
  // Never blocked by any sync: the config's list and the vendors' own
  // addresses.
  std::vector<tqs1::v1::NeverBlock> never_block;
  // Decides each sync's `ipv6: auto` (Ipv6FromProbes()); unset: on.
  sync::Ipv6AutoResolver ipv6_auto;
  // The ledger of applies (providers/ledger): applies are recorded in it,
  // `why` and `plan --restore` read it. Null: none (applies are not
  // recorded). Not made by Connect(): opened where the state folder is
  // known (OpenLedger()).
  std::unique_ptr<ledger::Ledger> ledger;

  // The instance `sync` reads from: the named one it names
  // (SyncConfig.threatq), else the unnamed one; null when not connected.
  threatq::IndicatorSource* SourceFor(const tqs1::v1::SyncConfig& sync) const;
  // SourceFor() as SharedReads takes it; valid while this object is.
  sync::SharedReads::SourceOf SourceOf() const {
    return [this](const tqs1::v1::SyncConfig& s) { return SourceFor(s); };
  }
  // The console `sync`'s site is in (SyncConfig.sentinelone), like
  // SourceFor(); when it is not connected, rules whose every call fails
  // with kFailedPrecondition.
  sentinelone::FirewallRules& RulesFor(const tqs1::v1::SyncConfig& sync) const;
  // Every console's real client, by name ("" for the unnamed one); fakes
  // are left out.
  std::vector<std::pair<std::string, sentinelone::SentinelOneClient*>>
  ConsoleClients() const;
};

// The never-block entries of the config itself (its `never_block` list),
// without the vendor hosts' addresses that Connect() adds.
std::vector<tqs1::v1::NeverBlock> ConfigNeverBlock(
    const tqs1::v1::Config& config);

// Opens the ledger `file` to record applies (created 0600 when absent), or,
// when `read_only`, to read it (nullptr when there is none yet). Errors
// name the file (a corrupt, locked or newer ledger).
absl::StatusOr<std::unique_ptr<ledger::Ledger>> OpenLedger(
    const std::string& file, bool read_only);

// Who runs this process, for the ledger: host name, user, tqs1 version and
// `run_id`.
sync::ApplyIdentity ThisProcess(std::string run_id);

// How long the ledger keeps applies when the config does not say.
inline constexpr int kDefaultHistoryDays = 400;

// Forgets the applies older than the config's `history.keep_days` (default
// kDefaultHistoryDays) after an apply; a failure is logged as a warning.
void PruneLedger(const tqs1::v1::Config& config, ledger::Ledger& ledger,
                 log::Logger* logger);

// `ipv6: auto` as `tqs1 check --write-probe` learned it for the sync's
// console (of `config`): IPV6_MODE_OFF when the findings saved in
// `state_dir` for the site say the console refused IPv6 values,
// IPV6_MODE_ON when they say it took them, IPV6_MODE_AUTO (on) when nothing was
// learned. A findings file that cannot be read is logged as a warning and
// counts as nothing learned.
sync::Ipv6AutoResolver Ipv6FromProbes(std::string state_dir,
                                      const tqs1::v1::Config& config,
                                      log::Logger* logger);

// Builds transports (libcurl with retries, TLS per config; SentinelOne
// writes paced at each console's writes_per_second, default
// kDefaultWritesPerSecond) and clients, for every instance and console of
// the config. Resolves the vendor hosts to add them to the never-block
// list.
absl::StatusOr<Backends> Connect(const tqs1::v1::Config& config,
                                 const config::Credentials& secrets,
                                 log::Logger* logger);

// Replaces each config entry of every active site of an account (`sites:
// {account: ACME, all: true, exclude: [...]}`, SyncConfig.all_sites) with
// one sync per such site, listed from its console (one listing per
// console): named "<name> -> ACME/<site>", reading the site by id, sites
// in name order, canaries marked. Errors name the entry: the console
// cannot be listed (its error), the account has no active site (the
// message lists the accounts that have), an excluded or canary site is
// not one of the account's, every site is excluded, a sync name or a site
// of a collection is taken twice. A config without such entries is left
// as it is.
absl::Status ExpandAllSites(tqs1::v1::Config& config, const Backends& backends);

// What `tqs1 plan` and `tqs1 apply` both take from the command line.
struct SyncCommand {
  // --sync: the syncs to run, in config order (all when empty).
  std::vector<std::string> syncs;
  // --adopt, --allow-empty, --allow-mass-unblock.
  tqs1::v1::PlanOptions options;
  // --show-addresses, --show-rejected (color comes from Io).
  reconciler::RenderOptions render;
  // -c, -n and --state-dir as given: where the plan-signing key lives, and
  // the words of the `tqs1 apply` hint.
  std::string config_arg = ".";
  std::string name_arg;
  std::string state_dir_arg;
  // --parallelism: how many syncs run at once; 0: the config's.
  int parallelism = 0;
};

// `tqs1 plan`, as the command line asks for it.
struct PlanCommand : SyncCommand {
  bool json = false;               // --json: print the signed JSON plan file
  std::string out;                 // --out FILE: save the signed plan file
  bool detailed_exitcode = false;  // exit 2 when changes are pending
  // --restore APPLY_ID: plan the address set after that apply (the ledger
  // must be in Backends); 0: the collection.
  int64_t restore = 0;
};
PlanCommand PlanCommandFrom(const CommandLine& cl);

// `tqs1 apply [PLANFILE]`, as the command line asks for it.
struct ApplyCommand : SyncCommand {
  // A saved plan to apply; empty: plan now.
  std::string plan_file;
  bool auto_approve = false;
  // Warn when a plan file is older.
  absl::Duration plan_max_age = absl::Hours(24);
  // The flags given that a saved plan fixes ("--sync", "--adopt", ...):
  // refused with a plan file.
  std::vector<std::string> fixed_flags;
  // Who applies, for the ledger's record (when Backends has a ledger).
  sync::ApplyIdentity identity;
};
ApplyCommand ApplyCommandFrom(const CommandLine& cl);

// `tqs1 why ADDRESS|CIDR`.
struct WhyCommand : SyncCommand {
  std::vector<std::string> positional;  // the address
  bool json = false;
  bool offline = false;
};
WhyCommand WhyCommandFrom(const CommandLine& cl);

// `tqs1 history [show ID]`.
struct HistoryCommand {
  std::vector<std::string> positional;  // "show", ID
  std::vector<std::string> syncs;       // --sync
  absl::Time since = absl::InfinitePast();
  std::string address;
  bool json = false;
};
HistoryCommand HistoryCommandFrom(const CommandLine& cl);

// `tqs1 why`: live through `backends` (the ledger, when not null, adds
// history), or from `ledger` alone when `backends` is null (--offline).
// Returns an exit code.
int RunWhy(const tqs1::v1::Config& config, Backends* backends,
           ledger::Ledger* ledger, const WhyCommand& command, const Io& io,
           log::Logger* logger);

// `tqs1 history`. Returns an exit code.
int RunHistory(ledger::Ledger& ledger, const HistoryCommand& command,
               const Io& io);

// `tqs1 plan`: one plan per selected sync, printed (or JSON), optionally
// saved. Returns an exit code.
int RunPlan(const tqs1::v1::Config& config, Backends& backends,
            const PlanCommand& command, const Io& io, log::Logger* logger);

// When the SentinelOne API token expires within
// sentinelone::kTokenRenewalWarning (or has expired), prints a warning line
// to io.err and logs it: one cheap request at the start of plan and apply.
// Nothing when the expiry cannot be read (logged at debug) or when the
// backends are fakes.
void WarnIfTokenExpiresSoon(Backends& backends, const Io& io,
                            log::Logger* logger, absl::Time now);

// `tqs1 check [--write-probe]` (cli/check/check.h) with the config's
// backends; the write probe's findings go to `state_dir`. Returns 0, or 1
// on any FAIL line.
int RunCheckCommand(const tqs1::v1::Config& config, Backends& backends,
                    const config::Credentials& secrets, const CommandLine& cl,
                    const std::string& state_dir, const Io& io,
                    log::Logger* logger);

// `tqs1 apply [PLANFILE]`. The caller holds the apply lock. Returns an exit
// code; adds what became of each sync to `record` (when not null).
int RunApply(const tqs1::v1::Config& config, Backends& backends,
             const ApplyCommand& command, const Io& io, log::Logger* logger,
             tqs1::v1::LastRun* record = nullptr);

// The syncs `names` selects (all when empty); kInvalidArgument naming an
// unknown one ("--sync \"x\" is not in the config; ...") and listing the
// known ones.
absl::StatusOr<std::vector<const tqs1::v1::SyncConfig*>> SelectSyncs(
    const tqs1::v1::Config& config, const std::vector<std::string>& names);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_APP_H_

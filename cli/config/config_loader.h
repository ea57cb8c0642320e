// Reads tqs1's YAML config file into the Config proto (proto/config.proto),
// with errors that name the file, the line and the key.
//
//   absl::StatusOr<tqs1::v1::Config> config =
//       LoadConfigFile("/etc/tq_labs/tqs1.yaml");
//   if (!config.ok()) {
//     // kInvalidArgument, e.g.
//     // /etc/tq_labs/tqs1.yaml:7: unknown key "pasword_env" in threatq (did
//     // you mean "password_env"?)
//   }
//
// The file's shape (every key but the marked ones is optional):
//
//   threatq:
//     url: https://threatq.example.net   # required; http:// to loopback only
//     client_id: "..."                   # required
//     username: svc-tqs1@example.net     # required with a password
//     password_env: TQS1_TQ_PASSWORD     # or password_file, or
//                                        # client_secret_env/_file
//     ca_file: /etc/ssl/certs/tq.pem
//     insecure_skip_verify: false
//     block_statuses: [Active]         # the statuses blocked (never
//                                        # Whitelisted); others are skipped
//     page_size: 1000
//     max_in_flight: 2                   # requests at once, 1-32
//   sentinelone:
//     url: https://usea1.sentinelone.net # required
//     api_token_env: TQS1_S1_TOKEN       # or api_token_file (required)
//     ca_file: /etc/ssl/certs/s1.pem
//     insecure_skip_verify: false
//     rule_page_size: 200                # rules per listing page, 1-1000
//     writes_per_second: 2               # writes started a second, at most
//     max_in_flight: 4                   # requests at once, 1-32
//   # Several consoles (or ThreatQ instances): a map of names, each value
//   # one console's keys as above; each sync then says which it uses
//   # (`sentinelone: eu`), unless there is only one.
//   #   sentinelone: {eu: {url: ..., api_token_env: ...}, us: {...}}
//   never_block: [192.0.2.10, 10.0.0.0/8]
//   refuse: [private, cgnat]             # also documentation, unique_local,
//                                        # short_prefix (see below)
//   parallelism: 8                       # syncs run at once, 1-64
//   syncs:                               # required, at least one
//     - name: c2-hq                      # default "<collection> -> <site>"
//       collection: "Known C2 IPs"       # required
//       site: "HQ"                       # required unless site_id
//       site_id: "1234567890123456789"   # the site by id (no name lookup)
//       sentinelone: eu                  # the console, when they are named
//       threatq: emea                    # the instance, when named
//       account: "ACME"                  # name or id: picks one of several
//                                        # sites of that name (not with
//                                        # site_id)
//       ipv6: auto                       # auto | on | off: auto follows
//                                        # `tqs1 check --write-probe`'s
//                                        # finding, else on
//       rule:
//         description: "Blocked by ThreatQ"
//         direction: any                 # any | inbound | outbound
//         os_types: [windows, macos, linux]  # also windows_legacy
//         enabled: true                  # default true
//       never_block: [198.51.100.0/24]
//       refuse: [short_prefix]           # beside the config's list
//       guards: {min_desired_addresses: 1, max_unblock_fraction: 0.2,
//                unblock_floor: 100, min_ipv4_prefix: 8,
//                min_ipv6_prefix: 32}
//
// `refuse` names categories of valid addresses (tqs1.v1.InputCategory)
// that are rejected instead of blocked with a warning in the plan:
// private (RFC 1918), cgnat (100.64.0.0/10), documentation (RFC 5737, RFC
// 3849), unique_local (fc00::/7), short_prefix (IPv4 shorter than /16, IPv6
// shorter than /32).
//
// Secrets are only referenced (an environment variable or a file) and are
// resolved later by ResolveSecret() (secrets.h). No error message ever shows
// a value that could be a secret.
#ifndef TQS1_CLI_CONFIG_CONFIG_LOADER_H_
#define TQS1_CLI_CONFIG_CONFIG_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/config.pb.h"

namespace tqs1::config {

// The ranges of `parallelism` and `max_in_flight`, and their defaults.
inline constexpr int kMaxParallelism = 64;
inline constexpr int kMaxInFlight = 32;
inline constexpr int kDefaultParallelism = 8;
inline constexpr int kDefaultConsoleInFlight = 4;
inline constexpr int kDefaultThreatQInFlight = 2;

// The settings above, their defaults applied.
int Parallelism(const tqs1::v1::Config& config);
int MaxInFlight(const tqs1::v1::SentinelOneConfig& console);
int MaxInFlight(const tqs1::v1::ThreatQConfig& instance);

// Parses and validates the YAML text of a config. `source_name` starts every
// error message (usually the file's path).
//
// On success the Config is complete: every sync has a name (the given one
// or "<collection> -> <site>", as reconciler::SyncDisplayName() would say),
// and rule.enabled is true unless the file says `enabled: false`. Other
// absent settings stay unset (0 / UNSPECIFIED / empty), meaning "the
// default" as documented in config.proto. Never-block entries are stored in
// canonical form ("2001:DB8::/32" becomes "2001:db8::/32"). The top-level
// `refuse` list is also merged into every sync's `refuse` (the planner reads
// only the sync's).
//
// Errors are kInvalidArgument with the message
// "<source_name>:<line>: <what is wrong>", the line being 1-based, e.g.
//   tqs1.yaml:12: syncs[0].rule.enabled: expected true or false, got
//   "yes please"
// Only the first error is reported. Checked: YAML syntax, unknown and
// duplicate keys (with a suggestion for misspellings), value types, enum
// values (listing the allowed ones), required keys, exclusive keys (a
// password and a client secret; `_env` and `_file` of one secret), URLs
// (see ValidateApiUrl), never-block entries, refuse categories, guard
// ranges, duplicate sync
// names and two syncs of one (collection, site).
absl::StatusOr<tqs1::v1::Config> ParseConfigYaml(absl::string_view yaml,
                                                 absl::string_view source_name);

// Reads the file at `path` and parses it with ParseConfigYaml(), `path`
// being the source name. Relative paths of secret files and CA files are
// taken relative to the folder of the config file (so a config folder can
// hold its own secrets, whatever the current directory of cron is).
//
// Errors: kNotFound when the file does not exist; kFailedPrecondition when
// it cannot be read (message with the path and the OS's reason) or is
// larger than 1 MiB; kInvalidArgument from ParseConfigYaml().
absl::StatusOr<tqs1::v1::Config> LoadConfigFile(absl::string_view path);

// Checks a vendor API base URL: "https://host[:port][/path]", or "http://"
// when the host is loopback (localhost, 127.0.0.0/8, ::1). No user info
// ("user:password@"), query or fragment. On error, kInvalidArgument with a
// message that names the URL (never its user info) and says why, e.g.
//   "http://tq.example.net" uses http://, which sends credentials in clear
//   text; use https:// (http:// is allowed only to localhost, 127.0.0.0/8
//   and ::1)
// Used by ParseConfigYaml() and by `tqs1 init` for typed-in hosts.
absl::Status ValidateApiUrl(absl::string_view url);

// The config's ThreatQ instances: its one unnamed instance (threatq) or
// its named ones (threatq_instances), in config order.
std::vector<const tqs1::v1::ThreatQConfig*> ThreatQInstances(
    const tqs1::v1::Config& config);
// The config's consoles: sentinelone, or the named sentinelone_consoles.
std::vector<const tqs1::v1::SentinelOneConfig*> SentinelOneConsoles(
    const tqs1::v1::Config& config);

// The ThreatQ instance `sync` reads from and the console its site is in
// (the unnamed one when the sync names none).
const tqs1::v1::ThreatQConfig& ThreatQOf(const tqs1::v1::Config& config,
                                         const tqs1::v1::SyncConfig& sync);
const tqs1::v1::SentinelOneConfig& SentinelOneOf(
    const tqs1::v1::Config& config, const tqs1::v1::SyncConfig& sync);

// A sync's name when the config gives none: "<stem> -> <site>", the stem
// being the collection (or, for a target of an entry with several sites,
// the entry's name when it has one); the site "ACME/HQ" with an account,
// "site <id>" with an id; "HQ group Lab" for a group, "account ACME",
// "global". In a config of several consoles the site is
// prefixed with its console's name ("eu:HQ"): sites of one name in two
// consoles are two syncs.
std::string DefaultSyncName(absl::string_view stem,
                            const tqs1::v1::SyncConfig& sync,
                            const tqs1::v1::Config& config);

// How messages name a sync's site: "\"HQ\"", "\"Default site\" of account
// \"ACME\"" or "id 1234567890123456789" (with its name when given too);
// "group \"Lab\" of site \"HQ\"", "account \"ACME\"", "the global scope".
std::string SiteLabel(const tqs1::v1::SyncConfig& sync);

}  // namespace tqs1::config

#endif  // TQS1_CLI_CONFIG_CONFIG_LOADER_H_

#include "cli/app.h"

#include <netdb.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/net.h"
#include "base/status_macros.h"
#include "cli/config/config_loader.h"
#include "cli/config/secrets.h"
#include "cli/logging.h"
#include "cli/version.h"
#include "providers/http/bounded_transport.h"
#include "providers/http/curl_transport.h"
#include "providers/http/paced_transport.h"
#include "providers/http/retrying_transport.h"
#include "providers/ledger/sqlite_ledger.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/threatq/threatq_client.h"
#include "reconciler/address.h"
#include "sync/sync_runner.h"

namespace tqs1::cli {
namespace {

using ::tqs1::v1::Config;
using ::tqs1::v1::Plan;
using ::tqs1::v1::SyncConfig;

int Rank(int code) {
  switch (code) {
    case kExitError:
      return 3;
    case kExitGuard:
      return 2;
    case kExitChanges:
      return 1;
    default:
      return 0;
  }
}

std::unique_ptr<http::HttpTransport> WithRetries(
    std::unique_ptr<http::HttpTransport> base, log::Logger* logger) {
  http::RetryOptions retry;
  retry.logger = logger;
  return std::make_unique<http::RetryingTransport>(std::move(base), retry);
}

// The addresses `url`'s host resolves to, as never-block entries. A host
// that does not resolve adds nothing (the connection will fail later with a
// clearer error).
void AddHostAddresses(absl::string_view url, absl::string_view what,
                      std::vector<tqs1::v1::NeverBlock>& out) {
  absl::StatusOr<net::ParsedUrl> parsed = net::ParseUrl(url);
  if (!parsed.ok()) return;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(parsed->host.c_str(), nullptr, &hints, &result) != 0) return;
  std::set<std::string> seen;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char host[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), nullptr, 0,
                    NI_NUMERICHOST) != 0) {
      continue;
    }
    absl::StatusOr<reconciler::IpPrefix> prefix =
        reconciler::ParseIpPrefix(host);
    if (!prefix.ok() || !seen.insert(prefix->ToString()).second) continue;
    tqs1::v1::NeverBlock* entry = &out.emplace_back();
    entry->set_prefix(prefix->ToString());
    entry->set_reason(absl::StrCat(what, " (", parsed->host, ")"));
  }
  freeaddrinfo(result);
}

// Flags that cannot change a saved plan, as given: refused with `apply
// PLANFILE` (they are decided when the plan is made, and the signed file
// records them).
std::vector<std::string> FlagsAPlanFileFixes(const CommandLine& cl) {
  std::vector<std::string> flags;
  if (!cl.syncs.empty()) flags.push_back("--sync");
  if (cl.adopt) flags.push_back("--adopt");
  if (cl.allow_empty) flags.push_back("--allow-empty");
  if (cl.allow_mass_unblock) flags.push_back("--allow-mass-unblock");
  if (cl.allow_disabled_firewall) {
    flags.push_back("--allow-disabled-firewall");
  }
  return flags;
}

}  // namespace

absl::StatusOr<std::unique_ptr<http::HttpTransport>> MakeTransport(
    const tqs1::v1::TlsConfig& tls, double writes_per_second, int max_in_flight,
    log::Logger* logger) {
  http::CurlTransportOptions options;
  options.version = kVersion;
  options.ca_bundle_file = tls.ca_file();
  options.insecure_skip_tls_verify = tls.insecure_skip_verify();
  options.logger = logger;
  ASSIGN_OR_RETURN(std::unique_ptr<http::HttpTransport> base,
                   http::CurlTransport::Create(options));
  if (max_in_flight > 0) {
    base = std::make_unique<http::BoundedTransport>(std::move(base),
                                                    max_in_flight);
  }
  if (writes_per_second > 0) {
    http::PaceOptions pace;
    pace.writes_per_second = writes_per_second;
    pace.logger = logger;
    base = std::make_unique<http::PacedTransport>(std::move(base), pace);
  }
  return WithRetries(std::move(base), logger);
}

int WorseExit(int a, int b) { return Rank(a) >= Rank(b) ? a : b; }

tqs1::v1::PlanFile NewPlanFile(absl::Time now) {
  tqs1::v1::PlanFile file;
  file.set_format(tqs1::v1::PLAN_FORMAT_V1);
  file.set_created_at(
      absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone()));
  file.set_tqs1_version(kVersion);
  return file;
}

int ExitFor(const Plan& plan) {
  if (plan.summary().blocked()) return kExitGuard;
  if (!plan.summary().in_sync()) return kExitChanges;
  return kExitOk;
}

tqs1::v1::PlanOptions PlanOptionsFrom(const CommandLine& cl) {
  tqs1::v1::PlanOptions options;
  options.set_adopt(cl.adopt);
  options.set_allow_empty(cl.allow_empty);
  options.set_allow_mass_unblock(cl.allow_mass_unblock);
  options.set_allow_disabled_firewall(cl.allow_disabled_firewall);
  return options;
}

namespace {

absl::StatusOr<ThreatQBackend> ConnectThreatQ(
    const tqs1::v1::ThreatQConfig& config,
    const config::ThreatQSecrets& secrets, log::Logger* logger) {
  ThreatQBackend b;
  // ThreatQ is only read: nothing to pace.
  ASSIGN_OR_RETURN(
      b.transport,
      MakeTransport(config.tls(), 0, config::MaxInFlight(config), logger));
  threatq::ThreatQClientOptions tq;
  tq.base_url = config.url();
  tq.client_id = config.client_id();
  if (!secrets.client_secret.empty()) {
    tq.grant = threatq::ThreatQClientOptions::Grant::kClientCredentials;
    tq.client_secret = secrets.client_secret;
    tq.credential_origin = config::SecretOrigin(config.client_secret());
  } else {
    tq.grant = threatq::ThreatQClientOptions::Grant::kPassword;
    tq.email = config.username();
    tq.password = secrets.password;
    tq.credential_origin = config::SecretOrigin(config.password());
  }
  if (config.page_size() > 0) {
    tq.page_size = static_cast<int>(config.page_size());
  }
  if (config.block_statuses_size() > 0) {
    tq.block_statuses.assign(config.block_statuses().begin(),
                             config.block_statuses().end());
  }
  tq.logger = logger;
  tq.max_reads_at_once = config::MaxInFlight(config);
  ASSIGN_OR_RETURN(
      std::unique_ptr<threatq::ThreatQClient> client,
      threatq::ThreatQClient::Create(b.transport.get(), std::move(tq)));
  b.client = client.get();
  b.source = std::move(client);
  return b;
}

absl::StatusOr<ConsoleBackend> ConnectConsole(
    const tqs1::v1::SentinelOneConfig& config, const std::string& api_token,
    log::Logger* logger) {
  ConsoleBackend b;
  const double writes_per_second = config.writes_per_second() > 0
                                       ? config.writes_per_second()
                                       : kDefaultWritesPerSecond;
  ASSIGN_OR_RETURN(b.transport,
                   MakeTransport(config.tls(), writes_per_second,
                                 config::MaxInFlight(config), logger));
  sentinelone::SentinelOneClientOptions s1;
  s1.base_url = config.url();
  s1.api_token = api_token;
  s1.credential_origin = config::SecretOrigin(config.api_token());
  s1.logger = logger;
  if (config.rule_page_size() > 0) {
    s1.rule_page_size = static_cast<int>(config.rule_page_size());
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<sentinelone::SentinelOneClient> client,
      sentinelone::SentinelOneClient::Create(std::move(s1), b.transport.get()));
  b.client = client.get();
  b.rules = std::move(client);
  return b;
}

}  // namespace

threatq::IndicatorSource* Backends::SourceFor(const SyncConfig& sync) const {
  if (sync.threatq().empty()) return threatq.get();
  auto it = named_threatq.find(sync.threatq());
  return it == named_threatq.end() ? nullptr : it->second.source.get();
}

namespace {

// The rules of a console tqs1 has no connection to.
class NotConnectedRules : public sentinelone::FirewallRules {
 public:
  absl::StatusOr<std::string> FindSite(
      const sentinelone::SiteSelector&) override {
    return Error();
  }
  absl::StatusOr<std::string> FindAccount(absl::string_view) override {
    return Error();
  }
  absl::StatusOr<std::string> FindGroup(absl::string_view,
                                        absl::string_view) override {
    return Error();
  }
  absl::StatusOr<tqs1::v1::ObservedState> ReadSite(
      const sentinelone::Scope&) override {
    return Error();
  }
  absl::StatusOr<tqs1::v1::Rule> CreateRule(const sentinelone::Scope&,
                                            const tqs1::v1::Rule&) override {
    return Error();
  }
  absl::StatusOr<tqs1::v1::Rule> UpdateRule(const sentinelone::Scope&,
                                            const tqs1::v1::Rule&) override {
    return Error();
  }
  absl::Status DeleteRule(const sentinelone::Scope&,
                          absl::string_view) override {
    return Error();
  }

 private:
  static absl::Status Error() {
    return absl::FailedPreconditionError(
        "the sync's SentinelOne console is not connected");
  }
};

}  // namespace

sentinelone::FirewallRules& Backends::RulesFor(const SyncConfig& sync) const {
  static NotConnectedRules* const kNotConnected = new NotConnectedRules();
  sentinelone::FirewallRules* rules = nullptr;
  if (sync.sentinelone().empty()) {
    rules = sentinelone.get();
  } else if (auto it = named_consoles.find(sync.sentinelone());
             it != named_consoles.end()) {
    rules = it->second.rules.get();
  }
  return rules != nullptr ? *rules : *kNotConnected;
}

std::vector<std::pair<std::string, sentinelone::SentinelOneClient*>>
Backends::ConsoleClients() const {
  std::vector<std::pair<std::string, sentinelone::SentinelOneClient*>> out;
  if (sentinelone_client != nullptr) out.emplace_back("", sentinelone_client);
  for (const auto& [name, console] : named_consoles) {
    if (console.client != nullptr) out.emplace_back(name, console.client);
  }
  return out;
}

absl::StatusOr<Backends> Connect(const Config& config,
                                 const config::Credentials& secrets,
                                 log::Logger* logger) {
  Backends b;
  for (const tqs1::v1::ThreatQConfig* tq : config::ThreatQInstances(config)) {
    ASSIGN_OR_RETURN(ThreatQBackend connected,
                     ConnectThreatQ(*tq, secrets.ThreatQ(tq->name()), logger));
    if (tq->name().empty()) {
      b.threatq_transport = std::move(connected.transport);
      b.threatq = std::move(connected.source);
      b.threatq_client = connected.client;
    } else {
      b.named_threatq[tq->name()] = std::move(connected);
    }
    AddHostAddresses(tq->url(), "ThreatQ host", b.never_block);
  }
  for (const tqs1::v1::SentinelOneConfig* s1 :
       config::SentinelOneConsoles(config)) {
    ASSIGN_OR_RETURN(
        ConsoleBackend connected,
        ConnectConsole(*s1, secrets.SentinelOneApiToken(s1->name()), logger));
    if (s1->name().empty()) {
      b.sentinelone_transport = std::move(connected.transport);
      b.sentinelone = std::move(connected.rules);
      b.sentinelone_client = connected.client;
    } else {
      b.named_consoles[s1->name()] = std::move(connected);
    }
    AddHostAddresses(s1->url(), "SentinelOne console", b.never_block);
  }
  std::vector<tqs1::v1::NeverBlock> config_never_block =
      ConfigNeverBlock(config);
  b.never_block.insert(b.never_block.begin(), config_never_block.begin(),
                       config_never_block.end());
  return b;
}

namespace {

SyncCommand SyncCommandFrom(const CommandLine& cl) {
  SyncCommand command;
  command.syncs = cl.syncs;
  command.options = PlanOptionsFrom(cl);
  command.render.address_examples = cl.show_addresses;
  command.render.show_rejected = cl.show_rejected;
  command.config_arg = cl.config;
  command.name_arg = cl.name;
  command.state_dir_arg = cl.state_dir;
  command.parallelism = cl.parallelism;
  return command;
}

}  // namespace

std::vector<tqs1::v1::NeverBlock> ConfigNeverBlock(const Config& config) {
  std::vector<tqs1::v1::NeverBlock> never_block;
  for (const std::string& prefix : config.never_block()) {
    tqs1::v1::NeverBlock* entry = &never_block.emplace_back();
    entry->set_prefix(prefix);
    entry->set_reason("never_block of the config");
  }
  return never_block;
}

absl::StatusOr<std::unique_ptr<ledger::Ledger>> OpenLedger(
    const std::string& file, bool read_only) {
  if (read_only && access(file.c_str(), F_OK) != 0 && errno == ENOENT) {
    return nullptr;
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<ledger::SqliteLedger> opened,
      ledger::SqliteLedger::Open(
          file, read_only ? ledger::SqliteLedger::Mode::kReadOnly
                          : ledger::SqliteLedger::Mode::kReadWrite));
  return std::unique_ptr<ledger::Ledger>(std::move(opened));
}

sync::ApplyIdentity ThisProcess(std::string run_id) {
  sync::ApplyIdentity identity;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) identity.host = host;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr) {
    identity.user = pw->pw_name;
  } else {
    identity.user = absl::StrCat("uid ", geteuid());
  }
  identity.version = kVersion;
  identity.run_id = std::move(run_id);
  return identity;
}

void PruneLedger(const Config& config, ledger::Ledger& ledger,
                 log::Logger* logger) {
  const int days = config.history().keep_days() > 0
                       ? static_cast<int>(config.history().keep_days())
                       : kDefaultHistoryDays;
  absl::StatusOr<int> pruned =
      ledger.Prune(absl::Now() - absl::Hours(24) * days);
  if (!pruned.ok()) {
    log::LogTo(
        logger, log::LogLevel::kWarning,
        absl::StrCat("cannot prune the ledger: ", pruned.status().message()));
  } else if (*pruned > 0) {
    log::LogTo(logger, log::LogLevel::kInfo,
               absl::StrCat("ledger: forgot ", *pruned, " applies older than ",
                            days, " days"));
  }
}

PlanCommand PlanCommandFrom(const CommandLine& cl) {
  PlanCommand command;
  static_cast<SyncCommand&>(command) = SyncCommandFrom(cl);
  command.json = cl.json;
  command.out = cl.out;
  command.detailed_exitcode = cl.detailed_exitcode;
  command.restore = cl.restore;
  return command;
}

WhyCommand WhyCommandFrom(const CommandLine& cl) {
  WhyCommand command;
  static_cast<SyncCommand&>(command) = SyncCommandFrom(cl);
  command.positional = cl.positional;
  command.json = cl.json;
  command.offline = cl.offline;
  return command;
}

HistoryCommand HistoryCommandFrom(const CommandLine& cl) {
  HistoryCommand command;
  command.positional = cl.positional;
  command.syncs = cl.syncs;
  command.since = cl.since;
  command.address = cl.address;
  command.json = cl.json;
  return command;
}

ApplyCommand ApplyCommandFrom(const CommandLine& cl) {
  ApplyCommand command;
  static_cast<SyncCommand&>(command) = SyncCommandFrom(cl);
  if (!cl.positional.empty()) command.plan_file = cl.positional[0];
  command.auto_approve = cl.auto_approve;
  command.plan_max_age = cl.plan_max_age;
  command.fixed_flags = FlagsAPlanFileFixes(cl);
  return command;
}

absl::StatusOr<std::vector<const SyncConfig*>> SelectSyncs(
    const Config& config, const std::vector<std::string>& names) {
  const sync::SyncSelection selection = sync::SelectSyncs(config, names);
  if (selection.unknown.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sync \"", *selection.unknown,
                     "\" is not in the config; its syncs are: \"",
                     absl::StrJoin(sync::SyncNames(config), "\", \""), "\""));
  }
  return selection.syncs;
}

}  // namespace tqs1::cli

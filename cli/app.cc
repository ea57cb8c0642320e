#include "cli/app.h"

#include <netdb.h>
#include <sys/socket.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/config/secrets.h"
#include "cli/version.h"
#include "providers/http/curl_transport.h"
#include "providers/http/retrying_transport.h"
#include "providers/http/url.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/sync/plan_executor.h"
#include "providers/sync/sync_runner.h"
#include "providers/threatq/threatq_client.h"
#include "reconciler/address.h"
#include "reconciler/render.h"
#include "reconciler/status_macros.h"

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

absl::StatusOr<std::unique_ptr<http::HttpTransport>> MakeTransport(
    const tqs1::v1::TlsConfig& tls, log::Logger* logger) {
  http::CurlTransportOptions options;
  options.version = kVersion;
  options.ca_bundle_file = tls.ca_file();
  options.insecure_skip_tls_verify = tls.insecure_skip_verify();
  options.logger = logger;
  ASSIGN_OR_RETURN(std::unique_ptr<http::CurlTransport> curl,
                   http::CurlTransport::Create(options));
  return WithRetries(std::move(curl), logger);
}

// The addresses `url`'s host resolves to, as never-block entries. A host
// that does not resolve adds nothing (the connection will fail later with a
// clearer error).
void AddHostAddresses(absl::string_view url, absl::string_view what,
                      std::vector<tqs1::v1::NeverBlock>& out) {
  absl::StatusOr<http::ParsedUrl> parsed = http::ParseUrl(url);
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

std::string Seconds(uint64_t ms) {
  return absl::StrFormat("%.1f s", static_cast<double>(ms) / 1000);
}

reconciler::RenderOptions RenderOptionsFrom(const CommandLine& cl,
                                            const Io& io) {
  reconciler::RenderOptions options;
  options.color = io.color;
  options.address_examples = cl.show_addresses;
  return options;
}

void PrintError(const Io& io, absl::string_view sync, const absl::Status& s) {
  *io.err << "Error: sync \"" << sync << "\": " << s.message() << "\n";
}

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::string temp = absl::StrCat(path, ".tmp");
  {
    std::ofstream file(temp, std::ios::trunc);
    file << text;
    file.flush();
    if (!file) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot write the plan to \"", path, "\""));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write the plan to \"", path, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(
        absl::StrCat("cannot read plan file \"", path, "\""));
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

config::SyncRunRecord& NewRecord(config::LastRunRecord* record,
                                 config::SyncRunRecord& scratch,
                                 const std::string& sync_name) {
  config::SyncRunRecord* r =
      record == nullptr ? &scratch : &record->syncs.emplace_back();
  r->sync_name = sync_name;
  r->started = absl::Now();
  r->finished = r->started;
  return *r;
}

// Applies one plan with a progress line on a terminal; prints the summary
// and fills `r`.
int ApplyOne(const Plan& plan, Backends& backends, const Io& io,
             log::Logger* logger, config::SyncRunRecord& r) {
  sync::ApplyOptions options;
  options.logger = logger;
  if (io.interactive) {
    options.on_action = [&io](int index, int total,
                              const tqs1::v1::Action& action) {
      *io.out << "\r  [" << index + 1 << "/" << total << "] " << action.name()
              << "\033[K" << std::flush;
    };
  }
  absl::StatusOr<tqs1::v1::ApplyReport> report =
      sync::ApplyPlan(plan, *backends.sentinelone, options);
  if (io.interactive) *io.out << "\r\033[K";
  r.finished = absl::Now();
  if (!report.ok()) {
    PrintError(io, plan.sync_name(), report.status());
    r.outcome = config::SyncOutcome::kFailed;
    r.error = std::string(report.status().message());
    if (std::optional<tqs1::v1::ApplyReport> partial =
            sync::PartialApplyReport(report.status())) {
      r.rules_created = partial->created();
      r.rules_updated = partial->updated();
      r.rules_deleted = partial->deleted();
      r.addresses_blocked = partial->addresses_blocked();
      r.addresses_unblocked = partial->addresses_unblocked();
    }
    return report.status().code() == absl::StatusCode::kFailedPrecondition &&
                   plan.summary().blocked()
               ? kExitGuard
               : kExitError;
  }
  r.outcome = config::SyncOutcome::kApplied;
  r.rules_created = report->created();
  r.rules_updated = report->updated();
  r.rules_deleted = report->deleted();
  r.addresses_blocked = report->addresses_blocked();
  r.addresses_unblocked = report->addresses_unblocked();
  *io.out << "Apply complete for \"" << plan.sync_name()
          << "\": " << report->created() << " created, " << report->updated()
          << " updated, " << report->deleted() << " deleted; "
          << reconciler::FormatCount(plan.summary().newly_blocked())
          << " addresses blocked, "
          << reconciler::FormatCount(plan.summary().unblocked())
          << " unblocked, in " << Seconds(report->duration_ms()) << ".\n";
  log::LogTo(logger, log::LogLevel::kInfo,
             absl::StrCat("applied sync \"", plan.sync_name(), "\": ",
                          report->created(), " created, ", report->updated(),
                          " updated, ", report->deleted(), " deleted"));
  return kExitOk;
}

}  // namespace

int WorseExit(int a, int b) { return Rank(a) >= Rank(b) ? a : b; }

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
  return options;
}

absl::StatusOr<Backends> Connect(const Config& config,
                                 const config::Credentials& secrets,
                                 log::Logger* logger) {
  Backends b;
  ASSIGN_OR_RETURN(b.threatq_transport,
                   MakeTransport(config.threatq().tls(), logger));
  ASSIGN_OR_RETURN(b.sentinelone_transport,
                   MakeTransport(config.sentinelone().tls(), logger));

  threatq::ThreatQClientOptions tq;
  tq.base_url = config.threatq().url();
  tq.client_id = config.threatq().client_id();
  if (!secrets.threatq_client_secret.empty()) {
    tq.grant = threatq::ThreatQClientOptions::Grant::kClientCredentials;
    tq.client_secret = secrets.threatq_client_secret;
    tq.credential_origin =
        config::SecretOrigin(config.threatq().client_secret());
  } else {
    tq.grant = threatq::ThreatQClientOptions::Grant::kPassword;
    tq.email = config.threatq().username();
    tq.password = secrets.threatq_password;
    tq.credential_origin = config::SecretOrigin(config.threatq().password());
  }
  if (config.threatq().page_size() > 0) {
    tq.page_size = static_cast<int>(config.threatq().page_size());
  }
  if (config.threatq().never_block_statuses_size() > 0) {
    tq.never_block_statuses.assign(
        config.threatq().never_block_statuses().begin(),
        config.threatq().never_block_statuses().end());
  }
  tq.logger = logger;
  ASSIGN_OR_RETURN(b.threatq, threatq::ThreatQClient::Create(
                                  b.threatq_transport.get(), std::move(tq)));

  sentinelone::SentinelOneClientOptions s1;
  s1.base_url = config.sentinelone().url();
  s1.api_token = secrets.sentinelone_api_token;
  s1.credential_origin = config::SecretOrigin(config.sentinelone().api_token());
  s1.logger = logger;
  ASSIGN_OR_RETURN(b.sentinelone,
                   sentinelone::SentinelOneClient::Create(
                       std::move(s1), b.sentinelone_transport.get()));

  for (const std::string& prefix : config.never_block()) {
    tqs1::v1::NeverBlock* entry = &b.never_block.emplace_back();
    entry->set_prefix(prefix);
    entry->set_reason("never_block of the config");
  }
  AddHostAddresses(config.threatq().url(), "ThreatQ host", b.never_block);
  AddHostAddresses(config.sentinelone().url(), "SentinelOne console",
                   b.never_block);
  return b;
}

absl::StatusOr<std::vector<const SyncConfig*>> SelectSyncs(
    const Config& config, const CommandLine& cl) {
  std::vector<const SyncConfig*> selected;
  std::vector<std::string> known;
  for (const SyncConfig& sync : config.syncs()) known.push_back(sync.name());
  for (const std::string& wanted : cl.syncs) {
    bool found = false;
    for (const SyncConfig& sync : config.syncs())
      found |= sync.name() == wanted;
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("--sync \"", wanted,
                       "\" is not in the config; its "
                       "syncs are: \"",
                       absl::StrJoin(known, "\", \""), "\""));
    }
  }
  for (const SyncConfig& sync : config.syncs()) {
    if (cl.syncs.empty() || std::find(cl.syncs.begin(), cl.syncs.end(),
                                      sync.name()) != cl.syncs.end()) {
      selected.push_back(&sync);
    }
  }
  return selected;
}

int RunPlan(const Config& config, Backends& backends, const CommandLine& cl,
            const Io& io, log::Logger* logger) {
  absl::StatusOr<std::vector<const SyncConfig*>> syncs =
      SelectSyncs(config, cl);
  if (!syncs.ok()) {
    *io.err << "Error: " << syncs.status().message() << "\n";
    return kExitError;
  }
  int exit_code = kExitOk;
  tqs1::v1::PlanFile file;
  file.set_format(tqs1::v1::PLAN_FORMAT_V1);
  for (const SyncConfig* sync : *syncs) {
    log::LogTo(logger, log::LogLevel::kInfo,
               absl::StrCat("planning sync \"", sync->name(), "\""));
    absl::StatusOr<Plan> plan =
        sync::PlanSync(*sync, backends.never_block, *backends.threatq,
                       *backends.sentinelone, PlanOptionsFrom(cl));
    if (!plan.ok()) {
      PrintError(io, sync->name(), plan.status());
      exit_code = WorseExit(exit_code, kExitError);
      continue;
    }
    if (!cl.json) {
      *io.out << reconciler::RenderPlanText(*plan, RenderOptionsFrom(cl, io))
              << "\n";
    }
    exit_code = WorseExit(exit_code, ExitFor(*plan));
    *file.add_plans() = *std::move(plan);
  }
  absl::StatusOr<std::string> json = reconciler::RenderPlanFileJson(file);
  if (!json.ok()) {
    *io.err << "Error: " << json.status().message() << "\n";
    return kExitError;
  }
  if (cl.json) *io.out << *json;
  if (!cl.out.empty()) {
    if (absl::Status s = WriteTextFile(cl.out, *json); !s.ok()) {
      *io.err << "Error: " << s.message() << "\n";
      return kExitError;
    }
    if (!cl.json) {
      *io.out << "Saved the plan to \"" << cl.out << "\"; apply it with `tqs1 "
              << "apply " << cl.out << "`.\n";
    }
  }
  if (!cl.detailed_exitcode && exit_code == kExitChanges) exit_code = kExitOk;
  return exit_code;
}

int RunApply(const Config& config, Backends& backends, const CommandLine& cl,
             const Io& io, log::Logger* logger, config::LastRunRecord* record) {
  config::SyncRunRecord scratch;
  // Apply exactly a saved plan.
  if (!cl.positional.empty()) {
    absl::StatusOr<std::string> text = ReadTextFile(cl.positional[0]);
    absl::StatusOr<tqs1::v1::PlanFile> file =
        text.ok() ? reconciler::ParsePlanFileJson(*text)
                  : absl::StatusOr<tqs1::v1::PlanFile>(text.status());
    if (!file.ok()) {
      *io.err << "Error: plan file \"" << cl.positional[0]
              << "\": " << file.status().message() << "\n";
      return kExitError;
    }
    int exit_code = kExitOk;
    for (const Plan& plan : file->plans()) {
      bool known = false;
      for (const SyncConfig& sync : config.syncs()) {
        known |= sync.name() == plan.sync_name();
      }
      if (!known) {
        PrintError(io, plan.sync_name(),
                   absl::InvalidArgumentError(
                       "the plan file names a sync that is not in the "
                       "config"));
        exit_code = WorseExit(exit_code, kExitError);
        continue;
      }
      config::SyncRunRecord& r = NewRecord(record, scratch, plan.sync_name());
      if (plan.summary().in_sync()) {
        r.outcome = config::SyncOutcome::kInSync;
        continue;
      }
      exit_code = WorseExit(exit_code, ApplyOne(plan, backends, io, logger, r));
    }
    return exit_code;
  }

  if (!io.interactive && !cl.auto_approve) {
    *io.err << "Error: apply needs a confirmation and there is no terminal "
               "to ask on; run `tqs1 plan` to review, then `tqs1 apply "
               "--auto-approve` (or apply a saved plan file).\n";
    return kExitError;
  }
  absl::StatusOr<std::vector<const SyncConfig*>> syncs =
      SelectSyncs(config, cl);
  if (!syncs.ok()) {
    *io.err << "Error: " << syncs.status().message() << "\n";
    return kExitError;
  }
  int exit_code = kExitOk;
  for (const SyncConfig* sync : *syncs) {
    config::SyncRunRecord& r = NewRecord(record, scratch, sync->name());
    absl::StatusOr<Plan> plan =
        sync::PlanSync(*sync, backends.never_block, *backends.threatq,
                       *backends.sentinelone, PlanOptionsFrom(cl));
    if (!plan.ok()) {
      PrintError(io, sync->name(), plan.status());
      r.outcome = config::SyncOutcome::kFailed;
      r.error = std::string(plan.status().message());
      exit_code = WorseExit(exit_code, kExitError);
      continue;
    }
    *io.out << reconciler::RenderPlanText(*plan, RenderOptionsFrom(cl, io))
            << "\n";
    if (plan->summary().blocked()) {
      *io.err << "Error: sync \"" << sync->name()
              << "\": a guard blocks this plan; nothing applied.\n";
      r.outcome = config::SyncOutcome::kGuardBlocked;
      exit_code = WorseExit(exit_code, kExitGuard);
      continue;
    }
    if (plan->summary().in_sync()) {
      r.outcome = config::SyncOutcome::kInSync;
      continue;
    }
    if (!cl.auto_approve) {
      std::optional<std::string> answer = io.ask(
          absl::StrCat("Apply these changes to site \"", plan->site_name(),
                       "\"? Only 'yes' is accepted: "),
          false);
      if (!answer.has_value() || *answer != "yes") {
        *io.out << "Not applied.\n";
        r.outcome = config::SyncOutcome::kChangesPending;
        continue;
      }
    }
    exit_code = WorseExit(exit_code, ApplyOne(*plan, backends, io, logger, r));
  }
  return exit_code;
}

}  // namespace tqs1::cli

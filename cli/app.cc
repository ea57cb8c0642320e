#include "cli/app.h"

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/net.h"
#include "base/status_macros.h"
#include "base/timestamp.h"
#include "cli/config/paths.h"
#include "cli/config/secrets.h"
#include "cli/config/state.h"
#include "cli/logging.h"
#include "cli/version.h"
#include "providers/http/curl_transport.h"
#include "providers/http/retrying_transport.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/threatq/threatq_client.h"
#include "reconciler/address.h"
#include "reconciler/admission.h"
#include "reconciler/plan_file.h"
#include "reconciler/planner.h"
#include "reconciler/render.h"
#include "sync/plan_executor.h"
#include "sync/sync_runner.h"

namespace tqs1::cli {
namespace {

using ::tqs1::v1::Config;
using ::tqs1::v1::Plan;
using ::tqs1::v1::SyncConfig;

// A plan file of a million addresses is about 40 MB.
constexpr size_t kMaxPlanFileBytes = size_t{1} << 30;

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

std::string Seconds(uint64_t ms) {
  return absl::StrFormat("%.1f s", static_cast<double>(ms) / 1000);
}

reconciler::RenderOptions RenderOptionsFrom(const CommandLine& cl,
                                            const Io& io) {
  reconciler::RenderOptions options;
  options.color = io.color;
  options.address_examples = cl.show_addresses;
  options.show_rejected = cl.show_rejected;
  return options;
}

void PrintError(const Io& io, absl::string_view sync, const absl::Status& s) {
  *io.err << "Error: sync \"" << sync << "\": " << s.message() << "\n";
}

google::protobuf::Timestamp Now() { return ToTimestamp(absl::Now()); }

tqs1::v1::SyncRun& NewRecord(tqs1::v1::LastRun* record,
                             tqs1::v1::SyncRun& scratch,
                             const std::string& sync_name) {
  tqs1::v1::SyncRun* r = record == nullptr ? &scratch : record->add_syncs();
  r->set_name(sync_name);
  *r->mutable_started() = Now();
  *r->mutable_finished() = r->started();
  return *r;
}

void CountInto(const tqs1::v1::ApplyReport& report, tqs1::v1::SyncRun& r) {
  r.set_rules_created(report.created());
  r.set_rules_updated(report.updated());
  r.set_rules_deleted(report.deleted());
  r.set_addresses_blocked(static_cast<uint32_t>(report.addresses_blocked()));
  r.set_addresses_unblocked(
      static_cast<uint32_t>(report.addresses_unblocked()));
}

// The first SIGINT or SIGTERM during an apply asks it to stop before its
// next write; a second one ends the process at once (the default action).
// One apply at a time per process installs it.
class StopSignals {
 public:
  StopSignals() {
    received_.store(0);
    struct sigaction action {};
    action.sa_handler = &StopSignals::OnSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: a pending prompt returns
    sigaction(SIGINT, &action, &saved_int_);
    sigaction(SIGTERM, &action, &saved_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &saved_int_, nullptr);
    sigaction(SIGTERM, &saved_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal received, or 0.
  int received() const { return received_.load(); }

 private:
  static void OnSignal(int signo) {
    int none = 0;
    if (!received_.compare_exchange_strong(none, signo)) {
      signal(signo, SIG_DFL);
      raise(signo);
    }
  }

  static std::atomic<int> received_;
  struct sigaction saved_int_ {};
  struct sigaction saved_term_ {};
};

std::atomic<int> StopSignals::received_{0};

// 130 for SIGINT, 143 for SIGTERM: the shell's convention.
int ExitForSignal(int signo) { return 128 + signo; }

// The guards a plan trips (and which were overridden), in words.
std::string GuardsInWords(const Plan& plan) {
  std::vector<std::string> words;
  for (const tqs1::v1::GuardVerdict& v : plan.guards()) {
    if (!v.tripped()) continue;
    words.push_back(absl::StrCat("guard \"", v.guard(), "\"",
                                 v.overridden() ? " (overridden)" : "", ": ",
                                 v.message()));
  }
  return absl::StrJoin(words, "; ");
}

// A line a log file holds at every -v level (on the console, progress:
// from -v2 on, since the plan on standard output already says it).
void LogAlways(log::Logger* logger, const std::string& message) {
  if (auto* cli = dynamic_cast<CliLogger*>(logger);
      cli != nullptr && cli->writes_file()) {
    cli->Always(message);
    return;
  }
  log::LogTo(logger, log::LogLevel::kInfo, message);
}

// One line in the log for the values a plan will not block.
void LogRejected(const Plan& plan, log::Logger* logger) {
  const tqs1::v1::InputReport& in = plan.inputs();
  const uint64_t rejected = in.rejected_size() + in.rejected_truncated();
  if (rejected == 0) return;
  std::vector<std::string> examples;
  for (const tqs1::v1::RejectedValue& r : in.rejected()) {
    if (examples.size() == 3) break;
    examples.push_back(absl::StrCat("\"", r.value(), "\" (", r.reason(), ")"));
  }
  LogAlways(logger,
            absl::StrCat("sync \"", plan.sync_name(),
                         "\": ", reconciler::FormatCount(rejected),
                         " values not blocked (", in.invalid(), " invalid, ",
                         in.never_blocked(), " never-blocked), e.g. ",
                         absl::StrJoin(examples, ", ")));
}

// Asks the operator to approve `plan` (unless --auto-approve), printing
// why when it cannot be applied now.
sync::Approval Approve(const Plan& plan, const CommandLine& cl, const Io& io,
                       const StopSignals& stop) {
  if (cl.auto_approve) return sync::Approval::kApproved;
  if (!io.interactive) return sync::Approval::kNoOneToAsk;
  std::optional<std::string> answer =
      io.ask(absl::StrCat("Apply these changes to site \"", plan.site_name(),
                          "\" (sync \"", plan.sync_name(),
                          "\")? Only 'yes' is accepted: "),
             false);
  if (stop.received() != 0) return sync::Approval::kInterrupted;
  if (!answer.has_value() || *answer != "yes") return sync::Approval::kDeclined;
  return sync::Approval::kApproved;
}

// `tqs1 apply` of one sync through sync::RunSync(): `given` is a plan read
// from a plan file, or null to plan now (printing the plan and asking
// unless --auto-approve). Prints what became of it with a progress line on
// a terminal, fills `r` and returns the exit code. Stops before the next
// write once `stop` has received a signal.
int ApplySync(const SyncConfig& sync, const Plan* given, Backends& backends,
              const CommandLine& cl, const Io& io, log::Logger* logger,
              const StopSignals& stop, tqs1::v1::SyncRun& r) {
  sync::RunSyncRequest request;
  request.sync = &sync;
  request.never_block = &backends.never_block;
  request.plan_options = PlanOptionsFrom(cl);
  request.plan = given;
  if (given == nullptr) {
    request.on_plan = [&](const Plan& plan) {
      *io.out << reconciler::RenderPlanText(plan, RenderOptionsFrom(cl, io))
              << "\n"
              << std::flush;
      LogRejected(plan, logger);
    };
  }
  // Whether the apply step ran (a progress line may need clearing). A saved
  // plan was reviewed when it was made: applying the file approves it.
  bool applying = given != nullptr &&
                  (given->summary().blocked() || given->actions_size() > 0);
  if (given == nullptr) {
    request.approve = [&](const Plan& plan) {
      sync::Approval approval = Approve(plan, cl, io, stop);
      applying = approval == sync::Approval::kApproved;
      return approval;
    };
  }
  request.apply_options.logger = logger;
  request.apply_options.should_stop = [&stop] { return stop.received() != 0; };
  if (io.interactive) {
    request.apply_options.on_action = [&io](int index, int total,
                                            const tqs1::v1::Action& action) {
      *io.out << "\r  [" << index + 1 << "/" << total << "] " << action.name()
              << "\033[K" << std::flush;
    };
  }
  const sync::SyncRunResult run =
      sync::RunSync(request, *backends.threatq, *backends.sentinelone);
  if (io.interactive && applying) *io.out << "\r\033[K";

  *r.mutable_finished() = Now();
  r.set_outcome(run.outcome);
  r.set_failed_step(run.failed_step);
  CountInto(run.report, r);
  if (!run.status.ok()) r.set_error(std::string(run.status.message()));
  // Before the apply step, messages name the sync as selected; after it,
  // as planned.
  const std::string& name = given != nullptr ? given->sync_name() : sync.name();
  switch (run.outcome) {
    case tqs1::v1::SYNC_OUTCOME_IN_SYNC:
      return kExitOk;
    case tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING:
      *io.err << "Error: sync \"" << name
              << "\": apply needs a confirmation and there is no terminal "
                 "to ask on; review the plan above, then run `tqs1 apply "
                 "--auto-approve` (or save it with `tqs1 plan --out FILE` "
                 "and apply the file).\n";
      return kExitError;
    case tqs1::v1::SYNC_OUTCOME_DECLINED:
      *io.out << "Apply cancelled: sync \"" << name << "\" was not applied.\n";
      return kExitError;
    case tqs1::v1::SYNC_OUTCOME_INTERRUPTED:
      if (!applying) {
        *io.err << "Interrupted: sync \"" << name
                << "\" stopped before its first write.\n";
      } else {
        *io.err << "Interrupted: sync \"" << run.plan->sync_name()
                << "\" stopped after "
                << run.report.created() + run.report.updated() +
                       run.report.deleted()
                << " of " << run.plan->actions_size()
                << " actions; run apply again to finish.\n";
      }
      return stop.received() != 0 ? ExitForSignal(stop.received()) : kExitError;
    case tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED:
      if (given == nullptr && run.plan->summary().blocked()) {
        *io.err << "Error: sync \"" << name
                << "\": a guard blocks this plan; nothing applied ("
                << GuardsInWords(*run.plan) << ").\n";
      } else {
        PrintError(io, run.report.sync_name(), run.status);
      }
      return kExitGuard;
    case tqs1::v1::SYNC_OUTCOME_APPLIED:
      *io.out << "Apply complete for \"" << run.plan->sync_name()
              << "\": " << run.report.created() << " created, "
              << run.report.updated() << " updated, " << run.report.deleted()
              << " deleted; "
              << reconciler::FormatCount(run.plan->summary().newly_blocked())
              << " addresses blocked, "
              << reconciler::FormatCount(run.plan->summary().unblocked())
              << " unblocked, in " << Seconds(run.report.duration_ms())
              << ".\n";
      return kExitOk;
    default:
      PrintError(io,
                 run.failed_step == tqs1::v1::SYNC_STEP_APPLY
                     ? run.report.sync_name()
                     : name,
                 run.status);
      return kExitError;
  }
}

// The sync of `config` a plan names, or null.
const SyncConfig* SyncNamed(const Config& config, absl::string_view name) {
  for (const SyncConfig& sync : config.syncs()) {
    if (reconciler::SyncDisplayName(sync) == name) return &sync;
  }
  return nullptr;
}

// This instance's plan-signing key (created on first use).
absl::StatusOr<std::string> PlanKey(const CommandLine& cl) {
  ASSIGN_OR_RETURN(config::ConfigPaths paths,
                   config::ResolveConfigPaths(cl.config, cl.name));
  return config::LoadOrCreatePlanKey(paths.PlanKeyFile());
}

// A shell-safe rendering of one argument for a hint.
std::string ShellWord(absl::string_view word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                             "XYZ0123456789_-./:=@%+,") ==
          absl::string_view::npos) {
    return std::string(word);
  }
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
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
  return flags;
}

// Reads, verifies and checks a saved plan file; prints what is wrong.
std::optional<tqs1::v1::PlanFile> LoadPlanFile(const std::string& path,
                                               const CommandLine& cl,
                                               const Io& io) {
  auto fail = [&](absl::string_view message) {
    *io.err << "Error: plan file \"" << path << "\": " << message
            << "; nothing applied.\n";
    return std::nullopt;
  };
  absl::StatusOr<std::string> text =
      ReadFileUpTo(path, kMaxPlanFileBytes, "plan file ");
  if (!text.ok()) return fail(text.status().message());
  absl::StatusOr<tqs1::v1::PlanFile> file =
      reconciler::ParsePlanFileJson(*text);
  if (!file.ok()) return fail(file.status().message());
  absl::StatusOr<std::string> key = PlanKey(cl);
  if (!key.ok()) return fail(key.status().message());
  if (absl::Status s = reconciler::VerifyPlanFile(*key, *file, path); !s.ok()) {
    *io.err << "Error: " << s.message() << "\n";
    return std::nullopt;
  }
  if (file->plans().empty()) {
    return fail("it holds no syncs (was the config's syncs list empty?)");
  }
  absl::Time created;
  std::string why;
  if (!absl::ParseTime(absl::RFC3339_full, file->created_at(), &created,
                       &why)) {
    return fail(absl::StrCat("its creation time \"", file->created_at(),
                             "\" is not an RFC 3339 time"));
  }
  const absl::Duration age = absl::Now() - created;
  if (age > cl.plan_max_age) {
    const absl::Duration shown = absl::Trunc(age, absl::Seconds(1));
    *io.err << "Warning: plan file \"" << path << "\" was made "
            << (shown == absl::ZeroDuration() ? "under a second"
                                              : absl::FormatDuration(shown))
            << " ago (" << file->created_at() << ", --plan-max-age "
            << absl::FormatDuration(cl.plan_max_age)
            << "); it is applied only if the site is unchanged since.\n";
  }
  if (file->tqs1_version() != kVersion) {
    *io.err << "Warning: plan file \"" << path << "\" was made by tqs1 "
            << file->tqs1_version() << "; this is tqs1 " << kVersion << ".\n";
  }
  return *std::move(file);
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
  bool any_blocked = false;
  tqs1::v1::PlanFile file;
  file.set_format(tqs1::v1::PLAN_FORMAT_V1);
  file.set_created_at(
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()));
  file.set_tqs1_version(kVersion);
  for (const SyncConfig* sync : *syncs) {
    log::LogTo(logger, log::LogLevel::kInfo,
               absl::StrCat("planning sync \"", sync->name(), "\""));
    sync::RunSyncRequest request;
    request.sync = sync;
    request.never_block = &backends.never_block;
    request.plan_options = PlanOptionsFrom(cl);
    request.apply = false;
    request.on_plan = [&](const Plan& plan) {
      if (!cl.json) {
        *io.out << reconciler::RenderPlanText(plan, RenderOptionsFrom(cl, io))
                << "\n"
                << std::flush;
      }
      LogRejected(plan, logger);
      if (plan.summary().blocked()) {
        any_blocked = true;
        LogAlways(logger, absl::StrCat("sync \"", plan.sync_name(),
                                       "\": a guard blocks the plan: ",
                                       GuardsInWords(plan)));
      }
    };
    sync::SyncRunResult run =
        sync::RunSync(request, *backends.threatq, *backends.sentinelone);
    if (!run.plan.has_value()) {
      PrintError(io, sync->name(), run.status);
      exit_code = WorseExit(exit_code, kExitError);
      // Every sync has an entry; a failed one says why and has no actions.
      Plan* failed = file.add_plans();
      failed->set_format(tqs1::v1::PLAN_FORMAT_V1);
      failed->set_sync_name(reconciler::SyncDisplayName(*sync));
      failed->set_collection(sync->collection());
      failed->set_site_name(sync->site());
      failed->set_error(std::string(run.status.message()));
      continue;
    }
    exit_code = WorseExit(exit_code, ExitFor(*run.plan));
    *file.add_plans() = *std::move(run.plan);
  }
  if (cl.json || !cl.out.empty()) {
    // Signed, so that `tqs1 apply FILE` can tell it is this instance's and
    // unchanged.
    absl::StatusOr<std::string> key = PlanKey(cl);
    absl::Status signed_ok =
        key.ok() ? reconciler::SignPlanFile(*key, file) : key.status();
    if (!signed_ok.ok()) {
      *io.err << "Error: cannot sign the plan: " << signed_ok.message() << "\n";
      return kExitError;
    }
  }
  absl::StatusOr<std::string> json = reconciler::RenderPlanFileJson(file);
  if (!json.ok()) {
    *io.err << "Error: " << json.status().message() << "\n";
    return kExitError;
  }
  if (cl.json) *io.out << *json;
  if (!cl.out.empty()) {
    // Atomic and fsynced; 0644: a plan holds addresses, never a secret.
    if (absl::Status s = WriteFileAtomically(cl.out, *json, 0644); !s.ok()) {
      *io.err << "Error: " << s.message() << "\n";
      return kExitError;
    }
    if (!cl.json && any_blocked) {
      *io.out << "Saved the plan to \"" << cl.out
              << "\"; a guard blocks it, so apply would refuse it.\n";
    } else if (!cl.json) {
      std::string command = "tqs1 apply";
      if (cl.config != ".")
        absl::StrAppend(&command, " -c ", ShellWord(cl.config));
      if (!cl.name.empty())
        absl::StrAppend(&command, " -n ", ShellWord(cl.name));
      absl::StrAppend(&command, " ", ShellWord(cl.out));
      *io.out << "Saved the plan to \"" << cl.out << "\"; apply it with `"
              << command << "`.\n";
    }
  }
  if (!cl.detailed_exitcode && exit_code == kExitChanges) exit_code = kExitOk;
  return exit_code;
}

namespace {

// `tqs1 apply PLANFILE`.
int ApplyPlanFile(const Config& config, Backends& backends,
                  const CommandLine& cl, const Io& io, log::Logger* logger,
                  tqs1::v1::LastRun* record) {
  const std::string& path = cl.positional[0];
  if (std::vector<std::string> flags = FlagsAPlanFileFixes(cl);
      !flags.empty()) {
    *io.err
        << "Error: " << absl::StrJoin(flags, ", ")
        << " cannot change a saved plan: which syncs it holds and its guard "
           "overrides are decided when it is made (`tqs1 plan "
        << absl::StrJoin(flags, " ") << " ... --out FILE`), and the "
        << "signed file records them; nothing applied.\n";
    return kExitError;
  }
  std::optional<tqs1::v1::PlanFile> file = LoadPlanFile(path, cl, io);
  if (!file.has_value()) return kExitError;

  StopSignals stop;
  tqs1::v1::SyncRun scratch;
  int exit_code = kExitOk;
  for (const Plan& plan : file->plans()) {
    tqs1::v1::SyncRun& r = NewRecord(record, scratch, plan.sync_name());
    if (stop.received() != 0) {
      r.set_outcome(tqs1::v1::SYNC_OUTCOME_INTERRUPTED);
      continue;
    }
    const SyncConfig* sync = SyncNamed(config, plan.sync_name());
    if (sync == nullptr) {
      PrintError(io, plan.sync_name(),
                 absl::InvalidArgumentError(
                     "the plan file names a sync that is not in the config"));
      r.set_outcome(tqs1::v1::SYNC_OUTCOME_FAILED);
      r.set_error("not in the config");
      exit_code = WorseExit(exit_code, kExitError);
      continue;
    }
    const int code = ApplySync(*sync, &plan, backends, cl, io, logger, stop, r);
    // An interrupted apply exits 130/143; the syncs after it are recorded
    // as interrupted.
    exit_code = code > kExitGuard ? code : WorseExit(exit_code, code);
  }
  return exit_code;
}

}  // namespace

int RunApply(const Config& config, Backends& backends, const CommandLine& cl,
             const Io& io, log::Logger* logger, tqs1::v1::LastRun* record) {
  if (!cl.positional.empty()) {
    return ApplyPlanFile(config, backends, cl, io, logger, record);
  }
  absl::StatusOr<std::vector<const SyncConfig*>> syncs =
      SelectSyncs(config, cl);
  if (!syncs.ok()) {
    *io.err << "Error: " << syncs.status().message() << "\n";
    return kExitError;
  }
  StopSignals stop;
  tqs1::v1::SyncRun scratch;
  int exit_code = kExitOk;
  for (const SyncConfig* sync : *syncs) {
    tqs1::v1::SyncRun& r = NewRecord(record, scratch, sync->name());
    if (stop.received() != 0) {
      r.set_outcome(tqs1::v1::SYNC_OUTCOME_INTERRUPTED);
      continue;
    }
    const int code =
        ApplySync(*sync, nullptr, backends, cl, io, logger, stop, r);
    // An interrupted apply exits 130/143; the syncs after it are recorded
    // as interrupted.
    exit_code = code > kExitGuard ? code : WorseExit(exit_code, code);
  }
  return exit_code;
}

}  // namespace tqs1::cli

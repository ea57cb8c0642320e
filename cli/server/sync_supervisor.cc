#include "cli/server/sync_supervisor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/timestamp.h"
#include "cli/server/drift.h"
#include "cli/server/serve_state.h"
#include "google/protobuf/util/message_differencer.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "reconciler/admission.h"
#include "sync/parallel_runs.h"
#include "sync/plan_executor.h"
#include "sync/rollout.h"
#include "sync/shared_reads.h"
#include "sync/sync_runner.h"

namespace tqs1::server {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::tqs1::v1::PlanOptions;
using ::tqs1::v1::SyncDrift;

// A CLI apply of this outcome may have written to the site.
bool MayHaveWritten(tqs1::v1::SyncOutcome outcome) {
  return outcome == tqs1::v1::SYNC_OUTCOME_APPLIED ||
         outcome == tqs1::v1::SYNC_OUTCOME_FAILED ||
         outcome == tqs1::v1::SYNC_OUTCOME_INTERRUPTED;
}

}  // namespace

ApplyReservation::ApplyReservation(ApplyReservation&& other) noexcept
    : owner_(other.owner_), syncs_(std::move(other.syncs_)) {
  other.owner_ = nullptr;
  other.syncs_.clear();
}

ApplyReservation::~ApplyReservation() {
  if (owner_ != nullptr) owner_->Release(syncs_);
}

SyncSupervisor::SyncSupervisor(tqs1::v1::Config config, cli::Backends* backends,
                               SupervisorOptions options)
    : config_(std::move(config)),
      backends_(backends),
      options_(std::move(options)) {
  // Every instance and console a sync uses, counted.
  for (const tqs1::v1::SyncConfig& sync : config_.syncs()) {
    if (sources_.count(sync.threatq()) == 0) {
      threatq::IndicatorSource* source = backends_->SourceFor(sync);
      sources_[sync.threatq()] =
          source == nullptr
              ? nullptr
              : std::make_unique<CountingIndicatorSource>(source, &api_calls_);
    }
    if (rules_.count(sync.sentinelone()) == 0) {
      rules_[sync.sentinelone()] = std::make_unique<CountingFirewallRules>(
          &backends_->RulesFor(sync), &api_calls_);
    }
    std::unique_ptr<absl::Mutex>& site = site_locks_[sync::SiteKey(sync)];
    if (site == nullptr) site = std::make_unique<absl::Mutex>();
  }
  {
    absl::MutexLock lock(&mu_);
    for (const tqs1::v1::SyncConfig& sync : config_.syncs()) {
      SyncState& state = syncs_[sync.name()];
      state.config = &sync;
      state.status.drift.set_sync_name(sync.name());
    }
    LoadState();
  }
  // A CLI apply before the server started: its time, not a reason to look
  // again (nothing was observed yet).
  ReadCliApplies(/*mark_stale=*/false);
}

SyncSupervisor::~SyncSupervisor() { Shutdown(); }

absl::Time SyncSupervisor::Now() const {
  return options_.clock != nullptr ? options_.clock->Now()
                                   : tqs1::RealClock().Now();
}

void SyncSupervisor::Notify() {
  if (!options_.state_file.empty()) {
    tqs1::v1::ServeState saved;
    {
      absl::MutexLock lock(&mu_);
      for (const tqs1::v1::SyncConfig& sync : config_.syncs()) {
        *saved.add_syncs() = syncs_.at(sync.name()).status.drift;
      }
    }
    absl::MutexLock lock(&save_mu_);
    absl::Status s = WriteServeState(options_.state_file, std::move(saved));
    if (!s.ok() && save_error_ != s.message()) {
      log::LogTo(options_.logger, log::LogLevel::kWarning, s.message());
    }
    save_error_ = s.ok() ? "" : std::string(s.message());
  }
  if (options_.on_change) options_.on_change();
}

void SyncSupervisor::LoadState() {
  if (options_.state_file.empty()) return;
  absl::StatusOr<tqs1::v1::ServeState> saved =
      ReadServeState(options_.state_file);
  if (!saved.ok()) {
    if (!absl::IsNotFound(saved.status())) {
      log::LogTo(options_.logger, log::LogLevel::kWarning,
                 absl::StrCat(saved.status().message(),
                              "; starting without what it kept"));
    }
    return;
  }
  for (tqs1::v1::SyncDrift& drift : *saved->mutable_syncs()) {
    auto it = syncs_.find(drift.sync_name());
    if (it == syncs_.end()) continue;  // a sync no longer in the config
    drift.set_from_before_restart(true);
    it->second.status.drift = std::move(drift);
  }
}

std::vector<std::string> SyncSupervisor::SyncNames() const {
  return sync::SyncNames(config_);
}

absl::StatusOr<std::vector<std::string>> SyncSupervisor::Select(
    const std::vector<std::string>& names) const {
  const sync::SyncSelection selection = sync::SelectSyncs(config_, names);
  if (selection.unknown.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown sync \"", *selection.unknown,
                     "\"; this server's syncs are: \"",
                     absl::StrJoin(SyncNames(), "\", \""), "\""));
  }
  std::vector<std::string> selected;
  for (const tqs1::v1::SyncConfig* sync : selection.syncs) {
    selected.push_back(sync->name());
  }
  return selected;
}

const tqs1::v1::SyncConfig* SyncSupervisor::Config(
    const std::string& name) const {
  for (const tqs1::v1::SyncConfig& sync : config_.syncs()) {
    if (sync.name() == name) return &sync;
  }
  return nullptr;
}

absl::Mutex& SyncSupervisor::SiteLock(const tqs1::v1::SyncConfig& sync) {
  return *site_locks_.at(sync::SiteKey(sync));
}

sync::SyncRunResult SyncSupervisor::RunLocked(
    const tqs1::v1::SyncConfig& sync, threatq::IndicatorSource& source,
    const PlanOptions& options, bool apply, std::function<bool()> should_stop,
    const tqs1::v1::Plan* reviewed, ledger::Ledger* ledger) {
  sync::RunSyncRequest request;
  request.sync = &sync;
  request.ledger = ledger;
  if (ledger != nullptr) {
    request.identity = cli::ThisProcess(std::string(log::LogScope::RunId()));
  }
  request.plan = reviewed;
  request.never_block = &backends_->never_block;
  request.plan_options = options;
  request.ipv6_auto = backends_->ipv6_auto;
  request.apply = apply;
  request.apply_options.logger = options_.logger;
  request.apply_options.clock = options_.clock;
  request.apply_options.should_stop = [this, &should_stop] {
    return shutting_down() || (should_stop && should_stop());
  };
  return sync::RunSync(request, source, *rules_.at(sync.sentinelone()));
}

void SyncSupervisor::RecordPlan(const std::string& name,
                                const sync::SyncRunResult& run,
                                const PlanOptions& options,
                                absl::Duration took) {
  const absl::Time now = Now();
  const bool source_failed =
      run.failed_step == tqs1::v1::SYNC_STEP_READ_COLLECTION;
  absl::MutexLock lock(&mu_);
  SyncState& state = syncs_[name];
  SyncStatus& s = state.status;
  const SyncDrift before = s.drift;
  *s.drift.mutable_last_attempt() = ToTimestamp(now);
  s.reconcile_duration.Observe(took);
  if (!run.plan.has_value()) {
    ++s.reconciles_failed;
    s.healthy = false;
    // The collection is read first: a later step failing read it.
    s.source_reachable = !source_failed;
    // Keep the last known good counts: a failed read is not "nothing is
    // desired".
    s.drift.set_last_error(std::string(run.status.message()));
    MaybeBump(state, before);
    log::LogTo(options_.logger, log::LogLevel::kWarning,
               absl::StrCat("sync \"", name, "\": ", run.status.message()));
    return;
  }
  const tqs1::v1::Plan& plan = *run.plan;
  if (plan.summary().blocked()) {
    ++s.reconciles_guard_blocked;
  } else {
    ++s.reconciles_ok;
  }
  s.source_reachable = true;
  if (!MessageDifferencer::Equals(options, options_.plan_options)) return;
  s.observed = true;
  s.healthy = true;
  s.last_success = now;
  s.addresses_desired = plan.inputs().desired();
  s.addresses_blocked = plan.observed().blocked();
  s.rejected_values = plan.inputs().invalid() + plan.inputs().never_blocked() +
                      plan.inputs().refused();
  s.guards.clear();
  for (const tqs1::v1::GuardVerdict& v : plan.guards()) {
    s.guards[v.guard()] = v.tripped() && !v.overridden();
  }
  SetDriftFromPlan(plan, &s.drift);
  s.drift_rounds = s.drift.in_sync() ? 0 : s.drift_rounds + 1;
  *s.drift.mutable_observed_at() = ToTimestamp(now);
  s.drift.clear_last_error();
  MaybeBump(state, before);
}

absl::StatusOr<tqs1::v1::Plan> SyncSupervisor::Plan(
    const std::string& name, const PlanOptions& options) {
  sync::SharedReads reads(SourceOf(), {});
  return PlanFrom(reads, name, options);
}

absl::StatusOr<tqs1::v1::Plan> SyncSupervisor::PlanFrom(
    sync::SharedReads& reads, const std::string& name,
    const PlanOptions& options) {
  // One run: every line it logs carries its own run id.
  const log::LogScope scope(log::NewRunId(), name);
  absl::StatusOr<std::vector<std::string>> selected = Select({name});
  if (!selected.ok()) return selected.status();
  sync::SyncRunResult run;
  const absl::Time start = absl::Now();
  {
    absl::MutexLock site(&SiteLock(*Config(name)));
    run = RunLocked(*Config(name), reads.For(*Config(name)), options,
                    /*apply=*/false, {});
  }
  RecordPlan(name, run, options, absl::Now() - start);
  Notify();
  if (!run.plan.has_value()) return run.status;
  return *std::move(run.plan);
}

void SyncSupervisor::MaybeBump(SyncState& state, const SyncDrift& before) {
  if (!SameDrift(before, state.status.drift)) {
    state.version = ++version_;
  }
}

void SyncSupervisor::RecordApply(const std::string& name,
                                 const tqs1::v1::Plan& plan,
                                 const tqs1::v1::ApplyReport& report,
                                 const absl::Status& status,
                                 absl::Duration took) {
  const absl::Time now = Now();
  absl::MutexLock lock(&mu_);
  SyncState& state = syncs_[name];
  SyncStatus& s = state.status;
  const SyncDrift before = s.drift;
  *s.drift.mutable_last_attempt() = ToTimestamp(now);
  s.apply_duration.Observe(took);
  if (!status.ok()) {
    // A guard trip is tqs1 working as meant: not an error, not unhealthy;
    // the drift and the guard gauges say what stopped it.
    const bool guard = reconciler::IsGuardRefusal(status);
    ++(guard ? s.applies_guard_blocked : s.applies_failed);
    if (!guard) s.healthy = false;
    s.drift.set_last_error(std::string(status.message()));
    MaybeBump(state, before);
    log::LogTo(options_.logger, log::LogLevel::kWarning,
               absl::StrCat("apply of sync \"", name, "\" ",
                            guard ? "blocked by a guard" : "failed", ": ",
                            status.message()));
    return;
  }
  ++s.applies_ok;
  s.healthy = true;
  s.last_success = now;
  *s.drift.mutable_last_successful_apply() = ToTimestamp(now);
  tqs1::v1::SyncRun& last = *s.drift.mutable_last_apply();
  last.Clear();
  last.set_name(name);
  *last.mutable_started() = ToTimestamp(now - took);
  *last.mutable_finished() = ToTimestamp(now);
  last.set_outcome(tqs1::v1::SYNC_OUTCOME_APPLIED);
  sync::CountInto(report, last);
  // The site now holds exactly the plan's target.
  s.observed = true;
  state.stale = false;
  s.addresses_desired = plan.inputs().desired();
  s.addresses_blocked = plan.inputs().desired();
  SetDriftAfterApply(plan, &s.drift);
  s.drift_rounds = 0;
  *s.drift.mutable_observed_at() = ToTimestamp(now);
  s.drift.clear_last_error();
  MaybeBump(state, before);
}

absl::StatusOr<ApplyReservation> SyncSupervisor::ReserveApply(
    const std::vector<std::string>& names) {
  absl::MutexLock lock(&mu_);
  for (const std::string& name : names) {
    auto it = syncs_.find(name);
    if (it == syncs_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown sync \"", name, "\""));
    }
    if (it->second.applying) {
      return absl::AbortedError(absl::StrCat(
          "an apply of sync \"", name,
          "\" is already running on this server; try again when it has "
          "finished"));
    }
  }
  if (reservations_ == 0 && !options_.lock_file.empty()) {
    absl::StatusOr<config::ApplyLock> file_lock =
        config::ApplyLock::Acquire(options_.lock_file);
    if (!file_lock.ok()) {
      log::LogTo(options_.logger, log::LogLevel::kWarning,
                 absl::StrCat("apply refused: ", file_lock.status().message()));
      return absl::AbortedError(
          "another tqs1 apply of this instance is running (a `tqs1 apply` "
          "or another server); try again when it has finished");
    }
    file_lock_.emplace(*std::move(file_lock));
  }
  ++reservations_;
  for (const std::string& name : names) syncs_[name].applying = true;
  return ApplyReservation(this, names);
}

void SyncSupervisor::Release(const std::vector<std::string>& names) {
  absl::MutexLock lock(&mu_);
  for (const std::string& name : names) syncs_[name].applying = false;
  if (--reservations_ == 0) file_lock_.reset();
}

absl::StatusOr<ApplyOutcome> SyncSupervisor::Apply(
    const ApplyReservation& reservation, const std::string& name,
    const PlanOptions& options, std::function<bool()> should_stop,
    const tqs1::v1::Plan* reviewed) {
  sync::SharedReads reads(SourceOf(), {});
  return ApplyFrom(reads, reservation, name, options, std::move(should_stop),
                   reviewed);
}

absl::StatusOr<ApplyOutcome> SyncSupervisor::ApplyFrom(
    sync::SharedReads& reads, const ApplyReservation& reservation,
    const std::string& name, const PlanOptions& options,
    std::function<bool()> should_stop, const tqs1::v1::Plan* reviewed) {
  const log::LogScope scope(log::NewRunId(), name);
  if (std::find(reservation.syncs().begin(), reservation.syncs().end(), name) ==
      reservation.syncs().end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("sync \"", name, "\" is not reserved for applying"));
  }
  absl::MutexLock site(&SiteLock(*Config(name)));
  const absl::Time start = absl::Now();
  std::unique_ptr<ledger::Ledger> ledger;
  if (!options_.ledger_file.empty()) {
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> opened =
        cli::OpenLedger(options_.ledger_file, /*read_only=*/false);
    if (!opened.ok()) {
      log::LogTo(options_.logger, log::LogLevel::kError,
                 absl::StrCat("apply of sync \"", name,
                              "\" refused: ", opened.status().message()));
      return absl::FailedPreconditionError(
          absl::StrCat(opened.status().message(), "; nothing applied"));
    }
    ledger = *std::move(opened);
  }
  sync::SyncRunResult run =
      RunLocked(*Config(name), reads.For(*Config(name)), options,
                /*apply=*/true, std::move(should_stop), reviewed, ledger.get());
  if (ledger != nullptr) cli::PruneLedger(config_, *ledger, options_.logger);
  const absl::Duration took = absl::Now() - start;
  RecordPlan(name, run, options, took);
  if (!run.plan.has_value()) {
    Notify();
    return run.status;
  }
  RecordApply(name, *run.plan, run.report, run.status, took);
  Notify();
  if (!run.status.ok()) return run.status;
  ApplyOutcome outcome;
  outcome.plan = *std::move(run.plan);
  outcome.report = std::move(run.report);
  return outcome;
}

std::optional<absl::Time> SyncSupervisor::token_expiry() const {
  absl::MutexLock lock(&mu_);
  return token_expiry_;
}

void SyncSupervisor::CheckToken(absl::Duration every) {
  // Every console's token; the metric is the one that expires first.
  const std::vector<std::pair<std::string, sentinelone::SentinelOneClient*>>
      clients = backends_->ConsoleClients();
  if (clients.empty()) return;
  std::vector<
      std::pair<std::string, absl::StatusOr<sentinelone::ApiTokenDetails>>>
      tokens;
  const absl::Time now = Now();
  {
    absl::MutexLock token(&token_mu_);
    if (now - token_checked_ < every) return;
    token_checked_ = now;
    for (const auto& [name, client] : clients) {
      tokens.emplace_back(name, client->TokenDetails());
    }
  }
  std::optional<absl::Time> first_expiry;
  bool known = false;  // some token's details were read
  for (const auto& [name, token] : tokens) {
    const std::string of =
        name.empty() ? "" : absl::StrCat("console \"", name, "\": ");
    if (!token.ok()) {
      log::LogTo(
          options_.logger, log::LogLevel::kDebug,
          absl::StrCat(of, "the SentinelOne API token's expiry is unknown: ",
                       token.status().message()));
      continue;
    }
    known = true;
    if (token->expires_at.has_value() &&
        (!first_expiry.has_value() || *token->expires_at < *first_expiry)) {
      first_expiry = token->expires_at;
    }
    if (std::optional<std::string> warning =
            sentinelone::TokenRenewalWarning(*token, now);
        warning.has_value()) {
      log::LogTo(options_.logger, log::LogLevel::kWarning,
                 absl::StrCat(of, *warning));
    }
  }
  if (!known) return;
  absl::MutexLock lock(&mu_);
  token_expiry_ = first_expiry;
}

void SyncSupervisor::ReconcileAll(bool apply) {
  CheckToken(kTokenCheckInterval);
  std::vector<const tqs1::v1::SyncConfig*> syncs;
  for (const tqs1::v1::SyncConfig& sync : config_.syncs()) {
    syncs.push_back(&sync);
  }
  // Applying: the canaries of a rollout first, each verified once applied.
  sync::Rollout rollout(syncs);
  // One read per collection per round.
  sync::SharedReads reads(SourceOf(), apply ? rollout.readers() : syncs);
  if (!apply) {
    sync::RunInParallel(
        static_cast<int>(syncs.size()), options_.parallelism,
        [&](int i) { return sync::SiteKey(*syncs[i]); },
        [&](int i) {
          if (!shutting_down()) ObserveFrom(reads, syncs[i]->name(), {});
        },
        [](int) {}, [&](int i) { return reads.Reading(*syncs[i]); });
    return;
  }
  for (const std::vector<const tqs1::v1::SyncConfig*>& phase :
       rollout.phases()) {
    // Decided before the phase starts: the canaries have all finished.
    std::vector<std::optional<std::string>> held;
    for (const tqs1::v1::SyncConfig* sync : phase) {
      held.push_back(rollout.HeldBack(*sync));
    }
    std::vector<std::optional<std::string>> failed(phase.size());
    sync::RunInParallel(
        static_cast<int>(phase.size()), options_.parallelism,
        [&](int i) { return sync::SiteKey(*phase[i]); },
        [&](int i) { failed[i] = ApplyOnSchedule(reads, *phase[i], held[i]); },
        [&](int i) {
          if (!failed[i].has_value()) return;
          const tqs1::v1::SyncConfig& sync = *phase[i];
          rollout.CanaryFailed(sync, *failed[i]);
          log::LogTo(
              options_.logger, log::LogLevel::kError,
              absl::StrCat("canary sync \"", sync.name(), "\" ", *failed[i],
                           ": the other sites of \"", sync.fleet(),
                           "\" are not applied this round"));
        },
        [&](int i) { return reads.Reading(*phase[i]); });
  }
}

std::optional<std::string> SyncSupervisor::ApplyOnSchedule(
    sync::SharedReads& reads, const tqs1::v1::SyncConfig& sync,
    const std::optional<std::string>& held) {
  if (shutting_down()) return std::nullopt;
  if (held.has_value()) {
    log::LogTo(options_.logger, log::LogLevel::kError,
               absl::StrCat("scheduled apply of sync \"", sync.name(),
                            "\" not run: ", *held));
    return std::nullopt;
  }
  absl::StatusOr<ApplyReservation> reservation = ReserveApply({sync.name()});
  if (!reservation.ok()) {
    log::LogTo(options_.logger, log::LogLevel::kInfo,
               absl::StrCat("scheduled apply of sync \"", sync.name(),
                            "\" skipped: ", reservation.status().message()));
    if (sync.canary()) return "was skipped";
    return std::nullopt;
  }
  absl::StatusOr<ApplyOutcome> applied = ApplyFrom(
      reads, *reservation, sync.name(), options_.plan_options, {}, nullptr);
  if (!sync.canary()) return std::nullopt;
  if (!applied.ok()) return "did not apply";
  // Planned again with the scheduled options: the drift follows.
  return sync::CanaryVerdict(
      PlanFrom(reads, sync.name(), options_.plan_options));
}

absl::StatusOr<std::vector<SyncDrift>> SyncSupervisor::Drift(
    const std::vector<std::string>& names) const {
  absl::StatusOr<std::vector<std::string>> selected = Select(names);
  if (!selected.ok()) return selected.status();
  absl::MutexLock lock(&mu_);
  std::vector<SyncDrift> out;
  for (const std::string& name : *selected) {
    out.push_back(syncs_.at(name).status.drift);
  }
  return out;
}

void SyncSupervisor::Observe(const std::string& name,
                             const std::function<bool()>& cancelled) {
  sync::SharedReads reads(SourceOf(), {});
  ObserveFrom(reads, name, cancelled);
}

sync::SharedReads::SourceOf SyncSupervisor::SourceOf() {
  return [this](const tqs1::v1::SyncConfig& sync) -> threatq::IndicatorSource* {
    auto it = sources_.find(sync.threatq());
    return it == sources_.end() ? nullptr : it->second.get();
  };
}

void SyncSupervisor::ObserveFrom(sync::SharedReads& reads,
                                 const std::string& name,
                                 const std::function<bool()>& cancelled) {
  const log::LogScope scope(log::NewRunId(), name);
  uint64_t stale_marks = 0;
  {
    absl::MutexLock lock(&mu_);
    SyncState& state = syncs_.at(name);
    if (state.observing) {
      // Share the observation in flight.
      const uint64_t target = state.observations + 1;
      auto done = [this, &state, target]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return state.observations >= target || shutdown_;
      };
      while (!mu_.AwaitWithTimeout(absl::Condition(&done),
                                   absl::Milliseconds(100))) {
        // `cancelled` may ask the supervisor (shutting_down()): not under
        // mu_.
        mu_.Unlock();
        const bool stop = cancelled && cancelled();
        mu_.Lock();
        if (stop) return;
      }
      return;
    }
    state.observing = true;
    stale_marks = state.stale_marks;
  }
  (void)PlanFrom(reads, name, options_.plan_options);
  absl::MutexLock lock(&mu_);
  SyncState& state = syncs_.at(name);
  state.observing = false;
  ++state.observations;
  // Looked at after the CLI apply (unless another came meanwhile); a failed
  // look says so in last_error and is not retried before the next round.
  if (state.stale_marks == stale_marks) state.stale = false;
}

void SyncSupervisor::Refresh(const std::vector<std::string>& names,
                             const DriftFreshness& freshness,
                             const std::function<bool()>& cancelled) {
  (void)NoticeCliApplies();
  const absl::Time now = Now();
  for (const std::string& name : names) {
    if (shutting_down() || (cancelled && cancelled())) return;
    bool needed = freshness.refresh;
    {
      absl::MutexLock lock(&mu_);
      const SyncState& state = syncs_.at(name);
      needed |= state.stale;
      if (freshness.max_age > absl::ZeroDuration()) {
        const SyncDrift& d = state.status.drift;
        needed |= !d.has_observed_at() ||
                  now - FromTimestamp(d.observed_at()) > freshness.max_age;
      }
    }
    if (needed) Observe(name, cancelled);
  }
}

std::vector<std::string> SyncSupervisor::NoticeCliApplies() {
  return ReadCliApplies(/*mark_stale=*/true);
}

std::vector<std::string> SyncSupervisor::ReadCliApplies(bool mark_stale) {
  std::vector<std::string> stale;
  if (options_.last_run_file.empty()) return stale;
  absl::StatusOr<tqs1::v1::LastRun> record =
      config::LoadLastRun(options_.last_run_file);
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    if (!record.ok()) {
      // No record yet is the normal case before the first CLI apply.
      if (!absl::IsNotFound(record.status()) &&
          last_run_error_ != record.status().message()) {
        last_run_error_ = std::string(record.status().message());
        log::LogTo(options_.logger, log::LogLevel::kWarning,
                   absl::StrCat("cannot read the last-run record: ",
                                record.status().message()));
      }
      return stale;
    }
    last_run_error_.clear();
    const absl::Time finished = FromTimestamp(record->finished());
    if (record->command() == "apply" && finished > cli_apply_seen_) {
      cli_apply_seen_ = finished;
      for (const tqs1::v1::SyncRun& run : record->syncs()) {
        auto it = syncs_.find(run.name());
        if (it == syncs_.end()) continue;
        SyncState& state = it->second;
        const SyncDrift before = state.status.drift;
        if (run.outcome() == tqs1::v1::SYNC_OUTCOME_APPLIED &&
            (!before.has_last_successful_apply() ||
             FromTimestamp(before.last_successful_apply()) <
                 FromTimestamp(run.finished()))) {
          *state.status.drift.mutable_last_successful_apply() = run.finished();
          *state.status.drift.mutable_last_apply() = run;
        }
        if (mark_stale && MayHaveWritten(run.outcome())) {
          state.stale = true;
          ++state.stale_marks;
        }
        MaybeBump(state, before);
        changed = true;
      }
    }
    for (const tqs1::v1::SyncConfig& sync : config_.syncs()) {
      if (syncs_.at(sync.name()).stale) stale.push_back(sync.name());
    }
  }
  // Not from the constructor: the owner is not ready for calls yet.
  if (changed && mark_stale) Notify();
  return stale;
}

std::vector<std::pair<std::string, SyncStatus>> SyncSupervisor::Statuses()
    const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, SyncStatus>> out;
  for (const tqs1::v1::SyncConfig& sync : config_.syncs()) {
    out.emplace_back(sync.name(), syncs_.at(sync.name()).status);
  }
  return out;
}

uint64_t SyncSupervisor::DriftVersion() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

std::vector<SyncDrift> SyncSupervisor::WaitForDriftChange(
    const std::vector<std::string>& names, uint64_t* seen,
    absl::Duration timeout) {
  const uint64_t since = *seen;
  auto changed = [this, since]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return version_ > since || shutdown_;
  };
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  std::vector<SyncDrift> out;
  for (const std::string& name : names) {
    auto it = syncs_.find(name);
    if (it != syncs_.end() && it->second.version > since) {
      out.push_back(it->second.status.drift);
    }
  }
  *seen = version_;
  return out;
}

void SyncSupervisor::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
}

bool SyncSupervisor::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutdown_;
}

}  // namespace tqs1::server

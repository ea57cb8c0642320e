// The state behind `tqs1 serve`: one Backends for the config, the latest
// drift of every sync, health, counters, and the rules of who may apply
// when. The gRPC service, the scheduler and the metrics page only read and
// drive it.
//
//   SupervisorOptions options;
//   options.lock_file = paths.LockFile();  // a CLI apply conflicts too
//   SyncSupervisor supervisor(config, &backends, options);
//   supervisor.ReconcileAll(/*apply=*/false);     // observe every sync
//   supervisor.Drift({});                          // what differs now
//   ASSIGN_OR_RETURN(ApplyReservation r, supervisor.ReserveApply({"c2-hq"}));
//   ASSIGN_OR_RETURN(ApplyOutcome out,
//                    supervisor.Apply(r, "c2-hq", {}, should_stop));
//
// Drift of a sync comes from its latest plan: `missing` is the plan's
// newly_blocked (desired addresses the site does not block), `extra` its
// unblocked (blocked addresses no longer desired), `conflicts` its
// conflicts; each count of entries comes with its address space (IPv4
// addresses, IPv6 /64 networks), and `disabled_rules` / `not_enforced` say
// what managed rules disabled in the console hold (a site can be in sync
// and still not enforce them: tqs1 keeps a disabled rule disabled). A failed
// read keeps the last known good drift (and its observed_at), sets
// last_error and last_attempt and marks the sync unhealthy; it never becomes
// an empty desired state.
//
// Freshness: a drift is as old as its observed_at. Refresh() observes again
// when asked (GetDrift's refresh and max_age), and after an apply the CLI
// made of the same state folder (the last-run record says so); the
// server's schedule loop polls that record too.
//
// Thread-safe. The syncs of one site take turns on it (a plan never reads
// a site that an apply of another of its syncs is writing); syncs of
// different sites run at once, each console's and instance's requests
// bounded by its transport (BoundedTransport). Reads of the state never
// wait for the vendors.
#ifndef TQS1_CLI_SERVER_SYNC_SUPERVISOR_H_
#define TQS1_CLI_SERVER_SYNC_SUPERVISOR_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/logger.h"
#include "cli/app.h"
#include "cli/config/state.h"
#include "cli/server/api_calls.h"
#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "proto/service.pb.h"
#include "providers/ledger/ledger.h"
#include "sync/parallel_runs.h"
#include "sync/shared_reads.h"
#include "sync/sync_runner.h"

namespace tqs1::server {

struct SupervisorOptions {
  // Options of the plans behind GetDrift (scheduled runs). Plans made with
  // other options (e.g. adopt) are returned but do not change the drift.
  tqs1::v1::PlanOptions plan_options;
  // The instance's apply lock (config::ConfigPaths::LockFile()), held while
  // any apply of this server runs, so a CLI apply of the same instance is
  // refused and refuses. Empty: no file lock.
  std::string lock_file;
  // observed_at, last success times. Unowned; null means tqs1::RealClock().
  tqs1::Clock* clock = nullptr;
  // The instance's last-run record (config::ConfigPaths::LastRunFile()),
  // written by each CLI apply: NoticeCliApplies() reads it, so that the
  // drift follows an apply made beside the server. Empty: not watched.
  std::string last_run_file;
  // What the server keeps across restarts
  // (config::ConfigPaths::ServeStateFile()): each sync's drift (counts, last
  // apply, last error), saved at every change and reported, marked
  // from_before_restart, until the first observation. Empty: not kept.
  std::string state_file;
  // The instance's ledger (config::ConfigPaths::LedgerFile()): every apply
  // of this server is recorded in it, as a CLI apply is, and pruned after
  // (the config's history.keep_days). Opened for each apply; one that
  // cannot be opened refuses the apply. Empty: applies are not recorded.
  std::string ledger_file;
  // Unowned; may be null.
  log::Logger* logger = nullptr;
  // How many syncs a scheduled round (ReconcileAll()) plans or applies at
  // once, never two of one site (sync::RunInParallel()); `tqs1 serve` sets
  // the config's `parallelism:`. 1: one after another.
  int parallelism = 1;
  // Called (without any lock held) after a sync's state changed: drift,
  // health or error. For the health service.
  std::function<void()> on_change;
};

// Durations in fixed buckets, for a Prometheus histogram.
struct DurationHistogram {
  // Upper bounds in seconds; a last bucket holds the rest (+Inf).
  static constexpr double kBounds[] = {0.1, 0.5, 1, 5, 15, 60, 300, 900};
  static constexpr size_t kBuckets = sizeof(kBounds) / sizeof(kBounds[0]);
  // counts[i]: observations <= kBounds[i] and above the bound before.
  uint64_t counts[kBuckets + 1] = {};
  double sum_seconds = 0;
  uint64_t count = 0;

  void Observe(absl::Duration d) {
    const double seconds = absl::ToDoubleSeconds(d);
    size_t i = 0;
    while (i < kBuckets && seconds > kBounds[i]) ++i;
    ++counts[i];
    sum_seconds += seconds;
    ++count;
  }
};

// A sync's state, for health and metrics.
struct SyncStatus {
  tqs1::v1::SyncDrift drift;
  // A plan succeeded at least once (the drift counts mean something).
  bool observed = false;
  // The last read of the collection succeeded (false before the first).
  bool source_reachable = false;
  // Source reachable and the last reconcile (plan, and apply when one was
  // made) succeeded.
  bool healthy = false;
  // Consecutive observations (scheduled options) that found the sync not in
  // sync; 0 once one finds it in sync or an apply succeeds. Failed
  // observations leave it as it is.
  uint64_t drift_rounds = 0;
  uint64_t addresses_desired = 0;
  uint64_t addresses_blocked = 0;
  // The last successful plan (or apply); UnixEpoch when never.
  absl::Time last_success = absl::UnixEpoch();
  // Plans and applies by result; a guard trip is its own result, not an
  // error.
  uint64_t reconciles_ok = 0;
  uint64_t reconciles_failed = 0;
  uint64_t reconciles_guard_blocked = 0;
  uint64_t applies_ok = 0;
  uint64_t applies_failed = 0;
  uint64_t applies_guard_blocked = 0;
  // Each guard the last plan weighed, by name: whether it tripped (and no
  // option let it through).
  std::map<std::string, bool> guards;
  // Values the last plan rejected (invalid, never-block, refused).
  uint64_t rejected_values = 0;
  // How long plans (both sides read) and applies (plan, admission and
  // writes) took, as seen by the server.
  DurationHistogram reconcile_duration;
  DurationHistogram apply_duration;
};

// How fresh Refresh() makes a drift.
struct DriftFreshness {
  // Observe every selected sync again.
  bool refresh = false;
  // Observe again a sync whose last good observation is older than this,
  // or that was never observed; zero: any age.
  absl::Duration max_age = absl::ZeroDuration();
};

// What Apply() did.
struct ApplyOutcome {
  tqs1::v1::Plan plan;
  tqs1::v1::ApplyReport report;
};

class SyncSupervisor;

// The right to apply some syncs: their per-sync slots and the instance's
// file lock. Released on destruction. Movable.
class ApplyReservation {
 public:
  ApplyReservation(ApplyReservation&& other) noexcept;
  ApplyReservation& operator=(ApplyReservation&&) = delete;
  ApplyReservation(const ApplyReservation&) = delete;
  ~ApplyReservation();

  const std::vector<std::string>& syncs() const { return syncs_; }

 private:
  friend class SyncSupervisor;
  ApplyReservation(SyncSupervisor* owner, std::vector<std::string> syncs)
      : owner_(owner), syncs_(std::move(syncs)) {}
  SyncSupervisor* owner_;
  std::vector<std::string> syncs_;
};

class SyncSupervisor {
 public:
  // `backends` is unowned and must outlive the supervisor; its providers
  // must be thread-safe (tqs1's clients and fakes are).
  SyncSupervisor(tqs1::v1::Config config, cli::Backends* backends,
                 SupervisorOptions options);
  ~SyncSupervisor();
  SyncSupervisor(const SyncSupervisor&) = delete;
  SyncSupervisor& operator=(const SyncSupervisor&) = delete;

  // Sync names in config order.
  std::vector<std::string> SyncNames() const;

  // The syncs `names` selects (all when empty), in config order.
  // kInvalidArgument naming an unknown one.
  absl::StatusOr<std::vector<std::string>> Select(
      const std::vector<std::string>& names) const;

  // Reads both sides of sync `name` and returns its plan; changes nothing
  // on the site. Updates the sync's drift and health (see the file
  // comment). Errors: Select()'s; PlanSync()'s.
  absl::StatusOr<tqs1::v1::Plan> Plan(const std::string& name,
                                      const tqs1::v1::PlanOptions& options);

  // Reserves `names` (already Select()ed) for applying. kAborted, with
  // nothing reserved, when one of them is being applied ("an apply of sync
  // \"x\" is already running on this server; ...") or when another process
  // holds the instance's apply lock ("another tqs1 apply of this instance
  // is running; ..."; the lock file's path and holder go to the log only).
  absl::StatusOr<ApplyReservation> ReserveApply(
      const std::vector<std::string>& names);

  // Re-plans sync `name` (which `reservation` must hold) and applies the
  // plan unless it is in sync; with `reviewed`, admits and applies exactly
  // that plan instead (as `tqs1 apply FILE` does; its file already
  // verified). `should_stop` is consulted between writes
  // (ApplyOptions::should_stop); it also stops when Shutdown() was called.
  // Errors: kFailedPrecondition when `reservation` does not hold `name`;
  // PlanSync()'s and ApplyPlan()'s (a guard: kFailedPrecondition; a stop:
  // kCancelled with the partial report attached).
  absl::StatusOr<ApplyOutcome> Apply(const ApplyReservation& reservation,
                                     const std::string& name,
                                     const tqs1::v1::PlanOptions& options,
                                     std::function<bool()> should_stop = {},
                                     const tqs1::v1::Plan* reviewed = nullptr);

  // One scheduled round over every sync: plan it, and when `apply`, apply
  // it (a sync being applied by a call is skipped; so are all when another
  // process holds the apply lock), SupervisorOptions::parallelism syncs at
  // once; with a rollout, every canary (applied and planned again) before
  // the other syncs. Failures are recorded, never returned.
  void ReconcileAll(bool apply);

  // The drift of the selected syncs (all when empty). Select()'s errors.
  absl::StatusOr<std::vector<tqs1::v1::SyncDrift>> Drift(
      const std::vector<std::string>& names) const;

  // Observes again each of `names` (Select()ed) that `freshness` asks for,
  // or that a CLI apply touched since it was last observed
  // (NoticeCliApplies()). Returns early, leaving the drift as it is, once
  // `cancelled` says so.
  void Refresh(const std::vector<std::string>& names,
               const DriftFreshness& freshness,
               const std::function<bool()>& cancelled = {});

  // Observes sync `name` (Select()ed) with the scheduled options: one
  // observation of a sync at a time; a caller arriving while one runs
  // waits for it (until `cancelled` says so) and shares it.
  void Observe(const std::string& name,
               const std::function<bool()>& cancelled = {});

  // Reads the last-run record (SupervisorOptions::last_run_file): for a CLI
  // apply finished since the last look, sets each applied sync's
  // last_successful_apply and marks its syncs for observing again; returns
  // those not observed again since, in config order. An unreadable record
  // is logged once per change and ignored.
  std::vector<std::string> NoticeCliApplies();

  // Every sync's state, in config order.
  std::vector<std::pair<std::string, SyncStatus>> Statuses() const;

  // The vendor API calls made so far.
  const ApiCallCounter& api_calls() const { return api_calls_; }

  // When the SentinelOne API token expires, as the console last said
  // (CheckToken()); nullopt when it never expires, was never asked, or the
  // backends are fakes.
  std::optional<absl::Time> token_expiry() const;

  // Asks the console when its API token expires, at most once per
  // `every` (ReconcileAll() calls it with kTokenCheckInterval), and logs a
  // warning when it expires within sentinelone::kTokenRenewalWarning. A
  // failed answer keeps the last one (logged at debug).
  void CheckToken(absl::Duration every);
  static constexpr absl::Duration kTokenCheckInterval = absl::Hours(1);

  // For WatchDrift: a version number that grows whenever a sync's drift
  // changes (any SyncDrift field but observed_at).
  uint64_t DriftVersion() const;

  // Waits up to `timeout` for a drift change after version `*seen` among
  // `names` (Select()ed), or for Shutdown(). Returns the changed drifts (may
  // be empty) and advances `*seen`.
  std::vector<tqs1::v1::SyncDrift> WaitForDriftChange(
      const std::vector<std::string>& names, uint64_t* seen,
      absl::Duration timeout);

  // Makes every in-flight apply stop before its next write and wakes every
  // waiter. Idempotent.
  void Shutdown();
  bool shutting_down() const;

 private:
  friend class ApplyReservation;
  struct SyncState {
    const tqs1::v1::SyncConfig* config = nullptr;
    SyncStatus status;
    uint64_t version = 0;
    bool applying = false;
    // An Observe() is running, and how many have finished.
    bool observing = false;
    uint64_t observations = 0;
    // A CLI apply touched the site after the last observation; how many
    // times one was noticed.
    bool stale = false;
    uint64_t stale_marks = 0;
  };

  void Release(const std::vector<std::string>& names);
  // NoticeCliApplies(); `mark_stale` false only sets the last apply times.
  std::vector<std::string> ReadCliApplies(bool mark_stale);
  // Records an apply attempt of `plan`.
  void RecordApply(const std::string& name, const tqs1::v1::Plan& plan,
                   const tqs1::v1::ApplyReport& report,
                   const absl::Status& status, absl::Duration took);
  // Bumps the version when the drift differs from `before` (ignoring
  // observed_at).
  void MaybeBump(SyncState& state, const tqs1::v1::SyncDrift& before)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records what a run's plan step found (with the options it was made
  // with: only plans made with the scheduled options change the drift).
  void RecordPlan(const std::string& name, const sync::SyncRunResult& run,
                  const tqs1::v1::PlanOptions& options, absl::Duration took);
  // Runs sync::RunSync() (plan only unless `apply`), recording an apply in
  // `ledger` when it is not null. The caller holds SiteLock(sync).
  sync::SyncRunResult RunLocked(const tqs1::v1::SyncConfig& sync,
                                threatq::IndicatorSource& source,
                                const tqs1::v1::PlanOptions& options,
                                bool apply, std::function<bool()> should_stop,
                                const tqs1::v1::Plan* reviewed = nullptr,
                                ledger::Ledger* ledger = nullptr);
  // What the syncs of one site (sync::SiteKey()) take turns on.
  absl::Mutex& SiteLock(const tqs1::v1::SyncConfig& sync);
  // Plan(), Apply() and Observe() reading the collection from `source`: a
  // scheduled round gives each sync its share of one read per collection
  // (sync::SharedReads); the calls read it themselves.
  absl::StatusOr<tqs1::v1::Plan> PlanFrom(sync::SharedReads& reads,
                                          const std::string& name,
                                          const tqs1::v1::PlanOptions& options);
  absl::StatusOr<ApplyOutcome> ApplyFrom(sync::SharedReads& reads,
                                         const ApplyReservation& reservation,
                                         const std::string& name,
                                         const tqs1::v1::PlanOptions& options,
                                         std::function<bool()> should_stop,
                                         const tqs1::v1::Plan* reviewed);
  void ObserveFrom(sync::SharedReads& reads, const std::string& name,
                   const std::function<bool()>& cancelled);
  // ReconcileAll()'s apply of `sync` unless `held` (its rollout holds it
  // back: logged); for a canary, what makes it fail ("did not apply", ...;
  // sync::CanaryVerdict()), nullopt when it is good or no canary.
  std::optional<std::string> ApplyOnSchedule(
      sync::SharedReads& reads, const tqs1::v1::SyncConfig& sync,
      const std::optional<std::string>& held);
  // Where a sync's collection is read: its instance's counted source.
  sync::SharedReads::SourceOf SourceOf();
  // The sync named `name` (already Select()ed).
  const tqs1::v1::SyncConfig* Config(const std::string& name) const;
  // Saves the state file (when there is one), then calls on_change.
  void Notify();
  // Loads the state file at start; a missing one is no error, an unreadable
  // one is logged and ignored.
  void LoadState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time Now() const;

  const tqs1::v1::Config config_;
  cli::Backends* const backends_;
  const SupervisorOptions options_;
  ApiCallCounter api_calls_;

  // The counted instances (null: not connected) and consoles the syncs
  // use, by SyncConfig.threatq and .sentinelone, and a lock a site, by
  // sync::SiteKey() (taken before mu_). Fixed at construction.
  std::map<std::string, std::unique_ptr<CountingIndicatorSource>> sources_;
  std::map<std::string, std::unique_ptr<CountingFirewallRules>> rules_;
  std::map<std::string, std::unique_ptr<absl::Mutex>> site_locks_;
  // Serializes CheckToken().
  absl::Mutex token_mu_;

  mutable absl::Mutex mu_;
  std::map<std::string, SyncState> syncs_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  // The instance's file lock while any reservation holds it.
  std::optional<config::ApplyLock> file_lock_ ABSL_GUARDED_BY(mu_);
  int reservations_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Time> token_expiry_ ABSL_GUARDED_BY(mu_);
  absl::Time token_checked_ ABSL_GUARDED_BY(token_mu_) = absl::InfinitePast();
  // The `finished` time of the last CLI apply record seen, and the error of
  // the last unreadable one (logged once).
  absl::Time cli_apply_seen_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string last_run_error_ ABSL_GUARDED_BY(mu_);
  // Serializes writes of the state file; its last write error (logged once).
  absl::Mutex save_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::string save_error_ ABSL_GUARDED_BY(save_mu_);
};

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_SYNC_SUPERVISOR_H_

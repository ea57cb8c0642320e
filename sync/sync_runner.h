// One sync, end to end: read the collection and the site, plan, decide, and
// (when asked and approved) apply. RunSync() is the one decision every way
// into a sync goes through: `tqs1 plan` and `tqs1 apply` (fresh or from a
// saved plan file) and the gRPC server's calls and scheduled rounds. No
// rendering, no prompting of its own, no locking (the caller serializes
// applies to one site).
//
//   RunSyncRequest request;
//   request.sync = &sync;
//   request.never_block = &backends.never_block;
//   request.approve = [&](const Plan& plan) {
//     std::cout << RenderPlanText(plan, {});
//     return AskYes() ? Approval::kApproved : Approval::kDeclined;
//   };
//   SyncRunResult run = RunSync(request, threatq, s1);
//   // run.outcome: SYNC_OUTCOME_APPLIED, ..._GUARD_BLOCKED, ..._FAILED
//   // (run.failed_step says which step), ...
#ifndef TQS1_SYNC_SYNC_RUNNER_H_
#define TQS1_SYNC_SYNC_RUNNER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "proto/run.pb.h"
#include "proto/state.pb.h"
#include "providers/ledger/ledger.h"
#include "providers/sentinelone/firewall_rules.h"
#include "providers/threatq/indicator_source.h"
#include "sync/apply_journal.h"
#include "sync/plan_executor.h"

namespace tqs1::sync {

// What a plan of `sync` must agree with when it is applied: the sync's
// config and the never-block entries beyond its own (the config's global
// list, the vendor hosts' addresses), as a DesiredState without values.
tqs1::v1::DesiredState SyncPolicy(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block);

// Plans one sync: reads every IP indicator of `sync.collection()` from
// `source`, finds the site `sync.site()` and reads its rules, and computes
// the plan (reconciler::ComputePlan). The plan carries the site id and the
// fingerprint of the rules it was made from, so ApplyPlan() can apply it
// later (now, after a confirmation, or from a saved file) or refuse it.
//
// `never_block` is added to the sync's own never-block entries and the
// built-in list: the config's global list and the vendor hosts' addresses.
//
// Reads only; never writes. ThreatQ is read first: when the read fails the
// site is not even looked up, and there is no plan (a failed read is never
// taken for an empty collection).
// Errors, each with context saying which read failed:
//   any code of IndicatorSource::ReadCollection (kNotFound for a missing
//   collection, kUnavailable for a ThreatQ outage, ...);
//   any code of FirewallRules::FindSite and ReadSite (kNotFound for a
//   missing site, ...);
//   kInvalidArgument from ComputePlan (a bad never-block entry, a collection
//   name too long for its rule names, ...).
// Thread-compatible, like the providers it is given.
absl::StatusOr<tqs1::v1::Plan> PlanSync(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    tqs1::threatq::IndicatorSource& source,
    tqs1::sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& options);

// Decides a sync's `ipv6: auto` for the site it targets (by site id): what
// `tqs1 check --write-probe` learned of that site, IPV6_MODE_ON or
// IPV6_MODE_OFF. An unset resolver, or one answering IPV6_MODE_AUTO (nothing
// learned), means on.
using Ipv6AutoResolver = std::function<tqs1::v1::Ipv6Mode(
    const tqs1::v1::SyncConfig& sync, absl::string_view site_id)>;

// `sync` with `ipv6: auto` decided by `resolver` for `site_id`; other syncs
// unchanged. A plan and its admission both use the decided sync, so a plan
// made before the probe learned otherwise is refused as no longer derived.
tqs1::v1::SyncConfig DecideIpv6(const tqs1::v1::SyncConfig& sync,
                                absl::string_view site_id,
                                const Ipv6AutoResolver& resolver);

// Why a step of a sync failed: SyncRunResult.failed_step.
using SyncStep = tqs1::v1::SyncStep;

// What PlanSync() read and made, kept together for what needs more than
// the plan: the ledger's record of each blocked address's sources, and
// `tqs1 why`.
struct SyncReading {
  // The sync's policy with the collection's values, their indicator ids,
  // types and statuses.
  tqs1::v1::DesiredState desired;
  // Indicators of the collection set aside that may be addresses
  // (threatq::CollectionRead::set_aside).
  std::vector<threatq::CollectionRead::SetAside> set_aside;
  // The site as read, inherited rules included.
  tqs1::v1::ObservedState observed;
  tqs1::v1::Plan plan;
};

// PlanSync() keeping what it read, with `ipv6: auto` decided by
// `ipv6_auto`; on failure `failed` says which step failed.
absl::StatusOr<SyncReading> ReadAndPlanSync(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    tqs1::threatq::IndicatorSource& source,
    tqs1::sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& options, const Ipv6AutoResolver& ipv6_auto,
    SyncStep* failed);

// The syncs of `config` that `names` selects (all when `names` is empty),
// in config order: a name selects the sync of that name, or every sync of
// the config entry of that name (an entry with several sites). `unknown` is the
// first name that is no sync of the config, if any (then `syncs` is empty);
// callers word the error.
struct SyncSelection {
  std::vector<const tqs1::v1::SyncConfig*> syncs;
  std::optional<std::string> unknown;
};
SyncSelection SelectSyncs(const tqs1::v1::Config& config,
                          const std::vector<std::string>& names);

// Every sync name of `config`, in config order.
std::vector<std::string> SyncNames(const tqs1::v1::Config& config);

// What the caller says once a plan with changes is ready to apply.
enum class Approval {
  kApproved,
  kDeclined,     // the operator said no: SYNC_OUTCOME_DECLINED
  kNoOneToAsk,   // no terminal to confirm on: SYNC_OUTCOME_CHANGES_PENDING
  kInterrupted,  // a signal came while asking: SYNC_OUTCOME_INTERRUPTED
};

struct RunSyncRequest {
  // The sync to run. Unowned; required.
  const tqs1::v1::SyncConfig* sync = nullptr;
  // The never-block entries beyond the sync's own (PlanSync()). Unowned;
  // null means none.
  const std::vector<tqs1::v1::NeverBlock>* never_block = nullptr;
  tqs1::v1::PlanOptions plan_options;
  // A plan made before (e.g. read from a signed plan file) to apply instead
  // of planning now. Unowned; null means plan now. It is admitted against
  // the re-read site exactly like a fresh plan (ApplyPlan()).
  const tqs1::v1::Plan* plan = nullptr;
  // Called with the plan once it is made (or taken), before the decision;
  // e.g. to print it. Unset: nothing.
  std::function<void(const tqs1::v1::Plan&)> on_plan;
  // False: plan only (a plan with changes ends as CHANGES_PENDING).
  bool apply = true;
  // Called once the plan has changes and no guard blocks it, before
  // anything is written. Unset means approved (unattended runs).
  std::function<Approval(const tqs1::v1::Plan&)> approve;
  // Progress, stop and logging of the apply step.
  ApplyOptions apply_options;
  // Decides `ipv6: auto` once the site is known (DecideIpv6()).
  Ipv6AutoResolver ipv6_auto;
  // Where an apply is recorded as it goes (sync/apply_journal.h); null:
  // nowhere. Unowned. A plan-only run (`apply` false) and a plan without
  // actions are never recorded.
  ledger::Ledger* ledger = nullptr;
  // Who runs the apply, for its ledger record.
  ApplyIdentity identity;
  // A restore (sync/restore.h): the apply whose recorded address set
  // `source` serves. Set as the plan's restore_of. 0: a normal run.
  int64_t restore_of = 0;
};

// What RunSync() did.
struct SyncRunResult {
  // The plan, unless planning failed.
  std::optional<tqs1::v1::Plan> plan;
  // What was written (partial when the apply stopped); sync_name is set.
  tqs1::v1::ApplyReport report;
  tqs1::v1::SyncOutcome outcome = tqs1::v1::SYNC_OUTCOME_FAILED;
  // Set when outcome is FAILED: the step that failed.
  tqs1::v1::SyncStep failed_step = tqs1::v1::SYNC_STEP_UNSPECIFIED;
  // OK, or why the sync failed, was refused by a guard
  // (reconciler::IsGuardRefusal()) or was interrupted (kCancelled).
  absl::Status status;
};

// Runs one sync:
//   1. plans it (PlanSync()), or takes `request.plan` (a plan holding an
//      error fails here, at SYNC_STEP_PLAN), and shows it to `on_plan`;
//   2. not `request.apply` (plan only): GUARD_BLOCKED, IN_SYNC or
//      CHANGES_PENDING as the plan says, status OK;
//   3. a plan a guard blocks is refused: GUARD_BLOCKED, nothing written;
//   4. a plan without actions: IN_SYNC (the site is not read again);
//   5. asks `request.approve`: DECLINED, CHANGES_PENDING or INTERRUPTED
//      unless approved;
//   6. applies it with ApplyPlan() (admitted against the re-read site):
//      APPLIED, or GUARD_BLOCKED (a guard trips on the re-read site),
//      INTERRUPTED (`should_stop`, the writes before the stop stay) or
//      FAILED (SYNC_STEP_APPLY), each with the partial report.
// With a ledger, steps 3, 5 and 6 are recorded in it (ApplyJournal). A
// ledger that cannot record the start refuses the apply before any write;
// one that cannot record a write stops the apply before its next write;
// one that cannot record the end turns the outcome into FAILED
// (SYNC_STEP_APPLY) with the ledger's error after what was done.
// Logs "applied sync ..." once at info on success (apply_options.logger).
// Never throws away a plan: `plan` is set whenever one was made.
SyncRunResult RunSync(const RunSyncRequest& request,
                      tqs1::threatq::IndicatorSource& source,
                      tqs1::sentinelone::FirewallRules& site);

// Copies what `report` says was written (rules created, updated, deleted,
// addresses blocked and unblocked, refused IPv6 values) into `run`, the
// record of the sync's run.
void CountInto(const tqs1::v1::ApplyReport& report, tqs1::v1::SyncRun& run);

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_SYNC_RUNNER_H_

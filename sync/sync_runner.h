// One sync, end to end: read the collection and the site, plan, and (when
// asked) apply. The glue the CLI and the gRPC server share; no rendering,
// no prompting, no locking (the caller serializes applies to one site).
//
//   // `tqs1 plan`, or `tqs1 apply` with a confirmation in between:
//   ASSIGN_OR_RETURN(Plan plan, PlanSync(sync, never_block, threatq, s1, {}));
//   std::cout << RenderPlanText(plan, {});
//   if (plan.summary().blocked() || !Confirm()) return ...;
//   ASSIGN_OR_RETURN(ApplyReport report,
//                    ApplyPlan(plan, SyncPolicy(sync, never_block), s1,
//                              apply_options));
//
//   // `tqs1 apply --auto-approve`, or a scheduled run of the server:
//   ASSIGN_OR_RETURN(SyncResult result,
//                    ApplySync(sync, never_block, threatq, s1, {}, {}));
#ifndef TQS1_SYNC_SYNC_RUNNER_H_
#define TQS1_SYNC_SYNC_RUNNER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"
#include "providers/sentinelone/firewall_rules.h"
#include "providers/threatq/indicator_source.h"
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

// A plan and what applying it did.
struct SyncResult {
  tqs1::v1::Plan plan;
  tqs1::v1::ApplyReport report;
};

// PlanSync() then ApplyPlan() without a pause: for unattended runs. A plan
// with no action is not applied (the report counts nothing and the site is
// not re-read); any other plan is applied with ApplyPlan()'s checks, so a
// guard-blocked plan is refused (kFailedPrecondition) and a site that
// changed in between is refused (kAborted; running again re-plans).
// Errors: those of PlanSync() and ApplyPlan(); a failed or cancelled apply
// carries its partial report (PartialApplyReport()). Callers that must show
// the plan even when applying fails use the two steps.
absl::StatusOr<SyncResult> ApplySync(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    tqs1::threatq::IndicatorSource& source,
    tqs1::sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& plan_options,
    const ApplyOptions& apply_options);

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_SYNC_RUNNER_H_

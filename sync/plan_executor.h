// The apply step: executes a Plan against a SentinelOne site, exactly as
// planned, or not at all when the plan no longer fits the site.
//
//   ApplyOptions options;
//   options.on_action = [](int index, int total, const Action& action) {
//     std::cerr << "[" << index + 1 << "/" << total << "] " << action.name();
//   };
//   options.should_stop = [] { return interrupted.load(); };  // e.g. SIGINT
//   absl::StatusOr<ApplyReport> report =
//       ApplyPlan(plan, SyncPolicy(sync, never_block), site, options);
//   if (!report.ok()) {
//     // What was written before the failure or the cancellation:
//     std::optional<ApplyReport> done = PartialApplyReport(report.status());
//   }
//
// Safety, before the first write: the site is re-read and the plan passes
// reconciler::AdmitPlan() against it and the sync's policy (its config and
// never-block lists): the same site (fingerprint), actions that touch only
// rules tqs1 owns, exactly the plan the planner derives now (so every
// address passes the parser, normalization, never-block lists and prefix
// floor again), and guards evaluated again, never taken from the plan.
// This is the one way into a write, whatever the plan's origin (a fresh
// plan, a saved file, a gRPC request). Nothing is written unless the whole
// plan is admitted.
// Then the actions run strictly in plan order (the planner orders them so
// that no wanted address is ever unblocked and no two rules share a name,
// and IPv4 actions before IPv6 ones), one write each, stopping at the first
// failure, with one exception: the console refusing the IPv6 values of a
// write (a CREATE or UPDATE of an IPv6 rule answered with a 400, i.e.
// kInvalidArgument: IsIpv6Refusal() in plan_runner.h) is recorded and the
// apply goes on, skipping each later action that would unblock what a
// refused write was to hold (the rule is in plan_runner.h, "Skipping").
// Nothing is retried here: the transport retries what is safe to retry,
// and a re-run re-plans from the real site and converges (apply is
// idempotent in that sense).
#ifndef TQS1_SYNC_PLAN_EXECUTOR_H_
#define TQS1_SYNC_PLAN_EXECUTOR_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"
#include "providers/sentinelone/firewall_rules.h"
#include "sync/apply_options.h"

namespace tqs1::sync {

// Applies `plan` to the site `plan.site_id()` through `site`, after
// admitting it against `policy` (the sync's config and never-block entries:
// SyncPolicy()).
//
// Returns what was done. ApplyReport counts rules created, updated and
// deleted, and address entries written: addresses_blocked is the number of
// `add` entries of the actions done, addresses_unblocked the number of
// `remove` entries (an address moved between two rules counts in both).
//
// Refusals (nothing has been written):
//   the codes of reconciler::AdmitPlan(): kInvalidArgument (not a plan that
//   can run), kAborted ("the site changed since the plan was made; run plan
//   again"), kFailedPrecondition (an action does not fit the site, touches
//   a rule tqs1 does not own, blocks a refused value, differs from the plan
//   derived now, or a guard stops the plan: reconciler::IsGuardRefusal());
//   any code of FirewallRules::ReadSite, with context.
// Stops (the actions before the stop are done, the rest are not):
//   kCancelled          `should_stop` returned true before a write.
//   any code of the failed write, its message prefixed with the action's
//                       number, kind and rule name and followed by what was
//                       done before it. The write's outcome may be unknown
//                       (a lost answer); re-planning reads the truth.
// Refused IPv6 writes (every other action ran, or was skipped because it
// would unblock what a refused write was to hold):
//   kFailedPrecondition naming each refused write (the first ten, then how
//                       many more), each skipped action and the console's
//                       first answer, and suggesting `ipv6: off` for the
//                       sync. ApplyReport.ipv6_refused holds one line per
//                       refused write (the action and the console's
//                       answer), then one per skipped action.
// Stops and refused writes carry the partial ApplyReport: see
// PartialApplyReport(). Refusals and stops are not logged here: the caller
// reports them once.
//
// Thread-compatible: `site` must not be used concurrently; two applies to
// one site must be serialized by the caller (the fingerprint check narrows
// but cannot close the window between the re-read and the writes).
absl::StatusOr<tqs1::v1::ApplyReport> ApplyPlan(
    const tqs1::v1::Plan& plan, const tqs1::v1::DesiredState& policy,
    tqs1::sentinelone::FirewallRules& site, const ApplyOptions& options);

// The payload type URL under which a failed or cancelled ApplyPlan() stores
// the ApplyReport of what it did before it stopped.
inline constexpr absl::string_view kApplyReportPayloadUrl =
    "type.googleapis.com/tqs1.v1.ApplyReport";

// The ApplyReport a failed or cancelled ApplyPlan() attached to `status`, or
// nullopt when there is none (e.g. the plan was refused before any write).
std::optional<tqs1::v1::ApplyReport> PartialApplyReport(
    const absl::Status& status);

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_PLAN_EXECUTOR_H_

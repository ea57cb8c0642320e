// The writes of an admitted plan, in plan order: the second half of
// ApplyPlan() (plan_executor.h), kept apart so that its tests can hand it
// actions made by hand. Internal to //sync: everything else reaches a write
// through ApplyPlan(), which admits the plan first.
//
//   ASSIGN_OR_RETURN(AdmittedPlan admitted, AdmitPlan(plan, policy, now));
//   RunOutcome run = RunAdmittedPlan(admitted, site, options, started);
//   if (!run.status.ok()) {
//     // run.report: what was written (and refused, or skipped) before.
//   }
//
// The actions run strictly in plan order, one write each. Any failure stops
// the run at once, except the console's refusal of IPv6 values
// (IsIpv6Refusal()): the run records it and goes on with the next actions,
// so that the IPv4 work of the plan is done, but skips each later action
// that would drop what a refused write was to hold (below). At the end a
// run with refusals fails with kFailedPrecondition naming them.
//
// Skipping. The planner moves an address between rules by adding it to its
// new rule before the action that removes it from the old one (no unblock
// window). When the adding write is refused, the removing one must not run:
// the address would be unblocked although the collection still wants it.
// So a later action is skipped when an entry it removes (an UPDATE's or a
// DELETE's `remove` list: a DELETE lists every entry of the rule) overlaps
// an entry that a refused or skipped action was to add (Action.add):
// contains it, or is contained in it. A skipped action writes nothing, and
// what it was to add counts as unwritten too, so what depends on it is
// skipped in turn. An entry to remove that cannot be read as an address or
// prefix (even with host bits set, which are then ignored) counts as
// overlapping while anything is unwritten: skipping is the safe side.
// Nothing else is skipped: a later write of either family still runs.
#ifndef TQS1_SYNC_PLAN_RUNNER_H_
#define TQS1_SYNC_PLAN_RUNNER_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/plan.pb.h"
#include "providers/sentinelone/firewall_rules.h"
#include "reconciler/admission.h"
#include "sync/apply_options.h"

namespace tqs1::sync {

// True when `status`, the failure of writing `action`, is the console
// refusing the IPv6 values the write holds: `action` is a CREATE or an
// UPDATE whose family is ADDRESS_FAMILY_IPV6 (it holds IPv6 values only:
// IPv4 and IPv6 never share a rule) and `status` is kInvalidArgument, the
// code SentinelOneClient gives a 400 answer (a value the console's
// validation refuses; e.g. "data.remoteHosts.values: '2001:db8::1' is not a
// valid IPv4 address, range or CIDR block"). The message is not examined:
// its wording is the console's and unverified. A 400 answer means the write
// did not happen (nothing of it is in the site). Any other failure of an
// IPv6 write, and any failure of a DELETE or of a write of another family,
// is not a refusal.
bool IsIpv6Refusal(const tqs1::v1::Action& action, const absl::Status& status);

struct RunOutcome {
  // What was done. ApplyReport.ipv6_refused holds one line per refused
  // write, in plan order, then one per skipped action:
  //   action 3 of 5 (create "Known C2 (4)") refused by the console: <answer>
  //   action 5 of 5 (delete "Known C2 (2)", rule 102) skipped: it would
  //   unblock 2001:db8::7, which action 3 was to hold
  // Refused and skipped actions are not counted as created, updated or
  // deleted, nor are their entries.
  tqs1::v1::ApplyReport report;
  // OK when every action ran. Otherwise, with the actions before it done:
  //   kCancelled          options.should_stop returned true before a write.
  //   the failed write's  its message prefixed with the action's number,
  //   code                kind and rule name and followed by what was done
  //                       before it.
  //   kFailedPrecondition every action ran or was skipped, and the console
  //                       refused IPv6 values: names each refused write (the
  //                       first ten, then how many more), each skipped
  //                       action, the console's first answer, what was
  //                       done, and suggests `ipv6: off` for the sync.
  absl::Status status;
};

// Runs the actions of `admitted` against site `admitted.plan.site_id()`,
// writing `admitted.writes[i]` for action i. `started` is when the apply
// began, for ApplyReport.duration_ms (measured on options.clock).
// Thread-compatible, like ApplyPlan().
RunOutcome RunAdmittedPlan(const reconciler::AdmittedPlan& admitted,
                           sentinelone::FirewallRules& site,
                           const ApplyOptions& options, absl::Time started);

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_PLAN_RUNNER_H_

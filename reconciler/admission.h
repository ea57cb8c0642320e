// Admission: the one check every plan passes right before it is executed,
// whatever its origin (a plan made a moment ago, a saved plan file, a gRPC
// request). A plan is untrusted input; admission trusts none of it.
//
//   ASSIGN_OR_RETURN(ObservedState now, site.ReadSite(plan.site_id()));
//   ASSIGN_OR_RETURN(AdmittedPlan admitted, AdmitPlan(plan, policy, now));
//   for (int i = 0; i < admitted.plan.actions_size(); ++i) {
//     ... write admitted.writes[i] (the whole rule) ...
//   }
//
// What it checks, in order, before anything is written:
// 1. The plan is a plan: not stopped by a guard by its own account (such a
//    plan is refused as it stands), known format, no planning error, names a
//    site, and is a plan of the sync `policy` describes (same name and
//    collection).
// 2. The site is the one the plan was made from: the fingerprint of the
//    re-read site equals the plan's (else kAborted: re-plan).
// 3. Every action fits the re-read site and touches only what tqs1 may
//    touch: site-scoped rules of the sync's name scheme that carry the
//    ownership marker (or that the action adopts), each at most once, and
//    neither read-only (editable: false) nor unreadable; every rule written
//    carries the marker and blocks.
// 4. The plan is what the planner derives now. The addresses the managed
//    rules would hold after the plan are planned again (ComputePlan) with
//    the policy's never-block lists, prefix floor and guards against the
//    re-read site: every address passes the same parser, normalization and
//    never-block lists as at plan time, and the actions must come out the
//    same. A plan that blocks a refused value, or that differs from the
//    derived one in any way, is refused, naming the value or the action.
// 5. The guards of the derived plan (never the plan's own verdicts) must
//    pass, with only the overrides the plan records (PlanOptions).
// Pure: no I/O, no clock.
#ifndef TQS1_RECONCILER_ADMISSION_H_
#define TQS1_RECONCILER_ADMISSION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"

namespace tqs1::reconciler {

// A plan that may run now.
struct AdmittedPlan {
  // The plan as derived at admission: the same actions as the plan given,
  // with guards, summary and observed report computed from the re-read
  // site (the given plan's input report is kept, for display).
  tqs1::v1::Plan plan;
  // For each action, the whole rule to send (CREATE, UPDATE); empty for a
  // DELETE.
  std::vector<tqs1::v1::Rule> writes;
};

// Admits `plan` for execution against `observed` (the site as re-read just
// now). `policy` is the sync's config and its never-block entries, as for
// ComputePlan; its values are ignored (admission derives them from the
// plan).
// Errors (nothing may be written):
//   kInvalidArgument    not a plan that can run: an unknown format, a
//                       planning error recorded in it, no site id.
//   kAborted            the site changed since the plan was made.
//   kFailedPrecondition the plan is not one of this sync, does not fit the
//                       site, touches a rule tqs1 may not touch, blocks a
//                       value tqs1 refuses, differs from the plan derived
//                       now, or a guard stops it (IsGuardRefusal()).
absl::StatusOr<AdmittedPlan> AdmitPlan(const tqs1::v1::Plan& plan,
                                       const tqs1::v1::DesiredState& policy,
                                       const tqs1::v1::ObservedState& observed);

// "action 2 of 5 (update \"C2 (1)\", rule 100000000000000001)": how
// messages name an action.
std::string DescribeAction(int index, int total,
                           const tqs1::v1::Action& action);

// True when `status` is AdmitPlan()'s refusal because a guard stops the plan
// (for the guard exit code).
bool IsGuardRefusal(const absl::Status& status);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_ADMISSION_H_

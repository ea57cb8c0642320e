// What a rule looks like after one plan action: the single definition used
// by the apply step (to build the full rule sent to SentinelOne) and by the
// tests that replay plans.
//
//   ASSIGN_OR_RETURN(Rule after, RuleAfter(&before, action));  // UPDATE
//   ASSIGN_OR_RETURN(Rule fresh, RuleAfter(nullptr, action));  // CREATE
#ifndef TQS1_RECONCILER_RULE_EDIT_H_
#define TQS1_RECONCILER_RULE_EDIT_H_

#include "absl/status/statusor.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"

namespace tqs1::reconciler {

// The rule after a CREATE (`before` is null; the result has no id and site
// scope) or an UPDATE of `before`: the action's settings; the entries of
// `before` less one occurrence of each entry in `action.remove()`, then
// `action.add()`; entries regrouped into one "addresses" and one "cidr"
// host set (whichever are not empty).
// Errors: kFailedPrecondition when an entry to remove is not in the rule
// (the plan was made from another version of it), or the action is a
// DELETE, or `before` is missing for an UPDATE.
absl::StatusOr<tqs1::v1::Rule> RuleAfter(const tqs1::v1::Rule* before,
                                         const tqs1::v1::Action& action);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_RULE_EDIT_H_

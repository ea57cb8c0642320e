// The reconciler: given what a collection says should be blocked and what a
// site's firewall holds, compute the writes that make them equal.
//
//   ASSIGN_OR_RETURN(Plan plan, ComputePlan(desired, observed, options));
//   std::cout << RenderPlanText(plan, {});
//   if (plan.summary().blocked()) return kGuardExitCode;
//
// Pure: no I/O, no clock, no globals; the same inputs give the same plan.
//
// The rules it follows (DESIGN.md):
// - Ownership: a site-scoped rule is managed when its name is in the sync's
//   scheme ("<collection>", "<collection> (n)") and its description carries
//   the ownership marker. A scheme name without the marker is a conflict,
//   left alone, unless PlanOptions.adopt takes it over. Rules of other
//   scopes are inherited and never touched; other names are foreign.
// - IPv4 and IPv6 never share a rule (a console that refuses IPv6 then
//   refuses only IPv6 rules). A managed rule holding both keeps the family
//   most of its kept addresses are of (IPv4 on a tie) and moves the others.
//   Every action says the family its rule holds (Action.family).
// - Sticky first-fit chunking, per family: an address stays in the rule
//   that holds it; removed addresses leave their rules; added addresses fill
//   the rules of their family being rewritten anyway (a rewritten rule that
//   keeps nothing takes the family that needs room), then new rules of
//   their family (the last partial one goes into the fullest existing rule
//   of the family that can take it whole, if any). An address a rule sheds
//   (over the limit, or of the other family) goes only into a rule that
//   sheds nothing, so no two rules wait on each other. An emptied rule is
//   deleted. This reaches the fewest writes under these constraints: rho
//   (rules that must be written) plus, per family, ceil(max(0, a - F,
//   s - F0) / cap) new rules (a: addresses to place, F: room in rewritten
//   rules, s: shed addresses, F0: room in rewritten rules that shed
//   nothing), less the rewritten rules that keep nothing.
// - Names: a new rule takes the lowest free number; no name in use by any
//   rule of the site, compared ignoring (ASCII) case, is ever reused in the
//   same plan, so no intermediate state has two rules of one name. Existing
//   rules are never renamed.
// - No unblock window: creates, then updates that add (rules that shed
//   nothing), then updates that add and shed, then updates that only remove
//   or fix settings, then deletes; inside each phase IPv4 actions run
//   before IPv6 actions.
// - Guards: an empty source, or unblocking more than a share of what the
//   site blocks, marks the plan blocked unless overridden; so does Firewall
//   Control disabled for the site ("firewall-disabled", overridden by
//   PlanOptions.allow_disabled_firewall; an unknown configuration is not
//   disabled). A rule of the sync tqs1 cannot manage safely blocks it with
//   no override ("unmanageable-rule").
// - The site's Firewall Control configuration is copied into
//   ObservedReport.firewall; a site that inherits its parent's firewall
//   policy or all its parent's rules gets a warning line in
//   ObservedReport.warnings.
#ifndef TQS1_RECONCILER_PLANNER_H_
#define TQS1_RECONCILER_PLANNER_H_

#include "absl/status/statusor.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"

namespace tqs1::reconciler {

// Computes the plan for one sync.
// Errors (all kInvalidArgument, naming the value and where it came from):
// the sync has no collection; a never-block entry does not parse; a rule
// name the plan needs is longer than SentinelOne's 200 characters;
// options.max_addresses_per_rule is over 5000.
absl::StatusOr<tqs1::v1::Plan> ComputePlan(
    const tqs1::v1::DesiredState& desired,
    const tqs1::v1::ObservedState& observed,
    const tqs1::v1::PlanOptions& options);

// The template with defaults filled in: direction any, OS types windows,
// macOS and Linux when unset; OS types sorted and unique.
tqs1::v1::RuleTemplate EffectiveTemplate(const tqs1::v1::RuleTemplate& rule);

// "<collection> -> <site>" unless the sync has a name.
std::string SyncDisplayName(const tqs1::v1::SyncConfig& sync);

// The scope whose rules `sync` keeps: RULE_SCOPE_GLOBAL (`global: true`),
// RULE_SCOPE_ACCOUNT (`account_scope:`), RULE_SCOPE_GROUP (`group:`) or
// RULE_SCOPE_SITE.
tqs1::v1::RuleScope SyncScope(const tqs1::v1::SyncConfig& sync);

// That scope's name as the sync gives it: the group's, the account's or the
// site's; empty for the global scope (and a site given by id only).
std::string SyncTargetName(const tqs1::v1::SyncConfig& sync);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_PLANNER_H_

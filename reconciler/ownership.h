// Which rules belong to a sync: the name scheme the old connector used
// ("<collection>", "<collection> (1)", "<collection> (2)", ...) together with
// tqs1's ownership marker at the end of the description.
//
//   ManagedNameIndex("Known C2", "Known C2 (3)");  // 3
//   ManagedNameIndex("Known C2", "Known C2");      // 0
//   ManagedNameIndex("Known C2", "Known C2 (03)"); // nullopt
//   RuleName("Known C2", 2);                       // "Known C2 (2)"
//   HasOwnershipMarker("Blocked [managed by tqs1]");  // true
#ifndef TQS1_RECONCILER_OWNERSHIP_H_
#define TQS1_RECONCILER_OWNERSHIP_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "proto/state.pb.h"

namespace tqs1::reconciler {

// Ends the description of every rule tqs1 manages. A rule with a managed
// name but without this marker is someone else's (a conflict), unless
// adopted explicitly.
inline constexpr absl::string_view kOwnershipMarker = "[managed by tqs1]";

// SentinelOne's limit on rule names, in characters.
inline constexpr int kMaxRuleNameLength = 200;

// SentinelOne's limit on addresses per rule.
inline constexpr int kMaxAddressesPerRule = 5000;

// The sync's rule description: the template's followed by the marker.
std::string DescriptionWithMarker(absl::string_view description);

bool HasOwnershipMarker(absl::string_view description);

// The number in a name of the scheme: 0 for "<collection>", n for
// "<collection> (n)" with n >= 1 written without leading zeros; nullopt for
// any other name.
std::optional<int> ManagedNameIndex(absl::string_view collection,
                                    absl::string_view name);

// The inverse of ManagedNameIndex.
std::string RuleName(absl::string_view collection, int index);

// The scope `observed` was read from: RULE_SCOPE_GROUP for a group of a
// site, RULE_SCOPE_ACCOUNT for an account, RULE_SCOPE_GLOBAL for the global
// rules, RULE_SCOPE_SITE otherwise (a site; also a state that does not
// say).
tqs1::v1::RuleScope TargetScope(const tqs1::v1::ObservedState& observed);

// A target scope in words: "site", "group", "account" or "global scope".
const char* ScopeNoun(tqs1::v1::RuleScope target);

// Whether `rule` is a rule of the observed scope itself (a site's rule of
// that site, a group's of that group, an account's of that account; the
// scope's id when the rule names one): the only rules tqs1 may manage.
// Rules of other scopes (a site's seen from one of its groups, account,
// global) are inherited and read-only.
bool IsTargetRule(const tqs1::v1::Rule& rule,
                  const tqs1::v1::ObservedState& observed);

// Whether `rule` of `site` is tqs1's for the sync of `collection`: a rule of
// the scope itself (IsTargetRule), named in the sync's scheme, with the
// ownership marker. The only rules an apply may write (the apply
// invariants), and the rules the ledger and `tqs1 why` call the sync's.
bool IsManagedRule(const tqs1::v1::Rule& rule,
                   const tqs1::v1::ObservedState& site,
                   absl::string_view collection);

// Whether rules of `scope` are inherited by `target`: the console
// evaluates group, site, account, global rules in that order, and each
// scope inherits the ones after it.
bool IsAbove(tqs1::v1::RuleScope scope, tqs1::v1::RuleScope target);

// Whether `rule`, read with `observed`, is the sync's own rule of a scope
// above it (the console evaluates group, site, account, global: a group
// inherits its site's rules, a site its account's, each the global ones),
// named in the sync's scheme, with the ownership marker. Never managed by the
// plan of `observed`, but what it blocks (when enabled) is not missing there.
bool IsInheritedSyncRule(const tqs1::v1::Rule& rule,
                         const tqs1::v1::ObservedState& observed,
                         absl::string_view collection);

// Length in characters (UTF-8 code points), as SentinelOne counts it.
int CharacterCount(absl::string_view text);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_OWNERSHIP_H_

// The promises an apply keeps at every instant, as one pure function: the
// planner's property test, the FirewallRules checker of the sync tests and
// the soak tests' emulator checker all call it after every write.
//
//   InvariantScope scope{"Known C2", /*max_per_rule=*/5000};
//   for (const std::string& line :
//        Violations(site_before_write, site_after_write, wanted, scope)) {
//     ADD_FAILURE() << line;
//   }
//
// The invariants, between two states of one site:
// - no two rules of the site share a name, and no write gives a site rule
//   the name of a rule the site inherits, or a name another rule of the
//   site writes in another case;
// - no rule tqs1 does not own changes or vanishes, and every rule that
//   appears (or is rewritten) is tqs1's; taking a rule over (adopting it)
//   counts as changing a rule tqs1 does not own;
// - no managed rule is written with more entries than the per-rule limit (a
//   rule made over the limit by hand and left as it was is not a write);
// - no managed rule is written holding both IPv4 and IPv6 entries (a rule
//   that held both before the plan and is left as it was is not a write;
//   once every write has run, no managed rule holds both);
// - no wanted address that a managed rule blocked before is unblocked after.
//
// Pure: no I/O, no clock, no globals.
#ifndef TQS1_RECONCILER_INVARIANTS_H_
#define TQS1_RECONCILER_INVARIANTS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/state.pb.h"
#include "reconciler/address.h"
#include "reconciler/ownership.h"

namespace tqs1::reconciler {

// What a site's rules are checked against.
struct InvariantScope {
  // The sync's collection: tqs1's rules are named "<collection>" or
  // "<collection> (n)".
  std::string collection;
  // The most entries a managed rule may be written with.
  int max_per_rule = kMaxAddressesPerRule;
};

// `addresses` (the wanted set, as text) parsed for Violations.
// kInvalidArgument naming the first one that does not parse.
absl::StatusOr<std::set<IpPrefix>> WantedPrefixes(
    const std::set<std::string>& addresses);

// Every broken invariant between `before` and `after` (two states of one
// site, rules matched by id), one line each, e.g.
//   two rules are named "Known C2 (2)"
//   rule "Known C2 (3)" has the name of an inherited rule
//   rule "Known C2 (2)" (id 302) has the name of another rule of the site,
//     ignoring case
//   foreign rule "Allow backups" (id 300) was changed
//   foreign rule 300 was deleted
//   rule "Known C2 (1)" (id 301) appeared without being tqs1's
//   rule "Known C2 (1)" (id 301) lost tqs1's marker or name scheme
//   rule "Known C2" holds 5001 entries, over the limit of 5000
//   rule "Known C2 (2)" (id 302) holds both IPv4 and IPv6 entries
//   wanted address 192.0.2.1 was unblocked after being blocked
// Empty when every invariant holds. An address is blocked when a managed
// rule holds it as an entry (compared as parsed prefixes); `wanted` is the
// desired set the site is being converged to.
std::vector<std::string> Violations(const tqs1::v1::ObservedState& before,
                                    const tqs1::v1::ObservedState& after,
                                    const std::set<IpPrefix>& wanted,
                                    const InvariantScope& scope);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_INVARIANTS_H_

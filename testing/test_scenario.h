// Shared pieces of the sync tests: one sync ("Known C2" -> "HQ"), a fake
// site that already holds a hand-made rule and an inherited account rule,
// and helpers to feed addresses to a FakeIndicatorSource and read the
// managed addresses back from a FakeFirewallRules.
//
//   FakeFirewallRules s1;
//   SetUpSite(s1);
//   FakeIndicatorSource tq;
//   tq.SetCollection(kCollection, IpIndicators({"192.0.2.1", "10.0.0.0/24"}));
//   ASSIGN_OR_RETURN(Plan plan, PlanSync(TestSync(), {}, tq, s1, {}));
//   ManagedAddresses(s1);  // {"192.0.2.1", "10.0.0.0/24"} once applied
#ifndef TQS1_TESTING_TEST_SCENARIO_H_
#define TQS1_TESTING_TEST_SCENARIO_H_

#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"
#include "providers/sentinelone/fake_firewall_rules.h"
#include "providers/threatq/collection_read_builder.h"
#include "testing/builders.h"

namespace tqs1::sync::testing {

// The shared site and builders (testing/builders.h).
using ::tqs1::testing::BlockRule;
using ::tqs1::testing::IpIndicators;
using ::tqs1::testing::kAccountId;
using ::tqs1::testing::kSiteId;
using ::tqs1::testing::kSiteName;

inline constexpr char kCollection[] = "Known C2";
// The hand-made rule SetUpSite() puts into the site.
inline constexpr char kHandMadeRuleName[] = "Block partner VPN";

// The sync "Known C2" -> "HQ" with a plain rule template.
tqs1::v1::SyncConfig TestSync();

// Adds site "HQ" (kSiteId) to `fake` with a hand-made site rule (which
// blocks 192.0.2.77, an address the tests also put in the collection) and an
// inherited account rule named like the sync's rules.
void SetUpSite(sentinelone::FakeFirewallRules& fake);

// Every entry of the site's rules that tqs1 manages for kCollection (name
// scheme and ownership marker), sorted, duplicates kept.
std::vector<std::string> ManagedAddresses(
    const sentinelone::FakeFirewallRules& fake);

// The names of the site's rules, sorted.
std::vector<std::string> RuleNames(const sentinelone::FakeFirewallRules& fake);

// "+ Known C2 (1) +5 | ~ Known C2 (2) +1 -2 | - Known C2 (3) -4"
std::string ActionsLine(const tqs1::v1::Plan& plan);

}  // namespace tqs1::sync::testing

#endif  // TQS1_TESTING_TEST_SCENARIO_H_

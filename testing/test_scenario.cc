#include "testing/test_scenario.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reconciler/ownership.h"

namespace tqs1::sync::testing {

using ::tqs1::v1::Rule;

tqs1::v1::SyncConfig TestSync() {
  tqs1::v1::SyncConfig sync;
  sync.set_collection(kCollection);
  sync.set_site(kSiteName);
  sync.mutable_rule()->set_description("Blocked by ThreatQ");
  sync.mutable_rule()->set_enabled(true);
  return sync;
}

void SetUpSite(sentinelone::FakeFirewallRules& fake) {
  fake.AddSite(kSiteId, kSiteName, kAccountId);
  fake.AddSite("1758952600032266999", "Branch", kAccountId);
  fake.PutRule(kSiteId, BlockRule(kHandMadeRuleName, "made by hand",
                                  {"192.0.2.77", "198.51.100.9"}));
  // An account rule of the sync's name scheme: its name is taken. It
  // blocks an address no test wants, so that it covers nothing the site's
  // rules must hold.
  Rule inherited = BlockRule(absl::StrCat(kCollection, " (1)"),
                             reconciler::DescriptionWithMarker("account-wide"),
                             {"203.0.113.254"});
  inherited.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  fake.PutRule(kSiteId, inherited);
}

std::vector<std::string> ManagedAddresses(
    const sentinelone::FakeFirewallRules& fake) {
  std::vector<std::string> out;
  for (const Rule& rule : fake.SiteRules(kSiteId)) {
    if (!reconciler::ManagedNameIndex(kCollection, rule.name()).has_value() ||
        !reconciler::HasOwnershipMarker(rule.description())) {
      continue;
    }
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      out.insert(out.end(), hosts.values().begin(), hosts.values().end());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> RuleNames(const sentinelone::FakeFirewallRules& fake) {
  std::vector<std::string> names;
  for (const Rule& rule : fake.SiteRules(kSiteId)) names.push_back(rule.name());
  std::sort(names.begin(), names.end());
  return names;
}

std::string ActionsLine(const tqs1::v1::Plan& plan) {
  std::vector<std::string> parts;
  for (const tqs1::v1::Action& a : plan.actions()) {
    std::string part;
    switch (a.kind()) {
      case tqs1::v1::ACTION_KIND_CREATE:
        part = "+ ";
        break;
      case tqs1::v1::ACTION_KIND_UPDATE:
        part = "~ ";
        break;
      default:
        part = "- ";
        break;
    }
    absl::StrAppend(&part, a.name());
    if (a.add_size() > 0) absl::StrAppend(&part, " +", a.add_size());
    if (a.remove_size() > 0) absl::StrAppend(&part, " -", a.remove_size());
    parts.push_back(std::move(part));
  }
  return absl::StrJoin(parts, " | ");
}

}  // namespace tqs1::sync::testing

#include "providers/sentinelone/fake_firewall_rules.h"

#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "providers/sentinelone/wire.h"

namespace tqs1::sentinelone {
namespace {

using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

// What the wire does to a rule on its way to SentinelOne and back: hosts
// re-split into "addresses" and "cidr", unknown enum values dropped.
Rule AsStored(const Rule& rule) {
  nlohmann::json data = RuleToWireData(rule);
  data["id"] = "0";
  absl::StatusOr<Rule> back = RuleFromJson(data, "fake");
  return back.ok() ? *std::move(back) : rule;
}

}  // namespace

void FakeFirewallRules::AddSite(absl::string_view id, absl::string_view name,
                                absl::string_view account_id, bool active) {
  absl::MutexLock lock(&mu_);
  Site& site = sites_[std::string(id)];
  site.name = std::string(name);
  site.account_id = std::string(account_id);
  site.active = active;
}

void FakeFirewallRules::SetFirewallConfiguration(
    absl::string_view site_id, v1::FirewallConfiguration config) {
  absl::MutexLock lock(&mu_);
  auto site = sites_.find(site_id);
  // A test that configures a site it never added is wrong.
  if (site == sites_.end()) std::abort();
  site->second.firewall = std::move(config);
}

void FakeFirewallRules::AddGroup(absl::string_view id,
                                 absl::string_view site_id,
                                 absl::string_view name) {
  absl::MutexLock lock(&mu_);
  // A test that adds a group to a site it never added is wrong.
  if (sites_.find(site_id) == sites_.end()) std::abort();
  Group& group = groups_[std::string(id)];
  group.site_id = std::string(site_id);
  group.name = std::string(name);
}

std::string FakeFirewallRules::PutRule(absl::string_view site_id, Rule rule) {
  absl::MutexLock lock(&mu_);
  auto site = sites_.find(site_id);
  if (site == sites_.end()) {
    // A test that puts rules into a site it never added is wrong.
    std::abort();
  }
  if (rule.id().empty()) rule.set_id(NewId());
  switch (rule.scope()) {
    case v1::RULE_SCOPE_ACCOUNT:
      rule.set_scope_id(site->second.account_id);
      account_rules_[site->second.account_id].push_front(rule);
      break;
    case v1::RULE_SCOPE_GLOBAL:
      rule.clear_scope_id();
      global_rules_.push_front(rule);
      break;
    case v1::RULE_SCOPE_GROUP: {
      auto group = groups_.find(rule.scope_id());
      // A test that puts rules into a group of another site is wrong.
      if (group == groups_.end() || group->second.site_id != site_id) {
        std::abort();
      }
      group->second.rules.push_front(rule);
      break;
    }
    default:
      rule.set_scope(v1::RULE_SCOPE_SITE);
      rule.set_scope_id(std::string(site_id));
      site->second.rules.push_front(rule);
      break;
  }
  return rule.id();
}

std::vector<Rule> FakeFirewallRules::SiteRules(
    absl::string_view site_id) const {
  absl::MutexLock lock(&mu_);
  auto site = sites_.find(site_id);
  if (site == sites_.end()) return {};
  return std::vector<Rule>(site->second.rules.begin(),
                           site->second.rules.end());
}

std::vector<std::string> FakeFirewallRules::Requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

void FakeFirewallRules::FailNext(Method method, absl::Status status,
                                 int times) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < times; ++i) faults_[method].before.push_back(status);
}

void FakeFirewallRules::FailNextAfterApplying(Method method,
                                              absl::Status status) {
  absl::MutexLock lock(&mu_);
  faults_[method].after.push_back(std::move(status));
}

int64_t FakeFirewallRules::WriteCount() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

absl::Status FakeFirewallRules::TakeFaultBefore(Method method) {
  auto it = faults_.find(method);
  if (it == faults_.end() || it->second.before.empty()) {
    return absl::OkStatus();
  }
  absl::Status status = std::move(it->second.before.front());
  it->second.before.pop_front();
  return status;
}

absl::Status FakeFirewallRules::TakeFaultAfter(Method method) {
  auto it = faults_.find(method);
  if (it == faults_.end() || it->second.after.empty()) {
    return absl::OkStatus();
  }
  absl::Status status = std::move(it->second.after.front());
  it->second.after.pop_front();
  return status;
}

std::string FakeFirewallRules::NewId() {
  // 18 digits, like SentinelOne's.
  return absl::StrCat(100000000000000000ULL + ++next_id_);
}

absl::StatusOr<std::string> FakeFirewallRules::FindSite(
    const SiteSelector& want) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(absl::StrCat("FindSite ", want.id.empty() ? "" : "id ",
                                   want.id.empty() ? want.name : want.id));
  if (absl::Status s = TakeFaultBefore(Method::kFindSite); !s.ok()) return s;
  // Like the console's filters (a name filter which tqs1 treats as possibly
  // case-insensitive): candidates that PickSite then narrows exactly.
  std::vector<SiteSummary> candidates;
  for (const auto& [id, site] : sites_) {
    const bool listed =
        want.id.empty()
            ? site.active && absl::EqualsIgnoreCase(site.name, want.name)
            : id == want.id;
    if (listed) {
      candidates.push_back({id, site.name, site.account_id, "",
                            site.active ? "active" : "expired"});
    }
  }
  absl::StatusOr<std::string> picked = PickSite(want, candidates);
  if (picked.status().code() == absl::StatusCode::kNotFound &&
      want.id.empty()) {
    // Near matches among every active site, as the client lists them.
    std::vector<SiteSummary> active;
    for (const auto& [id, site] : sites_) {
      if (site.active) {
        active.push_back({id, site.name, site.account_id, "", "active"});
      }
    }
    picked = NoSuchSiteError(want, active);
  }
  if (absl::Status s = TakeFaultAfter(Method::kFindSite); !s.ok()) return s;
  return picked;
}

absl::StatusOr<std::string> FakeFirewallRules::FindAccount(
    absl::string_view name_or_id) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(absl::StrCat("FindAccount ", name_or_id));
  std::set<std::string> accounts;
  for (const auto& [id, site] : sites_) {
    if (!site.active || site.account_id.empty()) continue;
    if (site.account_id == name_or_id) return site.account_id;
    accounts.insert(site.account_id);
  }
  return absl::NotFoundError(
      absl::StrCat("no SentinelOne account with an active site has the id \"",
                   name_or_id, "\"; the accounts with active sites are ",
                   accounts.empty() ? "none" : absl::StrJoin(accounts, ", ")));
}

absl::StatusOr<std::string> FakeFirewallRules::FindGroup(
    absl::string_view site_id, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(absl::StrCat("FindGroup ", site_id, " ", name));
  std::map<std::string, std::string> groups;  // name by id
  for (const auto& [id, group] : groups_) {
    if (group.site_id == site_id) groups[id] = group.name;
  }
  return PickGroup(site_id, name, groups);
}

// The request's words for `scope`: "17589..." for a site (as before
// accounts), "account 1286..." for an account, "the global scope".
std::string FakeFirewallRules::ScopeWords(const Scope& scope) {
  return scope.site() ? scope.id : scope.Label();
}

std::deque<Rule>* FakeFirewallRules::RulesOf(const Scope& scope,
                                             bool active_only) {
  if (scope.kind == v1::RULE_SCOPE_GLOBAL) return &global_rules_;
  if (scope.kind == v1::RULE_SCOPE_GROUP) {
    auto group = groups_.find(scope.id);
    return group == groups_.end() ? nullptr : &group->second.rules;
  }
  if (scope.kind == v1::RULE_SCOPE_ACCOUNT) {
    for (const auto& [id, site] : sites_) {
      if (site.account_id == scope.id) return &account_rules_[scope.id];
    }
    return nullptr;
  }
  auto site = sites_.find(scope.id);
  if (site == sites_.end() || (active_only && !site->second.active)) {
    return nullptr;
  }
  return &site->second.rules;
}

absl::StatusOr<ObservedState> FakeFirewallRules::ReadSite(const Scope& scope) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(absl::StrCat("ReadSite ", ScopeWords(scope)));
  if (absl::Status s = TakeFaultBefore(Method::kReadSite); !s.ok()) return s;
  ObservedState observed;
  observed.set_site_id(scope.id);
  if (!scope.site()) observed.set_scope(scope.kind);
  std::string account_id = scope.kind == v1::RULE_SCOPE_ACCOUNT ? scope.id : "";
  auto site = scope.site() ? sites_.find(scope.id) : sites_.end();
  auto group = scope.kind == v1::RULE_SCOPE_GROUP ? groups_.find(scope.id)
                                                  : groups_.end();
  if (group != groups_.end()) {
    observed.set_site_name(group->second.name);
    for (const Rule& r : group->second.rules) *observed.add_rules() = r;
    site = sites_.find(group->second.site_id);
  }
  // An unknown site or group id matches no rule, as the console's filter
  // does. A group's read holds its site's rules, not its name or
  // configuration.
  if (site != sites_.end()) {
    if (scope.site()) {
      observed.set_site_name(site->second.name);
      *observed.mutable_firewall() = site->second.firewall;
    }
    for (const Rule& r : site->second.rules) *observed.add_rules() = r;
    account_id = site->second.account_id;
  }
  if (site != sites_.end() || scope.kind == v1::RULE_SCOPE_ACCOUNT ||
      scope.kind == v1::RULE_SCOPE_GLOBAL) {
    auto account = account_rules_.find(account_id);
    if (account != account_rules_.end()) {
      for (const Rule& r : account->second) *observed.add_rules() = r;
    }
    for (const Rule& r : global_rules_) *observed.add_rules() = r;
  }
  if (absl::Status s = TakeFaultAfter(Method::kReadSite); !s.ok()) return s;
  return observed;
}

absl::StatusOr<Rule> FakeFirewallRules::CreateRule(const Scope& scope,
                                                   const Rule& rule) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(
      absl::StrCat("CreateRule ", ScopeWords(scope), " ", rule.name()));
  if (absl::Status s = TakeFaultBefore(Method::kCreateRule); !s.ok()) return s;
  if (absl::Status s = ValidateRuleForWrite(rule); !s.ok()) return s;
  std::deque<Rule>* rules = RulesOf(scope, /*active_only=*/true);
  if (rules == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no active ", scope.Noun(), " with id ", scope.id));
  }
  for (const Rule& existing : *rules) {
    if (existing.name() == rule.name()) {
      return absl::AlreadyExistsError(
          absl::StrCat("a rule named \"", rule.name(), "\" already exists in ",
                       scope.Label(), " (id ", existing.id(), ")"));
    }
  }
  Rule stored = AsStored(rule);
  stored.set_id(NewId());
  stored.set_scope(scope.kind);
  stored.set_scope_id(scope.id);
  rules->push_front(stored);
  ++writes_;
  if (absl::Status s = TakeFaultAfter(Method::kCreateRule); !s.ok()) return s;
  return stored;
}

absl::StatusOr<Rule> FakeFirewallRules::UpdateRule(const Scope& scope,
                                                   const Rule& rule) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(
      absl::StrCat("UpdateRule ", ScopeWords(scope), " ", rule.id()));
  if (absl::Status s = TakeFaultBefore(Method::kUpdateRule); !s.ok()) return s;
  if (absl::Status s = ValidateRuleForWrite(rule); !s.ok()) return s;
  std::deque<Rule>* rules = RulesOf(scope, /*active_only=*/false);
  Rule* target = nullptr;
  if (rules != nullptr) {
    for (Rule& existing : *rules) {
      if (existing.id() == rule.id()) target = &existing;
    }
  }
  if (target == nullptr) {
    return absl::NotFoundError(absl::StrCat("firewall rule ", rule.id(),
                                            " not found in ", scope.Label()));
  }
  for (const Rule& other : *rules) {
    if (other.id() != rule.id() && other.name() == rule.name()) {
      return absl::AlreadyExistsError(
          absl::StrCat("a rule named \"", rule.name(), "\" already exists in ",
                       scope.Label(), " (id ", other.id(), ")"));
    }
  }
  Rule stored = AsStored(rule);
  stored.set_id(rule.id());
  stored.set_scope(scope.kind);
  stored.set_scope_id(scope.id);
  *target = stored;
  ++writes_;
  if (absl::Status s = TakeFaultAfter(Method::kUpdateRule); !s.ok()) return s;
  return stored;
}

absl::Status FakeFirewallRules::DeleteRule(const Scope& scope,
                                           absl::string_view rule_id) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(
      absl::StrCat("DeleteRule ", ScopeWords(scope), " ", rule_id));
  if (absl::Status s = TakeFaultBefore(Method::kDeleteRule); !s.ok()) return s;
  if (std::deque<Rule>* rules = RulesOf(scope, /*active_only=*/false)) {
    for (auto it = rules->begin(); it != rules->end(); ++it) {
      if (it->id() == rule_id) {
        rules->erase(it);
        ++writes_;
        break;
      }
    }
  }
  return TakeFaultAfter(Method::kDeleteRule);
}

}  // namespace tqs1::sentinelone

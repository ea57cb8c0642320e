#include "testing/invariant_checker.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "reconciler/ownership.h"

namespace tqs1::sync::testing {

using ::tqs1::v1::Rule;

InvariantChecker::InvariantChecker(sentinelone::FakeFirewallRules& fake,
                                   std::string site_id, std::string collection,
                                   int max_per_rule)
    : fake_(fake),
      site_id_(std::move(site_id)),
      collection_(std::move(collection)),
      max_per_rule_(max_per_rule) {}

bool InvariantChecker::IsManaged(const Rule& rule) const {
  return reconciler::ManagedNameIndex(collection_, rule.name()).has_value() &&
         reconciler::HasOwnershipMarker(rule.description());
}

void InvariantChecker::Violation(std::string what) {
  if (violations_.size() < 100) violations_.push_back(std::move(what));
}

void InvariantChecker::StartRound(std::set<std::string> desired) {
  desired_ = std::move(desired);
  protected_.clear();
  RefreshForeign();
  Check();
}

void InvariantChecker::RefreshForeign() {
  foreign_.clear();
  for (const Rule& rule : fake_.SiteRules(site_id_)) {
    if (!IsManaged(rule)) foreign_[rule.id()] = rule.SerializeAsString();
  }
}

void InvariantChecker::Check() {
  ++checks_;
  const std::vector<Rule> rules = fake_.SiteRules(site_id_);
  std::set<std::string> names;
  std::set<std::string> blocked;
  std::set<std::string> seen_foreign;
  for (const Rule& rule : rules) {
    if (!names.insert(rule.name()).second) {
      Violation(absl::StrCat("two rules are named \"", rule.name(), "\""));
    }
    auto foreign = foreign_.find(rule.id());
    if (foreign != foreign_.end()) {
      seen_foreign.insert(rule.id());
      if (foreign->second != rule.SerializeAsString()) {
        Violation(absl::StrCat("foreign rule \"", rule.name(), "\" (id ",
                               rule.id(), ") was changed"));
      }
      continue;
    }
    if (!IsManaged(rule)) {
      Violation(absl::StrCat("rule \"", rule.name(), "\" (id ", rule.id(),
                             ") appeared without being tqs1's"));
      continue;
    }
    int entries = 0;
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      for (const std::string& value : hosts.values()) {
        ++entries;
        blocked.insert(value);
      }
    }
    if (entries > max_per_rule_) {
      Violation(absl::StrCat("rule \"", rule.name(), "\" holds ", entries,
                             " entries, over the limit of ", max_per_rule_));
    }
  }
  for (const auto& [id, unused] : foreign_) {
    if (seen_foreign.count(id) == 0) {
      Violation(absl::StrCat("foreign rule ", id, " was deleted"));
    }
  }
  for (const std::string& address : protected_) {
    if (blocked.count(address) == 0) {
      Violation(absl::StrCat("wanted address ", address,
                             " was unblocked after being blocked"));
    }
  }
  for (const std::string& address : blocked) {
    if (desired_.count(address) > 0) protected_.insert(address);
  }
}

void InvariantChecker::AfterWrite(const absl::Status& status) {
  ++writes_;
  if (!status.ok()) ++failed_writes_;
  Check();
}

absl::StatusOr<std::string> InvariantChecker::FindSite(
    absl::string_view site_name) {
  return fake_.FindSite(site_name);
}

absl::StatusOr<tqs1::v1::ObservedState> InvariantChecker::ReadSite(
    absl::string_view site_id) {
  return fake_.ReadSite(site_id);
}

absl::StatusOr<Rule> InvariantChecker::CreateRule(absl::string_view site_id,
                                                  const Rule& rule) {
  if (before_write_) before_write_(Method::kCreateRule);
  absl::StatusOr<Rule> result = fake_.CreateRule(site_id, rule);
  AfterWrite(result.status());
  return result;
}

absl::StatusOr<Rule> InvariantChecker::UpdateRule(absl::string_view site_id,
                                                  const Rule& rule) {
  if (before_write_) before_write_(Method::kUpdateRule);
  absl::StatusOr<Rule> result = fake_.UpdateRule(site_id, rule);
  AfterWrite(result.status());
  return result;
}

absl::Status InvariantChecker::DeleteRule(absl::string_view site_id,
                                          absl::string_view rule_id) {
  if (before_write_) before_write_(Method::kDeleteRule);
  absl::Status status = fake_.DeleteRule(site_id, rule_id);
  AfterWrite(status);
  return status;
}

}  // namespace tqs1::sync::testing

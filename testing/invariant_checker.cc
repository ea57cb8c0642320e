#include "testing/invariant_checker.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "reconciler/invariants.h"

namespace tqs1::sync::testing {

namespace {

using ::tqs1::v1::Rule;

// The rules of `site` that are tqs1's (`managed`) or not.
std::vector<Rule> Select(const tqs1::v1::ObservedState& site,
                         absl::string_view collection, bool managed) {
  std::vector<Rule> out;
  for (const Rule& rule : site.rules()) {
    if (reconciler::IsManagedRule(rule, site, collection) == managed) {
      out.push_back(rule);
    }
  }
  return out;
}

}  // namespace

InvariantChecker::InvariantChecker(sentinelone::FakeFirewallRules& fake,
                                   std::string site_id, std::string collection,
                                   int max_per_rule)
    : fake_(fake),
      site_id_(std::move(site_id)),
      scope_{std::move(collection), max_per_rule} {}

tqs1::v1::ObservedState InvariantChecker::SiteNow() const {
  tqs1::v1::ObservedState site;
  site.set_site_id(site_id_);
  for (Rule& rule : fake_.SiteRules(site_id_)) {
    *site.add_rules() = std::move(rule);
  }
  return site;
}

void InvariantChecker::Violation(std::string what) {
  if (violations_.size() < 100) violations_.push_back(std::move(what));
}

void InvariantChecker::StartRound(std::set<std::string> desired) {
  absl::StatusOr<std::set<reconciler::IpPrefix>> prefixes =
      reconciler::WantedPrefixes(desired);
  if (!prefixes.ok()) Violation(std::string(prefixes.status().message()));
  wanted_ =
      prefixes.ok() ? *std::move(prefixes) : std::set<reconciler::IpPrefix>();
  const tqs1::v1::ObservedState now = SiteNow();
  foreign_ = Select(now, scope_.collection, /*managed=*/false);
  managed_ = Select(now, scope_.collection, /*managed=*/true);
  Check();
}

void InvariantChecker::RefreshForeign() {
  foreign_ = Select(SiteNow(), scope_.collection, /*managed=*/false);
}

void InvariantChecker::Check() {
  ++checks_;
  tqs1::v1::ObservedState before;
  before.set_site_id(site_id_);
  for (const auto* rules : {&foreign_, &managed_}) {
    for (const Rule& rule : *rules) *before.add_rules() = rule;
  }
  const tqs1::v1::ObservedState now = SiteNow();
  for (std::string& line :
       reconciler::Violations(before, now, wanted_, scope_)) {
    Violation(std::move(line));
  }
  managed_ = Select(now, scope_.collection, /*managed=*/true);
}

void InvariantChecker::AfterWrite(const absl::Status& status) {
  ++writes_;
  if (!status.ok()) ++failed_writes_;
  Check();
}

absl::StatusOr<std::string> InvariantChecker::FindSite(
    const sentinelone::SiteSelector& site) {
  return fake_.FindSite(site);
}

absl::StatusOr<std::string> InvariantChecker::FindAccount(
    absl::string_view name_or_id) {
  return fake_.FindAccount(name_or_id);
}

absl::StatusOr<std::string> InvariantChecker::FindGroup(
    absl::string_view site_id, absl::string_view name) {
  return fake_.FindGroup(site_id, name);
}

absl::StatusOr<tqs1::v1::ObservedState> InvariantChecker::ReadSite(
    const sentinelone::Scope& scope) {
  return fake_.ReadSite(scope);
}

absl::StatusOr<Rule> InvariantChecker::CreateRule(
    const sentinelone::Scope& scope, const Rule& rule) {
  if (before_write_) before_write_(Method::kCreateRule);
  absl::StatusOr<Rule> result = fake_.CreateRule(scope, rule);
  AfterWrite(result.status());
  return result;
}

absl::StatusOr<Rule> InvariantChecker::UpdateRule(
    const sentinelone::Scope& scope, const Rule& rule) {
  if (before_write_) before_write_(Method::kUpdateRule);
  absl::StatusOr<Rule> result = fake_.UpdateRule(scope, rule);
  AfterWrite(result.status());
  return result;
}

absl::Status InvariantChecker::DeleteRule(const sentinelone::Scope& scope,
                                          absl::string_view rule_id) {
  if (before_write_) before_write_(Method::kDeleteRule);
  absl::Status status = fake_.DeleteRule(scope, rule_id);
  AfterWrite(status);
  return status;
}

}  // namespace tqs1::sync::testing

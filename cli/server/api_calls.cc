#include "cli/server/api_calls.h"

#include <utility>

namespace tqs1::server {
namespace {

constexpr char kThreatQ[] = "threatq";
constexpr char kSentinelOne[] = "sentinelone";

}  // namespace

void ApiCallCounter::Record(absl::string_view vendor,
                            absl::string_view operation,
                            const absl::Status& status) {
  ApiCallKey key{std::string(vendor), std::string(operation),
                 absl::StatusCodeToString(status.code())};
  absl::MutexLock lock(&mu_);
  ++counts_[std::move(key)];
}

std::map<ApiCallKey, uint64_t> ApiCallCounter::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

absl::StatusOr<threatq::CollectionRead> CountingIndicatorSource::ReadCollection(
    absl::string_view collection) {
  absl::StatusOr<threatq::CollectionRead> result =
      base_->ReadCollection(collection);
  counter_->Record(kThreatQ, "read_collection", result.status());
  return result;
}

absl::StatusOr<std::string> CountingFirewallRules::FindSite(
    const sentinelone::SiteSelector& site) {
  absl::StatusOr<std::string> result = base_->FindSite(site);
  counter_->Record(kSentinelOne, "find_site", result.status());
  return result;
}

absl::StatusOr<std::string> CountingFirewallRules::FindAccount(
    absl::string_view name_or_id) {
  absl::StatusOr<std::string> result = base_->FindAccount(name_or_id);
  counter_->Record(kSentinelOne, "find_account", result.status());
  return result;
}

absl::StatusOr<std::string> CountingFirewallRules::FindGroup(
    absl::string_view site_id, absl::string_view name) {
  absl::StatusOr<std::string> result = base_->FindGroup(site_id, name);
  counter_->Record(kSentinelOne, "find_group", result.status());
  return result;
}

absl::StatusOr<tqs1::v1::ObservedState> CountingFirewallRules::ReadSite(
    const sentinelone::Scope& scope) {
  absl::StatusOr<tqs1::v1::ObservedState> result = base_->ReadSite(scope);
  counter_->Record(kSentinelOne, "read_site", result.status());
  return result;
}

absl::StatusOr<tqs1::v1::Rule> CountingFirewallRules::CreateRule(
    const sentinelone::Scope& scope, const tqs1::v1::Rule& rule) {
  absl::StatusOr<tqs1::v1::Rule> result = base_->CreateRule(scope, rule);
  counter_->Record(kSentinelOne, "create_rule", result.status());
  return result;
}

absl::StatusOr<tqs1::v1::Rule> CountingFirewallRules::UpdateRule(
    const sentinelone::Scope& scope, const tqs1::v1::Rule& rule) {
  absl::StatusOr<tqs1::v1::Rule> result = base_->UpdateRule(scope, rule);
  counter_->Record(kSentinelOne, "update_rule", result.status());
  return result;
}

absl::Status CountingFirewallRules::DeleteRule(const sentinelone::Scope& scope,
                                               absl::string_view rule_id) {
  absl::Status result = base_->DeleteRule(scope, rule_id);
  counter_->Record(kSentinelOne, "delete_rule", result);
  return result;
}

}  // namespace tqs1::server

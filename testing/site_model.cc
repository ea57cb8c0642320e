#include "testing/site_model.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reconciler/ownership.h"
#include "reconciler/rule_edit.h"
#include "testing/builders.h"

namespace tqs1::reconciler::testing {
namespace {

// A site rule as the console returns it: addresses and CIDR blocks in two
// host sets.
tqs1::v1::Rule BaseRule(const std::string& id, const std::string& name,
                        const std::string& description,
                        const std::vector<std::string>& values) {
  tqs1::v1::Rule rule = ::tqs1::testing::BlockRule(name, description, {});
  rule.set_id(id);
  rule.set_scope(tqs1::v1::RULE_SCOPE_SITE);
  rule.set_scope_id(kSiteId);
  rule.clear_remote_hosts();
  tqs1::v1::HostSet addresses, cidrs;
  addresses.set_type("addresses");
  cidrs.set_type("cidr");
  for (const std::string& v : values) {
    (v.find('/') == std::string::npos ? addresses : cidrs).add_values(v);
  }
  if (addresses.values_size() > 0) *rule.add_remote_hosts() = addresses;
  if (cidrs.values_size() > 0) *rule.add_remote_hosts() = cidrs;
  return rule;
}

}  // namespace

tqs1::v1::DesiredState Desired(const std::string& collection,
                               const std::vector<std::string>& values) {
  tqs1::v1::DesiredState desired;
  tqs1::v1::SyncConfig* sync = desired.mutable_sync();
  sync->set_collection(collection);
  sync->set_site("HQ");
  sync->mutable_rule()->set_description("Blocked by ThreatQ");
  sync->mutable_rule()->set_enabled(true);
  desired.mutable_values()->Assign(values.begin(), values.end());
  return desired;
}

tqs1::v1::Rule ManagedRule(const std::string& id, const std::string& name,
                           const std::vector<std::string>& values,
                           bool marked) {
  return BaseRule(id, name,
                  marked ? DescriptionWithMarker("Blocked by ThreatQ")
                         : "Blocked by ThreatQ",
                  values);
}

tqs1::v1::Rule ForeignRule(const std::string& id, const std::string& name,
                           const std::vector<std::string>& values) {
  return BaseRule(id, name, "made by hand", values);
}

tqs1::v1::ObservedState Site(const std::vector<tqs1::v1::Rule>& rules) {
  tqs1::v1::ObservedState site;
  site.set_site_id(kSiteId);
  site.set_site_name("HQ");
  for (const tqs1::v1::Rule& rule : rules) *site.add_rules() = rule;
  return site;
}

std::string ActionsText(const tqs1::v1::Plan& plan) {
  std::vector<std::string> lines;
  for (const tqs1::v1::Action& a : plan.actions()) {
    std::string line;
    switch (a.kind()) {
      case tqs1::v1::ACTION_KIND_CREATE:
        line = "+ create ";
        break;
      case tqs1::v1::ACTION_KIND_UPDATE:
        line = "~ update ";
        break;
      default:
        line = "- delete ";
        break;
    }
    absl::StrAppend(&line, a.name());
    if (a.add_size() > 0) absl::StrAppend(&line, " +", a.add_size());
    if (a.remove_size() > 0) absl::StrAppend(&line, " -", a.remove_size());
    lines.push_back(std::move(line));
  }
  return absl::StrJoin(lines, "\n");
}

std::vector<std::string> Entries(const tqs1::v1::Rule& rule) {
  std::vector<std::string> out;
  for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
    out.insert(out.end(), hosts.values().begin(), hosts.values().end());
  }
  return out;
}

SiteModel::SiteModel(const tqs1::v1::ObservedState& observed)
    : state_(observed) {}

absl::Status SiteModel::Apply(const tqs1::v1::Action& action) {
  auto* rules = state_.mutable_rules();
  if (action.kind() == tqs1::v1::ACTION_KIND_CREATE) {
    absl::StatusOr<tqs1::v1::Rule> rule = RuleAfter(nullptr, action);
    if (!rule.ok()) return rule.status();
    rule->set_id(absl::StrCat("8000000000000", 10000 + next_id_++));
    rule->set_scope_id(state_.site_id());
    *rules->Add() = *std::move(rule);
    return absl::OkStatus();
  }
  for (int k = 0; k < rules->size(); ++k) {
    if (rules->Get(k).id() != action.rule_id()) continue;
    if (action.kind() == tqs1::v1::ACTION_KIND_DELETE) {
      rules->DeleteSubrange(k, 1);
      return absl::OkStatus();
    }
    absl::StatusOr<tqs1::v1::Rule> rule = RuleAfter(&rules->Get(k), action);
    if (!rule.ok()) return rule.status();
    *rules->Mutable(k) = *std::move(rule);
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no rule ", action.rule_id()));
}

absl::Status SiteModel::ApplyAll(
    const tqs1::v1::Plan& plan,
    const std::function<void(const tqs1::v1::Action&)>& after_each) {
  for (const tqs1::v1::Action& action : plan.actions()) {
    absl::Status status = Apply(action);
    if (!status.ok()) return status;
    if (after_each) after_each(action);
  }
  return absl::OkStatus();
}

}  // namespace tqs1::reconciler::testing

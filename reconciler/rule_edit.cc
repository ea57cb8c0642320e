#include "reconciler/rule_edit.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tqs1::reconciler {

absl::StatusOr<tqs1::v1::Rule> RuleAfter(const tqs1::v1::Rule* before,
                                         const tqs1::v1::Action& action) {
  const bool create = action.kind() == tqs1::v1::ACTION_KIND_CREATE;
  if (!create && action.kind() != tqs1::v1::ACTION_KIND_UPDATE) {
    return absl::FailedPreconditionError(
        absl::StrCat("action on rule \"", action.name(),
                     "\" is neither a create nor an update"));
  }
  if (!create && before == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "update of rule \"", action.name(), "\" without the rule"));
  }

  tqs1::v1::Rule after;
  if (!create) {
    after.set_id(before->id());
    after.set_scope(before->scope());
    after.set_scope_id(before->scope_id());
  } else {
    after.set_scope(tqs1::v1::RULE_SCOPE_SITE);
  }
  const tqs1::v1::RuleSettings& s = action.settings();
  after.set_name(s.name());
  after.set_description(s.description());
  after.set_action(s.action());
  after.set_enabled(s.enabled());
  after.set_direction(s.direction());
  *after.mutable_os_types() = s.os_types();

  absl::flat_hash_map<absl::string_view, int> to_remove;
  for (const std::string& entry : action.remove()) ++to_remove[entry];

  tqs1::v1::HostSet addresses, cidrs;
  addresses.set_type("addresses");
  cidrs.set_type("cidr");
  auto keep = [&](const std::string& value) {
    (value.find('/') == std::string::npos ? addresses : cidrs)
        .add_values(value);
  };
  if (!create) {
    for (const tqs1::v1::HostSet& hosts : before->remote_hosts()) {
      for (const std::string& value : hosts.values()) {
        auto it = to_remove.find(value);
        if (it != to_remove.end() && it->second > 0) {
          --it->second;
          continue;
        }
        keep(value);
      }
    }
  }
  for (const auto& [entry, left] : to_remove) {
    if (left > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the plan removes \"", entry, "\" from rule \"", action.name(),
          "\", which does not hold it: the plan is for another version of "
          "the rule"));
    }
  }
  for (const std::string& value : action.add()) keep(value);
  if (addresses.values_size() > 0) {
    *after.add_remote_hosts() = std::move(addresses);
  }
  if (cidrs.values_size() > 0) *after.add_remote_hosts() = std::move(cidrs);
  return after;
}

}  // namespace tqs1::reconciler

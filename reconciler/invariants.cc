#include "reconciler/invariants.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tqs1::reconciler {
namespace {

using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

int64_t EntryCount(const Rule& rule) {
  int64_t n = 0;
  for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
    n += hosts.values_size();
  }
  return n;
}

// True when the rule's address entries are of both families.
bool HoldsBothFamilies(const Rule& rule) {
  bool v4 = false, v6 = false;
  for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
    for (const std::string& value : hosts.values()) {
      absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(value);
      if (!prefix.ok()) continue;
      (prefix->family() == IpPrefix::Family::kV4 ? v4 : v6) = true;
      if (v4 && v6) return true;
    }
  }
  return false;
}

bool SameRule(const Rule& a, const Rule& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

bool SameEntries(const Rule& a, const Rule& b) {
  if (a.remote_hosts_size() != b.remote_hosts_size()) return false;
  for (int k = 0; k < a.remote_hosts_size(); ++k) {
    const tqs1::v1::HostSet& x = a.remote_hosts(k);
    const tqs1::v1::HostSet& y = b.remote_hosts(k);
    if (x.type() != y.type() || x.values_size() != y.values_size() ||
        !std::equal(x.values().begin(), x.values().end(), y.values().begin())) {
      return false;
    }
  }
  return true;
}

// The rules of `site` by id.
absl::flat_hash_map<absl::string_view, const Rule*> ById(
    const ObservedState& site) {
  absl::flat_hash_map<absl::string_view, const Rule*> out;
  for (const Rule& rule : site.rules()) out.emplace(rule.id(), &rule);
  return out;
}

// Names and ownership, rule by rule of `after`.
void CheckRules(
    const ObservedState& before, const ObservedState& after,
    const absl::flat_hash_map<absl::string_view, const Rule*>& before_by_id,
    const InvariantScope& scope, std::vector<std::string>& out) {
  absl::flat_hash_set<absl::string_view> inherited_names;
  for (const Rule& rule : after.rules()) {
    if (!IsTargetRule(rule, after)) inherited_names.insert(rule.name());
  }
  absl::flat_hash_set<absl::string_view> names;
  // How many rules hold each name, as is and in lower case: a name held
  // more often in lower case is shared with a rule that writes it in
  // another case (SentinelOne may compare names ignoring case).
  absl::flat_hash_map<absl::string_view, int> exact_names;
  absl::flat_hash_map<std::string, int> lower_names;
  for (const Rule& rule : after.rules()) {
    ++exact_names[rule.name()];
    ++lower_names[absl::AsciiStrToLower(rule.name())];
  }
  for (const Rule& rule : after.rules()) {
    auto found = before_by_id.find(rule.id());
    const Rule* old = found == before_by_id.end() ? nullptr : found->second;
    if (IsTargetRule(rule, after)) {
      if (!names.insert(rule.name()).second) {
        out.push_back(
            absl::StrCat("two rules are named \"", rule.name(), "\""));
      }
      bool named_now = old == nullptr || old->name() != rule.name();
      if (named_now && inherited_names.contains(rule.name())) {
        out.push_back(absl::StrCat("rule \"", rule.name(),
                                   "\" has the name of an inherited rule"));
      } else if (named_now && lower_names[absl::AsciiStrToLower(rule.name())] >
                                  exact_names[rule.name()]) {
        out.push_back(absl::StrCat("rule \"", rule.name(), "\" (id ", rule.id(),
                                   ") has the name of another rule of the "
                                   "site, ignoring case"));
      }
    }
    const bool was_ours =
        old != nullptr && IsManagedRule(*old, before, scope.collection);
    const bool ours = IsManagedRule(rule, after, scope.collection);
    if (old == nullptr && !ours) {
      out.push_back(absl::StrCat("rule \"", rule.name(), "\" (id ", rule.id(),
                                 ") appeared without being tqs1's"));
    } else if (old != nullptr && !was_ours && (ours || !SameRule(*old, rule))) {
      out.push_back(absl::StrCat("foreign rule \"", rule.name(), "\" (id ",
                                 rule.id(), ") was changed"));
    } else if (was_ours && !ours) {
      out.push_back(absl::StrCat("rule \"", rule.name(), "\" (id ", rule.id(),
                                 ") lost tqs1's marker or name scheme"));
    }
    if (!ours) continue;
    const bool written = !(was_ours && SameRule(*old, rule));
    if (int64_t entries = EntryCount(rule);
        entries > scope.max_per_rule && written) {
      out.push_back(absl::StrCat("rule \"", rule.name(), "\" holds ", entries,
                                 " entries, over the limit of ",
                                 scope.max_per_rule));
    }
    if (written && HoldsBothFamilies(rule)) {
      out.push_back(absl::StrCat("rule \"", rule.name(), "\" (id ", rule.id(),
                                 ") holds both IPv4 and IPv6 entries"));
    }
  }
}

// Wanted addresses blocked before and not after. Only the managed rules of
// `before` whose entries changed (or that are gone or no longer managed) can
// unblock; the whole of `after` is read only when one of them dropped a
// wanted address.
void CheckUnblocked(const ObservedState& before, const ObservedState& after,
                    const std::set<IpPrefix>& wanted,
                    const InvariantScope& scope,
                    std::vector<std::string>& out) {
  if (wanted.empty()) return;
  const absl::flat_hash_map<absl::string_view, const Rule*> after_by_id =
      ById(after);
  std::set<IpPrefix> dropped;
  for (const Rule& old : before.rules()) {
    if (!IsManagedRule(old, before, scope.collection)) continue;
    auto found = after_by_id.find(old.id());
    const Rule* now = found == after_by_id.end() ? nullptr : found->second;
    if (now != nullptr && !IsManagedRule(*now, after, scope.collection)) {
      now = nullptr;
    }
    if (now != nullptr && SameEntries(old, *now)) continue;
    absl::flat_hash_set<absl::string_view> kept;
    if (now != nullptr) {
      for (const tqs1::v1::HostSet& hosts : now->remote_hosts()) {
        kept.insert(hosts.values().begin(), hosts.values().end());
      }
    }
    for (const tqs1::v1::HostSet& hosts : old.remote_hosts()) {
      for (const std::string& value : hosts.values()) {
        if (kept.contains(value)) continue;
        absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(value);
        if (prefix.ok() && wanted.count(*prefix) > 0) dropped.insert(*prefix);
      }
    }
  }
  if (dropped.empty()) return;
  std::set<IpPrefix> blocked;
  for (const Rule& rule : after.rules()) {
    if (!IsManagedRule(rule, after, scope.collection)) continue;
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      for (const std::string& value : hosts.values()) {
        absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(value);
        if (prefix.ok()) blocked.insert(*prefix);
      }
    }
  }
  for (const IpPrefix& prefix : dropped) {
    if (blocked.count(prefix) == 0) {
      out.push_back(absl::StrCat("wanted address ", prefix.ToString(),
                                 " was unblocked after being blocked"));
    }
  }
}

}  // namespace

absl::StatusOr<std::set<IpPrefix>> WantedPrefixes(
    const std::set<std::string>& addresses) {
  std::set<IpPrefix> out;
  for (const std::string& address : addresses) {
    absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(address);
    if (!prefix.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("wanted address \"", address,
                       "\" does not parse: ", prefix.status().message()));
    }
    out.insert(*prefix);
  }
  return out;
}

std::vector<std::string> Violations(const ObservedState& before,
                                    const ObservedState& after,
                                    const std::set<IpPrefix>& wanted,
                                    const InvariantScope& scope) {
  std::vector<std::string> out;
  const absl::flat_hash_map<absl::string_view, const Rule*> before_by_id =
      ById(before);
  CheckRules(before, after, before_by_id, scope, out);
  absl::flat_hash_set<absl::string_view> after_ids;
  for (const Rule& rule : after.rules()) after_ids.insert(rule.id());
  for (const Rule& old : before.rules()) {
    if (!IsManagedRule(old, before, scope.collection) &&
        !after_ids.contains(old.id())) {
      out.push_back(absl::StrCat("foreign rule ", old.id(), " was deleted"));
    }
  }
  CheckUnblocked(before, after, wanted, scope, out);
  return out;
}

}  // namespace tqs1::reconciler

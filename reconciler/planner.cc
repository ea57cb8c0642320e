#include "reconciler/planner.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "reconciler/address.h"
#include "reconciler/address_space.h"
#include "reconciler/fingerprint.h"
#include "reconciler/format.h"
#include "reconciler/normalize.h"
#include "reconciler/ownership.h"

namespace tqs1::reconciler {
namespace {

using ::tqs1::v1::Action;
using ::tqs1::v1::ActionKind;
using ::tqs1::v1::DesiredState;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Plan;
using ::tqs1::v1::PlanOptions;
using ::tqs1::v1::Rule;
using ::tqs1::v1::RuleSettings;
using ::tqs1::v1::RuleTemplate;

// A managed rule while the plan is worked out.
struct Managed {
  const Rule* rule = nullptr;
  int index = 0;  // the number in its name; 0 for the bare collection name
  bool adopt = false;
  uint64_t entries = 0;  // entries before, of any kind
  // Desired prefixes (indices into the desired vector) it keeps, with the
  // entry text that holds each.
  std::vector<uint32_t> keep;
  std::vector<const std::string*> keep_text;
  // Entries it loses, as written in the rule.
  std::vector<std::string> remove;
  // Entries holding a desired prefix an earlier managed rule keeps (index,
  // entry text): removed, unless that rule sheds the prefix to the family
  // this rule keeps (FindMissing).
  std::vector<std::pair<uint32_t, const std::string*>> duplicates;
  uint64_t removed_unwanted = 0;
  uint64_t removed_duplicate = 0;
  uint64_t removed_invalid = 0;
  uint64_t moved_out = 0;     // over the per-rule limit
  uint64_t moved_family = 0;  // of the family the rule does not keep
  // Valid address entries it holds, by family (duplicates included).
  uint64_t held_v4 = 0;
  uint64_t held_v6 = 0;
  // The family the rule holds after the plan: the majority of what it keeps
  // (IPv4 on a tie); UNSPECIFIED while it keeps nothing and is given
  // nothing.
  tqs1::v1::AddressFamily family = tqs1::v1::ADDRESS_FAMILY_UNSPECIFIED;
  std::vector<std::string> drift;
  // Desired prefixes it gains.
  std::vector<uint32_t> add;

  bool NeedsWrite() const { return !remove.empty() || !drift.empty() || adopt; }
  // It sheds wanted prefixes (over the limit, or of the other family): they
  // must be blocked elsewhere before this rule is written.
  bool Sheds() const { return moved_out > 0 || moved_family > 0; }
};

tqs1::v1::AddressFamily FamilyOf(const IpPrefix& prefix) {
  return prefix.family() == IpPrefix::Family::kV4
             ? tqs1::v1::ADDRESS_FAMILY_IPV4
             : tqs1::v1::ADDRESS_FAMILY_IPV6;
}

// The two families, in the order their actions run.
constexpr tqs1::v1::AddressFamily kFamilies[] = {tqs1::v1::ADDRESS_FAMILY_IPV4,
                                                 tqs1::v1::ADDRESS_FAMILY_IPV6};

int FamilySlot(tqs1::v1::AddressFamily family) {
  return family == tqs1::v1::ADDRESS_FAMILY_IPV6 ? 1 : 0;
}

std::string Count(uint64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(FormatCount(n), " ", n == 1 ? one : many);
}

std::vector<int> SortedOsTypes(const google::protobuf::RepeatedField<int>& os) {
  std::vector<int> v(os.begin(), os.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

RuleSettings DesiredSettings(const RuleTemplate& rule, std::string name,
                             bool enabled) {
  RuleSettings s;
  s.set_name(std::move(name));
  s.set_description(DescriptionWithMarker(rule.description()));
  s.set_action(tqs1::v1::RULE_ACTION_BLOCK);
  s.set_enabled(enabled);
  s.set_direction(rule.direction());
  *s.mutable_os_types() = rule.os_types();
  return s;
}

// What differs between a managed rule's settings and the template's, as a
// console that normalizes what it stores would still call equal: the
// description compared with surrounding whitespace trimmed, OS types as a
// set. (Entries are compared as parsed prefixes by ReadEntries.)
std::vector<std::string> SettingsDrift(const Rule& rule,
                                       const RuleSettings& want) {
  std::vector<std::string> drift;
  if (absl::StripAsciiWhitespace(rule.description()) !=
      absl::StripAsciiWhitespace(want.description())) {
    drift.push_back("description differs");
  }
  if (rule.action() != want.action()) drift.push_back("action is not Block");
  if (rule.direction() != want.direction()) {
    drift.push_back("direction differs");
  }
  if (SortedOsTypes(rule.os_types()) != SortedOsTypes(want.os_types())) {
    drift.push_back("OS types differ");
  }
  return drift;
}

// Finds prefixes in the sorted desired vector. Rules list their entries
// mostly in ascending order, so each search starts where the last one ended
// and gallops forward; out-of-order entries fall back to a binary search.
class DesiredIndex {
 public:
  explicit DesiredIndex(const std::vector<IpPrefix>& desired)
      : desired_(desired) {}

  // The index of `prefix` in the desired vector, or -1.
  int64_t Find(const IpPrefix& prefix) {
    const size_t n = desired_.size();
    size_t lo = 0, hi = n;  // the answer is in [lo, hi]
    if (hint_ < n && desired_[hint_] < prefix) {
      lo = hint_ + 1;
      for (size_t step = 1; lo < n && desired_[lo] < prefix; step *= 2) {
        hint_ = lo;
        lo = std::min(n, lo + step);
      }
      lo = hint_ + 1;
      hi = std::min(n, lo + (lo - hint_) * 2 + 1);
      while (hi < n && desired_[hi] < prefix) hi = std::min(n, hi * 2);
    } else if (hint_ > 0 && hint_ <= n && desired_[hint_ - 1] < prefix) {
      lo = hi = hint_;
    } else {
      hi = std::min(hint_, n);
    }
    size_t at =
        std::lower_bound(desired_.begin() + lo, desired_.begin() + hi, prefix) -
        desired_.begin();
    hint_ = at;
    if (at == n || desired_[at] != prefix) return -1;
    hint_ = at + 1;
    return static_cast<int64_t>(at);
  }

 private:
  const std::vector<IpPrefix>& desired_;
  size_t hint_ = 0;
};

// Reads a managed rule's entries against the desired prefixes. `covered`
// marks desired prefixes already held by an earlier managed rule; `unwanted`
// collects prefixes the site blocks that are not desired; `held`, when not
// null, collects every prefix the rule holds.
void ReadEntries(DesiredIndex& desired, Managed& m, std::vector<bool>& covered,
                 std::vector<IpPrefix>& unwanted, std::vector<IpPrefix>* held) {
  for (const tqs1::v1::HostSet& hosts : m.rule->remote_hosts()) {
    bool address_type = hosts.type() == "addresses" || hosts.type() == "cidr";
    for (const std::string& value : hosts.values()) {
      ++m.entries;
      absl::StatusOr<IpPrefix> prefix =
          address_type ? ParseIpPrefix(value)
                       : absl::StatusOr<IpPrefix>(absl::InvalidArgumentError(
                             "not an address entry"));
      if (!prefix.ok()) {
        m.remove.push_back(value);
        ++m.removed_invalid;
        continue;
      }
      if (held != nullptr) held->push_back(*prefix);
      ++(prefix->family() == IpPrefix::Family::kV4 ? m.held_v4 : m.held_v6);
      int64_t i = desired.Find(*prefix);
      if (i < 0) {
        m.remove.push_back(value);
        ++m.removed_unwanted;
        unwanted.push_back(*prefix);
        continue;
      }
      if (covered[i]) {
        m.duplicates.emplace_back(static_cast<uint32_t>(i), &value);
        continue;
      }
      covered[i] = true;
      m.keep.push_back(static_cast<uint32_t>(i));
      m.keep_text.push_back(&value);
    }
  }
}

void AppendPrefixes(const std::vector<IpPrefix>& desired,
                    const std::vector<uint32_t>& indices,
                    google::protobuf::RepeatedPtrField<std::string>* out) {
  out->Reserve(out->size() + static_cast<int>(indices.size()));
  for (uint32_t i : indices) {
    desired[i].AppendTo(out->Add());
  }
}

std::string GuardMessagePercent(double fraction) {
  return absl::StrFormat("%.4g%%", fraction * 100);
}

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0
                    : static_cast<double>(part) / static_cast<double>(whole);
}

// The address space before the plan (what the managed rules block: the
// desired prefixes they hold, `held[i]`, and the undesired ones, `unwanted`),
// after it (the desired set), and of both together. One merged walk of the
// two sorted vectors, no copy.
struct SpaceBeforeAfter {
  AddressSpace before, after, both;
};

// `inherited[i]`: want[i] is left to an inherited rule, so it is neither
// before nor after the site's own.
SpaceBeforeAfter MeasureSpace(const std::vector<IpPrefix>& want,
                              const std::vector<bool>& held,
                              const std::vector<bool>& inherited,
                              const std::vector<IpPrefix>& unwanted) {
  UnionCounter before, after, both;
  size_t i = 0, j = 0;
  while (i < want.size() || j < unwanted.size()) {
    if (j == unwanted.size() || (i < want.size() && want[i] < unwanted[j])) {
      const IpPrefix& p = want[i];
      if (inherited[i]) {
        ++i;
        continue;
      }
      after.Add(p);
      both.Add(p);
      if (held[i]) before.Add(p);
      ++i;
    } else {
      before.Add(unwanted[j]);
      both.Add(unwanted[j]);
      ++j;
    }
  }
  return {before.Total(), after.Total(), both.Total()};
}

// True when a count of entries says all there is to say about `space`: IPv4
// single addresses only, none overlapping.
bool EntriesAreAddresses(uint64_t entries, const AddressSpace& space) {
  return space.ipv6_networks == 0 && space.ipv4_addresses == entries;
}

// What the unblock-share guard weighs, per family.
struct UnblockWeights {
  uint64_t entries = 0;
  uint64_t entries_total = 0;
  AddressSpace space;
  AddressSpace space_total;
};

// True when unblocking `part` of `whole` (one family, in its unit) is more
// than the guard allows.
bool OverShare(uint64_t part, uint64_t whole, const GuardSettings& guards) {
  return part > guards.unblock_floor &&
         Share(part, whole) > guards.max_unblock_fraction;
}

// "unblocks 201 of 1,000 addresses (20.1%; the limit is 20% above 100
// addresses)" when entries are single IPv4 addresses; otherwise entries and
// space: "unblocks 45 of 1,045 entries: 2,949,120 of 2,950,120 IPv4
// addresses (99.97%; the limit is 20% above 100 addresses)", with IPv6 /64
// networks when the site blocks IPv6.
std::string UnblockShareMessage(const UnblockWeights& w,
                                const GuardSettings& guards) {
  auto limit = [&guards](absl::string_view unit) {
    return absl::StrCat(
        "the limit is ", GuardMessagePercent(guards.max_unblock_fraction),
        " above ", FormatCount(guards.unblock_floor), " ", unit);
  };
  auto part = [&limit](uint64_t n, uint64_t of, absl::string_view unit,
                       absl::string_view floor_unit) {
    return absl::StrCat(FormatCount(n), " of ", FormatCount(of), " ", unit,
                        " (", GuardMessagePercent(Share(n, of)), "; ",
                        limit(floor_unit), ")");
  };
  if (EntriesAreAddresses(w.entries_total, w.space_total) &&
      EntriesAreAddresses(w.entries, w.space)) {
    return absl::StrCat("unblocks ", part(w.entries, w.entries_total,
                                          "addresses", "addresses"));
  }
  std::vector<std::string> parts;
  if (w.space_total.ipv4_addresses > 0 || w.space_total.ipv6_networks == 0) {
    parts.push_back(part(w.space.ipv4_addresses, w.space_total.ipv4_addresses,
                         "IPv4 addresses", "addresses"));
  }
  if (w.space_total.ipv6_networks > 0) {
    parts.push_back(part(w.space.ipv6_networks, w.space_total.ipv6_networks,
                         "IPv6 /64 networks", "/64 networks"));
  }
  return absl::StrCat("unblocks ", FormatCount(w.entries), " of ",
                      FormatCount(w.entries_total),
                      " entries: ", absl::StrJoin(parts, " and "));
}

}  // namespace

RuleTemplate EffectiveTemplate(const RuleTemplate& rule) {
  RuleTemplate out = rule;
  if (out.direction() == tqs1::v1::DIRECTION_UNSPECIFIED) {
    out.set_direction(tqs1::v1::DIRECTION_ANY);
  }
  std::vector<int> os = SortedOsTypes(out.os_types());
  os.erase(std::remove(os.begin(), os.end(), tqs1::v1::OS_TYPE_UNSPECIFIED),
           os.end());
  if (os.empty()) {
    os = {tqs1::v1::OS_TYPE_WINDOWS, tqs1::v1::OS_TYPE_MACOS,
          tqs1::v1::OS_TYPE_LINUX};
  }
  out.mutable_os_types()->Assign(os.begin(), os.end());
  return out;
}

std::string SyncDisplayName(const tqs1::v1::SyncConfig& sync) {
  if (!sync.name().empty()) return sync.name();
  return absl::StrCat(sync.collection(), " -> ", sync.site());
}

tqs1::v1::RuleScope SyncScope(const tqs1::v1::SyncConfig& sync) {
  if (sync.global()) return tqs1::v1::RULE_SCOPE_GLOBAL;
  if (sync.account_scope()) return tqs1::v1::RULE_SCOPE_ACCOUNT;
  if (!sync.group().empty()) return tqs1::v1::RULE_SCOPE_GROUP;
  return tqs1::v1::RULE_SCOPE_SITE;
}

std::string SyncTargetName(const tqs1::v1::SyncConfig& sync) {
  switch (SyncScope(sync)) {
    case tqs1::v1::RULE_SCOPE_GLOBAL:
      return "";
    case tqs1::v1::RULE_SCOPE_ACCOUNT:
      return sync.account();
    case tqs1::v1::RULE_SCOPE_GROUP:
      return sync.group();
    default:
      return sync.site();
  }
}

namespace {

// Everything ComputePlan works out, phase by phase: the inputs, what each
// phase leaves for the next ones, and the plan being filled in.
struct PlanWork {
  PlanWork(const DesiredState& desired, const ObservedState& observed,
           const PlanOptions& options)
      : desired(desired),
        observed(observed),
        options(options),
        sync(desired.sync()),
        collection(sync.collection()),
        sync_name(SyncDisplayName(sync)) {}

  // Inputs.
  const DesiredState& desired;
  const ObservedState& observed;
  const PlanOptions& options;
  const tqs1::v1::SyncConfig& sync;
  const std::string& collection;
  const std::string sync_name;
  uint64_t cap = 0;
  RuleTemplate rule_template;
  GuardSettings guards;

  // The desired prefixes, sorted and unique.
  std::vector<IpPrefix> want;
  // Every rule name of the site, in lower case (SentinelOne may compare
  // names ignoring case); the managed rules by number, then id.
  absl::flat_hash_set<std::string> names_in_use;
  std::vector<Managed> managed;
  // covered[i]: a managed rule keeps want[i]. What the managed rules block
  // that is not wanted, sorted and unique; what they block before the plan.
  std::vector<bool> covered;
  // The inherited rules of this sync of a scope above (IsInheritedSyncRule:
  // its name scheme, tqs1's marker; enabled and readable), and
  // inherited[i]: no managed rule keeps want[i] and one of those blocks
  // it, so it is not missing.
  std::vector<const Rule*> inherited_rules;
  std::vector<bool> inherited;
  std::vector<IpPrefix> unwanted;
  uint64_t blocked_before = 0;
  SpaceBeforeAfter space;
  // Desired prefixes no managed rule keeps, and how many of them a rule
  // shed (over the limit, or of the family it does not keep). The same, per
  // family (kFamilies order): those a rule shed, and the others.
  std::vector<uint32_t> missing;
  uint64_t moved_total = 0;
  std::vector<uint32_t> shed[2];
  std::vector<uint32_t> fresh[2];
  // The desired prefixes of each new rule, its family and its name.
  std::vector<std::vector<uint32_t>> new_rules;
  std::vector<tqs1::v1::AddressFamily> new_families;
  std::vector<std::string> new_names;

  Plan plan;
};

// 0. The sync's settings, and the plan's header.
absl::Status StartPlan(PlanWork& w) {
  if (w.collection.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sync \"", w.sync_name, "\" names no collection"));
  }
  const PlanOptions& options = w.options;
  if (options.max_addresses_per_rule() > kMaxAddressesPerRule) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_addresses_per_rule ", options.max_addresses_per_rule(),
        " is over SentinelOne's limit of ", kMaxAddressesPerRule));
  }
  w.cap = options.max_addresses_per_rule() > 0
              ? options.max_addresses_per_rule()
              : kMaxAddressesPerRule;
  w.rule_template = EffectiveTemplate(w.sync.rule());
  w.guards = GuardSettings::FromProto(w.sync.guards());

  Plan& plan = w.plan;
  plan.set_format(tqs1::v1::PLAN_FORMAT_V1);
  plan.set_sync_name(w.sync_name);
  plan.set_collection(w.collection);
  plan.set_site_name(!w.observed.site_name().empty() ? w.observed.site_name()
                                                     : SyncTargetName(w.sync));
  plan.set_site_id(w.observed.site_id());
  plan.set_scope(TargetScope(w.observed));
  plan.set_observed_fingerprint(ObservedFingerprint(w.observed));
  *plan.mutable_options() = options;
  return absl::OkStatus();
}

// 1. The desired prefixes.
absl::Status NormalizeDesired(PlanWork& w) {
  ASSIGN_OR_RETURN(NeverBlockList never_block,
                   NeverBlockList::Create(w.desired));
  NormalizedValues normalized =
      NormalizeValues(w.desired, never_block, w.guards);
  w.want = std::move(normalized.prefixes);
  *w.plan.mutable_inputs() = std::move(normalized.report);
  *w.plan.mutable_inputs()->mutable_source() = w.desired.source();
  return absl::OkStatus();
}

// A managed rule disabled in the console: an emergency brake tqs1 keeps,
// and says.
void ReportDisabled(const Rule& rule, tqs1::v1::ObservedReport& report) {
  tqs1::v1::ObservedReport::DisabledRule* disabled = report.add_disabled();
  disabled->set_rule_id(rule.id());
  disabled->set_name(rule.name());
  uint64_t entries = 0;
  for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
    entries += hosts.values_size();
  }
  disabled->set_entries(entries);
  report.set_not_enforced(report.not_enforced() + entries);
}

// The scope as the plan names it: "site \"HQ\" (id 9000...)",
// "account \"ACME\" (id 1286...)".
std::string SiteWords(const PlanWork& w) {
  std::string words =
      absl::StrCat(ScopeNoun(w.plan.scope()), " \"", w.plan.site_name(), "\"");
  if (!w.plan.site_id().empty()) {
    absl::StrAppend(&words, " (id ", w.plan.site_id(), ")");
  }
  return words;
}

// 1 (cont.). The site's Firewall Control configuration as read, and a
// warning line for each way the site inherits its parent's firewall.
void ReportFirewall(PlanWork& w) {
  const tqs1::v1::FirewallConfiguration& firewall = w.observed.firewall();
  tqs1::v1::ObservedReport& observed_report = *w.plan.mutable_observed();
  *observed_report.mutable_firewall() = firewall;
  if (!firewall.known()) return;
  if (!firewall.inherited_from().empty()) {
    observed_report.add_warnings(absl::StrCat(
        SiteWords(w), " inherits its firewall policy from \"",
        firewall.inherited_from(),
        "\" (Firewall Control configuration, inheritedFrom): the site's own "
        "rules may not be enforced as planned"));
  }
  if (firewall.inherits_rules()) {
    observed_report.add_warnings(absl::StrCat(
        SiteWords(w),
        " inherits every firewall rule of its parent (Firewall Control "
        "configuration, inheritAllFirewallRules): the parent's rules apply "
        "there too, and the site's own rules may not be enforced as "
        "planned"));
  }
}

// 2. Classify the site's rules: inherited, foreign, conflicts, managed.
void ClassifyRules(PlanWork& w) {
  tqs1::v1::ObservedReport& observed_report = *w.plan.mutable_observed();
  observed_report.set_rules(w.observed.rules_size());
  auto refuse = [&w](const Rule& rule, std::string reason) {
    tqs1::v1::Conflict* conflict = w.plan.add_conflicts();
    conflict->set_rule_id(rule.id());
    conflict->set_name(rule.name());
    conflict->set_reason(std::move(reason));
    conflict->set_blocks(true);
  };
  for (const Rule& rule : w.observed.rules()) {
    w.names_in_use.insert(absl::AsciiStrToLower(rule.name()));
    std::optional<int> index = ManagedNameIndex(w.collection, rule.name());
    bool marked = HasOwnershipMarker(rule.description());
    if (!IsTargetRule(rule, w.observed)) {
      observed_report.set_inherited(observed_report.inherited() + 1);
      // The sync's own rules of a scope above: every site below enforces
      // them, so what they block is not missing here.
      if (IsInheritedSyncRule(rule, w.observed, w.collection) &&
          rule.enabled() && rule.unreadable().empty()) {
        w.inherited_rules.push_back(&rule);
      }
      // Left alone, a rule of this sync read without a usable scope (none,
      // or the scope planned with another id) would be recreated on every
      // run. A rule of another scope (a site's seen from its group,
      // account, global) is inherited.
      const bool unusable_scope =
          rule.scope() == tqs1::v1::RULE_SCOPE_UNSPECIFIED ||
          rule.scope() == TargetScope(w.observed);
      if (index.has_value() && marked && unusable_scope) {
        refuse(rule, absl::StrCat(
                         "has tqs1's marker and a name of this sync but does "
                         "not read as a rule of this ",
                         ScopeNoun(TargetScope(w.observed)), " (scope ",
                         tqs1::v1::RuleScope_Name(rule.scope()),
                         ", scope id \"", rule.scope_id(),
                         "\"); tqs1 cannot tell whether it owns it, and "
                         "would recreate it on every run: check the rule in "
                         "the console"));
      }
      continue;
    }
    if (!index.has_value()) {
      observed_report.set_foreign(observed_report.foreign() + 1);
      continue;
    }
    if (!rule.unreadable().empty()) {
      refuse(rule, absl::StrCat("has a name of this sync but could not be "
                                "read: ",
                                rule.unreadable(),
                                "; tqs1 will not rewrite a rule it cannot "
                                "read: fix or rename it in the console"));
      continue;
    }
    if (rule.read_only() && marked) {
      refuse(rule,
             "has tqs1's marker and a name of this sync but the console "
             "says it cannot be edited at this scope (editable: false): "
             "make it editable or rename it in the console");
      continue;
    }
    if (!marked && !w.options.adopt()) {
      tqs1::v1::Conflict* conflict = w.plan.add_conflicts();
      conflict->set_rule_id(rule.id());
      conflict->set_name(rule.name());
      conflict->set_reason(
          "has a name of this sync but no tqs1 ownership marker; left "
          "untouched (adopt it to manage it)");
      continue;
    }
    Managed m;
    m.rule = &rule;
    m.index = *index;
    m.adopt = !marked;
    w.managed.push_back(std::move(m));
    if (!rule.enabled()) ReportDisabled(rule, observed_report);
  }
  observed_report.set_disabled_rules(observed_report.disabled_size());
  std::sort(w.managed.begin(), w.managed.end(),
            [](const Managed& a, const Managed& b) {
              return std::tie(a.index, a.rule->id()) <
                     std::tie(b.index, b.rule->id());
            });
  observed_report.set_managed(w.managed.size());
}

// 3. What each managed rule keeps and loses; what the site blocks before
// the plan (entries and address space) and what of it is not enforced.
void ReadManagedRules(PlanWork& w) {
  tqs1::v1::ObservedReport& observed_report = *w.plan.mutable_observed();
  w.covered.assign(w.want.size(), false);
  // Only when a rule is disabled: what disabled and enabled rules hold.
  const bool any_disabled = observed_report.disabled_rules() > 0;
  std::vector<IpPrefix> disabled_held, enabled_held;
  DesiredIndex index(w.want);
  for (Managed& m : w.managed) {
    std::vector<IpPrefix>* held = nullptr;
    if (any_disabled) held = m.rule->enabled() ? &enabled_held : &disabled_held;
    ReadEntries(index, m, w.covered, w.unwanted, held);
  }
  w.inherited.assign(w.want.size(), false);
  uint64_t inherited_total = 0;
  for (const Rule* rule : w.inherited_rules) {
    DesiredIndex inherited_index(w.want);
    for (const tqs1::v1::HostSet& hosts : rule->remote_hosts()) {
      if (hosts.type() != "addresses" && hosts.type() != "cidr") continue;
      for (const std::string& value : hosts.values()) {
        absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(value);
        if (!prefix.ok()) continue;
        const int64_t i = inherited_index.Find(*prefix);
        if (i < 0 || w.covered[i] || w.inherited[i]) continue;
        w.inherited[i] = true;
        ++inherited_total;
      }
    }
  }
  observed_report.set_inherited_blocked(inherited_total);
  uint64_t kept_total = 0;
  for (const Managed& m : w.managed) kept_total += m.keep.size();
  std::vector<IpPrefix>& unwanted = w.unwanted;
  SortPrefixes(unwanted);
  unwanted.erase(std::unique(unwanted.begin(), unwanted.end()), unwanted.end());
  w.blocked_before = kept_total + unwanted.size();
  observed_report.set_blocked(w.blocked_before);
  // Address space: before (what the managed rules block), after (the
  // desired set), and their union.
  w.space = MeasureSpace(w.want, w.covered, w.inherited, unwanted);
  observed_report.set_blocked_ipv4_addresses(w.space.before.ipv4_addresses);
  observed_report.set_blocked_ipv6_networks(w.space.before.ipv6_networks);
  if (any_disabled) {
    // Not enforced: what disabled rules hold and no enabled rule covers.
    SortPrefixes(disabled_held);
    SortPrefixes(enabled_held);
    const AddressSpace not_enforced =
        UnionSpaceOfSorted(disabled_held, enabled_held) -
        UnionSpaceOfSorted(enabled_held);
    observed_report.set_not_enforced_ipv4_addresses(
        not_enforced.ipv4_addresses);
    observed_report.set_not_enforced_ipv6_networks(not_enforced.ipv6_networks);
  }
}

// A managed rule's family: a rule holding both keeps the family most of its
// kept prefixes are of (IPv4 on a tie) and sheds the others.
void ShedOtherFamily(PlanWork& w, Managed& m, std::vector<bool>& shed) {
  uint64_t v4 = 0;
  for (uint32_t i : m.keep) {
    v4 += w.want[i].family() == IpPrefix::Family::kV4 ? 1 : 0;
  }
  const uint64_t v6 = m.keep.size() - v4;
  if (!m.keep.empty()) {
    m.family =
        v6 > v4 ? tqs1::v1::ADDRESS_FAMILY_IPV6 : tqs1::v1::ADDRESS_FAMILY_IPV4;
  }
  size_t kept = 0;
  for (size_t k = 0; k < m.keep.size(); ++k) {
    const uint32_t i = m.keep[k];
    if (FamilyOf(w.want[i]) == m.family) {
      m.keep[kept] = i;
      m.keep_text[kept++] = m.keep_text[k];
      continue;
    }
    w.covered[i] = false;
    shed[i] = true;
    m.remove.push_back(*m.keep_text[k]);
    ++m.moved_family;
  }
  m.keep.resize(kept);
  m.keep_text.resize(kept);
}

// A duplicate of a prefix its first holder sheds to this rule's family stays
// where it is (nothing has to move); any other duplicate is removed.
void KeepOrRemoveDuplicates(PlanWork& w, Managed& m, std::vector<bool>& shed) {
  for (const auto& [i, text] : m.duplicates) {
    if (!w.covered[i] && m.family != tqs1::v1::ADDRESS_FAMILY_UNSPECIFIED &&
        FamilyOf(w.want[i]) == m.family) {
      w.covered[i] = true;
      shed[i] = false;
      m.keep.push_back(i);
      m.keep_text.push_back(text);
      continue;
    }
    m.remove.push_back(*text);
    ++m.removed_duplicate;
  }
}

// A rule over the limit (made by hand, or by an older limit) sheds its
// excess.
void ShedOverLimit(PlanWork& w, Managed& m, std::vector<bool>& shed) {
  while (m.keep.size() > w.cap) {
    w.covered[m.keep.back()] = false;
    shed[m.keep.back()] = true;
    m.remove.push_back(*m.keep_text.back());
    m.keep.pop_back();
    m.keep_text.pop_back();
    ++m.moved_out;
  }
}

// 3 (cont.). Each managed rule's family, duplicates and excess; what a rule
// sheds is placed again like any missing prefix. What is missing, per
// family; each managed rule's settings drift.
void FindMissing(PlanWork& w) {
  std::vector<bool> shed(w.want.size(), false);
  for (Managed& m : w.managed) ShedOtherFamily(w, m, shed);
  for (Managed& m : w.managed) KeepOrRemoveDuplicates(w, m, shed);
  for (Managed& m : w.managed) ShedOverLimit(w, m, shed);
  for (uint32_t i = 0; i < w.want.size(); ++i) {
    if (w.covered[i] || w.inherited[i]) continue;
    w.missing.push_back(i);
    const int slot = FamilySlot(FamilyOf(w.want[i]));
    (shed[i] ? w.shed[slot] : w.fresh[slot]).push_back(i);
  }
  for (const Managed& m : w.managed) {
    w.moved_total += m.moved_out + m.moved_family;
  }

  for (Managed& m : w.managed) {
    RuleSettings settings =
        DesiredSettings(w.rule_template, m.rule->name(), m.rule->enabled());
    m.drift = SettingsDrift(*m.rule, settings);
  }
}

// The prefixes of one family still to place: those a rule shed (only a rule
// that sheds nothing may take them, so that no two rules wait on each
// other), and the others (any rule may take them).
struct ToPlace {
  const std::vector<uint32_t>* shed = nullptr;
  const std::vector<uint32_t>* fresh = nullptr;
  size_t next_shed = 0;
  size_t next_fresh = 0;

  uint64_t Left() const {
    return shed->size() - next_shed + fresh->size() - next_fresh;
  }
  // Moves up to `room` prefixes into `into`: a rule that sheds takes only
  // prefixes nobody shed; any other rule takes the shed ones first.
  void Take(std::vector<uint32_t>& into, uint64_t room, bool sheds) {
    if (!sheds) TakeFrom(*shed, next_shed, into, room);
    TakeFrom(*fresh, next_fresh, into, room);
  }
  // The rest, in prefix order.
  std::vector<uint32_t> Rest() const {
    std::vector<uint32_t> rest;
    std::merge(shed->begin() + next_shed, shed->end(),
               fresh->begin() + next_fresh, fresh->end(),
               std::back_inserter(rest));
    return rest;
  }

 private:
  static void TakeFrom(const std::vector<uint32_t>& from, size_t& next,
                       std::vector<uint32_t>& into, uint64_t& room) {
    const uint64_t n = std::min<uint64_t>(room, from.size() - next);
    into.insert(into.end(), from.begin() + next, from.begin() + next + n);
    next += n;
    room -= n;
  }
};

// How many prefixes of one family the rules of that family rewritten anyway
// cannot take: max(0, missing - room, shed - room of rules that shed
// nothing).
uint64_t Overflow(const PlanWork& w, int slot) {
  uint64_t room = 0, room_no_shed = 0;
  for (const Managed& m : w.managed) {
    if (m.family != kFamilies[slot] || !m.NeedsWrite()) continue;
    const uint64_t r = w.cap - m.keep.size();
    room += r;
    if (!m.Sheds()) room_no_shed += r;
  }
  const uint64_t missing = w.shed[slot].size() + w.fresh[slot].size();
  uint64_t over = missing > room ? missing - room : 0;
  if (w.shed[slot].size() > room_no_shed) {
    over = std::max<uint64_t>(over, w.shed[slot].size() - room_no_shed);
  }
  return over;
}

// 4. Place the missing prefixes, each family only into rules of that
// family: rules rewritten anyway first (a rewritten rule that keeps
// nothing takes the family that would otherwise need a new rule), then new
// rules, the last partial chunk into the fullest untouched rule that can
// take it whole.
void PlaceMissing(PlanWork& w) {
  const uint64_t cap = w.cap;
  uint64_t overflow[2] = {Overflow(w, 0), Overflow(w, 1)};
  ToPlace place[2];
  for (int slot = 0; slot < 2; ++slot) {
    place[slot].shed = &w.shed[slot];
    place[slot].fresh = &w.fresh[slot];
  }
  for (Managed& m : w.managed) {
    if (!m.NeedsWrite()) continue;
    if (m.family == tqs1::v1::ADDRESS_FAMILY_UNSPECIFIED) {
      // A rule that keeps nothing: the family that needs room most, else
      // the one with most left to place.
      int slot = overflow[1] > overflow[0] ? 1 : 0;
      if (overflow[slot] > 0) {
        overflow[slot] -= std::min(overflow[slot], cap);
      } else {
        slot = place[1].Left() > place[0].Left() ? 1 : 0;
        if (place[slot].Left() == 0) continue;
      }
      m.family = kFamilies[slot];
    }
    place[FamilySlot(m.family)].Take(m.add, cap - m.keep.size(), m.Sheds());
  }
  for (int slot = 0; slot < 2; ++slot) {
    const std::vector<uint32_t> rest = place[slot].Rest();
    if (rest.empty()) continue;
    uint64_t chunks = (rest.size() + cap - 1) / cap;
    uint64_t last = rest.size() - cap * (chunks - 1);
    Managed* fit = nullptr;
    for (Managed& m : w.managed) {
      if (m.NeedsWrite() || !m.add.empty()) continue;
      if (m.family != kFamilies[slot] &&
          m.family != tqs1::v1::ADDRESS_FAMILY_UNSPECIFIED) {
        continue;
      }
      uint64_t room = cap - m.keep.size();
      if (room >= last && (fit == nullptr || room < cap - fit->keep.size())) {
        fit = &m;
      }
    }
    size_t next = 0;
    auto take = [&rest, &next](std::vector<uint32_t>& into, uint64_t n) {
      into.insert(into.end(), rest.begin() + next, rest.begin() + next + n);
      next += n;
    };
    if (fit != nullptr) {
      fit->family = kFamilies[slot];
      take(fit->add, last);
      --chunks;
    }
    for (uint64_t c = 0; c < chunks; ++c) {
      w.new_rules.emplace_back();
      w.new_families.push_back(kFamilies[slot]);
      take(w.new_rules.back(), std::min<uint64_t>(cap, rest.size() - next));
    }
  }
  for (Managed& m : w.managed) std::sort(m.add.begin(), m.add.end());
}

// 5. Names for new rules: never one in use in the site, ignoring case (the
// console may compare names so), so no order of the writes can produce two
// rules of one name.
absl::Status NameNewRules(PlanWork& w) {
  const std::string& collection = w.collection;
  auto in_use = [&w](const std::string& name) {
    return w.names_in_use.contains(absl::AsciiStrToLower(name));
  };
  if (w.managed.empty() && w.new_rules.size() == 1 && !in_use(collection)) {
    w.new_names.push_back(collection);
  } else {
    int number = 1;
    for (size_t k = 0; k < w.new_rules.size(); ++k) {
      while (in_use(RuleName(collection, number))) ++number;
      w.new_names.push_back(RuleName(collection, number++));
    }
  }
  for (const std::string& name : w.new_names) {
    if (int length = CharacterCount(name); length > kMaxRuleNameLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "collection name \"", collection, "\" of sync \"", w.sync_name,
          "\" is too long for SentinelOne rule names: the plan needs rule \"",
          name, "\" (", length, " characters; the limit is ",
          kMaxRuleNameLength, ")"));
    }
  }
  return absl::OkStatus();
}

// Why the write of managed rule `m` is in the plan, in words.
void AddReasons(const Managed& m, uint64_t cap, Action& a) {
  if (m.adopt) {
    a.add_reasons("takes ownership of a rule without the tqs1 marker");
  }
  if (!m.add.empty()) {
    a.add_reasons(
        absl::StrCat("adds ", Count(m.add.size(), "address", "addresses")));
  }
  if (m.removed_unwanted > 0) {
    a.add_reasons(absl::StrCat(
        "removes ", Count(m.removed_unwanted, "address", "addresses"),
        " no longer in the collection"));
  }
  if (m.removed_duplicate > 0) {
    a.add_reasons(absl::StrCat(
        "removes ",
        Count(m.removed_duplicate, "duplicate entry", "duplicate entries")));
  }
  if (m.removed_invalid > 0) {
    a.add_reasons(absl::StrCat("removes ",
                               Count(m.removed_invalid, "entry", "entries"),
                               " that are not valid addresses"));
  }
  if (m.moved_out > 0) {
    a.add_reasons(
        absl::StrCat("moves ", Count(m.moved_out, "address", "addresses"),
                     " to other rules (over the limit of ", cap, ")"));
  }
  if (m.moved_family > 0) {
    const bool v4_moves = m.family == tqs1::v1::ADDRESS_FAMILY_IPV6;
    a.add_reasons(absl::StrCat(
        "moves ",
        Count(m.moved_family, v4_moves ? "IPv4 address" : "IPv6 address",
              v4_moves ? "IPv4 addresses" : "IPv6 addresses"),
        " to ", v4_moves ? "IPv4" : "IPv6",
        " rules (IPv4 and IPv6 never share a rule)"));
  }
  for (const std::string& d : m.drift) a.add_reasons(d);
}

// The family a deleted rule held: most of its address entries' (IPv4 on a
// tie); UNSPECIFIED when it held none.
tqs1::v1::AddressFamily HeldFamily(const Managed& m) {
  if (m.held_v4 + m.held_v6 == 0) return tqs1::v1::ADDRESS_FAMILY_UNSPECIFIED;
  return m.held_v6 > m.held_v4 ? tqs1::v1::ADDRESS_FAMILY_IPV6
                               : tqs1::v1::ADDRESS_FAMILY_IPV4;
}

// 6. The actions, in the order that never unblocks a wanted address:
// creates, updates that add (of rules that shed nothing: they take what
// other rules shed), updates that add and shed, updates that only remove or
// fix settings, deletes; inside each phase IPv4 rules before IPv6 rules, so
// that a console refusing IPv6 has done the IPv4 work of the phase first.
void AddActions(PlanWork& w) {
  std::vector<Action> creates, adding, adding_shedding, fixing, deletes;
  for (size_t k = 0; k < w.new_rules.size(); ++k) {
    Action a;
    a.set_kind(tqs1::v1::ACTION_KIND_CREATE);
    a.set_name(w.new_names[k]);
    *a.mutable_settings() = DesiredSettings(w.rule_template, w.new_names[k],
                                            w.rule_template.enabled());
    AppendPrefixes(w.want, w.new_rules[k], a.mutable_add());
    a.set_count_after(w.new_rules[k].size());
    a.set_family(w.new_families[k]);
    a.add_reasons(absl::StrCat(
        "new rule for ", Count(w.new_rules[k].size(), "address", "addresses")));
    creates.push_back(std::move(a));
  }
  for (Managed& m : w.managed) {
    if (!m.NeedsWrite() && m.add.empty()) continue;
    Action a;
    a.set_rule_id(m.rule->id());
    a.set_name(m.rule->name());
    a.set_count_before(m.entries);
    a.set_count_after(m.keep.size() + m.add.size());
    std::sort(m.remove.begin(), m.remove.end());
    a.mutable_remove()->Assign(m.remove.begin(), m.remove.end());
    AppendPrefixes(w.want, m.add, a.mutable_add());
    a.set_adopts(m.adopt);
    AddReasons(m, w.cap, a);

    if (a.count_after() == 0) {
      a.set_kind(tqs1::v1::ACTION_KIND_DELETE);
      a.set_family(HeldFamily(m));
      a.add_reasons("no addresses left");
      deletes.push_back(std::move(a));
      continue;
    }
    a.set_kind(tqs1::v1::ACTION_KIND_UPDATE);
    a.set_family(m.family);
    *a.mutable_settings() =
        DesiredSettings(w.rule_template, m.rule->name(), m.rule->enabled());
    if (m.add.empty()) {
      fixing.push_back(std::move(a));
    } else {
      (m.Sheds() ? adding_shedding : adding).push_back(std::move(a));
    }
  }
  for (auto* group : {&creates, &adding, &adding_shedding, &fixing, &deletes}) {
    std::stable_sort(group->begin(), group->end(),
                     [](const Action& a, const Action& b) {
                       return FamilySlot(a.family()) < FamilySlot(b.family());
                     });
    for (Action& a : *group) *w.plan.add_actions() = std::move(a);
  }
}

// 7. Guard "empty-source". True when it blocks the plan.
bool EmptySourceGuard(PlanWork& w) {
  const AddressSpace& space_before = w.space.before;
  const AddressSpace& space_after = w.space.after;
  const uint64_t blocked_before = w.blocked_before;
  tqs1::v1::GuardVerdict* v = w.plan.add_guards();
  v->set_guard("empty-source");
  bool tripped = w.want.size() < w.guards.min_desired_addresses &&
                 blocked_before > 0 && !w.unwanted.empty();
  v->set_tripped(tripped);
  v->set_overridden(tripped && w.options.allow_empty());
  v->set_entries(w.want.size());
  v->set_entries_total(blocked_before);
  v->set_ipv4_addresses(space_after.ipv4_addresses);
  v->set_ipv4_addresses_total(space_before.ipv4_addresses);
  v->set_ipv6_networks(space_after.ipv6_networks);
  v->set_ipv6_networks_total(space_before.ipv6_networks);
  if (tripped) {
    std::string site_blocks =
        EntriesAreAddresses(blocked_before, space_before)
            ? absl::StrCat(blocked_before)
            : absl::StrCat(FormatCount(blocked_before), " entries (",
                           FormatSpace(space_before), ")");
    v->set_message(absl::StrCat(
        "the collection yields ", w.want.size(), " addresses (minimum ",
        w.guards.min_desired_addresses, ") while the site blocks ", site_blocks,
        ": a renamed, emptied or unreadable collection must not unblock "
        "everything"));
  } else {
    v->set_message(
        absl::StrCat("the collection yields ", w.want.size(), " addresses"));
  }
  return tripped && !w.options.allow_empty();
}

// 7. Guard "unblock-share". True when it blocks the plan.
bool UnblockShareGuard(PlanWork& w) {
  tqs1::v1::GuardVerdict* v = w.plan.add_guards();
  v->set_guard("unblock-share");
  // Weighed by address space, per family: unblocked = |before ∪ after| -
  // |after|, out of |before|.
  UnblockWeights u;
  u.entries = w.unwanted.size();
  u.entries_total = w.blocked_before;
  u.space = w.space.both - w.space.after;
  u.space_total = w.space.before;
  bool tripped =
      OverShare(u.space.ipv4_addresses, u.space_total.ipv4_addresses,
                w.guards) ||
      OverShare(u.space.ipv6_networks, u.space_total.ipv6_networks, w.guards);
  v->set_tripped(tripped);
  v->set_overridden(tripped && w.options.allow_mass_unblock());
  v->set_entries(u.entries);
  v->set_entries_total(u.entries_total);
  v->set_ipv4_addresses(u.space.ipv4_addresses);
  v->set_ipv4_addresses_total(u.space_total.ipv4_addresses);
  v->set_ipv6_networks(u.space.ipv6_networks);
  v->set_ipv6_networks_total(u.space_total.ipv6_networks);
  v->set_message(UnblockShareMessage(u, w.guards));
  return tripped && !w.options.allow_mass_unblock();
}

// 7. Guard "firewall-disabled": Firewall Control is disabled for the site
// (as read; an unknown configuration is not disabled), so rules written
// there are not enforced. Only a tripped guard adds a verdict. True when it
// blocks the plan.
bool FirewallDisabledGuard(PlanWork& w) {
  const tqs1::v1::FirewallConfiguration& firewall = w.observed.firewall();
  if (!firewall.known() || firewall.enabled()) return false;
  tqs1::v1::GuardVerdict* v = w.plan.add_guards();
  v->set_guard("firewall-disabled");
  v->set_tripped(true);
  v->set_overridden(w.options.allow_disabled_firewall());
  v->set_message(absl::StrCat(
      "Firewall Control is disabled for ", SiteWords(w),
      " (Firewall Control configuration, enabled: false): rules written "
      "there are not enforced; enable Firewall Control for the site, or "
      "override with --allow-disabled-firewall"));
  return !w.options.allow_disabled_firewall();
}

// Rules of this sync that tqs1 cannot manage safely (Conflict.blocks)
// stop the plan; no switch lets it through: the console must be fixed.
bool UnmanageableRuleGuard(PlanWork& w) {
  int blocking = 0;
  for (const tqs1::v1::Conflict& c : w.plan.conflicts()) {
    if (c.blocks()) ++blocking;
  }
  if (blocking == 0) return false;
  tqs1::v1::GuardVerdict* v = w.plan.add_guards();
  v->set_guard("unmanageable-rule");
  v->set_tripped(true);
  v->set_entries(blocking);
  v->set_message(absl::StrCat(
      blocking, blocking == 1 ? " rule" : " rules",
      " of this sync cannot be managed safely (see the conflicts)"));
  return true;
}

// 8. Summary.
void Summarize(PlanWork& w, bool blocked) {
  Plan& plan = w.plan;
  tqs1::v1::PlanSummary& summary = *plan.mutable_summary();
  for (const Action& a : plan.actions()) {
    switch (a.kind()) {
      case tqs1::v1::ACTION_KIND_CREATE:
        summary.set_creates(summary.creates() + 1);
        break;
      case tqs1::v1::ACTION_KIND_UPDATE:
        summary.set_updates(summary.updates() + 1);
        break;
      case tqs1::v1::ACTION_KIND_DELETE:
        summary.set_deletes(summary.deletes() + 1);
        break;
      default:
        break;
    }
    summary.set_addresses_added(summary.addresses_added() + a.add_size());
    summary.set_addresses_removed(summary.addresses_removed() +
                                  a.remove_size());
  }
  summary.set_newly_blocked(w.missing.size() - w.moved_total);
  summary.set_unblocked(w.unwanted.size());
  const AddressSpace newly_blocked_space = w.space.both - w.space.before;
  const AddressSpace unblocked_space = w.space.both - w.space.after;
  summary.set_newly_blocked_ipv4_addresses(newly_blocked_space.ipv4_addresses);
  summary.set_newly_blocked_ipv6_networks(newly_blocked_space.ipv6_networks);
  summary.set_unblocked_ipv4_addresses(unblocked_space.ipv4_addresses);
  summary.set_unblocked_ipv6_networks(unblocked_space.ipv6_networks);
  summary.set_disabled_rules(plan.observed().disabled_rules());
  summary.set_in_sync(plan.actions().empty());
  summary.set_blocked(blocked);
}

}  // namespace

absl::StatusOr<Plan> ComputePlan(const DesiredState& desired,
                                 const ObservedState& observed,
                                 const PlanOptions& options) {
  PlanWork w(desired, observed, options);
  RETURN_IF_ERROR(StartPlan(w));
  RETURN_IF_ERROR(NormalizeDesired(w));
  ReportFirewall(w);
  ClassifyRules(w);
  ReadManagedRules(w);
  FindMissing(w);
  PlaceMissing(w);
  RETURN_IF_ERROR(NameNewRules(w));
  AddActions(w);
  bool blocked = EmptySourceGuard(w);
  blocked |= UnblockShareGuard(w);
  blocked |= FirewallDisabledGuard(w);
  blocked |= UnmanageableRuleGuard(w);
  Summarize(w, blocked);
  return std::move(w.plan);
}

}  // namespace tqs1::reconciler

#include "tests/soak/site_invariants.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "reconciler/ownership.h"

namespace tqs1::soak {
namespace {

std::string StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

EventLogChecker::EventLogChecker(std::string site_id, std::string collection,
                                 int max_per_rule)
    : site_id_(std::move(site_id)),
      collection_(std::move(collection)),
      max_per_rule_(max_per_rule) {}

EventLogChecker::RuleState EventLogChecker::Read(
    const nlohmann::json& object) const {
  RuleState rule;
  rule.name = StringField(object, "name");
  rule.scope = StringField(object, "scope");
  rule.scope_id = StringField(object, "scopeId");
  rule.managed =
      reconciler::HasOwnershipMarker(StringField(object, "description")) &&
      reconciler::ManagedNameIndex(collection_, rule.name).has_value();
  auto hosts = object.find("remoteHosts");
  if (hosts != object.end() && hosts->is_array()) {
    for (const nlohmann::json& entry : *hosts) {
      auto values = entry.find("values");
      if (!entry.is_object() || values == entry.end() || !values->is_array()) {
        continue;
      }
      for (const nlohmann::json& v : *values) {
        if (v.is_string()) rule.values.push_back(v.get<std::string>());
      }
    }
  }
  return rule;
}

bool EventLogChecker::IsSiteRule(const RuleState& rule) const {
  return rule.scope == "site" && rule.scope_id == site_id_;
}

void EventLogChecker::Violation(const std::string& what) {
  ++violation_count_;
  if (violations_.size() < 50) violations_.push_back(what);
}

void EventLogChecker::Check(bool ok, const std::string& what) {
  if (ok) {
    ++checks_passed_;
  } else {
    Violation(what);
  }
}

void EventLogChecker::Block(const RuleState& rule, int delta,
                            const std::string& where) {
  if (!rule.managed || !IsSiteRule(rule)) return;
  for (const std::string& value : rule.values) {
    int& count = blocked_[value];
    count += delta;
    if (delta > 0) {
      if (wanted_.contains(value)) protected_.insert(value);
      if (forbidden_.contains(value)) {
        Violation(absl::StrCat(where, ": forbidden value ", value,
                               " written into rule \"", rule.name, "\""));
      }
    } else if (count == 0) {
      blocked_.erase(value);
    }
  }
}

void EventLogChecker::StartRound(std::set<std::string> wanted,
                                 std::set<std::string> forbidden) {
  wanted_ = absl::flat_hash_set<std::string>(wanted.begin(), wanted.end());
  forbidden_ =
      absl::flat_hash_set<std::string>(forbidden.begin(), forbidden.end());
  protected_.clear();
  for (const auto& [value, count] : blocked_) {
    if (count > 0 && wanted_.contains(value)) protected_.insert(value);
  }
}

void EventLogChecker::Consume(
    const std::vector<sentinelone::WriteEvent>& events) {
  for (; consumed_ < events.size(); ++consumed_) {
    const sentinelone::WriteEvent& event = events[consumed_];
    const std::string where = absl::StrCat("write #", event.seq, " (",
                                           event.kind, " ", event.rule_id, ")");
    const bool api = event.kind == "create" || event.kind == "update" ||
                     event.kind == "delete";
    std::optional<RuleState> before;
    if (auto it = rules_.find(event.rule_id); it != rules_.end()) {
      before = it->second;
    }
    std::optional<RuleState> after;
    if (event.after.has_value()) after = Read(*event.after);

    if (api) {
      ++writes_;
      // Ownership: the API touches only tqs1's rules and creates only
      // tqs1's rules.
      if (before.has_value()) {
        Check(before->managed && IsSiteRule(*before),
              absl::StrCat(where, ": touched rule \"", before->name,
                           "\", which tqs1 does not own"));
      }
      if (after.has_value()) {
        Check(after->managed && IsSiteRule(*after),
              absl::StrCat(where, ": wrote rule \"", after->name,
                           "\" without tqs1's marker or name scheme"));
        Check(static_cast<int>(after->values.size()) <= max_per_rule_,
              absl::StrCat(where, ": rule \"", after->name, "\" holds ",
                           after->values.size(), " values"));
      }
    }
    // Apply the event to the model: added values first, so a move between
    // two rules never counts as an unblock.
    if (after.has_value()) Block(*after, +1, where);
    if (before.has_value()) Block(*before, -1, where);
    if (after.has_value()) {
      rules_[event.rule_id] = *after;
    } else {
      rules_.erase(event.rule_id);
    }
    if (!api) continue;

    // No unblocked wanted address.
    int64_t unblocked = 0;
    std::string example;
    if (before.has_value()) {
      for (const std::string& value : before->values) {
        if (protected_.contains(value) && !blocked_.contains(value)) {
          ++unblocked;
          example = value;
        }
      }
    }
    Check(unblocked == 0, absl::StrCat(where, ": unblocked ", unblocked,
                                       " wanted addresses, e.g. ", example));
    // Unique names among the site's rules, and none equal to an inherited
    // rule's name when the write set it.
    std::set<std::string> names;
    std::string duplicate;
    for (const auto& [id, rule] : rules_) {
      if (IsSiteRule(rule) && !names.insert(rule.name).second) {
        duplicate = rule.name;
      }
    }
    Check(duplicate.empty(),
          absl::StrCat(where, ": two site rules named \"", duplicate, "\""));
    if (after.has_value()) {
      bool clash = false;
      for (const auto& [id, rule] : rules_) {
        clash |= id != event.rule_id && !IsSiteRule(rule) &&
                 rule.name == after->name;
      }
      Check(!clash, absl::StrCat(where, ": rule \"", after->name,
                                 "\" has the name of an inherited rule"));
    }
  }
}

std::vector<std::string> EventLogChecker::ManagedValues() const {
  std::vector<std::string> out;
  for (const auto& [id, rule] : rules_) {
    if (rule.managed && IsSiteRule(rule)) {
      out.insert(out.end(), rule.values.begin(), rule.values.end());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int EventLogChecker::ManagedRules() const {
  int n = 0;
  for (const auto& [id, rule] : rules_) n += rule.managed && IsSiteRule(rule);
  return n;
}

uint64_t AddressGenerator::NextRandom() {
  // splitmix64: tiny, seedable, good enough for test data.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string AddressGenerator::Next() {
  // Public first octets, far from 0/8, 10/8, 127/8, 169.254/16, 172.16/12,
  // 192.168/16, multicast and reserved space.
  static constexpr int kFirst[] = {23,  31,  45,  62,  77,  80,  91,  93,
                                   103, 109, 141, 176, 178, 185, 193, 212};
  const uint64_t r = NextRandom();
  const int kind = static_cast<int>(r % 20);
  const int first = kFirst[(r >> 8) % (sizeof(kFirst) / sizeof(kFirst[0]))];
  const int b = static_cast<int>((r >> 16) % 256);
  const int c = static_cast<int>((r >> 24) % 256);
  const int d = 1 + static_cast<int>((r >> 32) % 254);
  if (kind == 0) {
    return absl::StrCat("2001:db8:", absl::Hex((r >> 16) & 0xffff), ":",
                        absl::Hex(1 + ((r >> 32) & 0xfffe)),
                        "::", absl::Hex(1 + ((r >> 48) & 0xfffe)));
  }
  // Networks in 5.0.0.0/8, where no host address is generated.
  if (kind == 1) return absl::StrCat("5.", b, ".", c, ".0/24");
  return absl::StrCat(first, ".", b, ".", c, ".", d);
}

}  // namespace tqs1::soak

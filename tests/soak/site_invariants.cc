#include "tests/soak/site_invariants.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "providers/sentinelone/wire.h"

namespace tqs1::soak {
namespace {

using ::tqs1::v1::Rule;

// reconciler::Violations checks four invariants on every API write.
constexpr int kInvariants = 4;

}  // namespace

EventLogChecker::EventLogChecker(std::string site_id, std::string collection,
                                 int max_per_rule)
    : scope_{std::move(collection), max_per_rule} {
  site_.set_site_id(std::move(site_id));
}

void EventLogChecker::Violation(const std::string& what) {
  ++violation_count_;
  if (violations_.size() < 50) violations_.push_back(what);
}

void EventLogChecker::StartRound(std::set<std::string> wanted,
                                 std::set<std::string> forbidden) {
  absl::StatusOr<std::set<reconciler::IpPrefix>> prefixes =
      reconciler::WantedPrefixes(wanted);
  if (!prefixes.ok()) Violation(std::string(prefixes.status().message()));
  wanted_ =
      prefixes.ok() ? *std::move(prefixes) : std::set<reconciler::IpPrefix>();
  forbidden_ =
      absl::flat_hash_set<std::string>(forbidden.begin(), forbidden.end());
}

void EventLogChecker::Apply(const std::string& id, const Rule* after) {
  auto* rules = site_.mutable_rules();
  for (int k = 0; k < rules->size(); ++k) {
    if (rules->Get(k).id() != id) continue;
    if (after != nullptr) {
      *rules->Mutable(k) = *after;
    } else {
      rules->DeleteSubrange(k, 1);
    }
    return;
  }
  if (after != nullptr) *rules->Add() = *after;
}

bool EventLogChecker::OfAnotherSite(
    const sentinelone::WriteEvent& event) const {
  const std::optional<nlohmann::json>& rule =
      event.after.has_value() ? event.after : event.before;
  if (!rule.has_value() || !rule->is_object()) return false;
  const auto scope = rule->find("scope");
  const auto scope_id = rule->find("scopeId");
  return scope != rule->end() && scope->is_string() && *scope == "site" &&
         scope_id != rule->end() && scope_id->is_string() &&
         *scope_id != site_.site_id();
}

void EventLogChecker::Consume(
    const std::vector<sentinelone::WriteEvent>& events) {
  for (; consumed_ < events.size(); ++consumed_) {
    const sentinelone::WriteEvent& event = events[consumed_];
    if (OfAnotherSite(event)) continue;
    const std::string where = absl::StrCat("write #", event.seq, " (",
                                           event.kind, " ", event.rule_id, ")");
    const bool api = event.kind == "create" || event.kind == "update" ||
                     event.kind == "delete";
    std::optional<Rule> after;
    if (event.after.has_value()) {
      absl::StatusOr<Rule> rule =
          sentinelone::RuleFromJson(*event.after, "emulator write log");
      if (!rule.ok()) {
        Violation(absl::StrCat(where, ": ", rule.status().message()));
        continue;
      }
      after = *std::move(rule);
    }
    if (after.has_value() &&
        reconciler::IsManagedRule(*after, site_, scope_.collection)) {
      for (const tqs1::v1::HostSet& hosts : after->remote_hosts()) {
        for (const std::string& value : hosts.values()) {
          if (forbidden_.contains(value)) {
            Violation(absl::StrCat(where, ": forbidden value ", value,
                                   " written into rule \"", after->name(),
                                   "\""));
          }
        }
      }
    }
    if (!api) {
      Apply(event.rule_id, after.has_value() ? &*after : nullptr);
      continue;
    }

    ++writes_;
    const tqs1::v1::ObservedState before = site_;
    for (const Rule& rule : before.rules()) {
      if (rule.id() == event.rule_id &&
          !reconciler::IsManagedRule(rule, before, scope_.collection)) {
        Violation(absl::StrCat(where, ": touched rule \"", rule.name(),
                               "\", which tqs1 does not own"));
      }
    }
    Apply(event.rule_id, after.has_value() ? &*after : nullptr);
    const std::vector<std::string> lines =
        reconciler::Violations(before, site_, wanted_, scope_);
    for (const std::string& line : lines) {
      Violation(absl::StrCat(where, ": ", line));
    }
    if (lines.empty()) checks_passed_ += kInvariants;
  }
}

std::vector<std::string> EventLogChecker::ManagedValues() const {
  std::vector<std::string> out;
  for (const Rule& rule : site_.rules()) {
    if (!reconciler::IsManagedRule(rule, site_, scope_.collection)) continue;
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      out.insert(out.end(), hosts.values().begin(), hosts.values().end());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int EventLogChecker::ManagedRules() const {
  int n = 0;
  for (const Rule& rule : site_.rules()) {
    n += reconciler::IsManagedRule(rule, site_, scope_.collection);
  }
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

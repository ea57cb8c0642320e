#include "reconciler/ownership.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tqs1::reconciler {

std::string DescriptionWithMarker(absl::string_view description) {
  description = absl::StripTrailingAsciiWhitespace(description);
  if (description.empty()) return std::string(kOwnershipMarker);
  return absl::StrCat(description, " ", kOwnershipMarker);
}

bool HasOwnershipMarker(absl::string_view description) {
  return absl::StrContains(description, kOwnershipMarker);
}

std::optional<int> ManagedNameIndex(absl::string_view collection,
                                    absl::string_view name) {
  if (!absl::StartsWith(name, collection)) return std::nullopt;
  absl::string_view rest = name.substr(collection.size());
  if (rest.empty()) return 0;
  if (!absl::ConsumePrefix(&rest, " (") || !absl::ConsumeSuffix(&rest, ")")) {
    return std::nullopt;
  }
  if (rest.empty() || rest.size() > 9 || rest[0] == '0') return std::nullopt;
  for (char c : rest) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
  }
  int index;
  if (!absl::SimpleAtoi(rest, &index)) return std::nullopt;
  return index;
}

std::string RuleName(absl::string_view collection, int index) {
  if (index == 0) return std::string(collection);
  return absl::StrCat(collection, " (", index, ")");
}

bool IsAbove(tqs1::v1::RuleScope scope, tqs1::v1::RuleScope target) {
  // Rank in the console's evaluation, first to last; 0: not a scope.
  auto rank = [](tqs1::v1::RuleScope s) {
    switch (s) {
      case tqs1::v1::RULE_SCOPE_GROUP:
        return 1;
      case tqs1::v1::RULE_SCOPE_SITE:
        return 2;
      case tqs1::v1::RULE_SCOPE_ACCOUNT:
        return 3;
      case tqs1::v1::RULE_SCOPE_GLOBAL:
        return 4;
      default:
        return 0;
    }
  };
  return rank(scope) > rank(target) && rank(target) > 0;
}

bool IsInheritedSyncRule(const tqs1::v1::Rule& rule,
                         const tqs1::v1::ObservedState& observed,
                         absl::string_view collection) {
  return IsAbove(rule.scope(), TargetScope(observed)) &&
         ManagedNameIndex(collection, rule.name()).has_value() &&
         HasOwnershipMarker(rule.description());
}

int CharacterCount(absl::string_view text) {
  int count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

tqs1::v1::RuleScope TargetScope(const tqs1::v1::ObservedState& observed) {
  switch (observed.scope()) {
    case tqs1::v1::RULE_SCOPE_GROUP:
    case tqs1::v1::RULE_SCOPE_ACCOUNT:
    case tqs1::v1::RULE_SCOPE_GLOBAL:
      return observed.scope();
    default:
      return tqs1::v1::RULE_SCOPE_SITE;
  }
}

const char* ScopeNoun(tqs1::v1::RuleScope target) {
  switch (target) {
    case tqs1::v1::RULE_SCOPE_GROUP:
      return "group";
    case tqs1::v1::RULE_SCOPE_ACCOUNT:
      return "account";
    case tqs1::v1::RULE_SCOPE_GLOBAL:
      return "global scope";
    default:
      return "site";
  }
}

bool IsTargetRule(const tqs1::v1::Rule& rule,
                  const tqs1::v1::ObservedState& observed) {
  return rule.scope() == TargetScope(observed) &&
         (rule.scope_id().empty() || rule.scope_id() == observed.site_id());
}

bool IsManagedRule(const tqs1::v1::Rule& rule,
                   const tqs1::v1::ObservedState& site,
                   absl::string_view collection) {
  return IsTargetRule(rule, site) &&
         ManagedNameIndex(collection, rule.name()).has_value() &&
         HasOwnershipMarker(rule.description());
}

}  // namespace tqs1::reconciler

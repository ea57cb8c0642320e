#include "reconciler/admission.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "google/protobuf/util/message_differencer.h"
#include "reconciler/fingerprint.h"
#include "reconciler/ownership.h"
#include "reconciler/planner.h"
#include "reconciler/rule_edit.h"

namespace tqs1::reconciler {
namespace {

using ::tqs1::v1::Action;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Plan;
using ::tqs1::v1::Rule;

constexpr absl::string_view kGuardRefusalUrl = "tqs1.v1/guard-refusal";

absl::string_view KindWord(const Action& action) {
  switch (action.kind()) {
    case tqs1::v1::ACTION_KIND_CREATE:
      return "create";
    case tqs1::v1::ACTION_KIND_UPDATE:
      return "update";
    case tqs1::v1::ACTION_KIND_DELETE:
      return "delete";
    default:
      return "unknown action";
  }
}

bool IsSyncName(const Plan& plan, absl::string_view name) {
  return ManagedNameIndex(plan.collection(), name).has_value();
}

// A rule tqs1 manages for the plan's sync when the plan leaves it alone.
bool IsManagedRule(const Plan& plan, const ObservedState& observed,
                   const Rule& rule) {
  return IsTargetRule(rule, observed) && IsSyncName(plan, rule.name()) &&
         (HasOwnershipMarker(rule.description()) || plan.options().adopt());
}

// Checks a rule tqs1 is about to send.
absl::Status CheckRuleToWrite(const Plan& plan, const Rule& rule,
                              absl::string_view what) {
  if (!IsSyncName(plan, rule.name())) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " would name a rule \"", rule.name(),
        "\", which is not a name of collection \"", plan.collection(), "\""));
  }
  if (!HasOwnershipMarker(rule.description())) {
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     " would write a rule without tqs1's ownership "
                     "marker \"",
                     kOwnershipMarker, "\" in its description"));
  }
  if (rule.action() != tqs1::v1::RULE_ACTION_BLOCK) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " would write a rule that does not block"));
  }
  return absl::OkStatus();
}

// Checks that the existing rule an UPDATE or DELETE touches is one tqs1 may
// touch.
absl::Status CheckRuleToTouch(const Plan& plan, const ObservedState& observed,
                              const Rule* rule, const Action& action,
                              absl::string_view what) {
  if (rule == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " names rule ", action.rule_id(), ", which site \"",
                     plan.site_name(), "\" does not hold"));
  }
  if (!IsTargetRule(*rule, observed)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " would touch rule \"", rule->name(),
                     "\", which is inherited from another scope (read-only)"));
  }
  if (!IsSyncName(plan, rule->name())) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " would touch rule \"", rule->name(),
        "\", which is not a rule of collection \"", plan.collection(), "\""));
  }
  if (!HasOwnershipMarker(rule->description()) && !action.adopts()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " would touch rule \"", rule->name(),
        "\", which does not carry tqs1's ownership marker and is not being "
        "adopted"));
  }
  if (rule->read_only()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " would touch rule \"", rule->name(), "\" (id ", rule->id(),
        "), which the console says cannot be edited at this scope "
        "(editable: false)"));
  }
  if (!rule->unreadable().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " would touch rule \"", rule->name(), "\" (id ", rule->id(),
        "), which could not be read (", rule->unreadable(),
        "); tqs1 does not rewrite a rule it cannot read"));
  }
  return absl::OkStatus();
}

// The rule each CREATE and UPDATE sends (empty for a DELETE), after checking
// that every action fits `observed` and touches only rules tqs1 owns.
absl::StatusOr<std::vector<Rule>> PrepareWrites(const Plan& plan,
                                                const ObservedState& observed) {
  absl::flat_hash_map<absl::string_view, const Rule*> by_id;
  for (const Rule& rule : observed.rules()) by_id[rule.id()] = &rule;
  absl::flat_hash_set<absl::string_view> touched;

  const int total = plan.actions_size();
  std::vector<Rule> writes(total);
  for (int i = 0; i < total; ++i) {
    const Action& action = plan.actions(i);
    const std::string what = DescribeAction(i, total, action);
    switch (action.kind()) {
      case tqs1::v1::ACTION_KIND_CREATE: {
        ASSIGN_OR_RETURN(writes[i], RuleAfter(nullptr, action));
        RETURN_IF_ERROR(CheckRuleToWrite(plan, writes[i], what));
        break;
      }
      case tqs1::v1::ACTION_KIND_UPDATE:
      case tqs1::v1::ACTION_KIND_DELETE: {
        if (!touched.insert(action.rule_id()).second) {
          return absl::FailedPreconditionError(absl::StrCat(
              what, " touches rule ", action.rule_id(),
              " a second time; a plan writes each rule at most once"));
        }
        auto it = by_id.find(action.rule_id());
        const Rule* current = it == by_id.end() ? nullptr : it->second;
        RETURN_IF_ERROR(
            CheckRuleToTouch(plan, observed, current, action, what));
        if (action.kind() == tqs1::v1::ACTION_KIND_UPDATE) {
          absl::StatusOr<Rule> after = RuleAfter(current, action);
          if (!after.ok()) {
            return absl::FailedPreconditionError(
                absl::StrCat(what, ": ", after.status().message()));
          }
          writes[i] = *std::move(after);
          RETURN_IF_ERROR(CheckRuleToWrite(plan, writes[i], what));
        }
        break;
      }
      default:
        return absl::FailedPreconditionError(
            absl::StrCat(what, " has no valid kind (", action.kind(), ")"));
    }
  }
  return writes;
}

// Every entry the sync's rules hold once the plan has run: the rules it
// writes, and the managed rules it leaves alone.
void AddressesAfter(const Plan& plan, const ObservedState& observed,
                    const std::vector<Rule>& writes,
                    google::protobuf::RepeatedPtrField<std::string>* out) {
  absl::flat_hash_set<absl::string_view> touched;
  for (const Action& action : plan.actions()) {
    if (!action.rule_id().empty()) touched.insert(action.rule_id());
  }
  auto add_entries = [out](const Rule& rule) {
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      for (const std::string& value : hosts.values()) *out->Add() = value;
    }
  };
  for (const Rule& rule : writes) add_entries(rule);
  for (const Rule& rule : observed.rules()) {
    if (!touched.contains(rule.id()) && IsManagedRule(plan, observed, rule)) {
      add_entries(rule);
    }
  }
}

// An action as compared: what it writes, not how it is explained.
Action Comparable(const Action& action) {
  Action a = action;
  a.clear_reasons();
  return a;
}

// Why `plan` is not the derived plan, in words.
std::string Difference(const Plan& plan, const Plan& derived) {
  if (derived.inputs().rejected_size() > 0) {
    std::vector<std::string> refused;
    for (const tqs1::v1::RejectedValue& r : derived.inputs().rejected()) {
      if (refused.size() == 5) break;
      refused.push_back(absl::StrCat("\"", r.value(), "\" (", r.reason(), ")"));
    }
    uint64_t more = derived.inputs().rejected_size() +
                    derived.inputs().rejected_truncated() - refused.size();
    return absl::StrCat("it would block ", absl::StrJoin(refused, ", "),
                        more > 0 ? absl::StrCat(" and ", more, " more") : "",
                        ", which tqs1 refuses to block");
  }
  const int n = std::min(plan.actions_size(), derived.actions_size());
  for (int i = 0; i < n; ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(
            Comparable(plan.actions(i)), Comparable(derived.actions(i)))) {
      return absl::StrCat(
          DescribeAction(i, plan.actions_size(), plan.actions(i)),
          " is not what tqs1 derives now: ",
          DescribeAction(i, derived.actions_size(), derived.actions(i)),
          " with +", derived.actions(i).add_size(), " -",
          derived.actions(i).remove_size(), " (the plan says +",
          plan.actions(i).add_size(), " -", plan.actions(i).remove_size(), ")");
    }
  }
  return absl::StrCat("it has ", plan.actions_size(),
                      " actions where tqs1 derives ", derived.actions_size());
}

// The guards that stop `plan`, in words, e.g.
// "\"unblock-share\" (unblocks 900 of 1000 addresses ...)".
std::string BlockingGuards(const Plan& plan) {
  std::vector<std::string> guards;
  for (const tqs1::v1::GuardVerdict& verdict : plan.guards()) {
    if (verdict.tripped() && !verdict.overridden()) {
      guards.push_back(
          absl::StrCat("\"", verdict.guard(), "\" (", verdict.message(), ")"));
    }
  }
  if (guards.empty()) return "a guard (none named in the plan)";
  return absl::StrCat(guards.size() == 1 ? "the guard " : "the guards ",
                      absl::StrJoin(guards, ", "));
}

absl::Status GuardRefusal(const Plan& plan, absl::string_view sync_name) {
  absl::Status refused = absl::FailedPreconditionError(
      absl::StrCat("the plan for sync \"", sync_name, "\" is blocked by ",
                   BlockingGuards(plan), "; it must not be applied"));
  refused.SetPayload(kGuardRefusalUrl, absl::Cord("1"));
  return refused;
}

}  // namespace

// "action 2 of 5 (update \"C2 (1)\", rule 100000000000000001)"
std::string DescribeAction(int index, int total, const Action& action) {
  std::string text = absl::StrCat("action ", index + 1, " of ", total, " (",
                                  KindWord(action), " \"", action.name(), "\"");
  if (!action.rule_id().empty()) {
    absl::StrAppend(&text, ", rule ", action.rule_id());
  }
  absl::StrAppend(&text, ")");
  return text;
}

absl::StatusOr<AdmittedPlan> AdmitPlan(const Plan& plan,
                                       const tqs1::v1::DesiredState& policy,
                                       const ObservedState& observed) {
  // 1. A plan of this sync.
  const std::string sync_name = SyncDisplayName(policy.sync());
  if (plan.format() != tqs1::v1::PLAN_FORMAT_V1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the plan for sync \"", plan.sync_name(),
                     "\" has an unknown format (", plan.format(), ")"));
  }
  if (!plan.error().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sync \"", plan.sync_name(),
                     "\" could not be planned, so there is nothing to apply: ",
                     plan.error()));
  }
  // A plan that says a guard stops it is refused as it stands (refusing is
  // always safe); a plan that says it passes is never believed (step 5).
  if (plan.summary().blocked()) return GuardRefusal(plan, plan.sync_name());
  if (plan.site_id().empty() && plan.scope() != tqs1::v1::RULE_SCOPE_GLOBAL) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the plan for sync \"", plan.sync_name(), "\" names no site id"));
  }
  if (plan.sync_name() != sync_name ||
      plan.collection() != policy.sync().collection()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the plan is for sync \"", plan.sync_name(), "\" (collection \"",
        plan.collection(), "\"), not for sync \"", sync_name,
        "\" (collection \"", policy.sync().collection(), "\")"));
  }
  if (observed.site_id() != plan.site_id()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the plan is for site id ", plan.site_id(),
                     ", the site read is ", observed.site_id()));
  }
  if (plan.scope() != tqs1::v1::RULE_SCOPE_UNSPECIFIED &&
      plan.scope() != tqs1::v1::RULE_SCOPE_SITE &&
      plan.scope() != tqs1::v1::RULE_SCOPE_GROUP &&
      plan.scope() != tqs1::v1::RULE_SCOPE_ACCOUNT &&
      plan.scope() != tqs1::v1::RULE_SCOPE_GLOBAL) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the plan for sync \"", plan.sync_name(), "\" is for scope ",
        tqs1::v1::RuleScope_Name(plan.scope()),
        "; tqs1 plans only sites, groups, accounts and the global scope"));
  }
  const tqs1::v1::RuleScope planned =
      plan.scope() == tqs1::v1::RULE_SCOPE_UNSPECIFIED
          ? tqs1::v1::RULE_SCOPE_SITE
          : plan.scope();
  if (planned != TargetScope(observed)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the plan is for the ", ScopeNoun(planned), " ",
                     plan.site_id(), ", what was read is the rules of a ",
                     ScopeNoun(TargetScope(observed))));
  }

  // 2. The same site.
  if (ObservedFingerprint(observed) != plan.observed_fingerprint()) {
    return absl::AbortedError(
        absl::StrCat("the site changed since the plan was made; run plan "
                     "again (site \"",
                     plan.site_name(), "\", id ", plan.site_id(), ")"));
  }

  // 3. Every action fits the site and touches only what tqs1 owns.
  AdmittedPlan admitted;
  ASSIGN_OR_RETURN(admitted.writes, PrepareWrites(plan, observed));

  // 4. What the planner derives now from what the plan would leave.
  tqs1::v1::DesiredState desired = policy;
  desired.clear_values();
  AddressesAfter(plan, observed, admitted.writes, desired.mutable_values());
  ASSIGN_OR_RETURN(Plan derived,
                   ComputePlan(desired, observed, plan.options()));
  bool same = derived.inputs().rejected_size() == 0 &&
              derived.actions_size() == plan.actions_size();
  for (int i = 0; same && i < plan.actions_size(); ++i) {
    same = google::protobuf::util::MessageDifferencer::Equals(
        Comparable(plan.actions(i)), Comparable(derived.actions(i)));
  }
  if (!same) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the plan for sync \"", sync_name,
        "\" is refused: ", Difference(plan, derived), "; run plan again"));
  }

  // 5. The guards, as evaluated now.
  if (derived.summary().blocked()) return GuardRefusal(derived, sync_name);
  *derived.mutable_inputs() = plan.inputs();
  admitted.plan = std::move(derived);
  return admitted;
}

bool IsGuardRefusal(const absl::Status& status) {
  return status.GetPayload(kGuardRefusalUrl).has_value();
}

}  // namespace tqs1::reconciler

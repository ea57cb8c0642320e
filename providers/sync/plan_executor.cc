#include "providers/sync/plan_executor.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "providers/sync/status_context.h"
#include "reconciler/fingerprint.h"
#include "reconciler/ownership.h"
#include "reconciler/render.h"
#include "reconciler/rule_edit.h"
#include "reconciler/status_macros.h"

namespace tqs1::sync {
namespace {

using ::tqs1::log::LogLevel;
using ::tqs1::log::LogTo;
using ::tqs1::v1::Action;
using ::tqs1::v1::ApplyReport;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Plan;
using ::tqs1::v1::Rule;

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

// "1 created, 0 updated, 0 deleted"
std::string DescribeDone(const ApplyReport& report) {
  return absl::StrCat(report.created(), " created, ", report.updated(),
                      " updated, ", report.deleted(), " deleted");
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

absl::Status WithReport(absl::Status status, const ApplyReport& report) {
  status.SetPayload(kApplyReportPayloadUrl,
                    absl::Cord(report.SerializeAsString()));
  return status;
}

bool IsSiteRule(const Rule& rule, const ObservedState& observed) {
  return rule.scope() == tqs1::v1::RULE_SCOPE_SITE &&
         (rule.scope_id().empty() || rule.scope_id() == observed.site_id());
}

bool IsSyncName(const Plan& plan, absl::string_view name) {
  return reconciler::ManagedNameIndex(plan.collection(), name).has_value();
}

// Checks a rule tqs1 is about to send.
absl::Status CheckRuleToWrite(const Plan& plan, const Rule& rule,
                              absl::string_view what) {
  if (!IsSyncName(plan, rule.name())) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " would name a rule \"", rule.name(),
        "\", which is not a name of collection \"", plan.collection(), "\""));
  }
  if (!reconciler::HasOwnershipMarker(rule.description())) {
    return absl::InvalidArgumentError(
        absl::StrCat(what,
                     " would write a rule without tqs1's ownership "
                     "marker \"",
                     reconciler::kOwnershipMarker, "\" in its description"));
  }
  if (rule.action() != tqs1::v1::RULE_ACTION_BLOCK) {
    return absl::InvalidArgumentError(
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
  if (!IsSiteRule(*rule, observed)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " would touch rule \"", rule->name(),
                     "\", which is inherited from another scope (read-only)"));
  }
  if (!IsSyncName(plan, rule->name())) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " would touch rule \"", rule->name(),
        "\", which is not a rule of collection \"", plan.collection(), "\""));
  }
  if (!reconciler::HasOwnershipMarker(rule->description()) &&
      !action.adopts()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " would touch rule \"", rule->name(),
        "\", which does not carry tqs1's ownership marker and is not being "
        "adopted"));
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
        ASSIGN_OR_RETURN(writes[i], reconciler::RuleAfter(nullptr, action));
        RETURN_IF_ERROR(CheckRuleToWrite(plan, writes[i], what));
        break;
      }
      case tqs1::v1::ACTION_KIND_UPDATE:
      case tqs1::v1::ACTION_KIND_DELETE: {
        if (!touched.insert(action.rule_id()).second) {
          return absl::InvalidArgumentError(absl::StrCat(
              what, " touches rule ", action.rule_id(),
              " a second time; a plan writes each rule at most once"));
        }
        auto it = by_id.find(action.rule_id());
        const Rule* current = it == by_id.end() ? nullptr : it->second;
        RETURN_IF_ERROR(
            CheckRuleToTouch(plan, observed, current, action, what));
        if (action.kind() == tqs1::v1::ACTION_KIND_UPDATE) {
          absl::StatusOr<Rule> after = reconciler::RuleAfter(current, action);
          if (!after.ok()) return AddContext(after.status(), what);
          writes[i] = *std::move(after);
          RETURN_IF_ERROR(CheckRuleToWrite(plan, writes[i], what));
        }
        break;
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has no valid kind (", action.kind(), ")"));
    }
  }
  return writes;
}

}  // namespace

absl::StatusOr<ApplyReport> ApplyPlan(const Plan& plan,
                                      sentinelone::FirewallRules& site,
                                      const ApplyOptions& options) {
  http::Clock& clock =
      options.clock != nullptr ? *options.clock : http::RealClock();
  const absl::Time start = clock.Now();
  ApplyReport report;
  report.set_sync_name(plan.sync_name());
  auto finish = [&]() {
    report.set_duration_ms(
        static_cast<uint64_t>(absl::ToInt64Milliseconds(clock.Now() - start)));
  };

  if (plan.site_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the plan for sync \"", plan.sync_name(), "\" names no site id"));
  }
  if (plan.summary().blocked()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the plan for sync \"", plan.sync_name(), "\" is blocked by ",
        BlockingGuards(plan), "; it must not be applied"));
  }

  absl::StatusOr<ObservedState> observed = site.ReadSite(plan.site_id());
  if (!observed.ok()) {
    return AddContext(
        observed.status(),
        absl::StrCat("re-reading site \"", plan.site_name(), "\" (id ",
                     plan.site_id(), ") before applying"));
  }
  const std::string fingerprint = reconciler::ObservedFingerprint(*observed);
  if (fingerprint != plan.observed_fingerprint()) {
    LogTo(options.logger, LogLevel::kWarning,
          absl::StrCat("site \"", plan.site_name(), "\" fingerprint is ",
                       fingerprint, ", the plan was made at ",
                       plan.observed_fingerprint()));
    return absl::AbortedError(
        absl::StrCat("the site changed since the plan was made; run plan "
                     "again (site \"",
                     plan.site_name(), "\", id ", plan.site_id(), ")"));
  }
  ASSIGN_OR_RETURN(std::vector<Rule> writes, PrepareWrites(plan, *observed));

  const int total = plan.actions_size();
  LogTo(options.logger, LogLevel::kInfo,
        absl::StrCat("applying plan for sync \"", plan.sync_name(), "\": ",
                     total, " actions on site \"", plan.site_name(), "\""));
  for (int i = 0; i < total; ++i) {
    const Action& action = plan.actions(i);
    if (options.should_stop && options.should_stop()) {
      finish();
      std::string message = absl::StrCat("apply cancelled before ",
                                         DescribeAction(i, total, action),
                                         "; done: ", DescribeDone(report),
                                         "; re-plan and apply again to finish");
      LogTo(options.logger, LogLevel::kWarning, message);
      return WithReport(absl::CancelledError(message), report);
    }
    if (options.on_action) options.on_action(i, total, action);
    LogTo(options.logger, LogLevel::kDebug,
          absl::StrCat(DescribeAction(i, total, action), ": +",
                       action.add_size(), " -", action.remove_size()));

    absl::Status status;
    switch (action.kind()) {
      case tqs1::v1::ACTION_KIND_CREATE:
        status = site.CreateRule(plan.site_id(), writes[i]).status();
        break;
      case tqs1::v1::ACTION_KIND_UPDATE:
        status = site.UpdateRule(plan.site_id(), writes[i]).status();
        break;
      default:  // DELETE; PrepareWrites refused any other kind.
        status = site.DeleteRule(plan.site_id(), action.rule_id());
        break;
    }
    if (!status.ok()) {
      finish();
      absl::Status failed(
          status.code(),
          absl::StrCat(DescribeAction(i, total, action),
                       " failed: ", status.message(),
                       "; done before it: ", DescribeDone(report),
                       "; re-plan and apply again to converge"));
      status.ForEachPayload(
          [&failed](absl::string_view url, const absl::Cord& payload) {
            failed.SetPayload(url, payload);
          });
      LogTo(options.logger, LogLevel::kWarning, failed.message());
      return WithReport(std::move(failed), report);
    }
    switch (action.kind()) {
      case tqs1::v1::ACTION_KIND_CREATE:
        report.set_created(report.created() + 1);
        break;
      case tqs1::v1::ACTION_KIND_UPDATE:
        report.set_updated(report.updated() + 1);
        break;
      default:
        report.set_deleted(report.deleted() + 1);
        break;
    }
    report.set_addresses_blocked(report.addresses_blocked() +
                                 action.add_size());
    report.set_addresses_unblocked(report.addresses_unblocked() +
                                   action.remove_size());
  }
  finish();
  LogTo(options.logger, LogLevel::kInfo,
        absl::StrCat("applied plan for sync \"", plan.sync_name(),
                     "\": ", DescribeDone(report), "; ",
                     reconciler::FormatCount(report.addresses_blocked()),
                     " address entries added, ",
                     reconciler::FormatCount(report.addresses_unblocked()),
                     " removed, in ", report.duration_ms(), " ms"));
  return report;
}

std::optional<ApplyReport> PartialApplyReport(const absl::Status& status) {
  auto payload = status.GetPayload(kApplyReportPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  ApplyReport report;
  if (!report.ParseFromString(std::string(*payload))) return std::nullopt;
  return report;
}

}  // namespace tqs1::sync

#include "sync/plan_executor.h"

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
#include "base/status_context.h"
#include "base/status_macros.h"
#include "reconciler/admission.h"
#include "reconciler/fingerprint.h"
#include "reconciler/render.h"

namespace tqs1::sync {
namespace {

using ::tqs1::log::LogLevel;
using ::tqs1::log::LogTo;
using ::tqs1::v1::Action;
using ::tqs1::v1::ApplyReport;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Plan;
using ::tqs1::v1::Rule;

// "1 created, 0 updated, 0 deleted"
std::string DescribeDone(const ApplyReport& report) {
  return absl::StrCat(report.created(), " created, ", report.updated(),
                      " updated, ", report.deleted(), " deleted");
}

absl::Status WithReport(absl::Status status, const ApplyReport& report) {
  status.SetPayload(kApplyReportPayloadUrl,
                    absl::Cord(report.SerializeAsString()));
  return status;
}

}  // namespace

absl::StatusOr<ApplyReport> ApplyPlan(const Plan& given,
                                      const tqs1::v1::DesiredState& policy,
                                      sentinelone::FirewallRules& site,
                                      const ApplyOptions& options) {
  tqs1::Clock& clock =
      options.clock != nullptr ? *options.clock : tqs1::RealClock();
  const absl::Time start = clock.Now();
  ApplyReport report;
  report.set_sync_name(given.sync_name());
  auto finish = [&]() {
    report.set_duration_ms(
        static_cast<uint64_t>(absl::ToInt64Milliseconds(clock.Now() - start)));
  };

  if (given.site_id().empty() || !given.error().empty() ||
      given.summary().blocked()) {
    // AdmitPlan() words the refusal; no site to read.
    return reconciler::AdmitPlan(given, policy, ObservedState()).status();
  }
  absl::StatusOr<ObservedState> observed = site.ReadSite(given.site_id());
  if (!observed.ok()) {
    return AddContext(
        observed.status(),
        absl::StrCat("re-reading site \"", given.site_name(), "\" (id ",
                     given.site_id(), ") before applying"));
  }
  if (observed->site_id().empty()) observed->set_site_id(given.site_id());
  absl::StatusOr<reconciler::AdmittedPlan> admitted =
      reconciler::AdmitPlan(given, policy, *observed);
  if (!admitted.ok()) {
    if (admitted.status().code() == absl::StatusCode::kAborted) {
      LogTo(options.logger, LogLevel::kWarning,
            absl::StrCat("site \"", given.site_name(), "\" fingerprint is ",
                         reconciler::ObservedFingerprint(*observed),
                         ", the plan was made at ",
                         given.observed_fingerprint()));
    }
    return admitted.status();
  }
  const Plan& plan = admitted->plan;
  const std::vector<Rule>& writes = admitted->writes;

  const int total = plan.actions_size();
  LogTo(options.logger, LogLevel::kInfo,
        absl::StrCat("applying plan for sync \"", plan.sync_name(), "\": ",
                     total, " actions on site \"", plan.site_name(), "\""));
  for (int i = 0; i < total; ++i) {
    const Action& action = plan.actions(i);
    if (options.should_stop && options.should_stop()) {
      finish();
      std::string message =
          absl::StrCat("apply cancelled before ",
                       reconciler::DescribeAction(i, total, action),
                       "; done: ", DescribeDone(report),
                       "; re-plan and apply again to finish");
      return WithReport(absl::CancelledError(message), report);
    }
    if (options.on_action) options.on_action(i, total, action);
    LogTo(options.logger, LogLevel::kDebug,
          absl::StrCat(reconciler::DescribeAction(i, total, action), ": +",
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
      absl::Status failed = WithMessage(
          status, absl::StrCat(reconciler::DescribeAction(i, total, action),
                               " failed: ", status.message(),
                               "; done before it: ", DescribeDone(report),
                               "; re-plan and apply again to converge"));
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

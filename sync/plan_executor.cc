#include "sync/plan_executor.h"

#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "reconciler/admission.h"
#include "reconciler/fingerprint.h"
#include "sync/plan_runner.h"

namespace tqs1::sync {
namespace {

using ::tqs1::log::LogLevel;
using ::tqs1::log::LogTo;
using ::tqs1::v1::ApplyReport;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Plan;

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

  if ((given.site_id().empty() &&
       given.scope() != tqs1::v1::RULE_SCOPE_GLOBAL) ||
      !given.error().empty() || given.summary().blocked()) {
    // AdmitPlan() words the refusal; no site to read.
    return reconciler::AdmitPlan(given, policy, ObservedState()).status();
  }
  const sentinelone::Scope scope =
      sentinelone::Scope::Of(given.scope(), given.site_id());
  absl::StatusOr<ObservedState> observed = site.ReadSite(scope);
  if (!observed.ok()) {
    return AddContext(
        observed.status(),
        absl::StrCat("re-reading ", scope.Noun(), " \"", given.site_name(),
                     "\" (id ", given.site_id(), ") before applying"));
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
  if (options.before_writes) {
    RETURN_IF_ERROR(options.before_writes(*observed));
  }
  RunOutcome run = RunAdmittedPlan(*admitted, site, options, start);
  if (!run.status.ok()) return WithReport(std::move(run.status), run.report);
  return std::move(run.report);
}

std::optional<ApplyReport> PartialApplyReport(const absl::Status& status) {
  auto payload = status.GetPayload(kApplyReportPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  ApplyReport report;
  if (!report.ParseFromString(std::string(*payload))) return std::nullopt;
  return report;
}

}  // namespace tqs1::sync

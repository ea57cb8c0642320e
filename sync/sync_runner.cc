#include "sync/sync_runner.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "reconciler/planner.h"

namespace tqs1::sync {

using ::tqs1::v1::Plan;

tqs1::v1::DesiredState SyncPolicy(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block) {
  tqs1::v1::DesiredState policy;
  *policy.mutable_sync() = sync;
  for (const tqs1::v1::NeverBlock& entry : never_block) {
    *policy.add_never_block() = entry;
  }
  return policy;
}

absl::StatusOr<Plan> PlanSync(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    threatq::IndicatorSource& source, sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& options) {
  // ThreatQ first: without the desired set there is nothing to plan, and a
  // failed read must never look like an empty collection.
  absl::StatusOr<threatq::CollectionRead> read =
      source.ReadCollection(sync.collection());
  if (!read.ok()) {
    return AddContext(
        read.status(),
        absl::StrCat("reading ThreatQ collection \"", sync.collection(), "\""));
  }
  absl::StatusOr<std::string> site_id = site.FindSite(sync.site());
  if (!site_id.ok()) {
    return AddContext(
        site_id.status(),
        absl::StrCat("finding SentinelOne site \"", sync.site(), "\""));
  }
  absl::StatusOr<tqs1::v1::ObservedState> observed = site.ReadSite(*site_id);
  if (!observed.ok()) {
    return AddContext(observed.status(),
                      absl::StrCat("reading the firewall rules of site \"",
                                   sync.site(), "\" (id ", *site_id, ")"));
  }
  // FindSite names the site; keep that even if the read leaves it out.
  if (observed->site_id().empty()) observed->set_site_id(*site_id);

  tqs1::v1::DesiredState desired = SyncPolicy(sync, never_block);
  desired.mutable_values()->Reserve(static_cast<int>(read->values.size()));
  for (std::string& value : read->values) {
    desired.add_values(std::move(value));
  }
  // Beside each value, the indicator it came from (rejected values name it).
  if (read->indicator_ids.size() == read->values.size()) {
    desired.mutable_indicator_ids()->Assign(read->indicator_ids.begin(),
                                            read->indicator_ids.end());
  }
  *desired.mutable_source() = std::move(read->report);
  return reconciler::ComputePlan(desired, *observed, options);
}

absl::StatusOr<SyncResult> ApplySync(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    threatq::IndicatorSource& source, sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& plan_options,
    const ApplyOptions& apply_options) {
  SyncResult result;
  ASSIGN_OR_RETURN(result.plan,
                   PlanSync(sync, never_block, source, site, plan_options));
  if (result.plan.actions().empty() && !result.plan.summary().blocked()) {
    result.report.set_sync_name(result.plan.sync_name());
    return result;
  }
  ASSIGN_OR_RETURN(result.report,
                   ApplyPlan(result.plan, SyncPolicy(sync, never_block), site,
                             apply_options));
  return result;
}

}  // namespace tqs1::sync

#include "sync/rollout.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace tqs1::sync {

Rollout::Rollout(const std::vector<const tqs1::v1::SyncConfig*>& syncs) {
  for (bool canaries : {true, false}) {
    std::vector<const tqs1::v1::SyncConfig*>& phase = phases_.emplace_back();
    for (const tqs1::v1::SyncConfig* sync : syncs) {
      if (sync->canary() != canaries) continue;
      phase.push_back(sync);
      readers_.push_back(sync);
      if (canaries) readers_.push_back(sync);
    }
  }
}

std::optional<std::string> Rollout::HeldBack(
    const tqs1::v1::SyncConfig& sync) const {
  if (sync.canary()) return std::nullopt;
  auto it = stopped_.find(sync.fleet());
  if (it == stopped_.end()) return std::nullopt;
  return it->second;
}

void Rollout::CanaryFailed(const tqs1::v1::SyncConfig& sync,
                           absl::string_view failed) {
  stopped_.emplace(
      sync.fleet(),
      absl::StrCat("canary sync \"", sync.name(), "\" ", failed,
                   ", so the rollout of \"", sync.fleet(), "\" stopped there"));
}

std::optional<std::string> CanaryVerdict(
    const absl::StatusOr<tqs1::v1::Plan>& again) {
  if (!again.ok()) {
    return absl::StrCat("could not be verified after its apply: ",
                        again.status().message());
  }
  if (again->summary().blocked()) {
    return "could not be verified after its apply: a guard blocks its plan";
  }
  if (!again->actions().empty()) {
    return absl::StrCat("still differs from its collection after its apply (",
                        again->actions_size(), " actions planned again)");
  }
  return std::nullopt;
}

std::optional<std::string> VerifyCanary(RunSyncRequest request,
                                        threatq::IndicatorSource& source,
                                        sentinelone::FirewallRules& site) {
  request.apply = false;
  request.plan = nullptr;
  request.on_plan = nullptr;
  request.approve = nullptr;
  request.ledger = nullptr;
  SyncRunResult run = RunSync(request, source, site);
  if (!run.plan.has_value()) return CanaryVerdict(run.status);
  return CanaryVerdict(*std::move(run.plan));
}

}  // namespace tqs1::sync

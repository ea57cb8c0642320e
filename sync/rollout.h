// A rollout over the sites of one config entry (SyncConfig.canary, from
// `rollout: {first: [Lab], then: rest}`): the canaries run first; the
// entry's other syncs run only when each of its canaries applied and,
// planned again, had nothing left to do. `tqs1 apply` and the scheduled
// applies of `tqs1 serve` both follow it.
//
//   Rollout rollout(selected);
//   SharedReads reads(source, rollout.readers());
//   for (const std::vector<const SyncConfig*>& phase : rollout.phases()) {
//     for (const SyncConfig* sync : phase) {   // or several at once
//       if (auto held = rollout.HeldBack(*sync)) { report *held; continue; }
//       ... apply it ...
//       if (sync->canary() && !ok) rollout.CanaryFailed(*sync, "...");
//     }
//   }
//
// Entries without a canary among the selected syncs run as they are.
#ifndef TQS1_SYNC_ROLLOUT_H_
#define TQS1_SYNC_ROLLOUT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "providers/sentinelone/firewall_rules.h"
#include "providers/threatq/indicator_source.h"
#include "sync/sync_runner.h"

namespace tqs1::sync {

class Rollout {
 public:
  explicit Rollout(const std::vector<const tqs1::v1::SyncConfig*>& syncs);

  // The syncs to run, in two phases: every canary, then the others, each
  // in config order. A phase starts once the one before it has finished
  // (the syncs of one phase may run at once).
  const std::vector<std::vector<const tqs1::v1::SyncConfig*>>& phases() const {
    return phases_;
  }
  // Who reads a collection in the run (for SharedReads): the syncs of
  // phases(), and each canary once more (its verification).
  const std::vector<const tqs1::v1::SyncConfig*>& readers() const {
    return readers_;
  }

  // Why `sync` must not run now, e.g. "canary sync \"C2 -> Lab\" did not
  // apply, so the rollout of \"C2\" stopped there"; nullopt when it may.
  // Canaries always may.
  std::optional<std::string> HeldBack(const tqs1::v1::SyncConfig& sync) const;

  // Canary `sync` failed, as `failed` says ("did not apply", VerifyCanary's
  // words): the other syncs of its entry are held back.
  void CanaryFailed(const tqs1::v1::SyncConfig& sync, absl::string_view failed);

 private:
  std::vector<std::vector<const tqs1::v1::SyncConfig*>> phases_;
  std::vector<const tqs1::v1::SyncConfig*> readers_;
  std::map<std::string, std::string> stopped_;  // entry -> why
};

// What a canary's plan made again after its apply says: nullopt when
// nothing is left to do, else what is wrong ("still differs from its
// collection after its apply (2 actions planned again)", "could not be
// verified after its apply: <error>" or "...: a guard blocks its plan").
std::optional<std::string> CanaryVerdict(
    const absl::StatusOr<tqs1::v1::Plan>& again);

// Plans a canary again after its apply with `request` (its sync and plan
// settings; made a plan only, whatever it asks) and gives the verdict.
std::optional<std::string> VerifyCanary(RunSyncRequest request,
                                        threatq::IndicatorSource& source,
                                        sentinelone::FirewallRules& site);

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_ROLLOUT_H_

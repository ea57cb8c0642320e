// What `tqs1 serve` reports as a sync's drift, from a plan: the entries
// and address space missing and extra, what the site blocks, its disabled
// rules and its Firewall Control configuration; and the drift an apply of
// the plan leaves.
//
//   SyncDrift drift;
//   SetDriftFromPlan(plan, &drift);          // observed
//   SetDriftAfterApply(plan, &drift);        // once the plan is applied
//   if (!SameDrift(before, drift)) ...       // a change to report
#ifndef TQS1_CLI_SERVER_DRIFT_H_
#define TQS1_CLI_SERVER_DRIFT_H_

#include "proto/plan.pb.h"
#include "proto/service.pb.h"

namespace tqs1::server {

// The drift `plan` shows (counts, blocked space, disabled rules, the
// site's firewall configuration and warnings), observed now (not from
// before a restart); the sync's name, times and last applies are left as
// they are.
void SetDriftFromPlan(const tqs1::v1::Plan& plan, tqs1::v1::SyncDrift* drift);

// The drift once `plan` is applied: in sync, the site holding the desired
// set, the disabled rules the plan did not delete still disabled.
void SetDriftAfterApply(const tqs1::v1::Plan& plan, tqs1::v1::SyncDrift* drift);

// Equal but for when (observed_at, last_attempt): a round that finds the
// same drift is no change.
bool SameDrift(tqs1::v1::SyncDrift a, tqs1::v1::SyncDrift b);

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_DRIFT_H_

#include "cli/server/drift.h"

#include <cstdint>

#include "google/protobuf/util/message_differencer.h"

namespace tqs1::server {

using ::google::protobuf::util::MessageDifferencer;
using ::tqs1::v1::SyncDrift;

// The drift a plan shows: entries and their address space (IPv4
// addresses, IPv6 /64s), the managed rules disabled in the console, and the
// site's Firewall Control configuration and warnings.
void SetDriftFromPlan(const tqs1::v1::Plan& plan, SyncDrift* drift) {
  const tqs1::v1::ObservedReport& observed = plan.observed();
  const tqs1::v1::PlanSummary& summary = plan.summary();
  drift->set_in_sync(summary.in_sync());
  drift->set_missing(summary.newly_blocked());
  drift->set_missing_ipv4_addresses(summary.newly_blocked_ipv4_addresses());
  drift->set_missing_ipv6_networks(summary.newly_blocked_ipv6_networks());
  drift->set_extra(summary.unblocked());
  drift->set_extra_ipv4_addresses(summary.unblocked_ipv4_addresses());
  drift->set_extra_ipv6_networks(summary.unblocked_ipv6_networks());
  drift->set_blocked(observed.blocked());
  drift->set_blocked_ipv4_addresses(observed.blocked_ipv4_addresses());
  drift->set_blocked_ipv6_networks(observed.blocked_ipv6_networks());
  drift->set_conflicts(static_cast<uint32_t>(plan.conflicts_size()));
  drift->set_disabled_rules(static_cast<uint32_t>(observed.disabled_rules()));
  drift->set_not_enforced(observed.not_enforced());
  drift->set_not_enforced_ipv4_addresses(
      observed.not_enforced_ipv4_addresses());
  drift->set_not_enforced_ipv6_networks(observed.not_enforced_ipv6_networks());
  drift->set_from_before_restart(false);
  *drift->mutable_firewall() = observed.firewall();
  drift->mutable_warnings()->CopyFrom(observed.warnings());
}

// The drift once `plan` is applied: the site holds exactly the desired set
// (its space is what was blocked, plus what was newly blocked, minus what
// was unblocked). Disabled rules stay disabled: those the plan deleted are
// gone, the entries of those it updated are its count after; their address
// space stays as observed until the next reconcile re-reads the site.
void SetDriftAfterApply(const tqs1::v1::Plan& plan, SyncDrift* drift) {
  SetDriftFromPlan(plan, drift);
  const tqs1::v1::ObservedReport& observed = plan.observed();
  const tqs1::v1::PlanSummary& summary = plan.summary();
  drift->set_in_sync(true);
  drift->set_missing(0);
  drift->set_missing_ipv4_addresses(0);
  drift->set_missing_ipv6_networks(0);
  drift->set_extra(0);
  drift->set_extra_ipv4_addresses(0);
  drift->set_extra_ipv6_networks(0);
  drift->set_blocked(plan.inputs().desired());
  drift->set_blocked_ipv4_addresses(observed.blocked_ipv4_addresses() +
                                    summary.newly_blocked_ipv4_addresses() -
                                    summary.unblocked_ipv4_addresses());
  drift->set_blocked_ipv6_networks(observed.blocked_ipv6_networks() +
                                   summary.newly_blocked_ipv6_networks() -
                                   summary.unblocked_ipv6_networks());
  uint32_t disabled = 0;
  uint64_t not_enforced = 0;
  for (const tqs1::v1::ObservedReport::DisabledRule& rule :
       observed.disabled()) {
    uint64_t entries = rule.entries();
    bool deleted = false;
    for (const tqs1::v1::Action& a : plan.actions()) {
      if (a.rule_id() != rule.rule_id()) continue;
      deleted = a.kind() == tqs1::v1::ACTION_KIND_DELETE;
      entries = a.count_after();
    }
    if (deleted) continue;
    ++disabled;
    not_enforced += entries;
  }
  drift->set_disabled_rules(disabled);
  drift->set_not_enforced(not_enforced);
  if (disabled == 0) {
    drift->set_not_enforced_ipv4_addresses(0);
    drift->set_not_enforced_ipv6_networks(0);
  }
}

bool SameDrift(SyncDrift a, SyncDrift b) {
  for (SyncDrift* d : {&a, &b}) {
    d->clear_observed_at();
    d->clear_last_attempt();
  }
  return MessageDifferencer::Equals(a, b);
}

}  // namespace tqs1::server

// `tqs1 why ADDRESS|CIDR`: what every step from the ThreatQ collection to
// the SentinelOne site says about an address, for one sync. Live (both
// sides read, as a plan does) or from the ledger alone (offline).
//
//   ASSIGN_OR_RETURN(IpPrefix query, reconciler::ParseIpPrefix("203.0.113.7"));
//   WhyFacts facts = ExplainLive(query, sync, never_block, threatq, s1,
//                                options, ipv6_auto, ledger);  // ledger may
//                                                              // be null
//   for (const WhyEntry& e : facts.entries) { ... e.blocked, e.rules ... }
//
// The facts are gathered here; cli/why_command words the verdicts.
#ifndef TQS1_SYNC_WHY_H_
#define TQS1_SYNC_WHY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"
#include "providers/ledger/ledger.h"
#include "providers/sentinelone/firewall_rules.h"
#include "providers/threatq/indicator_source.h"
#include "reconciler/address.h"
#include "sync/sync_runner.h"

namespace tqs1::sync {

// A rule of the site holding an entry that overlaps the query.
struct WhyRule {
  std::string rule_id;
  std::string name;
  std::string entry;  // the entry as the rule holds it
  bool enabled = false;
  bool block = false;  // a BLOCK rule (false: ALLOW or unknown)
  tqs1::v1::RuleScope scope = tqs1::v1::RULE_SCOPE_UNSPECIFIED;
  // A rule of this sync (its name and tqs1's marker): the target's own, or
  // one of a scope above that the target inherits (`inherited`).
  bool tqs1 = false;
  bool inherited = false;
};

// What the ledger says of one entry of this sync.
struct WhyHistory {
  bool held = false;  // a rule of the sync holds it, as the ledger knows
  // The apply since which a rule of the sync holds it without a gap (0:
  // never held), and when it started.
  int64_t since_apply = 0;
  absl::Time since = absl::InfinitePast();
  // The apply that last removed it from the sync's last rule (0: never),
  // and when.
  int64_t unblocked_by = 0;
  absl::Time unblocked_at = absl::InfinitePast();
  // The rules of the sync holding it, as the ledger knows (ids and names).
  std::vector<std::pair<std::string, std::string>> rules;
  // The indicators it came from, as of the apply that added it.
  std::vector<ledger::Source> sources;
};

// One entry (an address or prefix) that overlaps the query.
struct WhyEntry {
  std::string entry;  // canonical
  // Live: the site's rules holding it (any scope, enabled or not).
  std::vector<WhyRule> rules;
  // Live: the collection's indicators that normalize to it.
  std::vector<ledger::Source> indicators;
  // Live: the collection wants it blocked (an indicator normalizes to it,
  // and it is not rejected).
  bool wanted = false;
  // Live: the next apply adds it to a rule / removes it from one.
  bool pending_block = false;
  bool pending_unblock = false;
  // From the ledger, when there is one.
  WhyHistory history;
};

// What one sync says about the query.
struct WhyFacts {
  std::string sync;
  std::string collection;
  std::string site_name;
  std::string site_id;
  // What site_name and site_id name: a site (UNSPECIFIED too), a group, an
  // account, or the global scope.
  tqs1::v1::RuleScope scope = tqs1::v1::RULE_SCOPE_UNSPECIFIED;
  bool live = false;
  bool ledger_read = false;  // a ledger was given and read
  // Every entry overlapping the query that the collection, the site or
  // the ledger knows, sorted by address.
  std::vector<WhyEntry> entries;
  // Live: values of the collection overlapping the query (or written
  // exactly as the query) that the plan rejects, with why.
  std::vector<tqs1::v1::RejectedValue> rejected;
  // Live: indicators set aside (status, type) overlapping the query.
  std::vector<threatq::CollectionRead::SetAside> set_aside;
  // Never-block entries (built-in, config, vendor hosts) overlapping it.
  std::vector<tqs1::v1::NeverBlock> never_block;
};

// Reads the collection and the site (ReadAndPlanSync()) and gathers what
// they, the plan and (when not null) the ledger say about `query`. Reads
// only. Errors: those of ReadAndPlanSync(), and of the ledger's reads.
absl::StatusOr<WhyFacts> ExplainLive(
    const reconciler::IpPrefix& query, const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    threatq::IndicatorSource& source, sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& options, const Ipv6AutoResolver& ipv6_auto,
    ledger::Ledger* ledger);

// What the ledger alone says about `query` for sync `sync_name`: one
// entry per overlapping entry it ever recorded, with its history. Never
// contacts a vendor. `never_block` (the sync's policy) adds the
// never-block entries that overlap.
absl::StatusOr<WhyFacts> ExplainOffline(const reconciler::IpPrefix& query,
                                        const tqs1::v1::DesiredState& policy,
                                        ledger::Ledger& ledger);

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_WHY_H_

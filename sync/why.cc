#include "sync/why.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/status_macros.h"
#include "reconciler/normalize.h"
#include "reconciler/ownership.h"
#include "reconciler/planner.h"
#include "sync/apply_journal.h"

namespace tqs1::sync {
namespace {

using ::tqs1::reconciler::IpPrefix;

// The canonical text of `text` when it parses and overlaps `query`.
std::optional<std::string> Overlapping(absl::string_view text,
                                       const IpPrefix& query) {
  absl::StatusOr<IpPrefix> prefix = reconciler::ParseIpPrefix(text);
  if (!prefix.ok() || !prefix->Overlaps(query)) return std::nullopt;
  return prefix->ToString();
}

// Entries by canonical text, sorted by address at the end.
class Entries {
 public:
  WhyEntry& operator[](const std::string& text) {
    WhyEntry& e = by_text_[text];
    e.entry = text;
    return e;
  }
  std::vector<WhyEntry> Sorted() && {
    std::vector<std::pair<IpPrefix, WhyEntry>> all;
    for (auto& [text, entry] : by_text_) {
      all.emplace_back(*reconciler::ParseIpPrefix(text), std::move(entry));
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return std::make_tuple(a.first.family(), a.first.high_bits(),
                             a.first.low_bits(), a.first.length()) <
             std::make_tuple(b.first.family(), b.first.high_bits(),
                             b.first.low_bits(), b.first.length());
    });
    std::vector<WhyEntry> out;
    for (auto& [prefix, entry] : all) out.push_back(std::move(entry));
    return out;
  }

 private:
  std::map<std::string, WhyEntry> by_text_;
};

std::vector<tqs1::v1::NeverBlock> NeverBlockOverlapping(
    const reconciler::NeverBlockList& list, const IpPrefix& query) {
  std::vector<tqs1::v1::NeverBlock> out;
  for (const reconciler::NeverBlockList::Entry& e : list.entries()) {
    if (!e.prefix.Overlaps(query)) continue;
    tqs1::v1::NeverBlock& n = out.emplace_back();
    n.set_prefix(e.prefix.ToString());
    n.set_reason(e.reason);
  }
  return out;
}

// Replays the ledger's rows of `sync` overlapping `query` into each
// entry's history.
absl::Status AddHistory(const IpPrefix& query, absl::string_view sync,
                        ledger::Ledger& ledger, Entries& entries) {
  ASSIGN_OR_RETURN(std::vector<ledger::EntryHit> hits,
                   ledger.FindEntries(EntryKeyOf(query), sync));
  struct Replay {
    std::map<std::string, std::string> rules;  // id -> name
    WhyHistory history;
  };
  std::map<std::string, Replay> replays;
  std::set<int64_t> applies;
  for (const ledger::EntryHit& hit : hits) {
    std::optional<std::string> text = Overlapping(hit.entry.text, query);
    if (!text.has_value()) continue;  // IPv6 beyond the key's /64
    Replay& r = replays[*text];
    if (hit.added) {
      if (r.rules.empty()) {
        r.history.since_apply = hit.apply_id;
        applies.insert(hit.apply_id);
      }
      r.rules[hit.rule_id] = hit.rule_name;
      if (!hit.entry.sources.empty()) r.history.sources = hit.entry.sources;
    } else if (r.rules.erase(hit.rule_id) > 0 && r.rules.empty()) {
      r.history.unblocked_by = hit.apply_id;
      applies.insert(hit.apply_id);
    }
  }
  std::map<int64_t, absl::Time> started;
  for (int64_t id : applies) {
    ASSIGN_OR_RETURN(ledger::ApplyRecord apply, ledger.GetApply(id));
    started[id] = apply.started;
  }
  for (auto& [text, r] : replays) {
    WhyHistory& h = r.history;
    h.held = !r.rules.empty();
    if (!h.held) h.since_apply = 0;
    if (h.since_apply != 0) h.since = started[h.since_apply];
    if (h.unblocked_by != 0) h.unblocked_at = started[h.unblocked_by];
    for (const auto& [id, name] : r.rules) h.rules.emplace_back(id, name);
    entries[text].history = std::move(h);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WhyFacts> ExplainLive(
    const IpPrefix& query, const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    threatq::IndicatorSource& source, sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& options, const Ipv6AutoResolver& ipv6_auto,
    ledger::Ledger* ledger) {
  SyncStep failed = tqs1::v1::SYNC_STEP_UNSPECIFIED;
  ASSIGN_OR_RETURN(SyncReading reading,
                   ReadAndPlanSync(sync, never_block, source, site, options,
                                   ipv6_auto, &failed));
  const tqs1::v1::Plan& plan = reading.plan;
  const tqs1::v1::DesiredState& desired = reading.desired;
  WhyFacts facts;
  facts.live = true;
  facts.sync = plan.sync_name();
  facts.collection = plan.collection();
  facts.site_name = plan.site_name();
  facts.site_id = plan.site_id();
  facts.scope = plan.scope();
  ASSIGN_OR_RETURN(const reconciler::NeverBlockList never,
                   reconciler::NeverBlockList::Create(desired));
  facts.never_block = NeverBlockOverlapping(never, query);
  Entries entries;

  // The collection: every value that reads as an overlapping prefix and
  // that normalization keeps (the plan lists only what it adds, so the
  // kept set is derived again here, off any apply's path).
  absl::flat_hash_set<std::string> wanted;
  for (const IpPrefix& p :
       reconciler::NormalizeValues(
           desired, never, reconciler::GuardSettings::FromProto(sync.guards()))
           .prefixes) {
    if (p.Overlaps(query)) wanted.insert(p.ToString());
  }
  for (int i = 0; i < desired.values_size(); ++i) {
    std::optional<std::string> text = Overlapping(desired.values(i), query);
    // A value normalization does not keep is among the rejected values.
    if (!text.has_value() || !wanted.contains(*text)) continue;
    WhyEntry& e = entries[*text];
    e.indicators.push_back(SourceOf(desired, i));
    e.wanted = true;
  }
  const std::string query_text = query.ToString();
  for (const tqs1::v1::RejectedValue& r : plan.inputs().rejected()) {
    if (r.value() == query_text || Overlapping(r.value(), query)) {
      facts.rejected.push_back(r);
    }
  }
  for (threatq::CollectionRead::SetAside& s : reading.set_aside) {
    if (s.value == query_text || Overlapping(s.value, query)) {
      facts.set_aside.push_back(std::move(s));
    }
  }

  // The site: every rule holding an overlapping entry.
  for (const tqs1::v1::Rule& rule : reading.observed.rules()) {
    const bool inherited = reconciler::IsInheritedSyncRule(
        rule, reading.observed, plan.collection());
    const bool tqs1 =
        inherited ||
        reconciler::IsManagedRule(rule, reading.observed, plan.collection());
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      for (const std::string& value : hosts.values()) {
        std::optional<std::string> text = Overlapping(value, query);
        if (!text.has_value()) continue;
        WhyRule& w = entries[*text].rules.emplace_back();
        w.rule_id = rule.id();
        w.name = rule.name();
        w.entry = value;
        w.enabled = rule.enabled();
        w.block = rule.action() == tqs1::v1::RULE_ACTION_BLOCK;
        w.scope = rule.scope();
        w.tqs1 = tqs1;
        w.inherited = inherited;
      }
    }
  }

  // The plan: what the next apply would change.
  for (const tqs1::v1::Action& action : plan.actions()) {
    for (const std::string& value : action.add()) {
      if (auto text = Overlapping(value, query)) {
        entries[*text].pending_block = true;
      }
    }
    for (const std::string& value : action.remove()) {
      if (auto text = Overlapping(value, query)) {
        entries[*text].pending_unblock = true;
      }
    }
  }

  if (ledger != nullptr) {
    RETURN_IF_ERROR(AddHistory(query, facts.sync, *ledger, entries));
    facts.ledger_read = true;
  }
  facts.entries = std::move(entries).Sorted();
  // An entry moved between two of the sync's rules is added and removed:
  // it stays blocked.
  for (WhyEntry& e : facts.entries) {
    if (e.pending_block) e.pending_unblock = false;
  }
  return facts;
}

absl::StatusOr<WhyFacts> ExplainOffline(const IpPrefix& query,
                                        const tqs1::v1::DesiredState& policy,
                                        ledger::Ledger& ledger) {
  WhyFacts facts;
  facts.sync = reconciler::SyncDisplayName(policy.sync());
  facts.collection = policy.sync().collection();
  facts.scope = reconciler::SyncScope(policy.sync());
  facts.site_name = reconciler::SyncTargetName(policy.sync());
  ASSIGN_OR_RETURN(const reconciler::NeverBlockList never,
                   reconciler::NeverBlockList::Create(policy));
  facts.never_block = NeverBlockOverlapping(never, query);
  ledger::ApplyFilter last;
  last.sync = facts.sync;
  last.limit = 1;
  ASSIGN_OR_RETURN(std::vector<ledger::ApplyRecord> latest,
                   ledger.ListApplies(last));
  if (!latest.empty()) {
    facts.site_name = latest.back().site_name;
    facts.site_id = latest.back().site_id;
  }
  Entries entries;
  RETURN_IF_ERROR(AddHistory(query, facts.sync, ledger, entries));
  facts.ledger_read = true;
  facts.entries = std::move(entries).Sorted();
  return facts;
}

}  // namespace tqs1::sync

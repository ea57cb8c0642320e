#include "sync/apply_journal.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "reconciler/ownership.h"

namespace tqs1::sync {
namespace {

using ::tqs1::v1::Action;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

// Every entry a rule holds, as it appears in the rule.
std::set<std::string> EntriesOf(const Rule& rule) {
  std::set<std::string> entries;
  for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
    entries.insert(hosts.values().begin(), hosts.values().end());
  }
  return entries;
}

ledger::WriteKind KindOf(const Action& action) {
  switch (action.kind()) {
    case tqs1::v1::ACTION_KIND_CREATE:
      return ledger::WriteKind::kCreate;
    case tqs1::v1::ACTION_KIND_UPDATE:
      return ledger::WriteKind::kUpdate;
    default:
      return ledger::WriteKind::kDelete;
  }
}

// One "observed" row: what the site's rule holds that the ledger does not
// know, and what the ledger knows that the rule no longer holds.
struct ObservedDifference {
  std::string rule_id;
  std::string rule_name;
  std::vector<std::string> added;
  std::vector<std::string> removed;
};

}  // namespace

ledger::EntryKey EntryKeyOf(const reconciler::IpPrefix& prefix) {
  ledger::EntryKey key;
  if (prefix.family() == reconciler::IpPrefix::Family::kV4) {
    const int host_bits = 32 - prefix.length();
    const uint64_t first = prefix.low_bits() & 0xffffffffu;
    key.family = 4;
    key.first = first;
    key.last = first | ((uint64_t{1} << host_bits) - 1);
    return key;
  }
  key.family = 6;
  key.first = prefix.high_bits();
  const int network_bits = prefix.length() < 64 ? 64 - prefix.length() : 0;
  key.last = network_bits == 64
                 ? ~uint64_t{0}
                 : prefix.high_bits() | ((uint64_t{1} << network_bits) - 1);
  return key;
}

ledger::Source SourceOf(const tqs1::v1::DesiredState& desired, int i) {
  ledger::Source s;
  s.value = desired.values(i);
  if (desired.indicator_ids_size() == desired.values_size()) {
    s.indicator_id = desired.indicator_ids(i);
  }
  if (desired.origin_of_size() == desired.values_size() &&
      static_cast<int>(desired.origin_of(i)) < desired.origins_size()) {
    const tqs1::v1::IndicatorOrigin& o =
        desired.origins(static_cast<int>(desired.origin_of(i)));
    s.type = o.type();
    s.status = o.status();
  }
  return s;
}

ledger::WrittenEntry LedgerEntry(absl::string_view text) {
  ledger::WrittenEntry entry;
  entry.text = std::string(text);
  absl::StatusOr<reconciler::IpPrefix> prefix = reconciler::ParseIpPrefix(text);
  if (prefix.ok()) entry.key = EntryKeyOf(*prefix);
  return entry;
}

absl::string_view LedgerOutcome(tqs1::v1::SyncOutcome outcome) {
  switch (outcome) {
    case tqs1::v1::SYNC_OUTCOME_APPLIED:
      return ledger::kOutcomeApplied;
    case tqs1::v1::SYNC_OUTCOME_INTERRUPTED:
      return ledger::kOutcomeInterrupted;
    case tqs1::v1::SYNC_OUTCOME_DECLINED:
    case tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING:
      return ledger::kOutcomeDeclined;
    case tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED:
      return ledger::kOutcomeGuardBlocked;
    default:
      return ledger::kOutcomeFailed;
  }
}

ApplyJournal::ApplyJournal(ledger::Ledger& ledger, ApplyIdentity identity,
                           const tqs1::v1::Plan& plan,
                           const tqs1::v1::DesiredState* desired,
                           tqs1::Clock* clock)
    : ledger_(ledger),
      plan_(plan),
      desired_(desired),
      clock_(clock != nullptr ? *clock : tqs1::RealClock()) {
  record_.started = clock_.Now();
  record_.finished = record_.started;
  record_.host = std::move(identity.host);
  record_.user = std::move(identity.user);
  record_.version = std::move(identity.version);
  record_.run_id = std::move(identity.run_id);
  record_.sync = plan.sync_name();
  record_.collection = plan.collection();
  record_.site_id = plan.site_id();
  record_.site_name = plan.site_name();
  record_.fingerprint = plan.observed_fingerprint();
  record_.restore_of = plan.restore_of();
}

void ApplyJournal::Attach(ApplyOptions& options) {
  options.before_writes = [this](const ObservedState& site) {
    return Begin(site);
  };
  options.after_write = [this](int index, const Action& action,
                               absl::string_view rule_id) {
    return Record(index, action, rule_id);
  };
}

absl::Status ApplyJournal::RecordStart() {
  ASSIGN_OR_RETURN(apply_id_, ledger_.BeginApply(record_));
  record_.id = apply_id_;
  return absl::OkStatus();
}

absl::Status ApplyJournal::Begin(const ObservedState& site) {
  RETURN_IF_ERROR(RecordStart());
  return RecordObserved(site);
}

absl::Status ApplyJournal::RecordObserved(const ObservedState& site) {
  using HeldRules = std::map<std::string, ledger::HeldRule>;
  ASSIGN_OR_RETURN(HeldRules held,
                   ledger_.HeldBy(record_.sync, record_.site_id));
  // The sync's rules on the site: its names, marked as tqs1's, or taken
  // over by this plan (--adopt).
  absl::flat_hash_set<std::string> adopted;
  for (const Action& action : plan_.actions()) {
    if (action.adopts()) adopted.insert(action.rule_id());
  }
  std::vector<ObservedDifference> differences;
  absl::flat_hash_set<std::string> on_site;
  for (const Rule& rule : site.rules()) {
    // An adopted rule's action was admitted: a site rule of the sync's
    // names, without the marker until this apply writes it.
    if (!adopted.contains(rule.id()) &&
        !reconciler::IsManagedRule(rule, site, plan_.collection())) {
      continue;
    }
    on_site.insert(rule.id());
    const std::set<std::string> entries = EntriesOf(rule);
    static const std::set<std::string> kNone;
    auto known = held.find(rule.id());
    const std::set<std::string>& before =
        known == held.end() ? kNone : known->second.entries;
    ObservedDifference d{rule.id(), rule.name(), {}, {}};
    for (const std::string& e : entries) {
      if (before.count(e) == 0) d.added.push_back(e);
    }
    for (const std::string& e : before) {
      if (entries.count(e) == 0) d.removed.push_back(e);
    }
    if (!d.added.empty() || !d.removed.empty()) {
      differences.push_back(std::move(d));
    }
  }
  for (const auto& [rule_id, rule] : held) {
    if (on_site.contains(rule_id)) continue;
    ObservedDifference d{rule_id, rule.name, {}, {}};
    d.removed.assign(rule.entries.begin(), rule.entries.end());
    if (!d.removed.empty()) differences.push_back(std::move(d));
  }
  absl::flat_hash_set<absl::string_view> found;
  for (const ObservedDifference& d : differences) {
    for (const std::string& e : d.added) {
      found.insert(observed_added_.emplace_back(e));
    }
  }
  IndexSources(std::move(found));
  for (const ObservedDifference& d : differences) {
    ledger::WriteRecord write;
    write.kind = ledger::WriteKind::kObserved;
    write.rule_id = d.rule_id;
    write.rule_name = d.rule_name;
    for (const std::string& e : d.added) {
      write.added.push_back(LedgerEntry(e));
      write.added.back().sources = SourcesOf(e);
    }
    for (const std::string& e : d.removed) {
      write.removed.push_back(LedgerEntry(e));
    }
    RETURN_IF_ERROR(ledger_.RecordWrite(apply_id_, write));
  }
  return absl::OkStatus();
}

absl::Status ApplyJournal::Record(int index, const Action& action,
                                  absl::string_view rule_id) {
  ledger::WriteRecord write;
  write.kind = KindOf(action);
  write.action = index;
  write.rule_id = std::string(rule_id);
  write.rule_name = action.name();
  write.added.reserve(action.add_size());
  for (const std::string& e : action.add()) {
    write.added.push_back(LedgerEntry(e));
    write.added.back().sources = SourcesOf(e);
  }
  write.removed.reserve(action.remove_size());
  for (const std::string& e : action.remove()) {
    write.removed.push_back(LedgerEntry(e));
  }
  return ledger_.RecordWrite(apply_id_, write);
}

std::vector<ledger::Source> ApplyJournal::SourcesOf(absl::string_view entry) {
  std::vector<ledger::Source> sources;
  if (desired_ == nullptr) return sources;
  auto found = sources_.find(entry);
  if (found == sources_.end()) return sources;
  for (int i = found->second.first; i >= 0;
       i = next_source_[static_cast<size_t>(i)]) {
    sources.push_back(SourceOf(*desired_, i));
  }
  return sources;
}

// Maps each desired value to the entry it normalizes to, for the entries
// this apply adds (the planner writes canonical entries) and `found` (what
// the site holds that the ledger did not know). Values that do not parse
// have no entry.
void ApplyJournal::IndexSources(absl::flat_hash_set<absl::string_view> adds) {
  if (desired_ == nullptr) return;
  size_t total = adds.size();
  for (const Action& action : plan_.actions()) total += action.add_size();
  adds.reserve(total);
  for (const Action& action : plan_.actions()) {
    adds.insert(action.add().begin(), action.add().end());
  }
  if (adds.empty()) return;
  sources_.reserve(adds.size());
  next_source_.assign(static_cast<size_t>(desired_->values_size()), -1);
  auto add = [&](absl::string_view entry, int i) {
    // The key views the set's text (the plan's, or observed_added_).
    auto [it, inserted] = sources_.try_emplace(*adds.find(entry), i, i);
    if (!inserted) {
      next_source_[static_cast<size_t>(it->second.second)] = i;
      it->second.second = i;
    }
  };
  for (int i = 0; i < desired_->values_size(); ++i) {
    const std::string& value = desired_->values(i);
    if (adds.contains(value)) {
      add(value, i);
      continue;
    }
    absl::StatusOr<reconciler::IpPrefix> prefix =
        reconciler::ParseIpPrefix(value);
    if (!prefix.ok()) continue;
    const std::string canonical = prefix->ToString();
    if (adds.contains(canonical)) add(canonical, i);
  }
}

absl::Status ApplyJournal::Finish(tqs1::v1::SyncOutcome outcome,
                                  const tqs1::v1::ApplyReport& report,
                                  const absl::Status& status) {
  if (apply_id_ == 0) RETURN_IF_ERROR(RecordStart());
  record_.finished = clock_.Now();
  record_.outcome = std::string(LedgerOutcome(outcome));
  record_.created = report.created();
  record_.updated = report.updated();
  record_.deleted = report.deleted();
  record_.blocked = report.addresses_blocked();
  record_.unblocked = report.addresses_unblocked();
  record_.duration_ms = report.duration_ms();
  record_.error = std::string(status.message());
  return ledger_.FinishApply(record_);
}

}  // namespace tqs1::sync

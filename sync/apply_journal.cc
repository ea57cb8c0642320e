#include "sync/apply_journal.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
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

// The type and status of origin `origin` of `desired` into `s`, when there
// is such an origin.
void SetOrigin(const tqs1::v1::DesiredState& desired, uint32_t origin,
               ledger::Source& s) {
  if (origin >= static_cast<uint32_t>(desired.origins_size())) return;
  const tqs1::v1::IndicatorOrigin& o =
      desired.origins(static_cast<int>(origin));
  s.type = o.type();
  s.status = o.status();
}

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
  if (desired.origin_of_size() == desired.values_size()) {
    SetOrigin(desired, desired.origin_of(i), s);
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

absl::StatusOr<std::vector<ApplyJournal::ObservedDifference>>
ApplyJournal::Differences(const ObservedState& site) {
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
  return differences;
}

absl::Status ApplyJournal::RecordObserved(const ObservedState& site) {
  ASSIGN_OR_RETURN(std::vector<ObservedDifference> differences,
                   Differences(site));
  return RecordDifferences(differences);
}

absl::Status ApplyJournal::RecordDifferences(
    const std::vector<ObservedDifference>& differences) {
  for (const ObservedDifference& d : differences) {
    ledger::WriteRecord write;
    write.kind = ledger::WriteKind::kObserved;
    write.rule_id = d.rule_id;
    write.rule_name = d.rule_name;
    for (const std::string& e : d.added) {
      write.added.push_back(LedgerEntry(e));
      write.added.back().sources = SourcesOf(write.added.back());
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
    write.added.back().sources = SourcesOf(write.added.back());
  }
  write.removed.reserve(action.remove_size());
  for (const std::string& e : action.remove()) {
    write.removed.push_back(LedgerEntry(e));
  }
  return ledger_.RecordWrite(apply_id_, write);
}

std::vector<ledger::Source> ApplyJournal::SourcesOf(
    const ledger::WrittenEntry& entry) {
  std::vector<ledger::Source> sources;
  if (desired_ == nullptr || entry.key.family == 0) return sources;
  if (!indexed_) IndexSources();
  ValueKey key;
  key.family = entry.key.family;
  key.first = entry.key.first;
  key.last = entry.key.last;
  const auto same_entry = [&key](const ValueKey& v) {
    return v.family == key.family && v.first == key.first && v.last == key.last;
  };
  // A write's entries come in address order: search forward from the last
  // look-up, in steps that double (every value before `lo` is below `key`),
  // then binary search the last step.
  const size_t n = value_keys_.size();
  size_t lo = next_key_ > 0 && value_keys_[next_key_ - 1] < key ? next_key_ : 0;
  size_t hi = lo;
  for (size_t step = 1; hi < n && value_keys_[hi] < key; step *= 2) {
    lo = hi + 1;
    hi = lo + step;
  }
  auto it = std::lower_bound(
      value_keys_.begin() + static_cast<ptrdiff_t>(lo),
      value_keys_.begin() + static_cast<ptrdiff_t>(std::min(hi, n)), key);
  for (; it != value_keys_.end() && same_entry(*it); ++it) {
    ledger::Source& s = sources.emplace_back();
    s.indicator_id = it->indicator_id;
    s.value = it->canonical ? entry.text : desired_->values(it->value);
    SetOrigin(*desired_, it->origin, s);
  }
  next_key_ = static_cast<size_t>(it - value_keys_.begin());
  return sources;
}

// Keys each desired value by the entry it normalizes to (its prefix, host
// bits cleared), sorted: the sources of an added entry are then the values
// of its key, in the collection's order. Values that do not parse have no
// entry. Built at the first added entry: an apply that only deletes parses
// nothing. A sorted vector that carries what a source needs, rather than a
// hash map into the desired state: at 1M values, each look-up into the
// collection's order is a cache miss, and those were most of what the
// ledger added to an apply.
void ApplyJournal::IndexSources() {
  indexed_ = true;
  const int n = desired_->values_size();
  const bool ids = desired_->indicator_ids_size() == n;
  const bool origins = desired_->origin_of_size() == n;
  value_keys_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::string& value = desired_->values(i);
    absl::StatusOr<reconciler::IpPrefix> prefix =
        reconciler::ParseIpPrefix(value);
    if (!prefix.ok()) continue;
    const ledger::EntryKey entry = EntryKeyOf(*prefix);
    ValueKey& v = value_keys_.emplace_back();
    v.family = entry.family;
    v.first = entry.first;
    v.last = entry.last;
    v.value = i;
    v.indicator_id = ids ? desired_->indicator_ids(i) : 0;
    v.origin = origins ? desired_->origin_of(i) : ~uint32_t{0};
    v.canonical = prefix->ToString() == value;
  }
  std::sort(value_keys_.begin(), value_keys_.end());
}

absl::Status ApplyJournal::SettleInSync(const ObservedState& site) {
  ASSIGN_OR_RETURN(std::vector<ObservedDifference> differences,
                   Differences(site));
  if (!differences.empty()) {
    // Recorded as an apply without writes; starting it ends one left
    // "running".
    RETURN_IF_ERROR(RecordStart());
    RETURN_IF_ERROR(RecordDifferences(differences));
    return Finish(tqs1::v1::SYNC_OUTCOME_APPLIED, {}, absl::OkStatus());
  }
  // An apply left "running" is the sync's newest: any later one ended it.
  ledger::ApplyFilter newest;
  newest.sync = record_.sync;
  newest.limit = 1;
  ASSIGN_OR_RETURN(std::vector<ledger::ApplyRecord> last,
                   ledger_.ListApplies(newest));
  if (last.empty() || last[0].outcome != ledger::kOutcomeRunning) {
    return absl::OkStatus();
  }
  last[0].outcome = std::string(ledger::kOutcomeEnded);
  return ledger_.FinishApply(last[0]);
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

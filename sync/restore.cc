#include "sync/restore.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace tqs1::sync {

absl::StatusOr<RecordedSet> ReadRecordedSet(ledger::Ledger& ledger,
                                            int64_t apply_id) {
  RecordedSet set;
  ASSIGN_OR_RETURN(set.apply, ledger.GetApply(apply_id));
  if (set.apply.outcome == ledger::kOutcomeRunning) {
    return absl::FailedPreconditionError(absl::StrCat(
        "apply ", apply_id, " is still running; restore a finished one"));
  }
  using HeldRules = std::map<std::string, ledger::HeldRule>;
  ASSIGN_OR_RETURN(HeldRules held,
                   ledger.HeldBy(set.apply.sync, set.apply.site_id, apply_id));
  std::set<std::string> entries;
  for (const auto& [id, rule] : held) {
    entries.insert(rule.entries.begin(), rule.entries.end());
  }
  set.entries.assign(entries.begin(), entries.end());
  return set;
}

absl::StatusOr<threatq::CollectionRead> RecordedSetSource::ReadCollection(
    absl::string_view) {
  threatq::CollectionRead read;
  read.values = set_.entries;
  read.indicator_ids.assign(read.values.size(), 0);
  read.origins = {{"IP Address", "Active"}, {"CIDR Block", "Active"}};
  for (const std::string& value : read.values) {
    read.origin_of.push_back(value.find('/') == std::string::npos ? 0 : 1);
  }
  read.report.set_indicators_read(read.values.size());
  return read;
}

}  // namespace tqs1::sync

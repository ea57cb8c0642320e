// Records one apply in the ledger (providers/ledger/ledger.h) as it goes:
// RunSync() makes one for every apply that reaches a decision when a
// ledger is given.
//
//   ApplyJournal journal(ledger, identity, plan, &reading.desired);
//   journal.Attach(options);        // before_writes and after_write hooks
//   absl::StatusOr<ApplyReport> report = ApplyPlan(plan, policy, site,
//                                                  options);
//   absl::Status recorded = journal.Finish(outcome, report, status);
//
// The order, which a SIGKILL anywhere leaves consistent:
//   1. before the first write (the plan admitted against the re-read site):
//      the apply is recorded as "running", then what the site's managed
//      rules hold and the ledger does not know (or knows and the site no
//      longer holds) as "observed" rows: a console edit, or a write whose
//      record a killed process never made. A failure here refuses the
//      apply: nothing is written.
//   2. each write SentinelOne accepted, then its row (its entries, and for
//      each added entry the indicators it came from). A row that cannot be
//      written stops the apply before its next write: the writes done stay
//      (every prefix of a plan is safe), and the next apply records them as
//      "observed".
//   3. how it ended (counts, outcome, error). A process killed before this
//      leaves "running", which the next apply of the sync turns into
//      "ended".
// A run that writes nothing (a guard blocks it, the operator declines,
// no terminal to confirm on, an interrupt before the first write, a plan
// refused on the re-read site) is recorded at Finish() with its outcome.
// Plans without actions (in sync) are not recorded, unless the ledger must
// catch up with the site (SettleInSync()). The plan path never touches the
// ledger.
#ifndef TQS1_SYNC_APPLY_JOURNAL_H_
#define TQS1_SYNC_APPLY_JOURNAL_H_

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/clock.h"
#include "proto/plan.pb.h"
#include "proto/run.pb.h"
#include "proto/state.pb.h"
#include "providers/ledger/ledger.h"
#include "reconciler/address.h"
#include "sync/apply_options.h"

namespace tqs1::sync {

// Who and what ran an apply, for its ledger record.
struct ApplyIdentity {
  std::string host;
  std::string user;
  std::string version;
  std::string run_id;
};

// The ledger's key of a prefix (ledger::EntryKey).
ledger::EntryKey EntryKeyOf(const reconciler::IpPrefix& prefix);

// The entry `text` as the ledger records it: its key when it parses (with
// host bits set too: then the key of its network), family 0 (overlapping
// nothing) when it does not.
ledger::WrittenEntry LedgerEntry(absl::string_view text);

// The ThreatQ indicator of `desired.values(i)`: its value as written, and
// its id, type and status when the desired state carries them.
ledger::Source SourceOf(const tqs1::v1::DesiredState& desired, int i);

// The ledger's outcome word for a sync's outcome.
absl::string_view LedgerOutcome(tqs1::v1::SyncOutcome outcome);

class ApplyJournal {
 public:
  // `ledger`, `plan` and `desired` must outlive the journal. `desired`
  // (may be null: a saved plan applied, whose collection is not read again)
  // gives each added entry its sources.
  ApplyJournal(ledger::Ledger& ledger, ApplyIdentity identity,
               const tqs1::v1::Plan& plan,
               const tqs1::v1::DesiredState* desired,
               tqs1::Clock* clock = nullptr);

  // Sets options.before_writes and options.after_write to this journal's
  // steps 1 and 2.
  void Attach(ApplyOptions& options);

  // Step 3: records how the apply ended (first recording the apply itself
  // when step 1 never ran). `report` is what was written; `status` why it
  // stopped (OK when it did not).
  absl::Status Finish(tqs1::v1::SyncOutcome outcome,
                      const tqs1::v1::ApplyReport& report,
                      const absl::Status& status);

  // For an apply that found the site in sync (nothing to write, so
  // nothing recorded, Finish() not called): catches the ledger up with
  // `site` when it must. What the sync's managed rules hold that the ledger
  // does not know (or the reverse: a killed process's last write, never
  // recorded) is recorded as an apply without writes, its "observed" rows,
  // outcome "applied"; else an apply left "running" (a process killed
  // between its last recorded write and the end) is marked "ended".
  // Nothing else is written.
  absl::Status SettleInSync(const tqs1::v1::ObservedState& site);

  // The apply's id once recorded; 0 before.
  int64_t apply_id() const { return apply_id_; }

 private:
  // Records the apply as "running"; sets apply_id_.
  absl::Status RecordStart();
  absl::Status Begin(const tqs1::v1::ObservedState& site);
  absl::Status RecordObserved(const tqs1::v1::ObservedState& site);
  // One "observed" row: what the site's rule holds that the ledger does
  // not know, and what the ledger knows that the rule no longer holds.
  struct ObservedDifference {
    std::string rule_id;
    std::string rule_name;
    std::vector<std::string> added;
    std::vector<std::string> removed;
  };
  // What the sync's managed rules on `site` hold that the ledger does not
  // know, and the reverse, by rule.
  absl::StatusOr<std::vector<ObservedDifference>> Differences(
      const tqs1::v1::ObservedState& site);
  absl::Status RecordDifferences(
      const std::vector<ObservedDifference>& differences);
  absl::Status Record(int index, const tqs1::v1::Action& action,
                      absl::string_view rule_id);
  // The desired values that normalize to `entry`, as its sources.
  std::vector<ledger::Source> SourcesOf(const ledger::WrittenEntry& entry);
  void IndexSources();

  ledger::Ledger& ledger_;
  ledger::ApplyRecord record_;
  const tqs1::v1::Plan& plan_;
  const tqs1::v1::DesiredState* desired_;
  tqs1::Clock& clock_;
  int64_t apply_id_ = 0;  // 0 until RecordStart()
  // Each parsing desired value's entry key, sorted by key, then by the
  // value's index (IndexSources()).
  struct ValueKey {
    // The entry's key (ledger::EntryKey), packed.
    uint64_t first = 0;
    uint64_t last = 0;
    uint64_t indicator_id = 0;
    int value = -1;       // index in desired_->values()
    uint32_t origin = 0;  // index in desired_->origins(); past its end: none
    uint8_t family = 0;
    bool canonical = false;  // the value is written as its entry is
    bool operator<(const ValueKey& other) const {
      return std::tie(family, first, last, value) <
             std::tie(other.family, other.first, other.last, other.value);
    }
  };
  std::vector<ValueKey> value_keys_;
  bool indexed_ = false;
  size_t next_key_ = 0;  // where the last SourcesOf() look-up ended
};

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_APPLY_JOURNAL_H_

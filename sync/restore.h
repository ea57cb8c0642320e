// `tqs1 plan --restore APPLY_ID`: the address set the ledger recorded after
// an apply, as an IndicatorSource, so that a restore is planned, guarded,
// signed and applied exactly like a normal plan.
//
//   ASSIGN_OR_RETURN(RecordedSet set, ReadRecordedSet(ledger, 12));
//   RecordedSetSource source(set);
//   request.restore_of = 12;
//   SyncRunResult run = RunSync(request, source, s1);  // plan.restore_of 12
#ifndef TQS1_SYNC_RESTORE_H_
#define TQS1_SYNC_RESTORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "providers/ledger/ledger.h"
#include "providers/threatq/indicator_source.h"

namespace tqs1::sync {

// What the sync's rules held after one apply.
struct RecordedSet {
  ledger::ApplyRecord apply;
  std::vector<std::string> entries;  // sorted, unique
};

// The entries the rules of apply `apply_id`'s sync held at its site after
// that apply (Ledger::HeldBy()). kNotFound for an unknown apply;
// kFailedPrecondition for an apply that is still "running".
absl::StatusOr<RecordedSet> ReadRecordedSet(ledger::Ledger& ledger,
                                            int64_t apply_id);

// Answers every ReadCollection() with the recorded entries (type "IP
// Address" or "CIDR Block", status "Active", no indicator ids).
class RecordedSetSource : public threatq::IndicatorSource {
 public:
  explicit RecordedSetSource(const RecordedSet& set) : set_(set) {}
  absl::StatusOr<threatq::CollectionRead> ReadCollection(
      absl::string_view collection) override;

 private:
  const RecordedSet& set_;
};

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_RESTORE_H_

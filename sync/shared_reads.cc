#include "sync/shared_reads.h"

#include <algorithm>
#include <utility>

namespace tqs1::sync {

SharedReads::SharedReads(threatq::IndicatorSource& source,
                         const std::vector<const tqs1::v1::SyncConfig*>& syncs)
    : source_(source) {
  for (const tqs1::v1::SyncConfig* sync : syncs) {
    // A sync may read twice (a canary, planned again once applied): one
    // name, each read counted.
    Shared& s = shared_[sync->collection()];
    if (std::find(s.syncs.begin(), s.syncs.end(), sync->name()) ==
        s.syncs.end()) {
      s.syncs.push_back(sync->name());
    }
    ++s.left;
  }
}

absl::StatusOr<threatq::CollectionRead> SharedReads::ReadCollection(
    absl::string_view collection) {
  auto it = shared_.find(collection);
  if (it == shared_.end() || it->second.left <= 0) {
    return source_.ReadCollection(collection);
  }
  Shared& s = it->second;
  if (!s.read) {
    s.read = true;
    s.result = source_.ReadCollection(collection);
    if (s.result.ok() && s.syncs.size() > 1) {
      for (const std::string& name : s.syncs) {
        s.result->report.add_shared_by(name);
      }
    }
  }
  // The last user takes the read; the others get a copy.
  if (--s.left > 0) return s.result;
  absl::StatusOr<threatq::CollectionRead> last = std::move(s.result);
  s.result = absl::StatusOr<threatq::CollectionRead>();
  return last;
}

}  // namespace tqs1::sync

#include "sync/shared_reads.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tqs1::sync {

SharedReads::SharedReads(SourceOf source_of,
                         const std::vector<const tqs1::v1::SyncConfig*>& syncs)
    : source_of_(std::move(source_of)) {
  for (const tqs1::v1::SyncConfig* sync : syncs)
    InstanceOf(*sync).Expect(*sync);
}

SharedReads::SharedReads(threatq::IndicatorSource& source,
                         const std::vector<const tqs1::v1::SyncConfig*>& syncs)
    : SharedReads([&source](const tqs1::v1::SyncConfig&) { return &source; },
                  syncs) {}

threatq::IndicatorSource& SharedReads::For(const tqs1::v1::SyncConfig& sync) {
  return InstanceOf(sync);
}

bool SharedReads::Reading(const tqs1::v1::SyncConfig& sync) {
  return InstanceOf(sync).Reading(sync.collection());
}

SharedReads::Instance& SharedReads::InstanceOf(
    const tqs1::v1::SyncConfig& sync) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Instance>& instance = instances_[sync.threatq()];
  if (instance == nullptr) {
    instance = std::make_unique<Instance>(source_of_(sync), sync.threatq());
  }
  return *instance;
}

void SharedReads::Instance::Expect(const tqs1::v1::SyncConfig& sync) {
  // A sync may read twice (a canary, planned again once applied): one
  // name, each read counted.
  Shared& s = shared_[sync.collection()];
  if (std::find(s.syncs.begin(), s.syncs.end(), sync.name()) == s.syncs.end()) {
    s.syncs.push_back(sync.name());
  }
  absl::MutexLock lock(&s.mu);
  ++s.left;
}

absl::StatusOr<threatq::CollectionRead> SharedReads::Instance::ReadOnce(
    absl::string_view collection) {
  if (source_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("ThreatQ instance \"", name_, "\" is not connected"));
  }
  return source_->ReadCollection(collection);
}

bool SharedReads::Instance::Reading(absl::string_view collection) const {
  auto it = shared_.find(collection);
  return it != shared_.end() && it->second.reading;
}

absl::StatusOr<threatq::CollectionRead> SharedReads::Instance::ReadCollection(
    absl::string_view collection) {
  auto it = shared_.find(collection);
  if (it == shared_.end()) return ReadOnce(collection);
  Shared& s = it->second;
  absl::MutexLock lock(&s.mu);
  if (s.left <= 0) return ReadOnce(collection);
  if (!s.read) {
    s.read = true;
    s.reading = true;
    s.result = ReadOnce(collection);
    s.reading = false;
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

#include "providers/threatq/fake_indicator_source.h"

#include <algorithm>

namespace tqs1::threatq {

FakeIndicatorSource::FakeIndicatorSource(
    std::vector<std::string> block_statuses)
    : block_statuses_(std::move(block_statuses)) {}

void FakeIndicatorSource::SetCollection(absl::string_view name,
                                        std::vector<Indicator> indicators) {
  absl::MutexLock lock(&mu_);
  bool found = false;
  for (auto& [existing, values] : collections_) {
    if (existing == name) {
      values = indicators;
      found = true;
    }
  }
  if (!found)
    collections_.emplace_back(std::string(name), std::move(indicators));
}

void FakeIndicatorSource::AddCollection(absl::string_view name,
                                        std::vector<Indicator> indicators) {
  absl::MutexLock lock(&mu_);
  collections_.emplace_back(std::string(name), std::move(indicators));
}

void FakeIndicatorSource::RemoveCollection(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  collections_.erase(
      std::remove_if(collections_.begin(), collections_.end(),
                     [&](const auto& entry) { return entry.first == name; }),
      collections_.end());
}

void FakeIndicatorSource::FailNextReads(absl::Status status, int count) {
  absl::MutexLock lock(&mu_);
  fault_ = std::move(status);
  fault_count_ = count;
}

int FakeIndicatorSource::ReadCount() const {
  absl::MutexLock lock(&mu_);
  return reads_;
}

absl::StatusOr<CollectionRead> FakeIndicatorSource::ReadCollection(
    absl::string_view collection) {
  absl::MutexLock lock(&mu_);
  ++reads_;
  if (fault_count_ > 0) {
    --fault_count_;
    return fault_;
  }
  std::vector<std::string> names;
  const std::vector<Indicator>* match = nullptr;
  int matches = 0;
  for (const auto& [name, indicators] : collections_) {
    names.push_back(name);
    if (name == collection) {
      ++matches;
      match = &indicators;
    }
  }
  if (matches == 0) return NoSuchCollectionError(collection, names);
  if (matches > 1) return DuplicateCollectionError(collection, matches);
  CollectionReadBuilder builder(block_statuses_);
  // Indicator ids as the emulator numbers them: 100000 + position.
  uint64_t id = kFirstIndicatorId;
  for (const Indicator& i : *match) {
    builder.Add(i.value, i.type, i.status, id++);
  }
  return std::move(builder).Finish();
}

}  // namespace tqs1::threatq

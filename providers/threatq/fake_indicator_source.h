// An in-memory IndicatorSource for tests: collections by name, the same
// filtering and error wording as ThreatQClient, explicit fault switches and
// a count of reads.
//
//   FakeIndicatorSource source;
//   source.SetCollection("C2 IPs", {{"203.0.113.7", "IP Address", "Active"}});
//   source.FailNextReads(absl::UnavailableError("ThreatQ down"));
//   EXPECT_FALSE(source.ReadCollection("C2 IPs").ok());  // the fault
//   EXPECT_TRUE(source.ReadCollection("C2 IPs").ok());
#ifndef TQS1_PROVIDERS_THREATQ_FAKE_INDICATOR_SOURCE_H_
#define TQS1_PROVIDERS_THREATQ_FAKE_INDICATOR_SOURCE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "providers/threatq/collection_read_builder.h"
#include "providers/threatq/indicator_source.h"

namespace tqs1::threatq {

// Thread-safe (more than the interface asks).
class FakeIndicatorSource : public IndicatorSource {
 public:
  // The indicator id of a collection's first indicator; the k-th (from 0)
  // has kFirstIndicatorId + k, as ThreatQEmulator numbers them.
  static constexpr uint64_t kFirstIndicatorId = 100000;

  explicit FakeIndicatorSource(
      std::vector<std::string> block_statuses = DefaultBlockStatuses());

  // Replaces the indicators of every collection named `name`, or adds one.
  void SetCollection(absl::string_view name, std::vector<Indicator> indicators);
  // Adds another collection, even if the name is taken (to test duplicates).
  void AddCollection(absl::string_view name, std::vector<Indicator> indicators);
  void RemoveCollection(absl::string_view name);

  // The next `count` reads fail with `status` (after being counted).
  void FailNextReads(absl::Status status, int count = 1);

  // See IndicatorSource. Errors: the scheduled fault, kNotFound,
  // kFailedPrecondition, as ThreatQClient words them.
  absl::StatusOr<CollectionRead> ReadCollection(
      absl::string_view collection) override;

  // How many times ReadCollection() was called.
  int ReadCount() const;

 private:
  const std::vector<std::string> block_statuses_;
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, std::vector<Indicator>>> collections_
      ABSL_GUARDED_BY(mu_);
  absl::Status fault_ ABSL_GUARDED_BY(mu_);
  int fault_count_ ABSL_GUARDED_BY(mu_) = 0;
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tqs1::threatq

#endif  // TQS1_PROVIDERS_THREATQ_FAKE_INDICATOR_SOURCE_H_

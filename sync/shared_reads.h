// One read per collection per run: when several syncs of one run use the
// same ThreatQ collection (one blocklist fed to several sites), the
// collection is read once and each sync gets the same values.
//
//   SharedReads reads(*backends.threatq, selected_syncs);
//   for (const SyncConfig* sync : selected_syncs) {
//     RunSync(request_for(*sync), reads.For(*sync), s1);  // one ThreatQ
//   }                                   // pass each collection, not each sync
//
// Syncs of several ThreatQ instances (SyncConfig.threatq) read through the
// instance each names (`source_of`); a collection is shared within its
// instance only.
//
// A read is kept only while syncs of the run still have to use it (the
// last one takes it), so a collection used by one sync costs what it did
// before. A failed read is kept too: the run's other syncs of that
// collection fail with the same error, without asking ThreatQ again (a
// ThreatQ that failed a read is not asked again in the same run). A shared
// read's report names every sync of the run that uses it
// (SourceReport.shared_by), so that the plan and the log say so.
//
// Thread-safe when the sources are: the syncs of a parallel run read
// through one SharedReads. A sync asking for a collection another sync is
// reading waits for that read and shares it; reads of different
// collections go on at once.
#ifndef TQS1_SYNC_SHARED_READS_H_
#define TQS1_SYNC_SHARED_READS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/config.pb.h"
#include "providers/threatq/indicator_source.h"

namespace tqs1::sync {

class SharedReads {
 public:
  // The instance a sync reads from; null when it is not connected (its
  // reads fail with kFailedPrecondition).
  using SourceOf =
      std::function<threatq::IndicatorSource*(const tqs1::v1::SyncConfig&)>;

  // `syncs` are the run's reads of a collection, by sync, in the order they
  // come: how many times each collection will be asked for, and by whom (a
  // sync listed twice reads twice). The sources must outlive this object.
  SharedReads(SourceOf source_of,
              const std::vector<const tqs1::v1::SyncConfig*>& syncs);
  // Every sync reads from `source`.
  SharedReads(threatq::IndicatorSource& source,
              const std::vector<const tqs1::v1::SyncConfig*>& syncs);
  SharedReads(const SharedReads&) = delete;
  SharedReads& operator=(const SharedReads&) = delete;

  // What `sync` reads its collection through: the collection read from its
  // instance at the first call, kept for the run's other syncs of it. A
  // collection no sync of the run names is read every time, as from the
  // instance itself. Valid as long as this object.
  threatq::IndicatorSource& For(const tqs1::v1::SyncConfig& sync);

  // Whether `sync`'s collection is being read for the run right now: the
  // sync would wait for that read (RunInParallel's `waits`).
  bool Reading(const tqs1::v1::SyncConfig& sync);

 private:
  // The reads of one ThreatQ instance.
  class Instance : public threatq::IndicatorSource {
   public:
    Instance(threatq::IndicatorSource* source, std::string name)
        : source_(source), name_(std::move(name)) {}
    // One more read of `sync`'s collection will come.
    void Expect(const tqs1::v1::SyncConfig& sync);
    absl::StatusOr<threatq::CollectionRead> ReadCollection(
        absl::string_view collection) override;
    bool Reading(absl::string_view collection) const;

   private:
    // Made by Expect() before any read; the map never changes after.
    struct Shared {
      std::vector<std::string> syncs;    // the syncs of the run that use it
      absl::Mutex mu;                    // held while the collection is read
      int left ABSL_GUARDED_BY(mu) = 0;  // ReadCollection() calls to come
      bool read ABSL_GUARDED_BY(mu) = false;
      // Set while the read is under way (read, not yet done): mu is held
      // then, so this is not guarded by it.
      std::atomic<bool> reading{false};
      absl::StatusOr<threatq::CollectionRead> result ABSL_GUARDED_BY(mu);
    };
    absl::StatusOr<threatq::CollectionRead> ReadOnce(
        absl::string_view collection);

    threatq::IndicatorSource* const source_;
    const std::string name_;
    std::map<std::string, Shared, std::less<>> shared_;
  };

  Instance& InstanceOf(const tqs1::v1::SyncConfig& sync);

  SourceOf source_of_;
  absl::Mutex mu_;
  // By name; every instance a sync given to the constructor uses is made
  // by it.
  std::map<std::string, std::unique_ptr<Instance>> instances_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_SHARED_READS_H_

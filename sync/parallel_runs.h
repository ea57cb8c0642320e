// Runs the syncs of a run several at once, in a readable order: at most
// `parallelism` at a time, never two of one site at once (their applies
// would re-read a site the other is writing), each finished in the
// caller's order.
//
//   std::vector<Slot> slots(syncs.size());
//   RunInParallel(syncs.size(), parallelism,
//       [&](int i) { return SiteKey(*syncs[i]); },
//       [&](int i) { slots[i] = RunOne(*syncs[i]); },   // worker threads
//       [&](int i) { Print(slots[i]); });               // this thread, 0, 1,
//       ...
//
// What `run` touches must be its own item's or thread-safe (the providers,
// SharedReads, the ledger and the logger are). The request bounds per
// console and ThreatQ instance are their transports' (BoundedTransport),
// not this: a run of 8 syncs at once on a console of max_in_flight 4 has at
// most 4 of its requests in flight.
#ifndef TQS1_SYNC_PARALLEL_RUNS_H_
#define TQS1_SYNC_PARALLEL_RUNS_H_

#include <functional>
#include <string>

#include "proto/config.pb.h"

namespace tqs1::sync {

// Calls `run(i)` for every i in [0, count), items starting in index order
// on up to `parallelism` threads, never two items of one `key(i)` at once;
// calls `finish(i)` on the calling thread in index order, each as soon as
// item i and every item before it have run. `parallelism` 1 or less runs
// everything on the calling thread: run(0), finish(0), run(1), ...
//
// With `waits`, an item for which waits(i) is true when a thread is free
// (it would only wait for now, e.g. for a collection another item is
// reading: SharedReads::Reading) gives its turn to the first later item
// that would not; it starts when none would. The order of finish() is the
// same.
void RunInParallel(int count, int parallelism,
                   const std::function<std::string(int)>& key,
                   const std::function<void(int)>& run,
                   const std::function<void(int)>& finish,
                   const std::function<bool(int)>& waits = nullptr);

// What two syncs of one site share: the console and the site as the sync
// names it (its id, or its account and name), also for a sync of one of
// the site's groups (a group's read holds its site's rules, so the two
// never run at once); for a sync of an account's own rules, the account;
// for the global rules, the console.
std::string SiteKey(const tqs1::v1::SyncConfig& sync);

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_PARALLEL_RUNS_H_

#include "sync/parallel_runs.h"

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace tqs1::sync {

void RunInParallel(int count, int parallelism,
                   const std::function<std::string(int)>& key,
                   const std::function<void(int)>& run,
                   const std::function<void(int)>& finish,
                   const std::function<bool(int)>& waits) {
  if (parallelism <= 1 || count <= 1) {
    for (int i = 0; i < count; ++i) {
      run(i);
      finish(i);
    }
    return;
  }
  std::vector<std::string> keys(count);
  for (int i = 0; i < count; ++i) keys[i] = key(i);

  absl::Mutex mu;
  std::vector<bool> started(count, false);
  std::vector<bool> done(count, false);
  std::set<std::string> busy;  // keys of the items running
  int first_waiting = 0;       // no item before it is still to start

  // The first item that may start now, or -1 (none: every item started,
  // or each one left waits for its key).
  auto next = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    while (first_waiting < count && started[first_waiting]) ++first_waiting;
    for (int i = first_waiting; i < count; ++i) {
      if (!started[i] && busy.count(keys[i]) == 0) return i;
    }
    return -1;
  };
  // Item `i` (which may start now), or the first later one that may start
  // and would not wait.
  auto rather = [&](int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!waits || !waits(i)) return i;
    for (int j = i + 1; j < count; ++j) {
      if (!started[j] && busy.count(keys[j]) == 0 && !waits(j)) return j;
    }
    return i;
  };
  auto worker = [&] {
    absl::MutexLock lock(&mu);
    while (true) {
      int i = -1;
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        i = next();
        return i >= 0 || first_waiting >= count;
      };
      mu.Await(absl::Condition(&ready));
      if (i < 0) return;
      i = rather(i);
      started[i] = true;
      busy.insert(keys[i]);
      mu.Unlock();
      run(i);
      mu.Lock();
      busy.erase(keys[i]);
      done[i] = true;
    }
  };
  std::vector<std::thread> threads;
  const int workers = std::min(parallelism, count);
  threads.reserve(workers);
  for (int t = 0; t < workers; ++t) threads.emplace_back(worker);
  for (int i = 0; i < count; ++i) {
    {
      absl::MutexLock lock(&mu);
      auto ran = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) -> bool {
        return done[i];
      };
      mu.Await(absl::Condition(&ran));
    }
    finish(i);
  }
  for (std::thread& t : threads) t.join();
}

std::string SiteKey(const tqs1::v1::SyncConfig& sync) {
  if (sync.global()) return absl::StrCat(sync.sentinelone(), "\nglobal");
  if (sync.account_scope()) {
    return absl::StrCat(sync.sentinelone(), "\naccount\n",
                        absl::AsciiStrToLower(sync.account()));
  }
  if (!sync.site_id().empty()) {
    return absl::StrCat(sync.sentinelone(), "\n#", sync.site_id());
  }
  return absl::StrCat(sync.sentinelone(), "\n",
                      absl::AsciiStrToLower(sync.account()), "\n",
                      absl::AsciiStrToLower(sync.site()));
}

}  // namespace tqs1::sync

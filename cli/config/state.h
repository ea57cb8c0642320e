// tqs1's own state in the config folder: the apply lock,
// the last run's record, and the owner-only config file of `tqs1 init`.
//
//   ASSIGN_OR_RETURN(ConfigPaths paths, ResolveConfigPaths(flag_c, flag_n));
//   ASSIGN_OR_RETURN(ApplyLock lock,
//                    ApplyLock::Acquire(paths.LockFile(), absl::Seconds(30)));
//   tqs1::v1::LastRun record;  // command "apply", started now
//   ... apply, adding one SyncRun per sync ...
//   record.finished = absl::Now();
//   RETURN_IF_ERROR(SaveLastRun(paths.LastRunFile(), record));
//   // `lock` is released when it goes out of scope.
#ifndef TQS1_CLI_CONFIG_STATE_H_
#define TQS1_CLI_CONFIG_STATE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/run.pb.h"

namespace tqs1::config {

// An exclusive lock that serializes applies of one instance, across
// processes and within one: flock(2) on a lock file, which holds the pid of
// the holder. Each Acquire() opens its own file description, so two
// ApplyLocks of one process exclude each other too. Released on
// destruction (or when the process dies: the kernel drops the lock). The
// lock file itself is never deleted (deleting it would race with waiters).
//
// Movable, not copyable. Not thread-safe itself; distinct objects are.
class ApplyLock {
 public:
  // Takes the lock on `lock_file`, created (mode 0644) when absent, waiting
  // up to `wait` for another holder to let go (polling every 50 ms; zero
  // means a single try). Errors:
  // - kUnavailable when the lock is still held at the deadline: "lock file
  //   /etc/tq_labs/tqs1.lock is held by pid 1234: another tqs1 apply is
  //   running", plus " (waited 5s)" when `wait` > 0;
  // - kPermissionDenied, kNotFound, ... (from errno) when the file cannot be
  //   opened: "cannot open lock file /etc/tq_labs/tqs1.lock: Permission
  //   denied".
  static absl::StatusOr<ApplyLock> Acquire(
      absl::string_view lock_file, absl::Duration wait = absl::ZeroDuration());

  ApplyLock(ApplyLock&& other) noexcept;
  ApplyLock& operator=(ApplyLock&& other) noexcept;
  ApplyLock(const ApplyLock&) = delete;
  ApplyLock& operator=(const ApplyLock&) = delete;
  ~ApplyLock();

  // The lock file's path.
  const std::string& path() const { return path_; }

 private:
  ApplyLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void Release();

  std::string path_;
  int fd_ = -1;
};

// Writes a config file readable and writable by its owner only (0600),
// atomically, creating missing parent folders (0700). Refuses to replace an
// existing file unless `overwrite`: kAlreadyExists "config file <path>
// already exists". For `tqs1 init`.
absl::Status WriteConfigFile(absl::string_view path, absl::string_view yaml,
                             bool overwrite = false);

// The format the last-run record's JSON names.
inline constexpr absl::string_view kLastRunFormat = "tqs1.last-run.v2";

// The record of the last run of an instance (proto/run.proto LastRun), kept
// as protobuf JSON in "<name>.last-run.json" for people and monitoring:
//   {"format": "tqs1.last-run.v2", "command": "apply",
//    "started": "2024-05-01T10:00:00.120Z", "finished": "...",
//    "syncs": [{"name": "c2-hq", "started": "...", "finished": "...",
//               "outcome": "SYNC_OUTCOME_APPLIED", "rules_created": 1, ...,
//               "error": "", "failed_step": "SYNC_STEP_UNSPECIFIED"}]}
// Times are RFC 3339 in UTC. Every field is written, zero or not.
// The record as JSON (pretty-printed), its format set to kLastRunFormat.
std::string LastRunToJson(const tqs1::v1::LastRun& record);

// Parses LastRunToJson()'s output. kDataLoss naming `source` when the text
// is not such a record (not JSON, an unknown field, another format).
absl::StatusOr<tqs1::v1::LastRun> LastRunFromJson(absl::string_view json,
                                                  absl::string_view source);

// Saves the record with WriteFileAtomically() (mode 0644: no secrets in
// it, and monitoring may read it).
absl::Status SaveLastRun(absl::string_view path,
                         const tqs1::v1::LastRun& record);

// Loads a saved record. kNotFound when there is none (no run yet);
// kDataLoss when it is corrupt; other codes from errno.
absl::StatusOr<tqs1::v1::LastRun> LoadLastRun(absl::string_view path);

// The key that signs this instance's plan files (reconciler/plan_file.h),
// kept in `path` (ConfigPaths::PlanKeyFile()) as 64 hex digits. Created on
// first use from the system's random source, mode 0600, without ever
// replacing a key another process created at the same moment (written to a
// temporary file, then linked into place). Never logged or printed.
// Errors: kFailedPrecondition when the file exists but is not such a key
// ("plan key /etc/tq_labs/tqs1.plan-key is corrupt: ...") or is readable by
// group or others; other codes from errno ("cannot create plan key ...").
absl::StatusOr<std::string> LoadOrCreatePlanKey(absl::string_view path);

// A new random plan key, kept nowhere (`tqs1 serve --demo`). kUnavailable
// when /dev/urandom cannot be read.
absl::StatusOr<std::string> NewPlanKey();

}  // namespace tqs1::config

#endif  // TQS1_CLI_CONFIG_STATE_H_

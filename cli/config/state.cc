#include "cli/config/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace tqs1::config {
namespace {

using ::tqs1::v1::LastRun;

constexpr absl::Duration kLockPollInterval = absl::Milliseconds(50);
constexpr size_t kMaxLastRunBytes = 16 << 20;

// The pid written in an open lock file, or 0.
long HolderPid(int fd) {
  char buffer[32] = {};
  const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return 0;
  long pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(
                            absl::string_view(buffer, static_cast<size_t>(n))),
                        &pid)) {
    return 0;
  }
  return pid;
}

absl::Status Corrupt(absl::string_view source, absl::string_view why) {
  return absl::DataLossError(
      absl::StrCat("last-run record ", source, " is corrupt: ", why));
}

}  // namespace

// ApplyLock

absl::StatusOr<ApplyLock> ApplyLock::Acquire(absl::string_view lock_file,
                                             absl::Duration wait) {
  std::string path(lock_file);
  const int fd =
      open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot open lock file ", path));
  }
  const absl::Time deadline = absl::Now() + wait;
  while (true) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK) {
      close(fd);
      return absl::ErrnoToStatus(err, absl::StrCat("cannot lock ", path));
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      const long pid = HolderPid(fd);
      close(fd);
      return absl::UnavailableError(absl::StrCat(
          "lock file ", path, " is held by ",
          pid > 0 ? absl::StrCat("pid ", pid) : "another process",
          ": another tqs1 apply is running",
          wait > absl::ZeroDuration()
              ? absl::StrCat(" (waited ", absl::FormatDuration(wait), ")")
              : ""));
    }
    absl::SleepFor(std::min(left, kLockPollInterval));
  }
  // Ours: record who holds it.
  const std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) !=
                                   static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err,
                               absl::StrCat("cannot write lock file ", path));
  }
  return ApplyLock(std::move(path), fd);
}

ApplyLock::ApplyLock(ApplyLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

ApplyLock& ApplyLock::operator=(ApplyLock&& other) noexcept {
  if (this != &other) {
    Release();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ApplyLock::~ApplyLock() { Release(); }

void ApplyLock::Release() {
  if (fd_ < 0) return;
  // Forget the pid before letting go, so no one reports a stale holder.
  if (ftruncate(fd_, 0) != 0) {
    // The lock goes anyway; a stale pid is only cosmetic.
  }
  close(fd_);  // Drops the flock.
  fd_ = -1;
}

// Files

absl::Status WriteConfigFile(absl::string_view path, absl::string_view yaml,
                             bool overwrite) {
  RETURN_IF_ERROR(MakeFolders(Dirname(path), 0700));
  return overwrite ? WriteFileAtomically(path, yaml, 0600, "config file ")
                   : CreateFileAtomically(path, yaml, 0600, "config file ");
}

// Last run

std::string LastRunToJson(const LastRun& record) {
  LastRun copy = record;
  copy.set_format(std::string(kLastRunFormat));
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string compact;
  // Only fails on invalid UTF-8 in a string field: keep what printed.
  (void)google::protobuf::util::MessageToJsonString(copy, &compact, options);
  // Re-indented for people: keys sorted, two spaces, no \u escapes of
  // printable characters (protobuf writes "->" as "-\u003e").
  const nlohmann::json doc = nlohmann::json::parse(compact, nullptr, false);
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

absl::StatusOr<LastRun> LastRunFromJson(absl::string_view text,
                                        absl::string_view source) {
  LastRun record;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &record,
      options);
  if (!parsed.ok()) return Corrupt(source, parsed.message().as_string());
  if (record.format() != kLastRunFormat) {
    return Corrupt(source,
                   absl::StrCat("unknown format \"", record.format(), "\""));
  }
  return record;
}

absl::Status SaveLastRun(absl::string_view path, const LastRun& record) {
  return WriteFileAtomically(path, LastRunToJson(record), 0644);
}

absl::StatusOr<LastRun> LoadLastRun(absl::string_view path) {
  absl::StatusOr<std::string> text =
      ReadFileUpTo(path, kMaxLastRunBytes, "last-run record ");
  if (absl::IsNotFound(text.status())) {
    return absl::NotFoundError(absl::StrCat("no last-run record at ", path));
  }
  if (absl::IsResourceExhausted(text.status())) {
    return Corrupt(path, "too large");
  }
  if (!text.ok()) return text.status();
  return LastRunFromJson(*text, path);
}

// Plan key

namespace {

constexpr size_t kPlanKeyBytes = 32;

absl::StatusOr<std::string> ReadPlanKey(absl::string_view path) {
  const std::string file(path);
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot read plan key ", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plan key ", path, " is readable by group or others (mode ",
        absl::StrFormat("%04o", st.st_mode & 07777),
        "); it must be 0600: anyone who reads it can sign plans"));
  }
  std::ifstream in(file);
  std::string hex;
  std::getline(in, hex);
  std::string bytes = absl::HexStringToBytes(hex);
  if (hex.size() != 2 * kPlanKeyBytes ||
      absl::BytesToHexString(bytes) != absl::AsciiStrToLower(hex)) {
    return absl::FailedPreconditionError(
        absl::StrCat("plan key ", path, " is corrupt: expected ",
                     2 * kPlanKeyBytes, " hex digits on its first line"));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::string> NewPlanKey() {
  std::string bytes(kPlanKeyBytes, '\0');
  std::ifstream random("/dev/urandom", std::ios::binary);
  random.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!random) {
    return absl::UnavailableError("cannot read /dev/urandom for a plan key");
  }
  return bytes;
}

absl::StatusOr<std::string> LoadOrCreatePlanKey(absl::string_view path) {
  const std::string file(path);
  if (access(file.c_str(), F_OK) == 0) return ReadPlanKey(path);

  ASSIGN_OR_RETURN(const std::string bytes, NewPlanKey());
  // Never replaces: when another process won the race, its key is the key.
  const absl::Status created = CreateFileAtomically(
      path, absl::StrCat(absl::BytesToHexString(bytes), "\n"), 0600,
      "plan key ");
  if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  return ReadPlanKey(path);
}

}  // namespace tqs1::config

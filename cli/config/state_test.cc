#include "cli/config/state.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/files.h"
#include "base/timestamp.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace tqs1::config {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAreArray;
using ::tqs1::v1::LastRun;
using ::tqs1::v1::SyncRun;

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(
        tmp != nullptr ? tmp : "/tmp", "/state-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  }

  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

  // The names in the test's folder.
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    DIR* d = opendir(dir_.c_str());
    EXPECT_NE(d, nullptr);
    if (d == nullptr) return names;
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(d);
    return names;
  }

  std::string dir_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string BusyMessage(const std::string& path, pid_t pid,
                        const std::string& waited = "") {
  return absl::StrCat("lock file ", path, " is held by pid ", pid,
                      ": another tqs1 apply is running", waited);
}

// ApplyLock

TEST_F(StateTest, LockExcludesASecondLockOfTheSameProcess) {
  const std::string path = Path("tqs1.lock");
  {
    absl::StatusOr<ApplyLock> first = ApplyLock::Acquire(path);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->path(), path);
    EXPECT_EQ(ReadFile(path), absl::StrCat(getpid(), "\n"));

    absl::StatusOr<ApplyLock> second = ApplyLock::Acquire(path);
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(second.status().message(), BusyMessage(path, getpid()));

    second = ApplyLock::Acquire(path, absl::Milliseconds(120));
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(second.status().message(),
              BusyMessage(path, getpid(), " (waited 120ms)"));
  }
  // Released: the pid is gone, the file stays, the lock is free again.
  EXPECT_EQ(ReadFile(path), "");
  absl::StatusOr<ApplyLock> again = ApplyLock::Acquire(path);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST_F(StateTest, LockMovesWithoutReleasing) {
  const std::string path = Path("tqs1.lock");
  absl::StatusOr<ApplyLock> first = ApplyLock::Acquire(path);
  ASSERT_TRUE(first.ok()) << first.status();
  ApplyLock moved = *std::move(first);
  EXPECT_EQ(ApplyLock::Acquire(path).status().code(),
            absl::StatusCode::kUnavailable);
  ApplyLock assigned = std::move(moved);
  EXPECT_EQ(ApplyLock::Acquire(path).status().code(),
            absl::StatusCode::kUnavailable);
  // Assigning over a held lock releases the old one.
  absl::StatusOr<ApplyLock> other = ApplyLock::Acquire(Path("other.lock"));
  ASSERT_TRUE(other.ok()) << other.status();
  assigned = *std::move(other);
  EXPECT_TRUE(ApplyLock::Acquire(path).ok());
  EXPECT_EQ(ApplyLock::Acquire(Path("other.lock")).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(StateTest, LockWaitsForTheHolder) {
  const std::string path = Path("tqs1.lock");
  absl::StatusOr<ApplyLock> first = ApplyLock::Acquire(path);
  ASSERT_TRUE(first.ok()) << first.status();
  std::thread releaser([lock = *std::move(first)]() mutable {
    absl::SleepFor(absl::Milliseconds(100));
    ApplyLock dropped = std::move(lock);
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<ApplyLock> second =
      ApplyLock::Acquire(path, absl::Seconds(30));
  releaser.join();
  EXPECT_TRUE(second.ok()) << second.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(StateTest, LockExcludesAnotherProcess) {
  const std::string path = Path("tqs1.lock");
  int locked[2];
  int done[2];
  ASSERT_EQ(pipe(locked), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child takes the lock, says so, and holds it until told to stop.
    absl::StatusOr<ApplyLock> lock = ApplyLock::Acquire(path);
    const char ok = lock.ok() ? 'y' : 'n';
    if (write(locked[1], &ok, 1) != 1) _exit(2);
    char stop;
    if (read(done[0], &stop, 1) != 1) _exit(3);
    _exit(0);
  }
  char ok = 0;
  ASSERT_EQ(read(locked[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');

  absl::StatusOr<ApplyLock> mine = ApplyLock::Acquire(path);
  EXPECT_EQ(mine.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(mine.status().message(), BusyMessage(path, child));

  ASSERT_EQ(write(done[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The child died holding the lock: the kernel released it.
  mine = ApplyLock::Acquire(path);
  EXPECT_TRUE(mine.ok()) << mine.status();
  for (int fd : {locked[0], locked[1], done[0], done[1]}) close(fd);
}

TEST_F(StateTest, LockInAMissingFolder) {
  const std::string path = Path("nope/tqs1.lock");
  absl::StatusOr<ApplyLock> lock = ApplyLock::Acquire(path);
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(lock.status().message(),
            "cannot open lock file " + path + ": No such file or directory");
}

// WriteConfigFile (WriteFileAtomically: base/files_test.cc)

TEST_F(StateTest, WriteConfigFileIsOwnerOnly) {
  const std::string path = Path("etc/tq_labs/tqs1.yaml");
  ASSERT_TRUE(WriteConfigFile(path, "threatq: {}\n").ok());
  EXPECT_EQ(ReadFile(path), "threatq: {}\n");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(Path("etc/tq_labs")), 0700u);

  const absl::Status exists = WriteConfigFile(path, "other: 1\n");
  EXPECT_EQ(exists.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(exists.message(), "config file " + path + " already exists");
  EXPECT_EQ(ReadFile(path), "threatq: {}\n");

  ASSERT_TRUE(WriteConfigFile(path, "other: 1\n", /*overwrite=*/true).ok());
  EXPECT_EQ(ReadFile(path), "other: 1\n");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_THAT(Names(), ElementsAre("etc"));
}

// LastRun

LastRun SampleRecord() {
  const absl::Time t0 = absl::FromUnixMillis(1714557600123);  // 2024-05-01
  LastRun record;
  record.set_format(std::string(kLastRunFormat));
  record.set_command("apply");
  record.set_run_id("5f0c2a9e1b3d4c6a");
  *record.mutable_started() = ToTimestamp(t0);
  *record.mutable_finished() = ToTimestamp(t0 + absl::Seconds(42));
  SyncRun* applied = record.add_syncs();
  applied->set_name("Known C2 IPs -> HQ");
  *applied->mutable_started() = ToTimestamp(t0 + absl::Milliseconds(5));
  *applied->mutable_finished() = ToTimestamp(t0 + absl::Seconds(40));
  applied->set_outcome(tqs1::v1::SYNC_OUTCOME_APPLIED);
  applied->set_rules_created(1);
  applied->set_rules_updated(2);
  applied->set_rules_deleted(3);
  applied->set_addresses_blocked(120);
  applied->set_addresses_unblocked(4);
  SyncRun* failed = record.add_syncs();
  failed->set_name("Botnet -> Branch");
  *failed->mutable_started() = ToTimestamp(t0 + absl::Seconds(40));
  *failed->mutable_finished() = ToTimestamp(t0 + absl::Seconds(42));
  failed->set_outcome(tqs1::v1::SYNC_OUTCOME_FAILED);
  failed->set_failed_step(tqs1::v1::SYNC_STEP_FIND_SITE);
  failed->set_error("site \"Branch\" not found");
  return record;
}

TEST_F(StateTest, LastRunJson) {
  EXPECT_EQ(LastRunToJson(SampleRecord()), R"({
  "command": "apply",
  "finished": "2024-05-01T10:00:42.123Z",
  "format": "tqs1.last-run.v2",
  "run_id": "5f0c2a9e1b3d4c6a",
  "started": "2024-05-01T10:00:00.123Z",
  "syncs": [
    {
      "addresses_blocked": 120,
      "addresses_unblocked": 4,
      "error": "",
      "failed_step": "SYNC_STEP_UNSPECIFIED",
      "finished": "2024-05-01T10:00:40.123Z",
      "ipv6_refused": [],
      "name": "Known C2 IPs -> HQ",
      "outcome": "SYNC_OUTCOME_APPLIED",
      "rules_created": 1,
      "rules_deleted": 3,
      "rules_updated": 2,
      "started": "2024-05-01T10:00:00.128Z"
    },
    {
      "addresses_blocked": 0,
      "addresses_unblocked": 0,
      "error": "site \"Branch\" not found",
      "failed_step": "SYNC_STEP_FIND_SITE",
      "finished": "2024-05-01T10:00:42.123Z",
      "ipv6_refused": [],
      "name": "Botnet -> Branch",
      "outcome": "SYNC_OUTCOME_FAILED",
      "rules_created": 0,
      "rules_deleted": 0,
      "rules_updated": 0,
      "started": "2024-05-01T10:00:40.123Z"
    }
  ]
}
)");
}

TEST_F(StateTest, LastRunSavesAndLoads) {
  const std::string path = Path("tqs1.last-run.json");
  absl::StatusOr<LastRun> loaded = LoadLastRun(path);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(loaded.status().message(), "no last-run record at " + path);

  ASSERT_TRUE(SaveLastRun(path, SampleRecord()).ok());
  EXPECT_EQ(ModeOf(path), 0644u);
  loaded = LoadLastRun(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*loaded, SampleRecord()))
      << LastRunToJson(*loaded);

  // Every outcome survives the round trip.
  LastRun record = SampleRecord();
  for (tqs1::v1::SyncOutcome outcome :
       {tqs1::v1::SYNC_OUTCOME_IN_SYNC, tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING,
        tqs1::v1::SYNC_OUTCOME_APPLIED, tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED,
        tqs1::v1::SYNC_OUTCOME_FAILED, tqs1::v1::SYNC_OUTCOME_INTERRUPTED,
        tqs1::v1::SYNC_OUTCOME_DECLINED}) {
    SCOPED_TRACE(tqs1::v1::SyncOutcome_Name(outcome));
    record.mutable_syncs(0)->set_outcome(outcome);
    absl::StatusOr<LastRun> back = LastRunFromJson(LastRunToJson(record), "x");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->syncs(0).outcome(), outcome);
  }
  EXPECT_THAT(Names(), ElementsAre("tqs1.last-run.json"));
}

TEST_F(StateTest, LastRunCorrupt) {
  const std::string good = LastRunToJson(SampleRecord());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  struct Case {
    std::string json;
    std::string why;  // part of the message
  };
  const Case kCases[] = {
      {"", ""},
      {"{", ""},
      {"[]", ""},
      {replace("tqs1.last-run.v2", "v9"), "unknown format \"v9\""},
      {replace("\"tqs1.last-run.v2\"", "\"tqs1.last-run.v1\""),
       "unknown format \"tqs1.last-run.v1\""},
      {replace("\"2024-05-01T10:00:00.123Z\"", "\"yesterday\""), "started"},
      {replace("\"rules_created\": 1", "\"rules_created\": -1"),
       "rules_created"},
      {replace("\"outcome\": \"SYNC_OUTCOME_APPLIED\"",
               "\"outcome\": \"great\""),
       "outcome"},
      {replace("\"name\": \"Known C2 IPs -> HQ\"", "\"name\": 7"), "name"},
      {replace("\"command\": \"apply\"", "\"commando\": \"apply\""),
       "commando"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<LastRun> record = LastRunFromJson(c.json, "f.json");
    EXPECT_EQ(record.status().code(), absl::StatusCode::kDataLoss);
    const std::string message(record.status().message());
    EXPECT_THAT(message, StartsWith("last-run record f.json is corrupt: "));
    EXPECT_THAT(message, HasSubstr(c.why));
  }
}

// Plan key

TEST_F(StateTest, PlanKeyIsCreatedOwnerOnlyAndThenKept) {
  const std::string path = Path("tqs1.plan-key");
  absl::StatusOr<std::string> key = LoadOrCreatePlanKey(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_THAT(Names(), ElementsAre("tqs1.plan-key"));  // no temporary left
  absl::StatusOr<std::string> again = LoadOrCreatePlanKey(path);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *key);

  // Another instance's key differs.
  absl::StatusOr<std::string> other = LoadOrCreatePlanKey(Path("b.plan-key"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *key);
}

TEST_F(StateTest, PlanKeyReadableByOthersOrCorruptIsRefused) {
  const std::string path = Path("tqs1.plan-key");
  ASSERT_TRUE(LoadOrCreatePlanKey(path).ok());
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  absl::Status open = LoadOrCreatePlanKey(path).status();
  EXPECT_EQ(open.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(open.message(), HasSubstr("readable by group or others"));

  ASSERT_TRUE(WriteFileAtomically(path, "not hex\n", 0600).ok());
  absl::Status corrupt = LoadOrCreatePlanKey(path).status();
  EXPECT_EQ(corrupt.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(corrupt.message(),
            absl::StrCat("plan key ", path,
                         " is corrupt: expected 64 hex digits on its first "
                         "line"));
}

}  // namespace
}  // namespace tqs1::config

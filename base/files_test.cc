#include "base/files.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1 {
namespace {

using ::testing::ElementsAre;

// Each test writes in a folder of its own under TEST_TMPDIR.
class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(
        tmp != nullptr ? tmp : "/tmp", "/files-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  }

  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    if (DIR* d = opendir(dir_.c_str()); d != nullptr) {
      for (dirent* e = readdir(d); e != nullptr; e = readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      closedir(d);
    }
    return names;
  }

  std::string dir_;
};

// Read back without the code under test.
std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST_F(FilesTest, WriteFileAtomicallyCreatesAndReplaces) {
  const std::string path = Path("record.json");
  ASSERT_TRUE(WriteFileAtomically(path, "one", 0640).ok());
  EXPECT_EQ(ReadFile(path), "one");
  EXPECT_EQ(ModeOf(path), 0640u);
  ASSERT_TRUE(WriteFileAtomically(path, "two", 0604).ok());
  EXPECT_EQ(ReadFile(path), "two");
  EXPECT_EQ(ModeOf(path), 0604u);
  ASSERT_TRUE(WriteFileAtomically(path, "", 0600).ok());
  EXPECT_EQ(ReadFile(path), "");
  EXPECT_THAT(Names(), ElementsAre("record.json"));
}

TEST_F(FilesTest, WriteFileAtomicallyErrors) {
  ASSERT_EQ(mkdir(Path("a-folder").c_str(), 0700), 0);
  struct Case {
    std::string path;
    absl::StatusCode code;
    std::string message;
  };
  const Case kCases[] = {
      {Path("nope/file"), absl::StatusCode::kNotFound,
       "cannot write " + Path("nope/file") +
           ": cannot create a temporary file in " + Path("nope") +
           ": No such file or directory"},
      {Path("a-folder"), absl::StatusCode::kFailedPrecondition,
       "cannot write " + Path("a-folder") + ": Is a directory"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.path);
    const absl::Status status = WriteFileAtomically(c.path, "x", 0644);
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(), c.message);
  }
  EXPECT_THAT(Names(), ElementsAre("a-folder"));
}

// A write that fails half-way (the file size limit) leaves the old file and
// no temporary file. Runs in a child: the limit is per process.
TEST_F(FilesTest, WriteFileAtomicallyFailureKeepsTheOldFile) {
  const std::string path = Path("record.json");
  ASSERT_TRUE(WriteFileAtomically(path, "old contents", 0644).ok());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit = {4096, 4096};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(10);
    const absl::Status status =
        WriteFileAtomically(path, std::string(1 << 20, 'n'), 0644);
    if (status.ok()) _exit(11);
    if (status.message() != "cannot write " + path + ": File too large") {
      _exit(12);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(ReadFile(path), "old contents");
  EXPECT_THAT(Names(), ElementsAre("record.json"));
}

TEST_F(FilesTest, CreateFileAtomicallyNeverReplaces) {
  const std::string path = Path("tqs1.plan-key");
  ASSERT_TRUE(CreateFileAtomically(path, "first", 0600, "plan key ").ok());
  const absl::Status again =
      CreateFileAtomically(path, "second", 0600, "plan key ");
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "plan key " + path + " already exists");
  EXPECT_EQ(ReadFile(path), "first");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_THAT(Names(), ElementsAre("tqs1.plan-key"));
}

TEST_F(FilesTest, MakeFoldersCreatesTheMissingParents) {
  ASSERT_TRUE(MakeFolders(Path("a/b/c"), 0750).ok());
  EXPECT_EQ(ModeOf(Path("a/b/c")), 0750u);
  EXPECT_EQ(ModeOf(Path("a")), 0750u);
  EXPECT_TRUE(MakeFolders(Path("a/b"), 0700).ok()) << "exists already";
  EXPECT_EQ(Dirname("/etc/tqs1.yaml"), "/etc");
  EXPECT_EQ(Dirname("/tqs1.yaml"), "/");
  EXPECT_EQ(Dirname("tqs1.yaml"), ".");
}

TEST_F(FilesTest, ReadFileUpToReadsWholeFilesAndNoMore) {
  const std::string path = Path("plan.json");
  ASSERT_TRUE(WriteFileAtomically(path, "0123456789", 0644).ok());
  absl::StatusOr<std::string> text = ReadFileUpTo(path, 10, "plan file ");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "0123456789");

  text = ReadFileUpTo(path, 9, "plan file ");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(text.status().message(),
            "plan file " + path + " is larger than 9 bytes");

  text = ReadFileUpTo(Path("missing.json"), 10, "plan file ");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(text.status().message(), "cannot read plan file " +
                                         Path("missing.json") +
                                         ": No such file or directory");
}

}  // namespace
}  // namespace tqs1

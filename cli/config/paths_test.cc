#include "cli/config/paths.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tqs1::config {
namespace {

class PathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = absl::StrCat(
        tmp != nullptr ? tmp : "/tmp", "/paths-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_EQ(mkdir(root_.c_str(), 0700), 0);
    char cwd[4096];
    ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
    saved_cwd_ = cwd;
  }
  void TearDown() override { ASSERT_EQ(chdir(saved_cwd_.c_str()), 0); }

  std::string Touch(const std::string& name) {
    const std::string path = absl::StrCat(root_, "/", name);
    std::ofstream(path) << "threatq: {}\n";
    return path;
  }

  std::string root_;
  std::string saved_cwd_;
};

struct Expected {
  std::string config_file;
  std::string state_dir;
  std::string instance_name;
  std::string lock_file;
  std::string last_run_file;
};

// The paths of instance `name` whose config file is `dir`/`file`: its state
// beside it in `dir`.
Expected In(const std::string& dir, const std::string& file,
            const std::string& name) {
  return {dir + "/" + file, dir, name, dir + "/" + name + ".lock",
          dir + "/" + name + ".last-run.json"};
}

void ExpectPaths(const absl::StatusOr<ConfigPaths>& paths, const Expected& e) {
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->config_file, e.config_file);
  EXPECT_EQ(paths->state_dir, e.state_dir);
  EXPECT_EQ(paths->instance_name, e.instance_name);
  EXPECT_EQ(paths->LockFile(), e.lock_file);
  EXPECT_EQ(paths->LastRunFile(), e.last_run_file);
}

// Flags in, paths out.
struct PathsCase {
  std::string config_flag;
  std::string name_flag;
  Expected expected;
};

// Checks `resolve(config_flag, name_flag)` (ResolveConfigPaths or
// NewConfigPaths) against each case.
template <typename Resolve>
void ExpectCases(Resolve resolve, const std::vector<PathsCase>& cases) {
  for (const PathsCase& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.config_flag, " -n ", c.name_flag));
    ExpectPaths(resolve(c.config_flag, c.name_flag), c.expected);
  }
}

TEST_F(PathsTest, Resolves) {
  Touch("tqs1.yaml");
  Touch("prod.yml");
  Touch("other.conf");
  ASSERT_EQ(mkdir((root_ + "/sub").c_str(), 0700), 0);
  const std::string r = root_;
  ExpectCases([](absl::string_view c,
                 absl::string_view n) { return ResolveConfigPaths(c, n); },
              {
                  {r, "", In(r, "tqs1.yaml", "tqs1")},
                  {r + "/", "", In(r, "tqs1.yaml", "tqs1")},
                  {r + "/sub/..//./", "", In(r, "tqs1.yaml", "tqs1")},
                  {r, "prod", In(r, "prod.yml", "prod")},
                  {r + "/tqs1.yaml", "", In(r, "tqs1.yaml", "tqs1")},
                  {r + "/prod.yml", "", In(r, "prod.yml", "prod")},
                  {r + "/other.conf", "blue", In(r, "other.conf", "blue")},
              });
}

TEST_F(PathsTest, DefaultsToTheCurrentDirectory) {
  Touch("tqs1.yaml");
  ASSERT_EQ(chdir(root_.c_str()), 0);
  const std::string r = root_;
  const Expected expected = In(r, "tqs1.yaml", "tqs1");
  ExpectPaths(ResolveConfigPaths("", ""), expected);
  ExpectPaths(ResolveConfigPaths(".", ""), expected);
  ExpectPaths(ResolveConfigPaths("tqs1.yaml", ""), expected);
}

TEST_F(PathsTest, Errors) {
  Touch("tqs1.yaml");
  Touch(".hidden");
  const std::string r = root_;
  struct Case {
    std::string config_flag;
    std::string name_flag;
    absl::StatusCode code;
    std::string message;
  };
  const Case kCases[] = {
      {r, "staging", absl::StatusCode::kNotFound,
       "no config file in " + r + ": looked for " + r + "/staging.yaml and " +
           r + "/staging.yml (create one with `tqs1 init`)"},
      {r + "/nope", "", absl::StatusCode::kNotFound,
       "config path " + r + "/nope (-c/--config) does not exist"},
      {r + "/nope.yaml", "", absl::StatusCode::kNotFound,
       "config file " + r + "/nope.yaml (-c/--config) does not exist"},
      {r + "/tqs1.yaml/x.yaml", "", absl::StatusCode::kNotFound,
       "config file " + r + "/tqs1.yaml/x.yaml (-c/--config) does not exist"},
      {"/dev/null", "", absl::StatusCode::kFailedPrecondition,
       "config path /dev/null (-c/--config) is neither a file nor a folder"},
      {r, "../etc", absl::StatusCode::kInvalidArgument,
       "instance name \"../etc\" (-n/--name) must be 1 to 64 letters, "
       "digits, '.', '_' or '-', not starting with '.' or '-'"},
      {r, "a b", absl::StatusCode::kInvalidArgument,
       "instance name \"a b\" (-n/--name) must be 1 to 64 letters, digits, "
       "'.', '_' or '-', not starting with '.' or '-'"},
      {r, std::string(65, 'x'), absl::StatusCode::kInvalidArgument,
       "instance name \"" + std::string(65, 'x') +
           "\" (-n/--name) must be 1 to 64 letters, digits, '.', '_' or "
           "'-', not starting with '.' or '-'"},
      {r + "/.hidden", "", absl::StatusCode::kInvalidArgument,
       "the config file's name \".hidden\" is not a valid instance name; "
       "pass one with -n/--name"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat(c.config_flag, " -n ", c.name_flag));
    absl::StatusOr<ConfigPaths> paths =
        ResolveConfigPaths(c.config_flag, c.name_flag);
    EXPECT_EQ(paths.status().code(), c.code);
    EXPECT_EQ(paths.status().message(), c.message);
  }
}

TEST_F(PathsTest, AStateFolderOfItsOwn) {
  Touch("tqs1.yaml");
  const std::string r = root_;
  ASSERT_EQ(mkdir((r + "/state").c_str(), 0700), 0);
  absl::StatusOr<ConfigPaths> paths = ResolveConfigPaths(r, "", r + "/state/");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->config_file, r + "/tqs1.yaml");
  EXPECT_EQ(paths->state_dir, r + "/state");
  EXPECT_EQ(paths->LockFile(), r + "/state/tqs1.lock");
  EXPECT_EQ(paths->PlanKeyFile(), r + "/state/tqs1.plan-key");

  paths = ResolveConfigPaths(r, "", r + "/gone");
  EXPECT_EQ(paths.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(paths.status().message(),
            "state folder " + r + "/gone (--state-dir) does not exist");
  paths = ResolveConfigPaths(r, "", r + "/tqs1.yaml");
  EXPECT_EQ(paths.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(paths.status().message(), "state folder " + r +
                                          "/tqs1.yaml (--state-dir) is not "
                                          "a folder");
  // The config is still found first: its errors come before the state's.
  paths = ResolveConfigPaths(r + "/nope", "", r + "/gone");
  EXPECT_EQ(paths.status().message(),
            "config path " + r + "/nope (-c/--config) does not exist");
}

TEST_F(PathsTest, NewConfigPaths) {
  const std::string r = root_;
  ExpectCases(NewConfigPaths,
              {
                  {r, "", In(r, "tqs1.yaml", "tqs1")},
                  {r + "/new-folder", "prod",
                   In(r + "/new-folder", "prod.yaml", "prod")},
                  {r + "/edge.yaml", "", In(r, "edge.yaml", "edge")},
              });
}

}  // namespace
}  // namespace tqs1::config

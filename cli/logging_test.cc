#include "cli/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/capturing_logger.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tqs1::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string TempDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  mkdir(dir.c_str(), 0700);
  return dir;
}

std::vector<std::string> FileLines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
}

TEST(MakeLoggerTest, LogFileIsCreated0640) {
  const std::string dir = TempDir("mode");
  const mode_t saved = umask(022);
  absl::StatusOr<std::unique_ptr<CliLogger>> logger =
      MakeLogger(dir, "tqs1", 1);
  umask(saved);
  ASSERT_TRUE(logger.ok()) << logger.status();
  EXPECT_TRUE((*logger)->writes_file());
  struct stat st;
  ASSERT_EQ(stat((dir + "/tqs1.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640);
}

TEST(MakeLoggerTest, AlwaysLinesAtEveryVerbosity) {
  const std::string dir = TempDir("levels");
  {
    absl::StatusOr<std::unique_ptr<CliLogger>> logger =
        MakeLogger(dir, "v1", 1);
    ASSERT_TRUE(logger.ok()) << logger.status();
    (*logger)->Always("start: tqs1 apply");
    (*logger)->Log(log::LogLevel::kInfo, "progress");
    (*logger)->Log(log::LogLevel::kDebug, "details");
    (*logger)->Log(log::LogLevel::kError, "it failed");
    (*logger)->Always("end: exit 1");
  }
  std::vector<std::string> lines = FileLines(dir + "/v1.log");
  ASSERT_THAT(lines, SizeIs(3));
  EXPECT_THAT(lines[0], EndsWith("Z I start: tqs1 apply"));
  EXPECT_THAT(lines[1], EndsWith("Z E it failed"));
  EXPECT_THAT(lines[2], EndsWith("Z I end: exit 1"));
}

// logrotate renames the file, then asks for a reopen: the lines before stay
// in the renamed file, the next ones go to a new file of the same name.
TEST(MakeLoggerTest, ReopenAfterARename) {
  const std::string dir = TempDir("reopen");
  absl::StatusOr<std::unique_ptr<CliLogger>> logger =
      MakeLogger(dir, "tqs1", 1);
  ASSERT_TRUE(logger.ok()) << logger.status();
  (*logger)->Always("before");
  ASSERT_EQ(rename((dir + "/tqs1.log").c_str(), (dir + "/tqs1.log.1").c_str()),
            0);
  (*logger)->Always("still the old file");
  ASSERT_TRUE((*logger)->Reopen().ok());
  (*logger)->Always("after");
  std::vector<std::string> old_lines = FileLines(dir + "/tqs1.log.1");
  ASSERT_THAT(old_lines, SizeIs(2));
  EXPECT_THAT(old_lines[1], EndsWith("Z I still the old file"));
  std::vector<std::string> lines = FileLines(dir + "/tqs1.log");
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], EndsWith("Z I after"));

  // A folder gone: the error names the file; the old file is kept.
  const std::string gone = TempDir("reopen-gone");
  absl::StatusOr<std::unique_ptr<CliLogger>> orphan =
      MakeLogger(gone, "tqs1", 1);
  ASSERT_TRUE(orphan.ok()) << orphan.status();
  ASSERT_EQ(unlink((gone + "/tqs1.log").c_str()), 0);
  ASSERT_EQ(rmdir(gone.c_str()), 0);
  absl::Status reopened = (*orphan)->Reopen();
  EXPECT_THAT(reopened.message(), HasSubstr(gone + "/tqs1.log"));
  (*orphan)->Always("kept writing");  // no crash, goes to the old file
}

// --log-format json: every line one JSON object a SIEM can take, with the
// run's id on each and the sync, counts and error where there are some.
TEST(MakeLoggerTest, JsonLines) {
  const std::string dir = TempDir("json");
  std::string run_id;
  {
    absl::StatusOr<std::unique_ptr<CliLogger>> logger =
        MakeLogger(dir, "j", 1, LogFormat::kJson);
    ASSERT_TRUE(logger.ok()) << logger.status();
    run_id = (*logger)->run_id();
    (*logger)->Always("start: tqs1 apply");
    (*logger)->Log(log::LogLevel::kInfo, "not at -v1");
    (*logger)->Log(log::LogLevel::kError,
                   "sync \"c2 -> HQ\": site \"HQ\" not found");
    log::LogFields fields;
    fields.sync = "c2";
    fields.counts = {{"created", 2}, {"deleted", 0}};
    (*logger)->AlwaysWith("applied \"quoted\"\n\tand \xff bad UTF-8", fields);
    {
      const log::LogScope round("round-1", "branch");
      (*logger)->Log(log::LogLevel::kWarning, "in a round");
      const log::LogScope inner("", "");
      (*logger)->Log(log::LogLevel::kWarning, "nested");
    }
    (*logger)->Log(log::LogLevel::kWarning, "after the round");
  }
  EXPECT_THAT(run_id, ::testing::MatchesRegex("[0-9a-f]{16}"));
  std::vector<std::string> lines = FileLines(dir + "/j.log");
  ASSERT_THAT(lines, SizeIs(6));
  std::vector<nlohmann::json> parsed;
  for (const std::string& line : lines) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_THAT(j["time"].get<std::string>(),
                ::testing::MatchesRegex(
                    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z"));
    parsed.push_back(std::move(j));
  }
  EXPECT_EQ(parsed[0]["level"], "info");
  EXPECT_EQ(parsed[0]["message"], "start: tqs1 apply");
  EXPECT_EQ(parsed[0]["run_id"], run_id);
  EXPECT_FALSE(parsed[0].contains("sync"));
  EXPECT_FALSE(parsed[0].contains("error"));

  EXPECT_EQ(parsed[1]["level"], "error");
  EXPECT_EQ(parsed[1]["sync"], "c2 -> HQ");
  EXPECT_EQ(parsed[1]["error"], "sync \"c2 -> HQ\": site \"HQ\" not found");

  EXPECT_EQ(parsed[2]["sync"], "c2");
  EXPECT_EQ(parsed[2]["counts"],
            nlohmann::json({{"created", 2}, {"deleted", 0}}));
  EXPECT_EQ(parsed[2]["message"],
            "applied \"quoted\"\n\tand \xef\xbf\xbd bad UTF-8");

  EXPECT_EQ(parsed[3]["run_id"], "round-1");
  EXPECT_EQ(parsed[3]["sync"], "branch");
  EXPECT_EQ(parsed[4]["run_id"], "round-1");  // an empty scope keeps both
  EXPECT_EQ(parsed[4]["sync"], "branch");
  EXPECT_EQ(parsed[5]["run_id"], run_id);
  EXPECT_FALSE(parsed[5].contains("sync"));
}

TEST(MakeLoggerTest, ConsoleAndUnwritableFolder) {
  absl::StatusOr<std::unique_ptr<CliLogger>> console =
      MakeLogger("stdout", "tqs1", 1);
  ASSERT_TRUE(console.ok());
  EXPECT_FALSE((*console)->writes_file());

  absl::StatusOr<std::unique_ptr<CliLogger>> missing =
      MakeLogger("/nonexistent/logs", "tqs1", 1);
  EXPECT_EQ(missing.status(),
            absl::InvalidArgumentError(
                "cannot write the log file \"/nonexistent/logs/tqs1.log\": No "
                "such file or directory (-ll/--loglocation "
                "\"/nonexistent/logs\" must be a writable folder, or "
                "\"stdout\")"));
}

TEST(LogTeeTest, EveryByteToTheTerminalEveryLineToTheLog) {
  std::stringbuf terminal;
  log::CapturingLogger logger;
  {
    LogTee tee(&terminal);
    std::ostream err(&tee);
    err << "before the logger\n";
    tee.set_logger(&logger);
    err << "Error: sync \"a\": HTTP 401\n";
    err << "Warning: the token was trimmed\nError: apply needs a "
        << "confirmation and there is no terminal\n"
        << "  (use --auto-approve)\n";
    err << 'x' << "\n\n";
    err << "Error: partial";
  }
  EXPECT_EQ(terminal.str(),
            "before the logger\n"
            "Error: sync \"a\": HTTP 401\n"
            "Warning: the token was trimmed\n"
            "Error: apply needs a confirmation and there is no terminal\n"
            "  (use --auto-approve)\n"
            "x\n\n"
            "Error: partial");
  EXPECT_THAT(
      logger.Lines(),
      ElementsAre("E sync \"a\": HTTP 401", "W the token was trimmed",
                  "E apply needs a confirmation and there is no terminal",
                  "E   (use --auto-approve)", "E x", "E partial"));
}

TEST(LogTeeTest, WithoutALoggerOnlyTheTerminal) {
  std::stringbuf terminal;
  log::CapturingLogger logger;
  LogTee tee(&terminal);
  std::ostream err(&tee);
  tee.set_logger(&logger);
  err << "first line, no prefix\n";
  tee.set_logger(nullptr);
  err << "Error: after\n";
  EXPECT_EQ(terminal.str(), "first line, no prefix\nError: after\n");
  EXPECT_THAT(logger.Lines(), ElementsAre("W first line, no prefix"));
}

}  // namespace
}  // namespace tqs1::cli

#include "base/logger.h"

#include "base/capturing_logger.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::log {
namespace {

using ::testing::ElementsAre;

TEST(LogLevelLetterTest, OneLetterPerLevel) {
  struct Case {
    LogLevel level;
    char letter;
  };
  const Case kCases[] = {{LogLevel::kError, 'E'},
                         {LogLevel::kWarning, 'W'},
                         {LogLevel::kInfo, 'I'},
                         {LogLevel::kDebug, 'D'}};
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.letter);
    EXPECT_EQ(LogLevelLetter(c.level), c.letter);
  }
}

TEST(CapturingLoggerTest, RecordsLinesInOrderWithLevel) {
  CapturingLogger logger;
  logger.Log(LogLevel::kWarning, "first");
  LogTo(&logger, LogLevel::kDebug, "second");
  LogTo(nullptr, LogLevel::kError, "dropped");  // must not crash
  EXPECT_THAT(logger.Lines(), ElementsAre("W first", "D second"));
  EXPECT_EQ(logger.Text(), "W first\nD second");
  EXPECT_TRUE(logger.Contains("seco"));
  EXPECT_FALSE(logger.Contains("dropped"));
}

TEST(StderrLoggerTest, FiltersByLevel) {
  StderrLogger logger(LogLevel::kWarning);
  ::testing::internal::CaptureStderr();
  logger.Log(LogLevel::kError, "bad");
  logger.Log(LogLevel::kWarning, "careful");
  logger.Log(LogLevel::kInfo, "chatty");
  logger.Log(LogLevel::kDebug, "chattier");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "E tqs1: bad\nW tqs1: careful\n");
}

}  // namespace
}  // namespace tqs1::log

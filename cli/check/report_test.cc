#include "cli/check/report.h"

#include <sstream>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::check {
namespace {

TEST(CheckReportTest, RendersAlignedColumnsAndStreamsEachLine) {
  std::ostringstream out;
  CheckReport report({}, &out);
  report.Pass("sentinelone.site", "\"HQ\" (account \"Acme\", id 1234)");
  report.Warn("sentinelone.token.expiry.of.a.long.name", "12 days left");
  EXPECT_EQ(out.str(),
            "PASS  sentinelone.site        \"HQ\" (account \"Acme\", id 1234)\n"
            "WARN  sentinelone.token.expiry.of.a.long.name 12 days left\n");
  EXPECT_EQ(report.Render(), out.str());
  EXPECT_EQ(report.ExitCode(), 0);
}

TEST(CheckReportTest, AnyFailMeansExitOne) {
  CheckReport report({});
  report.Pass("a", "fine");
  report.Warn("b", "meh");
  EXPECT_EQ(report.ExitCode(), 0);
  report.Fail("c", absl::UnavailableError("console down"));
  EXPECT_EQ(report.ExitCode(), 1);
  EXPECT_EQ(report.lines().back().text, "console down (UNAVAILABLE)");
}

TEST(CheckReportTest, SecretsAreRedactedAndTextIsOneLine) {
  CheckReport report({"s3cr3t-token", "", "pw-7f3c"});
  report.Fail("threatq.token",
              "server said: bad token s3cr3t-token\nfor password pw-7f3c");
  EXPECT_EQ(report.lines()[0].text,
            "server said: bad token [redacted] for password [redacted]");
  EXPECT_THAT(report.Render(), ::testing::Not(::testing::HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace tqs1::check

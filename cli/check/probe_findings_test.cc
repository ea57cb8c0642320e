#include "cli/check/probe_findings.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::check {
namespace {

using ::testing::HasSubstr;

std::string TempDir() {
  std::string base = ::testing::TempDir();
  std::string dir = absl::StrCat(base, "/findings-XXXXXX");
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir;
}

TEST(ProbeFindingsTest, PathNamesConsoleHostPortAndSite) {
  EXPECT_EQ(*ProbeFindingsPath("/s", "https://usea1.sentinelone.net", "17"),
            "/s/probe-usea1.sentinelone.net-17.json");
  EXPECT_EQ(
      *ProbeFindingsPath("/s/", "https://127.0.0.1:8443/web/api/v2.1", "17"),
      "/s/probe-127.0.0.1_8443-17.json");
  EXPECT_EQ(*ProbeFindingsPath("/s", "https://[::1]:9/", "a/b"),
            "/s/probe-__1_9-a_b.json");
  EXPECT_EQ(ProbeFindingsPath("/s", "not a url", "17").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProbeFindingsPath("/s", "https://x", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ProbeFindingsTest, AbsentFileIsNoFindings) {
  std::string dir = TempDir();
  absl::StatusOr<std::optional<ProbeFindings>> read =
      ReadProbeFindings(dir, "https://console.example", "17");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->has_value());
}

TEST(ProbeFindingsTest, WrittenFindingsReadBackWithMode0600) {
  std::string dir = absl::StrCat(TempDir(), "/state");  // created on write
  ProbeFindings f;
  f.learned_at = absl::FromUnixSeconds(1767225600);
  f.ipv6_accepted = Tristate::kNo;
  f.ipv6_answer = "HTTP 400: Validation Error";
  f.values_verbatim = Tristate::kYes;
  f.description_verbatim = Tristate::kNo;
  f.os_types_verbatim = Tristate::kYes;
  f.readback_differences = "description trimmed";
  f.duplicate_answer = "HTTP 400: already exists";
  f.names_clash_ignoring_case = Tristate::kYes;
  f.case_answer = "HTTP 400";
  f.put_update = "partial";
  f.delete_answer = "affected 1";
  ASSERT_TRUE(
      WriteProbeFindings(dir, "https://console.example:443", "17", f).ok());
  std::string path =
      *ProbeFindingsPath(dir, "https://console.example:443", "17");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  absl::StatusOr<std::optional<ProbeFindings>> read =
      ReadProbeFindings(dir, "https://console.example:443", "17");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  const ProbeFindings& g = **read;
  EXPECT_EQ(g.console, "console.example:443");
  EXPECT_EQ(g.site_id, "17");
  EXPECT_EQ(g.learned_at, f.learned_at);
  EXPECT_EQ(g.ipv6_accepted, Tristate::kNo);
  EXPECT_EQ(g.ipv6_answer, f.ipv6_answer);
  EXPECT_EQ(g.values_verbatim, Tristate::kYes);
  EXPECT_EQ(g.description_verbatim, Tristate::kNo);
  EXPECT_EQ(g.readback_differences, f.readback_differences);
  EXPECT_EQ(g.duplicate_answer, f.duplicate_answer);
  EXPECT_EQ(g.names_clash_ignoring_case, Tristate::kYes);
  EXPECT_EQ(g.case_answer, f.case_answer);
  EXPECT_EQ(g.put_update, "partial");
  EXPECT_EQ(g.delete_answer, "affected 1");
}

TEST(ProbeFindingsTest, MalformedOrForeignFileIsDataLossNamingThePath) {
  std::string dir = TempDir();
  std::string path = *ProbeFindingsPath(dir, "https://c.example", "17");
  struct Case {
    const char* name;
    std::string text;
    const char* message;
  } cases[] = {
      {"not json", "{", "not a JSON object"},
      {"bad tristate",
       R"({"console":"c.example","site_id":"17","learned_at":"2026-01-01T00:00:00Z","ipv6_accepted":"maybe"})",
       "\"ipv6_accepted\" should be yes, no or unknown"},
      {"bad time",
       R"({"console":"c.example","site_id":"17","learned_at":"yesterday","ipv6_accepted":"no"})",
       "\"learned_at\" is not an RFC 3339 time"},
      {"other site",
       R"({"console":"c.example","site_id":"18","learned_at":"2026-01-01T00:00:00Z","ipv6_accepted":"no"})",
       "not of console \"c.example\" site 17"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(WriteFileAtomically(path, c.text, 0600).ok());
    absl::StatusOr<std::optional<ProbeFindings>> read =
        ReadProbeFindings(dir, "https://c.example", "17");
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(read.status().message(), HasSubstr(path));
    EXPECT_THAT(read.status().message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace tqs1::check

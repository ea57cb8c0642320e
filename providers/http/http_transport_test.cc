#include "providers/http/http_transport.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace tqs1::http {
namespace {

TEST(HttpResponseTest, HeaderIsCaseInsensitiveAndFirstWins) {
  HttpResponse response;
  response.headers = {{"Content-Type", "application/json"},
                      {"retry-after", "3"},
                      {"Retry-After", "9"}};
  EXPECT_EQ(response.Header("content-type"), "application/json");
  EXPECT_EQ(response.Header("RETRY-AFTER"), "3");
  EXPECT_EQ(response.Header("Location"), std::nullopt);
}

TEST(HttpRequestTest, IdempotenceDefaultsByMethod) {
  struct Case {
    const char* method;
    std::optional<bool> explicit_value;
    bool want;
  };
  const Case kCases[] = {
      {"GET", std::nullopt, true},    {"PUT", std::nullopt, true},
      {"DELETE", std::nullopt, true}, {"POST", std::nullopt, false},
      {"POST", true, true},           {"GET", false, false}};
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.method);
    HttpRequest request;
    request.method = c.method;
    request.idempotent = c.explicit_value;
    EXPECT_EQ(request.IsIdempotent(), c.want);
  }
}

TEST(OutcomeUnknownTest, MarkKeepsCodeAndMessage) {
  absl::Status marked =
      MarkOutcomeUnknown(absl::UnavailableError("POST https://x/y: reset"));
  EXPECT_TRUE(IsOutcomeUnknown(marked));
  EXPECT_EQ(marked.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(marked.message(), "POST https://x/y: reset");
  EXPECT_FALSE(IsOutcomeUnknown(absl::UnavailableError("reset")));
  EXPECT_FALSE(IsOutcomeUnknown(MarkOutcomeUnknown(absl::OkStatus())));
  EXPECT_TRUE(MarkOutcomeUnknown(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace tqs1::http

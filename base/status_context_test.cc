#include "base/status_context.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/types/optional.h"
#include "gtest/gtest.h"

namespace tqs1 {
namespace {

constexpr char kUrl[] = "type.tqs1/outcome-unknown";

TEST(StatusContextTest, RewritesTheMessageKeepsCodeAndPayloads) {
  absl::Status down = absl::UnavailableError("console down");
  down.SetPayload(kUrl, absl::Cord("1"));
  struct Case {
    std::string name;
    absl::Status out;
    std::string message;
  };
  const Case kCases[] = {
      {"WithMessage", WithMessage(down, "deleting: console down; re-plan"),
       "deleting: console down; re-plan"},
      {"AddContext", AddContext(down, "deleting rule \"C2 (3)\""),
       "deleting rule \"C2 (3)\": console down"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.out.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(c.out.message(), c.message);
    absl::optional<absl::Cord> payload = c.out.GetPayload(kUrl);
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(*payload, "1");
  }
}

TEST(StatusContextTest, OkStaysOk) {
  EXPECT_EQ(WithMessage(absl::OkStatus(), "ignored"), absl::OkStatus());
  EXPECT_EQ(AddContext(absl::OkStatus(), "ignored"), absl::OkStatus());
}

}  // namespace
}  // namespace tqs1

#include "base/redact.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/types/optional.h"
#include "gtest/gtest.h"

namespace tqs1 {
namespace {

TEST(RedactSecretsTest, Text) {
  struct Case {
    std::string text;
    std::vector<absl::string_view> secrets;
    std::string want;
  };
  const Case kCases[] = {
      {"token s3cr3t expired", {"s3cr3t"}, "token [redacted] expired"},
      {"s3cr3t and s3cr3t", {"s3cr3t"}, "[redacted] and [redacted]"},
      {"s3cr3ts3cr3t", {"s3cr3t"}, "[redacted][redacted]"},
      {"login pw1 for id1",
       {"pw1", "", "id1"},
       "login [redacted] for [redacted]"},
      // One secret inside another: the longer one goes whole, whatever
      // the order.
      {"x abcd y", {"abc", "abcd"}, "x [redacted] y"},
      {"x abcd y", {"abcd", "abc"}, "x [redacted] y"},
      // Overlapping secrets leave nothing of either.
      {"x abcdef y", {"abcd", "cdef"}, "x [redacted] y"},
      {"aaa", {"aa"}, "[redacted]"},
      // A secret that looks like the marker, or is part of it.
      {"red", {"red"}, "[redacted]"},
      {"nothing here", {"s3cr3t"}, "nothing here"},
      {"nothing here", {}, "nothing here"},
      {"", {"s3cr3t"}, ""},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(RedactSecrets(c.text, c.secrets), c.want);
  }
}

TEST(RedactSecretsTest, StatusKeepsCodeAndPayloads) {
  absl::Status status = absl::UnauthenticatedError("token s3cr3t expired");
  status.SetPayload("type.tqs1/x", absl::Cord("1"));
  absl::Status out = RedactSecrets(status, {"s3cr3t"});
  EXPECT_EQ(out.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(out.message(), "token [redacted] expired");
  absl::optional<absl::Cord> payload = out.GetPayload("type.tqs1/x");
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(*payload, "1");

  EXPECT_EQ(RedactSecrets(absl::OkStatus(), {"s3cr3t"}), absl::OkStatus());
  EXPECT_EQ(RedactSecrets(absl::NotFoundError("no rule"), {"s3cr3t"}),
            absl::NotFoundError("no rule"));
}

}  // namespace
}  // namespace tqs1

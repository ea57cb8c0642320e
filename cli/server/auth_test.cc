#include "cli/server/auth.h"

#include <optional>

#include "gtest/gtest.h"

namespace tqs1::server {
namespace {

TEST(AuthTest, ListenPolicy) {
  struct Case {
    const char* listen;
    bool tls;
    bool token;
    absl::Status want;
  };
  const Case cases[] = {
      {"127.0.0.1:0", false, false, absl::OkStatus()},
      {"[::1]:50051", false, false, absl::OkStatus()},
      {"0.0.0.0:50051", true, true, absl::OkStatus()},
      {"0.0.0.0:50051", false, true,
       absl::FailedPreconditionError(
           "listening on 0.0.0.0:50051 (not loopback) needs TLS (--tls-cert "
           "and --tls-key)")},
      {"10.0.0.1:50051", true, false,
       absl::FailedPreconditionError(
           "listening on 10.0.0.1:50051 (not loopback) needs a token "
           "(--token-file or --token-env)")},
      {"nope", true, true,
       absl::InvalidArgumentError(
           "address \"nope\" has no port (expected HOST:PORT)")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.listen);
    EXPECT_EQ(CheckListenPolicy(c.listen, c.tls, c.token), c.want);
  }
}

TEST(AuthTest, BearerToken) {
  const absl::Status missing = absl::UnauthenticatedError(
      "missing bearer token (send metadata \"authorization: Bearer "
      "<token>\")");
  const absl::Status wrong =
      absl::PermissionDeniedError("invalid bearer token");
  struct Case {
    const char* name;
    std::optional<absl::string_view> header;
    absl::string_view expected;
    absl::Status want;
  };
  const Case cases[] = {
      {"absent", std::nullopt, "s3cret", missing},
      {"empty", absl::string_view(""), "s3cret", missing},
      {"bare word", absl::string_view("Bearer "), "s3cret", missing},
      {"basic", absl::string_view("Basic czNjcmV0"), "s3cret", missing},
      {"right", absl::string_view("Bearer s3cret"), "s3cret", absl::OkStatus()},
      {"lower-case scheme", absl::string_view("bearer s3cret"), "s3cret",
       absl::OkStatus()},
      {"wrong", absl::string_view("Bearer s3creT"), "s3cret", wrong},
      {"longer", absl::string_view("Bearer s3cret2"), "s3cret", wrong},
      {"shorter", absl::string_view("Bearer s3cre"), "s3cret", wrong},
      {"server has none", absl::string_view("Bearer x"), "", wrong},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(CheckBearerToken(c.header, c.expected), c.want);
  }
}

TEST(AuthTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals(absl::string_view("a\0", 2), "a"));
}

TEST(AuthTest, ResolveToken) {
  config::SecretOptions options;
  options.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TQS1_SERVER_TOKEN") return "from-env";
    return std::nullopt;
  };
  EXPECT_EQ(ResolveToken("", "", options).value_or("?"), "");
  EXPECT_EQ(ResolveToken("", "TQS1_SERVER_TOKEN", options).value_or("?"),
            "from-env");
  EXPECT_EQ(ResolveToken("", "UNSET", options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ResolveToken("/a", "B", options).status(),
            absl::InvalidArgumentError(
                "give the token by --token-file or by --token-env, not both"));
}

}  // namespace
}  // namespace tqs1::server

#include "cli/config/secrets.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/capturing_logger.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/config.pb.h"

namespace tqs1::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::tqs1::log::CapturingLogger;
using ::tqs1::v1::SecretRef;

constexpr char kSecret[] = "s3cr3t-T0ken";

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// Writes `contents` to a fresh file under TEST_TMPDIR with `mode`.
std::string WriteFile(const std::string& name, const std::string& contents,
                      mode_t mode = 0600) {
  const std::string path = absl::StrCat(TempDir(), "/", name);
  unlink(path.c_str());
  {
    std::ofstream out(path, std::ios::binary);
    out << contents;
  }
  EXPECT_EQ(chmod(path.c_str(), mode), 0);
  return path;
}

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

SecretRef Env(const std::string& name) {
  SecretRef ref;
  ref.set_env(name);
  return ref;
}

SecretRef File(const std::string& path) {
  SecretRef ref;
  ref.set_file(path);
  return ref;
}

TEST(ResolveSecretTest, Resolves) {
  const std::string padded =
      WriteFile("padded", absl::StrCat("\n  ", kSecret, " \r\n"));
  struct Case {
    std::string name;
    SecretRef ref;
  };
  const Case kCases[] = {
      {"env", Env("TQS1_S1_TOKEN")},
      {"file, whitespace trimmed", File(padded)},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    CapturingLogger logger;
    SecretOptions options;
    options.env = FakeEnv({{"TQS1_S1_TOKEN", kSecret}});
    options.logger = &logger;
    absl::StatusOr<std::string> secret =
        ResolveSecret(c.ref, "sentinelone.api_token", options);
    ASSERT_TRUE(secret.ok()) << secret.status();
    EXPECT_EQ(*secret, kSecret);
    EXPECT_THAT(logger.Lines(), IsEmpty());
  }
}

TEST(ResolveSecretTest, TrimsAVariableAndSaysSo) {
  struct Case {
    std::string name;
    std::string value;
  };
  const Case kCases[] = {
      {"trailing newline", absl::StrCat(kSecret, "\n")},
      {"trailing CR LF", absl::StrCat(kSecret, "\r\n")},
      {"spaces around", absl::StrCat("  ", kSecret, " \t")},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    CapturingLogger logger;
    SecretOptions options;
    options.env = FakeEnv({{"TQS1_S1_TOKEN", c.value}});
    options.logger = &logger;
    absl::StatusOr<std::string> secret =
        ResolveSecret(Env("TQS1_S1_TOKEN"), "sentinelone.api_token", options);
    ASSERT_TRUE(secret.ok()) << secret.status();
    EXPECT_EQ(*secret, kSecret);
    EXPECT_THAT(logger.Lines(),
                ElementsAre("W environment variable TQS1_S1_TOKEN "
                            "(sentinelone.api_token_env) has whitespace (a "
                            "newline?) before or after the secret; it was "
                            "trimmed"));
  }
}

TEST(ResolveSecretTest, RefusesControlCharactersInside) {
  const std::string two_lines =
      WriteFile("two-lines", absl::StrCat(kSecret, "\nsecond line\n"));
  CapturingLogger logger;
  SecretOptions options;
  options.env = FakeEnv({{"TWO_LINES", absl::StrCat(kSecret, "\nx")},
                         {"TAB", absl::StrCat(kSecret, "\tx")},
                         {"SPACES", " \n "}});
  options.logger = &logger;
  struct Case {
    SecretRef ref;
    std::string message;
  };
  const Case kCases[] = {
      {Env("TWO_LINES"),
       "environment variable TWO_LINES (threatq.password_env) holds a newline "
       "or another control character inside the secret; a secret is one "
       "line"},
      {Env("TAB"),
       "environment variable TAB (threatq.password_env) holds a newline or "
       "another control character inside the secret; a secret is one line"},
      {Env("SPACES"),
       "environment variable SPACES (threatq.password_env) holds only "
       "whitespace"},
      {File(two_lines),
       "secret file " + two_lines +
           " (threatq.password_file) holds a newline or another control "
           "character inside the secret; a secret is one line"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.message);
    absl::StatusOr<std::string> secret =
        ResolveSecret(c.ref, "threatq.password", options);
    EXPECT_EQ(secret.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(secret.status().message(), c.message);
  }
  EXPECT_FALSE(logger.Contains(kSecret));
}

TEST(SecretOriginTest, NamesTheReference) {
  EXPECT_EQ(SecretOrigin(Env("TQS1_S1_TOKEN")), "$TQS1_S1_TOKEN");
  EXPECT_EQ(SecretOrigin(File("/etc/tq_labs/s1.token")),
            "file /etc/tq_labs/s1.token");
  EXPECT_EQ(SecretOrigin(SecretRef()), "");
}

TEST(ResolveSecretTest, Errors) {
  const std::string dir = TempDir();
  const std::string empty = WriteFile("empty", " \n\t\n");
  const std::string large =
      WriteFile("large", std::string(kMaxSecretFileBytes + 1, 'x'));
  struct Case {
    std::string name;
    SecretRef ref;
    absl::StatusCode code;
    std::string message;
  };
  const Case kCases[] = {
      {"unset variable", Env("TQS1_S1_TOKEN"),
       absl::StatusCode::kFailedPrecondition,
       "environment variable TQS1_S1_TOKEN (sentinelone.api_token_env) is "
       "not set or empty"},
      {"empty variable", Env("EMPTY"), absl::StatusCode::kFailedPrecondition,
       "environment variable EMPTY (sentinelone.api_token_env) is not set or "
       "empty"},
      {"missing file", File(dir + "/nope"),
       absl::StatusCode::kFailedPrecondition,
       "secret file " + dir +
           "/nope (sentinelone.api_token_file) does not exist"},
      {"missing folder", File(dir + "/nope/token"),
       absl::StatusCode::kFailedPrecondition,
       "secret file " + dir +
           "/nope/token (sentinelone.api_token_file) does not exist"},
      {"empty file", File(empty), absl::StatusCode::kFailedPrecondition,
       "secret file " + empty + " (sentinelone.api_token_file) is empty"},
      {"folder", File(dir), absl::StatusCode::kFailedPrecondition,
       "secret file " + dir +
           " (sentinelone.api_token_file) is not a regular file"},
      {"large file", File(large), absl::StatusCode::kFailedPrecondition,
       "secret file " + large +
           " (sentinelone.api_token_file) is larger than 64 KiB; is it the "
           "right file?"},
      {"no reference", SecretRef(), absl::StatusCode::kInvalidArgument,
       "no secret configured for sentinelone.api_token: set "
       "sentinelone.api_token_env or sentinelone.api_token_file"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    SecretOptions options;
    options.env = FakeEnv({{"EMPTY", ""}, {"OTHER", kSecret}});
    absl::StatusOr<std::string> secret =
        ResolveSecret(c.ref, "sentinelone.api_token", options);
    EXPECT_EQ(secret.status().code(), c.code);
    EXPECT_EQ(secret.status().message(), c.message);
  }
}

TEST(ResolveSecretTest, UnreadableFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const std::string path = WriteFile("unreadable", kSecret, 0200);
  absl::StatusOr<std::string> secret =
      ResolveSecret(File(path), "threatq.password");
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(secret.status().message(),
            "secret file " + path +
                " (threatq.password_file) cannot be read: Permission denied");
}

TEST(ResolveSecretTest, WarnsAboutFilesOthersCanRead) {
  const std::string path = WriteFile("shared", kSecret, 0644);
  CapturingLogger logger;
  SecretOptions options;
  options.logger = &logger;
  absl::StatusOr<std::string> secret =
      ResolveSecret(File(path), "threatq.password", options);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, kSecret);
  EXPECT_THAT(logger.Lines(),
              ElementsAre("W secret file " + path +
                          " (threatq.password_file) can be read or changed "
                          "by group or others (mode 0644); run: chmod 600 " +
                          path));
  EXPECT_FALSE(logger.Contains(kSecret));
}

TEST(ResolveCredentialsTest, ResolvesEveryReference) {
  const std::string token = WriteFile("s1.token", "tok-1\n");
  tqs1::v1::Config config;
  config.mutable_threatq()->mutable_password()->set_env("TQ_PW");
  config.mutable_sentinelone()->mutable_api_token()->set_file(token);
  SecretOptions options;
  options.env = FakeEnv({{"TQ_PW", "pw-1"}});
  absl::StatusOr<Credentials> credentials = ResolveCredentials(config, options);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ(credentials->threatq_password, "pw-1");
  EXPECT_EQ(credentials->threatq_client_secret, "");
  EXPECT_EQ(credentials->sentinelone_api_token, "tok-1");

  config.mutable_threatq()->clear_password();
  config.mutable_threatq()->mutable_client_secret()->set_env("TQ_SECRET");
  credentials = ResolveCredentials(config, options);
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(credentials.status().message(),
            "environment variable TQ_SECRET (threatq.client_secret_env) is "
            "not set or empty");
}

TEST(ResolveSecretTest, SecretsNeverInMessagesOrLogs) {
  // A file too large whose first bytes are the secret, a world-readable
  // file, and a variable that holds the secret under another name.
  const std::string large = WriteFile(
      "large-secret",
      absl::StrCat(kSecret, std::string(kMaxSecretFileBytes, ' '), "x"), 0644);
  const std::string shared = WriteFile("shared-secret", kSecret, 0666);
  CapturingLogger logger;
  SecretOptions options;
  options.env = FakeEnv({{"HOLDS_IT", kSecret}});
  options.logger = &logger;
  for (const SecretRef& ref :
       {File(large), File(shared), Env("MISSING"), Env("HOLDS_IT")}) {
    SCOPED_TRACE(ref.DebugString());
    absl::StatusOr<std::string> secret =
        ResolveSecret(ref, "threatq.password", options);
    EXPECT_THAT(secret.status().message(), Not(HasSubstr(kSecret)));
  }
  EXPECT_FALSE(logger.Contains(kSecret)) << logger.Text();
  EXPECT_FALSE(logger.Text().empty());
}

}  // namespace
}  // namespace tqs1::config

#include "cli/init.h"

#include <sys/stat.h>

#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/config/config_loader.h"
#include "emulators/emulator_server.h"
#include "gtest/gtest.h"
#include "testing/vendors_env.h"

namespace tqs1::cli {
namespace {

using ::tqs1::testing::VendorsEnv;

struct Terminal {
  std::ostringstream out, err;
  std::deque<std::string> answers;
  std::vector<std::pair<std::string, bool>> asked;

  Io MakeIo() {
    Io io;
    io.out = &out;
    io.err = &err;
    io.interactive = true;
    io.ask = [this](const std::string& prompt,
                    bool hidden) -> std::optional<std::string> {
      asked.emplace_back(prompt, hidden);
      if (answers.empty()) return std::nullopt;
      std::string a = answers.front();
      answers.pop_front();
      return a;
    };
    return io;
  }
  bool AskedHidden() const {
    for (const auto& [prompt, hidden] : asked) {
      if (hidden) return true;
    }
    return false;
  }
};

std::string FreshDir(const std::string& name) {
  std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  mkdir(dir.c_str(), 0700);
  return dir;
}

int Mode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

CommandLine InitIn(const std::string& dir) {
  CommandLine cl;
  cl.command = "init";
  cl.config = dir;
  return cl;
}

// The emulators' URLs as a user types them: bare loopback host and port.
std::string Typed(const std::string& url) {
  return std::string(absl::StripPrefix(url, "http://"));
}

class RunInitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tqs1::testing::VendorsEnvOptions options;
    options.password = "s3cret pw";
    options.api_token = "tok-456";
    absl::StatusOr<std::unique_ptr<VendorsEnv>> env =
        VendorsEnv::Start(options);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = std::move(*env);
    tq_host_ = Typed(env_->Config().threatq().url());
    s1_host_ = Typed(env_->Config().sentinelone().url());
  }

  // Answers up to the collection prompt.
  std::deque<std::string> ThreatQAnswers(const std::string& password) {
    return {tq_host_, tqs1::testing::kClientId, tqs1::testing::kUser, password};
  }

  std::unique_ptr<VendorsEnv> env_;
  std::string tq_host_, s1_host_;
};

TEST(UrlForTypedHostTest, HttpOnlyForLoopback) {
  struct Case {
    const char* typed;
    const char* url;
  } cases[] = {
      {"127.0.0.1", "http://127.0.0.1"},
      {"127.0.0.1:8443", "http://127.0.0.1:8443"},
      {"localhost:9000", "http://localhost:9000"},
      {"LocalHost", "http://LocalHost"},
      {"::1", "http://[::1]"},
      {"[::1]:8443", "http://[::1]:8443"},
      {" tq.example.net ", "https://tq.example.net"},
      {"tq.example.net:8443", "https://tq.example.net:8443"},
      {"localhost.example.net", "https://localhost.example.net"},
      {"2001:db8::1", "https://[2001:db8::1]"},
      {"https://tq.example.net", "https://tq.example.net"},
      {"http://tq.example.net", "http://tq.example.net"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.typed);
    EXPECT_EQ(UrlForTypedHost(c.typed), c.url);
  }
}

TEST_F(RunInitTest, WritesAPrivateConfigThatLoads) {
  const std::string dir = FreshDir("init_ok");
  Terminal t;
  t.answers = ThreatQAnswers("s3cret pw");
  t.answers.insert(t.answers.end(),
                   {tqs1::testing::kCollection, s1_host_, "tok-456", "1"});
  ASSERT_EQ(RunInit(InitIn(dir), t.MakeIo()), kExitOk) << t.err.str();

  // The password and the token were asked without echo; nothing else was.
  ASSERT_EQ(t.asked.size(), 8u);
  for (size_t k = 0; k < t.asked.size(); ++k) {
    EXPECT_EQ(t.asked[k].second, k == 3 || k == 6) << t.asked[k].first;
  }
  EXPECT_NE(t.out.str().find("  1. Known C2 IPs\n"), std::string::npos)
      << t.out.str();
  EXPECT_NE(t.out.str().find("  1. HQ (account "), std::string::npos)
      << t.out.str();
  EXPECT_NE(t.out.str().find("Using http://127.0.0.1:"), std::string::npos);
  const std::string config = dir + "/tqs1.yaml";
  EXPECT_EQ(Mode(config), 0600);
  EXPECT_EQ(Mode(dir + "/tqs1.threatq-password"), 0600);
  EXPECT_EQ(Mode(dir + "/tqs1.s1-token"), 0600);
  EXPECT_EQ(Slurp(dir + "/tqs1.threatq-password"), "s3cret pw");
  EXPECT_EQ(Slurp(dir + "/tqs1.s1-token"), "tok-456");
  std::string yaml = Slurp(config);
  EXPECT_EQ(yaml.find("s3cret"), std::string::npos);
  EXPECT_EQ(yaml.find("tok-456"), std::string::npos);

  absl::StatusOr<tqs1::v1::Config> loaded = config::LoadConfigFile(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->threatq().url(), "http://" + tq_host_);
  EXPECT_EQ(loaded->threatq().client_id(), tqs1::testing::kClientId);
  EXPECT_EQ(loaded->sentinelone().url(), "http://" + s1_host_);
  ASSERT_EQ(loaded->syncs_size(), 1);
  EXPECT_EQ(loaded->syncs(0).collection(), tqs1::testing::kCollection);
  EXPECT_EQ(loaded->syncs(0).site(), tqs1::testing::kSiteName);
  EXPECT_EQ(loaded->syncs(0).site_id(), "");
  for (const std::string& printed : {t.out.str(), t.err.str()}) {
    EXPECT_EQ(printed.find("s3cret"), std::string::npos);
    EXPECT_EQ(printed.find("tok-456"), std::string::npos);
  }
}

TEST_F(RunInitTest, APassingServerErrorIsRetriedAsByTheOtherCommands) {
  // Each vendor's first answer is a 503: init retries as plan and apply do.
  emulator::Fault once;
  once.kind = emulator::FaultKind::kServerError;
  once.status = 503;
  env_->tq().server().InjectFault(once);
  env_->s1().server().InjectFault(once);
  const std::string dir = FreshDir("init_retry");
  Terminal t;
  t.answers = ThreatQAnswers("s3cret pw");
  t.answers.insert(t.answers.end(),
                   {tqs1::testing::kCollection, s1_host_, "tok-456", "1"});
  ASSERT_EQ(RunInit(InitIn(dir), t.MakeIo()), kExitOk) << t.err.str();
  EXPECT_EQ(env_->tq().server().PendingFaults(), 0);
  EXPECT_EQ(env_->s1().server().PendingFaults(), 0);
}

TEST_F(RunInitTest, FolderWithAConfigFailsBeforeAnySecretIsAsked) {
  const std::string dir = FreshDir("init_exists");
  { std::ofstream(dir + "/tqs1.yaml") << "# someone's config\n"; }
  Terminal t;
  t.answers = ThreatQAnswers("s3cret pw");
  EXPECT_EQ(RunInit(InitIn(dir), t.MakeIo()), kExitError);
  EXPECT_TRUE(t.asked.empty());
  EXPECT_NE(t.err.str().find("exists already"), std::string::npos);
  EXPECT_NE(t.err.str().find("\"" + dir + "\""), std::string::npos)
      << t.err.str();
  EXPECT_EQ(Slurp(dir + "/tqs1.yaml"), "# someone's config\n");
}

TEST_F(RunInitTest, UnwritableParentFailsBeforeAnySecretIsAsked) {
  Terminal t;
  t.answers = ThreatQAnswers("s3cret pw");
  EXPECT_EQ(RunInit(InitIn("/proc/no-such/tq_labs"), t.MakeIo()), kExitError);
  EXPECT_TRUE(t.asked.empty());
  EXPECT_NE(t.err.str().find("/proc/no-such/tq_labs"), std::string::npos)
      << t.err.str();
}

TEST_F(RunInitTest, WrongPasswordWritesNothing) {
  const std::string dir = FreshDir("init_bad_pw");
  Terminal t;
  t.answers = ThreatQAnswers("not the password");
  t.answers.insert(t.answers.end(), {"1", s1_host_, "tok-456", "1"});
  EXPECT_EQ(RunInit(InitIn(dir), t.MakeIo()), kExitError);
  EXPECT_EQ(t.asked.size(), 4u);  // nothing after the password
  EXPECT_NE(t.err.str().find("ThreatQ at http://" + tq_host_),
            std::string::npos)
      << t.err.str();
  EXPECT_NE(t.err.str().find("nothing written"), std::string::npos);
  EXPECT_EQ(t.err.str().find("not the password"), std::string::npos);
  EXPECT_EQ(Mode(dir + "/tqs1.yaml"), -1);
  EXPECT_EQ(Mode(dir + "/tqs1.threatq-password"), -1);
  EXPECT_EQ(Mode(dir + "/tqs1.s1-token"), -1);
}

TEST_F(RunInitTest, WrongTokenWritesNothing) {
  const std::string dir = FreshDir("init_bad_token");
  Terminal t;
  t.answers = ThreatQAnswers("s3cret pw");
  t.answers.insert(t.answers.end(), {"1", s1_host_, "not-the-token", "1"});
  EXPECT_EQ(RunInit(InitIn(dir), t.MakeIo()), kExitError);
  EXPECT_EQ(t.asked.size(), 7u);
  EXPECT_NE(t.err.str().find("SentinelOne at http://" + s1_host_),
            std::string::npos)
      << t.err.str();
  EXPECT_EQ(t.err.str().find("not-the-token"), std::string::npos);
  EXPECT_EQ(Mode(dir + "/tqs1.yaml"), -1);
  EXPECT_EQ(Mode(dir + "/tqs1.threatq-password"), -1);
}

TEST_F(RunInitTest, TypoedCollectionGetsNearMatchesAndIsAskedAgain) {
  const std::string dir = FreshDir("init_typo");
  env_->tq().AddCollection("Phishing domains", {});
  Terminal t;
  t.answers = ThreatQAnswers("s3cret pw");
  t.answers.insert(t.answers.end(), {"known c2", "7", "Known C2 IPs", s1_host_,
                                     "tok-456", "hq", "HQ"});
  ASSERT_EQ(RunInit(InitIn(dir), t.MakeIo()), kExitOk) << t.err.str();
  EXPECT_NE(t.err.str().find(
                "\"known c2\" is not in the list; near matches: \"Known C2 "
                "IPs\"."),
            std::string::npos)
      << t.err.str();
  EXPECT_NE(t.err.str().find("7 is not in the list (1 to 2)"),
            std::string::npos);
  EXPECT_NE(t.err.str().find("\"hq\" is not in the list; near matches: "
                             "\"HQ\"."),
            std::string::npos)
      << t.err.str();
  absl::StatusOr<tqs1::v1::Config> loaded =
      config::LoadConfigFile(dir + "/tqs1.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->syncs(0).collection(), "Known C2 IPs");
  EXPECT_EQ(loaded->syncs(0).site(), "HQ");
}

TEST_F(RunInitTest, SiteNameInTwoAccountsWritesTheChosenSiteId) {
  const std::string dir = FreshDir("init_two_hq");
  env_->s1().AddSite(
      {"1758952600032266999", "HQ", "1286405255240245999", "Beta"});
  Terminal t;
  t.answers = ThreatQAnswers("s3cret pw");
  t.answers.insert(t.answers.end(), {"1", s1_host_, "tok-456", "HQ", "2"});
  ASSERT_EQ(RunInit(InitIn(dir), t.MakeIo()), kExitOk) << t.err.str();
  EXPECT_NE(t.err.str().find("\"HQ\" names 2 entries; choose one by number"),
            std::string::npos)
      << t.err.str();
  EXPECT_NE(t.out.str().find("2. HQ (account Beta)"), std::string::npos)
      << t.out.str();
  absl::StatusOr<tqs1::v1::Config> loaded =
      config::LoadConfigFile(dir + "/tqs1.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->syncs(0).site_id(), "1758952600032266999");
  EXPECT_EQ(loaded->syncs(0).site(), "");
}

TEST_F(RunInitTest, EndOfInputWritesNothing) {
  const std::string dir = FreshDir("init_eof");
  Terminal t;
  t.answers = {tq_host_, "client-123"};
  EXPECT_EQ(RunInit(InitIn(dir), t.MakeIo()), kExitError);
  EXPECT_EQ(Mode(dir + "/tqs1.yaml"), -1);
  EXPECT_EQ(Mode(dir + "/tqs1.threatq-password"), -1);
}

}  // namespace
}  // namespace tqs1::cli

// End-to-end: what an operator gets wrong (config errors, missing secrets,
// clear-text URLs, a collection or site that does not exist), the old
// connector's cron line with its log folder and state files, and secrets
// kept out of every output at the highest verbosity.
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cli/config/state.h"
#include "gtest/gtest.h"
#include "testing/vendors_env.h"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

using ::tqs1::testing::kCollection;

class ConfigTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    collection_ = env().tq().AddCollection(kCollection, Ipv4Indicators(0, 300));
    env().tq().AddCollection("Known C2 Domains", {});
    site_ = env().AddSite("HQ");
    env().AddSite("HQ East");
  }

  std::string GoodYaml() {
    return env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""}});
  }

  int collection_ = 0;
  std::string site_;
};

TEST_F(ConfigTest, OperatorErrorsHaveExactMessages) {
  struct Case {
    const char* name;
    // Replacements applied to the good config.
    std::vector<std::pair<std::string, std::string>> edit;
    EnvOverrides env;
    // stderr, after "$DIR" is replaced by the config folder.
    std::string want_err;
  };
  const std::string tq_url = env().tq().base_url();
  const Case cases[] = {
      {"unknown key",
       {{"password_env:", "pasword_env:"}},
       {},
       "Error: $DIR/tqs1.yaml:5: unknown key \"pasword_env\" in threatq (did "
       "you mean \"password_env\"?)\n"},
      {"missing secret",
       {},
       {{"TQS1_S1_TOKEN", std::nullopt}},
       "Error: environment variable TQS1_S1_TOKEN (sentinelone.api_token_env) "
       "is not set or empty\n"},
      {"empty secret",
       {},
       {{"TQS1_THREATQ_PASSWORD", ""}},
       "Error: environment variable TQS1_THREATQ_PASSWORD "
       "(threatq.password_env) is not set or empty\n"},
      {"http to a remote host",
       {{tq_url, "http://threatq.example.net"}},
       {},
       "Error: $DIR/tqs1.yaml:2: threatq.url: \"http://threatq.example.net\" "
       "uses http://, which sends credentials in clear text; use https:// "
       "(http:// is allowed only to localhost, 127.0.0.0/8 and ::1)\n"},
      {"missing collection",
       {{"collection: \"Known C2 IPs\"", "collection: \"Known C2 IP\""}},
       {},
       "Error: sync \"c2-hq\": reading ThreatQ collection \"Known C2 IP\": "
       "ThreatQ: no data collection is named exactly \"Known C2 IP\" (2 "
       "visible to this user; a collection must be owned by or shared with "
       "the API user); near matches: \"Known C2 IPs\"\n"},
      {"missing site, case differs",
       {{"site: \"HQ\"", "site: \"hq\""}},
       {},
       "Error: sync \"c2-hq\": finding SentinelOne site \"hq\": no active "
       "SentinelOne site is named exactly \"hq\"; near matches: \"HQ\" "
       "(account \"Acme\", account id 1286405255240245908, site id "
       "1758952600032200001), \"HQ East\" (account \"Acme\", account id "
       "1286405255240245908, site id 1758952600032200002)\n"},
      {"missing site",
       {{"site: \"HQ\"", "site: \"HQ-West\""}},
       {},
       "Error: sync \"c2-hq\": finding SentinelOne site \"HQ-West\": no "
       "active SentinelOne site is named exactly \"HQ-West\"; near matches: "
       "\"HQ\" (account \"Acme\", account id 1286405255240245908, site id "
       "1758952600032200001)\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string yaml = GoodYaml();
    for (const auto& [from, to] : c.edit) {
      ASSERT_TRUE(Contains(yaml, from)) << from;
      yaml = absl::StrReplaceAll(yaml, {{from, to}});
    }
    const std::string dir =
        WriteConfig(absl::StrReplaceAll(c.name, {{" ", "-"}}), yaml);
    const std::string want = absl::StrReplaceAll(c.want_err, {{"$DIR", dir}});
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{
             {"plan", "-c", dir}, {"apply", "--auto-approve", "-c", dir}}) {
      SCOPED_TRACE(args[0]);
      RunResult r = Run(args, c.env);
      EXPECT_EQ(r.exit_code, 1) << r;
      EXPECT_EQ(r.err, want) << r;
    }
  }
  EXPECT_EQ(env().ApiWrites(), 0);
}

TEST_F(ConfigTest, WrongCredentialsAreNamedNotShown) {
  const std::string dir = WriteConfig("c", GoodYaml());
  RunResult r = Run({"plan", "-v3", "-c", dir},
                    {{"TQS1_THREATQ_PASSWORD", "not-the-password"}});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_FALSE(Contains(r.err + r.out, "not-the-password")) << r;
  r = Run({"plan", "-v3", "-c", dir}, {{"TQS1_S1_TOKEN", "not-the-token"}});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_FALSE(Contains(r.err + r.out, "not-the-token")) << r;
}

TEST_F(ConfigTest, OldConnectorCronLine) {
  const std::string dir = WriteConfig("etc-tq_labs", GoodYaml());
  const std::string log_dir = MakeDir("var-log-tq_labs");
  RunResult r = Run({"apply", "--auto-approve", "-c", dir + "/", "-ll",
                     log_dir + "/", "-v3"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Apply complete for \"c2-hq\": 1 created")) << r;
  EXPECT_EQ(r.err, "") << "logs go to the log folder";
  EXPECT_EQ(env().SiteRules(site_).size(), 1u);

  const std::string log = ReadFile(log_dir + "/tqs1.log");
  EXPECT_TRUE(Contains(log,
                       "applied sync \"c2-hq\": 1 created, 0 updated, 0 "
                       "deleted"))
      << log;
  // The state lives beside the config.
  EXPECT_EQ(access((dir + "/tqs1.lock").c_str(), F_OK), 0);
  absl::StatusOr<tqs1::v1::LastRun> record =
      config::LoadLastRun(dir + "/tqs1.last-run.json");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->command(), "apply");
  ASSERT_EQ(record->syncs_size(), 1);
  EXPECT_EQ(record->syncs(0).name(), "c2-hq");
  EXPECT_EQ(record->syncs(0).outcome(), tqs1::v1::SYNC_OUTCOME_APPLIED);
  EXPECT_EQ(record->syncs(0).rules_created(), 1u);
  EXPECT_EQ(record->syncs(0).addresses_blocked(), 300u);

  // The next cron run: in sync, appended to the same log.
  r = Run({"apply", "--auto-approve", "-c", dir + "/", "-ll", log_dir + "/",
           "-v3"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_GT(ReadFile(log_dir + "/tqs1.log").size(), log.size());
  record = config::LoadLastRun(dir + "/tqs1.last-run.json");
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->syncs_size(), 1);
  EXPECT_EQ(record->syncs(0).outcome(), tqs1::v1::SYNC_OUTCOME_IN_SYNC);

  // -n selects another config and its own state.
  const std::string yaml = ReadFile(dir + "/tqs1.yaml");
  std::ofstream(dir + "/prod.yaml") << yaml;
  r = Run({"plan", "-c", dir, "-n", "prod", "-ll", log_dir, "-v2"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(Contains(ReadFile(log_dir + "/prod.log"), "planning sync"));
}

TEST_F(ConfigTest, LogToStdoutKeepsTheJsonPlanClean) {
  const std::string dir = WriteConfig("c", GoodYaml());
  RunResult r = Run({"plan", "--json", "-v3", "-ll", "stdout", "-c", dir});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out.substr(0, 1), "{") << r;
  EXPECT_TRUE(Contains(r.out, "\"sync_name\": \"c2-hq\"")) << r;
  EXPECT_FALSE(r.err.empty()) << "-v3 logs nothing";
}

}  // namespace
}  // namespace tqs1::e2e

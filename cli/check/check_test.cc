// RunCheck end to end: the real clients over both emulators (testing/
// vendors_env.h), seeded as the demo is.
#include "cli/check/check.h"

#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fake_clock.h"
#include "cli/check/probe_findings.h"
#include "cli/check/write_probe.h"
#include "emulators/emulator_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/http/curl_transport.h"
#include "testing/vendors_env.h"

namespace tqs1::check {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kPassword[] = "pw-7f3c-secret";
constexpr char kToken[] = "s1-token-9d2e-secret";

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::VendorsEnvOptions options;
    options.password = kPassword;
    options.api_token = kToken;
    auto env = testing::VendorsEnv::Start(options);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    env_->SetCollection({"192.0.2.7", "198.51.100.0/24", "2001:db8::7"});
    config_ = env_->Config();

    for (auto* transport : {&tq_transport_, &s1_transport_}) {
      http::CurlTransportOptions curl;
      curl.total_timeout = absl::Seconds(20);
      auto made = http::CurlTransport::Create(curl);
      ASSERT_TRUE(made.ok()) << made.status();
      *transport = *std::move(made);
    }
    threatq::ThreatQClientOptions tq;
    tq.base_url = config_.threatq().url();
    tq.email = config_.threatq().username();
    tq.password = kPassword;
    tq.client_id = config_.threatq().client_id();
    tq.clock = &clock_;
    auto tq_client = threatq::ThreatQClient::Create(tq_transport_.get(), tq);
    ASSERT_TRUE(tq_client.ok()) << tq_client.status();
    tq_ = *std::move(tq_client);
    sentinelone::SentinelOneClientOptions s1;
    s1.base_url = config_.sentinelone().url();
    s1.api_token = kToken;
    auto s1_client =
        sentinelone::SentinelOneClient::Create(s1, s1_transport_.get());
    ASSERT_TRUE(s1_client.ok()) << s1_client.status();
    s1_ = *std::move(s1_client);

    backends_.threatq = tq_.get();
    backends_.sentinelone = s1_.get();
    backends_.sentinelone_transport = s1_transport_.get();
    backends_.sentinelone_api_token = kToken;
    backends_.secrets = {kPassword, kToken};

    state_dir_ = absl::StrCat(::testing::TempDir(), "/check-XXXXXX");
    ASSERT_NE(mkdtemp(state_dir_.data()), nullptr);
    options_.state_dir = state_dir_;
    options_.probe_suffix = "c0ffee01";
  }

  // Runs the check; returns its exit code, the output in `out_`.
  int Run() {
    out_.str("");
    return RunCheck(config_, backends_, options_, out_, nullptr, &clock_);
  }

  // "VERDICT probe" of each printed line.
  std::vector<std::string> Verdicts() const {
    std::vector<std::string> out;
    for (absl::string_view line :
         absl::StrSplit(out_.str(), '\n', absl::SkipEmpty())) {
      std::vector<absl::string_view> words =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      out.push_back(absl::StrCat(words[0], " ", words[1]));
    }
    return out;
  }

  std::vector<std::string> ProbeRulesLeft() const {
    std::vector<std::string> names;
    for (const v1::Rule& rule : env_->SiteRules()) {
      if (IsProbeRuleName(rule.name())) names.push_back(rule.name());
    }
    return names;
  }

  // The emulators' clock is the real one (token expiry); ours starts there.
  FakeClock clock_{absl::Now()};
  std::unique_ptr<testing::VendorsEnv> env_;
  v1::Config config_;
  std::unique_ptr<http::HttpTransport> tq_transport_;
  std::unique_ptr<http::HttpTransport> s1_transport_;
  std::unique_ptr<threatq::ThreatQClient> tq_;
  std::unique_ptr<sentinelone::SentinelOneClient> s1_;
  CheckBackends backends_;
  CheckOptions options_;
  std::string state_dir_;
  std::ostringstream out_;
};

TEST_F(CheckTest, ReadOnlyCheckOfTheDemoPassesAndWritesNothing) {
  EXPECT_EQ(Run(), 0) << out_.str();
  EXPECT_EQ(Verdicts(),
            (std::vector<std::string>{
                "PASS threatq.token", "PASS threatq.types",
                "PASS threatq.statuses", "PASS threatq.collections",
                "PASS threatq.collection", "PASS threatq.query",
                "PASS threatq.counts", "PASS sentinelone.console",
                "PASS sentinelone.user", "PASS sentinelone.token",
                "PASS sentinelone.site", "PASS sentinelone.site",
                "PASS sentinelone.firewall", "PASS sentinelone.rules",
                "PASS sentinelone.marked", "PASS sentinelone.fields"}))
      << out_.str();
  EXPECT_THAT(
      out_.str(),
      HasSubstr("PASS  sentinelone.site        sync \"Known C2 IPs -> HQ\" "
                "uses \"HQ\" (account \"Acme\", id 1758952600032266153): "
                "active"));
  EXPECT_THAT(out_.str(), Not(HasSubstr(kPassword)));
  EXPECT_THAT(out_.str(), Not(HasSubstr(kToken)));
  EXPECT_EQ(env_->ApiWrites(), 0);
  std::cout << out_.str();  // the sample in check.h and the README
}

// A marked rule tqs1 cannot read is a FAIL; marked account and global
// rules are an account_scope and a global sync's, which the site inherits
// on purpose.
TEST_F(CheckTest, ForeignRulesAreCountedAndAMarkedUnreadableRuleIsAFail) {
  ASSERT_TRUE(env_->s1().AddOddForeignRules(testing::kSiteId).ok());
  env_->s1().AddRule(
      v1::RULE_SCOPE_ACCOUNT, testing::kAccountId,
      testing::BlockRule("Known C2 IPs", "Blocked [managed by tqs1]",
                         {"192.0.2.9"}));
  env_->s1().AddRule(
      v1::RULE_SCOPE_GLOBAL, "",
      testing::BlockRule("Known C2 IPs (1)", "Blocked [managed by tqs1]",
                         {"192.0.2.10"}));
  env_->s1().AddRuleJson(
      v1::RULE_SCOPE_SITE, testing::kSiteId,
      {{"name", "Known C2 IPs (2)"},
       {"description", "Blocked [managed by tqs1]"},
       {"action", "Block"},
       {"status", "Enabled"},
       {"direction", "any"},
       {"osTypes", {"windows"}},
       {"remoteHosts",
        {{{"type", "addresses"}, {"values", {"192.0.2.11", nullptr}}}}}});
  EXPECT_EQ(Run(), 1);
  std::cout << out_.str();
  EXPECT_THAT(out_.str(),
              HasSubstr("PASS  sentinelone.rules       11 rules listed: "
                        "account 2, global 2, site 7; 3 not editable, 3 "
                        "unreadable"));
  EXPECT_THAT(out_.str(),
              ::testing::ContainsRegex(
                  "FAIL  sentinelone.marked      1 rules carry tqs1's marker "
                  "but cannot be managed as site rules: \"Known C2 IPs "
                  "\\(2\\)\" \\(id [0-9]+: unreadable: [^\n]*\\)\n"));
  EXPECT_THAT(out_.str(), HasSubstr("sentinelone.fields      on the first "));
}

// A sync of an account's own rules: the account it finds and its listing,
// no site lines.
TEST_F(CheckTest, AnAccountScopeSyncIsCheckedByItsAccount) {
  v1::SyncConfig& sync = *config_.mutable_syncs(0);
  sync.clear_site();
  sync.set_account("Acme");
  sync.set_account_scope(true);
  EXPECT_EQ(Run(), 0) << out_.str();
  EXPECT_THAT(out_.str(),
              HasSubstr(absl::StrCat(
                  "PASS  sentinelone.account     sync \"", sync.name(),
                  "\" keeps the account-scope rules of account \"Acme\" (id ",
                  testing::kAccountId, ")\n")));
  EXPECT_THAT(out_.str(), HasSubstr("PASS  sentinelone.marked      no rule "
                                    "with tqs1's marker outside the account "
                                    "scope"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("sentinelone.site")));

  sync.set_account("Initech");
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(),
              HasSubstr("FAIL  sentinelone.account     no SentinelOne account "
                        "with an active site is named or has the id "
                        "\"Initech\""));
}

// A group's sync is checked by its site, then its group; a marked rule of
// the site is the site's sync's, which the group inherits on purpose.
TEST_F(CheckTest, AGroupSyncFindsTheGroupOfItsSite) {
  constexpr char kLab[] = "1827364554637281901";
  env_->s1().AddGroup({kLab, "Lab", testing::kSiteId});
  env_->s1().AddRule(
      v1::RULE_SCOPE_SITE, testing::kSiteId,
      testing::BlockRule("Known C2 IPs", "Blocked [managed by tqs1]",
                         {"192.0.2.9"}));
  v1::SyncConfig& sync = *config_.mutable_syncs(0);
  sync.set_group("Lab");
  EXPECT_EQ(Run(), 0) << out_.str();
  EXPECT_THAT(out_.str(),
              HasSubstr(absl::StrCat(
                  "PASS  sentinelone.group       sync \"", sync.name(),
                  "\" keeps the rules of group \"Lab\" (id ", kLab,
                  ") of site ", testing::kSiteId, "\n")));
  EXPECT_THAT(out_.str(), HasSubstr("PASS  sentinelone.marked      no rule "
                                    "with tqs1's marker outside the group "
                                    "scope"));

  sync.set_group("Labs");
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(),
              HasSubstr(absl::StrCat("FAIL  sentinelone.group       "
                                     "SentinelOne site ",
                                     testing::kSiteId,
                                     " has no group named or with the id "
                                     "\"Labs\"; its groups are \"Lab\" (id ",
                                     kLab, ")")));
}

// A sync of the global rules needs a token of the global scope: the
// emulator's user is of an account's.
TEST_F(CheckTest, AGlobalSyncNeedsATokenOfTheGlobalScope) {
  v1::SyncConfig& sync = *config_.mutable_syncs(0);
  sync.clear_site();
  sync.set_global(true);
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(),
              HasSubstr(absl::StrCat(
                  "FAIL  sentinelone.global      sync \"", sync.name(),
                  "\" keeps the global rules, but the token's user has the "
                  "\"account\" scope: only a user of the global (tenant) "
                  "scope may write them\n")));
  EXPECT_THAT(out_.str(), HasSubstr("PASS  sentinelone.marked      no rule "
                                    "with tqs1's marker outside the global "
                                    "scope"));
}

TEST_F(CheckTest, AmbiguousSiteListsEveryCandidateAndFails) {
  env_->s1().AddDefaultSitesInTwoAccounts();
  config_.mutable_syncs(0)->set_site("Default site");
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(),
              HasSubstr("PASS  sentinelone.site        candidate \"Default "
                        "site\" (account \"Acme\", id 1758952600032266201): "
                        "active, licence Complete, isDefault true\n"));
  EXPECT_THAT(out_.str(),
              HasSubstr("PASS  sentinelone.site        candidate \"Default "
                        "site\" (account \"Globex\", id 1758952600032266202): "
                        "active, licence Control, isDefault true\n"));
  EXPECT_THAT(out_.str(), ::testing::ContainsRegex(
                              "FAIL  sentinelone.site        [^\n]*site_id"));

  // account: picks one.
  config_.mutable_syncs(0)->set_account("Globex");
  EXPECT_EQ(Run(), 0) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("uses \"Default site\" (account "
                                    "\"Globex\", id 1758952600032266202)"));
}

TEST_F(CheckTest, OddThreatQInstanceIsReportedNotFailed) {
  threatq::ThreatQModes modes;
  modes.expires_in = threatq::ExpiresInForm::kNull;
  modes.unnamed_saved_search = true;
  modes.cursor_paging = true;
  env_->tq().SetModes(modes);
  EXPECT_EQ(Run(), 0) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("WARN  threatq.token           grant "
                                    "password: token_type \"bearer\", "
                                    "expires_in null (not a count of "
                                    "seconds), taken as 30m"));
  EXPECT_THAT(out_.str(), HasSubstr("PASS  threatq.collections     1 saved "
                                    "searches (1 unnamed, skipped)"));
  EXPECT_THAT(out_.str(), HasSubstr("cursor paging offered"));
}

TEST_F(CheckTest, RedirectedTokenRequestIsAFailAndEndsTheThreatQProbes) {
  emulator::Fault redirect;
  redirect.kind = emulator::FaultKind::kServerError;
  redirect.status = 302;
  redirect.method = "POST";
  redirect.path_prefix = "/api/token";
  env_->tq().server().InjectFault(redirect);
  EXPECT_EQ(Run(), 1);
  std::vector<std::string> verdicts = Verdicts();
  ASSERT_FALSE(verdicts.empty());
  EXPECT_EQ(verdicts[0], "FAIL threatq.token") << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(verdicts, Not(Contains(StartsWith("PASS threatq."))));
  EXPECT_THAT(verdicts, Contains("PASS sentinelone.console"));
}

TEST_F(CheckTest, TokenExpiringWithin30DaysIsAWarn) {
  sentinelone::ConsoleModes modes;
  modes.token_expires_in = absl::Hours(24 * 10);
  env_->s1().SetModes(modes);
  EXPECT_EQ(Run(), 0);
  EXPECT_THAT(out_.str(),
              HasSubstr("WARN  sentinelone.token       expires on "));
  EXPECT_THAT(out_.str(), ::testing::ContainsRegex("in (9|10) days\n"));
}

TEST_F(CheckTest, ExpiredTokenIsAFail) {
  sentinelone::ConsoleModes modes;
  modes.token_expires_in = -absl::Hours(24);
  env_->s1().SetModes(modes);
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(), HasSubstr("FAIL  sentinelone.token       the token "
                                    "expired on "));
}

TEST_F(CheckTest, FirewallControlDisabledIsAFailInheritedAWarn) {
  sentinelone::EmulatedFirewallConfig disabled;
  disabled.enabled = false;
  ASSERT_TRUE(env_->s1().SetFirewallConfig(testing::kSiteId, disabled).ok());
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(), HasSubstr("FAIL  sentinelone.firewall    Firewall "
                                    "Control is disabled for the site"));

  sentinelone::EmulatedFirewallConfig inherited;
  inherited.inherited_from = "Global";
  ASSERT_TRUE(env_->s1().SetFirewallConfig(testing::kSiteId, inherited).ok());
  EXPECT_EQ(Run(), 0);
  EXPECT_THAT(out_.str(),
              HasSubstr("WARN  sentinelone.firewall    enabled, but the site "
                        "inherits its parent's policy (inheritedFrom "
                        "\"Global\")"));
}

TEST_F(CheckTest, MissingCollectionIsAFailWithNearMatches) {
  config_.mutable_syncs(0)->set_collection("known c2");
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(),
              HasSubstr("FAIL  threatq.collection      no saved search is "
                        "named \"known c2\" (near: \"Known C2 IPs\")"));
}

TEST_F(CheckTest, MissingSiteIsAFailWithNearMatches) {
  config_.mutable_syncs(0)->set_site("hq");
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(), ::testing::ContainsRegex(
                              "FAIL  sentinelone.site        [^\n]*\\(near: "
                              "\"HQ\" \\(account \"Acme\", id "
                              "1758952600032266153\\)"));
}

TEST_F(CheckTest, UnknownSyncIsAFail) {
  options_.syncs = {"nope"};
  EXPECT_EQ(Run(), 1);
  EXPECT_THAT(out_.str(), HasSubstr("FAIL  check.syncs             --sync "
                                    "\"nope\" is not in the config; its "
                                    "syncs: \"Known C2 IPs -> HQ\""));
}

TEST_F(CheckTest, WriteProbeLearnsAndCleansUp) {
  options_.write_probe = true;
  EXPECT_EQ(Run(), 0) << out_.str();
  EXPECT_THAT(Verdicts(), Contains("PASS sentinelone.probe.put")) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("a second \"tqs1-probe-c0ffee01\" was "
                                    "refused: "));
  EXPECT_THAT(out_.str(), HasSubstr("already exists"));
  EXPECT_THAT(out_.str(), HasSubstr("PASS  sentinelone.probe.cleanup deleted "
                                    "3 probe rules (answers: affected 1; "
                                    "affected 1; affected 1)"));
  EXPECT_THAT(ProbeRulesLeft(), ::testing::IsEmpty());
  EXPECT_THAT(out_.str(), Not(HasSubstr(kToken)));

  auto found = ReadProbeFindings(state_dir_, config_.sentinelone().url(),
                                 testing::kSiteId);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ipv6_accepted, Tristate::kYes);
  EXPECT_EQ((*found)->put_update, "partial");
  EXPECT_EQ((*found)->values_verbatim, Tristate::kYes);
  EXPECT_EQ((*found)->learned_at,
            absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now())));
  std::cout << out_.str();
}

TEST_F(CheckTest, WriteProbeRecordsIpv6Refused) {
  sentinelone::ConsoleModes modes;
  modes.refuse_ipv6 = true;
  env_->s1().SetModes(modes);
  options_.write_probe = true;
  Run();
  EXPECT_THAT(out_.str(),
              HasSubstr("WARN  sentinelone.probe.ipv6  the console refused a "
                        "rule of IPv6 values only: "));
  EXPECT_THAT(out_.str(), HasSubstr("Disabled) with 192.0.2.1, "
                                    "198.51.100.0/24\n"));
  EXPECT_THAT(ProbeRulesLeft(), ::testing::IsEmpty());
  auto found = ReadProbeFindings(state_dir_, config_.sentinelone().url(),
                                 testing::kSiteId);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ipv6_accepted, Tristate::kNo);
  EXPECT_THAT((*found)->ipv6_answer, HasSubstr("2001:db8::"));
}

TEST_F(CheckTest, InterruptedWriteProbeLeavesNothingAndKeepsEarlierFindings) {
  options_.write_probe = true;
  ASSERT_EQ(Run(), 0) << out_.str();  // findings: ipv6 yes
  sentinelone::ConsoleModes modes;
  modes.refuse_ipv6 = true;
  env_->s1().SetModes(modes);
  for (int k = 1; k <= 5; ++k) {
    SCOPED_TRACE(absl::StrCat("stopped before step ", k + 1));
    int asked = 0;
    options_.should_stop = [&asked, k] { return ++asked > k; };
    Run();
    EXPECT_THAT(out_.str(), HasSubstr("stopped on request"));
    EXPECT_THAT(out_.str(),
                HasSubstr("WARN  sentinelone.probe.saved nothing saved"));
    EXPECT_THAT(ProbeRulesLeft(), ::testing::IsEmpty()) << out_.str();
    auto found = ReadProbeFindings(state_dir_, config_.sentinelone().url(),
                                   testing::kSiteId);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->ipv6_accepted, Tristate::kYes);
  }
}

}  // namespace
}  // namespace tqs1::check

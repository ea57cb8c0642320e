// End-to-end: the real binary against emulators in the opt-in modes that
// behave like real consoles and instances (spec/fidelity-audit.md): a
// ThreatQ collection that grows and reorders while it is read, cursor
// paging, site names repeated across accounts, a site whose Firewall
// Control is disabled or inherited, a console that refuses IPv6 (and
// `ipv6: auto` following what `tqs1 check --write-probe` learned of it),
// foreign rules in odd shapes, and a 429 without Retry-After.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/config/state.h"
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"
#include "gtest/gtest.h"
#include "proto/run.pb.h"
#include "proto/state.pb.h"
#include "reconciler/ownership.h"
#include "testing/builders.h"
#include "testing/vendors_env.h"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

using ::tqs1::sentinelone::EmulatedFirewallConfig;
using ::tqs1::sentinelone::EmulatedSite;
using ::tqs1::sentinelone::SentinelOneEmulator;
using ::tqs1::testing::kCollection;

// Every value the collection `id` holds now, sorted.
std::vector<std::string> CollectionValues(threatq::ThreatQEmulator& tq,
                                          int id) {
  std::vector<std::string> values;
  for (const threatq::Indicator& i : tq.Indicators(id)) {
    values.push_back(i.value);
  }
  std::sort(values.begin(), values.end());
  return values;
}

// `n` public IPv6 addresses as active "IPv6 Address" indicators.
std::vector<threatq::Indicator> Ipv6Indicators(int n) {
  std::vector<threatq::Indicator> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(
        {absl::StrFormat("2a0b:4d07:%x::1", i + 1), "IPv6 Address", "Active"});
  }
  return out;
}

class RealConsoleTest : public E2eTest {
 protected:
  std::string OneSync(const std::string& site, const std::string& extra = "") {
    return WriteConfig("c",
                       env().ConfigYaml({{"c2", kCollection, site, extra}}));
  }
};

TEST_F(RealConsoleTest, ACollectionThatGrowsAndReordersWhileReadIsReadWhole) {
  const int id = env().tq().AddCollection(kCollection, Ipv4Indicators(0, 6000));
  threatq::ThreatQModes modes;
  modes.unstable_default_order = true;  // offset paging without sort skips
  modes.grow_every_pages = 2;
  modes.grow_by = 40;
  modes.grow_times = 2;
  env().tq().SetModes(modes);
  const std::string site = env().AddSite("HQ");
  RunResult apply = Run({"apply", "--auto-approve", "-c", OneSync("HQ")});
  ASSERT_EQ(apply.exit_code, 0) << apply;
  EXPECT_EQ(env().BlockedAddresses(site), CollectionValues(env().tq(), id));
  EXPECT_GT(CollectionValues(env().tq(), id).size(), 6000u) << "never grew";
}

TEST_F(RealConsoleTest, CursorPagingReadsTheWholeCollection) {
  const int id = env().tq().AddCollection(kCollection, Ipv4Indicators(0, 2500));
  threatq::ThreatQModes modes;
  modes.cursor_paging = true;
  modes.grow_every_pages = 1;
  modes.grow_by = 10;
  env().tq().SetModes(modes);
  const std::string site = env().AddSite("HQ");
  RunResult apply = Run({"apply", "--auto-approve", "-c", OneSync("HQ")});
  ASSERT_EQ(apply.exit_code, 0) << apply;
  EXPECT_EQ(env().BlockedAddresses(site), CollectionValues(env().tq(), id));
}

TEST_F(RealConsoleTest, AmbiguousSiteNamesListEveryCandidateAndTheKeys) {
  env().tq().AddCollection(kCollection, Ipv4Indicators(0, 10));
  const std::vector<EmulatedSite> sites =
      env().s1().AddDefaultSitesInTwoAccounts();
  RunResult plan = Run({"plan", "-c", OneSync("Default site")});
  EXPECT_EQ(plan.exit_code, 1) << plan;
  for (const char* account : {SentinelOneEmulator::kFirstAccountId,
                              SentinelOneEmulator::kSecondAccountId}) {
    EXPECT_TRUE(Contains(plan.err, account)) << account << "\n" << plan;
  }
  for (const EmulatedSite& site : sites) {
    if (site.state != "active") continue;
    EXPECT_TRUE(Contains(plan.err, site.id)) << site.id << "\n" << plan;
  }
  EXPECT_TRUE(Contains(plan.err, "site_id")) << plan;
  EXPECT_TRUE(Contains(plan.err, "account")) << plan;

  // account: picks one; the other account's site stays empty.
  const std::string dir = WriteConfig(
      "by-account",
      env().ConfigYaml(
          {{"c2", kCollection, "Default site",
            absl::StrCat("    account: \"",
                         SentinelOneEmulator::kSecondAccountId, "\"\n")}}));
  RunResult apply = Run({"apply", "--auto-approve", "-c", dir});
  ASSERT_EQ(apply.exit_code, 0) << apply;
  for (const EmulatedSite& site : sites) {
    const bool chosen =
        site.account_id == SentinelOneEmulator::kSecondAccountId &&
        site.state == "active";
    EXPECT_EQ(env().BlockedAddresses(site.id).size(), chosen ? 10u : 0u)
        << site.id;
  }

  // site_id: no name lookup at all.
  const std::string first = sites[0].id;
  std::string yaml =
      env().ConfigYaml({{"c2", kCollection, "Default site",
                         absl::StrCat("    site_id: \"", first, "\"\n")}});
  RunResult by_id_apply =
      Run({"apply", "--auto-approve", "-c", WriteConfig("by-id", yaml)});
  ASSERT_EQ(by_id_apply.exit_code, 0) << by_id_apply;
  EXPECT_EQ(env().BlockedAddresses(first).size(), 10u);
}

TEST_F(RealConsoleTest, DisabledFirewallControlIsAGuardAndInheritanceWarns) {
  env().tq().AddCollection(kCollection, Ipv4Indicators(0, 10));
  const std::string site = env().AddSite("HQ");
  EmulatedFirewallConfig off;
  off.enabled = false;
  ASSERT_TRUE(env().s1().SetFirewallConfig(site, off).ok());
  const std::string dir = OneSync("HQ");
  RunResult plan = Run({"plan", "-c", dir});
  EXPECT_EQ(plan.exit_code, 3) << plan;
  EXPECT_TRUE(Contains(plan.out + plan.err, "firewall-disabled")) << plan;
  RunResult apply = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(apply.exit_code, 3) << apply;
  EXPECT_EQ(env().ApiWrites(), 0);

  RunResult allowed = Run(
      {"plan", "--detailed-exitcode", "--allow-disabled-firewall", "-c", dir});
  EXPECT_EQ(allowed.exit_code, 2) << allowed;

  EmulatedFirewallConfig inherited;
  inherited.inherited_from = "Global";
  inherited.inherits = true;
  ASSERT_TRUE(env().s1().SetFirewallConfig(site, inherited).ok());
  RunResult warned = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(warned.exit_code, 2) << warned;
  EXPECT_TRUE(Contains(warned.out, "Global")) << warned;
}

TEST_F(RealConsoleTest, ARefusedIpv6WriteLeavesTheIpv4WorkDone) {
  std::vector<threatq::Indicator> indicators = Ipv4Indicators(0, 7000);
  for (threatq::Indicator& i : Ipv6Indicators(30)) indicators.push_back(i);
  env().tq().AddCollection(kCollection, indicators);
  const std::string site = env().AddSite("HQ");
  sentinelone::ConsoleModes modes;
  modes.refuse_ipv6 = true;
  env().s1().SetModes(modes);

  const std::string dir = OneSync("HQ");
  RunResult apply = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(apply.exit_code, 1) << apply;
  EXPECT_TRUE(Contains(apply.out + apply.err, "IPv6")) << apply;
  // The last-run record keeps each refusal, as printed.
  absl::StatusOr<tqs1::v1::LastRun> record =
      config::LoadLastRun(dir + "/tqs1.last-run.json");
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->syncs_size(), 1);
  EXPECT_EQ(record->syncs(0).outcome(), tqs1::v1::SYNC_OUTCOME_FAILED);
  ASSERT_FALSE(record->syncs(0).ipv6_refused().empty());
  for (const std::string& line : record->syncs(0).ipv6_refused()) {
    EXPECT_TRUE(Contains(apply.err, line)) << line << "\n" << apply;
  }
  std::vector<std::string> want = Ipv4Addresses(0, 7000);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(env().BlockedAddresses(site), want);
  for (const tqs1::v1::Rule& rule : env().SiteRules(site)) {
    for (const auto& hosts : rule.remote_hosts()) {
      for (const std::string& v : hosts.values()) {
        EXPECT_EQ(v.find(':'), std::string::npos) << rule.name();
      }
    }
  }

  // ipv6: off: the IPv6 values are rejected, the rest is in sync.
  RunResult off = Run(
      {"apply", "--auto-approve", "-c", OneSync("HQ", "    ipv6: \"off\"\n")});
  EXPECT_EQ(off.exit_code, 0) << off;
  RunResult plan = Run({"plan", "--detailed-exitcode", "-c",
                        OneSync("HQ", "    ipv6: \"off\"\n")});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  EXPECT_TRUE(Contains(plan.out, "30")) << plan;
}

TEST_F(RealConsoleTest, Ipv6AutoFollowsWhatTheWriteProbeLearned) {
  std::vector<threatq::Indicator> indicators = Ipv4Indicators(0, 20);
  for (threatq::Indicator& i : Ipv6Indicators(5)) indicators.push_back(i);
  env().tq().AddCollection(kCollection, indicators);
  const std::string site = env().AddSite("HQ");
  sentinelone::ConsoleModes modes;
  modes.refuse_ipv6 = true;
  env().s1().SetModes(modes);
  const std::string dir = OneSync("HQ", "    ipv6: auto\n");

  RunResult check = Run({"check", "--write-probe", "-c", dir});
  EXPECT_TRUE(Contains(check.out, "sentinelone.probe.saved")) << check;
  EXPECT_TRUE(Contains(check.out, "ipv6 accepted: no")) << check;
  // The probe leaves nothing behind.
  for (const tqs1::v1::Rule& rule : env().SiteRules(site)) {
    EXPECT_EQ(rule.name().find("tqs1-probe-"), std::string::npos)
        << rule.name();
  }

  RunResult apply = Run({"apply", "--auto-approve", "-c", dir});
  ASSERT_EQ(apply.exit_code, 0) << apply;
  std::vector<std::string> want = Ipv4Addresses(0, 20);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(env().BlockedAddresses(site), want);
  RunResult plan = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  EXPECT_TRUE(Contains(plan.out, "ipv6: off")) << plan;
}

TEST_F(RealConsoleTest, PlanAndApplyWarnOfATokenExpiringSoon) {
  env().tq().AddCollection(kCollection, Ipv4Indicators(0, 10));
  env().AddSite("HQ");
  const std::string dir = OneSync("HQ");
  RunResult quiet = Run({"plan", "-c", dir});
  EXPECT_FALSE(Contains(quiet.err, "token expires")) << quiet;

  sentinelone::ConsoleModes modes;
  modes.token_expires_in = absl::Hours(24 * 10 + 1);
  env().s1().SetModes(modes);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"plan", "-c", dir}, {"apply", "--auto-approve", "-c", dir}}) {
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_TRUE(Contains(r.err,
                         "Warning: the SentinelOne API token expires "
                         "on "))
        << r;
    EXPECT_TRUE(Contains(r.err, ", in 10 days: renew it in the console")) << r;
  }
}

TEST_F(RealConsoleTest, OddForeignRulesDoNotStopThePlan) {
  env().tq().AddCollection(kCollection, Ipv4Indicators(0, 100));
  const std::string site = env().AddSite("HQ");
  absl::StatusOr<std::vector<std::string>> odd =
      env().s1().AddOddForeignRules(site);
  ASSERT_TRUE(odd.ok()) << odd.status();
  std::vector<std::string> before;
  for (const auto& rule :
       env().s1().RulesJson(tqs1::v1::RULE_SCOPE_SITE, site)) {
    before.push_back(rule.dump());
  }
  const std::string dir = OneSync("HQ");
  RunResult apply = Run({"apply", "--auto-approve", "-c", dir});
  ASSERT_EQ(apply.exit_code, 0) << apply;
  EXPECT_EQ(env().BlockedAddresses(site).size(), 100u);
  RunResult again = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(again.exit_code, 0) << again;
  // The foreign rules are exactly as they were.
  std::set<std::string> after;
  for (const auto& rule :
       env().s1().RulesJson(tqs1::v1::RULE_SCOPE_SITE, site)) {
    after.insert(rule.dump());
  }
  for (const std::string& rule : before) {
    EXPECT_EQ(after.count(rule), 1u) << rule;
  }
}

TEST_F(RealConsoleTest, A429WithoutRetryAfterIsWaitedOut) {
  env().tq().AddCollection(kCollection, Ipv4Indicators(0, 10));
  const std::string site = env().AddSite("HQ");
  env().s1().ThrottleNext(1);
  RunResult apply = Run({"apply", "--auto-approve", "-c", OneSync("HQ")});
  ASSERT_EQ(apply.exit_code, 0) << apply;
  EXPECT_EQ(env().BlockedAddresses(site).size(), 10u);
}

}  // namespace
}  // namespace tqs1::e2e

// End-to-end: plan and apply of the real binary against the emulators: a
// fresh site, growth and shrink, saved plans (and stale ones), guards, the
// confirmation rule, and several syncs in one config.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/config/state.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reconciler/ownership.h"
#include "testing/builders.h"
#include "testing/vendors_env.h"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

using ::tqs1::v1::Rule;

using ::tqs1::testing::kCollection;

class PlanApplyTest : public E2eTest {
 protected:
  // A collection of `n` addresses, the site "HQ" with a hand-made rule, and
  // a config with the sync "c2-hq". Returns the config folder.
  std::string FreshSite(int n, const std::string& extra = "") {
    collection_ = env().tq().AddCollection(kCollection, Ipv4Indicators(0, n));
    site_ = env().AddSite("HQ");
    hand_made_id_ = env().s1().AddRule(
        tqs1::v1::RULE_SCOPE_SITE, site_,
        testing::BlockRule("Block scanners", "made by hand",
                           {"198.51.100.7", "198.51.100.8"}));
    hand_made_ = HandMadeJson();
    return WriteConfig("c",
                       env().ConfigYaml({{"c2-hq", kCollection, "HQ", extra}}));
  }

  std::string HandMadeJson() {
    for (const auto& rule :
         env().s1().RulesJson(tqs1::v1::RULE_SCOPE_SITE, site_)) {
      if (rule.value("id", "") == hand_made_id_) return rule.dump();
    }
    return "";
  }

  // The site's tqs1 rules; checks that every name is unique and every rule
  // is a Block rule carrying the marker.
  std::vector<Rule> Managed() {
    std::vector<Rule> managed;
    std::set<std::string> names;
    for (const Rule& rule : env().SiteRules(site_)) {
      EXPECT_TRUE(names.insert(rule.name()).second)
          << "duplicate name " << rule.name();
      if (reconciler::HasOwnershipMarker(rule.description())) {
        EXPECT_EQ(rule.description(), "Blocked by ThreatQ [managed by tqs1]");
        EXPECT_EQ(rule.action(), tqs1::v1::RULE_ACTION_BLOCK);
        managed.push_back(rule);
      }
    }
    // The hand-made rule is never touched.
    EXPECT_EQ(HandMadeJson(), hand_made_);
    return managed;
  }

  // The addresses the site's tqs1 rules block.
  std::set<std::string> Blocked() {
    std::set<std::string> out;
    for (const Rule& rule : Managed()) {
      for (const auto& hosts : rule.remote_hosts()) {
        for (const std::string& v : hosts.values()) {
          EXPECT_TRUE(out.insert(v).second) << v << " is in two rules";
        }
      }
    }
    return out;
  }

  void ExpectInSync(const std::string& dir) {
    RunResult r = Run({"plan", "--detailed-exitcode", "-c", dir});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_TRUE(Contains(r.out, "No changes.")) << r;
  }

  int collection_ = 0;
  std::string site_;
  std::string hand_made_id_;
  std::string hand_made_;
};

std::set<std::string> AsSet(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

TEST_F(PlanApplyTest,
       RejectedValuesNameTheirIndicatorAndRefusedOnesTheirCategory) {
  // The emulator numbers a collection's indicators from 100000.
  std::vector<threatq::Indicator> indicators = Ipv4Indicators(0, 20);
  for (const char* v : {"1.2.3.11:443", "010.1.1.1", "1.2.3.7-1.2.3.9",
                        "10.1.2.3", "100.64.0.9"}) {
    indicators.push_back({v, "IP Address", "Active"});
  }
  env().tq().AddCollection(kCollection, indicators);
  site_ = env().AddSite("HQ");
  const std::string dir = WriteConfig(
      "c", env().ConfigYaml(
               {{"c2-hq", kCollection, "HQ", "    refuse: [cgnat]\n"}}));

  RunResult plan = Run({"plan", "--show-rejected", "all", "-c", dir});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  for (const char* fragment : {
           "  Source: 25 values read, 21 addresses to block (0 duplicates, 3 "
           "invalid, 0 never blocked, 1 refused)\n",
           "    warning: 1 private (RFC 1918) address will be blocked, e.g. "
           "10.1.2.3\n",
           "    refused 1 CGNAT (100.64.0.0/10) address (refuse: cgnat), e.g. "
           "100.64.0.9\n",
           "    rejected \"1.2.3.11:443\" (indicator 100020): has a port "
           "(:443): give the address alone\n",
           "    rejected \"010.1.1.1\" (indicator 100021): IPv4 octet with a "
           "leading zero (octal ambiguity)\n",
           "    rejected \"1.2.3.7-1.2.3.9\" (indicator 100022): an address "
           "range: not supported (give a CIDR or single addresses)\n",
           "    rejected \"100.64.0.9\" (indicator 100024): CGNAT "
           "(100.64.0.0/10) address: refused (refuse: cgnat)\n",
       }) {
    EXPECT_TRUE(Contains(plan.out, fragment)) << fragment << "\n" << plan;
  }
  EXPECT_FALSE(Contains(plan.out, "more rejected")) << plan;

  // Without the option, the first five (all four here); with a smaller N,
  // the rest are counted.
  RunResult brief = Run({"plan", "-c", dir});
  EXPECT_TRUE(Contains(brief.out, "(indicator 100024)")) << brief;
  EXPECT_FALSE(Contains(brief.out, "more rejected")) << brief;
  RunResult one = Run({"plan", "--show-rejected", "1", "-c", dir});
  EXPECT_TRUE(Contains(one.out,
                       "    ... and 3 more rejected "
                       "(--show-rejected all lists them)\n"))
      << one;

  RunResult json = Run({"plan", "--json", "-c", dir});
  EXPECT_EQ(json.exit_code, 0) << json;
  EXPECT_TRUE(Contains(json.out, "\"indicator_id\": 100021")) << json;
}

TEST_F(PlanApplyTest, FreshSitePlanApplyPlan) {
  const std::string dir = FreshSite(12000);

  RunResult plan = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(plan.exit_code, 2) << plan;
  for (const char* fragment : {
           "Sync \"c2-hq\": collection \"Known C2 IPs\" to site \"HQ\" "
           "(1758952600032200001)\n",
           "  Source: 12,000 values read, 12,000 addresses to block (0 "
           "duplicates, 0 invalid, 0 never blocked)\n",
           "  Site: 1 rule (0 managed, 0 in conflict, 1 other, 0 "
           "inherited), 0 addresses blocked by managed rules\n",
           "  + create \"Known C2 IPs (1)\"  +5,000\n",
           "  + create \"Known C2 IPs (2)\"  +5,000\n",
           "  + create \"Known C2 IPs (3)\"  +2,000\n",
           "Plan: 3 to create, 0 to update, 0 to delete; 12,000 addresses to "
           "block, 0 to unblock.\n",
       }) {
    EXPECT_TRUE(Contains(plan.out, fragment)) << fragment << "\n" << plan;
  }
  EXPECT_EQ(plan.err, "");
  // Without --detailed-exitcode a plan with changes is a success.
  EXPECT_EQ(Run({"plan", "-c", dir}).exit_code, 0);
  EXPECT_EQ(env().ApiWrites(), 0) << "plan wrote to the site";

  RunResult apply = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(apply.exit_code, 0) << apply;
  EXPECT_TRUE(
      Contains(apply.out,
               "Apply complete for \"c2-hq\": 3 created, 0 updated, 0 deleted; "
               "12,000 addresses blocked, 0 unblocked, in "))
      << apply;
  EXPECT_EQ(env().ApiWrites(), 3);

  RunResult again = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(again.exit_code, 0) << again;
  EXPECT_TRUE(Contains(again.out,
                       "No changes. The site blocks the collection's 12,000 "
                       "addresses.\n"))
      << again;

  std::vector<Rule> managed = Managed();
  ASSERT_EQ(managed.size(), 3u);
  std::vector<std::string> names;
  for (const Rule& rule : managed) names.push_back(rule.name());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"Known C2 IPs (1)", "Known C2 IPs (2)",
                                      "Known C2 IPs (3)"}));
  EXPECT_EQ(Blocked(), AsSet(Ipv4Addresses(0, 12000)));
}

TEST_F(PlanApplyTest, GrowthAndShrinkCostFewWrites) {
  const std::string dir = FreshSite(12000);
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  ASSERT_EQ(env().ApiWrites(), 3);

  // Growth: 100 new addresses go into the one rule with room.
  env().tq().SetIndicators(collection_, Ipv4Indicators(0, 12100));
  RunResult grow = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(grow.exit_code, 0) << grow;
  EXPECT_TRUE(Contains(grow.out, "  ~ update \"Known C2 IPs (3)\"")) << grow;
  EXPECT_TRUE(Contains(grow.out, "+100\n")) << grow;
  EXPECT_TRUE(Contains(grow.out,
                       "Plan: 0 to create, 1 to update, 0 to delete; 100 "
                       "addresses to block, 0 to unblock.\n"))
      << grow;
  EXPECT_EQ(env().ApiWrites(), 3 + 1);
  EXPECT_EQ(Blocked(), AsSet(Ipv4Addresses(0, 12100)));

  // Shrink and churn: 20 addresses leave (all held by one rule), 10 arrive:
  // one rewrite of that rule takes both.
  std::vector<threatq::Indicator> churned = Ipv4Indicators(20, 12080 + 10);
  env().tq().SetIndicators(collection_, churned);
  RunResult churn = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(churn.exit_code, 0) << churn;
  EXPECT_TRUE(Contains(churn.out,
                       "Plan: 0 to create, 1 to update, 0 to delete; 10 "
                       "addresses to block, 20 to unblock.\n"))
      << churn;
  EXPECT_EQ(env().ApiWrites(), 3 + 1 + 1);
  EXPECT_EQ(Blocked(), AsSet(Ipv4Addresses(20, 12090)));

  // Shrink below a rule: 7,000 go, and the emptied rule is deleted.
  env().tq().SetIndicators(collection_, Ipv4Indicators(20, 5090));
  RunResult shrink =
      Run({"apply", "--auto-approve", "--allow-mass-unblock", "-c", dir});
  EXPECT_EQ(shrink.exit_code, 0) << shrink;
  EXPECT_TRUE(Contains(shrink.out, "  - delete \"Known C2 IPs ")) << shrink;
  EXPECT_EQ(Blocked(), AsSet(Ipv4Addresses(20, 5090)));
  ExpectInSync(dir);
}

TEST_F(PlanApplyTest, SavedPlanIsAppliedExactly) {
  const std::string dir = FreshSite(6000);
  const std::string plan_file = dir + "/plan.json";
  RunResult plan = Run({"plan", "--out", plan_file, "-c", dir});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  EXPECT_TRUE(
      Contains(plan.out, absl::StrCat("Saved the plan to \"", plan_file,
                                      "\"; apply it with `tqs1 apply -c ", dir,
                                      " ", plan_file, "`.\n")))
      << plan;
  EXPECT_TRUE(Contains(ReadFile(plan_file), "\"format\""));
  EXPECT_EQ(env().ApiWrites(), 0);

  // The collection moves on after the plan: the saved plan is applied as
  // it is, without the new address.
  env().tq().SetIndicators(collection_, Ipv4Indicators(0, 6001));
  RunResult apply = Run({"apply", plan_file, "-c", dir});
  EXPECT_EQ(apply.exit_code, 0) << apply;
  EXPECT_TRUE(Contains(apply.out,
                       "Apply complete for \"c2-hq\": 2 created, 0 updated, 0 "
                       "deleted; 6,000 addresses blocked, 0 unblocked, in "))
      << apply;
  EXPECT_EQ(env().ApiWrites(), 2);
  EXPECT_EQ(Blocked(), AsSet(Ipv4Addresses(0, 6000)));

  // A second apply of the same file: the site changed since (by the plan).
  RunResult twice = Run({"apply", plan_file, "-c", dir});
  EXPECT_EQ(twice.exit_code, 1) << twice;
  EXPECT_EQ(env().ApiWrites(), 2);
}

TEST_F(PlanApplyTest, StalePlanIsRefused) {
  const std::string dir = FreshSite(6000);
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  env().tq().SetIndicators(collection_, Ipv4Indicators(0, 6050));
  const std::string plan_file = dir + "/plan.json";
  ASSERT_EQ(Run({"plan", "--out", plan_file, "-c", dir}).exit_code, 0);

  // Someone edits a tqs1 rule in the console in between.
  std::vector<Rule> managed = Managed();
  ASSERT_FALSE(managed.empty());
  ASSERT_TRUE(env()
                  .s1()
                  .ModifyRule(managed[0].id(),
                              [](nlohmann::json& rule) {
                                rule["description"] =
                                    "Blocked by ThreatQ (see ticket 42) "
                                    "[managed by tqs1]";
                              })
                  .ok());
  const int writes = env().ApiWrites();

  RunResult apply = Run({"apply", plan_file, "-c", dir});
  EXPECT_EQ(apply.exit_code, 1) << apply;
  // The last line (a warning with both fingerprints is logged before it).
  EXPECT_TRUE(absl::EndsWith(
      apply.err,
      "\nError: sync \"c2-hq\": the site changed since the plan was made; "
      "run plan again (site \"HQ\", id 1758952600032200001)\n"))
      << apply;
  EXPECT_EQ(env().ApiWrites(), writes) << "a stale plan wrote";
}

TEST_F(PlanApplyTest, ApplyWithoutTerminalPlansThenNeedsAutoApprove) {
  const std::string dir = FreshSite(100);
  RunResult r = Run({"apply", "-c", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_EQ(r.err,
            "Error: sync \"c2-hq\": apply needs a confirmation and there is "
            "no terminal to ask on; review the plan above, then run `tqs1 "
            "apply --auto-approve` (or save it with `tqs1 plan --out FILE` "
            "and apply the file).\n");
  EXPECT_TRUE(Contains(r.out, "  + create \"Known C2 IPs\"  +100")) << r;
  EXPECT_EQ(env().ApiWrites(), 0);
  absl::StatusOr<tqs1::v1::LastRun> record =
      config::LoadLastRun(dir + "/tqs1.last-run.json");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->syncs(0).outcome(), tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING);

  // In sync: nothing to confirm, so no terminal is needed.
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  RunResult again = Run({"apply", "-c", dir});
  EXPECT_EQ(again.exit_code, 0) << again;
  EXPECT_TRUE(Contains(again.out, "No changes")) << again;
}

TEST_F(PlanApplyTest, EmptiedCollectionIsGuarded) {
  const std::string dir = FreshSite(6000);
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  const int writes = env().ApiWrites();
  env().tq().SetIndicators(collection_, {});

  RunResult plan = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(plan.exit_code, 3) << plan;
  for (const char* fragment : {
           "  TRIPPED    empty-source: the collection yields 0 addresses "
           "(minimum 1) while the site blocks 6000",
           "  TRIPPED    unblock-share: unblocks 6,000 of 6,000 addresses",
           "Blocked by a guard: this plan will not be applied.",
       }) {
    EXPECT_TRUE(Contains(plan.out, fragment)) << fragment << "\n" << plan;
  }
  // Without --detailed-exitcode too: the plan cannot be applied.
  EXPECT_EQ(Run({"plan", "-c", dir}).exit_code, 3);

  RunResult apply = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(apply.exit_code, 3) << apply;
  // Which guards, with their numbers.
  EXPECT_TRUE(absl::StartsWith(
      apply.err,
      "Error: sync \"c2-hq\": a guard blocks this plan; nothing applied "
      "(guard \"empty-source\": the collection yields 0 addresses (minimum "
      "1) while the site blocks 6000"))
      << apply;
  EXPECT_TRUE(Contains(apply.err,
                       "; guard \"unblock-share\": unblocks 6,000 "
                       "of 6,000"))
      << apply;

  // --allow-empty overrides one guard; unblocking everything still trips
  // the other.
  RunResult one = Run({"apply", "--auto-approve", "--allow-empty", "-c", dir});
  EXPECT_EQ(one.exit_code, 3) << one;
  EXPECT_TRUE(Contains(one.out, "  overridden empty-source: ")) << one;
  EXPECT_EQ(env().ApiWrites(), writes) << "a guard let a write through";
  EXPECT_EQ(Blocked().size(), 6000u);

  RunResult both = Run({"apply", "--auto-approve", "--allow-empty",
                        "--allow-mass-unblock", "-c", dir});
  EXPECT_EQ(both.exit_code, 0) << both;
  EXPECT_TRUE(Contains(both.out,
                       "Apply complete for \"c2-hq\": 0 created, 0 updated, 2 "
                       "deleted; 0 addresses blocked, 6,000 unblocked"))
      << both;
  EXPECT_TRUE(Managed().empty());
  ExpectInSync(dir);
}

TEST_F(PlanApplyTest, AllowEmptyLetsASmallSiteEmpty) {
  // Under the unblock-share floor (100 addresses) only empty-source trips.
  const std::string dir = FreshSite(80);
  ASSERT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 0);
  env().tq().SetIndicators(collection_, {});
  EXPECT_EQ(Run({"plan", "--detailed-exitcode", "-c", dir}).exit_code, 3);
  EXPECT_EQ(Run({"apply", "--auto-approve", "-c", dir}).exit_code, 3);
  EXPECT_EQ(Managed().size(), 1u);

  RunResult r = Run({"apply", "--auto-approve", "--allow-empty", "-c", dir});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "  - delete \"Known C2 IPs\"")) << r;
  EXPECT_TRUE(Managed().empty());
}

TEST_F(PlanApplyTest, OneFailingSyncDoesNotStopTheOthers) {
  env().tq().AddCollection(kCollection, Ipv4Indicators(0, 300));
  site_ = env().AddSite("HQ");
  hand_made_ = HandMadeJson();
  const std::string dir = WriteConfig(
      "c", env().ConfigYaml({{"c2-branch", kCollection, "Branch", ""},
                             {"c2-hq", kCollection, "HQ", ""}}));
  RunResult r = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "Error: sync \"c2-branch\": ")) << r;
  EXPECT_TRUE(Contains(r.out, "Apply complete for \"c2-hq\": 1 created")) << r;
  EXPECT_EQ(Blocked(), AsSet(Ipv4Addresses(0, 300)));

  RunResult plan = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(plan.exit_code, 1) << plan;
  EXPECT_TRUE(Contains(plan.out, "No changes.")) << plan;
}

// --log-format json, as a SIEM reads it: every line of the log file one
// JSON object, all with the run id the last-run record names; the plan and
// apply lines with their sync and counts, the failed sync's with its error.
TEST_F(PlanApplyTest, JsonLogLinesOfOneRun) {
  env().tq().AddCollection(kCollection, Ipv4Indicators(0, 300));
  site_ = env().AddSite("HQ");
  const std::string dir = WriteConfig(
      "c", env().ConfigYaml({{"c2-branch", kCollection, "Branch", ""},
                             {"c2-hq", kCollection, "HQ", ""}}));
  const std::string logs = MakeDir("logs");
  RunResult r = Run({"apply", "--auto-approve", "-c", dir, "-ll", logs, "-v",
                     "2", "--log-format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r;

  absl::StatusOr<tqs1::v1::LastRun> record =
      config::LoadLastRun(dir + "/tqs1.last-run.json");
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_THAT(record->run_id(), ::testing::MatchesRegex("[0-9a-f]{16}"));
  int planned = 0, applied = 0, failed = 0;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(logs + "/tqs1.log"), '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j.value("run_id", ""), record->run_id()) << line;
    for (const char* key : {"time", "level", "message"}) {
      EXPECT_TRUE(j.contains(key)) << key << " in " << line;
    }
    const std::string message = j.value("message", "");
    if (absl::StartsWith(message, "planned sync \"c2-hq\"")) {
      ++planned;
      EXPECT_EQ(j.value("sync", ""), "c2-hq") << line;
      EXPECT_EQ(j["counts"].value("creates", -1), 1) << line;
      EXPECT_EQ(j["counts"].value("addresses_newly_blocked", -1), 300) << line;
    }
    if (absl::StartsWith(message, "applied sync \"c2-hq\"")) {
      ++applied;
      EXPECT_EQ(j["counts"].value("created", -1), 1) << line;
      EXPECT_EQ(j["counts"].value("addresses_blocked", -1), 300) << line;
    }
    if (j.value("level", "") == "error" && j.value("sync", "") == "c2-branch") {
      ++failed;
      EXPECT_TRUE(Contains(j.value("error", ""), "Branch")) << line;
    }
  }
  EXPECT_EQ(planned, 1);
  EXPECT_EQ(applied, 1);
  EXPECT_GE(failed, 1);
}

TEST_F(PlanApplyTest, SyncFlagLimitsARun) {
  env().tq().AddCollection(kCollection, Ipv4Indicators(0, 300));
  env().tq().AddCollection("Botnets", Ipv4Indicators(1000, 50));
  site_ = env().AddSite("HQ");
  const std::string branch = env().AddSite("Branch");
  hand_made_ = HandMadeJson();
  const std::string dir = WriteConfig(
      "c", env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""},
                             {"bots-branch", "Botnets", "Branch", ""}}));

  RunResult apply =
      Run({"apply", "--auto-approve", "--sync", "bots-branch", "-c", dir});
  EXPECT_EQ(apply.exit_code, 0) << apply;
  EXPECT_FALSE(Contains(apply.out, "c2-hq")) << apply;
  EXPECT_TRUE(Managed().empty()) << "--sync bots-branch wrote to HQ";
  EXPECT_EQ(env().SiteRules(branch).size(), 1u);

  RunResult plan =
      Run({"plan", "--detailed-exitcode", "--sync", "c2-hq", "-c", dir});
  EXPECT_EQ(plan.exit_code, 2) << plan;
  EXPECT_TRUE(Contains(plan.out, "Sync \"c2-hq\"")) << plan;
  EXPECT_FALSE(Contains(plan.out, "bots-branch")) << plan;

  RunResult unknown = Run({"plan", "--sync", "c2", "-c", dir});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_EQ(unknown.err,
            "Error: --sync \"c2\" is not in the config; its syncs are: "
            "\"c2-hq\", \"bots-branch\"\n");
}

}  // namespace
}  // namespace tqs1::e2e

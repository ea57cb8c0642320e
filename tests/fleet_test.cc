// Several sites from one config entry (`sites: [...]`), as a user runs
// them: the real binary against the emulators. Each site is its own sync
// (planned, guarded, applied and recorded on its own); the collection they
// share is read once per run.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

constexpr char kCollection[] = "Known C2 IPs";

class FleetTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    collection_id_ =
        env().tq().AddCollection(kCollection, Ipv4Indicators(0, 10));
    hq_ = env().AddSite("HQ");
    branch_ = env().AddSite("Branch");
    one_ = WriteConfig("one",
                       env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""}}));
    both_ = WriteConfig("both", env().ConfigYaml({}) +
                                    "  - collection: \"Known C2 IPs\"\n"
                                    "    sites: [HQ, Branch]\n");
  }

  // The requests ThreatQ served for `args`.
  size_t ThreatQRequests(const std::vector<std::string>& args, int exit_code) {
    env().tq().server().ClearRequests();
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, exit_code) << r;
    return env().tq().server().Requests().size();
  }

  // The `filter` of every rule create SentinelOne served, in order.
  std::vector<nlohmann::json> CreateFilters() {
    std::vector<nlohmann::json> out;
    for (const emulator::LoggedRequest& r : env().s1().server().Requests()) {
      if (r.method == "POST" && r.path == "/web/api/v2.1/firewall-control") {
        out.push_back(nlohmann::json::parse(r.body)["filter"]);
      }
    }
    return out;
  }

  int collection_id_ = 0;
  std::string hq_, branch_, one_, both_;
};

TEST_F(FleetTest, OneCollectionToSeveralSitesIsReadOnceAndAppliedToEach) {
  // Both sites' plans cost ThreatQ what one site's does.
  const size_t one_site =
      ThreatQRequests({"plan", "--detailed-exitcode", "-c", one_}, 2);
  ASSERT_GT(one_site, 0u);
  EXPECT_EQ(ThreatQRequests({"plan", "--detailed-exitcode", "-c", both_}, 2),
            one_site);

  RunResult plan = Run({"plan", "-c", both_});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  EXPECT_TRUE(Contains(plan.out, "Sync \"Known C2 IPs -> HQ\"")) << plan;
  EXPECT_TRUE(Contains(plan.out, "Sync \"Known C2 IPs -> Branch\"")) << plan;
  EXPECT_TRUE(Contains(plan.out,
                       "collection read once for the 2 syncs of this run "
                       "that use it: \"Known C2 IPs -> HQ\", \"Known C2 IPs "
                       "-> Branch\""))
      << plan;
  RunResult json = Run({"plan", "--json", "-c", both_});
  ASSERT_EQ(json.exit_code, 0) << json;
  const nlohmann::json file = nlohmann::json::parse(json.out);
  ASSERT_EQ(file["plans"].size(), 2u);
  for (const nlohmann::json& p : file["plans"]) {
    EXPECT_EQ(p["inputs"]["source"]["shared_by"],
              nlohmann::json({"Known C2 IPs -> HQ", "Known C2 IPs -> Branch"}));
  }

  // One site by its own name, then the entry's name selects both.
  RunResult branch = Run({"apply", "--auto-approve", "--sync",
                          "Known C2 IPs -> Branch", "-c", both_});
  ASSERT_EQ(branch.exit_code, 0) << branch;
  EXPECT_EQ(env().BlockedAddresses(branch_).size(), 10u);
  EXPECT_TRUE(env().BlockedAddresses(hq_).empty());
  EXPECT_EQ(
      ThreatQRequests(
          {"apply", "--auto-approve", "--sync", kCollection, "-c", both_}, 0),
      one_site);
  EXPECT_EQ(env().BlockedAddresses(hq_), env().BlockedAddresses(branch_));
  EXPECT_EQ(env().BlockedAddresses(hq_).size(), 10u);

  // Each site's apply is its own in the ledger.
  RunResult history = Run({"history", "--json", "-c", both_});
  ASSERT_EQ(history.exit_code, 0) << history;
  const nlohmann::json applies = nlohmann::json::parse(history.out)["applies"];
  ASSERT_EQ(applies.size(), 2u) << applies;
  EXPECT_EQ(applies[0]["sync"], "Known C2 IPs -> Branch");
  EXPECT_EQ(applies[1]["sync"], "Known C2 IPs -> HQ");

  RunResult unknown = Run({"plan", "--sync", "Known C2", "-c", both_});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
}

TEST_F(FleetTest, ACanaryThatFailsStopsTheRestOfItsRollout) {
  const std::string lab = env().AddSite("Lab");
  const std::string dir =
      WriteConfig("rollout", env().ConfigYaml({}) +
                                 "  - name: C2\n"
                                 "    collection: \"Known C2 IPs\"\n"
                                 "    sites: [HQ, Branch, Lab]\n"
                                 "    rollout: {first: [Lab], then: rest}\n");
  // The canary's first write is refused.
  emulator::Fault refused =
      ::tqs1::testing::RulesFault(emulator::FaultKind::kServerError, "POST");
  refused.status = 400;
  env().s1().server().InjectFault(refused);
  RunResult stopped = Run({"apply", "--auto-approve", "-c", dir});
  EXPECT_EQ(stopped.exit_code, 1) << stopped;
  EXPECT_TRUE(Contains(stopped.err,
                       "Error: canary sync \"C2 -> Lab\" did not apply: the "
                       "other sites of \"C2\" are not applied."))
      << stopped;
  EXPECT_TRUE(Contains(stopped.err,
                       "Error: sync \"C2 -> HQ\": not run: canary sync \"C2 "
                       "-> Lab\" did not apply, so the rollout of \"C2\" "
                       "stopped there"))
      << stopped;
  EXPECT_TRUE(env().BlockedAddresses(hq_).empty());
  EXPECT_TRUE(env().BlockedAddresses(branch_).empty());

  // A saved plan of the three is applied in the same order, and stopped
  // the same way.
  const std::string file = dir + "/plan.json";
  RunResult saved = Run({"plan", "--out", file, "-c", dir});
  ASSERT_EQ(saved.exit_code, 0) << saved;
  env().s1().server().InjectFault(refused);
  RunResult from_file = Run({"apply", file, "-c", dir});
  EXPECT_EQ(from_file.exit_code, 1) << from_file;
  EXPECT_TRUE(Contains(from_file.err,
                       "Error: sync \"C2 -> Branch\": not run: canary sync "
                       "\"C2 -> Lab\" did not apply"))
      << from_file;
  EXPECT_TRUE(env().BlockedAddresses(hq_).empty());
  EXPECT_TRUE(env().BlockedAddresses(branch_).empty());

  // Fixed: the canary first, verified, then the others.
  RunResult applied = Run({"apply", "--auto-approve", "-c", dir});
  ASSERT_EQ(applied.exit_code, 0) << applied;
  const size_t canary = applied.out.find(
      "Canary sync \"C2 -> Lab\" applied and verified (planned again: "
      "nothing to do).");
  ASSERT_NE(canary, std::string::npos) << applied;
  EXPECT_LT(canary, applied.out.find("Apply complete for \"C2 -> HQ\""))
      << applied;
  EXPECT_EQ(env().BlockedAddresses(lab).size(), 10u);
  EXPECT_EQ(env().BlockedAddresses(hq_).size(), 10u);
  EXPECT_EQ(env().BlockedAddresses(branch_).size(), 10u);
}

TEST_F(FleetTest, SeveralConsolesKeepTheirOwnSitesAndOneFailingStopsOnlyIts) {
  // A second console, with a token of its own and a site of the same name
  // (and id: both emulators count from one) as the first's.
  ::tqs1::testing::VendorsEnvOptions options;
  options.api_token = "us-console-token";
  options.seed = false;
  absl::StatusOr<std::unique_ptr<::tqs1::testing::VendorsEnv>> started =
      ::tqs1::testing::VendorsEnv::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  ::tqs1::testing::VendorsEnv& us = **started;
  const std::string us_hq = us.AddSite("HQ");
  ASSERT_EQ(us_hq, hq_);

  const tqs1::v1::Config base = env().Config();
  const std::string yaml = absl::StrCat(
      "threatq:\n  url: ", base.threatq().url(), "\n  client_id: \"",
      base.threatq().client_id(), "\"\n  username: ", base.threatq().username(),
      "\n  password_env: ", base.threatq().password().env(),
      "\nsentinelone:\n"
      "  eu:\n    url: ",
      base.sentinelone().url(),
      "\n    api_token_env: ", base.sentinelone().api_token().env(),
      "\n    writes_per_second: 1000\n"
      "  us:\n    url: ",
      us.Config().sentinelone().url(),
      "\n    api_token_env: TQS1_US_TOKEN\n"
      "    writes_per_second: 1000\n"
      "syncs:\n"
      "  - collection: \"Known C2 IPs\"\n"
      "    sentinelone: eu\n"
      "    sites: [HQ, Branch]\n"
      "  - collection: \"Known C2 IPs\"\n"
      "    sentinelone: us\n"
      "    site: HQ\n");
  const std::string dir = WriteConfig("consoles", yaml);
  const EnvOverrides token = {{"TQS1_US_TOKEN", "us-console-token"}};

  // One ThreatQ read for the three syncs of two consoles.
  const size_t one_site =
      ThreatQRequests({"plan", "--detailed-exitcode", "-c", one_}, 2);
  env().tq().server().ClearRequests();
  RunResult plan = Run({"plan", "-c", dir}, token);
  ASSERT_EQ(plan.exit_code, 0) << plan;
  EXPECT_EQ(env().tq().server().Requests().size(), one_site);
  EXPECT_TRUE(Contains(plan.out,
                       "collection read once for the 3 syncs of this run "
                       "that use it: \"Known C2 IPs -> eu:HQ\", \"Known C2 "
                       "IPs -> eu:Branch\", \"Known C2 IPs -> us:HQ\""))
      << plan;

  RunResult applied = Run({"apply", "--auto-approve", "-c", dir}, token);
  ASSERT_EQ(applied.exit_code, 0) << applied;
  EXPECT_EQ(env().BlockedAddresses(hq_).size(), 10u);
  EXPECT_EQ(env().BlockedAddresses(branch_).size(), 10u);
  EXPECT_EQ(us.BlockedAddresses(us_hq).size(), 10u);
  // Each console got its own token, and only its own site's writes.
  size_t authorized = 0;
  for (const emulator::LoggedRequest& r : us.s1().server().Requests()) {
    for (const auto& [name, value] : r.headers) {
      if (absl::EqualsIgnoreCase(name, "Authorization")) {
        EXPECT_EQ(value, "ApiToken us-console-token");
        ++authorized;
      }
    }
  }
  EXPECT_EQ(authorized, us.s1().server().Requests().size());
  EXPECT_EQ(us.ApiWrites(), 1);  // 10 addresses: one rule

  // The us console refuses its token: its sync fails, the eu syncs apply
  // their change, and the exit code is the worst.
  ASSERT_TRUE(env().tq().SetIndicators(collection_id_, Ipv4Indicators(0, 12)));
  RunResult refused = Run({"apply", "--auto-approve", "-c", dir},
                          {{"TQS1_US_TOKEN", "revoked-token"}});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_TRUE(Contains(refused.err, "sync \"Known C2 IPs -> us:HQ\""))
      << refused;
  EXPECT_EQ(env().BlockedAddresses(hq_).size(), 12u);
  EXPECT_EQ(env().BlockedAddresses(branch_).size(), 12u);
  EXPECT_EQ(us.BlockedAddresses(us_hq).size(), 10u);
}

TEST_F(FleetTest, ParallelSyncsKeepEachBoundAndPrintInConfigOrder) {
  std::vector<std::string> sites;
  std::string names;
  for (int i = 0; i < 6; ++i) {
    const std::string site = absl::StrCat("S", i);
    sites.push_back(env().AddSite(site));
    absl::StrAppend(&names, i == 0 ? "" : ", ", site);
  }
  std::string yaml = env().ConfigYaml({}) +
                     "  - name: C2\n"
                     "    collection: \"Known C2 IPs\"\n"
                     "    sites: [" +
                     names + "]\n";
  yaml = absl::StrReplaceAll(
      yaml, {{"threatq:\n", "parallelism: 6\nthreatq:\n  max_in_flight: 1\n"},
             {"sentinelone:\n", "sentinelone:\n  max_in_flight: 2\n"}});
  const std::string dir = WriteConfig("parallel", yaml);
  // Every console call takes a while, so that the syncs overlap.
  emulator::Fault slow;
  slow.kind = emulator::FaultKind::kDelay;
  slow.delay = absl::Milliseconds(40);
  slow.count = 100000;
  env().s1().server().InjectFault(slow);
  env().s1().server().ClearRequests();
  env().tq().server().ClearRequests();

  RunResult applied = Run({"apply", "--auto-approve", "-c", dir});
  ASSERT_EQ(applied.exit_code, 0) << applied;
  for (const std::string& site : sites) {
    EXPECT_EQ(env().BlockedAddresses(site).size(), 10u) << site;
  }
  // Six syncs ran at once, yet never more than two requests were in flight
  // on the console, nor more than one on ThreatQ.
  EXPECT_EQ(env().s1().server().MaxInFlight(), 2);
  EXPECT_EQ(env().tq().server().MaxInFlight(), 1);
  // One block a sync, in config order.
  size_t at = 0;
  for (int i = 0; i < 6; ++i) {
    const std::string done =
        absl::StrCat("Apply complete for \"C2 -> S", i, "\"");
    const size_t found = applied.out.find(done, at);
    ASSERT_NE(found, std::string::npos) << done << "\n" << applied;
    at = found;
  }
  const size_t plan_of_s5 = applied.out.find("Sync \"C2 -> S5\"");
  EXPECT_GT(plan_of_s5, applied.out.find("Apply complete for \"C2 -> S4\""))
      << applied;

  // The JSON plan keeps one entry a sync, in config order; one at a time
  // (--parallelism 1) the console sees one request at once.
  ASSERT_TRUE(env().tq().SetIndicators(collection_id_, Ipv4Indicators(0, 12)));
  env().s1().server().ClearRequests();
  RunResult json = Run({"plan", "--json", "--parallelism", "1", "-c", dir});
  ASSERT_EQ(json.exit_code, 0) << json;
  const nlohmann::json file = nlohmann::json::parse(json.out);
  ASSERT_EQ(file["plans"].size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(file["plans"][i]["sync_name"], absl::StrCat("C2 -> S", i));
  }
  EXPECT_EQ(env().s1().server().MaxInFlight(), 1);

  RunResult bad = Run({"plan", "--parallelism", "0", "-c", dir});
  EXPECT_EQ(bad.exit_code, 1) << bad;
  EXPECT_TRUE(
      Contains(bad.err, "--parallelism \"0\" is not a number from 1 to 64"))
      << bad;
  env().s1().server().ClearFaults();
}

TEST_F(FleetTest, EveryActiveSiteOfAnAccountIsASyncOfItsOwn) {
  const std::string lab = env().AddSite("Lab");
  const std::string entry = env().ConfigYaml({}) +
                            "  - collection: \"Known C2 IPs\"\n"
                            "    sites: {account: Acme, all: true, "
                            "exclude: [lab]}\n";
  const std::string dir = WriteConfig("account", entry);
  // Without a console, the entry is what it says.
  RunResult valid = Run({"check", "--config-only", "-c", dir, "--state-dir",
                         MakeDir("account-state")});
  EXPECT_EQ(valid.exit_code, 0) << valid;
  EXPECT_TRUE(Contains(valid.out,
                       "is valid: 1 sync (\"Known C2 IPs\": every active "
                       "site of account \"Acme\")"))
      << valid;
  RunResult applied = Run({"apply", "--auto-approve", "-c", dir});
  ASSERT_EQ(applied.exit_code, 0) << applied;
  EXPECT_TRUE(Contains(applied.out, "Sync \"Known C2 IPs -> Acme/Branch\""))
      << applied;
  EXPECT_TRUE(Contains(applied.out, "Sync \"Known C2 IPs -> Acme/HQ\""))
      << applied;
  EXPECT_EQ(env().BlockedAddresses(hq_).size(), 10u);
  EXPECT_EQ(env().BlockedAddresses(branch_).size(), 10u);
  EXPECT_TRUE(env().BlockedAddresses(lab).empty());  // excluded

  // A site the account gains is the next run's sync; the others are in
  // sync.
  const std::string annex = env().AddSite("Annex");
  RunResult plan = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(plan.exit_code, 2) << plan;
  EXPECT_TRUE(Contains(plan.out, "Sync \"Known C2 IPs -> Acme/Annex\""))
      << plan;
  RunResult one = Run({"apply", "--auto-approve", "--sync",
                       "Known C2 IPs -> Acme/Annex", "-c", dir});
  ASSERT_EQ(one.exit_code, 0) << one;
  EXPECT_EQ(env().BlockedAddresses(annex).size(), 10u);
  EXPECT_EQ(Run({"plan", "--detailed-exitcode", "-c", dir}).exit_code, 0);

  // An account the console does not have, and an exclusion that is no site
  // of the account: errors that name them, before anything is planned.
  RunResult unknown =
      Run({"plan", "-c",
           WriteConfig("unknown",
                       absl::StrReplaceAll(entry, {{"Acme,", "Acme Corp,"}}))});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_TRUE(Contains(unknown.err,
                       "Error: sync entry \"Known C2 IPs\": account \"Acme "
                       "Corp\" has no active site on its console; the "
                       "accounts with active sites are \"Acme\" (id "
                       "1286405255240245908)"))
      << unknown;
  RunResult typo = Run(
      {"plan", "-c",
       WriteConfig("typo", absl::StrReplaceAll(entry, {{"[lab]", "[Lba]"}}))});
  EXPECT_EQ(typo.exit_code, 1) << typo;
  EXPECT_TRUE(Contains(typo.err,
                       "Error: sync entry \"Known C2 IPs\": account \"Acme\": "
                       "exclude \"Lba\" is not one of its active sites "
                       "(\"Annex\", \"Branch\", \"HQ\", \"Lab\")"))
      << typo;
  EXPECT_EQ(typo.out, "");

  // A sync of the account's sites named like a sync written out by hand.
  RunResult clash = Run(
      {"plan", "-c",
       WriteConfig("clash", entry + "  - name: \"Known C2 IPs -> Acme/HQ\"\n"
                                    "    collection: \"Known scanners\"\n"
                                    "    site: Lab\n")});
  EXPECT_EQ(clash.exit_code, 1) << clash;
  EXPECT_TRUE(Contains(clash.err,
                       "Error: sync entry \"Known C2 IPs\": its sync "
                       "\"Known C2 IPs -> Acme/HQ\" has the name of a sync "
                       "written out in the config; give the entry another "
                       "`name:`"))
      << clash;
  EXPECT_EQ(clash.out, "");
}

// `account_scope:` keeps the account's own rules, which every site of the
// account inherits; a site sync of the same collection counts them as
// blocking what they hold.
TEST_F(FleetTest, AnAccountScopeSyncKeepsTheAccountsRulesAndCoversItsSites) {
  const std::string entries = env().ConfigYaml({}) +
                              "  - collection: \"Known C2 IPs\"\n"
                              "    account_scope: Acme\n"
                              "  - collection: \"Known C2 IPs\"\n"
                              "    site: HQ\n";
  const std::string dir = WriteConfig("account-scope", entries);
  env().s1().server().ClearRequests();
  RunResult account = Run({"apply", "--auto-approve", "--sync",
                           "Known C2 IPs -> account Acme", "-c", dir});
  ASSERT_EQ(account.exit_code, 0) << account;
  EXPECT_TRUE(Contains(account.out,
                       "Sync \"Known C2 IPs -> account Acme\": collection "
                       "\"Known C2 IPs\" to the account-scope rules of "
                       "account \"Acme\" (1286405255240245908)"))
      << account;
  const std::vector<tqs1::v1::Rule> acme = env().s1().Rules(
      tqs1::v1::RULE_SCOPE_ACCOUNT, ::tqs1::testing::kAccountId);
  ASSERT_EQ(acme.size(), 1u);
  EXPECT_EQ(acme[0].name(), "Known C2 IPs");
  ASSERT_EQ(acme[0].remote_hosts_size(), 1);
  EXPECT_EQ(acme[0].remote_hosts(0).values_size(), 10);
  // Created with the account's filter, and no site touched.
  const std::vector<nlohmann::json> filters = CreateFilters();
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_EQ(filters[0],
            nlohmann::json({{"accountIds", {::tqs1::testing::kAccountId}}}));
  EXPECT_TRUE(env().SiteRules(hq_).empty());
  EXPECT_TRUE(env().SiteRules(branch_).empty());

  // HQ's sync of the same collection: its inherited account rule blocks
  // every address, so nothing is missing and nothing is written.
  RunResult site = Run({"plan", "--detailed-exitcode", "--sync",
                        "Known C2 IPs -> HQ", "-c", dir});
  EXPECT_EQ(site.exit_code, 0) << site;
  EXPECT_TRUE(Contains(site.out,
                       "10 addresses of the collection are blocked by rules "
                       "of this sync the site inherits (account or global "
                       "scope): not written to the site"))
      << site;
  EXPECT_EQ(Run({"plan", "--detailed-exitcode", "-c", dir}).exit_code, 0);
  const std::string first = Ipv4Addresses(0, 1)[0];
  RunResult why =
      Run({"why", first, "--sync", "Known C2 IPs -> HQ", "-c", dir});
  EXPECT_EQ(why.exit_code, 0) << why;
  EXPECT_TRUE(Contains(why.out, absl::StrCat(first,
                                             ": blocked by account rule "
                                             "\"Known C2 IPs\" (id ",
                                             acme[0].id(),
                                             ", this sync's, inherited) of "
                                             "site \"HQ\"")))
      << why;
  // The account's own sync names the rule its own, of the account.
  RunResult own =
      Run({"why", first, "--sync", "Known C2 IPs -> account Acme", "-c", dir});
  EXPECT_EQ(own.exit_code, 0) << own;
  EXPECT_TRUE(
      Contains(own.out, absl::StrCat(first,
                                     ": blocked by rule \"Known C2 "
                                     "IPs\" (id ",
                                     acme[0].id(), ") of account \"Acme\"")))
      << own;
  // A new address is the account's to add, and HQ's until it is.
  ASSERT_TRUE(env().tq().SetIndicators(collection_id_, Ipv4Indicators(0, 11)));
  RunResult grown = Run({"plan", "--json", "-c", dir});
  ASSERT_EQ(grown.exit_code, 0) << grown;
  const nlohmann::json plans = nlohmann::json::parse(grown.out)["plans"];
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0]["scope"], "account");
  EXPECT_EQ(plans[0]["summary"]["newly_blocked"], 1);
  EXPECT_EQ(plans[1]["scope"], "site");
  EXPECT_EQ(plans[1]["observed"]["inherited_blocked"], 10);
  EXPECT_EQ(plans[1]["summary"]["newly_blocked"], 1);

  // An account the console does not have: the sync fails and says which
  // accounts there are.
  RunResult unknown =
      Run({"plan", "-c",
           WriteConfig(
               "unknown-account",
               absl::StrReplaceAll(entries, {{"account_scope: Acme",
                                              "account_scope: Acme Corp"}}))});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_TRUE(Contains(unknown.err,
                       "finding SentinelOne account \"Acme Corp\": no "
                       "SentinelOne account with an active site is named or "
                       "has the id \"Acme Corp\"; the accounts with active "
                       "sites are \"Acme\" (id 1286405255240245908)"))
      << unknown;
}

// `global: true` keeps the console's global rules, which every account and
// site inherits.
TEST_F(FleetTest, AGlobalSyncKeepsTheConsolesGlobalRules) {
  const std::string dir =
      WriteConfig("global", env().ConfigYaml({}) +
                                "  - collection: \"Known C2 IPs\"\n"
                                "    global: true\n"
                                "  - collection: \"Known C2 IPs\"\n"
                                "    site: Branch\n");
  env().s1().server().ClearRequests();
  RunResult global = Run({"apply", "--auto-approve", "--sync",
                          "Known C2 IPs -> global", "-c", dir});
  ASSERT_EQ(global.exit_code, 0) << global;
  EXPECT_TRUE(Contains(global.out,
                       "Sync \"Known C2 IPs -> global\": collection \"Known "
                       "C2 IPs\" to the global-scope rules\n"))
      << global;
  const std::vector<tqs1::v1::Rule> rules =
      env().s1().Rules(tqs1::v1::RULE_SCOPE_GLOBAL, "");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].remote_hosts(0).values_size(), 10);
  for (const nlohmann::json& filter : CreateFilters()) {
    EXPECT_EQ(filter, nlohmann::json({{"tenant", true}}));
  }
  EXPECT_TRUE(env().SiteRules(branch_).empty());
  // Branch's sync finds nothing missing; both plans are in sync.
  RunResult plan = Run({"plan", "--detailed-exitcode", "-c", dir});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  EXPECT_TRUE(Contains(plan.out,
                       "10 addresses of the collection are blocked by rules "
                       "of this sync the site inherits"))
      << plan;
  EXPECT_TRUE(Contains(plan.out,
                       "No changes. The global rules hold the collection's "
                       "10 addresses."))
      << plan;
}

// `group: Lab` beside `site: HQ` keeps the rules of HQ's group Lab, which
// the console evaluates before HQ's own: a rule of HQ's sync covers the
// group; a group's rule never covers HQ.
TEST_F(FleetTest, AGroupSyncKeepsTheGroupsRulesAndItsSitesRuleCoversIt) {
  constexpr char kLab[] = "1827364554637281901";
  env().s1().AddGroup({kLab, "Lab", hq_});
  env().s1().AddGroup({"1827364554637281902", "Lab", branch_});
  const std::string entries = env().ConfigYaml({}) +
                              "  - collection: \"Known C2 IPs\"\n"
                              "    site: HQ\n"
                              "    group: Lab\n"
                              "  - collection: \"Known C2 IPs\"\n"
                              "    site: HQ\n";
  const std::string dir = WriteConfig("group", entries);
  env().s1().server().ClearRequests();
  RunResult group = Run({"apply", "--auto-approve", "--sync",
                         "Known C2 IPs -> HQ group Lab", "-c", dir});
  ASSERT_EQ(group.exit_code, 0) << group;
  EXPECT_TRUE(Contains(group.out,
                       absl::StrCat("Sync \"Known C2 IPs -> HQ group Lab\": "
                                    "collection \"Known C2 IPs\" to the rules "
                                    "of group \"Lab\" (",
                                    kLab, ")\n")))
      << group;
  const std::vector<tqs1::v1::Rule> lab =
      env().s1().Rules(tqs1::v1::RULE_SCOPE_GROUP, kLab);
  ASSERT_EQ(lab.size(), 1u);
  EXPECT_EQ(lab[0].name(), "Known C2 IPs");
  EXPECT_EQ(lab[0].remote_hosts(0).values_size(), 10);
  // Created with the group's filter; no site touched.
  const std::vector<nlohmann::json> filters = CreateFilters();
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_EQ(filters[0], nlohmann::json({{"groupIds", {kLab}}}));
  EXPECT_TRUE(env().SiteRules(hq_).empty());

  // The group's rule is no cover for HQ: its plan has all ten to write.
  RunResult site = Run({"plan", "--detailed-exitcode", "--sync",
                        "Known C2 IPs -> HQ", "-c", dir});
  EXPECT_EQ(site.exit_code, 2) << site;
  ASSERT_EQ(Run({"apply", "--auto-approve", "--sync", "Known C2 IPs -> HQ",
                 "-c", dir})
                .exit_code,
            0);
  const std::string first = Ipv4Addresses(0, 1)[0];
  RunResult why =
      Run({"why", first, "--sync", "Known C2 IPs -> HQ group Lab", "-c", dir});
  EXPECT_EQ(why.exit_code, 0) << why;
  const std::vector<tqs1::v1::Rule> hq = env().SiteRules(hq_);
  ASSERT_EQ(hq.size(), 1u);
  EXPECT_TRUE(Contains(
      why.out,
      absl::StrCat(first, ": blocked by rule \"Known C2 IPs\" (id ",
                   lab[0].id(), ") and site rule \"Known C2 IPs\" (id ",
                   hq[0].id(), ", this sync's, inherited) of group \"Lab\"")))
      << why;
  // HQ's rule now covers the group too; the group keeps what it holds.
  RunResult plans = Run({"plan", "--json", "-c", dir});
  ASSERT_EQ(plans.exit_code, 0) << plans;
  const nlohmann::json json = nlohmann::json::parse(plans.out)["plans"];
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["scope"], "group");
  EXPECT_EQ(json[0]["summary"]["in_sync"], true);
  EXPECT_EQ(json[1]["scope"], "site");
  EXPECT_EQ(json[1]["summary"]["in_sync"], true);
  // A new address: HQ's to add, and the group's until HQ holds it.
  ASSERT_TRUE(env().tq().SetIndicators(collection_id_, Ipv4Indicators(0, 11)));
  RunResult grown = Run({"plan", "--json", "-c", dir});
  ASSERT_EQ(grown.exit_code, 0) << grown;
  const nlohmann::json both = nlohmann::json::parse(grown.out)["plans"];
  EXPECT_EQ(both[0]["summary"]["newly_blocked"], 1);
  EXPECT_EQ(both[1]["summary"]["newly_blocked"], 1);
  ASSERT_EQ(Run({"apply", "--auto-approve", "--sync", "Known C2 IPs -> HQ",
                 "-c", dir})
                .exit_code,
            0);
  RunResult covered = Run({"plan", "--detailed-exitcode", "--sync",
                           "Known C2 IPs -> HQ group Lab", "-c", dir});
  EXPECT_EQ(covered.exit_code, 0) << covered;
  EXPECT_TRUE(Contains(covered.out,
                       "1 address of the collection is blocked by rules of "
                       "this sync the group inherits (site, account or global "
                       "scope): not written to the group"))
      << covered;

  // A group HQ does not have: the sync fails and lists HQ's groups.
  RunResult unknown = Run(
      {"plan", "-c",
       WriteConfig("unknown-group", absl::StrReplaceAll(entries, {{"group: Lab",
                                                                   "group: "
                                                                   "Labs"}}))});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_TRUE(Contains(
      unknown.err, absl::StrCat("finding SentinelOne group \"Labs\" of site "
                                "\"HQ\": SentinelOne site ",
                                hq_,
                                " has no group named or with the id "
                                "\"Labs\"; its groups are \"Lab\" (id ",
                                kLab, ")")))
      << unknown;
}

}  // namespace
}  // namespace tqs1::e2e

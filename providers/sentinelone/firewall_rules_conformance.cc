#include "providers/sentinelone/firewall_rules_conformance.h"

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "providers/sentinelone/wire.h"
#include "testing/builders.h"

namespace tqs1::sentinelone {
namespace {

using ::testing::HasSubstr;
using ::tqs1::testing::kAccountId;
using ::tqs1::testing::kSiteId;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

constexpr char kOtherSite[] = "1758952600032266154";

Rule MakeRule(const std::string& name, const std::vector<std::string>& values) {
  return ::tqs1::testing::BlockRule(
      name, "Blocked by ThreatQ [managed-by:tqs1]", values);
}

bool Is18Digits(const std::string& id) {
  if (id.size() != 18) return false;
  for (char c : id) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The rules of `observed` whose own scope is `site_id`.
std::vector<Rule> SiteRules(const ObservedState& observed,
                            const std::string& site_id) {
  std::vector<Rule> out;
  for (const Rule& r : observed.rules()) {
    if (r.scope() == v1::RULE_SCOPE_SITE && r.scope_id() == site_id) {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<std::string> Names(const std::vector<Rule>& rules) {
  std::vector<std::string> out;
  for (const Rule& r : rules) out.push_back(r.name());
  return out;
}

}  // namespace

std::string ConformanceParamName(
    const ::testing::TestParamInfo<ConformanceParam>& info) {
  return info.param.name;
}

void FirewallRulesConformanceTest::SetUp() {
  backend_ = GetParam().make();
  ASSERT_NE(backend_, nullptr);
  backend_->AddSite(kSiteId, "HQ", kAccountId, true);
  backend_->AddSite(kOtherSite, "Branch", kAccountId, true);
}

TEST_P(FirewallRulesConformanceTest, FindSiteMatchesExactlyAndListsCandidates) {
  backend().AddSite("100000000000000011", "hq", kAccountId, true);
  backend().AddSite("100000000000000012", "Twin", kAccountId, true);
  backend().AddSite("100000000000000013", "Twin", "2", true);
  backend().AddSite("100000000000000014", "Gone", kAccountId, false);
  struct Case {
    SiteSelector site;
    absl::StatusCode code;
    std::string id_or_message_part;
  };
  const std::vector<Case> cases = {
      {{"HQ"}, absl::StatusCode::kOk, kSiteId},
      {{"hq"}, absl::StatusCode::kOk, "100000000000000011"},
      {{"Hq"}, absl::StatusCode::kNotFound, "site id 1758952600032266153)"},
      {{"Twin"},
       absl::StatusCode::kFailedPrecondition,
       "site id 100000000000000013)"},
      {{"Twin"},
       absl::StatusCode::kFailedPrecondition,
       "account id 2, site id 100000000000000013); set site_id: (one of the "
       "site ids above) or account: (an account name or id) in the sync"},
      {{"Twin", "", "2"}, absl::StatusCode::kOk, "100000000000000013"},
      {{"Twin", "", kAccountId}, absl::StatusCode::kOk, "100000000000000012"},
      {{"HQ", "", "2"},
       absl::StatusCode::kNotFound,
       "no active SentinelOne site in account \"2\" is named exactly \"HQ\""},
      {{"", "100000000000000013", ""},
       absl::StatusCode::kOk,
       "100000000000000013"},
      {{"Twin", "100000000000000012", ""},
       absl::StatusCode::kOk,
       "100000000000000012"},
      {{"HQ", "100000000000000012", ""},
       absl::StatusCode::kFailedPrecondition,
       "site_id 100000000000000012 is named \"Twin\", not \"HQ\""},
      {{"", "100000000000000014", ""},
       absl::StatusCode::kFailedPrecondition,
       ", not active"},
      {{"", "100000000000000099", ""},
       absl::StatusCode::kNotFound,
       "no SentinelOne site has the id 100000000000000099"},
      {{"Gone"},
       absl::StatusCode::kNotFound,
       "(no near matches among 5 active sites)"},
      {{"Nowhere & co"}, absl::StatusCode::kNotFound, "(no near matches"},
      // Near matches among every active site: case-insensitive, substring.
      {{"Hq"},
       absl::StatusCode::kNotFound,
       "is named exactly \"Hq\"; near matches: \""},
      {{"Hq"}, absl::StatusCode::kNotFound, "\"HQ\" ("},
      {{"Hq"}, absl::StatusCode::kNotFound, "\"hq\" ("},
      {{"HQ-West"}, absl::StatusCode::kNotFound, "\"HQ\" (account \""},
      {{"Bran"},
       absl::StatusCode::kNotFound,
       "near matches: \"Branch\" (account \""},
      {{"twin site"},
       absl::StatusCode::kNotFound,
       "site id 100000000000000013)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(
        absl::StrCat(c.site.name, "/", c.site.id, "/", c.site.account));
    absl::StatusOr<std::string> id = rules().FindSite(c.site);
    EXPECT_EQ(id.status().code(), c.code) << id.status();
    if (id.ok()) {
      EXPECT_EQ(*id, c.id_or_message_part);
    } else {
      EXPECT_THAT(id.status().message(), HasSubstr(c.id_or_message_part));
    }
  }
}

TEST_P(FirewallRulesConformanceTest, ReadsAnEmptySiteAndAnUnknownOne) {
  for (const char* site : {kSiteId, "199999999999999999"}) {
    SCOPED_TRACE(site);
    absl::StatusOr<ObservedState> observed = rules().ReadSite(site);
    ASSERT_TRUE(observed.ok()) << observed.status();
    EXPECT_EQ(observed->site_id(), site);
    EXPECT_EQ(observed->rules_size(), 0);
  }
}

TEST_P(FirewallRulesConformanceTest, ReadSiteReportsTheFirewallConfiguration) {
  struct Case {
    std::string name;
    bool enabled;
    std::string inherited_from;
    bool inherits_rules;
  };
  const std::vector<Case> cases = {
      {"enabled, own policy", true, "", false},
      {"disabled", false, "", false},
      {"inherits from Global", true, "Global", false},
      {"inherits every rule of its account", true, "Account", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::FirewallConfiguration config;
    config.set_known(true);
    config.set_enabled(c.enabled);
    config.set_inherited_from(c.inherited_from);
    config.set_inherits_rules(c.inherits_rules);
    backend().SetFirewallConfiguration(kSiteId, config);
    absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
    ASSERT_TRUE(observed.ok()) << observed.status();
    EXPECT_TRUE(observed->firewall().known());
    EXPECT_EQ(observed->firewall().enabled(), c.enabled);
    EXPECT_EQ(observed->firewall().inherited_from(), c.inherited_from);
    EXPECT_EQ(observed->firewall().inherits_rules(), c.inherits_rules);
  }
  // A site nobody knows has no configuration to report, and its read still
  // succeeds.
  absl::StatusOr<ObservedState> unknown =
      rules().ReadSite("199999999999999999");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_FALSE(unknown->firewall().known());
}

// An account's own rules: found by the account's id, created, read,
// updated and deleted at account scope, seen by every site of the account
// as inherited; the sites' own rules are never the account's.
TEST_P(FirewallRulesConformanceTest, AccountScopeRulesAreTheAccountsOwn) {
  absl::StatusOr<std::string> account = rules().FindAccount(kAccountId);
  ASSERT_TRUE(account.ok()) << account.status();
  EXPECT_EQ(*account, kAccountId);
  absl::StatusOr<std::string> unknown = rules().FindAccount("999");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr(absl::StrCat("\"999\"; the accounts with active sites "
                                     "are ")));
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr(kAccountId));

  absl::StatusOr<Rule> site_rule =
      rules().CreateRule(kSiteId, MakeRule("Site list", {"192.0.2.9"}));
  ASSERT_TRUE(site_rule.ok()) << site_rule.status();
  const Scope acme = Scope::Account(kAccountId);
  Rule wanted = MakeRule("Known C2 IPs", {"203.0.113.7", "192.0.2.0/24"});
  absl::StatusOr<Rule> created = rules().CreateRule(acme, wanted);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(SameRuleContent(*created, wanted)) << created->DebugString();
  EXPECT_EQ(created->scope(), v1::RULE_SCOPE_ACCOUNT);
  EXPECT_EQ(created->scope_id(), kAccountId);
  // The name is the account's now (other content: not a lost answer).
  EXPECT_EQ(rules()
                .CreateRule(acme, MakeRule("Known C2 IPs", {"198.51.100.2"}))
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);

  absl::StatusOr<ObservedState> read = rules().ReadSite(acme);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->scope(), v1::RULE_SCOPE_ACCOUNT);
  EXPECT_EQ(read->site_id(), kAccountId);
  std::vector<std::string> own;
  for (const Rule& rule : read->rules()) {
    if (rule.scope() == v1::RULE_SCOPE_ACCOUNT) own.push_back(rule.name());
    EXPECT_NE(rule.scope(), v1::RULE_SCOPE_SITE) << rule.name();
  }
  EXPECT_THAT(own, ::testing::ElementsAre("Known C2 IPs"));
  // Every site of the account sees it, with its own scope.
  for (const char* site : {kSiteId, kOtherSite}) {
    absl::StatusOr<ObservedState> seen = rules().ReadSite(site);
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_EQ(SiteRules(*seen, site).size(),
              site == std::string(kSiteId) ? 1u : 0u);
    bool inherited = false;
    for (const Rule& rule : seen->rules()) {
      inherited |= rule.id() == created->id() &&
                   rule.scope() == v1::RULE_SCOPE_ACCOUNT &&
                   rule.scope_id() == kAccountId;
    }
    EXPECT_TRUE(inherited) << site;
  }

  Rule changed = *created;
  changed.clear_remote_hosts();
  *changed.add_remote_hosts() = MakeRule("x", {"198.51.100.1"}).remote_hosts(0);
  absl::StatusOr<Rule> updated = rules().UpdateRule(acme, changed);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->scope(), v1::RULE_SCOPE_ACCOUNT);
  ASSERT_TRUE(rules().DeleteRule(acme, created->id()).ok());
  read = rules().ReadSite(acme);
  ASSERT_TRUE(read.ok()) << read.status();
  for (const Rule& rule : read->rules()) {
    EXPECT_NE(rule.id(), created->id());
  }
  // The site's rule is untouched by all of it.
  absl::StatusOr<ObservedState> hq = rules().ReadSite(kSiteId);
  ASSERT_TRUE(hq.ok()) << hq.status();
  ASSERT_EQ(SiteRules(*hq, kSiteId).size(), 1u);
  EXPECT_TRUE(SameRuleContent(SiteRules(*hq, kSiteId)[0], *site_rule));
}

// The console's global rules: created, read and deleted at global scope,
// seen by every site as inherited.
TEST_P(FirewallRulesConformanceTest, GlobalRulesAreTheConsoles) {
  const Scope global = Scope::Global();
  Rule wanted = MakeRule("Known C2 IPs", {"203.0.113.7"});
  absl::StatusOr<Rule> created = rules().CreateRule(global, wanted);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->scope(), v1::RULE_SCOPE_GLOBAL);
  EXPECT_EQ(created->scope_id(), "");
  absl::StatusOr<ObservedState> read = rules().ReadSite(global);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->scope(), v1::RULE_SCOPE_GLOBAL);
  std::vector<std::string> names;
  for (const Rule& rule : read->rules()) {
    EXPECT_EQ(rule.scope(), v1::RULE_SCOPE_GLOBAL) << rule.name();
    names.push_back(rule.name());
  }
  EXPECT_THAT(names, ::testing::ElementsAre("Known C2 IPs"));
  absl::StatusOr<ObservedState> hq = rules().ReadSite(kSiteId);
  ASSERT_TRUE(hq.ok()) << hq.status();
  bool inherited = false;
  for (const Rule& rule : hq->rules()) {
    inherited |=
        rule.id() == created->id() && rule.scope() == v1::RULE_SCOPE_GLOBAL;
  }
  EXPECT_TRUE(inherited);
  ASSERT_TRUE(rules().DeleteRule(global, created->id()).ok());
  read = rules().ReadSite(global);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->rules_size(), 0);
}

// A group's rules: the group found by exact name or id within its site,
// its rules created, read, updated and deleted at group scope; its read
// holds its site's rules as inherited; the site's read never holds the
// group's.
TEST_P(FirewallRulesConformanceTest, GroupRulesAreTheGroupsOwn) {
  constexpr char kLab[] = "1827364554637281901";
  constexpr char kBranchLab[] = "1827364554637281902";
  backend().AddGroup(kLab, kSiteId, "Lab");
  backend().AddGroup(kBranchLab, kOtherSite, "Lab");
  backend().AddGroup("1827364554637281903", kOtherSite, "Servers");
  backend().AddGroup("1827364554637281904", kOtherSite, "Servers");
  absl::StatusOr<std::string> lab = rules().FindGroup(kSiteId, "Lab");
  ASSERT_TRUE(lab.ok()) << lab.status();
  EXPECT_EQ(*lab, kLab);
  EXPECT_EQ(rules().FindGroup(kSiteId, kLab).value_or(""), kLab);
  EXPECT_EQ(rules().FindGroup(kOtherSite, "Lab").value_or(""), kBranchLab);
  absl::StatusOr<std::string> near = rules().FindGroup(kSiteId, "lab");
  EXPECT_EQ(near.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(near.status().message()),
              HasSubstr(absl::StrCat("has no group named or with the id "
                                     "\"lab\"; its groups are \"Lab\" (id ",
                                     kLab, ")")));
  absl::StatusOr<std::string> two = rules().FindGroup(kOtherSite, "Servers");
  EXPECT_EQ(two.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(two.status().message()),
              HasSubstr("give the group by its id"));

  absl::StatusOr<Rule> site_rule =
      rules().CreateRule(kSiteId, MakeRule("Site list", {"192.0.2.9"}));
  ASSERT_TRUE(site_rule.ok()) << site_rule.status();
  const Scope group = Scope::Group(kLab);
  Rule wanted = MakeRule("Known C2 IPs", {"203.0.113.7"});
  absl::StatusOr<Rule> created = rules().CreateRule(group, wanted);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(SameRuleContent(*created, wanted)) << created->DebugString();
  EXPECT_EQ(created->scope(), v1::RULE_SCOPE_GROUP);
  EXPECT_EQ(created->scope_id(), kLab);
  // Another group's rule of the same name is that group's own.
  ASSERT_TRUE(rules().CreateRule(Scope::Group(kBranchLab), wanted).ok());

  absl::StatusOr<ObservedState> read = rules().ReadSite(group);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->scope(), v1::RULE_SCOPE_GROUP);
  EXPECT_EQ(read->site_id(), kLab);
  std::vector<std::string> seen;
  for (const Rule& rule : read->rules()) {
    seen.push_back(
        absl::StrCat(v1::RuleScope_Name(rule.scope()), " ", rule.name()));
  }
  EXPECT_THAT(seen, ::testing::ElementsAre("RULE_SCOPE_GROUP Known C2 IPs",
                                           "RULE_SCOPE_SITE Site list"));
  absl::StatusOr<ObservedState> hq = rules().ReadSite(kSiteId);
  ASSERT_TRUE(hq.ok()) << hq.status();
  for (const Rule& rule : hq->rules()) {
    EXPECT_NE(rule.scope(), v1::RULE_SCOPE_GROUP) << rule.name();
  }

  Rule changed = *created;
  changed.clear_remote_hosts();
  *changed.add_remote_hosts() = MakeRule("x", {"198.51.100.1"}).remote_hosts(0);
  absl::StatusOr<Rule> updated = rules().UpdateRule(group, changed);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->scope(), v1::RULE_SCOPE_GROUP);
  ASSERT_TRUE(rules().DeleteRule(group, created->id()).ok());
  read = rules().ReadSite(group);
  ASSERT_TRUE(read.ok()) << read.status();
  for (const Rule& rule : read->rules()) {
    EXPECT_NE(rule.id(), created->id());
  }
  hq = rules().ReadSite(kSiteId);
  ASSERT_TRUE(hq.ok()) << hq.status();
  ASSERT_EQ(SiteRules(*hq, kSiteId).size(), 1u);
  EXPECT_TRUE(SameRuleContent(SiteRules(*hq, kSiteId)[0], *site_rule));
}

TEST_P(FirewallRulesConformanceTest, CreatedRuleReadsBackWithSiteScope) {
  Rule wanted = MakeRule("Known C2 IPs", {"203.0.113.7", "192.0.2.0/24",
                                          "2001:db8::/32", "2001:db8::1"});
  absl::StatusOr<Rule> created = rules().CreateRule(kSiteId, wanted);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(Is18Digits(created->id())) << created->id();
  EXPECT_TRUE(SameRuleContent(*created, wanted)) << created->DebugString();
  EXPECT_EQ(created->scope(), v1::RULE_SCOPE_SITE);
  EXPECT_EQ(created->scope_id(), kSiteId);

  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  std::vector<Rule> site_rules = SiteRules(*observed, kSiteId);
  ASSERT_EQ(site_rules.size(), 1u);
  EXPECT_EQ(site_rules[0].id(), created->id());
  EXPECT_TRUE(SameRuleContent(site_rules[0], wanted));
  // Addresses and CIDRs arrive split by type.
  ASSERT_EQ(site_rules[0].remote_hosts_size(), 2);
  EXPECT_EQ(site_rules[0].remote_hosts(0).type(), "addresses");
  EXPECT_THAT(site_rules[0].remote_hosts(0).values(),
              ::testing::ElementsAre("203.0.113.7", "2001:db8::1"));
  EXPECT_EQ(site_rules[0].remote_hosts(1).type(), "cidr");
  EXPECT_THAT(site_rules[0].remote_hosts(1).values(),
              ::testing::ElementsAre("192.0.2.0/24", "2001:db8::/32"));
}

TEST_P(FirewallRulesConformanceTest, DuplicateNameIsAlreadyExists) {
  Rule first = MakeRule("Known C2 IPs", {"203.0.113.7"});
  ASSERT_TRUE(rules().CreateRule(kSiteId, first).ok());
  Rule second = MakeRule("Known C2 IPs", {"198.51.100.9"});
  absl::StatusOr<Rule> dup = rules().CreateRule(kSiteId, second);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists)
      << dup.status();
  EXPECT_THAT(dup.status().message(), HasSubstr("Known C2 IPs"));

  // The same name in another site is fine.
  EXPECT_TRUE(rules().CreateRule(kOtherSite, second).ok());

  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  std::vector<Rule> site_rules = SiteRules(*observed, kSiteId);
  ASSERT_EQ(site_rules.size(), 1u);
  EXPECT_TRUE(SameRuleContent(site_rules[0], first));
}

TEST_P(FirewallRulesConformanceTest, NewRulesGoOnTop) {
  for (const char* name : {"A", "B", "C"}) {
    ASSERT_TRUE(
        rules().CreateRule(kSiteId, MakeRule(name, {"192.0.2.1"})).ok());
  }
  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_THAT(Names(SiteRules(*observed, kSiteId)),
              ::testing::ElementsAre("C", "B", "A"));
}

TEST_P(FirewallRulesConformanceTest, UpdateReplacesEveryFieldIdempotently) {
  absl::StatusOr<Rule> created =
      rules().CreateRule(kSiteId, MakeRule("Old", {"192.0.2.1", "10.0.0.0/8"}));
  ASSERT_TRUE(created.ok()) << created.status();
  Rule changed;
  changed.set_id(created->id());
  changed.set_name("New (1)");
  changed.set_description("changed");
  changed.set_action(v1::RULE_ACTION_ALLOW);
  changed.set_enabled(false);
  changed.set_direction(v1::DIRECTION_OUTBOUND);
  changed.add_os_types(v1::OS_TYPE_WINDOWS_LEGACY);
  auto* hosts = changed.add_remote_hosts();
  hosts->set_type("addresses");
  hosts->add_values("198.51.100.0/24");
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    absl::StatusOr<Rule> updated = rules().UpdateRule(kSiteId, changed);
    ASSERT_TRUE(updated.ok()) << updated.status();
    EXPECT_EQ(updated->id(), created->id());
    EXPECT_TRUE(SameRuleContent(*updated, changed)) << updated->DebugString();
  }
  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  std::vector<Rule> site_rules = SiteRules(*observed, kSiteId);
  ASSERT_EQ(site_rules.size(), 1u);
  EXPECT_TRUE(SameRuleContent(site_rules[0], changed))
      << site_rules[0].DebugString();
}

TEST_P(FirewallRulesConformanceTest, UpdateErrors) {
  absl::StatusOr<Rule> a =
      rules().CreateRule(kSiteId, MakeRule("A", {"192.0.2.1"}));
  absl::StatusOr<Rule> b =
      rules().CreateRule(kSiteId, MakeRule("B", {"192.0.2.2"}));
  ASSERT_TRUE(a.ok() && b.ok());

  Rule gone = MakeRule("Gone", {"192.0.2.3"});
  gone.set_id("199999999999999999");
  EXPECT_EQ(rules().UpdateRule(kSiteId, gone).status().code(),
            absl::StatusCode::kNotFound);

  Rule rename = *b;
  rename.set_name("A");
  absl::StatusOr<Rule> clash = rules().UpdateRule(kSiteId, rename);
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists)
      << clash.status();

  Rule too_long = *a;
  too_long.set_name(std::string(201, 'x'));
  EXPECT_EQ(rules().UpdateRule(kSiteId, too_long).status().code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_THAT(Names(SiteRules(*observed, kSiteId)),
              ::testing::ElementsAre("B", "A"));
}

TEST_P(FirewallRulesConformanceTest, DeleteRemovesAndAbsentIsOk) {
  absl::StatusOr<Rule> a =
      rules().CreateRule(kSiteId, MakeRule("A", {"192.0.2.1"}));
  absl::StatusOr<Rule> b =
      rules().CreateRule(kSiteId, MakeRule("B", {"192.0.2.2"}));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(rules().DeleteRule(kSiteId, a->id()).ok());
  EXPECT_TRUE(rules().DeleteRule(kSiteId, a->id()).ok());  // again: absent
  EXPECT_TRUE(rules().DeleteRule(kSiteId, "199999999999999999").ok());
  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_THAT(Names(SiteRules(*observed, kSiteId)),
              ::testing::ElementsAre("B"));
}

TEST_P(FirewallRulesConformanceTest, InheritedRulesAreClassifiedAndKept) {
  Rule account = MakeRule("Account block", {"192.0.2.10"});
  account.set_scope(v1::RULE_SCOPE_ACCOUNT);
  const std::string account_id = backend().PutRule(kSiteId, account);
  Rule global = MakeRule("Global block", {"192.0.2.11"});
  global.set_scope(v1::RULE_SCOPE_GLOBAL);
  const std::string global_id = backend().PutRule(kSiteId, global);
  Rule other = MakeRule("Other site", {"192.0.2.12"});
  other.set_scope(v1::RULE_SCOPE_SITE);
  backend().PutRule(kOtherSite, other);
  Rule hand_made = MakeRule("Hand made", {"192.0.2.13"});
  hand_made.set_description("");
  hand_made.set_scope(v1::RULE_SCOPE_SITE);
  backend().PutRule(kSiteId, hand_made);

  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  ASSERT_EQ(observed->rules_size(), 3) << observed->DebugString();
  // Site rules first, then account, then global (evaluation order).
  EXPECT_EQ(observed->rules(0).name(), "Hand made");
  EXPECT_EQ(observed->rules(0).scope(), v1::RULE_SCOPE_SITE);
  EXPECT_EQ(observed->rules(0).scope_id(), kSiteId);
  EXPECT_EQ(observed->rules(1).id(), account_id);
  EXPECT_EQ(observed->rules(1).scope(), v1::RULE_SCOPE_ACCOUNT);
  EXPECT_EQ(observed->rules(1).scope_id(), kAccountId);
  EXPECT_EQ(observed->rules(2).id(), global_id);
  EXPECT_EQ(observed->rules(2).scope(), v1::RULE_SCOPE_GLOBAL);
  EXPECT_EQ(observed->rules(2).scope_id(), "");

  // A site-scoped delete never reaches an inherited rule.
  EXPECT_TRUE(rules().DeleteRule(kSiteId, account_id).ok());
  observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_EQ(observed->rules_size(), 3);

  // An inherited rule's name is free at site scope.
  EXPECT_TRUE(rules()
                  .CreateRule(kSiteId, MakeRule("Account block", {"192.0.2.1"}))
                  .ok());
}

TEST_P(FirewallRulesConformanceTest, EnforcesSentinelOneLimits) {
  Rule long_name = MakeRule(std::string(201, 'n'), {"192.0.2.1"});
  EXPECT_EQ(rules().CreateRule(kSiteId, long_name).status().code(),
            absl::StatusCode::kInvalidArgument);
  Rule max_name = MakeRule(std::string(200, 'n'), {"192.0.2.1"});
  EXPECT_TRUE(rules().CreateRule(kSiteId, max_name).ok());

  std::vector<std::string> values;
  for (int i = 0; i < 5000; ++i) {
    values.push_back(absl::StrCat("10.", i / 256, ".", i % 256, ".1"));
  }
  Rule full = MakeRule("Full", values);
  absl::StatusOr<Rule> created = rules().CreateRule(kSiteId, full);
  ASSERT_TRUE(created.ok()) << created.status();
  values.push_back("10.200.0.1");
  Rule over = MakeRule("Over", values);
  absl::StatusOr<Rule> refused = rules().CreateRule(kSiteId, over);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("5001"));

  EXPECT_EQ(rules()
                .CreateRule("199999999999999999", MakeRule("X", {"192.0.2.1"}))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  ASSERT_EQ(observed->rules_size(), 2);
  EXPECT_TRUE(SameRuleContent(observed->rules(0), full));
}

TEST_P(FirewallRulesConformanceTest, ReadsEveryRuleOfALargeSite) {
  constexpr int kRules = 2500;
  std::set<std::string> put;
  for (int i = 0; i < kRules; ++i) {
    Rule rule = MakeRule(absl::StrCat("Rule ", i), {"192.0.2.1"});
    rule.set_scope(v1::RULE_SCOPE_SITE);
    put.insert(backend().PutRule(kSiteId, rule));
  }
  absl::StatusOr<ObservedState> observed = rules().ReadSite(kSiteId);
  ASSERT_TRUE(observed.ok()) << observed.status();
  ASSERT_EQ(observed->rules_size(), kRules);
  std::set<std::string> read;
  for (const Rule& r : observed->rules()) read.insert(r.id());
  EXPECT_EQ(read, put);
  EXPECT_EQ(observed->rules(0).name(), absl::StrCat("Rule ", kRules - 1));
  EXPECT_EQ(observed->rules(kRules - 1).name(), "Rule 0");
}

}  // namespace tqs1::sentinelone

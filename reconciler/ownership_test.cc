#include "reconciler/ownership.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tqs1::reconciler {
namespace {

TEST(OwnershipTest, ManagedNameIndex) {
  struct Case {
    const char* name;
    std::optional<int> index;
  };
  const Case cases[] = {
      {"Known C2", 0},
      {"Known C2 (1)", 1},
      {"Known C2 (42)", 42},
      {"Known C2 (0)", std::nullopt},
      {"Known C2 (01)", std::nullopt},
      {"Known C2 ()", std::nullopt},
      {"Known C2 (1", std::nullopt},
      {"Known C2(1)", std::nullopt},
      {"Known C2 (x)", std::nullopt},
      {"known c2", std::nullopt},
      {"Known C2 Extra", std::nullopt},
      {"Known", std::nullopt},
      {"Known C2 (1) (2)", std::nullopt},
      {"Known C2 (9999999999)", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ManagedNameIndex("Known C2", c.name), c.index);
  }
  EXPECT_EQ(RuleName("Known C2", 0), "Known C2");
  EXPECT_EQ(RuleName("Known C2", 7), "Known C2 (7)");
}

TEST(OwnershipTest, Marker) {
  EXPECT_EQ(DescriptionWithMarker("Blocked by ThreatQ"),
            "Blocked by ThreatQ [managed by tqs1]");
  EXPECT_EQ(DescriptionWithMarker(""), "[managed by tqs1]");
  EXPECT_TRUE(HasOwnershipMarker("Blocked by ThreatQ [managed by tqs1]"));
  EXPECT_FALSE(HasOwnershipMarker("Blocked by ThreatQ"));
  EXPECT_FALSE(HasOwnershipMarker("[managed by tqs]"));
  // Contained, not only at the end: a console or an operator may add text.
  EXPECT_TRUE(HasOwnershipMarker("[managed by tqs1] Blocked by ThreatQ"));
  EXPECT_TRUE(HasOwnershipMarker("Blocked [managed by tqs1] (ticket 42)\n"));
}

TEST(OwnershipTest, CharacterCountCountsCodePoints) {
  EXPECT_EQ(CharacterCount("abc"), 3);
  EXPECT_EQ(CharacterCount("C2 \xC3\xA9t\xC3\xA9"), 6);  // "C2 été"
  EXPECT_EQ(CharacterCount("\xF0\x9F\x94\xA5"), 1);
}

TEST(OwnershipTest, OnlyTheSitesOwnRulesAreSiteRules) {
  tqs1::v1::ObservedState site;
  site.set_site_id("900000000000000001");
  struct Case {
    tqs1::v1::RuleScope scope;
    const char* scope_id;
    bool site_rule;
  };
  for (const Case& c :
       {Case{tqs1::v1::RULE_SCOPE_SITE, "", true},
        Case{tqs1::v1::RULE_SCOPE_SITE, "900000000000000001", true},
        Case{tqs1::v1::RULE_SCOPE_SITE, "900000000000000002", false},
        Case{tqs1::v1::RULE_SCOPE_ACCOUNT, "", false},
        Case{tqs1::v1::RULE_SCOPE_GROUP, "", false},
        Case{tqs1::v1::RULE_SCOPE_GLOBAL, "", false}}) {
    SCOPED_TRACE(absl::StrCat(c.scope, " ", c.scope_id));
    tqs1::v1::Rule rule;
    rule.set_scope(c.scope);
    rule.set_scope_id(c.scope_id);
    EXPECT_EQ(IsTargetRule(rule, site), c.site_rule);
  }
}

TEST(OwnershipTest, OnlyTheAccountsOwnRulesAreAnAccountsRules) {
  tqs1::v1::ObservedState account;
  account.set_site_id("700000000000000001");
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  EXPECT_EQ(TargetScope(account), tqs1::v1::RULE_SCOPE_ACCOUNT);
  struct Case {
    tqs1::v1::RuleScope scope;
    const char* scope_id;
    bool own;
  };
  for (const Case& c :
       {Case{tqs1::v1::RULE_SCOPE_ACCOUNT, "", true},
        Case{tqs1::v1::RULE_SCOPE_ACCOUNT, "700000000000000001", true},
        Case{tqs1::v1::RULE_SCOPE_ACCOUNT, "700000000000000002", false},
        Case{tqs1::v1::RULE_SCOPE_SITE, "700000000000000001", false},
        Case{tqs1::v1::RULE_SCOPE_GLOBAL, "", false}}) {
    SCOPED_TRACE(absl::StrCat(c.scope, " ", c.scope_id));
    tqs1::v1::Rule rule;
    rule.set_scope(c.scope);
    rule.set_scope_id(c.scope_id);
    EXPECT_EQ(IsTargetRule(rule, account), c.own);
  }
}

// The sync's account rule, seen from a site: the sync's, not the site's; a
// global one too, seen from a site or an account.
TEST(OwnershipTest, AnInheritedRuleOfTheSyncIsKnownAsSuch) {
  tqs1::v1::ObservedState site;
  site.set_site_id("900000000000000001");
  tqs1::v1::Rule rule;
  rule.set_name("C2 (1)");
  rule.set_description(DescriptionWithMarker("Blocked"));
  rule.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  rule.set_scope_id("700000000000000001");
  EXPECT_TRUE(IsInheritedSyncRule(rule, site, "C2"));
  EXPECT_FALSE(IsManagedRule(rule, site, "C2"));
  EXPECT_FALSE(IsInheritedSyncRule(rule, site, "Scanners"));
  tqs1::v1::Rule unmarked = rule;
  unmarked.set_description("Blocked");
  EXPECT_FALSE(IsInheritedSyncRule(unmarked, site, "C2"));
  tqs1::v1::Rule global = rule;
  global.set_scope(tqs1::v1::RULE_SCOPE_GLOBAL);
  global.clear_scope_id();
  EXPECT_TRUE(IsInheritedSyncRule(global, site, "C2"));
  // From the account itself it is its own, managed rule.
  tqs1::v1::ObservedState account = site;
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  account.set_site_id("700000000000000001");
  EXPECT_FALSE(IsInheritedSyncRule(rule, account, "C2"));
  EXPECT_TRUE(IsManagedRule(rule, account, "C2"));
  EXPECT_TRUE(IsInheritedSyncRule(global, account, "C2"));
  // From the global scope, it is its own.
  tqs1::v1::ObservedState top;
  top.set_scope(tqs1::v1::RULE_SCOPE_GLOBAL);
  EXPECT_FALSE(IsInheritedSyncRule(global, top, "C2"));
  EXPECT_TRUE(IsManagedRule(global, top, "C2"));
  EXPECT_FALSE(IsInheritedSyncRule(rule, top, "C2"));
  // A group inherits its site's rules, its account's and the global ones;
  // its own rules are no one else's cover.
  tqs1::v1::ObservedState group;
  group.set_scope(tqs1::v1::RULE_SCOPE_GROUP);
  group.set_site_id("1827364554637281901");
  tqs1::v1::Rule site_rule = rule;
  site_rule.set_scope(tqs1::v1::RULE_SCOPE_SITE);
  site_rule.set_scope_id("900000000000000001");
  for (const tqs1::v1::Rule* above : {&site_rule, &rule, &global}) {
    EXPECT_TRUE(IsInheritedSyncRule(*above, group, "C2")) << above->scope();
  }
  tqs1::v1::Rule group_rule = rule;
  group_rule.set_scope(tqs1::v1::RULE_SCOPE_GROUP);
  group_rule.set_scope_id("1827364554637281901");
  EXPECT_FALSE(IsInheritedSyncRule(group_rule, group, "C2"));
  EXPECT_TRUE(IsManagedRule(group_rule, group, "C2"));
  EXPECT_FALSE(IsInheritedSyncRule(group_rule, site, "C2"));
  EXPECT_FALSE(IsInheritedSyncRule(site_rule, site, "C2"));
}

}  // namespace
}  // namespace tqs1::reconciler

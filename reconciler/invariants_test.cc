#include "reconciler/invariants.h"

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/address.h"
#include "testing/site_model.h"

namespace tqs1::reconciler {
namespace {

using ::testing::ElementsAreArray;
using testing::ForeignRule;
using testing::ManagedRule;
using testing::Site;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

constexpr char kCollection[] = "C2";

std::set<IpPrefix> Prefixes(const std::vector<std::string>& values) {
  std::set<IpPrefix> out;
  for (const std::string& v : values) out.insert(*ParseIpPrefix(v));
  return out;
}

Rule Inherited(const std::string& id, const std::string& name) {
  Rule rule = ManagedRule(id, name, {"198.51.100.9"});
  rule.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  rule.set_scope_id("700000000000000001");
  return rule;
}

struct Case {
  std::string name;
  std::vector<Rule> before;
  std::vector<Rule> after;
  std::vector<std::string> wanted;
  std::vector<std::string> violations;
};

TEST(InvariantsTest, OneLinePerBrokenInvariant) {
  const Rule foreign = ForeignRule("300", "Allow backups", {"192.0.2.9"});
  Rule foreign_edited = foreign;
  foreign_edited.set_description("edited");
  Rule unmarked = ManagedRule("1", "C2", {"192.0.2.1"}, /*marked=*/false);
  const std::vector<Case> cases = {
      // Holds: an address moves to a new rule before leaving its old one;
      // an unwanted one is dropped; foreign and inherited rules stay.
      {"holds while addresses move",
       {ManagedRule("1", "C2", {"192.0.2.1", "192.0.2.2", "192.0.2.3"}),
        foreign, Inherited("400", "C2 (1)")},
       {ManagedRule("1", "C2", {"192.0.2.1"}),
        ManagedRule("2", "C2 (2)", {"192.0.2.2"}), foreign,
        Inherited("400", "C2 (1)")},
       {"192.0.2.1", "192.0.2.2"},
       {}},
      // Names.
      {"two site rules of one name",
       {ManagedRule("1", "C2", {"192.0.2.1"})},
       {ManagedRule("1", "C2", {"192.0.2.1"}),
        ManagedRule("2", "C2", {"192.0.2.2"})},
       {},
       {"two rules are named \"C2\""}},
      {"a new rule named like an inherited one",
       {Inherited("400", "C2 (1)")},
       {Inherited("400", "C2 (1)"), ManagedRule("2", "C2 (1)", {"192.0.2.2"})},
       {},
       {"rule \"C2 (1)\" has the name of an inherited rule"}},
      {"a rule that already shared an inherited rule's name is written",
       {Inherited("400", "C2 (1)"), ManagedRule("2", "C2 (1)", {"192.0.2.2"})},
       {Inherited("400", "C2 (1)"), ManagedRule("2", "C2 (1)", {})},
       {},
       {}},
      {"a new rule named like a foreign one but for case",
       {ForeignRule("300", "c2 (1)", {"192.0.2.9"})},
       {ForeignRule("300", "c2 (1)", {"192.0.2.9"}),
        ManagedRule("2", "C2 (1)", {"192.0.2.2"})},
       {},
       {"rule \"C2 (1)\" (id 2) has the name of another rule of the site, "
        "ignoring case"}},
      {"two foreign rules of one name but for case, left as they were",
       {ForeignRule("300", "Scanners", {"192.0.2.9"}),
        ForeignRule("301", "SCANNERS", {"192.0.2.8"})},
       {ForeignRule("300", "Scanners", {"192.0.2.9"}),
        ForeignRule("301", "SCANNERS", {"192.0.2.8"}),
        ManagedRule("2", "C2 (1)", {"192.0.2.2"})},
       {},
       {}},
      // Ownership.
      {"a foreign rule changed",
       {foreign},
       {foreign_edited},
       {},
       {"foreign rule \"Allow backups\" (id 300) was changed"}},
      {"a foreign rule deleted",
       {foreign},
       {},
       {},
       {"foreign rule 300 was deleted"}},
      {"a conflict (unmarked scheme name) changed",
       {unmarked},
       {ManagedRule("1", "C2", {}, /*marked=*/false)},
       {},
       {"foreign rule \"C2\" (id 1) was changed"}},
      {"a conflict takes the marker",
       {unmarked},
       {ManagedRule("1", "C2", {"192.0.2.1"})},
       {},
       {"foreign rule \"C2\" (id 1) was changed"}},
      {"a rule appears that is not tqs1's",
       {},
       {ManagedRule("2", "C2 (1)", {"192.0.2.2"}, /*marked=*/false)},
       {},
       {"rule \"C2 (1)\" (id 2) appeared without being tqs1's"}},
      {"a managed rule loses its marker",
       {ManagedRule("1", "C2", {"192.0.2.1"})},
       {unmarked},
       {},
       {"rule \"C2\" (id 1) lost tqs1's marker or name scheme"}},
      // The per-rule limit (3 here).
      {"a rule written over the limit",
       {ManagedRule("1", "C2", {"192.0.2.1"})},
       {ManagedRule("1", "C2",
                    {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
       {},
       {"rule \"C2\" holds 4 entries, over the limit of 3"}},
      {"a rule over the limit left as it was",
       {ManagedRule("1", "C2",
                    {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
       {ManagedRule("1", "C2",
                    {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}),
        ManagedRule("2", "C2 (1)", {"192.0.2.5"})},
       {},
       {}},
      // IPv4 and IPv6 never share a rule.
      {"a rule written with both families",
       {ManagedRule("1", "C2", {"192.0.2.1"})},
       {ManagedRule("1", "C2", {"192.0.2.1", "2001:db8::1"})},
       {},
       {"rule \"C2\" (id 1) holds both IPv4 and IPv6 entries"}},
      {"a rule created with both families",
       {},
       {ManagedRule("2", "C2 (1)", {"2001:db8::/64", "192.0.2.0/24"})},
       {},
       {"rule \"C2 (1)\" (id 2) holds both IPv4 and IPv6 entries"}},
      {"a rule that held both families left as it was",
       {ManagedRule("1", "C2", {"192.0.2.1", "2001:db8::1"})},
       {ManagedRule("1", "C2", {"192.0.2.1", "2001:db8::1"}),
        ManagedRule("2", "C2 (1)", {"192.0.2.5"})},
       {},
       {}},
      {"a foreign rule holding both families is not tqs1's business",
       {ForeignRule("300", "Mixed", {"192.0.2.9", "2001:db8::9"})},
       {ForeignRule("300", "Mixed", {"192.0.2.9", "2001:db8::9"})},
       {},
       {}},
      // No unblock window.
      {"a wanted address unblocked",
       {ManagedRule("1", "C2", {"192.0.2.1", "192.0.2.2"})},
       {ManagedRule("1", "C2", {"192.0.2.2"})},
       {"192.0.2.1", "192.0.2.2"},
       {"wanted address 192.0.2.1 was unblocked after being blocked"}},
      {"a wanted address unblocked with its rule",
       {ManagedRule("1", "C2", {"2001:db8::1"})},
       {},
       {"2001:db8::1"},
       {"wanted address 2001:db8::1 was unblocked after being blocked"}},
      {"a wanted address only a foreign rule blocked",
       {foreign},
       {foreign, ManagedRule("1", "C2", {"192.0.2.1"})},
       {"192.0.2.9"},
       {}},
      {"a wanted address written in another form in its new rule",
       {ManagedRule("1", "C2", {"2001:db8::1"})},
       {ManagedRule("2", "C2 (1)", {"2001:DB8:0::1"})},
       {"2001:db8::1"},
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(Violations(Site(c.before), Site(c.after), Prefixes(c.wanted),
                           {kCollection, /*max_per_rule=*/3}),
                ElementsAreArray(c.violations));
  }
}

TEST(InvariantsTest, EveryBrokenInvariantIsReportedInOneCall) {
  const ObservedState before =
      Site({ManagedRule("1", "C2", {"192.0.2.1"}),
            ForeignRule("300", "Allow backups", {"192.0.2.9"})});
  const ObservedState after =
      Site({ManagedRule("2", "C2 (1)",
                        {"192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"}),
            ForeignRule("301", "C2 (1)", {})});
  EXPECT_THAT(
      Violations(before, after, Prefixes({"192.0.2.1"}), {kCollection, 3}),
      ElementsAreArray({
          "rule \"C2 (1)\" holds 4 entries, over the limit of 3",
          "two rules are named \"C2 (1)\"",
          "rule \"C2 (1)\" (id 301) appeared without being "
          "tqs1's",
          "foreign rule 300 was deleted",
          "wanted address 192.0.2.1 was unblocked after being "
          "blocked",
      }));
}

TEST(InvariantsTest, WantedPrefixesParsesOrSaysWhichDoesNot) {
  absl::StatusOr<std::set<IpPrefix>> wanted =
      WantedPrefixes({"192.0.2.1", "2001:db8::/64"});
  ASSERT_TRUE(wanted.ok()) << wanted.status();
  EXPECT_EQ(*wanted, Prefixes({"192.0.2.1", "2001:db8::/64"}));
  absl::StatusOr<std::set<IpPrefix>> bad =
      WantedPrefixes({"192.0.2.1", "192.0.2.300"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(bad.status().message()),
      ::testing::StartsWith("wanted address \"192.0.2.300\" does not parse: "));
}

TEST(InvariantsTest, ManagedMeansSiteRuleSchemeNameAndMarker) {
  const ObservedState site = Site({});
  EXPECT_TRUE(IsManagedRule(ManagedRule("1", "C2 (4)", {}), site, "C2"));
  EXPECT_FALSE(
      IsManagedRule(ManagedRule("1", "C2 (4)", {}, false), site, "C2"));
  EXPECT_FALSE(IsManagedRule(ManagedRule("1", "C2 (04)", {}), site, "C2"));
  EXPECT_FALSE(IsManagedRule(Inherited("1", "C2"), site, "C2"));
  Rule other_site = ManagedRule("1", "C2", {});
  other_site.set_scope_id("900000000000000002");
  EXPECT_FALSE(IsManagedRule(other_site, site, "C2"));
}

}  // namespace
}  // namespace tqs1::reconciler

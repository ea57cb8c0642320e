#include "reconciler/planner.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "reconciler/fingerprint.h"
#include "reconciler/ownership.h"
#include "testing/site_model.h"

namespace tqs1::reconciler {
namespace {

using testing::ActionsText;
using testing::Desired;
using testing::Entries;
using testing::ForeignRule;
using testing::ManagedRule;
using testing::Site;
using testing::SiteModel;
using ::tqs1::v1::DesiredState;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Plan;
using ::tqs1::v1::PlanOptions;
using ::tqs1::v1::Rule;

// n distinct IPv4 addresses starting at 10.0.0.0 + first.
std::vector<std::string> Ips(int n, int first = 0) {
  std::vector<std::string> out;
  out.reserve(n);
  for (int k = first; k < first + n; ++k) {
    out.push_back(absl::StrCat("10.", (k >> 16) & 255, ".", (k >> 8) & 255, ".",
                               k & 255));
  }
  return out;
}

std::vector<std::string> Concat(std::vector<std::string> a,
                                const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

PlanOptions Cap(int cap) {
  PlanOptions options;
  options.set_max_addresses_per_rule(cap);
  return options;
}

std::vector<std::string> Strings(
    const google::protobuf::RepeatedPtrField<std::string>& v) {
  return {v.begin(), v.end()};
}

// The table: small rules (cap 3 unless stated) keep the cases readable.
struct Case {
  std::string name;
  std::vector<std::string> desired;
  std::vector<Rule> rules;
  std::string actions;  // ActionsText of the plan
  PlanOptions options = Cap(3);
};

TEST(ComputePlanTest, Table) {
  const std::vector<Case> cases = {
      {"fresh site, fits one rule: the bare collection name",
       {"192.0.2.1", "192.0.2.2"},
       {},
       "+ create C +2"},
      {"fresh site, several rules: numbered from 1",
       Ips(7),
       {},
       "+ create C (1) +3\n+ create C (2) +3\n+ create C (3) +1"},
      {"in sync: no actions",
       Ips(4),
       {ManagedRule("1", "C (1)", Ips(3)),
        ManagedRule("2", "C (2)", Ips(1, 3))},
       ""},
      {"in sync whatever the entries' text and order",
       {"2001:db8::1", "2001:db8::2"},
       {ManagedRule("1", "C", {"2001:DB8:0::2", "2001:db8::1"})},
       ""},
      {"a rule holding both families keeps IPv4 on a tie, moves IPv6 first",
       {"2001:db8::1", "192.0.2.1"},
       {ManagedRule("1", "C", {"2001:DB8:0::1", "192.0.2.1"})},
       "+ create C (1) +1\n~ update C -1"},
      {"a rule holding both families keeps its majority family",
       {"2001:db8::1", "2001:db8::2", "192.0.2.1"},
       {ManagedRule("1", "C", {"2001:db8::1", "192.0.2.1", "2001:db8::2"})},
       "+ create C (1) +1\n~ update C -1"},
      {"fresh site, both families: one rule each, IPv4 first",
       {"2001:db8::1", "192.0.2.1", "192.0.2.2"},
       {},
       "+ create C (1) +2\n+ create C (2) +1"},
      {"new addresses go only into rules of their family",
       {"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"},
       {ManagedRule("1", "C (1)", {"192.0.2.1"}),
        ManagedRule("2", "C (2)", {"2001:db8::1"})},
       "~ update C (1) +1\n~ update C (2) +1"},
      {"growth of one family never fills the other family's rule",
       {"192.0.2.1", "192.0.2.2", "2001:db8::1"},
       {ManagedRule("1", "C (1)", {"2001:db8::1"})},
       "+ create C (2) +2"},
      {"moved prefixes go into a rule that sheds nothing, which runs first",
       Concat(Ips(2), {"2001:db8::1", "2001:db8::2", "2001:db8::3"}),
       {ManagedRule("1", "C (1)", Concat(Ips(2), {"2001:db8::1"})),
        ManagedRule("2", "C (2)",
                    {"2001:db8::2", "2001:db8::3", "2001:db8::99"})},
       "~ update C (2) +1 -1\n~ update C (1) -1"},
      {"a rule that sheds takes only prefixes nobody shed",
       Concat(Ips(3), {"2001:db8::1", "2001:db8::2"}),
       {ManagedRule("1", "C (1)", {"10.0.0.0", "10.0.0.1", "2001:db8::1"}),
        ManagedRule("2", "C (2)", {"2001:db8::2", "10.0.0.99"})},
       "~ update C (2) +1 -1\n~ update C (1) +1 -1"},
      {"two mixed rules trade nothing: what each sheds goes to a new rule",
       {"10.0.0.0", "10.0.0.1", "2001:db8::1", "2001:db8::2", "10.0.0.2",
        "2001:db8::3"},
       {ManagedRule("1", "C (1)", {"10.0.0.0", "10.0.0.1", "2001:db8::1"}),
        ManagedRule("2", "C (2)", {"2001:db8::2", "2001:db8::3", "10.0.0.2"})},
       "+ create C (3) +1\n+ create C (4) +1\n~ update C (1) -1\n"
       "~ update C (2) -1"},
      {"a duplicate in a rule of the right family stays where it is",
       {"10.0.0.0", "10.0.0.1", "2001:db8::1", "2001:db8::2"},
       {ManagedRule("1", "C (1)", {"10.0.0.0", "10.0.0.1", "2001:db8::1"}),
        ManagedRule("2", "C (2)", {"2001:db8::2", "2001:db8::1"})},
       "~ update C (1) -1"},
      {"a duplicate in a rule of the other family is removed",
       {"10.0.0.0", "10.0.0.1", "2001:db8::1"},
       {ManagedRule("1", "C (1)", {"10.0.0.0", "2001:db8::1"}),
        ManagedRule("2", "C (2)", {"10.0.0.1", "2001:db8::1"})},
       "+ create C (3) +1\n~ update C (1) -1\n~ update C (2) -1"},
      {"a rewritten rule that keeps nothing takes the family that needs room",
       {"10.0.0.0", "10.0.0.1", "10.0.0.2", "2001:db8::1"},
       {ManagedRule("1", "C (1)", {"10.0.0.99"}),
        ManagedRule("2", "C (2)", {"10.0.0.0", "10.0.0.1", "10.0.0.2"})},
       "~ update C (1) +1 -1"},
      {"growth: a full rule stays, the rest goes to a new rule",
       Ips(5),
       {ManagedRule("1", "C", Ips(3))},
       "+ create C (1) +2"},
      {"growth: the partial chunk goes into the fullest rule that fits it",
       Ips(10),
       {ManagedRule("1", "C (1)", Ips(3)), ManagedRule("2", "C (2)", Ips(1, 3)),
        ManagedRule("3", "C (3)", Ips(2, 4))},
       "+ create C (4) +3\n~ update C (3) +1"},
      {"additions fill a rule being rewritten before anything else",
       Concat(Ips(3), Ips(2, 10)),
       {ManagedRule("1", "C (1)", Ips(3)),
        ManagedRule("2", "C (2)", {"10.0.0.100", "10.0.0.10"})},
       "~ update C (2) +1 -1"},
      {"shrink: an emptied rule is deleted, last",
       Ips(3),
       {ManagedRule("1", "C (1)", Ips(3)),
        ManagedRule("2", "C (2)", Ips(2, 3))},
       "- delete C (2) -2"},
      {"shrink: partial removal updates in place",
       {"10.0.0.0", "10.0.0.2"},
       {ManagedRule("1", "C", Ips(3))},
       "~ update C -1"},
      {"order: updates that add, then updates that only remove or fix, "
       "then deletes",
       Concat(Ips(3), {"10.0.0.100"}),
       {[] {
          Rule r = ManagedRule("1", "C (1)", Ips(3));
          r.set_direction(tqs1::v1::DIRECTION_INBOUND);
          return r;
        }(),
        ManagedRule("2", "C (2)", {"10.0.0.50"}),
        ManagedRule("3", "C (3)", {"10.0.0.70"})},
       "~ update C (2) +1 -1\n~ update C (1)\n- delete C (3) -1"},
      {"order: creates first",
       Concat(Ips(3), Ips(4, 100)),
       {[] {
          Rule r = ManagedRule("1", "C (1)", Ips(3));
          r.set_direction(tqs1::v1::DIRECTION_INBOUND);
          return r;
        }(),
        ManagedRule("2", "C (2)", {"10.0.0.50"})},
       "+ create C (3) +1\n~ update C (2) +3 -1\n~ update C (1)"},
      {"a foreign rule with a managed name is a conflict; its name is skipped",
       Ips(4),
       {ForeignRule("9", "C (1)", {"203.0.113.9"})},
       "+ create C (2) +3\n+ create C (3) +1"},
      {"a foreign rule named like the collection keeps new rules numbered",
       Ips(2),
       {ForeignRule("9", "C", {"203.0.113.9"})},
       "+ create C (1) +2"},
      {"a legacy unmarked rule without adoption: conflict, untouched",
       Ips(2),
       {ManagedRule("1", "C", Ips(2), /*marked=*/false)},
       "+ create C (1) +2"},
      {"other rules are never touched",
       Ips(1),
       {ForeignRule("7", "Allow backups", {"10.0.0.0"}),
        ForeignRule("8", "C2 list", {"10.0.0.0"})},
       "+ create C +1"},
      {"duplicate entries across and within managed rules are removed",
       Ips(3),
       {ManagedRule("1", "C (1)", {"10.0.0.0", "10.0.0.1", "10.0.0.0"}),
        ManagedRule("2", "C (2)", {"10.0.0.1", "10.0.0.2"})},
       "~ update C (1) -1\n~ update C (2) -1"},
      {"entries that are not addresses are removed",
       Ips(1),
       {[] {
         Rule r = ManagedRule("1", "C", Ips(1));
         tqs1::v1::HostSet* fqdn = r.add_remote_hosts();
         fqdn->set_type("fqdn");
         fqdn->add_values("evil.example");
         return r;
       }()},
       "~ update C -1"},
      {"a rule over the limit sheds its excess into other rules first",
       Ips(5),
       {ManagedRule("1", "C", Ips(5))},
       "+ create C (1) +2\n~ update C -2"},
      {"settings drift rewrites a rule, which then takes additions first",
       Ips(5),
       {ManagedRule("1", "C (1)", Ips(2)),
        [] {
          Rule r = ManagedRule("2", "C (2)", Ips(1, 2));
          r.set_direction(tqs1::v1::DIRECTION_INBOUND);
          return r;
        }()},
       "~ update C (2) +2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Plan> plan =
        ComputePlan(Desired("C", c.desired), Site(c.rules), c.options);
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(ActionsText(*plan), c.actions);
    EXPECT_EQ(plan->summary().in_sync(), c.actions.empty());
    EXPECT_FALSE(plan->summary().blocked());

    // Replaying the plan converges: planning again finds nothing to do.
    SiteModel site(Site(c.rules));
    ASSERT_TRUE(site.ApplyAll(*plan).ok());
    absl::StatusOr<Plan> again =
        ComputePlan(Desired("C", c.desired), site.state(), c.options);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(ActionsText(*again), "");
  }
}

TEST(ComputePlanTest, CreateCarriesTemplateAndMarker) {
  DesiredState desired = Desired("Known C2 IPs", {"198.51.100.7", "::2/127"});
  desired.mutable_sync()->mutable_rule()->set_direction(
      tqs1::v1::DIRECTION_OUTBOUND);
  desired.mutable_sync()->mutable_rule()->add_os_types(tqs1::v1::OS_TYPE_LINUX);
  desired.mutable_sync()->mutable_rule()->set_enabled(false);
  absl::StatusOr<Plan> plan = ComputePlan(desired, Site({}), {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  // IPv4 and IPv6 never share a rule: two creates, IPv4 first.
  ASSERT_EQ(plan->actions_size(), 2);
  const tqs1::v1::Action& a = plan->actions(0);
  EXPECT_EQ(a.settings().name(), "Known C2 IPs (1)");
  EXPECT_EQ(a.family(), tqs1::v1::ADDRESS_FAMILY_IPV4);
  EXPECT_EQ(a.settings().description(), "Blocked by ThreatQ [managed by tqs1]");
  EXPECT_EQ(a.settings().action(), tqs1::v1::RULE_ACTION_BLOCK);
  EXPECT_FALSE(a.settings().enabled());
  EXPECT_EQ(a.settings().direction(), tqs1::v1::DIRECTION_OUTBOUND);
  ASSERT_EQ(a.settings().os_types_size(), 1);
  EXPECT_EQ(Strings(a.add()), (std::vector<std::string>{"198.51.100.7"}));
  EXPECT_EQ(a.reasons(0), "new rule for 1 address");
  const tqs1::v1::Action& v6 = plan->actions(1);
  EXPECT_EQ(v6.settings().name(), "Known C2 IPs (2)");
  EXPECT_EQ(v6.family(), tqs1::v1::ADDRESS_FAMILY_IPV6);
  EXPECT_EQ(Strings(v6.add()), (std::vector<std::string>{"::2/127"}));
  EXPECT_EQ(v6.settings().description(), a.settings().description());
  EXPECT_EQ(plan->sync_name(), "Known C2 IPs -> HQ");
}

// Every action says the family its rule holds; inside each phase IPv4
// actions run before IPv6 actions.
TEST(ComputePlanTest, ActionsCarryTheirFamilyIPv4First) {
  ObservedState site = Site(
      {ManagedRule("1", "C (1)", {"2001:db8::1", "2001:db8::9"}),
       ManagedRule("2", "C (2)", {"10.0.0.1", "10.0.0.9"}),
       ManagedRule("3", "C (3)", {"2001:db8::5"}),
       ManagedRule("4", "C (4)", {"10.0.0.5"}),
       ManagedRule("5", "C (5)", {"2001:db8::7", "2001:db8::8", "10.0.0.7"})});
  absl::StatusOr<Plan> plan = ComputePlan(
      Desired("C", {"2001:db8::1", "2001:db8::2", "10.0.0.1", "10.0.0.2",
                    "2001:db8::7", "2001:db8::8", "10.0.0.7"}),
      site, Cap(3));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan),
            "~ update C (2) +2 -1\n~ update C (1) +1 -1\n~ update C (5) -1\n"
            "- delete C (4) -1\n- delete C (3) -1");
  std::vector<tqs1::v1::AddressFamily> families;
  for (const tqs1::v1::Action& a : plan->actions()) {
    families.push_back(a.family());
  }
  EXPECT_EQ(families,
            (std::vector<tqs1::v1::AddressFamily>{
                tqs1::v1::ADDRESS_FAMILY_IPV4, tqs1::v1::ADDRESS_FAMILY_IPV6,
                tqs1::v1::ADDRESS_FAMILY_IPV6, tqs1::v1::ADDRESS_FAMILY_IPV4,
                tqs1::v1::ADDRESS_FAMILY_IPV6}));
  EXPECT_EQ(plan->actions(2).reasons(0),
            "moves 1 IPv4 address to IPv4 rules (IPv4 and IPv6 never share a "
            "rule)");
}

// A console that normalizes what it stores must not make every run rewrite
// every rule: a managed rule already right modulo trimmed description, OS
// types as a set and entries as parsed prefixes needs no action.
TEST(ComputePlanTest, DriftConvergesModuloNormalization) {
  struct DriftCase {
    std::string name;
    std::function<void(Rule&)> edit;
    bool ipv4_rule = false;  // edits the IPv4 rule, else the IPv6 one
  };
  const std::vector<DriftCase> cases = {
      {"description with surrounding whitespace",
       [](Rule& r) {
         r.set_description(absl::StrCat("  ", r.description(), " \n"));
       }},
      {"OS types in another order, repeated",
       [](Rule& r) {
         std::vector<int> os(r.os_types().begin(), r.os_types().end());
         std::reverse(os.begin(), os.end());
         os.push_back(os.front());
         r.mutable_os_types()->Assign(os.begin(), os.end());
       }},
      {"a host address written as a /32",
       [](Rule& r) { r.mutable_remote_hosts(0)->set_values(0, "10.0.0.2/32"); },
       true},
      {"IPv6 in capitals and uncompressed",
       [](Rule& r) {
         r.mutable_remote_hosts(0)->set_values(1, "2001:0DB8:0:0:0:0:0:A");
       }},
      {"entries with surrounding whitespace",
       [](Rule& r) {
         r.mutable_remote_hosts(0)->set_values(2, " 2001:db8::b ");
       }},
  };
  const std::vector<std::string> v4 = {"10.0.0.1", "10.0.0.2"};
  const std::vector<std::string> v6 = {"2001:db8::c", "2001:db8::a",
                                       "2001:db8::b"};
  for (const DriftCase& c : cases) {
    SCOPED_TRACE(c.name);
    Rule one = ManagedRule("1", "C (1)", {"10.0.0.2", "10.0.0.1"});
    Rule two = ManagedRule("2", "C (2)", v6);
    c.edit(c.ipv4_rule ? one : two);
    absl::StatusOr<Plan> plan =
        ComputePlan(Desired("C", Concat(v4, v6)), Site({one, two}), {});
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(ActionsText(*plan), "");
    EXPECT_TRUE(plan->summary().in_sync());
  }
  // The same edits that do change something are still drift.
  Rule edited = ManagedRule("1", "C", {"10.0.0.1"});
  edited.set_description("Blocked by ThreatQ  [managed by tqs1]");
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired("C", {"10.0.0.1"}), Site({edited}), {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan), "~ update C");
  EXPECT_EQ(plan->actions(0).reasons(0), "description differs");
  Rule fewer_os = ManagedRule("1", "C", {"10.0.0.1"});
  fewer_os.mutable_os_types()->RemoveLast();
  plan = ComputePlan(Desired("C", {"10.0.0.1"}), Site({fewer_os}), {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan), "~ update C");
  EXPECT_EQ(plan->actions(0).reasons(0), "OS types differ");
}

// The marker is found anywhere in the description: a console (or an
// operator) that adds text after it does not turn the rule into a conflict.
TEST(ComputePlanTest, OwnershipMarkerIsFoundAnywhereInTheDescription) {
  Rule rule = ManagedRule("1", "C", {"10.0.0.1"});
  rule.set_description("Blocked by ThreatQ [managed by tqs1] (see ticket 42)");
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired("C", {"10.0.0.1"}), Site({rule}), {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->conflicts_size(), 0);
  EXPECT_EQ(plan->observed().managed(), 1u);
  // Managed, so its description is put back (one visible write).
  EXPECT_EQ(ActionsText(*plan), "~ update C");
}

TEST(ComputePlanTest, DisabledRuleStaysDisabled) {
  // Disabling a managed rule in the console is an emergency brake that a
  // description fix must not undo.
  Rule rule = ManagedRule("1", "C", Ips(2));
  rule.set_enabled(false);
  rule.set_description("edited [managed by tqs1]");
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired("C", Ips(2)), Site({rule}), {});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->actions_size(), 1);
  EXPECT_FALSE(plan->actions(0).settings().enabled());
  EXPECT_EQ(plan->actions(0).reasons(0), "description differs");
}

// Rules of this sync that tqs1 cannot manage safely stop the plan: left
// alone, each would be recreated (a new "(n)" rule) on every run.
TEST(ComputePlanTest, UnmanageableRulesOfTheSyncBlockThePlan) {
  Rule no_scope = ManagedRule("1", "C (1)", Ips(2));
  no_scope.set_scope(tqs1::v1::RULE_SCOPE_UNSPECIFIED);
  Rule unreadable = ManagedRule("2", "C (2)", {});
  unreadable.set_unreadable("field \"values[]\" should be a string, got null");
  Rule read_only = ManagedRule("3", "C (3)", Ips(2));
  read_only.set_read_only(true);
  Rule other_site = ManagedRule("31", "C (4)", Ips(2));
  other_site.set_scope_id("999");
  // An account rule of the sync is inherited, not ambiguous.
  Rule account = ManagedRule("6", "C (5)", Ips(2));
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  account.set_scope_id("77");
  // Someone else's odd rules are no reason to stop.
  Rule foreign = ForeignRule("4", "Scanners", {"192.0.2.9"});
  foreign.set_unreadable("odd");
  Rule foreign_read_only = ForeignRule("5", "Other", {"192.0.2.8"});
  foreign_read_only.set_read_only(true);
  const std::vector<Rule> rules = {no_scope,   unreadable, read_only,
                                   other_site, foreign,    foreign_read_only,
                                   account};
  for (const Rule& rule : rules) {
    SCOPED_TRACE(rule.id());
    const bool blocks = rule.id() == "1" || rule.id() == "2" ||
                        rule.id() == "3" || rule.id() == "31";
    absl::StatusOr<Plan> plan =
        ComputePlan(Desired("C", Ips(2)), Site({rule}), {});
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(plan->summary().blocked(), blocks);
    if (!blocks) {
      EXPECT_EQ(plan->conflicts_size(), 0);
      continue;
    }
    ASSERT_EQ(plan->conflicts_size(), 1);
    EXPECT_TRUE(plan->conflicts(0).blocks());
    EXPECT_EQ(plan->conflicts(0).rule_id(), rule.id());
    ASSERT_GE(plan->guards_size(), 1);
    const tqs1::v1::GuardVerdict& guard = plan->guards(plan->guards_size() - 1);
    EXPECT_EQ(guard.guard(), "unmanageable-rule");
    EXPECT_TRUE(guard.tripped());
    EXPECT_FALSE(guard.overridden());
  }
}

tqs1::v1::FirewallConfiguration Firewall(bool known, bool enabled,
                                         const std::string& inherited_from,
                                         bool inherits_rules) {
  tqs1::v1::FirewallConfiguration firewall;
  firewall.set_known(known);
  firewall.set_enabled(enabled);
  firewall.set_inherited_from(inherited_from);
  firewall.set_inherits_rules(inherits_rules);
  return firewall;
}

// Firewall Control disabled for the site: rules written there are not
// enforced, so the plan stops unless overridden; an unknown configuration
// (a source that does not say) is not disabled.
TEST(ComputePlanTest, FirewallDisabledGuard) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(2))});
  *site.mutable_firewall() = Firewall(true, false, "", false);
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(3)), site, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan), "~ update C +1");
  EXPECT_TRUE(plan->summary().blocked());
  ASSERT_EQ(plan->guards_size(), 3);
  const tqs1::v1::GuardVerdict& guard = plan->guards(2);
  EXPECT_EQ(guard.guard(), "firewall-disabled");
  EXPECT_TRUE(guard.tripped());
  EXPECT_FALSE(guard.overridden());
  EXPECT_EQ(guard.message(),
            "Firewall Control is disabled for site \"HQ\" (id "
            "900000000000000001) (Firewall Control configuration, enabled: "
            "false): rules written there are not enforced; enable Firewall "
            "Control for the site, or override with --allow-disabled-firewall");
  EXPECT_TRUE(plan->observed().firewall().known());
  EXPECT_FALSE(plan->observed().firewall().enabled());

  PlanOptions allow;
  allow.set_allow_disabled_firewall(true);
  plan = ComputePlan(Desired("C", Ips(3)), site, allow);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->summary().blocked());
  ASSERT_EQ(plan->guards_size(), 3);
  EXPECT_TRUE(plan->guards(2).tripped());
  EXPECT_TRUE(plan->guards(2).overridden());
  EXPECT_TRUE(plan->options().allow_disabled_firewall());

  // Enabled, or not known: no verdict, not blocked.
  for (const tqs1::v1::FirewallConfiguration& firewall :
       {Firewall(true, true, "", false), Firewall(false, false, "", false)}) {
    SCOPED_TRACE(firewall.DebugString());
    *site.mutable_firewall() = firewall;
    plan = ComputePlan(Desired("C", Ips(3)), site, {});
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_FALSE(plan->summary().blocked());
    EXPECT_EQ(plan->guards_size(), 2);
    EXPECT_EQ(plan->observed().firewall().DebugString(),
              firewall.DebugString());
    EXPECT_EQ(plan->observed().warnings_size(), 0);
  }
}

// A site that inherits its parent's firewall policy, or all its rules: a
// warning line each, never a guard.
TEST(ComputePlanTest, FirewallInheritanceIsAWarning) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(2))});
  *site.mutable_firewall() = Firewall(true, true, "Global", true);
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(2)), site, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->summary().blocked());
  EXPECT_TRUE(plan->summary().in_sync());
  ASSERT_EQ(plan->observed().warnings_size(), 2);
  EXPECT_EQ(plan->observed().warnings(0),
            "site \"HQ\" (id 900000000000000001) inherits its firewall "
            "policy from \"Global\" (Firewall Control configuration, "
            "inheritedFrom): the site's own rules may not be enforced as "
            "planned");
  EXPECT_EQ(plan->observed().warnings(1),
            "site \"HQ\" (id 900000000000000001) inherits every firewall "
            "rule of its parent (Firewall Control configuration, "
            "inheritAllFirewallRules): the parent's rules apply there too, "
            "and the site's own rules may not be enforced as planned");
  EXPECT_EQ(plan->observed().firewall().inherited_from(), "Global");

  *site.mutable_firewall() = Firewall(true, true, "Account", false);
  plan = ComputePlan(Desired("C", Ips(2)), site, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->observed().warnings_size(), 1);
  EXPECT_NE(plan->observed().warnings(0).find("from \"Account\""),
            std::string::npos);

  // Not known: nothing is said.
  *site.mutable_firewall() = Firewall(false, false, "Global", true);
  plan = ComputePlan(Desired("C", Ips(2)), site, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->observed().warnings_size(), 0);
}

TEST(ComputePlanTest, LegacyRuleReportedAsConflictWithoutAdoption) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(2), /*marked=*/false)});
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(2)), site, {});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->conflicts_size(), 1);
  EXPECT_EQ(plan->conflicts(0).rule_id(), "1");
  EXPECT_EQ(plan->conflicts(0).name(), "C");
  EXPECT_EQ(plan->observed().managed(), 0u);
  // Its addresses do not count as blocked by tqs1.
  EXPECT_EQ(plan->observed().blocked(), 0u);
}

TEST(ComputePlanTest, LegacyRuleAdoptedTakesTheMarkerAndTheChanges) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(2), /*marked=*/false)});
  PlanOptions options;
  options.set_adopt(true);
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(3)), site, options);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->conflicts_size(), 0);
  EXPECT_EQ(ActionsText(*plan), "~ update C +1");
  const tqs1::v1::Action& a = plan->actions(0);
  EXPECT_TRUE(a.adopts());
  EXPECT_TRUE(HasOwnershipMarker(a.settings().description()));
  EXPECT_EQ(a.reasons(0), "takes ownership of a rule without the tqs1 marker");

  // Adoption of a rule already in sync is still one visible write.
  plan = ComputePlan(Desired("C", Ips(2)), site, options);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(ActionsText(*plan), "~ update C");
}

TEST(ComputePlanTest, InheritedRulesAreIgnoredAndTheirNamesAvoided) {
  Rule account = ManagedRule("5", "C", Ips(3, 100));
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  account.set_scope_id("700000000000000001");
  Rule other_site = ManagedRule("6", "C (1)", Ips(3));
  other_site.set_scope_id("900000000000000002");
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired("C", Ips(1)), Site({account, other_site}), {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->observed().inherited(), 2u);
  EXPECT_EQ(plan->observed().managed(), 0u);
  EXPECT_EQ(plan->observed().inherited_blocked(), 0u);
  EXPECT_EQ(ActionsText(*plan), "+ create C (2) +1");
}

// The sync's own account-scope rule blocks what it holds on every site of
// the account: a site's plan does not write those addresses again, keeps
// what its own rules already hold, and counts neither as newly blocked.
TEST(ComputePlanTest, AnInheritedAccountRuleOfTheSyncCoversTheSite) {
  Rule account = ManagedRule("5", "C", Ips(6));
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  account.set_scope_id("700000000000000001");
  Rule own = ManagedRule("7", "C (1)", Ips(2));  // 10.0.0.0-1, covered too
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired("C", Ips(8)), Site({account, own}), {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->observed().inherited_blocked(), 4u);  // 10.0.0.2-5
  EXPECT_EQ(ActionsText(*plan), "~ update C (1) +2");   // 10.0.0.6-7
  EXPECT_EQ(plan->summary().newly_blocked(), 2u);
  EXPECT_EQ(plan->summary().newly_blocked_ipv4_addresses(), 2u);
  EXPECT_EQ(plan->summary().unblocked(), 0u);

  // Not the sync's (no marker), or disabled: it covers nothing.
  Rule unmarked = account;
  unmarked.set_description("made by hand");
  Rule disabled = account;
  disabled.set_enabled(false);
  for (const Rule& other : {unmarked, disabled}) {
    absl::StatusOr<Plan> uncovered =
        ComputePlan(Desired("C", Ips(8)), Site({other, own}), {});
    ASSERT_TRUE(uncovered.ok()) << uncovered.status();
    EXPECT_EQ(uncovered->observed().inherited_blocked(), 0u);
    EXPECT_EQ(ActionsText(*uncovered), "~ update C (1) +6");
  }
}

// The global rules' plan manages global rules; an account's plan leaves to
// the sync's global rule what it blocks.
TEST(ComputePlanTest, GlobalRulesArePlannedAndCoverAccountsAndSites) {
  ObservedState global;
  global.set_scope(tqs1::v1::RULE_SCOPE_GLOBAL);
  Rule own = ManagedRule("5", "C", Ips(4));
  own.set_scope(tqs1::v1::RULE_SCOPE_GLOBAL);
  own.clear_scope_id();
  *global.add_rules() = own;
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(5)), global, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->scope(), tqs1::v1::RULE_SCOPE_GLOBAL);
  EXPECT_EQ(plan->site_id(), "");
  EXPECT_EQ(plan->observed().managed(), 1u);
  EXPECT_EQ(ActionsText(*plan), "~ update C +1");

  ObservedState account;
  account.set_site_id("700000000000000001");
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  *account.add_rules() = own;
  absl::StatusOr<Plan> covered = ComputePlan(Desired("C", Ips(5)), account, {});
  ASSERT_TRUE(covered.ok()) << covered.status();
  EXPECT_EQ(covered->observed().inherited_blocked(), 4u);
  EXPECT_EQ(ActionsText(*covered), "+ create C (1) +1");
  absl::StatusOr<Plan> site =
      ComputePlan(Desired("C", Ips(5)), Site({own}), {});
  ASSERT_TRUE(site.ok()) << site.status();
  EXPECT_EQ(site->observed().inherited_blocked(), 4u);
}

// An account's own plan: its account-scope rules are the managed ones; the
// global rules it inherits, and a site's rule seen from it, are not.
TEST(ComputePlanTest, AnAccountsPlanManagesItsAccountScopeRules) {
  ObservedState account;
  account.set_site_id("700000000000000001");
  account.set_site_name("Acme");
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  Rule own = ManagedRule("5", "C", Ips(2));
  own.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  own.set_scope_id("700000000000000001");
  Rule site = ManagedRule("6", "C (1)", Ips(2, 50));  // a site's, read-only
  Rule global = ManagedRule("7", "C (2)", Ips(2, 60));
  global.set_scope(tqs1::v1::RULE_SCOPE_GLOBAL);
  global.clear_scope_id();
  *account.add_rules() = own;
  *account.add_rules() = site;
  *account.add_rules() = global;
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(3)), account, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->scope(), tqs1::v1::RULE_SCOPE_ACCOUNT);
  EXPECT_EQ(plan->site_id(), "700000000000000001");
  EXPECT_EQ(plan->observed().managed(), 1u);
  EXPECT_EQ(plan->observed().inherited(), 2u);
  EXPECT_EQ(plan->observed().inherited_blocked(), 0u);
  EXPECT_EQ(ActionsText(*plan), "~ update C +1");
  // A marked rule of the sync's name at account scope with another
  // account's id cannot be told apart: it stops the plan.
  Rule stray = own;
  stray.set_id("8");
  stray.set_name("C (3)");
  stray.set_scope_id("700000000000000009");
  *account.add_rules() = stray;
  absl::StatusOr<Plan> stopped = ComputePlan(Desired("C", Ips(3)), account, {});
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_EQ(stopped->conflicts_size(), 1);
  EXPECT_NE(stopped->conflicts(0).reason().find(
                "does not read as a rule of this account"),
            std::string::npos)
      << stopped->conflicts(0).reason();
}

// A group's plan manages the group's rules; what the sync's rule of the
// group's site (or of the account, or global) blocks is not missing there.
TEST(ComputePlanTest, AGroupsPlanManagesItsRulesAndItsSitesRuleCoversIt) {
  ObservedState group;
  group.set_site_id("1827364554637281901");
  group.set_site_name("Lab");
  group.set_scope(tqs1::v1::RULE_SCOPE_GROUP);
  Rule own = ManagedRule("5", "C", Ips(2));
  own.set_scope(tqs1::v1::RULE_SCOPE_GROUP);
  own.set_scope_id("1827364554637281901");
  Rule site = ManagedRule("6", "C (1)", Ips(3, 2));  // 10.0.0.2-4, the site's
  *group.add_rules() = own;
  *group.add_rules() = site;
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(6)), group, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->scope(), tqs1::v1::RULE_SCOPE_GROUP);
  EXPECT_EQ(plan->site_id(), "1827364554637281901");
  EXPECT_EQ(plan->site_name(), "Lab");
  EXPECT_EQ(plan->observed().managed(), 1u);
  EXPECT_EQ(plan->observed().inherited(), 1u);
  EXPECT_EQ(plan->observed().inherited_blocked(), 3u);
  EXPECT_EQ(ActionsText(*plan), "~ update C +1");  // 10.0.0.5 only
  // The site's plan never sees the group's rule, and a group's rule seen
  // from its site would be no cover: the group's rules apply to the group.
  EXPECT_FALSE(IsInheritedSyncRule(own, Site({own, site}), "C"));
}

// SentinelOne may compare rule names ignoring case: a new rule never takes
// a name that differs from one in use only in case.
TEST(ComputePlanTest, NewNamesAvoidNamesInUseIgnoringCase) {
  absl::StatusOr<Plan> plan = ComputePlan(
      Desired("TQS1 Known-C2", Ips(3)),
      Site({ForeignRule("9", "TQS1 KNOWN-C2 (2)", {"203.0.113.9"}),
            ForeignRule("8", "tqs1 known-c2 (1)", {"203.0.113.8"})}),
      Cap(1));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan),
            "+ create TQS1 Known-C2 (3) +1\n+ create TQS1 Known-C2 (4) +1\n"
            "+ create TQS1 Known-C2 (5) +1");
  // The bare name too.
  plan = ComputePlan(Desired("C2 list", Ips(1)),
                     Site({ForeignRule("9", "c2 LIST", {"203.0.113.9"})}), {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan), "+ create C2 list (1) +1");
}

TEST(ComputePlanTest, InvalidAndDuplicateInputsAreReported) {
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired("C", {"192.0.2.1", "192.0.2.1", "192.0.2.01",
                                "127.0.0.1", "not-an-ip", "192.0.2.0/24"}),
                  Site({}), {});
  ASSERT_TRUE(plan.ok());
  const tqs1::v1::InputReport& in = plan->inputs();
  EXPECT_EQ(in.values(), 6u);
  EXPECT_EQ(in.duplicates(), 1u);
  EXPECT_EQ(in.invalid(), 2u);
  EXPECT_EQ(in.never_blocked(), 1u);
  EXPECT_EQ(in.desired(), 2u);
  ASSERT_EQ(in.rejected_size(), 3);
  EXPECT_EQ(in.rejected(0).value(), "192.0.2.01");
  EXPECT_EQ(Strings(plan->actions(0).add()),
            (std::vector<std::string>{"192.0.2.0/24", "192.0.2.1"}));
}

TEST(ComputePlanTest, EmptySourceGuard) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(3))});
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", {}), site, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->summary().blocked());
  EXPECT_EQ(ActionsText(*plan), "- delete C -3");
  ASSERT_EQ(plan->guards_size(), 2);
  EXPECT_EQ(plan->guards(0).guard(), "empty-source");
  EXPECT_TRUE(plan->guards(0).tripped());
  EXPECT_EQ(plan->guards(0).message(),
            "the collection yields 0 addresses (minimum 1) while the site "
            "blocks 3: a renamed, emptied or unreadable collection must not "
            "unblock everything");

  PlanOptions allow;
  allow.set_allow_empty(true);
  plan = ComputePlan(Desired("C", {}), site, allow);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->guards(0).overridden());
  EXPECT_FALSE(plan->summary().blocked());

  // An empty collection against an empty site is simply in sync.
  plan = ComputePlan(Desired("C", {}), Site({}), {});
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->summary().blocked());
  EXPECT_TRUE(plan->summary().in_sync());
}

TEST(ComputePlanTest, UnblockShareGuard) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(1000))});
  // 200 of 1000 unblocked: 20% is the limit, not over it.
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(800)), site, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->summary().blocked());
  EXPECT_EQ(plan->summary().unblocked(), 200u);

  plan = ComputePlan(Desired("C", Ips(799)), site, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->summary().blocked());
  EXPECT_EQ(
      plan->guards(1).message(),
      "unblocks 201 of 1,000 addresses (20.1%; the limit is 20% above 100 "
      "addresses)");

  PlanOptions allow;
  allow.set_allow_mass_unblock(true);
  plan = ComputePlan(Desired("C", Ips(799)), site, allow);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->summary().blocked());
  EXPECT_TRUE(plan->guards(1).overridden());

  // Small sites: unblocking up to the floor never trips.
  plan = ComputePlan(Desired("C", Ips(10)),
                     Site({ManagedRule("1", "C", Ips(50))}), {});
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->summary().blocked());
}

// n /16 networks from 20.0.0.0/16 upward.
std::vector<std::string> Slash16s(int n) {
  std::vector<std::string> out;
  for (int k = 0; k < n; ++k) out.push_back(absl::StrCat("20.", k, ".0.0/16"));
  return out;
}

// n IPv6 addresses, each in its own /64 of 2001:db8::/48.
std::vector<std::string> V6Networks(int n) {
  std::vector<std::string> out;
  for (int k = 0; k < n; ++k) {
    out.push_back(absl::StrCat("2001:db8:0:", absl::Hex(k), "::1"));
  }
  return out;
}

// The guard weighs address space, not entries: removing 45 /16 networks
// from a site that also blocks 1,000 single addresses is 45 of 1,045
// entries (4.31%) but 99.97% of the addresses blocked.
TEST(ComputePlanTest, UnblockShareGuardWeighsAddressSpace) {
  ObservedState site = Site({ManagedRule("1", "C (1)", Slash16s(45)),
                             ManagedRule("2", "C (2)", Ips(1000))});
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(1000)), site, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan), "- delete C (1) -45");
  EXPECT_TRUE(plan->summary().blocked());
  ASSERT_EQ(plan->guards_size(), 2);
  const tqs1::v1::GuardVerdict& guard = plan->guards(1);
  EXPECT_EQ(guard.guard(), "unblock-share");
  EXPECT_TRUE(guard.tripped());
  EXPECT_EQ(guard.message(),
            "unblocks 45 of 1,045 entries: 2,949,120 of 2,950,120 IPv4 "
            "addresses (99.97%; the limit is 20% above 100 addresses)");
  EXPECT_EQ(guard.entries(), 45u);
  EXPECT_EQ(guard.entries_total(), 1045u);
  EXPECT_EQ(guard.ipv4_addresses(), 2949120u);
  EXPECT_EQ(guard.ipv4_addresses_total(), 2950120u);
  EXPECT_EQ(guard.ipv6_networks_total(), 0u);

  const tqs1::v1::ObservedReport& observed = plan->observed();
  EXPECT_EQ(observed.blocked(), 1045u);
  EXPECT_EQ(observed.blocked_ipv4_addresses(), 2950120u);
  EXPECT_EQ(observed.blocked_ipv6_networks(), 0u);
  const tqs1::v1::PlanSummary& summary = plan->summary();
  EXPECT_EQ(summary.unblocked(), 45u);
  EXPECT_EQ(summary.unblocked_ipv4_addresses(), 2949120u);
  EXPECT_EQ(summary.newly_blocked(), 0u);
  EXPECT_EQ(summary.newly_blocked_ipv4_addresses(), 0u);

  PlanOptions allow;
  allow.set_allow_mass_unblock(true);
  plan = ComputePlan(Desired("C", Ips(1000)), site, allow);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->guards(1).overridden());
  EXPECT_FALSE(plan->summary().blocked());
}

TEST(ComputePlanTest, UnblockShareGuardSpaceTable) {
  struct Case {
    std::string name;
    std::vector<std::string> desired;
    std::vector<Rule> rules;
    bool tripped;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"many entries, little space: 201 of 1,001 entries is 0.3% of the "
       "space",
       Concat({"20.0.0.0/16"}, Ips(799, 100000)),
       {ManagedRule("1", "C (1)", Concat({"20.0.0.0/16"}, Ips(1000, 100000)))},
       false,
       "unblocks 201 of 1,001 entries: 201 of 66,536 IPv4 addresses (0.3021%; "
       "the limit is 20% above 100 addresses)"},
      {"an address kept inside a removed /8: the rest of the /8 is unblocked",
       {"10.1.1.1"},
       {ManagedRule("1", "C", {"10.0.0.0/8", "10.1.1.1"})},
       true,
       "unblocks 1 of 2 entries: 16,777,215 of 16,777,216 IPv4 addresses "
       "(100%; the limit is 20% above 100 addresses)"},
      {"a /24 replaced by its 256 addresses unblocks nothing",
       [] {
         std::vector<std::string> v;
         for (int k = 0; k < 256; ++k) v.push_back(absl::StrCat("192.0.2.", k));
         return v;
       }(),
       {ManagedRule("1", "C", {"192.0.2.0/24"})},
       false,
       "unblocks 1 of 1 entries: 0 of 256 IPv4 addresses (0%; the limit is "
       "20% above 100 addresses)"},
      {"IPv6 in /64 networks: 150 of 200",
       V6Networks(50),
       {ManagedRule("1", "C", V6Networks(200))},
       true,
       "unblocks 150 of 200 entries: 150 of 200 IPv6 /64 networks (75%; the "
       "limit is 20% above 100 /64 networks)"},
      {"IPv6: addresses of one /64 weigh one /64",
       {"2001:db8::1"},
       {ManagedRule("1", "C",
                    [] {
                      std::vector<std::string> v;
                      for (int k = 1; k <= 300; ++k) {
                        v.push_back(absl::StrCat("2001:db8::", absl::Hex(k)));
                      }
                      return v;
                    }())},
       false,
       "unblocks 299 of 300 entries: 0 of 1 IPv6 /64 networks (0%; the limit "
       "is 20% above 100 /64 networks)"},
      {"both families: either one trips the guard",
       Ips(1000),
       {ManagedRule("1", "C (1)", Ips(1000)),
        ManagedRule("2", "C (2)", V6Networks(200))},
       true,
       "unblocks 200 of 1,200 entries: 0 of 1,000 IPv4 addresses (0%; the "
       "limit is 20% above 100 addresses) and 200 of 200 IPv6 /64 networks "
       "(100%; the limit is 20% above 100 /64 networks)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Plan> plan =
        ComputePlan(Desired("C", c.desired), Site(c.rules), {});
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_EQ(plan->guards_size(), 2);
    EXPECT_EQ(plan->guards(1).tripped(), c.tripped);
    EXPECT_EQ(plan->summary().blocked(), c.tripped);
    EXPECT_EQ(plan->guards(1).message(), c.message);
  }
}

TEST(ComputePlanTest, SummaryWeighsNewlyBlockedSpace) {
  // A /24 added beside an address it contains: one entry to block, 255 new
  // addresses (the one is blocked already).
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired("C", {"192.0.2.0/24", "192.0.2.7"}),
                  Site({ManagedRule("1", "C", {"192.0.2.7"})}), {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->summary().newly_blocked(), 1u);
  EXPECT_EQ(plan->summary().newly_blocked_ipv4_addresses(), 255u);
  EXPECT_EQ(plan->summary().unblocked_ipv4_addresses(), 0u);
  EXPECT_EQ(plan->observed().blocked_ipv4_addresses(), 1u);
  // IPv6 space appears in its own unit.
  plan = ComputePlan(Desired("C", {"2001:db8::/62"}), Site({}), {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->summary().newly_blocked_ipv6_networks(), 4u);
  EXPECT_EQ(plan->summary().newly_blocked_ipv4_addresses(), 0u);
}

TEST(ComputePlanTest, EmptySourceGuardShowsTheSpace) {
  ObservedState site = Site({ManagedRule("1", "C", Slash16s(2))});
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", {}), site, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->guards(0).tripped());
  EXPECT_EQ(plan->guards(0).message(),
            "the collection yields 0 addresses (minimum 1) while the site "
            "blocks 2 entries (131,072 IPv4 addresses): a renamed, emptied or "
            "unreadable collection must not unblock everything");
  EXPECT_EQ(plan->guards(0).entries(), 0u);
  EXPECT_EQ(plan->guards(0).entries_total(), 2u);
  EXPECT_EQ(plan->guards(0).ipv4_addresses_total(), 131072u);
}

Rule Disabled(Rule rule) {
  rule.set_enabled(false);
  return rule;
}

// A rule disabled in the console stays disabled (the operator's brake), and
// the plan says what it leaves unenforced, even when nothing changes.
TEST(ComputePlanTest, DisabledManagedRulesAreReported) {
  ObservedState site =
      Site({ManagedRule("1", "C (1)", Ips(3)),
            Disabled(ManagedRule("2", "C (2)", {"10.0.0.3", "20.0.0.0/16"})),
            Disabled(ForeignRule("3", "Other", {"10.9.9.9"}))});
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired("C", Concat(Ips(4), {"20.0.0.0/16"})), site, Cap(3));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan), "");
  EXPECT_TRUE(plan->summary().in_sync());
  EXPECT_FALSE(plan->summary().blocked());
  EXPECT_EQ(plan->summary().disabled_rules(), 1u);
  const tqs1::v1::ObservedReport& observed = plan->observed();
  EXPECT_EQ(observed.disabled_rules(), 1u);
  ASSERT_EQ(observed.disabled_size(), 1);
  EXPECT_EQ(observed.disabled(0).rule_id(), "2");
  EXPECT_EQ(observed.disabled(0).name(), "C (2)");
  EXPECT_EQ(observed.disabled(0).entries(), 2u);
  EXPECT_EQ(observed.not_enforced(), 2u);
  EXPECT_EQ(observed.not_enforced_ipv4_addresses(), 65537u);
  EXPECT_EQ(observed.not_enforced_ipv6_networks(), 0u);
  EXPECT_EQ(observed.blocked(), 5u);
  EXPECT_EQ(observed.blocked_ipv4_addresses(), 65540u);

  // An update of a disabled rule keeps it disabled.
  plan =
      ComputePlan(Desired("C", Concat(Ips(5), {"20.0.0.0/16"})), site, Cap(3));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(ActionsText(*plan), "~ update C (2) +1");
  EXPECT_FALSE(plan->actions(0).settings().enabled());
  EXPECT_EQ(plan->summary().disabled_rules(), 1u);
}

TEST(ComputePlanTest, SpaceAnEnabledRuleAlsoCoversIsEnforced) {
  // The disabled rule's address sits inside an enabled rule's /24 (a state
  // tqs1 does not make, but a site may hold): still enforced.
  ObservedState site =
      Site({ManagedRule("1", "C (1)", {"192.0.2.0/24"}),
            Disabled(ManagedRule("2", "C (2)", {"192.0.2.9", "2001:db8::1"}))});
  absl::StatusOr<Plan> plan = ComputePlan(
      Desired("C", {"192.0.2.0/24", "192.0.2.9", "2001:db8::1"}), site, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->observed().not_enforced(), 2u);
  EXPECT_EQ(plan->observed().not_enforced_ipv4_addresses(), 0u);
  EXPECT_EQ(plan->observed().not_enforced_ipv6_networks(), 1u);
}

TEST(ComputePlanTest, NoDisabledRulesNoReport) {
  absl::StatusOr<Plan> plan = ComputePlan(
      Desired("C", Ips(2)), Site({ManagedRule("1", "C", Ips(2))}), {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->observed().disabled_rules(), 0u);
  EXPECT_EQ(plan->observed().disabled_size(), 0);
  EXPECT_EQ(plan->observed().not_enforced(), 0u);
}

TEST(ComputePlanTest, NameTooLongIsAnErrorAtPlanTime) {
  std::string collection(196, 'x');
  // The bare name (196) fits; "<name> (1)" (200) fits; "(10)" would not.
  absl::StatusOr<Plan> plan =
      ComputePlan(Desired(collection, Ips(1)), Site({}), {});
  EXPECT_TRUE(plan.ok());
  plan = ComputePlan(Desired(collection, Ips(5)), Site({}), Cap(1));
  ASSERT_TRUE(plan.ok()) << plan.status();  // (1)..(5) fit: 200 characters
  plan = ComputePlan(Desired(collection, Ips(10)), Site({}), Cap(1));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plan.status().message(),
            absl::StrCat("collection name \"", collection, "\" of sync \"",
                         collection,
                         " -> HQ\" is too long for SentinelOne "
                         "rule names: the plan needs rule \"",
                         collection,
                         " (10)\" (201 characters; the limit is "
                         "200)"));
}

TEST(ComputePlanTest, BadInputsAreErrors) {
  absl::StatusOr<Plan> plan = ComputePlan(Desired("", Ips(1)), Site({}), {});
  EXPECT_EQ(plan.status().message(), "sync \" -> HQ\" names no collection");
  plan = ComputePlan(Desired("C", Ips(1)), Site({}), Cap(5001));
  EXPECT_EQ(plan.status().message(),
            "max_addresses_per_rule 5001 is over SentinelOne's limit of 5000");
}

TEST(ComputePlanTest, FingerprintIdentifiesTheObservedSite) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(2))});
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(2)), site, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->observed_fingerprint(), ObservedFingerprint(site));
  EXPECT_EQ(plan->observed_fingerprint().rfind("sha256:", 0), 0u);
  EXPECT_EQ(plan->observed_fingerprint().size(), 7u + 64u);
}

// The real limit, with the sizes from the design: growth past 5,000 and one
// address added to a million.
TEST(ComputePlanTest, GrowthPastFiveThousand) {
  ObservedState site = Site({ManagedRule("1", "C", Ips(5000))});
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(5001)), site, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(ActionsText(*plan), "+ create C (1) +1");
}

std::vector<Rule> MillionInRules(int total) {
  std::vector<Rule> rules;
  std::vector<std::string> all = Ips(total);
  for (int start = 0, k = 1; start < total; start += 5000, ++k) {
    int end = std::min(total, start + 5000);
    rules.push_back(ManagedRule(absl::StrCat(k), absl::StrCat("C (", k, ")"),
                                {all.begin() + start, all.begin() + end}));
  }
  return rules;
}

TEST(ComputePlanTest, OneAddressAddedToAMillion) {
  // Every rule full: one new rule, one write.
  ObservedState site = Site(MillionInRules(1000000));
  absl::StatusOr<Plan> plan = ComputePlan(Desired("C", Ips(1000001)), site, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(ActionsText(*plan), "+ create C (201) +1");

  // The last rule has room: it takes the address, still one write.
  site = Site(MillionInRules(999999));
  plan = ComputePlan(Desired("C", Ips(1000000)), site, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(ActionsText(*plan), "~ update C (200) +1");
  EXPECT_EQ(Strings(plan->actions(0).add()),
            (std::vector<std::string>{"10.15.66.63"}));
}

}  // namespace
}  // namespace tqs1::reconciler

#include "reconciler/render.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reconciler/planner.h"
#include "testing/site_model.h"

namespace tqs1::reconciler {
namespace {

using testing::Desired;
using testing::ForeignRule;
using testing::ManagedRule;
using testing::Site;

tqs1::v1::Plan SamplePlan() {
  tqs1::v1::DesiredState desired =
      Desired("Known C2",
              {"192.0.2.1", "192.0.2.2", "192.0.2.2", "192.0.2.3", "192.0.2.4",
               "2001:db8::7", "192.0.2.5", "192.0.2.6", "bogus", "127.0.0.1"});
  (*desired.mutable_source()->mutable_skipped_types())["FQDN"] = 4;
  (*desired.mutable_source()->mutable_skipped_statuses())["Whitelisted"] = 2;
  tqs1::v1::ObservedState site = Site({
      ManagedRule("101", "Known C2 (1)", {"192.0.2.1", "198.51.100.9"}),
      ManagedRule("102", "Known C2 (2)", {"203.0.113.5"}),
      ManagedRule("103", "Known C2", {"192.0.2.4"}, /*marked=*/false),
      ForeignRule("104", "Allow backups", {"10.1.1.1"}),
  });
  tqs1::v1::PlanOptions options;
  options.set_max_addresses_per_rule(3);
  return *ComputePlan(desired, site, options);
}

TEST(RenderPlanTextTest, Golden) {
  RenderOptions options;
  options.address_examples = 2;
  EXPECT_EQ(
      RenderPlanText(SamplePlan(), options),
      R"golden(Sync "Known C2 -> HQ": collection "Known C2" to site "HQ" (900000000000000001)

  Source: 10 values read, 7 addresses to block (1 duplicate, 1 invalid, 1 never blocked)
    skipped 4 indicators of type "FQDN"
    skipped 2 indicators with status "Whitelisted"
    warning: 7 documentation (RFC 5737, RFC 3849) addresses will be blocked, e.g. 192.0.2.1, 192.0.2.2, 192.0.2.3
    rejected "bogus": not an IPv4 address
    rejected "127.0.0.1": never blocked: 127.0.0.0/8 (built-in: loopback)
  Site: 4 rules (2 managed, 1 in conflict, 1 other, 0 inherited), 3 addresses blocked by managed rules
  Firewall Control: unknown (not read)

Conflicts:
  ! "Known C2"  id 103: has a name of this sync but no tqs1 ownership marker; left untouched (adopt it to manage it)

Actions:
  + create "Known C2 (3)"          +1
      new rule for 1 address
        + 2001:db8::7
  ~ update "Known C2 (1)"  id 101  +2 -1
      adds 2 addresses; removes 1 address no longer in the collection
        + 192.0.2.2
        + 192.0.2.3
        - 198.51.100.9
  ~ update "Known C2 (2)"  id 102  +3 -1
      adds 3 addresses; removes 1 address no longer in the collection
        + 192.0.2.4
        + 192.0.2.5
        ... and 1 more
        - 203.0.113.5

Guards:
  ok         empty-source: the collection yields 7 addresses
  ok         unblock-share: unblocks 2 of 3 addresses (66.67%; the limit is 20% above 100 addresses)

Plan: 1 to create, 2 to update, 0 to delete; 6 entries to block (5 IPv4 addresses and 1 IPv6 /64 network), 2 to unblock (2 IPv4 addresses).
)golden");
  ;
}

TEST(RenderPlanTextTest, InSync) {
  tqs1::v1::Plan plan =
      *ComputePlan(Desired("C", {"192.0.2.1"}),
                   Site({ManagedRule("1", "C", {"192.0.2.1"})}), {});
  std::string text = RenderPlanText(plan, {});
  EXPECT_NE(text.find("No changes. The site blocks the collection's 1 "
                      "addresses.\n"),
            std::string::npos)
      << text;
}

// An account's plan says it is the account's own rules; a site's says
// what its inherited account rules of the sync block.
TEST(RenderPlanTextTest, AccountScopeAndWhatItCoversInTheSites) {
  tqs1::v1::Rule own = ManagedRule("1", "C", {"192.0.2.1", "192.0.2.2"});
  own.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  own.set_scope_id("700000000000000001");
  tqs1::v1::ObservedState account;
  account.set_site_id("700000000000000001");
  account.set_site_name("Acme");
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  *account.add_rules() = own;
  const std::string text = RenderPlanText(
      *ComputePlan(Desired("C", {"192.0.2.1", "192.0.2.2"}), account, {}), {});
  EXPECT_NE(text.find(": collection \"C\" to the account-scope rules of "
                      "account \"Acme\" (700000000000000001)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  Account: 1 rule (1 managed,"), std::string::npos)
      << text;
  EXPECT_NE(text.find("No changes. The account's rules hold the collection's "
                      "2 addresses.\n"),
            std::string::npos)
      << text;

  const std::string site = RenderPlanText(
      *ComputePlan(Desired("C", {"192.0.2.1", "192.0.2.2", "192.0.2.3"}),
                   Site({own}), {}),
      {});
  EXPECT_NE(site.find("    2 addresses of the collection are blocked by "
                      "rules of this sync the site inherits (account or "
                      "global scope): not written to the site\n"),
            std::string::npos)
      << site;
}

// A rule disabled in the console: listed with its id and address count,
// and said after the summary, although the plan is in sync.
TEST(RenderPlanTextTest, DisabledRulesAreSaidEvenInSync) {
  tqs1::v1::Rule disabled =
      ManagedRule("102", "Known C2 (2)", {"198.51.100.1", "198.51.100.2"});
  disabled.set_enabled(false);
  tqs1::v1::Plan plan = *ComputePlan(
      Desired("Known C2", {"198.51.100.0", "198.51.100.1", "198.51.100.2"}),
      Site({ManagedRule("101", "Known C2 (1)", {"198.51.100.0"}), disabled}),
      {});
  ASSERT_TRUE(plan.summary().in_sync());
  EXPECT_EQ(
      RenderPlanText(plan, {}),
      R"golden(Sync "Known C2 -> HQ": collection "Known C2" to site "HQ" (900000000000000001)

  Source: 3 values read, 3 addresses to block (0 duplicates, 0 invalid, 0 never blocked)
    warning: 3 documentation (RFC 5737, RFC 3849) addresses will be blocked, e.g. 198.51.100.0, 198.51.100.1, 198.51.100.2
  Site: 2 rules (2 managed, 0 in conflict, 0 other, 0 inherited), 3 addresses blocked by managed rules
  Firewall Control: unknown (not read)

Disabled in the console:
  ! "Known C2 (2)"  id 102: 2 addresses not enforced: disabled in the console

Guards:
  ok         empty-source: the collection yields 3 addresses
  ok         unblock-share: unblocks 0 of 3 addresses (0%; the limit is 20% above 100 addresses)

No changes. The site's rules hold the collection's 3 addresses.
Not enforced: 2 addresses in 1 managed rule disabled in the console; tqs1 keeps it disabled (enable in the console to enforce).
)golden");
  // The JSON plan carries the counts.
  absl::StatusOr<std::string> json = RenderPlanJson(plan);
  ASSERT_TRUE(json.ok());
  for (const char* field : {"\"disabled_rules\": 1", "\"not_enforced\": 2",
                            "\"rule_id\": \"102\""}) {
    EXPECT_NE(json->find(field), std::string::npos) << field << "\n" << *json;
  }
}

// Entries and address space where they differ: the site line, the guard,
// the summary line.
TEST(RenderPlanTextTest, EntriesAndSpaceWhereTheyDiffer) {
  tqs1::v1::Plan plan = *ComputePlan(
      Desired("C", {"203.0.113.9", "2001:db8::/62"}),
      Site({ManagedRule("1", "C", {"203.0.113.9"}),
            ManagedRule("2", "C (1)", {"20.0.0.0/16", "20.1.0.0/16"})}),
      {});
  EXPECT_EQ(
      RenderPlanText(plan, {}),
      R"golden(Sync "C -> HQ": collection "C" to site "HQ" (900000000000000001)

  Source: 2 values read, 2 addresses to block (0 duplicates, 0 invalid, 0 never blocked)
    warning: 2 documentation (RFC 5737, RFC 3849) addresses will be blocked, e.g. 203.0.113.9, 2001:db8::/62
  Site: 2 rules (2 managed, 0 in conflict, 0 other, 0 inherited), 3 entries (131,073 IPv4 addresses) blocked by managed rules
  Firewall Control: unknown (not read)

Actions:
  ~ update "C (1)"  id 2  +1 -2
      adds 1 address; removes 2 addresses no longer in the collection

Guards:
  ok         empty-source: the collection yields 2 addresses
  TRIPPED    unblock-share: unblocks 2 of 3 entries: 131,072 of 131,073 IPv4 addresses (100%; the limit is 20% above 100 addresses)

Plan: 0 to create, 1 to update, 0 to delete; 1 entry to block (4 IPv6 /64 networks), 2 to unblock (131,072 IPv4 addresses).
Blocked by a guard: this plan will not be applied. Check the collection, or override the guard if the change is intended.
)golden");
}

// The site's Firewall Control configuration in one line, in each of its
// shapes; the observed report's warnings each on a line of their own.
TEST(RenderPlanTextTest, FirewallConfigurationAndSiteWarnings) {
  struct Case {
    std::string name;
    bool known, enabled;
    std::string inherited_from;
    bool inherits_rules;
    std::string line;
  };
  for (const Case& c : std::vector<Case>{
           {"not read", false, false, "", false,
            "  Firewall Control: unknown (not read)\n"},
           {"enabled", true, true, "", false, "  Firewall Control: enabled\n"},
           {"disabled", true, false, "", false,
            "  Firewall Control: disabled (rules are written but not "
            "enforced)\n"},
           {"inherited", true, true, "Account", false,
            "  Firewall Control: enabled, inherited from Account\n"},
           {"disabled, inherited, with every rule", true, false, "Global", true,
            "  Firewall Control: disabled (rules are written but not "
            "enforced), inherited from Global; the site inherits every "
            "firewall rule of its parent\n"},
       }) {
    SCOPED_TRACE(c.name);
    tqs1::v1::Plan plan = SamplePlan();
    tqs1::v1::FirewallConfiguration* fw =
        plan.mutable_observed()->mutable_firewall();
    fw->set_known(c.known);
    fw->set_enabled(c.enabled);
    fw->set_inherited_from(c.inherited_from);
    fw->set_inherits_rules(c.inherits_rules);
    const std::string text = RenderPlanText(plan, {});
    EXPECT_NE(text.find(absl::StrCat("3 addresses blocked by managed rules\n",
                                     c.line, "\nConflicts:\n")),
              std::string::npos)
        << text;
  }

  tqs1::v1::Plan plan = SamplePlan();
  plan.mutable_observed()->mutable_firewall()->set_known(true);
  plan.mutable_observed()->mutable_firewall()->set_enabled(true);
  plan.mutable_observed()->mutable_firewall()->set_inherited_from("Account");
  plan.mutable_observed()->add_warnings(
      "site \"HQ\" inherits its firewall policy from Account: its own rules "
      "may not be what endpoints enforce");
  plan.mutable_observed()->add_warnings("a second warning");
  const std::string text = RenderPlanText(plan, {});
  EXPECT_NE(
      text.find("  Firewall Control: enabled, inherited from Account\n"
                "    warning: site \"HQ\" inherits its firewall policy from "
                "Account: its own rules may not be what endpoints enforce\n"
                "    warning: a second warning\n\nConflicts:\n"),
      std::string::npos)
      << text;
  RenderOptions color;
  color.color = true;
  EXPECT_NE(RenderPlanText(plan, color)
                .find("    \033[33mwarning:\033[0m a second warning\n"),
            std::string::npos);
}

// A conflict that stops the plan is marked BLOCKS; the others are not.
TEST(RenderPlanTextTest, BlockingConflictIsMarked) {
  tqs1::v1::Plan plan = SamplePlan();
  tqs1::v1::Conflict* blocking = plan.add_conflicts();
  blocking->set_rule_id("105");
  blocking->set_name("Known C2 (4)");
  blocking->set_reason(
      "carries the tqs1 marker but was not read as a rule of site \"HQ\" "
      "(scope none)");
  blocking->set_blocks(true);
  const std::string text = RenderPlanText(plan, {});
  EXPECT_NE(text.find("Conflicts:\n"
                      "  ! \"Known C2\"  id 103: has a name of this sync but "
                      "no tqs1 ownership marker; left untouched (adopt it to "
                      "manage it)\n"
                      "  ! BLOCKS \"Known C2 (4)\"  id 105: carries the tqs1 "
                      "marker but was not read as a rule of site \"HQ\" "
                      "(scope none)\n"),
            std::string::npos)
      << text;
  RenderOptions color;
  color.color = true;
  EXPECT_NE(RenderPlanText(plan, color)
                .find("\033[31m\033[1mBLOCKS\033[0m \"Known C2 (4)\""),
            std::string::npos);
}

TEST(RenderApplyRefusalsTest, ListsEachLineOrNothing) {
  tqs1::v1::ApplyReport report;
  EXPECT_EQ(RenderApplyRefusals(report, {}), "");
  report.add_ipv6_refused(
      "action 2 of 6 (create \"Known C2 (3)\") refused by the console: "
      "SentinelOne POST /firewall-control: HTTP 400: Validation Error (code "
      "4000010): data.remoteHosts.values: '2001:db8::1' is not a valid IPv4 "
      "address, range or CIDR block");
  report.add_ipv6_refused(
      "action 3 of 6 (update \"Known C2 (1)\", rule 201) skipped: it would "
      "unblock 2001:db8::1, which action 2 was to hold");
  EXPECT_EQ(RenderApplyRefusals(report, {}),
            R"golden(IPv6 values refused by the console:
  ! action 2 of 6 (create "Known C2 (3)") refused by the console: SentinelOne POST /firewall-control: HTTP 400: Validation Error (code 4000010): data.remoteHosts.values: '2001:db8::1' is not a valid IPv4 address, range or CIDR block
  ! action 3 of 6 (update "Known C2 (1)", rule 201) skipped: it would unblock 2001:db8::1, which action 2 was to hold
)golden");
  RenderOptions color;
  color.color = true;
  EXPECT_NE(RenderApplyRefusals(report, color).find("  \033[33m!\033[0m "),
            std::string::npos);
}

TEST(RenderPlanTextTest, ColourOnlyWhenAsked) {
  tqs1::v1::Plan plan = SamplePlan();
  EXPECT_EQ(RenderPlanText(plan, {}).find('\033'), std::string::npos);
  RenderOptions color;
  color.color = true;
  EXPECT_NE(RenderPlanText(plan, color).find("\033[32m+ create"),
            std::string::npos);
}

TEST(RenderPlanTextTest, BlockedPlanSaysSo) {
  tqs1::v1::Plan plan = *ComputePlan(
      Desired("C", {}), Site({ManagedRule("1", "C", {"192.0.2.1"})}), {});
  std::string text = RenderPlanText(plan, {});
  EXPECT_NE(text.find("TRIPPED    empty-source"), std::string::npos) << text;
  EXPECT_NE(text.find("Blocked by a guard: this plan will not be applied."),
            std::string::npos);
}

TEST(PlanJsonTest, RoundTrip) {
  tqs1::v1::Plan plan = SamplePlan();
  absl::StatusOr<std::string> json = RenderPlanJson(plan);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"format\": \"v1\""), std::string::npos);
  EXPECT_NE(json->find("\"kind\": \"create\""), std::string::npos);
  EXPECT_NE(json->find("\"observed_fingerprint\": \"sha256:"),
            std::string::npos);
  absl::StatusOr<tqs1::v1::Plan> back = ParsePlanJson(*json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), plan.SerializeAsString());
}

TEST(PlanJsonTest, APlanFileDocumentSaysWhatAScriptNeeds) {
  tqs1::v1::PlanFile file;
  file.set_format(tqs1::v1::PLAN_FORMAT_V1);
  file.set_created_at("2026-12-01T10:00:00Z");
  file.set_tqs1_version("0.1.0");
  *file.add_plans() = SamplePlan();
  absl::StatusOr<std::string> json = RenderPlanFileJson(file);
  ASSERT_TRUE(json.ok()) << json.status();
  nlohmann::json doc = nlohmann::json::parse(*json);
  EXPECT_EQ(doc["format_version"], "2");
  EXPECT_EQ(doc["tqs1_version"], "0.1.0");
  EXPECT_EQ(doc["timestamp"], "2026-12-01T10:00:00Z");
  EXPECT_EQ(doc["errored"], false);
  EXPECT_EQ(doc["applyable"], true);
  EXPECT_TRUE(doc["plans"][0]["summary"]["addresses_added"].is_number());
  absl::StatusOr<tqs1::v1::PlanFile> back = ParsePlanFileJson(*json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), file.SerializeAsString());

  // A failed sync: errored, not applyable.
  file.add_plans()->set_error("ThreatQ: connection refused");
  file.mutable_plans(1)->set_format(tqs1::v1::PLAN_FORMAT_V1);
  doc = nlohmann::json::parse(*RenderPlanFileJson(file));
  EXPECT_EQ(doc["errored"], true);
  EXPECT_EQ(doc["applyable"], false);

  // A plan file of the first format (protobuf's mapping) still reads; an
  // unknown format_version does not.
  absl::StatusOr<tqs1::v1::PlanFile> v1 = ParsePlanFileJson(
      R"({"format": "PLAN_FORMAT_V1", "plans": [{"format": "PLAN_FORMAT_V1",
          "summary": {"addresses_added": "20"}}]})");
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->plans(0).summary().addresses_added(), 20u);
  doc["format_version"] = "3";
  EXPECT_EQ(ParsePlanFileJson(doc.dump()).status().message(),
            "plan JSON format_version \"3\" is not one this tqs1 reads (it "
            "reads \"2\" and plan files without one)");
}

TEST(PlanJsonTest, RejectsWhatIsNotAPlan) {
  EXPECT_EQ(ParsePlanJson("{\"format\": \"PLAN_FORMAT_V1\", \"nope\": 1}")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePlanJson("not json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePlanJson("{}").status().message(),
            "plan format 0 is not one this tqs1 reads (it reads format 1)");
}

TEST(FormatCountTest, ThousandsSeparators) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1000), "1,000");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
}

// A plan whose inputs hold rejected values with indicator ids, warnings and
// refused values.
tqs1::v1::Plan PlanWithRejected(int invalid) {
  tqs1::v1::DesiredState desired = Desired("C", {"11.0.0.1", "10.1.2.3"});
  desired.add_indicator_ids(1);
  desired.add_indicator_ids(2);
  desired.mutable_sync()->add_refuse(tqs1::v1::INPUT_CATEGORY_CGNAT);
  desired.add_values("100.64.0.9");
  desired.add_indicator_ids(3);
  for (int k = 0; k < invalid; ++k) {
    desired.add_values(absl::StrCat("1.2.3.", k, ":443"));
    desired.add_indicator_ids(1000 + k);
  }
  return *ComputePlan(desired, Site({}), {});
}

TEST(RenderPlanTextTest, WarnsAboutCategoriesAndSaysWhatWasRefused) {
  std::string text = RenderPlanText(PlanWithRejected(0), {});
  EXPECT_NE(text.find("  Source: 3 values read, 2 addresses to block (0 "
                      "duplicates, 0 invalid, 0 never blocked, 1 refused)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("    warning: 1 private (RFC 1918) address will be "
                      "blocked, e.g. 10.1.2.3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("    refused 1 CGNAT (100.64.0.0/10) address (refuse: "
                      "cgnat), e.g. 100.64.0.9\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("    rejected \"100.64.0.9\" (indicator 3): CGNAT "
                      "(100.64.0.0/10) address: refused (refuse: cgnat)\n"),
            std::string::npos)
      << text;
}

TEST(RenderPlanTextTest, ShowRejectedListsUpToNWithIndicatorIds) {
  tqs1::v1::Plan plan = PlanWithRejected(20);
  // The default: the first 5, and a pointer to the option.
  std::string text = RenderPlanText(plan, {});
  EXPECT_NE(text.find("    rejected \"1.2.3.0:443\" (indicator 1000): has a "
                      "port (:443): give the address alone\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("\"1.2.3.4:443\""), std::string::npos) << text;
  EXPECT_NE(text.find("    ... and 16 more rejected (--show-rejected N or all "
                      "lists them)\n"),
            std::string::npos)
      << text;

  RenderOptions options;
  options.show_rejected = 10;
  text = RenderPlanText(plan, options);
  EXPECT_NE(text.find("\"1.2.3.8:443\" (indicator 1008)"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("\"1.2.3.9:443\""), std::string::npos) << text;
  EXPECT_NE(text.find("    ... and 11 more rejected (--show-rejected all lists "
                      "them)\n"),
            std::string::npos)
      << text;

  options.show_rejected = kShowAllRejected;
  text = RenderPlanText(plan, options);
  EXPECT_NE(text.find("\"1.2.3.19:443\" (indicator 1019): has a port (:443)"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("more rejected"), std::string::npos) << text;
}

TEST(RenderPlanTextTest, ShowRejectedSaysWhatThePlanDidNotKeep) {
  tqs1::v1::Plan plan = PlanWithRejected(3);
  plan.mutable_inputs()->set_rejected_truncated(7);
  RenderOptions options;
  options.show_rejected = kShowAllRejected;
  std::string text = RenderPlanText(plan, options);
  EXPECT_NE(text.find("    ... and 7 more rejected, not kept in the plan (it "
                      "keeps the first 4)\n"),
            std::string::npos)
      << text;
}

TEST(RenderPlanJsonTest, RejectedValuesCarryIndicatorIdsAndWarnings) {
  tqs1::v1::Plan plan = PlanWithRejected(1);
  absl::StatusOr<std::string> json = RenderPlanJson(plan);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_NE(json->find("\"indicator_id\": 1000"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"category\": \"private\""), std::string::npos)
      << *json;
  absl::StatusOr<tqs1::v1::Plan> again = ParsePlanJson(*json);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->inputs().rejected(1).indicator_id(), 1000u);
  EXPECT_EQ(again->inputs().warnings_size(), 2);
}

}  // namespace
}  // namespace tqs1::reconciler

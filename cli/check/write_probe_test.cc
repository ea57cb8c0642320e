#include "cli/check/write_probe.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "providers/sentinelone/fake_firewall_rules.h"

namespace tqs1::check {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using FakeMethod = sentinelone::FakeFirewallRules::Method;

constexpr char kSite[] = "1758952600032266153";

// RawRuleCalls answering as a console would, over a FakeFirewallRules: its
// PUT is partial or (full_put) a replacement that drops the values and OS
// types; its deletes answer `affected` and delete only when it is 1.
class FakeRaw : public RawRuleCalls {
 public:
  explicit FakeRaw(sentinelone::FakeFirewallRules& fake) : fake_(fake) {}

  bool full_put = false;
  int affected = 1;

  absl::StatusOr<RawAnswer> Create(absl::string_view site_id,
                                   const v1::Rule& rule) override {
    absl::StatusOr<v1::Rule> created = fake_.CreateRule(site_id, rule);
    if (!created.ok()) {
      nlohmann::json body = {
          {"errors",
           {{{"code", 4000010},
             {"title", "Validation Error"},
             {"detail", std::string(created.status().message())}}}}};
      return RawAnswer{400, body.dump()};
    }
    return RawAnswer{200,
                     nlohmann::json{{"data", {{"id", created->id()}}}}.dump()};
  }
  absl::StatusOr<RawAnswer> Put(absl::string_view rule_id,
                                const nlohmann::json& data) override {
    for (v1::Rule rule : fake_.SiteRules(kSite)) {
      if (rule.id() != rule_id) continue;
      rule.set_description(data.at("description").get<std::string>());
      if (full_put) {
        rule.clear_remote_hosts();
        rule.clear_os_types();
      }
      absl::StatusOr<v1::Rule> updated = fake_.UpdateRule(kSite, rule);
      if (!updated.ok()) return RawAnswer{400, "{}"};
      return RawAnswer{200, "{}"};
    }
    return RawAnswer{404, "{}"};
  }
  absl::StatusOr<RawAnswer> Delete(absl::string_view site_id,
                                   absl::string_view rule_id) override {
    if (affected == 1) {
      absl::Status deleted = fake_.DeleteRule(site_id, rule_id);
      if (!deleted.ok()) return deleted;
    }
    return RawAnswer{200,
                     nlohmann::json{{"data", {{"affected", affected}}}}.dump()};
  }
  absl::StatusOr<RawAnswer> FirstRules(absl::string_view, int) override {
    return RawAnswer{200, R"({"data":[]})"};
  }

 private:
  sentinelone::FakeFirewallRules& fake_;
};

class WriteProbeTest : public ::testing::Test {
 protected:
  WriteProbeTest() {
    fake_.AddSite(kSite, "HQ", "1286405255240245908");
    v1::Rule other;
    other.set_name("Allow backups");
    other.set_description("someone else's");
    other.set_action(v1::RULE_ACTION_ALLOW);
    other.set_scope(v1::RULE_SCOPE_SITE);
    other.set_scope_id(kSite);
    fake_.PutRule(kSite, other);
    options_.site_id = kSite;
    options_.suffix = "0badcafe";
    options_.clock = &clock_;
  }

  std::vector<std::string> SiteRuleNames() const {
    std::vector<std::string> names;
    for (const v1::Rule& r : fake_.SiteRules(kSite)) names.push_back(r.name());
    return names;
  }

  // "VERDICT probe" of each line, in order.
  static std::vector<std::string> Verdicts(const CheckReport& report) {
    std::vector<std::string> out;
    for (const CheckLine& line : report.lines()) {
      out.push_back(absl::StrCat(VerdictName(line.verdict), " ", line.probe));
    }
    return out;
  }

  static std::string Text(const CheckReport& report, absl::string_view probe) {
    std::vector<std::string> texts;
    for (const CheckLine& line : report.lines()) {
      if (line.probe == probe) texts.push_back(line.text);
    }
    return absl::StrJoin(texts, " | ");
  }

  FakeClock clock_;
  sentinelone::FakeFirewallRules fake_;
  WriteProbeOptions options_;
};

TEST(IsProbeRuleNameTest, OnlyTheProbesNames) {
  EXPECT_TRUE(IsProbeRuleName("tqs1-probe-0badcafe"));
  EXPECT_TRUE(IsProbeRuleName("TQS1-PROBE-0BADCAFE"));
  EXPECT_TRUE(IsProbeRuleName("tqs1-probe-0badcafe-v6"));
  EXPECT_FALSE(IsProbeRuleName("tqs1-probe-0badcaf"));
  EXPECT_FALSE(IsProbeRuleName("tqs1-probe-0badcafe1"));
  EXPECT_FALSE(IsProbeRuleName("tqs1-probe-notes123"));
  EXPECT_FALSE(IsProbeRuleName("x tqs1-probe-0badcafe"));
  EXPECT_FALSE(IsProbeRuleName("Known C2"));
}

TEST_F(WriteProbeTest, LearnsAndLeavesOnlyWhatWasThere) {
  CheckReport report({});
  WriteProbeResult result = RunWriteProbe(fake_, nullptr, options_, report);
  EXPECT_THAT(
      Verdicts(report),
      ElementsAre(
          "PASS sentinelone.probe.sweep", "PASS sentinelone.probe.create",
          "PASS sentinelone.probe.readback", "PASS sentinelone.probe.duplicate",
          ::testing::StartsWith("PASS sentinelone.probe.case"),
          "WARN sentinelone.probe.put", "PASS sentinelone.probe.ipv6",
          "PASS sentinelone.probe.cleanup"))
      << report.Render();
  EXPECT_THAT(Text(report, "sentinelone.probe.create"),
              HasSubstr("\"tqs1-probe-0badcafe\" (id "));
  EXPECT_THAT(Text(report, "sentinelone.probe.create"),
              HasSubstr("Disabled) with 192.0.2.1, 198.51.100.0/24, "
                        "2001:db8::1, 2001:db8::/32"));
  EXPECT_FALSE(result.interrupted);
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(result.findings.ipv6_accepted, Tristate::kYes);
  EXPECT_EQ(result.findings.values_verbatim, Tristate::kYes);
  EXPECT_EQ(result.findings.description_verbatim, Tristate::kYes);
  EXPECT_EQ(result.findings.os_types_verbatim, Tristate::kYes);
  EXPECT_THAT(result.findings.duplicate_answer,
              HasSubstr("tqs1-probe-0badcafe"));
  EXPECT_EQ(result.findings.put_update, "unknown");
  EXPECT_EQ(result.findings.learned_at, clock_.Now());
  EXPECT_THAT(SiteRuleNames(), ElementsAre("Allow backups"));
}

TEST_F(WriteProbeTest, RawAnswersShowPartialUpdatesAndDeleteCounts) {
  FakeRaw raw(fake_);
  CheckReport report({});
  WriteProbeResult result = RunWriteProbe(fake_, &raw, options_, report);
  EXPECT_EQ(result.findings.put_update, "partial") << report.Render();
  EXPECT_THAT(Text(report, "sentinelone.probe.duplicate"),
              HasSubstr("was refused: SentinelOne: HTTP 400"));
  EXPECT_EQ(result.findings.delete_answer,
            "affected 1; affected 1; affected 1");
  EXPECT_EQ(report.lines().back().verdict, Verdict::kPass);
  EXPECT_THAT(SiteRuleNames(), ElementsAre("Allow backups"));
}

TEST_F(WriteProbeTest, FullReplacementAndAffectedZeroAreWarnings) {
  FakeRaw raw(fake_);
  raw.full_put = true;
  raw.affected = 0;
  CheckReport report({});
  WriteProbeResult result = RunWriteProbe(fake_, &raw, options_, report);
  EXPECT_EQ(result.findings.put_update, "full");
  EXPECT_THAT(Text(report, "sentinelone.probe.put"),
              HasSubstr("changed values, OS types (full replacement)"));
  EXPECT_THAT(result.findings.delete_answer, HasSubstr("affected 0"));
  // The client's delete settled what "affected 0" left open.
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(report.lines().back().verdict, Verdict::kWarn);
  EXPECT_THAT(report.lines().back().text, HasSubstr("none left in site"));
  EXPECT_THAT(SiteRuleNames(), ElementsAre("Allow backups"));
}

TEST_F(WriteProbeTest, SweepsRulesAnEarlierProbeLeft) {
  for (const char* name :
       {"tqs1-probe-deadbeef", "TQS1-PROBE-DEADBEEF-V6", "tqs1-probe-notes"}) {
    v1::Rule left;
    left.set_name(name);
    left.set_scope(v1::RULE_SCOPE_SITE);
    left.set_scope_id(kSite);
    fake_.PutRule(kSite, left);
  }
  CheckReport report({});
  WriteProbeResult result = RunWriteProbe(fake_, nullptr, options_, report);
  EXPECT_EQ(report.lines()[0].verdict, Verdict::kWarn);
  EXPECT_THAT(report.lines()[0].text,
              HasSubstr("deleted 2 of 2 rules an earlier, interrupted probe "
                        "left: \"TQS1-PROBE-DEADBEEF-V6\""));
  EXPECT_TRUE(result.clean);
  EXPECT_THAT(SiteRuleNames(), ::testing::UnorderedElementsAre(
                                   "Allow backups", "tqs1-probe-notes"));
}

// A stop requested before step k (k = 0: before the first) skips the rest
// and still deletes every probe rule made so far.
TEST_F(WriteProbeTest, InterruptedMidwayLeavesNothingBehind) {
  for (int k = 0; k < 6; ++k) {
    SCOPED_TRACE(absl::StrCat("stop before step ", k));
    int asked = 0;
    options_.should_stop = [&asked, k] { return asked++ >= k; };
    CheckReport report({});
    WriteProbeResult result = RunWriteProbe(fake_, nullptr, options_, report);
    EXPECT_TRUE(result.interrupted);
    EXPECT_TRUE(result.clean);
    EXPECT_EQ(asked, k + 1);
    EXPECT_THAT(Text(report, "sentinelone.probe"),
                HasSubstr("stopped on request"));
    EXPECT_EQ(report.lines().back().probe, "sentinelone.probe.cleanup");
    EXPECT_EQ(report.lines().back().verdict, Verdict::kPass) << report.Render();
    EXPECT_THAT(SiteRuleNames(), ElementsAre("Allow backups"));
    // The next run finds nothing to sweep.
    EXPECT_EQ(report.lines().front().verdict, Verdict::kPass);
  }
}

TEST_F(WriteProbeTest, CreateWhoseAnswerWasLostIsCleanedUpByName) {
  fake_.FailNextAfterApplying(FakeMethod::kCreateRule,
                              absl::DeadlineExceededError("answer lost"));
  CheckReport report({});
  WriteProbeResult result = RunWriteProbe(fake_, nullptr, options_, report);
  EXPECT_THAT(Text(report, "sentinelone.probe.create"),
              HasSubstr("answer lost"));
  EXPECT_EQ(report.ExitCode(), 1);
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(result.findings.ipv6_accepted, Tristate::kUnknown);
  EXPECT_THAT(SiteRuleNames(), ElementsAre("Allow backups"));
}

TEST_F(WriteProbeTest, Ipv4OnlyWhenTheMixedRuleIsRefused) {
  // The mixed create, then the IPv6-only one, refused as a console that
  // takes no IPv6 would; the IPv4-only create goes through.
  fake_.FailNext(FakeMethod::kCreateRule,
                 absl::InvalidArgumentError(
                     "HTTP 400: Validation Error: 2001:db8::1 is not valid"));
  CheckReport report({});
  int asked = 0;
  options_.should_stop = [&] {
    // Before the IPv6-only step (the 6th), refuse the next create.
    if (++asked == 6) {
      fake_.FailNext(FakeMethod::kCreateRule,
                     absl::InvalidArgumentError("HTTP 400: IPv6 refused"));
    }
    return false;
  };
  WriteProbeResult result = RunWriteProbe(fake_, nullptr, options_, report);
  EXPECT_THAT(Text(report, "sentinelone.probe.create"),
              HasSubstr("Disabled) with 192.0.2.1, 198.51.100.0/24"));
  EXPECT_THAT(Text(report, "sentinelone.probe.create"),
              HasSubstr("trying IPv4 values only"));
  EXPECT_EQ(result.findings.ipv6_accepted, Tristate::kNo);
  EXPECT_EQ(result.findings.ipv6_answer, "HTTP 400: IPv6 refused");
  EXPECT_EQ(report.ExitCode(), 0) << report.Render();
  EXPECT_TRUE(result.clean);
  EXPECT_THAT(SiteRuleNames(), ElementsAre("Allow backups"));
}

TEST_F(WriteProbeTest, ARuleTheCleanUpCannotDeleteIsAFailNamingIt) {
  CheckReport report({});
  int asked = 0;
  options_.should_stop = [&] {
    // After the create: every delete fails from now on.
    if (++asked == 2) {
      fake_.FailNext(FakeMethod::kDeleteRule,
                     absl::PermissionDeniedError("no delete right"), 10);
    }
    return asked >= 2;
  };
  WriteProbeResult result = RunWriteProbe(fake_, nullptr, options_, report);
  EXPECT_FALSE(result.clean);
  EXPECT_EQ(report.ExitCode(), 1);
  EXPECT_THAT(Text(report, "sentinelone.probe.cleanup"),
              HasSubstr("no delete right"));
  EXPECT_THAT(Text(report, "sentinelone.probe.cleanup"),
              HasSubstr("left in site 1758952600032266153: "
                        "\"tqs1-probe-0badcafe\" (id "));
}

}  // namespace
}  // namespace tqs1::check

#include "providers/sentinelone/fake_firewall_rules.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/sentinelone/firewall_rules_conformance.h"

namespace tqs1::sentinelone {
namespace {

using ::testing::ElementsAre;
using ::tqs1::v1::Rule;
using Method = FakeFirewallRules::Method;

class FakeBackend : public ConformanceBackend {
 public:
  FirewallRules& rules() override { return fake_; }
  void AddSite(const std::string& id, const std::string& name,
               const std::string& account_id, bool active) override {
    fake_.AddSite(id, name, account_id, active);
  }
  void AddGroup(const std::string& id, const std::string& site_id,
                const std::string& name) override {
    fake_.AddGroup(id, site_id, name);
  }
  std::string PutRule(const std::string& site_id, const Rule& rule) override {
    return fake_.PutRule(site_id, rule);
  }
  void SetFirewallConfiguration(
      const std::string& site_id,
      const v1::FirewallConfiguration& config) override {
    fake_.SetFirewallConfiguration(site_id, config);
  }

 private:
  FakeFirewallRules fake_;
};

INSTANTIATE_TEST_SUITE_P(Fake, FirewallRulesConformanceTest,
                         testing::Values(ConformanceParam{
                             "fake",
                             [] { return std::make_unique<FakeBackend>(); }}),
                         ConformanceParamName);

constexpr char kSite[] = "100000000000000100";

Rule BlockRule(const std::string& name) {
  Rule rule;
  rule.set_name(name);
  rule.set_action(v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  auto* hosts = rule.add_remote_hosts();
  hosts->set_type("addresses");
  hosts->add_values("192.0.2.1");
  return rule;
}

TEST(FakeFirewallRulesTest, RecordsEveryCall) {
  FakeFirewallRules fake;
  fake.AddSite(kSite, "HQ");
  ASSERT_TRUE(fake.FindSite("HQ").ok());
  absl::StatusOr<Rule> created = fake.CreateRule(kSite, BlockRule("A"));
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(fake.UpdateRule(kSite, *created).ok());
  ASSERT_TRUE(fake.ReadSite(kSite).ok());
  ASSERT_TRUE(fake.DeleteRule(kSite, created->id()).ok());
  EXPECT_THAT(fake.Requests(),
              ElementsAre("FindSite HQ", "CreateRule 100000000000000100 A",
                          "UpdateRule 100000000000000100 " + created->id(),
                          "ReadSite 100000000000000100",
                          "DeleteRule 100000000000000100 " + created->id()));
  EXPECT_EQ(fake.WriteCount(), 3);
}

TEST(FakeFirewallRulesTest, FailNextFailsWithoutEffect) {
  struct Case {
    Method method;
    absl::Status status;
  };
  const std::vector<Case> cases = {
      {Method::kFindSite, absl::UnavailableError("down")},
      {Method::kReadSite, absl::DataLossError("garbled")},
      {Method::kCreateRule, absl::PermissionDeniedError("role")},
      {Method::kUpdateRule, absl::UnauthenticatedError("token")},
      {Method::kDeleteRule, absl::UnavailableError("down")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    FakeFirewallRules fake;
    fake.AddSite(kSite, "HQ");
    Rule existing = BlockRule("A");
    existing.set_id(fake.PutRule(kSite, existing));
    fake.FailNext(c.method, c.status, /*times=*/2);
    for (int attempt = 0; attempt < 3; ++attempt) {
      absl::Status got;
      switch (c.method) {
        case Method::kFindSite:
          got = fake.FindSite("HQ").status();
          break;
        case Method::kReadSite:
          got = fake.ReadSite(kSite).status();
          break;
        case Method::kCreateRule:
          got = fake.CreateRule(kSite, BlockRule(absl::StrCat("B", attempt)))
                    .status();
          break;
        case Method::kUpdateRule:
          got = fake.UpdateRule(kSite, existing).status();
          break;
        case Method::kDeleteRule:
          got = fake.DeleteRule(kSite, existing.id());
          break;
      }
      // Two failures, then the real thing.
      EXPECT_EQ(got, attempt < 2 ? c.status : absl::OkStatus()) << attempt;
      if (attempt < 2) {
        EXPECT_EQ(fake.WriteCount(), 0);
      }
    }
  }
}

TEST(FakeFirewallRulesTest, FailNextAfterApplyingAppliesTheWrite) {
  FakeFirewallRules fake;
  fake.AddSite(kSite, "HQ");
  fake.FailNextAfterApplying(Method::kCreateRule,
                             absl::UnavailableError("answer lost"));
  EXPECT_EQ(fake.CreateRule(kSite, BlockRule("A")).status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_EQ(fake.SiteRules(kSite).size(), 1u);
  EXPECT_EQ(fake.SiteRules(kSite)[0].name(), "A");
  // The next create of that name is a duplicate, as on the console.
  EXPECT_EQ(fake.CreateRule(kSite, BlockRule("A")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(FakeFirewallRulesTest, PutRuleKeepsLegacyRulesAsTheyAre) {
  FakeFirewallRules fake;
  fake.AddSite(kSite, "HQ", "200000000000000001");
  Rule legacy;  // no action, no status, a name longer than allowed today
  legacy.set_name(std::string(250, 'L'));
  auto* hosts = legacy.add_remote_hosts();
  hosts->set_type("addresses");
  hosts->add_values("192.0.2.0/24");  // a CIDR under "addresses"
  const std::string id = fake.PutRule(kSite, legacy);
  EXPECT_EQ(id.size(), 18u);
  absl::StatusOr<v1::ObservedState> observed = fake.ReadSite(kSite);
  ASSERT_TRUE(observed.ok());
  ASSERT_EQ(observed->rules_size(), 1);
  EXPECT_EQ(observed->rules(0).name(), legacy.name());
  EXPECT_EQ(observed->rules(0).remote_hosts(0).type(), "addresses");
  EXPECT_EQ(observed->rules(0).scope(), v1::RULE_SCOPE_SITE);
  EXPECT_EQ(observed->rules(0).scope_id(), kSite);
}

}  // namespace
}  // namespace tqs1::sentinelone

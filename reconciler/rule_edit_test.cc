#include "reconciler/rule_edit.h"

#include "gtest/gtest.h"
#include "testing/site_model.h"

namespace tqs1::reconciler {
namespace {

using testing::Entries;
using testing::ManagedRule;

tqs1::v1::Action Update(std::vector<std::string> add,
                        std::vector<std::string> remove) {
  tqs1::v1::Action a;
  a.set_kind(tqs1::v1::ACTION_KIND_UPDATE);
  a.set_rule_id("1");
  a.set_name("C");
  a.mutable_settings()->set_name("C");
  a.mutable_settings()->set_description("d [managed by tqs1]");
  a.mutable_settings()->set_action(tqs1::v1::RULE_ACTION_BLOCK);
  a.mutable_settings()->set_enabled(true);
  a.mutable_add()->Assign(add.begin(), add.end());
  a.mutable_remove()->Assign(remove.begin(), remove.end());
  return a;
}

TEST(RuleAfterTest, UpdateRemovesOneOccurrenceEachThenAdds) {
  tqs1::v1::Rule before = ManagedRule(
      "1", "C", {"192.0.2.1", "192.0.2.2", "192.0.2.1", "10.0.0.0/8"});
  absl::StatusOr<tqs1::v1::Rule> after = RuleAfter(
      &before,
      Update({"192.0.2.9", "172.16.0.0/12"}, {"192.0.2.1", "10.0.0.0/8"}));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->id(), "1");
  EXPECT_EQ(after->description(), "d [managed by tqs1]");
  ASSERT_EQ(after->remote_hosts_size(), 2);
  EXPECT_EQ(after->remote_hosts(0).type(), "addresses");
  EXPECT_EQ(after->remote_hosts(1).type(), "cidr");
  EXPECT_EQ(Entries(*after),
            (std::vector<std::string>{"192.0.2.2", "192.0.2.1", "192.0.2.9",
                                      "172.16.0.0/12"}));
}

TEST(RuleAfterTest, CreateStartsEmpty) {
  tqs1::v1::Action a = Update({"2001:db8::1"}, {});
  a.set_kind(tqs1::v1::ACTION_KIND_CREATE);
  a.clear_rule_id();
  absl::StatusOr<tqs1::v1::Rule> rule = RuleAfter(nullptr, a);
  ASSERT_TRUE(rule.ok());
  EXPECT_TRUE(rule->id().empty());
  EXPECT_EQ(rule->scope(), tqs1::v1::RULE_SCOPE_SITE);
  EXPECT_EQ(Entries(*rule), (std::vector<std::string>{"2001:db8::1"}));
}

TEST(RuleAfterTest, StalePlanIsRefused) {
  tqs1::v1::Rule before = ManagedRule("1", "C", {"192.0.2.1"});
  absl::StatusOr<tqs1::v1::Rule> after =
      RuleAfter(&before, Update({}, {"192.0.2.1", "192.0.2.1"}));
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(after.status().message(),
            "the plan removes \"192.0.2.1\" from rule \"C\", which does not "
            "hold it: the plan is for another version of the rule");

  tqs1::v1::Action del = Update({}, {});
  del.set_kind(tqs1::v1::ACTION_KIND_DELETE);
  EXPECT_EQ(RuleAfter(&before, del).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RuleAfter(nullptr, Update({}, {})).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tqs1::reconciler

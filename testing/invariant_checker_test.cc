#include "testing/invariant_checker.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/sentinelone/fake_firewall_rules.h"
#include "reconciler/ownership.h"
#include "testing/builders.h"

namespace tqs1::sync::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::tqs1::sentinelone::FakeFirewallRules;
using ::tqs1::v1::Rule;

constexpr const char* kSite = ::tqs1::testing::kSiteId;

// A block rule with tqs1's ownership marker (`marked`) or without it.
Rule MakeRule(const std::string& name, bool marked,
              const std::vector<std::string>& addresses) {
  return ::tqs1::testing::BlockRule(
      name, marked ? reconciler::DescriptionWithMarker("x") : "x", addresses);
}

class InvariantCheckerTest : public ::testing::Test {
 protected:
  InvariantCheckerTest() : checked_(fake_, kSite, "C2", 2) {
    fake_.AddSite(kSite, "HQ");
    foreign_id_ = fake_.PutRule(kSite, MakeRule("Mine", false, {"10.0.0.1"}));
    checked_.StartRound({"192.0.2.1", "192.0.2.2"});
  }

  FakeFirewallRules fake_;
  InvariantChecker checked_;
  std::string foreign_id_;
};

TEST_F(InvariantCheckerTest, QuietWhenTheRulesAreKept) {
  absl::StatusOr<Rule> created =
      checked_.CreateRule(kSite, MakeRule("C2", true, {"192.0.2.1"}));
  ASSERT_TRUE(created.ok()) << created.status();
  Rule grown = MakeRule("C2", true, {"192.0.2.1", "192.0.2.2"});
  grown.set_id(created->id());
  ASSERT_TRUE(checked_.UpdateRule(kSite, grown).ok());
  EXPECT_THAT(checked_.Violations(), IsEmpty());
  EXPECT_EQ(checked_.Writes(), 2);
  EXPECT_EQ(checked_.Checks(), 3);
}

TEST_F(InvariantCheckerTest, SeesAWantedAddressUnblocked) {
  absl::StatusOr<Rule> created =
      checked_.CreateRule(kSite, MakeRule("C2", true, {"192.0.2.1"}));
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(checked_.DeleteRule(kSite, created->id()).ok());
  EXPECT_THAT(checked_.Violations(),
              ElementsAre("wanted address 192.0.2.1 was unblocked after "
                          "being blocked"));
}

TEST_F(InvariantCheckerTest, SeesForeignRulesTouchedOrAdded) {
  Rule changed = MakeRule("Mine", false, {"10.0.0.2"});
  changed.set_id(foreign_id_);
  ASSERT_TRUE(checked_.UpdateRule(kSite, changed).ok());
  ASSERT_TRUE(checked_.CreateRule(kSite, MakeRule("C2 (1)", false, {})).ok());
  ASSERT_TRUE(checked_.DeleteRule(kSite, foreign_id_).ok());
  // Each check reports what is wrong at that moment.
  EXPECT_THAT(
      checked_.Violations(),
      ElementsAre(absl::StrCat("foreign rule \"Mine\" (id ", foreign_id_,
                               ") was changed"),
                  HasSubstr("rule \"C2 (1)\""),
                  absl::StrCat("foreign rule \"Mine\" (id ", foreign_id_,
                               ") was changed"),
                  HasSubstr("rule \"C2 (1)\""),
                  absl::StrCat("foreign rule ", foreign_id_, " was deleted")));
}

TEST_F(InvariantCheckerTest, SeesDuplicateNamesAndOversizedRules) {
  fake_.PutRule(kSite, MakeRule("Mine", false, {}));
  ASSERT_TRUE(
      checked_
          .CreateRule(kSite,
                      MakeRule("C2", true, {"1.1.1.1", "1.1.1.2", "1.1.1.3"}))
          .ok());
  EXPECT_THAT(
      checked_.Violations(),
      UnorderedElementsAre("two rules are named \"Mine\"",
                           HasSubstr("appeared without being tqs1's"),
                           "rule \"C2\" holds 3 entries, over the limit of 2"));
}

}  // namespace
}  // namespace tqs1::sync::testing

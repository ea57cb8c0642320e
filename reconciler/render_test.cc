#include "reconciler/render.h"

#include "gtest/gtest.h"
#include "reconciler/planner.h"
#include "reconciler/testing/site_model.h"

namespace tqs1::reconciler {
namespace {

using testing::Desired;
using testing::ForeignRule;
using testing::ManagedRule;
using testing::Site;

tqs1::v1::Plan SamplePlan() {
  tqs1::v1::DesiredState desired =
      Desired("Known C2", {"192.0.2.1", "192.0.2.2", "192.0.2.2", "192.0.2.3",
                           "192.0.2.4", "2001:db8::7", "192.0.2.5", "192.0.2.6",
                           "192.0.2.7", "bogus", "127.0.0.1"});
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

  Source: 11 values read, 8 addresses to block (1 duplicate, 1 invalid, 1 never blocked)
    skipped 4 indicators of type "FQDN"
    skipped 2 indicators with status "Whitelisted"
    rejected "bogus": not an IPv4 address
    rejected "127.0.0.1": never blocked: 127.0.0.0/8 (built-in: loopback)
  Site: 4 rules (2 managed, 1 in conflict, 1 other, 0 inherited), 3 addresses blocked by managed rules

Conflicts:
  ! "Known C2"  id 103: has a name of this sync but no tqs1 ownership marker; left untouched (adopt it to manage it)

Actions:
  + create "Known C2 (3)"          +2
      new rule for 2 addresses
        + 192.0.2.7
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
  ok         empty-source: the collection yields 8 addresses
  ok         unblock-share: unblocks 2 of 3 addresses (66.7%; the limit is 20% above 100 addresses)

Plan: 1 to create, 2 to update, 0 to delete; 7 addresses to block, 2 to unblock.
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
  EXPECT_NE(json->find("\"format\": \"PLAN_FORMAT_V1\""), std::string::npos);
  EXPECT_NE(json->find("\"kind\": \"ACTION_KIND_CREATE\""), std::string::npos);
  EXPECT_NE(json->find("\"observed_fingerprint\": \"sha256:"),
            std::string::npos);
  absl::StatusOr<tqs1::v1::Plan> back = ParsePlanJson(*json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), plan.SerializeAsString());
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

}  // namespace
}  // namespace tqs1::reconciler

#include "reconciler/machine_json.h"

#include "gtest/gtest.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"

namespace tqs1::reconciler {
namespace {

using json = ::nlohmann::ordered_json;

tqs1::v1::Plan SamplePlan() {
  tqs1::v1::Plan plan;
  plan.set_format(tqs1::v1::PLAN_FORMAT_V1);
  plan.set_sync_name("Known C2 IPs -> HQ");
  tqs1::v1::Action* action = plan.add_actions();
  action->set_kind(tqs1::v1::ACTION_KIND_UPDATE);
  action->set_family(tqs1::v1::ADDRESS_FAMILY_IPV6);
  action->set_rule_id("1001");
  action->add_add("2001:db8::1");
  action->set_count_after(18446744073709551615u);
  plan.mutable_summary()->set_addresses_added(20);
  plan.mutable_summary()->set_creates(0);
  (*plan.mutable_inputs()
        ->mutable_source()
        ->mutable_skipped_statuses())["Expired"] = 12;
  return plan;
}

TEST(MachineJsonTest, NumbersAreNumbersAndEnumsWords) {
  absl::StatusOr<json> doc = ToMachineJson(SamplePlan());
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ((*doc)["format"], "v1");
  EXPECT_EQ((*doc)["actions"][0]["kind"], "update");
  EXPECT_EQ((*doc)["actions"][0]["family"], "ipv6");
  // uint64 beside uint32, both numbers; the largest uint64 exactly.
  EXPECT_TRUE((*doc)["summary"]["addresses_added"].is_number_unsigned());
  EXPECT_EQ((*doc)["summary"]["addresses_added"], 20u);
  EXPECT_TRUE((*doc)["summary"]["creates"].is_number());
  EXPECT_EQ((*doc)["actions"][0]["count_after"].get<uint64_t>(),
            18446744073709551615u);
  // A map's values too.
  EXPECT_EQ((*doc)["inputs"]["source"]["skipped_statuses"]["Expired"], 12u);
  // Every field present, defaults included, in the .proto's order.
  EXPECT_EQ(doc->begin().key(), "format");
  EXPECT_TRUE(doc->contains("error"));
  EXPECT_EQ((*doc)["summary"]["in_sync"], false);
  // No \u escapes of printable characters.
  EXPECT_NE(DumpJson(*doc, true).find("\"Known C2 IPs -> HQ\""),
            std::string::npos);
}

TEST(MachineJsonTest, RoundTripsAndReadsProtobufsOwnMapping) {
  const tqs1::v1::Plan plan = SamplePlan();
  absl::StatusOr<json> doc = ToMachineJson(plan);
  ASSERT_TRUE(doc.ok());
  tqs1::v1::Plan back;
  ASSERT_TRUE(FromMachineJson(json::parse(DumpJson(*doc, false)), &back).ok());
  EXPECT_EQ(back.SerializeAsString(), plan.SerializeAsString());

  tqs1::v1::Plan old;
  ASSERT_TRUE(FromMachineJson(json::parse(R"({"format": "PLAN_FORMAT_V1",
      "actions": [{"kind": "ACTION_KIND_DELETE", "count_before": "7"}]})"),
                              &old)
                  .ok());
  EXPECT_EQ(old.actions(0).kind(), tqs1::v1::ACTION_KIND_DELETE);
  EXPECT_EQ(old.actions(0).count_before(), 7u);
}

TEST(MachineJsonTest, WrongValuesAreNamed) {
  tqs1::v1::Plan plan;
  absl::Status s = FromMachineJson(
      json::parse(R"({"actions": [{"kind": "upsert"}]})"), &plan);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "\"kind\": \"upsert\" is not one of unspecified, create, update, "
            "delete");
  EXPECT_EQ(FromMachineJson(json::parse(R"({"nope": 1})"), &plan).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      FromMachineJson(json::parse(R"({"summary": {"creates": "x"}})"), &plan)
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(MachineJsonTest, EnumWords) {
  EXPECT_EQ(EnumWord(*tqs1::v1::ActionKind_descriptor()->FindValueByName(
                "ACTION_KIND_CREATE")),
            "create");
  EXPECT_EQ(EnumWord(*tqs1::v1::RuleScope_descriptor()->FindValueByName(
                "RULE_SCOPE_SITE")),
            "site");
}

}  // namespace
}  // namespace tqs1::reconciler

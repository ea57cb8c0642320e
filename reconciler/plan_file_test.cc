#include "reconciler/plan_file.h"

#include <string>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/render.h"

namespace tqs1::reconciler {
namespace {

using ::testing::HasSubstr;
using ::tqs1::v1::PlanFile;

const std::string kKey(32, 'k');
const std::string kOtherKey(32, 'o');

PlanFile Sample() {
  PlanFile file;
  file.set_format(tqs1::v1::PLAN_FORMAT_V1);
  file.set_created_at("2026-12-01T10:00:00.000Z");
  file.set_tqs1_version("1.0.0");
  tqs1::v1::Plan* plan = file.add_plans();
  plan->set_format(tqs1::v1::PLAN_FORMAT_V1);
  plan->set_sync_name("c2");
  plan->set_site_id("900000000000000001");
  tqs1::v1::Action* action = plan->add_actions();
  action->set_kind(tqs1::v1::ACTION_KIND_CREATE);
  action->set_name("C");
  action->add_add("198.51.100.7");
  (*plan->mutable_inputs()->mutable_source()->mutable_skipped_types())["FQDN"] =
      3;
  (*plan->mutable_inputs()->mutable_source()->mutable_skipped_types())["URL"] =
      4;
  tqs1::v1::GuardVerdict* guard = plan->add_guards();
  guard->set_guard("empty-source");
  guard->set_tripped(true);
  plan->mutable_summary()->set_blocked(true);
  return file;
}

// Signs, writes as JSON and reads back, as `plan --out` then `apply FILE`.
PlanFile SignedRoundTrip(const std::string& key) {
  PlanFile file = Sample();
  EXPECT_TRUE(SignPlanFile(key, file).ok());
  absl::StatusOr<std::string> json = RenderPlanFileJson(file);
  EXPECT_TRUE(json.ok());
  absl::StatusOr<PlanFile> read = ParsePlanFileJson(*json);
  EXPECT_TRUE(read.ok()) << read.status();
  return *read;
}

TEST(PlanFileTest, ASignedFileVerifiesAfterTheJsonRoundTrip) {
  PlanFile file = SignedRoundTrip(kKey);
  EXPECT_TRUE(VerifyPlanFile(kKey, file, "p.json").ok());
  EXPECT_THAT(file.signature(), ::testing::StartsWith("hmac-sha256:"));
  EXPECT_EQ(file.key_id(), PlanKeyId(kKey));
  EXPECT_EQ(file.key_id().find(kKey), std::string::npos);
}

TEST(PlanFileTest, ReindentedJsonStillVerifies) {
  PlanFile file = Sample();
  ASSERT_TRUE(SignPlanFile(kKey, file).ok());
  std::string json = *RenderPlanFileJson(file);
  std::string compact = absl::StrReplaceAll(json, {{"\n", ""}, {"  ", ""}});
  absl::StatusOr<PlanFile> read = ParsePlanFileJson(compact);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(VerifyPlanFile(kKey, *read, "p.json").ok());
}

TEST(PlanFileTest, AnyEditBreaksTheSignature) {
  struct Edit {
    const char* name;
    void (*apply)(PlanFile&);
  };
  const Edit edits[] = {
      {"an added address",
       [](PlanFile& f) {
         f.mutable_plans(0)->mutable_actions(0)->add_add("0.0.0.0/0");
       }},
      {"a guard said to pass",
       [](PlanFile& f) {
         f.mutable_plans(0)->mutable_guards(0)->set_tripped(false);
         f.mutable_plans(0)->mutable_summary()->set_blocked(false);
       }},
      {"an override",
       [](PlanFile& f) {
         f.mutable_plans(0)->mutable_options()->set_allow_empty(true);
       }},
      {"the creation time",
       [](PlanFile& f) { f.set_created_at("2099-01-01T00:00:00.000Z"); }},
      {"a dropped plan", [](PlanFile& f) { f.clear_plans(); }},
  };
  for (const Edit& edit : edits) {
    SCOPED_TRACE(edit.name);
    PlanFile file = SignedRoundTrip(kKey);
    edit.apply(file);
    absl::Status s = VerifyPlanFile(kKey, file, "p.json");
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(s.message(), HasSubstr("plan file \"p.json\" was changed"));
  }
}

TEST(PlanFileTest, AFileOfAnotherInstanceIsRefused) {
  PlanFile file = SignedRoundTrip(kOtherKey);
  absl::Status s = VerifyPlanFile(kKey, file, "p.json");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("made by another tqs1 instance"));
  // A copied key id does not help: the signature still does not match.
  file.set_key_id(PlanKeyId(kKey));
  EXPECT_THAT(VerifyPlanFile(kKey, file, "p.json").message(),
              HasSubstr("was changed"));
}

TEST(PlanFileTest, AnUnsignedFileIsRefused) {
  absl::Status s = VerifyPlanFile(kKey, Sample(), "p.json");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("is not signed"));
}

TEST(PlanFileTest, ATruncatedFileDoesNotParse) {
  PlanFile file = Sample();
  ASSERT_TRUE(SignPlanFile(kKey, file).ok());
  std::string json = *RenderPlanFileJson(file);
  EXPECT_EQ(ParsePlanFileJson(json.substr(0, json.size() / 2)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PlanFileTest, ShortKeysAreRefused) {
  PlanFile file = Sample();
  EXPECT_EQ(SignPlanFile("short", file).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyPlanFile("short", file, "p").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tqs1::reconciler

// Fuzzes the way a saved plan file comes in (reconciler/render.h,
// plan_file.h, admission.h): any text must parse to a PlanFile or give
// kInvalidArgument; the signature check of a parsed file must answer
// without crashing (and refuse anything not signed with the key); and each
// plan, with the site id and fingerprint of a fixed site put in so that the
// fuzzer reaches the actions, must be admitted or refused, never crash. A
// plan that is admitted blocks nothing the planner refuses: every address it
// adds passes normalization and the never-block lists again, and it writes
// only rules that carry the ownership marker.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"
#include "reconciler/admission.h"
#include "reconciler/fingerprint.h"
#include "reconciler/normalize.h"
#include "reconciler/ownership.h"
#include "reconciler/plan_file.h"
#include "reconciler/render.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using ::tqs1::v1::ObservedState;

constexpr char kSiteId[] = "900000000000000001";

// The sync "c2" of collection "C" in site "HQ", with one never-block entry
// of the config.
tqs1::v1::DesiredState Policy() {
  tqs1::v1::DesiredState policy;
  policy.mutable_sync()->set_name("c2");
  policy.mutable_sync()->set_collection("C");
  policy.mutable_sync()->set_site("HQ");
  policy.mutable_sync()->mutable_rule()->set_description("Blocked by ThreatQ");
  tqs1::v1::NeverBlock* entry = policy.add_never_block();
  entry->set_prefix("198.51.100.0/24");
  entry->set_reason("never_block of the config");
  return policy;
}

tqs1::v1::Rule SiteRule(const char* id, const char* name,
                        const char* description, const char* address) {
  tqs1::v1::Rule rule;
  rule.set_id(id);
  rule.set_name(name);
  rule.set_description(description);
  rule.set_action(tqs1::v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  rule.set_direction(tqs1::v1::DIRECTION_ANY);
  for (auto os : {tqs1::v1::OS_TYPE_WINDOWS, tqs1::v1::OS_TYPE_MACOS,
                  tqs1::v1::OS_TYPE_LINUX}) {
    rule.add_os_types(os);
  }
  rule.set_scope(tqs1::v1::RULE_SCOPE_SITE);
  rule.set_scope_id(kSiteId);
  tqs1::v1::HostSet* hosts = rule.add_remote_hosts();
  hosts->set_type("addresses");
  hosts->add_values(address);
  return rule;
}

// A managed rule, the old connector's rule and a hand-made one.
ObservedState Site() {
  ObservedState site;
  site.set_site_id(kSiteId);
  site.set_site_name("HQ");
  *site.add_rules() = SiteRule(
      "1", "C (1)", "Blocked by ThreatQ [managed by tqs1]", "203.0.113.9");
  *site.add_rules() = SiteRule("2", "C (2)", "old connector", "45.0.0.2");
  *site.add_rules() = SiteRule("3", "Block scanners", "by hand", "45.0.0.3");
  return site;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tqs1::fuzz::Check;
  static const tqs1::v1::DesiredState* const policy =
      new tqs1::v1::DesiredState(Policy());
  static const ObservedState* const site = new ObservedState(Site());
  static const std::string* const key = new std::string(32, 'k');

  absl::StatusOr<tqs1::v1::PlanFile> file =
      tqs1::reconciler::ParsePlanFileJson(tqs1::fuzz::AsText(data, size));
  if (!file.ok()) {
    Check(file.status().code() == absl::StatusCode::kInvalidArgument,
          "plan file errors are kInvalidArgument", file.status().ToString());
    return 0;
  }
  absl::Status verified =
      tqs1::reconciler::VerifyPlanFile(*key, *file, "fuzz.json");
  Check(
      verified.ok() || verified.code() == absl::StatusCode::kFailedPrecondition,
      "a refused signature is kFailedPrecondition", verified.ToString());

  absl::StatusOr<tqs1::reconciler::NeverBlockList> never_block =
      tqs1::reconciler::NeverBlockList::Create(*policy);
  Check(never_block.ok(), "the fuzzer's policy is valid");
  const tqs1::reconciler::GuardSettings guards =
      tqs1::reconciler::GuardSettings::FromProto(policy->sync().guards());
  for (tqs1::v1::Plan plan : file->plans()) {
    plan.set_site_id(kSiteId);
    plan.set_observed_fingerprint(tqs1::reconciler::ObservedFingerprint(*site));
    absl::StatusOr<tqs1::reconciler::AdmittedPlan> admitted =
        tqs1::reconciler::AdmitPlan(plan, *policy, *site);
    if (!admitted.ok()) {
      Check(admitted.status().code() == absl::StatusCode::kFailedPrecondition ||
                admitted.status().code() == absl::StatusCode::kInvalidArgument,
            "a refused plan is kFailedPrecondition or kInvalidArgument",
            admitted.status().ToString());
      continue;
    }
    Check(admitted->writes.size() ==
              static_cast<size_t>(admitted->plan.actions_size()),
          "one write per admitted action");
    google::protobuf::RepeatedPtrField<std::string> added;
    for (const tqs1::v1::Action& action : admitted->plan.actions()) {
      for (const std::string& value : action.add()) *added.Add() = value;
    }
    tqs1::reconciler::NormalizedValues again =
        tqs1::reconciler::NormalizeValues(added, *never_block, guards);
    Check(again.report.rejected_size() == 0 &&
              again.report.rejected_truncated() == 0,
          "an admitted plan adds only values the planner accepts");
    for (const tqs1::v1::Rule& rule : admitted->writes) {
      if (rule.name().empty()) continue;  // a DELETE
      Check(tqs1::reconciler::HasOwnershipMarker(rule.description()),
            "an admitted plan writes only marked rules", rule.name());
    }
  }
  return 0;
}

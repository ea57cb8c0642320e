// Plans for people (Terraform-like text) and for programs (versioned JSON).
//
//   std::cout << RenderPlanText(plan, {.color = isatty(1)});
//   ASSIGN_OR_RETURN(std::string json, RenderPlanJson(plan));
//   ASSIGN_OR_RETURN(Plan again, ParsePlanJson(json));
//
// The text looks like:
//
//   Sync "Known C2 IPs -> HQ": collection "Known C2 IPs" to site "HQ"
//   ...
//     + create "Known C2 IPs (3)"                         +5,000
//     ~ update "Known C2 IPs (1)"  id 225494730938493804  +120 -3
//     - delete "Known C2 IPs (2)"  id 225494730938493805  -4,000
//   ...
//   Plan: 1 to create, 1 to update, 1 to delete; 5,120 addresses to block,
//   4,003 to unblock.
#ifndef TQS1_RECONCILER_RENDER_H_
#define TQS1_RECONCILER_RENDER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/plan.pb.h"
#include "reconciler/format.h"

namespace tqs1::reconciler {

struct RenderOptions {
  // ANSI colours (callers decide: a terminal, and NO_COLOR unset).
  bool color = false;
  // Addresses listed under each action (the first ones added, then removed).
  int address_examples = 0;
  // Rejected source values listed by default.
  int rejected_examples = 5;
  // `--show-rejected N`: when above 0, list up to this many rejected values
  // instead (kShowAllRejected: every one the plan kept), each with its
  // reason and the ThreatQ indicator id it came from.
  int show_rejected = 0;
};

// RenderOptions.show_rejected for "all".
inline constexpr int kShowAllRejected = 1 << 30;

std::string RenderPlanText(const tqs1::v1::Plan& plan,
                           const RenderOptions& options);

// The plan as JSON: snake_case field names, enums by name, every field
// present. `format` says the version.
absl::StatusOr<std::string> RenderPlanJson(const tqs1::v1::Plan& plan);

// Reads RenderPlanJson's output back. kInvalidArgument when the text is not
// a plan (the message says where it fails) or its format is not one this
// build reads.
absl::StatusOr<tqs1::v1::Plan> ParsePlanJson(absl::string_view json);

// The same for a plan file (several syncs' plans): the format of
// `tqs1 plan --json` and `--out FILE`.
absl::StatusOr<std::string> RenderPlanFileJson(
    const tqs1::v1::PlanFile& plan_file);
absl::StatusOr<tqs1::v1::PlanFile> ParsePlanFileJson(absl::string_view json);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_RENDER_H_

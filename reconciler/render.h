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
//     Site: 3 rules (2 managed, 1 in conflict, 0 other, 0 inherited), ...
//     Firewall Control: enabled, inherited from Account
//       warning: the site inherits its firewall policy from Account ...
//   Conflicts:
//     ! BLOCKS "Known C2 IPs (4)"  id 225494730938493806: ...
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

// The plan for people. Besides the actions, it says how the site was read:
// its Firewall Control configuration in one line ("enabled", "disabled
// (rules are written but not enforced)" or "unknown (not read)", then
// ", inherited from <parent>" and whether the site inherits every rule of
// its parent), each ObservedReport warning on a line of its own, and each
// conflict, a blocking one (Conflict.blocks: it stops the plan) marked
// BLOCKS.
std::string RenderPlanText(const tqs1::v1::Plan& plan,
                           const RenderOptions& options);

// The IPv6 writes an apply's console refused and the actions skipped
// because of them (ApplyReport.ipv6_refused), for the apply result; empty
// when there are none:
//
//   IPv6 values refused by the console:
//     ! action 2 of 6 (create "Known C2 (3)") refused by the console: ...
//     ! action 3 of 6 (update "Known C2 (1)", rule 201) skipped: it would
//       unblock 2001:db8::1, which action 2 was to hold
std::string RenderApplyRefusals(const tqs1::v1::ApplyReport& report,
                                const RenderOptions& options);

// The plan in the machine JSON mapping (machine_json.h): snake_case field
// names, numbers as numbers, enums as lower-case words, every field
// present. `format` says the version of the plan itself.
absl::StatusOr<std::string> RenderPlanJson(const tqs1::v1::Plan& plan);

// Reads RenderPlanJson's output (or protobuf's own mapping) back.
// kInvalidArgument when the text is not a plan (the message says where it
// fails) or its format is not one this build reads.
absl::StatusOr<tqs1::v1::Plan> ParsePlanJson(absl::string_view json);

// The version of the plan-file document below; a breaking change of it
// (a field renamed, removed or retyped) bumps it.
inline constexpr char kPlanJsonFormatVersion[] = "2";

// A plan file (several syncs' plans) as the document `tqs1 plan --json` and
// `--out FILE` write (schema: docs/schema/plan.schema.json): the PlanFile in
// the machine mapping, with, beside its fields, `format_version`
// (kPlanJsonFormatVersion), `timestamp` (RFC 3339, when it was made),
// `errored` (a sync failed to plan: its entry holds `error`) and
// `applyable` (nothing errored, no guard blocks, something to do).
absl::StatusOr<std::string> RenderPlanFileJson(
    const tqs1::v1::PlanFile& plan_file);
// Reads that document back, or a plan file of format_version 1 (protobuf's
// mapping, no format_version). kInvalidArgument as ParsePlanJson, and for
// a format_version this build does not read.
absl::StatusOr<tqs1::v1::PlanFile> ParsePlanFileJson(absl::string_view json);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_RENDER_H_

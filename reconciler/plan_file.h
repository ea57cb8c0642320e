// The integrity check of a saved plan file: an HMAC-SHA256 over the file's
// canonical content with a key that only one tqs1 instance holds.
//
//   PlanFile file = ...;                        // the plans of one run
//   SignPlanFile(key, file);                    // sets key_id and signature
//   ASSIGN_OR_RETURN(std::string json, RenderPlanFileJson(file));
//   ...
//   ASSIGN_OR_RETURN(PlanFile read, ParsePlanFileJson(json));
//   RETURN_IF_ERROR(VerifyPlanFile(key, read, "plan.json"));
//
// What it protects against: a file changed by accident (truncated, merged,
// hand-edited "just to try") and a file edited by someone who can write it
// but cannot read the instance's key; a plan made by another instance
// (another config folder, another host) applied here. What it does not: a
// person who can read the key (root, the service account) can sign
// anything; and it says nothing about whether a plan is still right, which
// is why every plan also passes admission (admission.h) before it runs.
//
// The canonical content is the deterministic protobuf serialization of the
// file with `signature` empty: the JSON text may be re-indented or its keys
// reordered without breaking the check, any change of a value breaks it.
// Pure: no I/O.
#ifndef TQS1_RECONCILER_PLAN_FILE_H_
#define TQS1_RECONCILER_PLAN_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/plan.pb.h"

namespace tqs1::reconciler {

// Keys are random bytes; shorter keys are refused by Sign and Verify.
inline constexpr size_t kMinPlanKeyBytes = 32;

// "sha256:<first 16 hex digits of SHA-256(key)>": names a key without
// revealing it.
std::string PlanKeyId(absl::string_view key);

// Sets file.key_id and file.signature for `key`. kInvalidArgument when the
// key is shorter than kMinPlanKeyBytes.
absl::Status SignPlanFile(absl::string_view key, tqs1::v1::PlanFile& file);

// Checks the signature of `file` against `key`. `source` names the file in
// messages. Errors (all kFailedPrecondition, nothing may be applied):
//   "plan file \"p.json\" is not signed; ..." (no signature);
//   "... was made by another tqs1 instance (key sha256:..., this instance's
//   is sha256:...)";
//   "... was changed since tqs1 wrote it (its signature does not match its
//   content)".
absl::Status VerifyPlanFile(absl::string_view key,
                            const tqs1::v1::PlanFile& file,
                            absl::string_view source);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_PLAN_FILE_H_

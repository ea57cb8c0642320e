// Adds context to an error on its way up without losing what the caller
// decides on: the code and any payloads stay, the message gets a prefix.
//
//   absl::Status s = site.DeleteRule(site_id, rule_id);
//   if (!s.ok()) return AddContext(s, "deleting rule \"C2 (3)\"");
//   // kUnavailable: "deleting rule \"C2 (3)\": console down"
#ifndef TQS1_BASE_STATUS_CONTEXT_H_
#define TQS1_BASE_STATUS_CONTEXT_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tqs1 {

// `status` with "<context>: " before its message; an OK status stays OK.
inline absl::Status AddContext(const absl::Status& status,
                               absl::string_view context) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(),
                         absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload(
      [&annotated](absl::string_view type_url, const absl::Cord& payload) {
        annotated.SetPayload(type_url, payload);
      });
  return annotated;
}

}  // namespace tqs1

#endif  // TQS1_BASE_STATUS_CONTEXT_H_

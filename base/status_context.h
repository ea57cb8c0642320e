// Rewrites an error's message on its way up without losing what the caller
// decides on: the code and any payloads (e.g. "outcome unknown") stay.
//
//   absl::Status s = site.DeleteRule(site_id, rule_id);
//   if (!s.ok()) return AddContext(s, "deleting rule \"C2 (3)\"");
//   // kUnavailable: "deleting rule \"C2 (3)\": console down"
//
//   return WithMessage(s, absl::StrCat(s.message(), "; re-plan"));
//   // kUnavailable: "console down; re-plan", payloads kept
#ifndef TQS1_BASE_STATUS_CONTEXT_H_
#define TQS1_BASE_STATUS_CONTEXT_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tqs1 {

// `status` with its message replaced by `message`, its code and payloads
// kept; an OK status stays OK (and has no message).
inline absl::Status WithMessage(const absl::Status& status,
                                absl::string_view message) {
  if (status.ok()) return status;
  absl::Status rewritten(status.code(), message);
  status.ForEachPayload(
      [&rewritten](absl::string_view type_url, const absl::Cord& payload) {
        rewritten.SetPayload(type_url, payload);
      });
  return rewritten;
}

// `status` with "<context>: " before its message; an OK status stays OK.
inline absl::Status AddContext(const absl::Status& status,
                               absl::string_view context) {
  if (status.ok()) return status;
  return WithMessage(status, absl::StrCat(context, ": ", status.message()));
}

}  // namespace tqs1

#endif  // TQS1_BASE_STATUS_CONTEXT_H_

// Takes secrets out of text that may quote them before it reaches an error
// or a log: servers echo what they were sent (a token, a password) into
// their error answers, and messages quote those answers.
//
//   log.Log(kDebug, RedactSecrets(message, {token, password}));
//   return RedactSecrets(status, {token});  // code and payloads kept
//   // "token [redacted] expired"
#ifndef TQS1_BASE_REDACT_H_
#define TQS1_BASE_REDACT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tqs1 {

// What stands where a secret was.
inline constexpr absl::string_view kRedacted = "[redacted]";

// `text` with every occurrence of each non-empty secret of `secrets` replaced
// by kRedacted. Occurrences that overlap (of one secret or of several)
// become a single kRedacted, so no part of any secret is left; the result
// never depends on the order of `secrets`.
std::string RedactSecrets(absl::string_view text,
                          absl::Span<const absl::string_view> secrets);

// `status` with its message redacted as above, its code and payloads kept;
// an OK status stays OK.
absl::Status RedactSecrets(const absl::Status& status,
                           absl::Span<const absl::string_view> secrets);

}  // namespace tqs1

#endif  // TQS1_BASE_REDACT_H_

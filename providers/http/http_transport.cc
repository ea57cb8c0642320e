#include "providers/http/http_transport.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"

namespace tqs1::http {
namespace {

// The payload type URL that marks "outcome unknown"; its value is unused.
constexpr absl::string_view kOutcomeUnknownUrl =
    "type.tqs1.dev/http.OutcomeUnknown";

}  // namespace

std::optional<std::string> HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

absl::Status MarkOutcomeUnknown(absl::Status status) {
  if (status.ok()) return status;
  status.SetPayload(kOutcomeUnknownUrl, absl::Cord("1"));
  return status;
}

bool IsOutcomeUnknown(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kOutcomeUnknownUrl).has_value();
}

}  // namespace tqs1::http

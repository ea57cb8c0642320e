#include "base/redact.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/status_context.h"

namespace tqs1 {

std::string RedactSecrets(absl::string_view text,
                          absl::Span<const absl::string_view> secrets) {
  // [begin, end) of every occurrence of every secret.
  std::vector<std::pair<size_t, size_t>> found;
  for (absl::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != absl::string_view::npos;
         at = text.find(secret, at + 1)) {
      found.emplace_back(at, at + secret.size());
    }
  }
  if (found.empty()) return std::string(text);
  std::sort(found.begin(), found.end());
  std::string out;
  size_t kept = 0;  // text before this is written or redacted
  for (size_t i = 0; i < found.size();) {
    const size_t begin = found[i].first;
    size_t end = found[i].second;
    for (++i; i < found.size() && found[i].first < end; ++i) {
      end = std::max(end, found[i].second);
    }
    out.append(text.data() + kept, begin - kept);
    out.append(kRedacted.data(), kRedacted.size());
    kept = end;
  }
  out.append(text.data() + kept, text.size() - kept);
  return out;
}

absl::Status RedactSecrets(const absl::Status& status,
                           absl::Span<const absl::string_view> secrets) {
  if (status.ok()) return status;
  std::string message = RedactSecrets(status.message(), secrets);
  if (message == status.message()) return status;
  return WithMessage(status, message);
}

}  // namespace tqs1

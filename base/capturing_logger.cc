#include "base/capturing_logger.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tqs1::log {

void CapturingLogger::Log(LogLevel level, absl::string_view message) {
  absl::MutexLock lock(&mu_);
  lines_.push_back(
      absl::StrCat(std::string(1, LogLevelLetter(level)), " ", message));
}

std::vector<std::string> CapturingLogger::Lines() const {
  absl::MutexLock lock(&mu_);
  return lines_;
}

std::string CapturingLogger::Text() const {
  absl::MutexLock lock(&mu_);
  return absl::StrJoin(lines_, "\n");
}

bool CapturingLogger::Contains(absl::string_view needle) const {
  return absl::StrContains(Text(), needle);
}

}  // namespace tqs1::log

#include "base/logger.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"

namespace tqs1::log {

char LogLevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return 'E';
    case LogLevel::kWarning:
      return 'W';
    case LogLevel::kInfo:
      return 'I';
    case LogLevel::kDebug:
      return 'D';
  }
  return '?';
}

void StderrLogger::Log(LogLevel level, absl::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(max_level_)) return;
  std::string line = absl::StrCat(std::string(1, LogLevelLetter(level)),
                                  " tqs1: ", message, "\n");
  absl::MutexLock lock(&mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace tqs1::log

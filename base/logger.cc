#include "base/logger.h"

#include <cstdio>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

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

std::string NewRunId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
}

namespace {
thread_local const LogScope* current_scope = nullptr;
}  // namespace

LogScope::LogScope(std::string run_id, std::string sync)
    : run_id_(std::move(run_id)),
      sync_(std::move(sync)),
      outer_(current_scope) {
  current_scope = this;
}

LogScope::~LogScope() { current_scope = outer_; }

absl::string_view LogScope::RunId() {
  for (const LogScope* s = current_scope; s != nullptr; s = s->outer_) {
    if (!s->run_id_.empty()) return s->run_id_;
  }
  return {};
}

absl::string_view LogScope::Sync() {
  for (const LogScope* s = current_scope; s != nullptr; s = s->outer_) {
    if (!s->sync_.empty()) return s->sync_;
  }
  return {};
}

}  // namespace tqs1::log

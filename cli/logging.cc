#include "cli/logging.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tqs1::cli {
namespace {

// Appends "<UTC time> <letter> <message>" lines to a file.
class FileLogger : public log::Logger {
 public:
  FileLogger(std::FILE* file, log::LogLevel max_level)
      : file_(file), max_level_(max_level) {}
  ~FileLogger() override { std::fclose(file_); }

  void Log(log::LogLevel level, absl::string_view message) override {
    if (level > max_level_) return;
    std::string line = absl::StrCat(
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                         absl::UTCTimeZone()),
        " ", std::string(1, log::LogLevelLetter(level)), " ", message, "\n");
    absl::MutexLock lock(&mu_);
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }

 private:
  std::FILE* const file_;
  const log::LogLevel max_level_;
  absl::Mutex mu_;
};

}  // namespace

log::LogLevel LevelForVerbosity(int verbosity) {
  if (verbosity >= 3) return log::LogLevel::kDebug;
  if (verbosity == 2) return log::LogLevel::kInfo;
  return log::LogLevel::kWarning;
}

absl::StatusOr<std::unique_ptr<log::Logger>> MakeLogger(
    absl::string_view location, absl::string_view instance_name,
    int verbosity) {
  log::LogLevel level = LevelForVerbosity(verbosity);
  if (location == "stdout" || location.empty()) {
    return std::unique_ptr<log::Logger>(
        std::make_unique<log::StderrLogger>(level));
  }
  std::string path = absl::StrCat(location, "/", instance_name, ".log");
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot write the log file \"", path, "\" (-ll/--loglocation \"",
        location, "\" must be a writable folder, or \"stdout\")"));
  }
  return std::unique_ptr<log::Logger>(
      std::make_unique<FileLogger>(file, level));
}

}  // namespace tqs1::cli

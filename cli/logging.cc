#include "cli/logging.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tqs1::cli {
namespace {

// Appends "<UTC time> <letter> <message>" lines to a file.
class FileLogger : public CliLogger {
 public:
  FileLogger(std::FILE* file, log::LogLevel max_level)
      : file_(file), max_level_(max_level) {}
  ~FileLogger() override { std::fclose(file_); }

  void Log(log::LogLevel level, absl::string_view message) override {
    if (level > max_level_) return;
    Write(log::LogLevelLetter(level), message);
  }
  void Always(absl::string_view message) override { Write('I', message); }
  bool writes_file() const override { return true; }

 private:
  void Write(char letter, absl::string_view message) {
    std::string line =
        absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                      absl::UTCTimeZone()),
                     " ", std::string(1, letter), " ", message, "\n");
    absl::MutexLock lock(&mu_);
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }

  std::FILE* const file_;
  const log::LogLevel max_level_;
  absl::Mutex mu_;
};

// The console: log::StderrLogger; Always() lines are progress (kInfo).
class ConsoleLogger : public CliLogger {
 public:
  explicit ConsoleLogger(log::LogLevel max_level) : stderr_(max_level) {}
  void Log(log::LogLevel level, absl::string_view message) override {
    stderr_.Log(level, message);
  }
  bool writes_file() const override { return false; }

 private:
  log::StderrLogger stderr_;
};

}  // namespace

log::LogLevel LevelForVerbosity(int verbosity) {
  if (verbosity >= 3) return log::LogLevel::kDebug;
  if (verbosity == 2) return log::LogLevel::kInfo;
  return log::LogLevel::kWarning;
}

absl::StatusOr<std::unique_ptr<CliLogger>> MakeLogger(
    absl::string_view location, absl::string_view instance_name,
    int verbosity) {
  log::LogLevel level = LevelForVerbosity(verbosity);
  if (location == "stdout" || location.empty()) {
    return std::unique_ptr<CliLogger>(std::make_unique<ConsoleLogger>(level));
  }
  std::string path = absl::StrCat(location, "/", instance_name, ".log");
  // Not world-readable: a log names hosts, sites and collections.
  const int fd =
      open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  std::FILE* file = fd < 0 ? nullptr : fdopen(fd, "a");
  if (file == nullptr) {
    const int err = errno;
    if (fd >= 0) close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write the log file \"", path,
                     "\": ", std::strerror(err), " (-ll/--loglocation \"",
                     location, "\" must be a writable folder, or \"stdout\")"));
  }
  return std::unique_ptr<CliLogger>(std::make_unique<FileLogger>(file, level));
}

LogTee::~LogTee() {
  absl::MutexLock lock(&mu_);
  FlushPartial();
}

void LogTee::set_logger(log::Logger* logger) {
  absl::MutexLock lock(&mu_);
  FlushPartial();
  logger_ = logger;
}

int LogTee::overflow(int c) {
  if (c == traits_type::eof()) return traits_type::not_eof(c);
  const char ch = traits_type::to_char_type(c);
  absl::MutexLock lock(&mu_);
  if (terminal_->sputc(ch) == traits_type::eof()) return traits_type::eof();
  Append(&ch, 1);
  return c;
}

std::streamsize LogTee::xsputn(const char* s, std::streamsize n) {
  absl::MutexLock lock(&mu_);
  const std::streamsize written = terminal_->sputn(s, n);
  if (written > 0) Append(s, static_cast<size_t>(written));
  return written;
}

int LogTee::sync() { return terminal_->pubsync(); }

void LogTee::Append(const char* s, size_t n) {
  if (logger_ == nullptr) return;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == '\n') {
      LogLine(line_);
      line_.clear();
    } else {
      line_.push_back(s[i]);
    }
  }
}

void LogTee::LogLine(absl::string_view line) {
  if (absl::ConsumePrefix(&line, "Error: ")) {
    level_ = log::LogLevel::kError;
  } else if (absl::ConsumePrefix(&line, "Warning: ")) {
    level_ = log::LogLevel::kWarning;
  }
  if (absl::StripAsciiWhitespace(line).empty()) return;
  logger_->Log(level_, line);
}

void LogTee::FlushPartial() {
  if (logger_ != nullptr && !line_.empty()) LogLine(line_);
  line_.clear();
}

}  // namespace tqs1::cli

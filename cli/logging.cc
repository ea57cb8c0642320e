#include "cli/logging.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tqs1::cli {
namespace {

// The log file at `path`, opened for appending; created with mode 0640.
absl::StatusOr<std::FILE*> OpenLogFile(const std::string& path) {
  // Not world-readable: a log names hosts, sites and collections.
  const int fd =
      open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  std::FILE* file = fd < 0 ? nullptr : fdopen(fd, "a");
  if (file == nullptr) {
    const int err = errno;
    if (fd >= 0) close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot write the log file \"", path, "\": ", std::strerror(err)));
  }
  return file;
}

// Appends "<UTC time> <letter> <message>" lines to a file.
class FileLogger : public CliLogger {
 public:
  FileLogger(std::string path, std::FILE* file, log::LogLevel max_level)
      : path_(std::move(path)), file_(file), max_level_(max_level) {}
  ~FileLogger() override { std::fclose(file_); }

  void Log(log::LogLevel level, absl::string_view message) override {
    if (level > max_level_) return;
    Write(log::LogLevelLetter(level), message);
  }
  void Always(absl::string_view message) override { Write('I', message); }
  bool writes_file() const override { return true; }

  absl::Status Reopen() override {
    absl::StatusOr<std::FILE*> file = OpenLogFile(path_);
    if (!file.ok()) return file.status();
    absl::MutexLock lock(&mu_);
    std::fclose(file_);
    file_ = *file;
    return absl::OkStatus();
  }

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

  const std::string path_;
  absl::Mutex mu_;
  std::FILE* file_ ABSL_GUARDED_BY(mu_);
  const log::LogLevel max_level_;
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
  absl::StatusOr<std::FILE*> file = OpenLogFile(path);
  if (!file.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.status().message(), " (-ll/--loglocation \"",
                     location, "\" must be a writable folder, or \"stdout\")"));
  }
  return std::unique_ptr<CliLogger>(
      std::make_unique<FileLogger>(std::move(path), *file, level));
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

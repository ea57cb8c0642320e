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
#include "nlohmann/json.hpp"

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

const char* LevelWord(log::LogLevel level) {
  switch (level) {
    case log::LogLevel::kError:
      return "error";
    case log::LogLevel::kWarning:
      return "warning";
    case log::LogLevel::kInfo:
      return "info";
    case log::LogLevel::kDebug:
      return "debug";
  }
  return "info";
}

// The sync a message names by tqs1's convention, `sync "NAME": ...`;
// empty when it names none.
std::string SyncOfMessage(absl::string_view message) {
  if (!absl::ConsumePrefix(&message, "sync \"")) return "";
  const size_t end = message.find("\": ");
  return end == absl::string_view::npos ? ""
                                        : std::string(message.substr(0, end));
}

// The logger of a run, to a log file (-ll DIR) or the console (standard
// error), in either format.
class RunLogger : public CliLogger {
 public:
  // `file` null: the console. Owns `file`.
  RunLogger(std::string path, std::FILE* file, log::LogLevel max_level,
            LogFormat format)
      : path_(std::move(path)),
        file_(file),
        max_level_(max_level),
        format_(format),
        run_id_(log::NewRunId()) {}
  ~RunLogger() override {
    if (file_ != nullptr) std::fclose(file_);
  }

  void Log(log::LogLevel level, absl::string_view message) override {
    LogWith(level, message, {});
  }
  void Always(absl::string_view message) override { AlwaysWith(message, {}); }
  void LogWith(log::LogLevel level, absl::string_view message,
               const log::LogFields& fields) override {
    if (level > max_level_) return;
    Write(level, message, fields);
  }
  // A log file keeps it at every verbosity; the console shows it as
  // progress.
  void AlwaysWith(absl::string_view message,
                  const log::LogFields& fields) override {
    if (file_ == nullptr && log::LogLevel::kInfo > max_level_) return;
    Write(log::LogLevel::kInfo, message, fields);
  }
  bool writes_file() const override { return file_ != nullptr; }
  const std::string& run_id() const override { return run_id_; }

  absl::Status Reopen() override {
    if (file_ == nullptr) return absl::OkStatus();
    absl::StatusOr<std::FILE*> file = OpenLogFile(path_);
    if (!file.ok()) return file.status();
    absl::MutexLock lock(&mu_);
    std::fclose(file_);
    file_ = *file;
    return absl::OkStatus();
  }

 private:
  std::string Line(log::LogLevel level, absl::string_view message,
                   const log::LogFields& fields) const {
    const absl::Time now = absl::Now();
    if (format_ == LogFormat::kText) {
      if (file_ == nullptr) {
        return absl::StrCat(std::string(1, log::LogLevelLetter(level)),
                            " tqs1: ", message, "\n");
      }
      return absl::StrCat(
          absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()), " ",
          std::string(1, log::LogLevelLetter(level)), " ", message, "\n");
    }
    nlohmann::ordered_json line;
    line["time"] =
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone());
    line["level"] = LevelWord(level);
    line["message"] = std::string(message);
    const absl::string_view scoped = log::LogScope::RunId();
    line["run_id"] = scoped.empty() ? run_id_ : std::string(scoped);
    std::string sync = fields.sync;
    if (sync.empty()) sync = std::string(log::LogScope::Sync());
    if (sync.empty()) sync = SyncOfMessage(message);
    if (!sync.empty()) line["sync"] = sync;
    if (!fields.counts.empty()) {
      nlohmann::ordered_json& counts = line["counts"];
      counts = nlohmann::ordered_json::object();
      for (const auto& [name, value] : fields.counts) counts[name] = value;
    }
    if (!fields.error.empty()) {
      line["error"] = fields.error;
    } else if (level == log::LogLevel::kError) {
      line["error"] = std::string(message);
    }
    // Values from the vendors may hold invalid UTF-8: replaced, never a
    // throw and never a line that is not JSON.
    return absl::StrCat(
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        "\n");
  }

  void Write(log::LogLevel level, absl::string_view message,
             const log::LogFields& fields) {
    const std::string line = Line(level, message, fields);
    absl::MutexLock lock(&mu_);
    std::FILE* out = file_ != nullptr ? file_ : stderr;
    std::fwrite(line.data(), 1, line.size(), out);
    std::fflush(out);
  }

  const std::string path_;
  absl::Mutex mu_;
  std::FILE* file_ ABSL_GUARDED_BY(mu_);
  const log::LogLevel max_level_;
  const LogFormat format_;
  const std::string run_id_;
};

}  // namespace

log::LogLevel LevelForVerbosity(int verbosity) {
  if (verbosity >= 3) return log::LogLevel::kDebug;
  if (verbosity == 2) return log::LogLevel::kInfo;
  return log::LogLevel::kWarning;
}

absl::StatusOr<std::unique_ptr<CliLogger>> MakeLogger(
    absl::string_view location, absl::string_view instance_name, int verbosity,
    LogFormat format) {
  log::LogLevel level = LevelForVerbosity(verbosity);
  if (location == "stdout" || location.empty()) {
    return std::unique_ptr<CliLogger>(
        std::make_unique<RunLogger>("", nullptr, level, format));
  }
  std::string path = absl::StrCat(location, "/", instance_name, ".log");
  absl::StatusOr<std::FILE*> file = OpenLogFile(path);
  if (!file.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.status().message(), " (-ll/--loglocation \"",
                     location, "\" must be a writable folder, or \"stdout\")"));
  }
  return std::unique_ptr<CliLogger>(
      std::make_unique<RunLogger>(std::move(path), *file, level, format));
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

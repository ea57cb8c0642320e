// A tiny logging interface for the providers. Clients and transports take a
// Logger* in their options; the CLI wires a StderrLogger (or a file logger)
// and maps `-v {1,2,3}` to a LogLevel, tests wire a CapturingLogger.
//
//   StderrLogger logger(LogLevel::kInfo);
//   logger.Log(LogLevel::kWarning, "TLS verification is OFF");
//   // stderr: "W tqs1: TLS verification is OFF"
//
// Never log secrets (passwords, client secrets, tokens, Authorization header
// values) or request/response bodies: tests grep captured logs for them.
// The one exception is a short excerpt of an error body a client has
// redacted first (base/redact.h), e.g. the 429 warning of RetryingTransport.
#ifndef TQS1_BASE_LOGGER_H_
#define TQS1_BASE_LOGGER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tqs1::log {

// Ordered from most to least severe: a logger at level L prints messages
// whose level is <= L.
enum class LogLevel { kError, kWarning, kInfo, kDebug };

// One letter per level: 'E', 'W', 'I', 'D'.
char LogLevelLetter(LogLevel level);

// What a line says beside its message, for a log a machine reads
// (`--log-format json`): the sync it concerns, its counts, its error.
//
//   LogFields fields;
//   fields.sync = "a";
//   fields.counts = {{"created", 1}};
//   LogTo(logger, LogLevel::kInfo, "applied sync \"a\": 1 created", fields);
struct LogFields {
  std::string sync;
  std::vector<std::pair<std::string, uint64_t>> counts;
  std::string error;
};

// Receives log lines. Implementations are thread-safe; Log() never fails.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Log(LogLevel level, absl::string_view message) = 0;
  // A line a log file holds at every verbosity (a run's start and end, the
  // guards that tripped). Elsewhere it is progress: kInfo by default.
  virtual void Always(absl::string_view message) {
    Log(LogLevel::kInfo, message);
  }
  // Log() and Always() with fields; a logger that keeps none logs the
  // message alone.
  virtual void LogWith(LogLevel level, absl::string_view message,
                       const LogFields& fields) {
    (void)fields;
    Log(level, message);
  }
  virtual void AlwaysWith(absl::string_view message, const LogFields& fields) {
    (void)fields;
    Always(message);
  }
};

// A run's id: 16 random hex digits, the same on every line of the run.
std::string NewRunId();

// While it lives, the lines this thread logs belong to run `run_id` (a
// round or call of `tqs1 serve`) and concern sync `sync`; a logger that
// records them (`--log-format json`) uses its own run id (the process's)
// outside any scope. Scopes nest; an empty value keeps the enclosing one's.
//
//   LogScope scope(NewRunId(), sync.name());
//   RunSync(...);  // every line it logs says run_id and sync
class LogScope {
 public:
  LogScope(std::string run_id, std::string sync);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;
  // The innermost non-empty values on this thread; empty outside any.
  static absl::string_view RunId();
  static absl::string_view Sync();

 private:
  std::string run_id_;
  std::string sync_;
  const LogScope* outer_;
};

// Writes "<letter> tqs1: <message>\n" to stderr for messages at or above
// `max_level` in severity. Thread-safe (lines never interleave).
class StderrLogger : public Logger {
 public:
  explicit StderrLogger(LogLevel max_level = LogLevel::kInfo)
      : max_level_(max_level) {}
  void Log(LogLevel level, absl::string_view message) override;

 private:
  const LogLevel max_level_;
  absl::Mutex mu_;
};

// Logs `message` to `logger` when it is not null. Lets options carry an
// optional, unowned Logger*.
inline void LogTo(Logger* logger, LogLevel level, absl::string_view message) {
  if (logger != nullptr) logger->Log(level, message);
}

// Logger::Always() on `logger` when it is not null.
inline void LogAlwaysTo(Logger* logger, absl::string_view message) {
  if (logger != nullptr) logger->Always(message);
}

// The same, with fields.
inline void LogTo(Logger* logger, LogLevel level, absl::string_view message,
                  const LogFields& fields) {
  if (logger != nullptr) logger->LogWith(level, message, fields);
}
inline void LogAlwaysTo(Logger* logger, absl::string_view message,
                        const LogFields& fields) {
  if (logger != nullptr) logger->AlwaysWith(message, fields);
}

}  // namespace tqs1::log

#endif  // TQS1_BASE_LOGGER_H_

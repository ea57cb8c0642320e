// Where tqs1 logs, from the old connector's flags: `-ll stdout` (the
// default) logs to the console (standard error, so that standard output
// stays the plan), `-ll DIR` appends to DIR/<instance>.log with UTC
// timestamps (the file is created with mode 0640); `-v {1,2,3}` chooses how
// much. `--log-format json` writes either as one JSON object per line, for
// a SIEM:
//
//   {"time":"2026-05-01T10:00:00.123Z","level":"info","message":"sync \"a\":
//    ...","run_id":"5f0c...","sync":"a","counts":{"created":1}}
//
// `time` (UTC, RFC 3339 with milliseconds), `level` (error, warning, info,
// debug), `message` and `run_id` (the same on every line of one run: a
// process, or a round or call of `tqs1 serve` under a log::LogScope) are
// always there; `sync` when the line concerns one (log::LogFields, the
// log::LogScope it is logged in, or a message of the form
// `sync "NAME": ...`), `counts` when it has some,
// `error` on error lines. Invalid UTF-8 is replaced.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<CliLogger> logger,
//                    MakeLogger("/var/log/tq_labs", "tqs1", 3));
//   logger->Always("start: tqs1 0.1.0 apply ...");  // at every -v level
//
// What the commands print on standard error reaches the log file too: main()
// writes them through a LogTee, which passes every byte on to the terminal
// and every complete line to the log file:
//
//   LogTee tee(std::cerr.rdbuf());
//   std::ostream err(&tee);
//   tee.set_logger(logger.get());   // only a logger that writes a file
//   err << "Error: sync \"a\": ...\n";  // stderr, and "E sync \"a\": ..."
#ifndef TQS1_CLI_LOGGING_H_
#define TQS1_CLI_LOGGING_H_

#include <memory>
#include <streambuf>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/logger.h"

namespace tqs1::cli {

// 1: errors and warnings, 2: also progress (info), 3: everything (debug).
log::LogLevel LevelForVerbosity(int verbosity);

// The logger of one tqs1 run: a log::Logger at the -v level, plus the lines
// that a log file holds at every level. Thread-safe.
class CliLogger : public log::Logger {
 public:
  // Always() writes `message` to a log file whatever the verbosity, with
  // the letter 'I': the start and end line of a run. On the console (-ll
  // stdout) these are progress lines (log::Logger's default), shown from -v2
  // on, so that cron's mail of a quiet run stays empty.
  // Whether this logger writes a file (-ll DIR), not the console.
  virtual bool writes_file() const = 0;
  // The id of this run (see the file comment).
  virtual const std::string& run_id() const = 0;
  // Opens the log file again by its path (after logrotate renamed it: the
  // next lines go to a new file there); the console: nothing to do. On an
  // error the old file is kept and the error names the path.
  virtual absl::Status Reopen() { return absl::OkStatus(); }
};

enum class LogFormat { kText, kJson };

// kInvalidArgument when DIR is not a folder tqs1 can write a log file in.
// A new log file is created with mode 0640 (an existing one keeps its
// mode).
absl::StatusOr<std::unique_ptr<CliLogger>> MakeLogger(
    absl::string_view location, absl::string_view instance_name, int verbosity,
    LogFormat format = LogFormat::kText);

// A std::streambuf in front of the terminal's standard error: every byte
// goes on to `terminal` unchanged, and, while a logger is set, every
// complete line is also logged: a line starting "Error: " at kError, one
// starting "Warning: " at kWarning (each without that prefix), and any
// other line at the level of the line before it (kWarning for a first
// line), so that a message spanning lines stays at its level. A partial
// last line is logged when the tee is destroyed or the logger changes.
// Thread-safe.
class LogTee : public std::streambuf {
 public:
  // `terminal` is not owned and must outlive the tee.
  explicit LogTee(std::streambuf* terminal) : terminal_(terminal) {}
  ~LogTee() override;

  // Starts (or, with null, stops) logging lines to `logger`, which is not
  // owned and must stay alive until it is replaced or the tee is destroyed.
  void set_logger(log::Logger* logger);

 protected:
  int overflow(int c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  void Append(const char* s, size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LogLine(absl::string_view line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FlushPartial() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::streambuf* const terminal_;
  absl::Mutex mu_;
  log::Logger* logger_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string line_ ABSL_GUARDED_BY(mu_);
  log::LogLevel level_ ABSL_GUARDED_BY(mu_) = log::LogLevel::kWarning;
};

}  // namespace tqs1::cli

#endif  // TQS1_CLI_LOGGING_H_

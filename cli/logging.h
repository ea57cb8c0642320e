// Where tqs1 logs, from the old connector's flags: `-ll stdout` (the
// default) logs to the console (standard error, so that standard output
// stays the plan), `-ll DIR` appends to DIR/<instance>.log with UTC
// timestamps; `-v {1,2,3}` chooses how much.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<log::Logger> logger,
//                    MakeLogger("/var/log/tq_labs", "tqs1", 3));
#ifndef TQS1_CLI_LOGGING_H_
#define TQS1_CLI_LOGGING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "providers/log/logger.h"

namespace tqs1::cli {

// 1: errors and warnings, 2: also progress (info), 3: everything (debug).
log::LogLevel LevelForVerbosity(int verbosity);

// kInvalidArgument when DIR is not a folder tqs1 can write a log file in.
absl::StatusOr<std::unique_ptr<log::Logger>> MakeLogger(
    absl::string_view location, absl::string_view instance_name, int verbosity);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_LOGGING_H_

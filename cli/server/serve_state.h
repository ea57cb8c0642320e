// The file where `tqs1 serve` keeps each sync's drift across restarts
// (config::ConfigPaths::ServeStateFile()): a tqs1.v1.ServeState as JSON,
// format "tqs1.serve-state.v1", at most 16 MiB.
//
//   absl::StatusOr<ServeState> saved = ReadServeState(path);  // NotFound: none
//   RETURN_IF_ERROR(WriteServeState(path, state));
#ifndef TQS1_CLI_SERVER_SERVE_STATE_H_
#define TQS1_CLI_SERVER_SERVE_STATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/service.pb.h"

namespace tqs1::server {

// The state kept at `path`: kNotFound when there is none yet; any other
// error names the file and what is wrong with it (too large, not JSON of a
// ServeState, another format). Unknown fields are ignored.
absl::StatusOr<tqs1::v1::ServeState> ReadServeState(const std::string& path);

// Replaces the file at `path` with `state` (its format set), atomically.
absl::Status WriteServeState(const std::string& path,
                             tqs1::v1::ServeState state);

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_SERVE_STATE_H_

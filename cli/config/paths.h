// Where tqs1 finds its config file and keeps its state, from `-c/--config`
// and `-n/--name` (the old connector's flags):
//
//   -c /etc/tq_labs/            -> /etc/tq_labs/tqs1.yaml, state in
//                                  /etc/tq_labs/ (tqs1.lock,
//                                  tqs1.last-run.json)
//   -c /etc/tq_labs/ -n prod    -> /etc/tq_labs/prod.yaml, prod.lock, ...
//   -c /etc/tq_labs/prod.yaml   -> that file; prod.lock, ... beside it
//   (no -c)                     -> the current directory
//
//   ASSIGN_OR_RETURN(ConfigPaths paths, ResolveConfigPaths(flag_c, flag_n));
//   ASSIGN_OR_RETURN(Config config, LoadConfigFile(paths.config_file));
//   ASSIGN_OR_RETURN(ApplyLock lock, ApplyLock::Acquire(paths.LockFile()));
#ifndef TQS1_CLI_CONFIG_PATHS_H_
#define TQS1_CLI_CONFIG_PATHS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tqs1::config {

// The instance name when `-n` is not given and `-c` is not a file.
inline constexpr absl::string_view kDefaultInstanceName = "tqs1";

// A config file and the folder of its instance's state. Paths are absolute
// and lexically normal (no "." or ".." parts, no trailing '/').
struct ConfigPaths {
  std::string config_file;    // e.g. "/etc/tq_labs/tqs1.yaml"
  std::string state_dir;      // e.g. "/etc/tq_labs"
  std::string instance_name;  // e.g. "tqs1"

  // "<state_dir>/<instance_name>.lock": the apply lock.
  std::string LockFile() const;
  // "<state_dir>/<instance_name>.last-run.json": the last run's record.
  std::string LastRunFile() const;
  // "<state_dir>/<instance_name>.serve-state.json": what `tqs1 serve` keeps
  // across restarts.
  std::string ServeStateFile() const;
  // "<state_dir>/<instance_name>.plan-key": the key that signs plan files.
  std::string PlanKeyFile() const;
  // "<state_dir>/<instance_name>.ledger.sqlite": the ledger of applies
  // (`tqs1 why`, `tqs1 history`).
  std::string LedgerFile() const;
};

// Checks an instance name: 1 to 64 letters, digits, '.', '_' or '-', not
// starting with '.' or '-'. kInvalidArgument otherwise, e.g.
// "instance name \"../x\" (-n/--name) must be 1 to 64 letters, digits, '.',
// '_' or '-', not starting with '.' or '-'".
absl::Status ValidateInstanceName(absl::string_view name);

// Resolves the flags of an existing config. `config_flag` is the value of
// -c/--config ("" means the current directory); `name_flag` the value of
// -n/--name ("" when absent).
//
// - a folder: its "<name>.yaml" (or "<name>.yml"), name = `name_flag` or
//   "tqs1"; the folder holds the state.
// - a file: that file; its folder holds the state; name = `name_flag` or the
//   file's name without its extension ("prod.yaml" -> "prod"), so configs
//   sharing a folder get separate locks and records.
//
// - `state_flag` (--state-dir), when not empty, is the state folder instead
//   of the config's: an existing folder.
//
// Errors: kInvalidArgument for a bad instance name; kNotFound when the path
// does not exist, or the folder holds no config, naming what was looked for:
// "no config file in /etc/tq_labs: looked for /etc/tq_labs/tqs1.yaml and
// /etc/tq_labs/tqs1.yml (create one with `tqs1 init`)", or when the state
// folder does not exist ("state folder /var/lib/tqs1 (--state-dir) does not
// exist"); kFailedPrecondition when a path cannot be examined (e.g.
// permission denied) or the state folder is not a folder.
absl::StatusOr<ConfigPaths> ResolveConfigPaths(
    absl::string_view config_flag, absl::string_view name_flag,
    absl::string_view state_flag = "");

// Like ResolveConfigPaths() for a config that is about to be written
// (`tqs1 init`): nothing needs to exist. `config_flag` names a file when it
// ends in ".yaml" or ".yml" and is not an existing folder; otherwise a
// folder, which gets "<name>.yaml".
absl::StatusOr<ConfigPaths> NewConfigPaths(absl::string_view config_flag,
                                           absl::string_view name_flag);

}  // namespace tqs1::config

#endif  // TQS1_CLI_CONFIG_PATHS_H_

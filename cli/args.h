// The tqs1 command line: a command followed by options, in the style users
// know from Terraform, plus the old connector's flags with their old meaning
// (-c/--config, -ll/--loglocation, -v/--verbosity, -n/--name).
//
//   ASSIGN_OR_RETURN(CommandLine cl, ParseCommandLine({"apply",
//       "--auto-approve", "-c", "/etc/tq_labs/", "-ll", "/var/log/tq_labs/",
//       "-v3"}));
//   cl.command;       // "apply"
//   cl.verbosity;     // 3
#ifndef TQS1_CLI_ARGS_H_
#define TQS1_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tqs1::cli {

struct CommandLine {
  // plan, apply, demo, init, version, help (empty: help).
  std::string command;
  // Arguments that are not options (apply's PLANFILE).
  std::vector<std::string> positional;

  bool help = false;  // -h/--help
  // -c/--config: a config file, or a folder holding tqs1.yaml (or
  // <name>.yaml with -n). Default: the current directory.
  std::string config = ".";
  // -ll/--loglocation: a folder for tqs1.log, or "stdout" (the default).
  std::string log_location = "stdout";
  // -v/--verbosity: 1 errors and warnings, 2 progress, 3 everything.
  int verbosity = 1;
  // -n/--name: the instance name: selects <name>.yaml and its own state.
  std::string name;
  // --sync NAME (repeatable): only these syncs.
  std::vector<std::string> syncs;

  bool json = false;                // plan: print the JSON plan
  std::string out;                  // plan: --out FILE saves the plan
  bool detailed_exitcode = false;   // plan: 2 when changes are pending
  bool auto_approve = false;        // apply: no confirmation
  bool adopt = false;               // take over the old connector's rules
  bool allow_empty = false;         // override the empty-source guard
  bool allow_mass_unblock = false;  // override the unblock-share guard
  bool no_color = false;
  // -vv-style address listing in plans: --show-addresses N.
  int show_addresses = 0;
};

// Parses argv without the program name. kInvalidArgument naming the
// offending argument: unknown options, missing values, a verbosity outside
// 1..3, a command that does not exist.
absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args);

// The --help text of `command` ("" for the overview).
std::string HelpText(const std::string& command);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_ARGS_H_

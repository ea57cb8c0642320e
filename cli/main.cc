// tqs1: keeps SentinelOne firewall block rules equal to ThreatQ data
// collections. See `tqs1 help` and README.md.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "base/timestamp.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/build_info.h"
#include "cli/config/config_loader.h"
#include "cli/config/paths.h"
#include "cli/config/secrets.h"
#include "cli/config/state.h"
#include "cli/demo.h"
#include "cli/init.h"
#include "cli/logging.h"
#include "cli/server/serve.h"
#include "cli/version.h"
#include "providers/ledger/ledger.h"

namespace tqs1::cli {
namespace {

std::optional<std::string> Ask(const std::string& prompt, bool hidden) {
  std::cout << prompt << std::flush;
  termios saved{};
  bool restore = false;
  if (hidden && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    restore = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (restore) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cout << "\n";
  }
  if (!got) return std::nullopt;
  return line;
}

// What an exit code means, for the log's end line.
const char* ExitMeaning(int code) {
  switch (code) {
    case kExitOk:
      return "success";
    case kExitError:
      return "error";
    case kExitChanges:
      return "changes pending";
    case kExitGuard:
      return "a guard blocked a plan";
    case 128 + SIGINT:
    case 128 + SIGTERM:
      return "interrupted by a signal";
    default:
      return "?";
  }
}

// `tqs1 check --config-only`, once the config and its credentials loaded:
// what a service needs before it starts, without contacting either vendor.
int CheckConfigOnly(const tqs1::v1::Config& config,
                    const config::ConfigPaths& paths, const Io& io) {
  if (access(paths.state_dir.c_str(), W_OK | X_OK) != 0) {
    *io.err << "Error: the state folder " << paths.state_dir
            << " is not writable: " << std::strerror(errno) << "\n";
    return kExitError;
  }
  std::vector<std::string> names;
  for (const tqs1::v1::SyncConfig& sync : config.syncs()) {
    names.push_back(absl::StrCat("\"", sync.name(), "\""));
    // Listed from the console when it is connected.
    if (sync.has_all_sites()) {
      absl::StrAppend(&names.back(), ": every active site of account \"",
                      sync.all_sites().account(), "\"");
    }
  }
  *io.out << "Config " << paths.config_file << " is valid: " << names.size()
          << (names.size() == 1 ? " sync (" : " syncs (")
          << absl::StrJoin(names, ", ") << "), credentials found, state in "
          << paths.state_dir << ".\n";
  return kExitOk;
}

// plan, apply or check with a config that was found, once the logger
// exists.
int RunLocal(const CommandLine& cl, const config::ConfigPaths& paths,
             const Io& io, CliLogger* logger) {
  absl::StatusOr<tqs1::v1::Config> config =
      config::LoadConfigFile(paths.config_file);
  if (!config.ok()) {
    *io.err << "Error: " << config.status().message() << "\n";
    return kExitError;
  }
  // The ledger's readers: history and why, and plan --restore (a plain
  // plan never touches it). nullptr when no apply was recorded yet.
  std::unique_ptr<ledger::Ledger> reader;
  if (cl.command == "history" || cl.command == "why" ||
      (cl.command == "plan" && cl.restore != 0)) {
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> ledger =
        OpenLedger(paths.LedgerFile(), /*read_only=*/true);
    if (!ledger.ok()) {
      *io.err << "Error: " << ledger.status().message() << "\n";
      return kExitError;
    }
    reader = *std::move(ledger);
  }
  // history and why --offline need no vendor, and no credentials.
  if (cl.command == "why" && cl.offline) {
    return RunWhy(*config, nullptr, reader.get(), WhyCommandFrom(cl), io,
                  logger);
  }
  if (cl.command == "history") {
    if (reader == nullptr) {
      *io.out << "No applies recorded yet (no ledger at " << paths.LedgerFile()
              << ").\n";
      return kExitOk;
    }
    return RunHistory(*reader, HistoryCommandFrom(cl), io);
  }
  config::SecretOptions secret_options;
  secret_options.logger = logger;
  absl::StatusOr<config::Credentials> secrets =
      config::ResolveCredentials(*config, secret_options);
  if (!secrets.ok()) {
    *io.err << "Error: " << secrets.status().message() << "\n";
    return kExitError;
  }
  if (cl.command == "check" && cl.config_only) {
    return CheckConfigOnly(*config, paths, io);
  }
  absl::StatusOr<Backends> backends = Connect(*config, *secrets, logger);
  if (!backends.ok()) {
    *io.err << "Error: " << backends.status().message() << "\n";
    return kExitError;
  }
  backends->ipv6_auto = Ipv6FromProbes(paths.state_dir, *config, logger);
  // Entries of every site of an account become a sync a site.
  if (absl::Status expanded = ExpandAllSites(*config, *backends);
      !expanded.ok()) {
    *io.err << "Error: " << expanded.message() << "\n";
    return kExitError;
  }
  if (cl.command == "check") {
    return RunCheckCommand(*config, *backends, *secrets, cl, paths.state_dir,
                           io, logger);
  }
  if (cl.command == "plan" || cl.command == "why") {
    // why says since when; plan --restore plans the recorded set.
    backends->ledger = std::move(reader);
    if (cl.command == "why") {
      return RunWhy(*config, &*backends, backends->ledger.get(),
                    WhyCommandFrom(cl), io, logger);
    }
    return RunPlan(*config, *backends, PlanCommandFrom(cl), io, logger);
  }

  // One apply at a time per state folder (cron overlapping a manual run).
  absl::StatusOr<config::ApplyLock> lock =
      config::ApplyLock::Acquire(paths.LockFile(), cl.lock_timeout);
  if (!lock.ok()) {
    *io.err << "Error: " << lock.status().message() << "\n";
    return kExitError;
  }
  // Every apply is recorded: a ledger that cannot be opened (corrupt,
  // locked, newer) stops it before anything is read or written.
  absl::StatusOr<std::unique_ptr<ledger::Ledger>> ledger =
      OpenLedger(paths.LedgerFile(), /*read_only=*/false);
  if (!ledger.ok()) {
    *io.err << "Error: " << ledger.status().message() << "; nothing applied\n";
    return kExitError;
  }
  backends->ledger = *std::move(ledger);
  tqs1::v1::LastRun record;
  record.set_command("apply");
  record.set_run_id(logger->run_id());
  *record.mutable_started() = ToTimestamp(absl::Now());
  ApplyCommand command = ApplyCommandFrom(cl);
  command.identity = ThisProcess(logger->run_id());
  int code = RunApply(*config, *backends, command, io, logger, &record);
  PruneLedger(*config, *backends->ledger, logger);
  *record.mutable_finished() = ToTimestamp(absl::Now());
  if (absl::Status s = config::SaveLastRun(paths.LastRunFile(), record);
      !s.ok()) {
    log::LogTo(logger, log::LogLevel::kWarning,
               absl::StrCat("cannot record the last run: ", s.message()));
  }
  return code;
}

// plan or apply on this machine. With -ll DIR, the log file gets a start
// and an end line at every -v level, and every line the command prints on
// standard error (through `tee`), so that a cron job's log says what
// happened even when it failed before reading anything.
int PlanOrApply(const CommandLine& cl, const Io& io, LogTee& tee,
                absl::string_view invocation) {
  const absl::Time started = absl::Now();
  absl::StatusOr<config::ConfigPaths> paths =
      config::ResolveConfigPaths(cl.config, cl.name, cl.state_dir);
  // Without a config, the log still goes where -ll and -n say.
  std::string instance(config::kDefaultInstanceName);
  if (paths.ok()) {
    instance = paths->instance_name;
  } else if (!cl.name.empty() && config::ValidateInstanceName(cl.name).ok()) {
    instance = cl.name;
  }
  absl::StatusOr<std::unique_ptr<CliLogger>> logger =
      MakeLogger(cl.log_location, instance, cl.verbosity,
                 cl.log_json ? LogFormat::kJson : LogFormat::kText);
  if (!logger.ok()) {
    *io.err << "Error: " << logger.status().message() << "\n";
    if (!paths.ok()) *io.err << "Error: " << paths.status().message() << "\n";
    return kExitError;
  }
  CliLogger& log = **logger;
  if (log.writes_file()) tee.set_logger(&log);
  const long pid = static_cast<long>(getpid());
  log.Always(absl::StrCat("start: tqs1 ", kVersion, " ", cl.command,
                          ", config ",
                          paths.ok() ? paths->config_file : cl.config, ", pid ",
                          pid, "; ", invocation));
  int code = kExitError;
  if (paths.ok()) {
    code = RunLocal(cl, *paths, io, &log);
  } else {
    *io.err << "Error: " << paths.status().message() << "\n";
  }
  io.err->flush();
  log.Always(absl::StrCat(
      "end: tqs1 ", kVersion, " ", cl.command, ", exit ", code, " (",
      ExitMeaning(code), ") after ",
      absl::StrFormat("%.2fs", absl::ToDoubleSeconds(absl::Now() - started)),
      ", pid ", pid));
  tee.set_logger(nullptr);
  return code;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Under the old connector's name: its flags only, as apply --auto-approve.
  const bool legacy = argc > 0 && IsLegacyProgramName(argv[0]);
  absl::StatusOr<CommandLine> cl =
      legacy ? ParseLegacyCommandLine(args) : ParseCommandLine(args);
  if (!cl.ok()) {
    std::cerr << "Error: " << cl.status().message() << "\n";
    return kExitError;
  }
  if (cl->command == "help") {
    std::cout << HelpText(cl->positional.empty() ? "" : cl->positional[0]);
    return kExitOk;
  }
  if (cl->help) {
    std::cout << HelpText(legacy ? kLegacyProgramName : cl->command);
    return kExitOk;
  }
  if (cl->version || cl->command == "version") {
    std::cout << "tqs1 " << kVersion << " (commit " << kCommit << ")\n";
    return kExitOk;
  }
  if (cl->command.empty()) {
    // Not help: a cron line that lost its command must not exit 0.
    std::cerr << MissingCommandText(args);
    return kExitError;
  }

  // Standard error through a tee, so that errors reach a log file too.
  LogTee tee(std::cerr.rdbuf());
  std::ostream err(&tee);
  err.tie(&std::cout);  // as std::cerr: what was printed comes first
  Io io;
  io.out = &std::cout;
  io.err = &err;
  io.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  const char* no_color = std::getenv("NO_COLOR");
  io.color = isatty(STDOUT_FILENO) && !cl->no_color &&
             (no_color == nullptr || *no_color == '\0');
  io.ask = Ask;

  if (cl->command == "demo") return RunDemo(*cl, io);
  if (cl->command == "check" && cl->serve_demo) return RunCheckDemo(*cl, io);
  if (cl->command == "init") return RunInit(*cl, io);
  if (cl->command == "serve") return server::RunServe(*cl, io);
  if (cl->command == "drift" || !cl->server.empty()) {
    return server::RunClientCommand(*cl, io);
  }
  const std::string invocation =
      legacy ? absl::StrCat("as ", kLegacyProgramName, " ", ShellJoin(args))
             : absl::StrCat("tqs1 ", ShellJoin(args));
  return PlanOrApply(*cl, io, tee, invocation);
}

}  // namespace
}  // namespace tqs1::cli

int main(int argc, char** argv) { return tqs1::cli::Main(argc, argv); }

// tqs1: keeps SentinelOne firewall block rules equal to ThreatQ data
// collections. See `tqs1 help` and README.md.
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/config/config_loader.h"
#include "cli/config/paths.h"
#include "cli/config/secrets.h"
#include "cli/config/state.h"
#include "cli/demo.h"
#include "cli/init.h"
#include "cli/logging.h"
#include "cli/server/serve.h"
#include "cli/version.h"

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

int PlanOrApply(const CommandLine& cl, const Io& io) {
  absl::StatusOr<config::ConfigPaths> paths =
      config::ResolveConfigPaths(cl.config, cl.name);
  if (!paths.ok()) {
    *io.err << "Error: " << paths.status().message() << "\n";
    return kExitError;
  }
  absl::StatusOr<std::unique_ptr<log::Logger>> logger =
      MakeLogger(cl.log_location, paths->instance_name, cl.verbosity);
  if (!logger.ok()) {
    *io.err << "Error: " << logger.status().message() << "\n";
    return kExitError;
  }
  absl::StatusOr<tqs1::v1::Config> config =
      config::LoadConfigFile(paths->config_file);
  if (!config.ok()) {
    *io.err << "Error: " << config.status().message() << "\n";
    return kExitError;
  }
  config::SecretOptions secret_options;
  secret_options.logger = logger->get();
  absl::StatusOr<config::Credentials> secrets =
      config::ResolveCredentials(*config, secret_options);
  if (!secrets.ok()) {
    *io.err << "Error: " << secrets.status().message() << "\n";
    return kExitError;
  }
  absl::StatusOr<Backends> backends = Connect(*config, *secrets, logger->get());
  if (!backends.ok()) {
    *io.err << "Error: " << backends.status().message() << "\n";
    return kExitError;
  }
  if (cl.command == "plan") {
    return RunPlan(*config, *backends, cl, io, logger->get());
  }

  // One apply at a time per state folder (cron overlapping a manual run).
  absl::StatusOr<config::ApplyLock> lock =
      config::ApplyLock::Acquire(paths->LockFile(), cl.lock_timeout);
  if (!lock.ok()) {
    *io.err << "Error: " << lock.status().message() << "\n";
    return kExitError;
  }
  config::LastRunRecord record;
  record.command = "apply";
  record.started = absl::Now();
  int code = RunApply(*config, *backends, cl, io, logger->get(), &record);
  record.finished = absl::Now();
  if (absl::Status s = config::SaveLastRun(paths->LastRunFile(), record);
      !s.ok()) {
    log::LogTo(logger->get(), log::LogLevel::kWarning,
               absl::StrCat("cannot record the last run: ", s.message()));
  }
  return code;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<CommandLine> cl = ParseCommandLine(args);
  if (!cl.ok()) {
    std::cerr << "Error: " << cl.status().message() << "\n";
    return kExitError;
  }
  if (cl->command == "help") {
    std::cout << HelpText(cl->positional.empty() ? "" : cl->positional[0]);
    return kExitOk;
  }
  if (cl->help) {
    std::cout << HelpText(cl->command);
    return kExitOk;
  }
  if (cl->command == "version") {
    std::cout << "tqs1 " << kVersion << "\n";
    return kExitOk;
  }

  Io io;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  const char* no_color = std::getenv("NO_COLOR");
  io.color = isatty(STDOUT_FILENO) && !cl->no_color &&
             (no_color == nullptr || *no_color == '\0');
  io.ask = Ask;

  if (cl->command == "demo") return RunDemo(*cl, io);
  if (cl->command == "init") return RunInit(*cl, io);
  if (cl->command == "serve") return server::RunServe(*cl, io);
  if (cl->command == "drift" || !cl->server.empty()) {
    return server::RunClientCommand(*cl, io);
  }
  return PlanOrApply(*cl, io);
}

}  // namespace
}  // namespace tqs1::cli

int main(int argc, char** argv) { return tqs1::cli::Main(argc, argv); }

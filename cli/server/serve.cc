#include "cli/server/serve.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/net.h"
#include "base/status_macros.h"
#include "cli/config/config_loader.h"
#include "cli/config/paths.h"
#include "cli/config/secrets.h"
#include "cli/demo.h"
#include "cli/demo_scenario.h"
#include "cli/logging.h"
#include "cli/server/auth.h"
#include "cli/server/client.h"
#include "cli/server/server.h"
#include "cli/version.h"
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"
#include "google/protobuf/util/message_differencer.h"

namespace tqs1::server {

namespace {

using ::google::protobuf::util::MessageDifferencer;

// What `tqs1 serve` serves: a config with its backends, and for --demo the
// emulators they talk to.
struct ServeSetup {
  std::unique_ptr<cli::CliLogger> logger;
  std::string config_file;
  tqs1::v1::Config config;
  config::Credentials secrets;
  cli::Backends backends;
  std::string lock_file;
  std::string last_run_file;
  std::string ledger_file;
  std::string state_file;
  // Signs the plans the server returns, checks those it is given back.
  std::string plan_key;
  std::unique_ptr<threatq::ThreatQEmulator> tq;
  std::unique_ptr<sentinelone::SentinelOneEmulator> s1;
};

absl::StatusOr<ServeSetup> LoadSetup(const cli::CommandLine& cl) {
  ServeSetup setup;
  ASSIGN_OR_RETURN(
      config::ConfigPaths paths,
      config::ResolveConfigPaths(cl.config, cl.name, cl.state_dir));
  ASSIGN_OR_RETURN(
      setup.logger,
      cli::MakeLogger(
          cl.log_location, paths.instance_name, cl.verbosity,
          cl.log_json ? cli::LogFormat::kJson : cli::LogFormat::kText));
  setup.config_file = paths.config_file;
  ASSIGN_OR_RETURN(setup.config, config::LoadConfigFile(paths.config_file));
  config::SecretOptions secret_options;
  secret_options.logger = setup.logger.get();
  ASSIGN_OR_RETURN(setup.secrets,
                   config::ResolveCredentials(setup.config, secret_options));
  ASSIGN_OR_RETURN(setup.backends, cli::Connect(setup.config, setup.secrets,
                                                setup.logger.get()));
  setup.backends.ipv6_auto =
      cli::Ipv6FromProbes(paths.state_dir, setup.config, setup.logger.get());
  // The sites of an account as listed now (a reload lists them again).
  RETURN_IF_ERROR(cli::ExpandAllSites(setup.config, setup.backends));
  setup.lock_file = paths.LockFile();
  setup.last_run_file = paths.LastRunFile();
  setup.ledger_file = paths.LedgerFile();
  setup.state_file = paths.ServeStateFile();
  ASSIGN_OR_RETURN(setup.plan_key,
                   config::LoadOrCreatePlanKey(paths.PlanKeyFile()));
  return setup;
}

// --demo: the `tqs1 demo` collection on a ThreatQ emulator and an empty
// site on a SentinelOne emulator, both in-process on loopback.
absl::StatusOr<ServeSetup> DemoSetup(const cli::CommandLine& cl) {
  ServeSetup setup;
  ASSIGN_OR_RETURN(setup.logger,
                   cli::MakeLogger(cl.log_location, "tqs1", cl.verbosity,
                                   cl.log_json ? cli::LogFormat::kJson
                                               : cli::LogFormat::kText));
  config::Credentials secrets;
  secrets.threatq_password = "demo-password";
  secrets.sentinelone_api_token = "demo-token";
  ASSIGN_OR_RETURN(cli::DemoVendors vendors,
                   cli::StartDemoVendors(secrets.threatq_password,
                                         secrets.sentinelone_api_token,
                                         cli::DemoIndicators(cli::kDemoSeed)));
  setup.tq = std::move(vendors.tq);
  setup.s1 = std::move(vendors.s1);
  setup.config = cli::DemoConfig(setup.tq->base_url(), setup.s1->base_url());
  // The secrets live in this process, not in the environment.
  setup.config.mutable_threatq()->clear_password();
  setup.config.mutable_sentinelone()->clear_api_token();
  setup.config.mutable_syncs(0)->set_name("demo");
  ASSIGN_OR_RETURN(setup.backends,
                   cli::Connect(setup.config, secrets, setup.logger.get()));
  // Kept nowhere: the demo's plan files die with it.
  ASSIGN_OR_RETURN(setup.plan_key, config::NewPlanKey());
  return setup;
}

// What a SIGHUP weighs: the config as loaded, the secrets it resolved,
// and the files the flags name (the server's token, TLS). Flags themselves
// and environment variables are the process's own: they change with a
// restart only.
struct Loaded {
  tqs1::v1::Config config;
  config::Credentials secrets;
  std::string token;
  std::vector<std::string> tls;
};

absl::StatusOr<Loaded> LoadForReload(const cli::CommandLine& cl,
                                     ServeSetup& setup, log::Logger* logger) {
  Loaded loaded;
  loaded.config = setup.config;
  loaded.secrets = setup.secrets;
  ASSIGN_OR_RETURN(loaded.token,
                   ResolveToken(cl.token_file, cl.token_env, {{}, logger}));
  for (const auto& [file, option] :
       {std::make_pair(cl.tls_cert, "--tls-cert"),
        std::make_pair(cl.tls_key, "--tls-key"),
        std::make_pair(cl.tls_client_ca, "--tls-client-ca")}) {
    if (file.empty()) continue;
    ASSIGN_OR_RETURN(std::string pem, ReadPemFile(file, option));
    loaded.tls.push_back(std::move(pem));
  }
  return loaded;
}

// What differs between the running and the new load, in words (never a
// secret's value); empty when nothing does.
std::vector<std::string> Changes(const Loaded& was, const Loaded& now) {
  std::vector<std::string> changes;
  std::map<std::string, const tqs1::v1::SyncConfig*> old_syncs;
  for (const tqs1::v1::SyncConfig& sync : was.config.syncs()) {
    old_syncs[sync.name()] = &sync;
  }
  for (const tqs1::v1::SyncConfig& sync : now.config.syncs()) {
    auto it = old_syncs.find(sync.name());
    if (it == old_syncs.end()) {
      changes.push_back(absl::StrCat("sync \"", sync.name(), "\" added"));
      continue;
    }
    if (!MessageDifferencer::Equals(*it->second, sync)) {
      changes.push_back(absl::StrCat("sync \"", sync.name(), "\" changed"));
    }
    old_syncs.erase(it);
  }
  for (const auto& [name, sync] : old_syncs) {
    changes.push_back(absl::StrCat("sync \"", name, "\" removed"));
  }
  tqs1::v1::Config rest_was = was.config;
  tqs1::v1::Config rest_now = now.config;
  rest_was.clear_syncs();
  rest_now.clear_syncs();
  // The instances and consoles, one change each, then the rest.
  auto endpoints_changed = [&](absl::string_view key, auto instances) {
    const auto before = instances(rest_was);
    const auto after = instances(rest_now);
    bool changed = before.size() != after.size();
    for (size_t i = 0; !changed && i < before.size(); ++i) {
      changed = !MessageDifferencer::Equals(*before[i], *after[i]);
    }
    if (changed) changes.push_back(absl::StrCat(key, ": changed"));
  };
  endpoints_changed("threatq", config::ThreatQInstances);
  endpoints_changed("sentinelone", config::SentinelOneConsoles);
  rest_was.clear_threatq();
  rest_now.clear_threatq();
  rest_was.clear_sentinelone();
  rest_now.clear_sentinelone();
  rest_was.clear_threatq_instances();
  rest_now.clear_threatq_instances();
  rest_was.clear_sentinelone_consoles();
  rest_now.clear_sentinelone_consoles();
  if (!MessageDifferencer::Equals(rest_was, rest_now)) {
    changes.push_back("other settings changed");
  }
  if (!(was.secrets == now.secrets)) {
    changes.push_back("a vendor secret changed");
  }
  if (was.token != now.token) changes.push_back("the server token changed");
  if (was.tls != now.tls) changes.push_back("a TLS file changed");
  return changes;
}

// Runs this same program again in this process (same pid, same command
// line), from its executable as it was started. Returns only on failure.
absl::Status ReExec() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  std::vector<std::string> args = absl::StrSplit(cmdline, '\0');
  if (!args.empty() && args.back().empty()) args.pop_back();
  if (args.empty()) {
    return absl::InternalError("cannot read this process's command line");
  }
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // Nothing but standard input, output and error crosses into the new
  // image: a lock or a socket left open would outlive its owner.
  if (DIR* fds = opendir("/proc/self/fd"); fds != nullptr) {
    while (dirent* entry = readdir(fds)) {
      int fd = 0;
      if (absl::SimpleAtoi(entry->d_name, &fd) && fd > 2 && fd != dirfd(fds)) {
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
      }
    }
    closedir(fds);
  }
  execv("/proc/self/exe", argv.data());
  return absl::InternalError(
      absl::StrCat("cannot run tqs1 again: ", std::strerror(errno)));
}

// systemd's notify protocol (Type=notify): READY=1, RELOADING=1,
// STOPPING=1, STATUS=. A no-op when systemd did not start tqs1 (no
// NOTIFY_SOCKET).
void NotifySystemd(const std::string& state) { sd_notify(0, state.c_str()); }

// Feeds systemd's watchdog (WatchdogSec= in the unit) at half its period
// while the server is live (its schedule loop turns): a server that hangs,
// or whose loop stalls, is no longer fed, and systemd restarts it. Nothing
// when the unit sets no watchdog.
class Watchdog {
 public:
  Watchdog(Tqs1Server* server, log::Logger* logger) {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    const absl::Duration period = absl::Microseconds(usec) / 2;
    thread_ = std::thread([this, server, logger, period] {
      bool fed = true;
      absl::MutexLock lock(&mu_);
      do {
        const ProbeAnswer live = server->Liveness();
        if (live.ok) NotifySystemd("WATCHDOG=1");
        if (!live.ok && fed) {
          logger->Log(
              log::LogLevel::kError,
              absl::StrCat("systemd's watchdog is no longer fed: ",
                           absl::StripTrailingAsciiWhitespace(live.text)));
        }
        fed = live.ok;
      } while (!mu_.AwaitWithTimeout(absl::Condition(&stopped_), period));
    });
  }
  ~Watchdog() { Stop(); }
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopped_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

enum class Hangup { kServeOn, kRestart };

// SIGHUP: reopens the log file, then loads the config (and the files the
// flags name) again as at start. An invalid one is refused and the running
// one kept; a changed one restarts the server in place (ReExec(), once the
// caller has shut it down: an apply in flight stops before its next
// write, and the state file carries the drift over).
Hangup OnHangup(const cli::CommandLine& cl, const cli::Io& io,
                cli::CliLogger* logger, const Loaded& running) {
  auto say = [&io, logger](log::LogLevel level, absl::string_view what) {
    *io.out << "tqs1 serve: SIGHUP: " << what << "\n" << std::flush;
    // A reload is worth a line of the log file at every verbosity.
    const std::string line = absl::StrCat("reload: ", what);
    if (level == log::LogLevel::kInfo) {
      logger->Always(line);
    } else {
      logger->Log(level, line);
    }
  };
  if (absl::Status s = logger->Reopen(); !s.ok()) {
    say(log::LogLevel::kError,
        absl::StrCat(s.message(), "; logging to the file open before"));
  } else if (logger->writes_file()) {
    say(log::LogLevel::kInfo, "log file reopened");
  }
  if (cl.serve_demo) {
    say(log::LogLevel::kInfo, "--demo has no config to load again");
    return Hangup::kServeOn;
  }
  absl::StatusOr<ServeSetup> setup = LoadSetup(cl);
  absl::StatusOr<Loaded> loaded = setup.ok()
                                      ? LoadForReload(cl, *setup, logger)
                                      : absl::StatusOr<Loaded>(setup.status());
  if (!loaded.ok()) {
    say(log::LogLevel::kError,
        absl::StrCat("the new config is refused, the running one kept: ",
                     loaded.status().message()));
    return Hangup::kServeOn;
  }
  const std::vector<std::string> changes = Changes(running, *loaded);
  if (changes.empty()) {
    say(log::LogLevel::kInfo,
        absl::StrCat("config ", setup->config_file, " unchanged"));
    return Hangup::kServeOn;
  }
  say(log::LogLevel::kWarning,
      absl::StrCat("config ", setup->config_file, ": ",
                   absl::StrJoin(changes, ", "),
                   "; restarting in place (flags and environment variables "
                   "stay as started: change those with a restart)"));
  return Hangup::kRestart;
}

}  // namespace

int RunServe(const cli::CommandLine& cl, const cli::Io& io) {
  // Signals are taken by sigwait() below: block them before any thread
  // starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const absl::Time started = absl::Now();
  const long pid = static_cast<long>(getpid());
  absl::StatusOr<ServeSetup> setup =
      cl.serve_demo ? DemoSetup(cl) : LoadSetup(cl);
  if (!setup.ok()) {
    *io.err << "Error: " << setup.status().message() << "\n";
    return cli::kExitError;
  }
  cli::CliLogger* logger = setup->logger.get();
  // With -ll DIR the log says why serve did not start, and when it ran.
  auto fail = [&io, logger](absl::string_view message) {
    *io.err << "Error: " << message << "\n";
    if (logger->writes_file()) logger->Log(log::LogLevel::kError, message);
    return cli::kExitError;
  };
  absl::StatusOr<Loaded> running = LoadForReload(cl, *setup, logger);
  if (!running.ok()) return fail(running.status().message());

  ServeOptions options;
  options.listen = cl.listen;
  options.tls_cert_file = cl.tls_cert;
  options.tls_key_file = cl.tls_key;
  options.tls_client_ca_file = cl.tls_client_ca;
  options.token = running->token;
  options.interval = cl.interval;
  options.jitter_seed = std::random_device()();
  options.apply_on_schedule = cl.apply_on_schedule;
  options.metrics_listen = cl.metrics_listen;
  options.plan_key = setup->plan_key;
  SupervisorOptions supervisor;
  supervisor.lock_file = setup->lock_file;
  supervisor.last_run_file = setup->last_run_file;
  supervisor.ledger_file = setup->ledger_file;
  supervisor.state_file = setup->state_file;
  supervisor.logger = logger;
  supervisor.parallelism = config::Parallelism(setup->config);
  supervisor.plan_options.set_adopt(cl.adopt);
  supervisor.plan_options.set_allow_empty(cl.allow_empty);
  supervisor.plan_options.set_allow_mass_unblock(cl.allow_mass_unblock);
  supervisor.plan_options.set_allow_disabled_firewall(
      cl.allow_disabled_firewall);

  absl::StatusOr<std::unique_ptr<Tqs1Server>> server =
      Tqs1Server::Start(options, std::move(setup->config),
                        std::move(setup->backends), supervisor);
  if (!server.ok()) return fail(server.status().message());
  if (cl.serve_demo) {
    *io.out << "tqs1 serve --demo: ThreatQ emulator at "
            << setup->tq->base_url() << ", SentinelOne emulator at "
            << setup->s1->base_url() << "; sync \"demo\"\n";
  }
  if (absl::StatusOr<net::HostPort> hp = net::ParseHostPort(cl.metrics_listen);
      !cl.metrics_listen.empty() && hp.ok() && !net::IsLoopbackHost(hp->host)) {
    const std::string warning = absl::StrCat(
        "metrics on ", cl.metrics_listen,
        " are served beyond loopback without TLS or a token; allow only the "
        "scraper to reach them (a firewall, a network policy)");
    *io.err << "Warning: " << warning << "\n";
    if (logger->writes_file()) logger->Log(log::LogLevel::kWarning, warning);
  }
  *io.out << "tqs1 serve: listening on " << (*server)->address();
  if ((*server)->metrics_port() > 0) {
    absl::StatusOr<net::HostPort> hp = net::ParseHostPort(cl.metrics_listen);
    *io.out << "; metrics on http://" << (hp.ok() ? hp->host : "?") << ":"
            << (*server)->metrics_port() << "/metrics";
  }
  *io.out << (cl.apply_on_schedule ? "; applying" : "; observing")
          << (cl.interval > absl::ZeroDuration()
                  ? absl::StrCat(" every ", absl::FormatDuration(cl.interval))
                  : std::string(" on request only"))
          << "\n"
          << std::flush;
  logger->Always(absl::StrCat("start: tqs1 ", cli::kVersion, " serve on ",
                              (*server)->address(), ", pid ", pid));
  NotifySystemd(
      absl::StrCat("READY=1\nSTATUS=serving on ", (*server)->address()));
  Watchdog watchdog(server->get(), logger);

  int received = 0;
  Hangup hangup = Hangup::kServeOn;
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    hangup = OnHangup(cl, io, logger, *running);
    if (hangup == Hangup::kRestart) break;
  }
  watchdog.Stop();
  if (hangup == Hangup::kRestart) {
    // The process that follows says READY=1 again.
    NotifySystemd("RELOADING=1\nSTATUS=restarting in place on SIGHUP");
    (*server)->Shutdown();
    server->reset();
    logger->Always(absl::StrCat("end: tqs1 ", cli::kVersion,
                                " serve, restarting in place on SIGHUP, pid ",
                                pid));
    absl::Status s = ReExec();
    return fail(s.message());
  }
  *io.out << "tqs1 serve: " << (received == SIGTERM ? "SIGTERM" : "SIGINT")
          << ", stopping\n"
          << std::flush;
  NotifySystemd("STOPPING=1");
  (*server)->Shutdown();
  server->reset();  // before the emulators of --demo
  logger->Always(
      absl::StrCat("end: tqs1 ", cli::kVersion, " serve, stopped on ",
                   received == SIGTERM ? "SIGTERM" : "SIGINT", " after ",
                   absl::FormatDuration(
                       absl::Trunc(absl::Now() - started, absl::Seconds(1))),
                   ", pid ", pid));
  return cli::kExitOk;
}

int RunClientCommand(const cli::CommandLine& cl, const cli::Io& io) {
  absl::StatusOr<ClientOptions> options = ClientOptionsFrom(cl);
  if (!options.ok()) {
    *io.err << "Error: " << options.status().message() << "\n";
    return cli::kExitError;
  }
  if (cl.command == "drift") return RunDrift(cl, *options, io);
  if (cl.command == "plan") return RunRemotePlan(cl, *options, io);
  return RunRemoteApply(cl, *options, io);
}

}  // namespace tqs1::server

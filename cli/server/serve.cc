#include "cli/server/serve.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
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

namespace tqs1::server {

namespace {

// What `tqs1 serve` serves: a config with its backends, and for --demo the
// emulators they talk to.
struct ServeSetup {
  std::unique_ptr<cli::CliLogger> logger;
  tqs1::v1::Config config;
  cli::Backends backends;
  std::string lock_file;
  std::string last_run_file;
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
      cli::MakeLogger(cl.log_location, paths.instance_name, cl.verbosity));
  ASSIGN_OR_RETURN(setup.config, config::LoadConfigFile(paths.config_file));
  config::SecretOptions secret_options;
  secret_options.logger = setup.logger.get();
  ASSIGN_OR_RETURN(config::Credentials secrets,
                   config::ResolveCredentials(setup.config, secret_options));
  ASSIGN_OR_RETURN(setup.backends,
                   cli::Connect(setup.config, secrets, setup.logger.get()));
  setup.backends.ipv6_auto = cli::Ipv6FromProbes(
      paths.state_dir, setup.config.sentinelone().url(), setup.logger.get());
  setup.lock_file = paths.LockFile();
  setup.last_run_file = paths.LastRunFile();
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
                   cli::MakeLogger(cl.log_location, "tqs1", cl.verbosity));
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

}  // namespace

int RunServe(const cli::CommandLine& cl, const cli::Io& io) {
  // Signals are taken by sigwait() below: block them before any thread
  // starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
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
  absl::StatusOr<std::string> token =
      ResolveToken(cl.token_file, cl.token_env, {{}, logger});
  if (!token.ok()) return fail(token.status().message());

  ServeOptions options;
  options.listen = cl.listen;
  options.tls_cert_file = cl.tls_cert;
  options.tls_key_file = cl.tls_key;
  options.tls_client_ca_file = cl.tls_client_ca;
  options.token = *std::move(token);
  options.interval = cl.interval;
  options.jitter_seed = std::random_device()();
  options.apply_on_schedule = cl.apply_on_schedule;
  options.metrics_listen = cl.metrics_listen;
  options.plan_key = setup->plan_key;
  SupervisorOptions supervisor;
  supervisor.lock_file = setup->lock_file;
  supervisor.last_run_file = setup->last_run_file;
  supervisor.state_file = setup->state_file;
  supervisor.logger = logger;
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
    logger->Log(log::LogLevel::kWarning, warning);
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

  int received = 0;
  sigwait(&signals, &received);
  *io.out << "tqs1 serve: " << (received == SIGTERM ? "SIGTERM" : "SIGINT")
          << ", stopping\n"
          << std::flush;
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

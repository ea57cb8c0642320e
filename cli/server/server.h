// `tqs1 serve` as an object: the gRPC server (tqs1.v1.Tqs1, the standard
// health service, server reflection), the scheduled reconciliation, and the
// optional metrics page, over one SyncSupervisor. `cli/server/serve.cc`
// wires it to the command line and to SIGTERM; tests start it in-process.
//
//   ServeOptions options;
//   options.listen = "127.0.0.1:0";
//   options.interval = absl::Minutes(5);
//   options.token = token;
//   ASSIGN_OR_RETURN(std::unique_ptr<Tqs1Server> server,
//                    Tqs1Server::Start(options, config, std::move(backends),
//                                      supervisor_options));
//   std::cout << "listening on " << server->address() << "\n";
//   ... until SIGTERM ...
//   server->Shutdown();
//
// Health (grpc.health.v1.Health/Check), three kinds:
// - liveness, "" and "tqs1.live": SERVING while the process serves and its
//   schedule loop turns (NOT_SERVING once the loop has not turned for
//   ServeOptions::loop_stall, and on shutdown). Vendor outages never change
//   it: a liveness probe must not restart a server because ThreatQ is down.
// - readiness, "tqs1.ready" and "tqs1.v1.Tqs1": SERVING when every sync was
//   observed and is healthy (its collection read, its last reconcile
//   succeeded or stopped at a guard).
// - per sync, "tqs1.sync/<slug>" (SyncHealthName): that sync's readiness.
// The metrics listener answers the same liveness on GET /healthz and the
// same readiness on GET /readyz (200, or 503 with the reason), for probes
// that speak HTTP.
#ifndef TQS1_CLI_SERVER_SERVER_H_
#define TQS1_CLI_SERVER_SERVER_H_

#include <grpcpp/server.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cli/app.h"
#include "cli/server/metrics.h"
#include "cli/server/sync_supervisor.h"
#include "cli/server/tqs1_service.h"
#include "proto/config.pb.h"

namespace tqs1::server {

inline constexpr char kLivenessService[] = "tqs1.live";
inline constexpr char kReadinessService[] = "tqs1.ready";

// The health service name of sync `name`: "tqs1.sync/" and the name as a
// slug safe on a command line (`grpc_health_probe -service ...`): ASCII
// letters lower-cased, digits kept, every other run of characters one '-',
// none at either end ("Known C2 IPs -> HQ": "tqs1.sync/known-c2-ips-hq").
// Syncs whose slugs are equal share the service: SERVING when all are.
std::string SyncHealthName(absl::string_view name);

// The pause before the next scheduled round: `interval` scaled by a factor
// drawn uniformly from [1 - jitter, 1 + jitter] (jitter clamped to
// [0, 0.5]), so that many servers started together spread their reads.
absl::Duration JitteredInterval(absl::Duration interval, double jitter,
                                std::mt19937_64& rng);

struct ServeOptions {
  // "HOST:PORT"; port 0 picks a free port (see Tqs1Server::port()).
  std::string listen = "127.0.0.1:50051";
  // TLS: PEM files of the server's certificate chain and key; with
  // `tls_client_ca_file`, clients must present a certificate it signed.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // The bearer token (see ServiceOptions). A non-loopback `listen` needs
  // TLS and a token (CheckListenPolicy), and then every tqs1 call needs it.
  std::string token;
  // The key that signs the plans Plan returns and checks the plan files
  // Apply is given (the instance's plan key, as `tqs1 plan --out` uses);
  // empty: Plan returns no plan file and Apply takes none.
  std::string plan_key;
  // Plan, GetDrift and WatchDrift need the token too. Always true for a
  // non-loopback `listen`; set it for a loopback port on a shared host.
  bool require_token_for_reads = false;
  // Scheduled rounds: every `interval` (with jitter); zero: none (calls
  // only).
  absl::Duration interval = absl::ZeroDuration();
  double jitter = 0.1;
  uint64_t jitter_seed = 0;
  // Scheduled rounds apply; otherwise they only observe.
  bool apply_on_schedule = false;
  // "HOST:PORT" of the metrics page; empty: none.
  std::string metrics_listen;
  // How long Shutdown() lets in-flight calls finish before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration watch_poll = absl::Milliseconds(200);
  // How often the schedule loop reads the last-run record for an apply the
  // CLI made of the same state folder (SyncSupervisor::NoticeCliApplies()),
  // and observes the syncs it touched again.
  absl::Duration cli_apply_poll = absl::Seconds(2);
  // Liveness turns NOT_SERVING when the schedule loop has not turned for
  // this long (a round, or an apply, running longer counts as stuck).
  absl::Duration loop_stall = absl::Hours(1);
  // How often liveness is re-checked.
  absl::Duration health_poll = absl::Seconds(5);
};

class Tqs1Server {
 public:
  // Checks the listen policy, loads the TLS files, builds the supervisor
  // over `backends` and starts serving (and the schedule and the metrics
  // page, when asked). `supervisor_options.on_change` is the server's own.
  // Errors: kInvalidArgument (a bad address, only one of cert/key, an
  // unreadable TLS file, naming the option); kFailedPrecondition (the listen
  // policy); kUnavailable (the address cannot be bound).
  static absl::StatusOr<std::unique_ptr<Tqs1Server>> Start(
      const ServeOptions& options, tqs1::v1::Config config,
      cli::Backends backends, SupervisorOptions supervisor_options);

  // Shuts down if still running.
  ~Tqs1Server();
  Tqs1Server(const Tqs1Server&) = delete;
  Tqs1Server& operator=(const Tqs1Server&) = delete;

  // The bound port and "HOST:PORT" with it.
  int port() const { return port_; }
  std::string address() const;
  // The metrics page's port; 0 when there is none.
  int metrics_port() const;

  SyncSupervisor& supervisor() { return *supervisor_; }

  // Liveness and readiness as the health service says them, in words
  // (GET /healthz and /readyz; systemd's watchdog is fed while live).
  ProbeAnswer Liveness();
  ProbeAnswer Readiness();

  // Stops accepting calls, ends WatchDrift streams, lets an in-flight apply
  // stop before its next write, waits up to shutdown_grace for calls, stops
  // the schedule and the metrics page. Idempotent; thread-safe.
  void Shutdown();

 private:
  Tqs1Server() = default;
  // Liveness, readiness and each sync's, as the health service and the
  // HTTP probes report them.
  struct Health {
    bool live = false;
    bool ready = false;
    // By health name (SyncHealthName): all of its syncs healthy.
    std::map<std::string, bool> syncs;
    // Why not ready: the syncs that are not, each with its reason.
    std::vector<std::string> not_ready;
  };
  Health HealthLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The metrics listener's pages: metrics, Liveness() and Readiness().
  MetricsPages Pages();
  void UpdateHealth();
  void ScheduleLoop();
  // Re-checks liveness every health_poll until Shutdown().
  void HealthLoop();

  ServeOptions options_;
  cli::Backends backends_;
  std::unique_ptr<SyncSupervisor> supervisor_;
  std::unique_ptr<Tqs1Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsServer> metrics_;
  std::thread scheduler_;
  std::thread health_checker_;
  int port_ = 0;
  std::string host_;

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool health_ready_ ABSL_GUARDED_BY(mu_) = false;
  // When the schedule loop last began a turn.
  absl::Time last_turn_ ABSL_GUARDED_BY(mu_) = absl::Now();
};

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_SERVER_H_

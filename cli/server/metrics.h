// The metrics page of `tqs1 serve`, in the Prometheus text format (0.0.4),
// and the small HTTP server that serves it on GET /metrics, with the HTTP
// health probes /healthz and /readyz beside it.
//
//   std::string page = RenderMetrics(supervisor.Statuses(),
//                                    supervisor.api_calls().Snapshot());
//   // tqs1_sync_addresses_desired{sync="c2-hq"} 11690
//   // tqs1_api_calls_total{vendor="threatq",operation="read_collection",
//   //                      code="OK"} 3
//
//   MetricsPages pages;
//   pages.metrics = [&] { return RenderMetrics(...); };
//   ASSIGN_OR_RETURN(std::unique_ptr<MetricsServer> metrics,
//                    MetricsServer::Start("127.0.0.1:0", std::move(pages)));
//   metrics->port();
#ifndef TQS1_CLI_SERVER_METRICS_H_
#define TQS1_CLI_SERVER_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/server/api_calls.h"
#include "cli/server/sync_supervisor.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace tqs1::server {

// Per sync (label sync="<name>"): health (tqs1_sync_healthy, _observed,
// _in_sync, _source_reachable, _drift_rounds), the drift and address space
// (tqs1_sync_addresses_{desired,blocked,missing,extra,not_enforced} and
// their ipv4/ipv6 forms, _conflicts, _disabled_rules), the site's Firewall
// Control (tqs1_sync_firewall_{known,disabled,inherited}), _warnings,
// _rejected_values, tqs1_sync_last_success_timestamp_seconds and
// tqs1_sync_last_apply_timestamp_seconds (0 when never),
// tqs1_sync_guard_tripped{guard}, tqs1_sync_reconciles_total and
// tqs1_sync_applies_total{result="ok|error|guard_blocked"}, and the
// histograms tqs1_sync_reconcile_duration_seconds and
// tqs1_sync_apply_duration_seconds; then tqs1_build_info{version,commit},
// tqs1_api_calls_total{vendor,operation,code} and, with a `token_expiry`,
// tqs1_sentinelone_token_expiry_timestamp_seconds. Label values are escaped
// (backslash, quote, newline). Deterministic: same input, same text.
std::string RenderMetrics(
    const std::vector<std::pair<std::string, SyncStatus>>& syncs,
    const std::map<ApiCallKey, uint64_t>& api_calls,
    std::optional<absl::Time> token_expiry = std::nullopt);

// The answer of an HTTP health probe: 200 with `text` when `ok`, 503 with it
// otherwise.
struct ProbeAnswer {
  bool ok = false;
  std::string text;
};

// What the metrics listener serves; each is called per request on the
// server's thread.
struct MetricsPages {
  // GET /metrics (text/plain; version=0.0.4).
  std::function<std::string()> metrics;
  // GET /healthz (liveness) and GET /readyz (readiness), for probes that
  // speak HTTP (a Kubernetes httpGet, a load balancer); 404 when unset.
  std::function<ProbeAnswer()> liveness;
  std::function<ProbeAnswer()> readiness;
};

// Serves `pages` over HTTP. Other paths: 404. Stops on destruction.
class MetricsServer {
 public:
  // Binds `listen` ("HOST:PORT", port 0 picks one). kInvalidArgument for a
  // malformed address; kUnavailable when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      absl::string_view listen, MetricsPages pages);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }
  // Stops serving. Idempotent.
  void Stop();

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_METRICS_H_

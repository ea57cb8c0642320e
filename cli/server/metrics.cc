#include "cli/server/metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/net.h"
#include "cli/build_info.h"
#include "cli/server/auth.h"
#include "google/protobuf/util/time_util.h"
#include "httplib.h"

namespace tqs1::server {
namespace {

std::string Escape(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

int64_t Seconds(const google::protobuf::Timestamp& t) { return t.seconds(); }

class Page {
 public:
  // Starts a metric family.
  void Family(absl::string_view name, absl::string_view type,
              absl::string_view help) {
    absl::StrAppend(&text_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n");
  }
  // A number; `labels` empty: a sample without a label set.
  template <typename Number>
  void Sample(absl::string_view name, absl::string_view labels, Number value) {
    if (labels.empty()) {
      absl::StrAppend(&text_, name, " ", value, "\n");
    } else {
      absl::StrAppend(&text_, name, "{", labels, "} ", value, "\n");
    }
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string RenderMetrics(
    const std::vector<std::pair<std::string, SyncStatus>>& syncs,
    const std::map<ApiCallKey, uint64_t>& api_calls,
    std::optional<absl::Time> token_expiry) {
  Page page;
  auto label = [](const std::string& sync) {
    return absl::StrCat("sync=\"", Escape(sync), "\"");
  };
  struct Gauge {
    const char* name;
    const char* help;
    std::function<uint64_t(const SyncStatus&)> value;
  };
  const Gauge gauges[] = {
      {"tqs1_sync_healthy",
       "1 when the collection was read and the last reconcile succeeded.",
       [](const SyncStatus& s) -> uint64_t { return s.healthy; }},
      {"tqs1_sync_source_reachable",
       "1 when the last read of the collection succeeded.",
       [](const SyncStatus& s) -> uint64_t { return s.source_reachable; }},
      {"tqs1_sync_drift_rounds",
       "Consecutive observations that found the sync not in sync; 0 once "
       "one finds it in sync or an apply succeeds.",
       [](const SyncStatus& s) { return s.drift_rounds; }},
      {"tqs1_sync_observed", "1 once a plan of the sync succeeded.",
       [](const SyncStatus& s) -> uint64_t { return s.observed; }},
      {"tqs1_sync_in_sync", "1 when the last plan needed no change.",
       [](const SyncStatus& s) -> uint64_t { return s.drift.in_sync(); }},
      {"tqs1_sync_addresses_desired",
       "Addresses and prefixes the collection asks to block.",
       [](const SyncStatus& s) { return s.addresses_desired; }},
      {"tqs1_sync_addresses_blocked",
       "Addresses and prefixes tqs1's rules of the site block.",
       [](const SyncStatus& s) { return s.addresses_blocked; }},
      {"tqs1_sync_addresses_missing",
       "Desired addresses the site does not block.",
       [](const SyncStatus& s) { return s.drift.missing(); }},
      {"tqs1_sync_addresses_extra",
       "Addresses the site blocks that are no longer desired.",
       [](const SyncStatus& s) { return s.drift.extra(); }},
      {"tqs1_sync_conflicts", "Rules with a managed name but no marker.",
       [](const SyncStatus& s) -> uint64_t { return s.drift.conflicts(); }},
      // The address space behind the entry counts: IPv4 in addresses, IPv6
      // in /64 networks (a longer prefix counts as its /64); overlapping
      // entries count once.
      {"tqs1_sync_ipv4_addresses_blocked",
       "IPv4 addresses tqs1's rules of the site block.",
       [](const SyncStatus& s) { return s.drift.blocked_ipv4_addresses(); }},
      {"tqs1_sync_ipv6_networks_blocked",
       "IPv6 /64 networks tqs1's rules of the site block.",
       [](const SyncStatus& s) { return s.drift.blocked_ipv6_networks(); }},
      {"tqs1_sync_ipv4_addresses_missing",
       "Desired IPv4 addresses the site does not block.",
       [](const SyncStatus& s) { return s.drift.missing_ipv4_addresses(); }},
      {"tqs1_sync_ipv6_networks_missing",
       "Desired IPv6 /64 networks the site does not block.",
       [](const SyncStatus& s) { return s.drift.missing_ipv6_networks(); }},
      {"tqs1_sync_ipv4_addresses_extra",
       "IPv4 addresses the site blocks that are no longer desired.",
       [](const SyncStatus& s) { return s.drift.extra_ipv4_addresses(); }},
      {"tqs1_sync_ipv6_networks_extra",
       "IPv6 /64 networks the site blocks that are no longer desired.",
       [](const SyncStatus& s) { return s.drift.extra_ipv6_networks(); }},
      {"tqs1_sync_disabled_rules",
       "Managed rules disabled in the console (tqs1 keeps them disabled).",
       [](const SyncStatus& s) -> uint64_t {
         return s.drift.disabled_rules();
       }},
      {"tqs1_sync_addresses_not_enforced",
       "Addresses and prefixes held by managed rules disabled in the "
       "console.",
       [](const SyncStatus& s) { return s.drift.not_enforced(); }},
      {"tqs1_sync_ipv4_addresses_not_enforced",
       "IPv4 addresses only disabled managed rules hold.",
       [](const SyncStatus& s) {
         return s.drift.not_enforced_ipv4_addresses();
       }},
      {"tqs1_sync_ipv6_networks_not_enforced",
       "IPv6 /64 networks only disabled managed rules hold.",
       [](const SyncStatus& s) {
         return s.drift.not_enforced_ipv6_networks();
       }},
      {"tqs1_sync_firewall_known",
       "1 when the site's Firewall Control configuration was read.",
       [](const SyncStatus& s) -> uint64_t {
         return s.drift.firewall().known();
       }},
      {"tqs1_sync_firewall_disabled",
       "1 when the site's Firewall Control is disabled: no rule is "
       "enforced.",
       [](const SyncStatus& s) -> uint64_t {
         return s.drift.firewall().known() && !s.drift.firewall().enabled();
       }},
      {"tqs1_sync_firewall_inherited",
       "1 when the site inherits its parent's firewall policy or rules.",
       [](const SyncStatus& s) -> uint64_t {
         return !s.drift.firewall().inherited_from().empty() ||
                s.drift.firewall().inherits_rules();
       }},
      {"tqs1_sync_warnings", "Warnings about the site in the last plan.",
       [](const SyncStatus& s) -> uint64_t {
         return static_cast<uint64_t>(s.drift.warnings_size());
       }},
      {"tqs1_sync_rejected_values",
       "Values of the collection the last plan rejected (invalid, "
       "never-block, refused).",
       [](const SyncStatus& s) { return s.rejected_values; }},
  };
  for (const Gauge& g : gauges) {
    page.Family(g.name, "gauge", g.help);
    for (const auto& [name, status] : syncs) {
      page.Sample(g.name, label(name), g.value(status));
    }
  }
  page.Family("tqs1_build_info", "gauge",
              "Always 1; the labels say which tqs1 this is.");
  page.Sample("tqs1_build_info",
              absl::StrCat("version=\"", Escape(cli::kVersion), "\",commit=\"",
                           Escape(cli::kCommit), "\""),
              uint64_t{1});
  page.Family("tqs1_sync_last_success_timestamp_seconds", "gauge",
              "Unix time of the last successful reconcile; 0 when never.");
  for (const auto& [name, status] : syncs) {
    page.Sample("tqs1_sync_last_success_timestamp_seconds", label(name),
                status.last_success == absl::UnixEpoch()
                    ? int64_t{0}
                    : absl::ToUnixSeconds(status.last_success));
  }
  page.Family("tqs1_sync_last_apply_timestamp_seconds", "gauge",
              "Unix time of the last successful apply; 0 when never.");
  for (const auto& [name, status] : syncs) {
    page.Sample("tqs1_sync_last_apply_timestamp_seconds", label(name),
                Seconds(status.drift.last_successful_apply()));
  }
  page.Family("tqs1_sync_guard_tripped", "gauge",
              "1 when the guard stopped the sync's last plan; one sample per "
              "guard the plan weighed.");
  for (const auto& [name, status] : syncs) {
    for (const auto& [guard, tripped] : status.guards) {
      page.Sample("tqs1_sync_guard_tripped",
                  absl::StrCat(label(name), ",guard=\"", Escape(guard), "\""),
                  uint64_t{tripped});
    }
  }
  // A guard trip is its own result: tqs1 working as meant, not an error.
  struct Results {
    const char* name;
    const char* help;
    uint64_t SyncStatus::*ok;
    uint64_t SyncStatus::*error;
    uint64_t SyncStatus::*guard_blocked;
  };
  for (const Results& r : {
           Results{"tqs1_sync_reconciles_total",
                   "Plans made (scheduled or asked for), by result.",
                   &SyncStatus::reconciles_ok, &SyncStatus::reconciles_failed,
                   &SyncStatus::reconciles_guard_blocked},
           Results{"tqs1_sync_applies_total", "Applies, by result.",
                   &SyncStatus::applies_ok, &SyncStatus::applies_failed,
                   &SyncStatus::applies_guard_blocked},
       }) {
    page.Family(r.name, "counter", r.help);
    for (const auto& [name, status] : syncs) {
      page.Sample(r.name, absl::StrCat(label(name), ",result=\"ok\""),
                  status.*r.ok);
      page.Sample(r.name, absl::StrCat(label(name), ",result=\"error\""),
                  status.*r.error);
      page.Sample(r.name,
                  absl::StrCat(label(name), ",result=\"guard_blocked\""),
                  status.*r.guard_blocked);
    }
  }
  struct Histogram {
    const char* name;
    const char* help;
    DurationHistogram SyncStatus::*field;
  };
  for (const Histogram& h : {
           Histogram{"tqs1_sync_reconcile_duration_seconds",
                     "How long a plan took (both sides read).",
                     &SyncStatus::reconcile_duration},
           Histogram{"tqs1_sync_apply_duration_seconds",
                     "How long an apply took (plan, admission and writes).",
                     &SyncStatus::apply_duration},
       }) {
    page.Family(h.name, "histogram", h.help);
    const std::string bucket = absl::StrCat(h.name, "_bucket");
    for (const auto& [name, status] : syncs) {
      const DurationHistogram& d = status.*h.field;
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= DurationHistogram::kBuckets; ++i) {
        cumulative += d.counts[i];
        const std::string le = i < DurationHistogram::kBuckets
                                   ? absl::StrCat(DurationHistogram::kBounds[i])
                                   : std::string("+Inf");
        page.Sample(bucket, absl::StrCat(label(name), ",le=\"", le, "\""),
                    cumulative);
      }
      page.Sample(absl::StrCat(h.name, "_sum"), label(name), d.sum_seconds);
      page.Sample(absl::StrCat(h.name, "_count"), label(name), d.count);
    }
  }
  if (token_expiry.has_value()) {
    page.Family("tqs1_sentinelone_token_expiry_timestamp_seconds", "gauge",
                "Unix time the SentinelOne API token expires, as the console "
                "said (checked hourly); absent when it never expires.");
    page.Sample("tqs1_sentinelone_token_expiry_timestamp_seconds", "",
                absl::ToUnixSeconds(*token_expiry));
  }
  page.Family("tqs1_api_calls_total", "counter",
              "Vendor API calls (after the transport's retries), by vendor, "
              "operation and outcome code.");
  for (const auto& [key, count] : api_calls) {
    page.Sample("tqs1_api_calls_total",
                absl::StrCat("vendor=\"", Escape(key.vendor), "\",operation=\"",
                             Escape(key.operation), "\",code=\"",
                             Escape(key.code), "\""),
                count);
  }
  return page.Take();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    absl::string_view listen, MetricsPages pages) {
  absl::StatusOr<net::HostPort> hp = net::ParseHostPort(listen);
  if (!hp.ok()) return hp.status();
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->server_ = std::make_unique<httplib::Server>();
  if (pages.metrics) {
    server->server_->Get(
        "/metrics", [render = std::move(pages.metrics)](
                        const httplib::Request&, httplib::Response& response) {
          response.set_content(render(), "text/plain; version=0.0.4");
        });
  }
  auto probe_page = [&server](const char* path,
                              std::function<ProbeAnswer()> probe) {
    if (!probe) return;
    server->server_->Get(
        path, [probe = std::move(probe)](const httplib::Request&,
                                         httplib::Response& response) {
          const ProbeAnswer answer = probe();
          response.status = answer.ok ? 200 : 503;
          response.set_content(answer.text, "text/plain; charset=utf-8");
        });
  };
  probe_page("/healthz", std::move(pages.liveness));
  probe_page("/readyz", std::move(pages.readiness));
  if (hp->port == 0) {
    server->port_ = server->server_->bind_to_any_port(hp->host);
  } else if (server->server_->bind_to_port(hp->host, hp->port)) {
    server->port_ = hp->port;
  } else {
    server->port_ = -1;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen, " for metrics"));
  }
  httplib::Server* raw = server->server_.get();
  server->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs: wait for it
  // (bounded), so that a Stop() right after Start() cannot hang.
  for (int i = 0; i < 5000 && !raw->is_running(); ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (!raw->is_running()) {
    return absl::UnavailableError("the metrics server did not start");
  }
  return server;
}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tqs1::server

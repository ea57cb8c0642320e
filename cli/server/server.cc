#include "cli/server/server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/net.h"
#include "cli/server/auth.h"

namespace tqs1::server {
namespace {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServeOptions& options) {
  const bool has_cert = !options.tls_cert_file.empty();
  const bool has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls-cert and --tls-key");
  }
  if (!has_cert) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  absl::StatusOr<std::string> key =
      ReadPemFile(options.tls_key_file, "--tls-key");
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> cert =
      ReadPemFile(options.tls_cert_file, "--tls-cert");
  if (!cert.ok()) return cert.status();
  pair.private_key = *std::move(key);
  pair.cert_chain = *std::move(cert);
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!options.tls_client_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPemFile(options.tls_client_ca_file, "--tls-client-ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

std::string SyncHealthName(absl::string_view name) {
  std::string slug;
  bool dash = false;
  for (char c : name) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      if (dash && !slug.empty()) slug += '-';
      dash = false;
      slug += absl::ascii_tolower(static_cast<unsigned char>(c));
    } else {
      dash = true;
    }
  }
  return absl::StrCat("tqs1.sync/", slug.empty() ? "sync" : slug);
}

absl::Duration JitteredInterval(absl::Duration interval, double jitter,
                                std::mt19937_64& rng) {
  jitter = std::clamp(jitter, 0.0, 0.5);
  std::uniform_real_distribution<double> factor(1.0 - jitter, 1.0 + jitter);
  return interval * factor(rng);
}

absl::StatusOr<std::unique_ptr<Tqs1Server>> Tqs1Server::Start(
    const ServeOptions& options, tqs1::v1::Config config,
    cli::Backends backends, SupervisorOptions supervisor_options) {
  absl::StatusOr<net::HostPort> hp = net::ParseHostPort(options.listen);
  if (!hp.ok()) return hp.status();
  const bool tls = !options.tls_cert_file.empty();
  if (absl::Status s =
          CheckListenPolicy(options.listen, tls, !options.token.empty());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      Credentials(options);
  if (!credentials.ok()) return credentials.status();

  std::unique_ptr<Tqs1Server> self(new Tqs1Server());
  self->options_ = options;
  self->host_ = hp->host;
  self->backends_ = std::move(backends);
  Tqs1Server* raw = self.get();
  supervisor_options.on_change = [raw] { raw->UpdateHealth(); };
  self->supervisor_ = std::make_unique<SyncSupervisor>(
      std::move(config), &self->backends_, std::move(supervisor_options));

  ServiceOptions service_options;
  service_options.token = options.token;
  service_options.token_required_for_reads =
      options.require_token_for_reads || !net::IsLoopbackHost(hp->host);
  service_options.watch_poll = options.watch_poll;
  service_options.plan_key = options.plan_key;
  self->service_ =
      std::make_unique<Tqs1Service>(self->supervisor_.get(), service_options);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second `tqs1 serve` on the same
  // port would then start too, and the kernel would split the clients
  // between the two daemons. Without it, a port in use is an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  builder.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  builder.AddListeningPort(options.listen, *credentials, &self->port_);
  builder.RegisterService(self->service_.get());
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen,
        ": the address is in use (another tqs1 serve?) or not an address "
        "of this machine"));
  }
  {
    absl::MutexLock lock(&self->mu_);
    self->health_ready_ = true;
  }
  self->UpdateHealth();

  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> metrics =
        MetricsServer::Start(options.metrics_listen, self->Pages());
    if (!metrics.ok()) return metrics.status();
    self->metrics_ = *std::move(metrics);
  }
  self->scheduler_ = std::thread([raw] { raw->ScheduleLoop(); });
  self->health_checker_ = std::thread([raw] { raw->HealthLoop(); });
  return self;
}

Tqs1Server::~Tqs1Server() { Shutdown(); }

std::string Tqs1Server::address() const {
  if (host_.find(':') != std::string::npos) {
    return absl::StrCat("[", host_, "]:", port_);
  }
  return absl::StrCat(host_, ":", port_);
}

int Tqs1Server::metrics_port() const {
  return metrics_ != nullptr ? metrics_->port() : 0;
}

Tqs1Server::Health Tqs1Server::HealthLocked() {
  Health health;
  health.live = !stopped_ && absl::Now() - last_turn_ < options_.loop_stall;
  health.ready = !stopped_;
  for (const auto& [name, status] : supervisor_->Statuses()) {
    auto [it, added] = health.syncs.emplace(SyncHealthName(name), true);
    it->second &= status.healthy;
    if (status.healthy) continue;
    health.ready = false;
    health.not_ready.push_back(
        absl::StrCat("sync \"", name, "\": ",
                     !status.observed && status.drift.last_error().empty()
                         ? "not observed yet"
                         : "its last reconcile failed (tqs1 drift says why)"));
  }
  return health;
}

MetricsPages Tqs1Server::Pages() {
  MetricsPages pages;
  pages.metrics = [this] {
    return RenderMetrics(supervisor_->Statuses(),
                         supervisor_->api_calls().Snapshot(),
                         supervisor_->token_expiry());
  };
  pages.liveness = [this] { return Liveness(); };
  pages.readiness = [this] { return Readiness(); };
  return pages;
}

ProbeAnswer Tqs1Server::Liveness() {
  absl::MutexLock lock(&mu_);
  if (stopped_) return {false, "stopping\n"};
  const absl::Duration since = absl::Now() - last_turn_;
  if (since >= options_.loop_stall) {
    return {
        false,
        absl::StrCat("the schedule loop has not turned for ",
                     absl::FormatDuration(absl::Trunc(since, absl::Seconds(1))),
                     "\n")};
  }
  return {true, "ok\n"};
}

ProbeAnswer Tqs1Server::Readiness() {
  absl::MutexLock lock(&mu_);
  const Health health = HealthLocked();
  if (health.ready) return {true, "ok\n"};
  if (stopped_) return {false, "stopping\n"};
  return {false, absl::StrCat(absl::StrJoin(health.not_ready, "\n"), "\n")};
}

void Tqs1Server::UpdateHealth() {
  absl::MutexLock lock(&mu_);
  if (!health_ready_ || stopped_ || server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* service = server_->GetHealthCheckService();
  if (service == nullptr) return;
  const Health health = HealthLocked();
  for (const auto& [name, healthy] : health.syncs) {
    service->SetServingStatus(name, healthy);
  }
  service->SetServingStatus(kReadinessService, health.ready);
  service->SetServingStatus(tqs1::v1::Tqs1::service_full_name(), health.ready);
  service->SetServingStatus("", health.live);
  service->SetServingStatus(kLivenessService, health.live);
}

void Tqs1Server::HealthLoop() {
  while (true) {
    UpdateHealth();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopped_),
                             options_.health_poll)) {
      return;
    }
  }
}

void Tqs1Server::ScheduleLoop() {
  std::mt19937_64 rng(options_.jitter_seed);
  const bool scheduled = options_.interval > absl::ZeroDuration();
  absl::Time next_round = absl::Now();
  auto stopping = [this] { return supervisor_->shutting_down(); };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      last_turn_ = absl::Now();
    }
    if (scheduled && absl::Now() >= next_round) {
      supervisor_->ReconcileAll(options_.apply_on_schedule);
      next_round = absl::Now() +
                   JitteredInterval(options_.interval, options_.jitter, rng);
    }
    // An apply the CLI made of this state folder: observe what it touched.
    for (const std::string& name : supervisor_->NoticeCliApplies()) {
      supervisor_->Observe(name, stopping);
    }
    absl::Duration pause = options_.cli_apply_poll;
    if (scheduled) pause = std::min(pause, next_round - absl::Now());
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopped_),
                             std::max(pause, absl::ZeroDuration()))) {
      return;
    }
  }
}

void Tqs1Server::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    // Health first: NOT_SERVING for every service while draining.
    if (server_ != nullptr && server_->GetHealthCheckService() != nullptr) {
      server_->GetHealthCheckService()->Shutdown();
    }
    stopped_ = true;
  }
  if (supervisor_ != nullptr) supervisor_->Shutdown();
  if (server_ != nullptr) {
    server_->Shutdown(
        absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
    server_->Wait();
  }
  if (scheduler_.joinable()) scheduler_.join();
  if (health_checker_.joinable()) health_checker_.join();
  if (metrics_ != nullptr) metrics_->Stop();
}

}  // namespace tqs1::server

#include "cli/server/test_env.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <cstdlib>
#include <future>

#include "absl/strings/str_cat.h"
#include "base/net.h"
#include "cli/server/auth.h"
#include "cli/server/status_mapping.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "providers/http/curl_transport.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/threatq/threatq_client.h"

namespace tqs1::server {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

}  // namespace

std::vector<std::string> TestAddresses(int n, int first) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(
        absl::StrCat("198.18.", (first + i) / 250, ".", 1 + (first + i) % 250));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ServerTestEnv>> ServerTestEnv::Start(
    ServeOptions serve, SupervisorOptions supervisor,
    const std::vector<std::string>& more_sites,
    const std::function<void(tqs1::v1::Config&)>& edit) {
  static int instance = 0;
  std::unique_ptr<ServerTestEnv> env(new ServerTestEnv());
  env->lock_file_ =
      absl::StrCat(TempDir(), "/tqs1-", getpid(), "-", ++instance, ".lock");

  absl::StatusOr<std::unique_ptr<testing::VendorsEnv>> vendors =
      testing::VendorsEnv::Start();
  if (!vendors.ok()) return vendors.status();
  env->vendors_ = *std::move(vendors);
  env->vendors_->SetCollection(TestAddresses(5));
  tqs1::v1::Config config = env->vendors_->Config();
  config.mutable_syncs(0)->set_name(kTestSync);
  for (const std::string& site : more_sites) {
    env->vendors_->AddSite(site);
    tqs1::v1::SyncConfig* sync = config.add_syncs();
    *sync = config.syncs(0);
    sync->set_name(absl::StrCat("c2-", site));
    sync->set_site(site);
  }
  if (edit) edit(config);

  cli::Backends backends;
  http::CurlTransportOptions curl;
  absl::StatusOr<std::unique_ptr<http::CurlTransport>> t1 =
      http::CurlTransport::Create(curl);
  if (!t1.ok()) return t1.status();
  absl::StatusOr<std::unique_ptr<http::CurlTransport>> t2 =
      http::CurlTransport::Create(curl);
  if (!t2.ok()) return t2.status();
  backends.threatq_transport = *std::move(t1);
  backends.sentinelone_transport = *std::move(t2);
  threatq::ThreatQClientOptions tq_client;
  tq_client.base_url = config.threatq().url();
  tq_client.client_id = config.threatq().client_id();
  tq_client.grant = threatq::ThreatQClientOptions::Grant::kPassword;
  tq_client.email = config.threatq().username();
  tq_client.password = env->vendors_->options().password;
  absl::StatusOr<std::unique_ptr<threatq::ThreatQClient>> tq_c =
      threatq::ThreatQClient::Create(backends.threatq_transport.get(),
                                     std::move(tq_client));
  if (!tq_c.ok()) return tq_c.status();
  backends.threatq = *std::move(tq_c);
  sentinelone::SentinelOneClientOptions s1_client;
  s1_client.base_url = config.sentinelone().url();
  s1_client.api_token = env->vendors_->options().api_token;
  absl::StatusOr<std::unique_ptr<sentinelone::SentinelOneClient>> s1_c =
      sentinelone::SentinelOneClient::Create(
          std::move(s1_client), backends.sentinelone_transport.get());
  if (!s1_c.ok()) return s1_c.status();
  backends.sentinelone_client = s1_c->get();
  backends.sentinelone = *std::move(s1_c);

  absl::StatusOr<net::HostPort> hp = net::ParseHostPort(serve.listen);
  if (!hp.ok() || !net::IsLoopbackHost(hp->host)) serve.listen = "127.0.0.1:0";
  if (hp.ok() && net::IsLoopbackHost(hp->host) && hp->port != 0) {
    serve.listen = absl::StrCat(hp->host, ":0");
  }
  supervisor.clock = &env->clock_;
  supervisor.plan_options.set_max_addresses_per_rule(2);
  if (supervisor.lock_file.empty()) supervisor.lock_file = env->lock_file_;
  absl::StatusOr<std::unique_ptr<Tqs1Server>> server = Tqs1Server::Start(
      serve, std::move(config), std::move(backends), std::move(supervisor));
  if (!server.ok()) return server.status();
  env->server_ = *std::move(server);
  return env;
}

ServerTestEnv::~ServerTestEnv() {
  // The server (and its backends) before the emulators they talk to.
  server_.reset();
}

std::shared_ptr<grpc::Channel> ServerTestEnv::Channel() const {
  return grpc::CreateChannel(server_->address(),
                             grpc::InsecureChannelCredentials());
}

absl::StatusOr<std::string> GenericUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& request, const std::string& token) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  if (!token.empty()) {
    context.AddMetadata(kAuthorizationKey, absl::StrCat("Bearer ", token));
  }
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer,
                 &response_buffer,
                 [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) {
    return absl::DataLossError("cannot read the response");
  }
  std::string out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

std::string EncodeBytesField(int field, const std::string& value) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    google::protobuf::internal::WireFormatLite::WriteBytes(field, value,
                                                           &coded);
  }
  return out;
}

std::vector<std::string> DecodeField(const std::string& message, int field) {
  using google::protobuf::internal::WireFormatLite;
  std::vector<std::string> out;
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(message.data()),
      static_cast<int>(message.size()));
  while (uint32_t tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    switch (WireFormatLite::GetTagWireType(tag)) {
      case WireFormatLite::WIRETYPE_VARINT: {
        uint64_t v = 0;
        if (!in.ReadVarint64(&v)) return out;
        if (number == field) out.push_back(absl::StrCat(v));
        break;
      }
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        uint32_t length = 0;
        std::string bytes;
        if (!in.ReadVarint32(&length) ||
            !in.ReadString(&bytes, static_cast<int>(length))) {
          return out;
        }
        if (number == field) out.push_back(std::move(bytes));
        break;
      }
      default:
        if (!WireFormatLite::SkipField(&in, tag)) return out;
    }
  }
  return out;
}

absl::StatusOr<std::string> CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  // HealthCheckRequest { string service = 1; }
  absl::StatusOr<std::string> response =
      GenericUnaryCall(channel, "/grpc.health.v1.Health/Check",
                       service.empty() ? "" : EncodeBytesField(1, service));
  if (!response.ok()) return response.status();
  // HealthCheckResponse { ServingStatus status = 1; } (0 is not sent).
  std::vector<std::string> status = DecodeField(*response, 1);
  const std::string value = status.empty() ? "0" : status[0];
  if (value == "0") return std::string("UNKNOWN");
  if (value == "1") return std::string("SERVING");
  if (value == "2") return std::string("NOT_SERVING");
  if (value == "3") return std::string("SERVICE_UNKNOWN");
  return absl::StrCat("status ", value);
}

}  // namespace tqs1::server

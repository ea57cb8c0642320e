#include "cli/server/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/files.h"
#include "base/net.h"
#include "cli/app.h"
#include "cli/server/auth.h"
#include "cli/server/status_mapping.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"
#include "proto/service.grpc.pb.h"
#include "reconciler/address_space.h"
#include "reconciler/machine_json.h"
#include "reconciler/render.h"

namespace tqs1::server {
namespace {

using ::tqs1::cli::kExitChanges;
using ::tqs1::cli::kExitError;
using ::tqs1::cli::kExitGuard;
using ::tqs1::cli::kExitOk;
using ::tqs1::cli::WorseExit;

std::string Time(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

// The machine JSON of `message` (reconciler/machine_json.h), as plans are
// written: numbers as numbers, enums as words.
std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  absl::StatusOr<nlohmann::ordered_json> doc =
      reconciler::ToMachineJson(message);
  // Only invalid UTF-8 in a server's message fails: say so as JSON.
  if (!doc.ok())
    return nlohmann::json{{"error", std::string(doc.status().message())}}
        .dump();
  std::string out = reconciler::DumpJson(*doc, pretty);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void PrintCallError(const cli::Io& io, const ClientOptions& options,
                    const grpc::Status& status) {
  absl::Status s = FromGrpcStatus(status);
  *io.err << "Error: " << options.server << ": "
          << absl::StatusCodeToString(s.code()) << ": " << s.message() << "\n";
  // What to do about a refusal of the server's token check.
  if (s.code() == absl::StatusCode::kUnauthenticated) {
    *io.err << "  pass the server's token with --token-file FILE (or "
               "--token-env NAME); the server\n  must be started with "
               "--token-file too\n";
  } else if (s.code() == absl::StatusCode::kPermissionDenied &&
             absl::StrContains(s.message(), "bearer token")) {
    *io.err << "  the token given is not the server's: use the file the "
               "server was started with\n  (--token-file); a server "
               "started without one refuses every Apply\n";
  }
}

std::chrono::system_clock::time_point Deadline(absl::Duration d) {
  return absl::ToChronoTime(absl::Now() + d);
}

}  // namespace

absl::StatusOr<ClientOptions> ClientOptionsFrom(
    const cli::CommandLine& cl, const config::SecretOptions& secrets) {
  if (cl.server.empty() && cl.command != "drift") {
    return absl::InvalidArgumentError(
        "this needs --server HOST:PORT (a running `tqs1 serve`)");
  }
  ClientOptions options;
  options.server = cl.server.empty() ? kDefaultServer : cl.server;
  options.tls_ca_file = cl.tls_ca;
  options.tls_cert_file = cl.tls_cert;
  options.tls_key_file = cl.tls_key;
  absl::StatusOr<std::string> token =
      ResolveToken(cl.token_file, cl.token_env, secrets);
  if (!token.ok()) return token.status();
  options.token = *std::move(token);
  return options;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ClientOptions& options) {
  absl::StatusOr<net::HostPort> hp = net::ParseHostPort(options.server);
  if (!hp.ok()) return hp.status();
  const bool loopback = net::IsLoopbackHost(hp->host);
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs both --tls-cert and --tls-key");
  }
  const bool tls = !options.tls_ca_file.empty() ||
                   !options.tls_cert_file.empty() || !loopback;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  if (!tls) {
    return grpc::CreateCustomChannel(options.server,
                                     grpc::InsecureChannelCredentials(), args);
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPemFile(options.tls_ca_file, "--tls-ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPemFile(options.tls_cert_file, "--tls-cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPemFile(options.tls_key_file, "--tls-key");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(ssl),
                                   args);
}

void Authorize(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) {
    context.AddMetadata(kAuthorizationKey, absl::StrCat("Bearer ", token));
  }
}

// " (2,949,120 IPv4 addresses)" after a count of entries whose address
// space says more; nothing when the entries are that many single IPv4
// addresses, or the server sent no space.
std::string SpaceSuffix(uint64_t entries, uint64_t ipv4_addresses,
                        uint64_t ipv6_networks) {
  if (ipv4_addresses == 0 && ipv6_networks == 0) return "";
  if (ipv6_networks == 0 && ipv4_addresses == entries) return "";
  reconciler::AddressSpace space;
  space.ipv4_addresses = ipv4_addresses;
  space.ipv6_networks = ipv6_networks;
  return absl::StrCat(" (", reconciler::FormatSpace(space), ")");
}

int DriftExit(const tqs1::v1::SyncDrift& drift) {
  if (!drift.last_error().empty() || !drift.has_observed_at()) {
    return kExitError;
  }
  return drift.in_sync() ? kExitOk : kExitChanges;
}

std::string RenderDriftText(const tqs1::v1::SyncDrift& drift) {
  std::string out = absl::StrCat(drift.sync_name(), ": ");
  if (!drift.has_observed_at()) {
    absl::StrAppend(&out, "not observed yet");
    if (drift.last_error().empty()) {
      absl::StrAppend(&out,
                      " (no round has run; `tqs1 drift --refresh` observes "
                      "now)");
    }
  } else if (drift.in_sync()) {
    absl::StrAppend(&out, "in sync");
  } else {
    absl::StrAppend(&out, "drifted: ", reconciler::FormatCount(drift.missing()),
                    " missing",
                    SpaceSuffix(drift.missing(), drift.missing_ipv4_addresses(),
                                drift.missing_ipv6_networks()),
                    ", ", reconciler::FormatCount(drift.extra()), " extra",
                    SpaceSuffix(drift.extra(), drift.extra_ipv4_addresses(),
                                drift.extra_ipv6_networks()));
  }
  if (drift.disabled_rules() > 0) {
    absl::StrAppend(
        &out, ", ", drift.disabled_rules(),
        drift.disabled_rules() == 1 ? " managed rule" : " managed rules",
        " disabled in the console: ",
        reconciler::FormatCount(drift.not_enforced()), " not enforced",
        SpaceSuffix(drift.not_enforced(), drift.not_enforced_ipv4_addresses(),
                    drift.not_enforced_ipv6_networks()));
  }
  if (drift.conflicts() > 0) {
    absl::StrAppend(&out, ", ", drift.conflicts(),
                    drift.conflicts() == 1 ? " conflict" : " conflicts");
  }
  if (drift.firewall().known() && !drift.firewall().enabled()) {
    absl::StrAppend(&out,
                    ", Firewall Control disabled for the site (no rule is "
                    "enforced)");
  }
  if (drift.has_observed_at()) {
    absl::StrAppend(&out, "; observed ", Time(drift.observed_at()));
  }
  if (drift.from_before_restart()) {
    absl::StrAppend(&out, " (before the server restarted)");
  }
  if (drift.has_last_successful_apply()) {
    absl::StrAppend(&out, "; last apply ", Time(drift.last_successful_apply()));
    if (drift.has_last_apply()) {
      const tqs1::v1::SyncRun& run = drift.last_apply();
      absl::StrAppend(
          &out, " (", run.rules_created(), " created, ", run.rules_updated(),
          " updated, ", run.rules_deleted(),
          " deleted: ", reconciler::FormatCount(run.addresses_blocked()),
          " blocked, ", reconciler::FormatCount(run.addresses_unblocked()),
          " unblocked)");
    }
  }
  if (!drift.last_error().empty()) {
    if (drift.has_last_attempt()) {
      absl::StrAppend(&out, "; last attempt ", Time(drift.last_attempt()),
                      " failed: ", drift.last_error());
    } else {
      absl::StrAppend(&out, "; last error: ", drift.last_error());
    }
  }
  for (const std::string& warning : drift.warnings()) {
    absl::StrAppend(&out, "\n  warning: ", warning);
  }
  return out;
}

// A stub for the server in `options`, or null after printing why not.
std::unique_ptr<tqs1::v1::Tqs1::Stub> NewStub(const ClientOptions& options,
                                              const cli::Io& io) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options);
  if (!channel.ok()) {
    *io.err << "Error: " << channel.status().message() << "\n";
    return nullptr;
  }
  return tqs1::v1::Tqs1::NewStub(*channel);
}

int RunDrift(const cli::CommandLine& cl, const ClientOptions& options,
             const cli::Io& io) {
  std::unique_ptr<tqs1::v1::Tqs1::Stub> stub = NewStub(options, io);
  if (stub == nullptr) return kExitError;
  grpc::ClientContext context;
  Authorize(context, options.token);
  int code = kExitOk;
  if (!cl.watch) {
    // A refresh reads both sides of every sync it observes again.
    const bool observes = cl.refresh || cl.max_age > absl::ZeroDuration();
    context.set_deadline(
        Deadline(observes ? absl::Minutes(10) : absl::Seconds(30)));
    tqs1::v1::GetDriftRequest request;
    for (const std::string& s : cl.syncs) request.add_syncs(s);
    request.set_refresh(cl.refresh);
    if (cl.max_age > absl::ZeroDuration()) {
      request.mutable_max_age()->set_seconds(absl::ToInt64Seconds(cl.max_age));
    }
    tqs1::v1::GetDriftResponse response;
    grpc::Status status = stub->GetDrift(&context, request, &response);
    if (!status.ok()) {
      PrintCallError(io, options, status);
      return kExitError;
    }
    if (cl.json) *io.out << ToJson(response, true) << "\n";
    for (const tqs1::v1::SyncDrift& d : response.syncs()) {
      if (!cl.json) *io.out << RenderDriftText(d) << "\n";
      code = WorseExit(code, DriftExit(d));
    }
    return code;
  }
  tqs1::v1::WatchDriftRequest request;
  for (const std::string& s : cl.syncs) request.add_syncs(s);
  std::unique_ptr<grpc::ClientReader<tqs1::v1::DriftEvent>> reader =
      stub->WatchDrift(&context, request);
  tqs1::v1::DriftEvent event;
  while (reader->Read(&event)) {
    *io.out << (cl.json ? ToJson(event, false) : RenderDriftText(event.drift()))
            << "\n"
            << std::flush;
    code = DriftExit(event.drift());
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    PrintCallError(io, options, status);
    return kExitError;
  }
  // The server ends a watch only when it stops.
  *io.err << "tqs1 drift: " << options.server << ": server shut down\n";
  return code;
}

int RunRemotePlan(const cli::CommandLine& cl, const ClientOptions& options,
                  const cli::Io& io) {
  std::unique_ptr<tqs1::v1::Tqs1::Stub> stub = NewStub(options, io);
  if (stub == nullptr) return kExitError;
  grpc::ClientContext context;
  Authorize(context, options.token);
  context.set_deadline(Deadline(absl::Minutes(10)));
  tqs1::v1::PlanRequest request;
  for (const std::string& s : cl.syncs) request.add_syncs(s);
  *request.mutable_options() = cli::PlanOptionsFrom(cl);
  tqs1::v1::PlanResponse response;
  grpc::Status status = stub->Plan(&context, request, &response);
  if (!status.ok()) {
    PrintCallError(io, options, status);
    return kExitError;
  }
  reconciler::RenderOptions render;
  render.color = io.color;
  render.address_examples = cl.show_addresses;
  int code = kExitOk;
  tqs1::v1::PlanFile file = cli::NewPlanFile(absl::Now());
  for (const tqs1::v1::SyncPlan& p : response.plans()) {
    if (!p.error().empty()) {
      *io.err << "Error: sync \"" << p.sync_name() << "\": " << p.error()
              << "\n";
      code = WorseExit(code, kExitError);
      continue;
    }
    if (!cl.json)
      *io.out << reconciler::RenderPlanText(p.plan(), render) << "\n";
    code = WorseExit(code, cli::ExitFor(p.plan()));
    *file.add_plans() = p.plan();
  }
  // The server's signed plan file when it sent one (a server with a plan
  // key always does): what `apply --server FILE` takes back.
  std::string json = response.plan_file();
  if (json.empty() && (cl.json || !cl.out.empty())) {
    absl::StatusOr<std::string> unsigned_json =
        reconciler::RenderPlanFileJson(file);
    if (!unsigned_json.ok()) {
      *io.err << "Error: " << unsigned_json.status().message() << "\n";
      return kExitError;
    }
    json = *std::move(unsigned_json);
  }
  if (cl.json) *io.out << json;
  if (!cl.out.empty()) {
    if (response.plan_file().empty()) {
      *io.err << "Error: " << options.server
              << " signs no plans, so a plan file from it could not be "
                 "applied; nothing saved\n";
      return kExitError;
    }
    // 0644: a plan holds addresses, never a secret.
    if (absl::Status s = WriteFileAtomically(cl.out, json, 0644); !s.ok()) {
      *io.err << "Error: " << s.message() << "\n";
      return kExitError;
    }
    if (!cl.json) {
      *io.out << "Saved the plan to \"" << cl.out
              << "\"; apply it with `tqs1 apply --server " << options.server
              << " " << cl.out << "`.\n";
    }
  }
  if (!cl.detailed_exitcode && code == kExitChanges) code = kExitOk;
  return code;
}

int RunRemoteApply(const cli::CommandLine& cl, const ClientOptions& options,
                   const cli::Io& io) {
  tqs1::v1::ApplyRequest request;
  if (cl.positional.size() > 1) {
    *io.err << "Error: apply --server takes one plan file\n";
    return kExitError;
  }
  if (!cl.positional.empty()) {
    // The reviewed plan: the server checks its signature and admits it as
    // `tqs1 apply FILE` does.
    const std::string& path = cl.positional[0];
    if (!cl.syncs.empty() || cl.adopt || cl.allow_empty ||
        cl.allow_mass_unblock || cl.allow_disabled_firewall) {
      *io.err << "Error: --sync, --adopt and --allow-* cannot change a saved "
                 "plan: they are decided when it is made (`tqs1 plan "
                 "--server ... --out FILE`); nothing applied\n";
      return kExitError;
    }
    absl::StatusOr<std::string> text =
        ReadFileUpTo(path, cli::kMaxPlanFileBytes, "plan file ");
    if (!text.ok()) {
      *io.err << "Error: " << text.status().message() << "; nothing applied\n";
      return kExitError;
    }
    request.set_plan_file(*std::move(text));
  } else if (!cl.auto_approve) {
    *io.err << "Error: apply --server without a plan file re-plans and "
               "applies on the server with no confirmation in between; "
               "review with `tqs1 plan --server ... --out FILE` and apply "
               "that file, or add --auto-approve\n";
    return kExitError;
  }
  std::unique_ptr<tqs1::v1::Tqs1::Stub> stub = NewStub(options, io);
  if (stub == nullptr) return kExitError;
  grpc::ClientContext context;
  Authorize(context, options.token);
  context.set_deadline(Deadline(absl::Minutes(30)));
  if (request.plan_file().empty()) {
    for (const std::string& s : cl.syncs) request.add_syncs(s);
    *request.mutable_options() = cli::PlanOptionsFrom(cl);
  }
  tqs1::v1::ApplyResponse response;
  grpc::Status status = stub->Apply(&context, request, &response);
  if (!status.ok()) {
    PrintCallError(io, options, status);
    return kExitError;
  }
  int code = kExitOk;
  for (const tqs1::v1::SyncApply& r : response.results()) {
    const tqs1::v1::ApplyReport& report = r.report();
    if (!r.error().empty()) {
      *io.err << "Error: sync \"" << r.sync_name() << "\": " << r.error()
              << "\n";
      reconciler::RenderOptions render;
      render.color = io.color;
      *io.err << reconciler::RenderApplyRefusals(report, render);
      code = WorseExit(code, kExitError);
      continue;
    }
    *io.out << "Apply complete for \"" << r.sync_name()
            << "\": " << report.created() << " created, " << report.updated()
            << " updated, " << report.deleted() << " deleted.\n";
  }
  return code;
}

}  // namespace tqs1::server

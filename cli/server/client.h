// The client side of `tqs1 serve`: `tqs1 drift --server HOST:PORT [--watch]
// [--json]`, and `tqs1 plan|apply --server HOST:PORT`.
//
//   ASSIGN_OR_RETURN(ClientOptions options, ClientOptionsFrom(cl));
//   int code = RunDrift(cl, options, io);      // prints, returns exit code
//
//   // or a channel of one's own:
//   ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
//                    MakeChannel(options));
//   auto stub = tqs1::v1::Tqs1::NewStub(channel);
//   grpc::ClientContext context;
//   Authorize(context, options.token);
//
// Transport: TLS when --tls-ca is given, and always for a non-loopback
// server (with the system's roots when there is no --tls-ca), so a token
// never crosses the network in clear text; plaintext to a loopback server
// otherwise.
#ifndef TQS1_CLI_SERVER_CLIENT_H_
#define TQS1_CLI_SERVER_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/config/secrets.h"
#include "proto/service.pb.h"

namespace tqs1::server {

// Where `tqs1 drift` asks without --server: `tqs1 serve`'s default listen.
inline constexpr char kDefaultServer[] = "127.0.0.1:50051";

struct ClientOptions {
  std::string server;  // HOST:PORT
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string token;  // empty: none
};

// From --server, --tls-ca, --tls-cert, --tls-key, --token-file/--token-env.
// kInvalidArgument without --server (`drift` asks kDefaultServer);
// ResolveToken()'s errors.
absl::StatusOr<ClientOptions> ClientOptionsFrom(
    const cli::CommandLine& cl, const config::SecretOptions& secrets = {});

// A channel to options.server (see the file comment). kInvalidArgument for
// a malformed address, only one of cert/key, or an unreadable file (naming
// the option).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ClientOptions& options);

// Adds "authorization: Bearer <token>" unless `token` is empty.
void Authorize(grpc::ClientContext& context, const std::string& token);

// One line per sync, e.g.
//   c2-hq: drifted: 12 missing, 3 extra, 1 conflict; observed
//   2026-11-28T16:00:00Z; last apply 2026-11-28T15:00:00Z
//   c2-branch: in sync; observed ...; last error: <message>
std::string RenderDriftText(const tqs1::v1::SyncDrift& drift);

// `tqs1 drift`'s exit code for one sync: 0 in sync, 2 drifted, 1 when it
// was never observed or its last attempt failed.
int DriftExit(const tqs1::v1::SyncDrift& drift);

// `tqs1 drift`: GetDrift (or WatchDrift with --watch, until the stream
// ends), printed as text or JSON (--watch --json: one JSON object per
// line). Exit code: 0 every selected sync in sync, 2 drift, 1 an error (the
// call failed, or a sync's last reconcile failed).
int RunDrift(const cli::CommandLine& cl, const ClientOptions& options,
             const cli::Io& io);

// `tqs1 plan --server`: the server's plans, rendered as a local plan would
// be (reconciler/render.h), or --json. The exit codes of `tqs1 plan`.
int RunRemotePlan(const cli::CommandLine& cl, const ClientOptions& options,
                  const cli::Io& io);

// `tqs1 apply --server --auto-approve`: the server re-plans and applies;
// prints a report per sync. Refuses without --auto-approve (no confirmation
// can sit between the server's plan and its apply) and with a PLANFILE.
// Exit code 0, or 1 when the call or a sync failed.
int RunRemoteApply(const cli::CommandLine& cl, const ClientOptions& options,
                   const cli::Io& io);

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_CLIENT_H_

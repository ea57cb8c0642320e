// The tqs1.v1.Tqs1 gRPC service (proto/service.proto) over a SyncSupervisor:
// Plan, Apply, GetDrift and WatchDrift, with the bearer-token rules of
// `tqs1 serve`.
//
//   SyncSupervisor supervisor(config, &backends, {});
//   ServiceOptions options;
//   options.token = token;                    // Apply always needs it
//   options.token_required_for_reads = false; // loopback
//   Tqs1Service service(&supervisor, options);
//   grpc::ServerBuilder builder;
//   builder.RegisterService(&service);
#ifndef TQS1_CLI_SERVER_TQS1_SERVICE_H_
#define TQS1_CLI_SERVER_TQS1_SERVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/server/sync_supervisor.h"
#include "proto/service.grpc.pb.h"

namespace tqs1::server {

struct ServiceOptions {
  // The bearer token; empty: no call can authenticate (Apply is refused).
  std::string token;
  // Plan, GetDrift and WatchDrift need the token too (a non-loopback
  // listener). Apply always does.
  bool token_required_for_reads = false;
  // Signs Plan's plan files and checks Apply's (ServeOptions::plan_key).
  std::string plan_key;
  // How often a WatchDrift stream checks for a cancelled client.
  absl::Duration watch_poll = absl::Milliseconds(200);
};

// Thread-safe. Errors per RPC (grpc::Status, via ToGrpcStatus()):
//   UNAUTHENTICATED / PERMISSION_DENIED   see CheckBearerToken().
//   INVALID_ARGUMENT                      an unknown sync name.
//   ABORTED (Apply)                       a selected sync is being applied,
//                                         or a CLI apply holds the lock.
// Per-sync failures of Plan and Apply are reported in the response's
// `error` fields, not as the call's status.
class Tqs1Service final : public tqs1::v1::Tqs1::Service {
 public:
  Tqs1Service(SyncSupervisor* supervisor, ServiceOptions options)
      : supervisor_(supervisor), options_(std::move(options)) {}

  grpc::Status Plan(grpc::ServerContext* context,
                    const tqs1::v1::PlanRequest* request,
                    tqs1::v1::PlanResponse* response) override;
  grpc::Status Apply(grpc::ServerContext* context,
                     const tqs1::v1::ApplyRequest* request,
                     tqs1::v1::ApplyResponse* response) override;
  grpc::Status GetDrift(grpc::ServerContext* context,
                        const tqs1::v1::GetDriftRequest* request,
                        tqs1::v1::GetDriftResponse* response) override;
  // Sends the current drift of each selected sync, then one event per
  // change. Ends with OK when the server shuts down, CANCELLED when the
  // client goes away.
  grpc::Status WatchDrift(
      grpc::ServerContext* context, const tqs1::v1::WatchDriftRequest* request,
      grpc::ServerWriter<tqs1::v1::DriftEvent>* writer) override;

 private:
  grpc::Status CheckReadAccess(const grpc::ServerContext& context) const;
  // The verified plan file of an Apply request that carries one.
  // kInvalidArgument (syncs or options beside it, not a plan file);
  // kFailedPrecondition (no key here, a signature that is not this
  // server's, a changed file).
  absl::StatusOr<tqs1::v1::PlanFile> ReviewedPlanFile(
      const tqs1::v1::ApplyRequest& request) const;

  SyncSupervisor* supervisor_;
  const ServiceOptions options_;
};

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_TQS1_SERVICE_H_

// The one boundary between tqs1's absl::Status vocabulary and gRPC's: every
// RPC handler of `tqs1 serve` returns ToGrpcStatus(its absl::Status), and
// the client turns what it receives back with FromGrpcStatus().
//
//   absl::StatusOr<Plan> plan = PlanSync(...);
//   if (!plan.ok()) return ToGrpcStatus(plan.status());
//
// The codes are numerically the same in both libraries; the mapping keeps
// the code and the message, and drops payloads (a partial ApplyReport is
// returned in the response instead).
#ifndef TQS1_CLI_SERVER_STATUS_MAPPING_H_
#define TQS1_CLI_SERVER_STATUS_MAPPING_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace tqs1::server {

// absl::Status -> grpc::Status: same code, same message. OK maps to OK (with
// no message). A code outside the canonical range maps to UNKNOWN.
grpc::Status ToGrpcStatus(const absl::Status& status);

// grpc::Status -> absl::Status: same code, same message; a code outside the
// canonical range maps to kUnknown.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_STATUS_MAPPING_H_

#include "cli/server/status_mapping.h"

#include "gtest/gtest.h"

namespace tqs1::server {
namespace {

TEST(StatusMappingTest, EveryCodeAndItsMessageBothWays) {
  struct Case {
    absl::Status status;
    grpc::StatusCode code;
  };
  const Case cases[] = {
      {absl::OkStatus(), grpc::StatusCode::OK},
      {absl::CancelledError("apply stopped"), grpc::StatusCode::CANCELLED},
      {absl::UnknownError("?"), grpc::StatusCode::UNKNOWN},
      {absl::InvalidArgumentError("unknown sync \"x\""),
       grpc::StatusCode::INVALID_ARGUMENT},
      {absl::DeadlineExceededError("slow"),
       grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::NotFoundError("no collection"), grpc::StatusCode::NOT_FOUND},
      {absl::AlreadyExistsError("name taken"),
       grpc::StatusCode::ALREADY_EXISTS},
      {absl::PermissionDeniedError("invalid bearer token"),
       grpc::StatusCode::PERMISSION_DENIED},
      {absl::ResourceExhaustedError("too big"),
       grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::FailedPreconditionError("a guard blocks this plan"),
       grpc::StatusCode::FAILED_PRECONDITION},
      {absl::AbortedError("site changed"), grpc::StatusCode::ABORTED},
      {absl::OutOfRangeError("page"), grpc::StatusCode::OUT_OF_RANGE},
      {absl::UnimplementedError("no"), grpc::StatusCode::UNIMPLEMENTED},
      {absl::InternalError("bug"), grpc::StatusCode::INTERNAL},
      {absl::UnavailableError("ThreatQ down"), grpc::StatusCode::UNAVAILABLE},
      {absl::DataLossError("bad JSON"), grpc::StatusCode::DATA_LOSS},
      {absl::UnauthenticatedError("missing bearer token"),
       grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    grpc::Status g = ToGrpcStatus(c.status);
    EXPECT_EQ(g.error_code(), c.code);
    EXPECT_EQ(g.error_message(), std::string(c.status.message()));
    EXPECT_EQ(FromGrpcStatus(g), c.status);
  }
}

TEST(StatusMappingTest, OutOfRangeCodesAreUnknown) {
  grpc::Status g =
      ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(42), "odd"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(g.error_message(), "odd");
  // grpc::StatusCode has no fixed underlying type: its values are those
  // of a 6-bit signed field (-32..31), and casting anything else to it is
  // undefined behavior (UBSan reports the load). So the odd codes tested
  // are the first one past the canonical range, the largest it can hold,
  // and DO_NOT_USE (-1).
  for (grpc::StatusCode code :
       {static_cast<grpc::StatusCode>(17), static_cast<grpc::StatusCode>(31),
        grpc::StatusCode::DO_NOT_USE}) {
    SCOPED_TRACE(static_cast<int>(code));
    EXPECT_EQ(FromGrpcStatus(grpc::Status(code, "odd")),
              absl::UnknownError("odd"));
  }
}

}  // namespace
}  // namespace tqs1::server

// Who may talk to `tqs1 serve`, and how: the listen-address policy (loopback
// by default; anything else needs TLS and a token), bearer-token checks with
// a constant-time comparison, and where the token comes from.
//
//   RETURN_IF_ERROR(CheckListenPolicy("0.0.0.0:50051", /*tls=*/true,
//                                     /*has_token=*/true));
//   ASSIGN_OR_RETURN(std::string token,
//                    ResolveToken(/*file=*/"", /*env=*/"TQS1_SERVER_TOKEN"));
//   // in a handler:
//   absl::Status s = CheckBearerToken(AuthorizationHeader(*context), token);
//   // kUnauthenticated without a header, kPermissionDenied when wrong.
#ifndef TQS1_CLI_SERVER_AUTH_H_
#define TQS1_CLI_SERVER_AUTH_H_

#include <grpcpp/server_context.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/config/secrets.h"

namespace tqs1::server {

// The metadata key of the token: "authorization: Bearer <token>".
inline constexpr char kAuthorizationKey[] = "authorization";

// The server's listening rule: a loopback address (net::IsLoopbackHost) is
// always allowed; any other (including 0.0.0.0 and ::) needs TLS and a
// token. kInvalidArgument for a malformed address (net::ParseHostPort);
// kFailedPrecondition saying what is missing, e.g. "listening on
// 0.0.0.0:50051 (not loopback) needs TLS (--tls-cert and --tls-key) and a
// token (--token-file or --token-env)".
absl::Status CheckListenPolicy(absl::string_view listen_address, bool tls,
                               bool has_token);

// Compares two strings in time that depends only on their lengths, not on
// where they differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Checks an "authorization" metadata value against the server's token.
// - kUnauthenticated "missing bearer token (send metadata \"authorization:
//   Bearer <token>\")" when `header` is absent or not a Bearer value;
// - kPermissionDenied "invalid bearer token" when the token differs, or when
//   the server has none (`expected` empty: nothing is accepted).
// The messages say nothing about the expected token or the config.
absl::Status CheckBearerToken(std::optional<absl::string_view> header,
                              absl::string_view expected);

// The "authorization" metadata of a call, if any.
std::optional<absl::string_view> AuthorizationHeader(
    const grpc::ServerContext& context);

// The largest gRPC message the server and its client take, both ways
// (gRPC's default is 4 MiB): a plan file of a million addresses, with room.
// A message is read whole before its token is checked, so the bound is what
// an unauthenticated caller can make the server hold per call.
inline constexpr int kMaxGrpcMessageBytes = 64 << 20;

// The token from a file (surrounding whitespace trimmed) or an environment
// variable, with config::ResolveSecret()'s checks and messages ("token_file",
// "token_env"). Both empty: "" (no token). Both set: kInvalidArgument.
absl::StatusOr<std::string> ResolveToken(
    absl::string_view file, absl::string_view env,
    const config::SecretOptions& options = {});

// A TLS certificate, key or CA file given with `option` ("--tls-cert"):
// kInvalidArgument "cannot read --tls-cert \"<path>\"" when it cannot be
// read or is empty.
absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view option);

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_AUTH_H_

// For the tests of cli/server: both vendor emulators on loopback
// (testing/vendors_env.h, the collection holding 5 addresses), the Backends a
// real config would get (libcurl clients, no retries so that faults show at
// once), and a Tqs1Server in-process on 127.0.0.1:0.
//
//   ServeOptions serve;                       // listen is 127.0.0.1:0
//   serve.token = "s3cret";
//   ASSIGN_OR_RETURN(std::unique_ptr<ServerTestEnv> env,
//                    ServerTestEnv::Start(serve));
//   env->server().supervisor().ReconcileAll(/*apply=*/false);
//   auto stub = tqs1::v1::Tqs1::NewStub(env->Channel());
//
// Also: generic gRPC calls with raw bytes (for clients that are not
// tqs1's stub) and the health check over them.
#ifndef TQS1_CLI_SERVER_TEST_ENV_H_
#define TQS1_CLI_SERVER_TEST_ENV_H_

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/fake_clock.h"
#include "cli/server/server.h"
#include "testing/vendors_env.h"

namespace tqs1::server {

// The sync of the config: testing::kCollection to testing::kSiteName.
inline constexpr char kTestSync[] = "c2-hq";

// `n` distinct public IPv4 addresses, the same for the same `first`.
std::vector<std::string> TestAddresses(int n, int first = 1);

class ServerTestEnv {
 public:
  // Starts the emulators (the collection holds TestAddresses(5)), builds the
  // backends and starts the server with `serve` (listen forced to
  // 127.0.0.1:0 unless set to another loopback address). The supervisor
  // plans with max_addresses_per_rule 2, uses fake_clock() and, unless
  // `supervisor.lock_file` is set, the lock file lock_file().
  // Each of `more_sites` is a site of its own fed the same collection by a
  // sync "c2-<site>" after kTestSync; `edit`, when set, changes the config
  // last.
  static absl::StatusOr<std::unique_ptr<ServerTestEnv>> Start(
      ServeOptions serve, SupervisorOptions supervisor = {},
      const std::vector<std::string>& more_sites = {},
      const std::function<void(tqs1::v1::Config&)>& edit = {});
  ~ServerTestEnv();

  // The emulators: SetCollection(), BlockedAddresses(), faults.
  testing::VendorsEnv& vendors() { return *vendors_; }
  Tqs1Server& server() { return *server_; }
  SyncSupervisor& supervisor() { return server_->supervisor(); }
  tqs1::FakeClock& fake_clock() { return clock_; }
  const std::string& lock_file() const { return lock_file_; }

  // A plaintext channel to the server.
  std::shared_ptr<grpc::Channel> Channel() const;

 private:
  ServerTestEnv() = default;
  tqs1::FakeClock clock_;
  std::string lock_file_;
  std::unique_ptr<testing::VendorsEnv> vendors_;
  std::unique_ptr<Tqs1Server> server_;
};

// A unary call of `method` ("/pkg.Service/Method") with raw request bytes;
// the raw response bytes. Adds the bearer token when not empty.
absl::StatusOr<std::string> GenericUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& request, const std::string& token = "");

// The protobuf wire format, just enough for hand-made messages: a
// length-delimited field, and the values of one field of a message (varints
// as decimal text, length-delimited fields as their bytes).
std::string EncodeBytesField(int field, const std::string& value);
std::vector<std::string> DecodeField(const std::string& message, int field);

// grpc.health.v1.Health/Check for `service` with a hand-encoded request:
// "SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN"; the call's error
// (NOT_FOUND for a service never registered).
absl::StatusOr<std::string> CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service);

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_TEST_ENV_H_

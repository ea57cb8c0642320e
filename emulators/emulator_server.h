// The shared harness of the vendor emulators: a real HTTP(S) server on
// 127.0.0.1 with an ephemeral port, a thread-safe request log, and fault
// injection scheduled by the test (or by `tqs1 demo`). A vendor emulator
// (ThreatQ, SentinelOne) supplies one Handler holding its in-memory state;
// the harness does sockets, TLS, logging and faults.
//
//   ASSIGN_OR_RETURN(
//       std::unique_ptr<EmulatorServer> server,
//       EmulatorServer::Start({}, [](const Request& req) {
//         if (req.method == "GET" && req.path == "/ping") {
//           return JsonResponse(200, R"({"pong": true})");
//         }
//         return JsonResponse(404, R"({"errors": ["not found"]})");
//       }));
//   // server->base_url() == "http://127.0.0.1:<port>"
//   Fault fault;
//   fault.kind = FaultKind::kTooManyRequests;
//   fault.path_prefix = "/ping";
//   fault.count = 2;
//   server->InjectFault(fault);  // the next two /ping requests get a 429
//   ... run the client ...
//   EXPECT_EQ(server->Requests().size(), 3);
//
// Faults live here only, never in client code.
#ifndef TQS1_EMULATORS_EMULATOR_SERVER_H_
#define TQS1_EMULATORS_EMULATOR_SERVER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "providers/http/http_transport.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace tqs1::emulator {

// A request as the handler sees it.
struct Request {
  std::string method;  // "GET", "POST", "PUT", "DELETE", "PATCH"
  std::string path;    // e.g. "/api/token", without the query string
  std::string query;   // raw query string without '?', e.g. "a=1&b=x%20y"
  http::Headers headers;
  std::string body;
  // Decoded query parameters, in order (a repeated key appears repeatedly).
  std::vector<std::pair<std::string, std::string>> params;

  // The first header / query parameter of that name (headers compare
  // case-insensitively, parameters exactly).
  std::optional<std::string> Header(absl::string_view name) const;
  std::optional<std::string> Param(absl::string_view name) const;
};

// What the handler answers: status, headers and body. A response without a
// Content-Type header is sent as application/json.
using Response = http::HttpResponse;

// Serves one request. Called concurrently from the server's threads: the
// handler must be thread-safe.
using Handler = std::function<Response(const Request&)>;

// A response with a JSON body.
Response JsonResponse(int status, std::string body);

// Appends `text` to `out` as a JSON string literal (quotes included),
// escaping '"', '\\' and control characters. For handlers that write large
// bodies without building a JSON tree; `text` must be valid UTF-8.
void AppendJsonString(absl::string_view text, std::string& out);

enum class FaultKind {
  // Answer 429 with "Retry-After: <retry_after seconds>" (none when
  // `omit_retry_after`) and `body` (a JSON error list when empty); the
  // handler is not called.
  kTooManyRequests,
  // Answer `status` (default 500); the handler is not called.
  kServerError,
  // Wait `delay`, then serve normally.
  kDelay,
  // Serve at once, and answer `delay` after the request arrived (or when
  // the handler is done, if that is later): a service whose every answer
  // takes `delay`, its own work included, as a real console's latency
  // includes its processing. For benchmarks against a latency.
  kLatency,
  // Close the connection without any response; the handler is not called.
  kDropConnection,
  // Call the handler (its effect is applied), then close the connection
  // without sending the response.
  kLoseResponse,
};

// "too_many_requests", "server_error", "delay", "latency",
// "drop_connection", "lose_response".
absl::string_view FaultKindName(FaultKind kind);

// A fault applied to the next `count` requests that match `method` (empty:
// any) and whose path starts with `path_prefix` (empty: any).
struct Fault {
  FaultKind kind = FaultKind::kServerError;
  std::string method;
  std::string path_prefix;
  int count = 1;
  absl::Duration retry_after = absl::Seconds(1);  // kTooManyRequests
  // kTooManyRequests: send no Retry-After header at all, as some gateways
  // (and, per GOSDK, SentinelOne) do.
  bool omit_retry_after = false;
  // kTooManyRequests and kServerError: the JSON body to send instead of the
  // harness's own (e.g. a vendor's error envelope).
  std::string body;
  int status = 500;                                // kServerError
  absl::Duration delay = absl::Milliseconds(100);  // kDelay, kLatency
};

// One served (or refused) request, for assertions.
struct LoggedRequest {
  std::string method;
  std::string path;
  std::string query;
  http::Headers headers;
  std::string body;
  // The size of the request body received (also without
  // ServerOptions::log_contents).
  size_t body_bytes = 0;
  // The status sent; 0 when the connection was closed without a response.
  int response_status = 0;
  // The size of the response body sent (0 when none was).
  size_t response_bytes = 0;
  // When it arrived (its headers and body read).
  absl::Time arrived = absl::InfinitePast();
  // From its arrival to its answer: a fault's delay, the wait for the
  // handler's lock and the handler's work.
  absl::Duration served = absl::ZeroDuration();
  // The fault applied, if any (FaultKindName), else empty.
  std::string fault;
  // The client's port: equal ports on two requests mean one connection
  // (keep-alive reuse).
  int remote_port = 0;
};

struct ServerOptions {
  // Serve HTTPS with this PEM certificate (chain) and key when both are
  // set; plain HTTP otherwise. See self_signed_cert.h for test certificates.
  std::string cert_file;
  std::string key_file;
  // How long an idle keep-alive connection stays open.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  // JSON answers of at least 256 bytes to a client that accepts gzip are
  // gzip-compressed at this zlib level (1 fastest .. 9 smallest), as a
  // vendor's front end would (nginx's gzip_comp_level defaults to 1); 0
  // sends every answer as it is. JSON goes out as "application/json;
  // charset=utf-8".
  int gzip_level = 1;
  // Requests() keep each request's headers and body; false: their sizes
  // only (LoggedRequest::body_bytes), for a benchmark whose requests carry
  // hundreds of megabytes.
  bool log_contents = true;
};

// A running server. Thread-safe. Destroying it stops it.
class EmulatorServer {
 public:
  // Binds 127.0.0.1 on an ephemeral port and starts serving `handler` on a
  // background thread. Errors: kInvalidArgument when only one of cert/key
  // is set or they cannot be loaded; kUnavailable when no port could be
  // bound. Ignores SIGPIPE process-wide (writes to a closed TLS connection
  // must not kill the process).
  static absl::StatusOr<std::unique_ptr<EmulatorServer>> Start(
      ServerOptions options, Handler handler);

  ~EmulatorServer();
  EmulatorServer(const EmulatorServer&) = delete;
  EmulatorServer& operator=(const EmulatorServer&) = delete;

  int port() const { return port_; }
  bool tls() const { return tls_; }
  // "http://127.0.0.1:<port>" or "https://127.0.0.1:<port>".
  std::string base_url() const;

  // Schedules a fault. Faults are matched in the order they were injected;
  // a request takes at most one fault.
  void InjectFault(Fault fault);
  // Removes every pending fault.
  void ClearFaults();
  // Faults still pending (count > 0).
  int PendingFaults() const;

  // The requests received so far, in the order they were answered.
  std::vector<LoggedRequest> Requests() const;
  // Also starts MaxInFlight() again from the requests being served.
  void ClearRequests();
  // The most requests served at once (from their arrival, faults' delays
  // included, to their answer) since the start or ClearRequests(): what a
  // client's bound on its requests in flight is checked against.
  int MaxInFlight() const;

  // Stops serving and closes open connections. Idempotent.
  void Stop();

 private:
  EmulatorServer() = default;
  void Serve(const Request& request, int remote_port, Response& response,
             bool& close_connection);
  void CloseConnection(int remote_port) const;

  Handler handler_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
  bool log_contents_ = true;

  mutable absl::Mutex mu_;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
  std::vector<LoggedRequest> log_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tqs1::emulator

#endif  // TQS1_EMULATORS_EMULATOR_SERVER_H_

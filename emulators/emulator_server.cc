#include "emulators/emulator_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"

namespace tqs1::emulator {
namespace {

int LocalPort(int fd, bool peer) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) return -1;
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return -1;
}

// Shuts down (without closing: the server still owns the descriptor) every
// accepted connection of the server on `server_port`, or only the one from
// `remote_port` when it is >= 0. cpp-httplib does not hand the socket to
// handlers, so connections are found by their ports.
void ShutdownAccepted(int server_port, int remote_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    if (LocalPort(static_cast<int>(fd), /*peer=*/false) != server_port) {
      continue;
    }
    int peer = LocalPort(static_cast<int>(fd), /*peer=*/true);
    if (peer < 0) continue;  // the listening socket
    if (remote_port >= 0 && peer != remote_port) continue;
    shutdown(static_cast<int>(fd), SHUT_RDWR);
  }
  closedir(dir);
}

bool Matches(const Fault& fault, const Request& request) {
  return fault.count > 0 &&
         (fault.method.empty() || fault.method == request.method) &&
         absl::StartsWith(request.path, fault.path_prefix);
}

// `body` as a gzip stream (RFC 1952) at zlib `level`; nullopt if zlib fails.
std::optional<std::string> Gzip(absl::string_view body, int level) {
  z_stream stream{};
  // 15 + 16: a 32 KiB window with a gzip header and trailer.
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&stream, body.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> Request::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::Param(absl::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return std::nullopt;
}

Response JsonResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

void AppendJsonString(absl::string_view text, std::string& out) {
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(
              &out, "\\u00",
              absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

absl::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kTooManyRequests:
      return "too_many_requests";
    case FaultKind::kServerError:
      return "server_error";
    case FaultKind::kDelay:
      return "delay";
    case FaultKind::kLatency:
      return "latency";
    case FaultKind::kDropConnection:
      return "drop_connection";
    case FaultKind::kLoseResponse:
      return "lose_response";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<EmulatorServer>> EmulatorServer::Start(
    ServerOptions options, Handler handler) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "emulator: HTTPS needs both cert_file and key_file");
  }
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<EmulatorServer> self(new EmulatorServer());
  self->handler_ = std::move(handler);
  self->log_contents_ = options.log_contents;
  if (!options.cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.cert_file.c_str(),
                                                    options.key_file.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("emulator: cannot load certificate ", options.cert_file,
                       " and key ", options.key_file));
    }
    self->server_ = std::move(ssl);
    self->tls_ = true;
  } else {
    self->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *self->server_;
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle
  // and delayed ACKs add ~40 ms to every response.
  server.set_tcp_nodelay(true);
  server.set_keep_alive_timeout(static_cast<time_t>(
      std::max<int64_t>(1, absl::ToInt64Seconds(options.keep_alive_timeout))));
  EmulatorServer* raw = self.get();
  const int gzip_level = std::clamp(options.gzip_level, 0, 9);
  auto dispatch = [raw, gzip_level](const httplib::Request& in,
                                    httplib::Response& out) {
    Request request;
    request.method = in.method;
    request.path = in.path;
    size_t q = in.target.find('?');
    if (q != std::string::npos) request.query = in.target.substr(q + 1);
    for (const auto& [key, value] : in.headers) {
      request.headers.emplace_back(key, value);
    }
    request.body = in.body;
    for (const auto& [key, value] : in.params) {
      request.params.emplace_back(key, value);
    }
    Response response;
    bool close_connection = false;
    raw->Serve(request, in.remote_port, response, close_connection);
    if (close_connection) {
      // The socket is shut down already; whatever is written next fails and
      // the server closes the connection.
      out.status = 500;
      out.set_header("Connection", "close");
      return;
    }
    out.status = response.status;
    std::string content_type = "application/json";
    for (const auto& [key, value] : response.headers) {
      if (absl::EqualsIgnoreCase(key, "Content-Type")) {
        content_type = value;
      } else {
        out.set_header(key, value);
      }
    }
    if (content_type != "application/json") {
      out.set_content(response.body, content_type.c_str());
      return;
    }
    // The emulator compresses JSON itself, at its own level: httplib would
    // use zlib's default level 6, several times the CPU of level 1 for a
    // few percent fewer bytes. httplib leaves a body alone unless its type
    // is exactly "application/json", hence the charset.
    if (gzip_level > 0 && response.body.size() >= 256 &&
        absl::StrContains(in.get_header_value("Accept-Encoding"), "gzip")) {
      if (std::optional<std::string> packed = Gzip(response.body, gzip_level)) {
        out.set_header("Content-Encoding", "gzip");
        out.set_header("Vary", "Accept-Encoding");
        response.body = *std::move(packed);
      }
    }
    out.set_content(response.body, "application/json; charset=utf-8");
  };
  const std::string kAny = ".*";
  server.Get(kAny, dispatch);
  server.Post(kAny, dispatch);
  server.Put(kAny, dispatch);
  server.Patch(kAny, dispatch);
  server.Delete(kAny, dispatch);
  int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    return absl::UnavailableError("emulator: cannot bind 127.0.0.1");
  }
  self->port_ = port;
  self->thread_ = std::thread([raw] { raw->server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs: wait for it, so
  // that a Stop() right after Start() cannot hang.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (!server.is_running()) {
    return absl::UnavailableError("emulator: server did not start");
  }
  return self;
}

EmulatorServer::~EmulatorServer() { Stop(); }

std::string EmulatorServer::base_url() const {
  return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", port_);
}

void EmulatorServer::InjectFault(Fault fault) {
  absl::MutexLock lock(&mu_);
  faults_.push_back(std::move(fault));
}

void EmulatorServer::ClearFaults() {
  absl::MutexLock lock(&mu_);
  faults_.clear();
}

int EmulatorServer::PendingFaults() const {
  absl::MutexLock lock(&mu_);
  int pending = 0;
  for (const Fault& fault : faults_) pending += fault.count > 0 ? 1 : 0;
  return pending;
}

std::vector<LoggedRequest> EmulatorServer::Requests() const {
  absl::MutexLock lock(&mu_);
  return log_;
}

void EmulatorServer::ClearRequests() {
  absl::MutexLock lock(&mu_);
  log_.clear();
  max_in_flight_ = in_flight_;
}

int EmulatorServer::MaxInFlight() const {
  absl::MutexLock lock(&mu_);
  return max_in_flight_;
}

void EmulatorServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (server_ == nullptr) return;  // Start() failed before creating it
  server_->stop();
  // Idle keep-alive connections would otherwise hold the server's worker
  // threads until their timeout.
  ShutdownAccepted(port_, /*remote_port=*/-1);
  if (thread_.joinable()) thread_.join();
}

void EmulatorServer::CloseConnection(int remote_port) const {
  ShutdownAccepted(port_, remote_port);
}

void EmulatorServer::Serve(const Request& request, int remote_port,
                           Response& response, bool& close_connection) {
  const absl::Time arrived = absl::Now();
  std::optional<Fault> fault;
  {
    absl::MutexLock lock(&mu_);
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    for (Fault& candidate : faults_) {
      if (Matches(candidate, request)) {
        --candidate.count;
        fault = candidate;
        break;
      }
    }
  }
  LoggedRequest entry;
  entry.method = request.method;
  entry.path = request.path;
  entry.query = request.query;
  entry.body_bytes = request.body.size();
  if (log_contents_) {
    entry.headers = request.headers;
    entry.body = request.body;
  }
  entry.remote_port = remote_port;
  if (fault.has_value()) entry.fault = std::string(FaultKindName(fault->kind));

  bool call_handler = true;
  absl::Time answer_at = arrived;  // no sooner than this
  if (fault.has_value()) {
    switch (fault->kind) {
      case FaultKind::kTooManyRequests:
        response = JsonResponse(
            429, fault->body.empty() ? R"({"errors": ["Too Many Requests"]})"
                                     : fault->body);
        if (!fault->omit_retry_after) {
          response.headers.emplace_back(
              "Retry-After",
              absl::StrCat(absl::ToInt64Seconds(fault->retry_after)));
        }
        call_handler = false;
        break;
      case FaultKind::kServerError:
        response = JsonResponse(fault->status,
                                fault->body.empty()
                                    ? R"({"errors": ["Injected server error"]})"
                                    : fault->body);
        call_handler = false;
        break;
      case FaultKind::kDelay:
        absl::SleepFor(fault->delay);
        break;
      case FaultKind::kLatency:
        answer_at = arrived + fault->delay;
        break;
      case FaultKind::kDropConnection:
        close_connection = true;
        call_handler = false;
        break;
      case FaultKind::kLoseResponse:
        close_connection = true;
        break;
    }
  }
  if (call_handler) response = handler_(request);
  absl::SleepFor(answer_at - absl::Now());  // returns at once when past
  entry.response_status = close_connection ? 0 : response.status;
  entry.response_bytes = close_connection ? 0 : response.body.size();
  entry.arrived = arrived;
  entry.served = absl::Now() - arrived;
  {
    absl::MutexLock lock(&mu_);
    log_.push_back(std::move(entry));
    --in_flight_;
  }
  if (close_connection) CloseConnection(remote_port);
}

}  // namespace tqs1::emulator

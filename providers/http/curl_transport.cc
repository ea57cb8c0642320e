#include "providers/http/curl_transport.h"

#include <curl/curl.h>

#include <cstdio>
#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/net.h"

namespace tqs1::http {
namespace {

constexpr size_t kMaxIdleHandles = 8;

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Collected while a request runs.
struct Transfer {
  HttpResponse response;
  int64_t max_body = 0;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (static_cast<int64_t>(transfer->response.body.size() + n) >
      transfer->max_body) {
    transfer->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  transfer->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  absl::string_view line(data, n);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response starts (e.g. after "100 Continue").
    transfer->response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;
  transfer->response.headers.emplace_back(
      std::string(absl::StripAsciiWhitespace(line.substr(0, colon))),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return n;
}

// Codes after which the request certainly never reached the server.
bool NeverSent(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return true;
    default:
      return false;
  }
}

std::string HostPart(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) {
    return "";
  }
  std::string out(value);
  curl_free(value);
  return out;
}

bool KnownMethod(absl::string_view method) {
  return method == "GET" || method == "POST" || method == "PUT" ||
         method == "PATCH" || method == "DELETE";
}

}  // namespace

absl::Status CurlCodeToStatus(int curl_code, absl::string_view method,
                              absl::string_view url, absl::string_view detail) {
  const CURLcode code = static_cast<CURLcode>(curl_code);
  absl::StatusCode status_code;
  switch (code) {
    case CURLE_OK:
      return absl::OkStatus();
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PROXY:
      status_code = absl::StatusCode::kUnavailable;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      status_code = absl::StatusCode::kDeadlineExceeded;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_TOO_MANY_REDIRECTS:
      status_code = absl::StatusCode::kFailedPrecondition;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      status_code = absl::StatusCode::kInvalidArgument;
      break;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_OUT_OF_MEMORY:
      status_code = absl::StatusCode::kResourceExhausted;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      status_code = absl::StatusCode::kCancelled;
      break;
    case CURLE_WRITE_ERROR:
      status_code = absl::StatusCode::kInternal;
      break;
    default:
      status_code = absl::StatusCode::kUnknown;
      break;
  }
  std::string message = absl::StrCat(method, " ", net::UrlWithoutQuery(url),
                                     ": ", curl_easy_strerror(code));
  if (!detail.empty()) {
    std::string clean(detail);
    size_t q = url.find('?');
    if (q != absl::string_view::npos && q + 1 < url.size()) {
      clean = absl::StrReplaceAll(clean, {{url.substr(q), ""}});
    }
    absl::StrAppend(&message, " (", clean, ")");
  }
  return absl::Status(status_code, message);
}

absl::StatusOr<std::unique_ptr<CurlTransport>> CurlTransport::Create(
    CurlTransportOptions options) {
  static std::once_flag once;
  static CURLcode global_init = CURLE_OK;
  std::call_once(once, [] { global_init = curl_global_init(CURL_GLOBAL_ALL); });
  if (global_init != CURLE_OK) {
    return absl::InternalError(absl::StrCat("libcurl initialisation failed: ",
                                            curl_easy_strerror(global_init)));
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.total_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "HTTP transport: timeouts must be positive");
  }
  if (options.max_response_body_bytes <= 0) {
    return absl::InvalidArgumentError(
        "HTTP transport: max_response_body_bytes must be positive");
  }
  if (!options.ca_bundle_file.empty()) {
    std::FILE* f = std::fopen(options.ca_bundle_file.c_str(), "r");
    if (f == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP transport: cannot read CA bundle file \"",
                       options.ca_bundle_file, "\""));
    }
    std::fclose(f);
  }
  if (options.insecure_skip_tls_verify) {
    log::LogTo(options.logger, log::LogLevel::kWarning,
               "INSECURE: TLS certificate verification is OFF; anyone on the "
               "network path can read and alter this traffic, credentials "
               "included. Use a CA bundle instead.");
  }
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(options)));
}

CurlTransport::~CurlTransport() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
  idle_.clear();
}

void* CurlTransport::AcquireHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void CurlTransport::ReleaseHandle(void* handle) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

absl::StatusOr<HttpResponse> CurlTransport::Send(const HttpRequest& request) {
  const std::string& method = request.method;
  const std::string safe_url = net::UrlWithoutQuery(request.url);
  if (!KnownMethod(method)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported HTTP method \"", method, "\" for ", safe_url));
  }
  // Parse with libcurl's own parser, so that the policy checks the host
  // libcurl will connect to.
  std::unique_ptr<CURLU, CurlUrlDeleter> url(curl_url());
  if (url == nullptr) return absl::ResourceExhaustedError("curl_url failed");
  if (curl_url_set(url.get(), CURLUPART_URL, request.url.c_str(), 0) !=
      CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat(method, " ", safe_url, ": malformed URL"));
  }
  const std::string scheme = HostPart(url.get(), CURLUPART_SCHEME);
  const std::string host = HostPart(url.get(), CURLUPART_HOST);
  if (absl::Status policy = net::CheckPlainHttpPolicy(
          method, request.url, scheme, host, options_.allow_plain_http);
      !policy.ok()) {
    return policy;
  }

  CURL* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr) {
    return absl::ResourceExhaustedError("curl_easy_init failed");
  }
  curl_easy_reset(curl);
  Transfer transfer;
  transfer.max_body = options_.max_response_body_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  std::unique_ptr<curl_slist, CurlSlistDeleter> headers;
  auto add_header = [&headers](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      headers.release();
      headers.reset(next);
    }
  };
  for (const auto& [name, value] : request.headers) {
    add_header(value.empty() ? absl::StrCat(name, ";")
                             : absl::StrCat(name, ": ", value));
  }
  // No "Expect: 100-continue" round trip for larger bodies.
  add_header("Expect:");

  const bool idempotent = request.IsIdempotent();
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(
      curl, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(
      curl, CURLOPT_TIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.total_timeout)));
  curl_easy_setopt(curl, CURLOPT_USERAGENT,
                   absl::StrCat("tqs1/", options_.version).c_str());
  // gzip only: the vendors' consoles use it, and it is cheap for a server
  // to produce (brotli at the quality some servers default to costs more
  // CPU than the transfer saves on a LAN).
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (options_.insecure_skip_tls_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_bundle_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_bundle_file.c_str());
    }
  }
  if (!idempotent) {
    // libcurl silently re-sends a request when a reused keep-alive
    // connection dies before the first response byte; for a non-idempotent
    // request that may apply it twice. A fresh, unshared connection rules
    // that out.
    curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
  }
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    if (method == "POST") {
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (method != "DELETE" || !request.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    }
  }

  const CURLcode code = curl_easy_perform(curl);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  long request_size = 0;
  curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_size);
  // Options point into this frame; clear them before the handle is reused.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  ReleaseHandle(curl);

  absl::Status status;
  if (transfer.too_large) {
    status = net::ResponseTooLargeError(method, request.url,
                                        options_.max_response_body_bytes);
  } else if (code != CURLE_OK) {
    status = CurlCodeToStatus(code, method, request.url, error_buffer);
  } else {
    transfer.response.status = static_cast<int>(http_status);
    return std::move(transfer.response);
  }
  // The request may have reached the server unless it provably did not.
  if (!idempotent && !NeverSent(code) && request_size > 0) {
    status = MarkOutcomeUnknown(std::move(status));
  }
  return status;
}

}  // namespace tqs1::http

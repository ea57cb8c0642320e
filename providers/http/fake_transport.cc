#include "providers/http/fake_transport.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/net.h"

namespace tqs1::http {

FakeTransport::FakeTransport(Handler handler, FakeTransportOptions options)
    : options_(options), handler_(std::move(handler)) {}

void FakeTransport::SetHandler(Handler handler) {
  absl::MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

void FakeTransport::Enqueue(absl::StatusOr<HttpResponse> outcome) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(outcome));
}

absl::StatusOr<HttpResponse> FakeTransport::Send(const HttpRequest& request) {
  const std::string& method = request.method;
  if (method != "GET" && method != "POST" && method != "PUT" &&
      method != "PATCH" && method != "DELETE") {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported HTTP method \"", method, "\" for ",
                     net::UrlWithoutQuery(request.url)));
  }
  absl::StatusOr<net::ParsedUrl> url = net::ParseUrl(request.url);
  if (!url.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        method, " ", net::UrlWithoutQuery(request.url), ": malformed URL"));
  }
  if (absl::Status policy =
          net::CheckPlainHttpPolicy(method, request.url, url->scheme, url->host,
                                    options_.allow_plain_http);
      !policy.ok()) {
    return policy;
  }
  std::optional<absl::StatusOr<HttpResponse>> outcome;
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    if (!queue_.empty()) {
      outcome = std::move(queue_.front());
      queue_.pop_front();
    } else {
      handler = handler_;
    }
  }
  if (!outcome.has_value()) {
    if (handler == nullptr) {
      return absl::UnavailableError(
          absl::StrCat(method, " ", net::UrlWithoutQuery(request.url),
                       ": no response scripted"));
    }
    outcome = handler(request);
  }
  if (outcome->ok() && static_cast<int64_t>((*outcome)->body.size()) >
                           options_.max_response_body_bytes) {
    absl::Status status = net::ResponseTooLargeError(
        method, request.url, options_.max_response_body_bytes);
    return request.IsIdempotent() ? status : MarkOutcomeUnknown(status);
  }
  return *std::move(outcome);
}

std::vector<HttpRequest> FakeTransport::Requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int FakeTransport::RequestCount() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(requests_.size());
}

}  // namespace tqs1::http

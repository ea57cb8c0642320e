// IndicatorSource over ThreatQ's REST API (spec/threatq-api.md): gets an
// OAuth token, finds the data collection by exact name, and reads its
// indicators page by page to the end.
//
//   ThreatQClientOptions options;
//   options.base_url = "https://threatq.example.net";
//   options.grant = ThreatQClientOptions::Grant::kPassword;
//   options.email = "svc-tq@example.org";
//   options.password = password;        // resolved by the CLI
//   options.client_id = client_id;
//   options.logger = &logger;
//   ASSIGN_OR_RETURN(std::unique_ptr<ThreatQClient> client,
//                    ThreatQClient::Create(&transport, options));
//   ASSIGN_OR_RETURN(CollectionRead read,
//                    client->ReadCollection("Block - C2 IPs"));
//
// Retries of 429/5xx/network errors belong to the transport (wire a
// RetryingTransport); the client itself only re-authenticates once on 401.
// Secrets (password, client secret, tokens) never appear in logs or error
// messages.
#ifndef TQS1_PROVIDERS_THREATQ_THREATQ_CLIENT_H_
#define TQS1_PROVIDERS_THREATQ_THREATQ_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/logger.h"
#include "providers/http/http_transport.h"
#include "providers/threatq/collection_read_builder.h"
#include "providers/threatq/indicator_source.h"

namespace tqs1::threatq {

struct ThreatQClientOptions {
  // "https://host[:port]", with or without a trailing "/" or "/api".
  std::string base_url;

  enum class Grant {
    // A user account: email, password and the user's API client id.
    kPassword,
    // A private OAuth client: client_id and client_secret (HTTP Basic).
    kClientCredentials,
  };
  Grant grant = Grant::kPassword;
  // Plain values (the CLI resolves env/file references). Secrets.
  std::string email;
  std::string password;
  std::string client_id;
  std::string client_secret;
  // Where the grant's secret (the password, or the client secret) came
  // from, e.g. "$TQS1_THREATQ_PASSWORD" or "file /etc/tq_labs/tq.pw" (not a
  // secret). When set, a token request refused with HTTP 400, 401 or 403
  // says it: "the ThreatQ password from $TQS1_THREATQ_PASSWORD was rejected
  // (HTTP 401): ThreatQ refused the credentials: ...".
  std::string credential_origin;

  // Indicators asked per page; clamped to [1, 1000]. The server may send
  // fewer; the offset advances by the rows actually received.
  int page_size = 1000;
  // A read that needs more pages than this fails (a server that never ends).
  int max_pages = 20000;
  // Only indicators of these statuses are blocked (case-insensitive;
  // "Whitelisted" never is); the others are counted per status.
  std::vector<std::string> block_statuses = DefaultBlockStatuses();
  // A token is renewed this long before its expires_in runs out.
  absl::Duration token_margin = absl::Seconds(60);

  // Not owned; null: RealClock(). Must outlive the client.
  tqs1::Clock* clock = nullptr;
  // Not owned; may be null. Must outlive the client.
  log::Logger* logger = nullptr;
};

class ThreatQClient : public IndicatorSource {
 public:
  // `transport` is not owned and must outlive the client. kInvalidArgument
  // for a malformed base URL, missing credentials for the grant, or a
  // page_size/max_pages below 1.
  static absl::StatusOr<std::unique_ptr<ThreatQClient>> Create(
      http::HttpTransport* transport, ThreatQClientOptions options);

  // See IndicatorSource. Beyond its codes: kFailedPrecondition also when the
  // token request is redirected (usually a wrong base URL) or the
  // collection's saved search is not on indicators; kUnavailable also when
  // the collection changed while being read (read again);
  // kResourceExhausted when a response is larger than the transport allows;
  // kDeadlineExceeded from the transport. Messages name the endpoint and,
  // for indicator pages, the offset.
  absl::StatusOr<CollectionRead> ReadCollection(
      absl::string_view collection) override;

 private:
  ThreatQClient(http::HttpTransport* transport, ThreatQClientOptions options,
                std::string api_base);

  absl::StatusOr<std::string> Token();
  absl::StatusOr<std::string> FetchToken();
  // Sends an authenticated request; re-authenticates once on 401. Returns
  // the response, which is 2xx.
  absl::StatusOr<http::HttpResponse> Call(const std::string& method,
                                          const std::string& path_and_query,
                                          const std::string& body,
                                          absl::string_view context);
  // The body of the indicator query for `collection`: its saved search's
  // api_query plus the fields to return, as JSON text.
  absl::StatusOr<std::string> QueryBodyFor(absl::string_view collection);
  absl::StatusOr<CollectionRead> Read(absl::string_view collection);
  void Log(log::LogLevel level, absl::string_view message) const;
  // `text`, or `status` (code and payloads kept), without the password, the
  // client id and secret, or the current token (base/redact.h).
  std::string Redact(absl::string_view text) const;
  absl::Status Redact(const absl::Status& status) const;
  // "the ThreatQ password from $X was rejected (HTTP 401): " for a token
  // request refused with `http_status`, or "" without a credential_origin.
  std::string RejectedCredential(int http_status) const;
  absl::Status Annotate(const absl::Status& status,
                        absl::string_view context) const;

  http::HttpTransport* const transport_;
  const ThreatQClientOptions options_;
  const std::string api_base_;  // "https://host/api"
  tqs1::Clock& clock_;
  // Guards the token: the next indicator page is fetched on another thread
  // while the current one is parsed (and logged, which redacts the token).
  mutable absl::Mutex token_mu_;
  std::optional<std::string> token_ ABSL_GUARDED_BY(token_mu_);
  absl::Time token_expiry_ ABSL_GUARDED_BY(token_mu_) = absl::InfinitePast();
};

}  // namespace tqs1::threatq

#endif  // TQS1_PROVIDERS_THREATQ_THREATQ_CLIENT_H_

// FirewallRules over SentinelOne's management API v2.1
// (spec/sentinelone-api.md), through an injected HttpTransport.
//
//   SentinelOneClientOptions options;
//   options.base_url = "https://usea1.sentinelone.net";
//   options.api_token = token;            // resolved by the CLI
//   options.logger = &logger;
//   ASSIGN_OR_RETURN(std::unique_ptr<SentinelOneClient> s1,
//                    SentinelOneClient::Create(options, &transport));
//   ASSIGN_OR_RETURN(std::string site_id, s1->FindSite({"HQ"}));
//   ASSIGN_OR_RETURN(ObservedState observed, s1->ReadSite(site_id));
//
// Writes whose answer is lost (the transport says IsOutcomeUnknown, a 5xx,
// an unreadable success body, or a duplicate-name answer to our own create,
// which libcurl may have re-sent) are settled by re-reading the site, never
// by re-sending. The API token never appears in logs or error messages.
#ifndef TQS1_PROVIDERS_SENTINELONE_SENTINELONE_CLIENT_H_
#define TQS1_PROVIDERS_SENTINELONE_SENTINELONE_CLIENT_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/logger.h"
#include "nlohmann/json.hpp"
#include "proto/state.pb.h"
#include "providers/http/http_transport.h"
#include "providers/sentinelone/firewall_rules.h"

namespace tqs1::sentinelone {

struct SentinelOneClientOptions {
  // Console URL, e.g. "https://usea1.sentinelone.net" (a trailing
  // "/web/api/v2.1" is accepted too).
  std::string base_url;
  // The API token itself (the CLI resolves env/file references).
  std::string api_token;
  // Where the token came from, e.g. "$TQS1_S1_TOKEN" or "file
  // /etc/tq_labs/s1.token" (not a secret). When set, an HTTP 401 or 403
  // says it: "the API token from $TQS1_S1_TOKEN was rejected by the console
  // (HTTP 401): SentinelOne GET /sites: ...".
  std::string credential_origin;
  // Sites per /sites request, 1..1000.
  int page_size = 1000;
  // Rules per /firewall-control request, 1..1000: a page of full rules of
  // 5,000 values each is heavy (the response cap, gateway time limits).
  int rule_page_size = 200;
  // Where to log (never the token or bodies); may be null.
  log::Logger* logger = nullptr;
  // Larger response bodies are refused with kDataLoss.
  size_t max_response_bytes = size_t{64} << 20;
  // A list read gives up (kDataLoss) after this many pages: a guard against
  // a cursor that never ends.
  int max_pages = 20000;
};

// Thread-compatible, like FirewallRules.
class SentinelOneClient : public FirewallRules {
 public:
  // kInvalidArgument when the options are unusable (no URL, no token, page
  // size out of 1..1000, null transport). `transport` is not owned and must
  // outlive the client.
  static absl::StatusOr<std::unique_ptr<SentinelOneClient>> Create(
      SentinelOneClientOptions options, http::HttpTransport* transport);

  // FirewallRules. Error codes as documented there, plus kAborted from
  // ReadSite when the site changed while it was paged through (re-read).
  absl::StatusOr<std::string> FindSite(const SiteSelector& site) override;
  absl::StatusOr<tqs1::v1::ObservedState> ReadSite(
      absl::string_view site_id) override;
  absl::StatusOr<tqs1::v1::Rule> CreateRule(
      absl::string_view site_id, const tqs1::v1::Rule& rule) override;
  absl::StatusOr<tqs1::v1::Rule> UpdateRule(
      absl::string_view site_id, const tqs1::v1::Rule& rule) override;
  absl::Status DeleteRule(absl::string_view site_id,
                          absl::string_view rule_id) override;

 private:
  SentinelOneClient(SentinelOneClientOptions options,
                    http::HttpTransport* transport);

  // The FirewallRules calls before their errors pass through Redact(): any
  // message may quote what the server sent, which may hold the token.
  absl::StatusOr<std::string> DoFindSite(const SiteSelector& site);
  absl::StatusOr<tqs1::v1::ObservedState> DoReadSite(absl::string_view site_id);
  absl::StatusOr<tqs1::v1::Rule> DoCreateRule(absl::string_view site_id,
                                              const tqs1::v1::Rule& rule);
  absl::StatusOr<tqs1::v1::Rule> DoUpdateRule(absl::string_view site_id,
                                              const tqs1::v1::Rule& rule);
  absl::Status DoDeleteRule(absl::string_view site_id,
                            absl::string_view rule_id);

  // Sends one request to `path` (below /web/api/v2.1, query included) and
  // returns the parsed JSON object of a 2xx answer. `endpoint` names the
  // call in messages, e.g. "GET /firewall-control".
  absl::StatusOr<nlohmann::json> Call(
      absl::string_view method, absl::string_view path,
      absl::string_view endpoint, const std::optional<nlohmann::json>& body);

  // Pages through a list endpoint: `path_and_filters` plus limit (=
  // `page_size`) and cursor; `items_of` picks the item array out of each
  // answer.
  absl::Status ReadAllPages(
      absl::string_view path_and_filters, absl::string_view endpoint,
      int page_size,
      const std::function<absl::StatusOr<const nlohmann::json*>(
          const nlohmann::json&)>& items_of,
      const std::function<absl::Status(const nlohmann::json&)>& on_item);

  // Settles a write whose outcome is unknown or ambiguous by re-reading the
  // site: returns the site rule `found` picks (or nullopt when none), or
  // `original` annotated when the re-read fails too.
  absl::StatusOr<std::optional<tqs1::v1::Rule>> ReReadFor(
      absl::string_view site_id,
      const std::function<bool(const tqs1::v1::Rule&)>& found);

  // `status` with the token removed from its message, payloads kept; a
  // 401/403 also names where the token came from (credential_origin).
  absl::Status Redact(const absl::Status& status) const;
  template <typename T>
  absl::StatusOr<T> Redact(absl::StatusOr<T> result) const {
    if (result.ok()) return result;
    return Redact(result.status());
  }
  void Log(log::LogLevel level, absl::string_view message) const;

  const SentinelOneClientOptions options_;
  const std::string api_base_;
  http::HttpTransport* const transport_;
  // Names of sites found by FindSite, for ObservedState.site_name.
  std::map<std::string, std::string> site_names_;
};

}  // namespace tqs1::sentinelone

#endif  // TQS1_PROVIDERS_SENTINELONE_SENTINELONE_CLIENT_H_

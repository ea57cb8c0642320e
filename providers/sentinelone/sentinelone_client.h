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
// Read-only calls for `tqs1 check` and `tqs1 init` (not in FirewallRules):
//
//   ASSIGN_OR_RETURN(std::vector<SiteListing> sites, s1->ListSites());
//   ASSIGN_OR_RETURN(ConsoleInfo console, s1->SystemInfo());
//   ASSIGN_OR_RETURN(ApiTokenDetails token, s1->TokenDetails());
//   if (token.expires_at.has_value())
//     days_left = (*token.expires_at - clock.Now()) / absl::Hours(24);
//   ASSIGN_OR_RETURN(ConsoleUser user, s1->CurrentUser());
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
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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

// One site as GET /sites lists it. Read leniently: a field the console
// leaves out (or sends in an odd type) is empty, never an error.
struct SiteListing {
  std::string id;  // an integer id is kept as its decimal text
  std::string name;
  std::string account_id;
  std::string account_name;
  // "active", "expired", "deleted".
  std::string state;
  // Every account has one default site; nullopt when not said.
  std::optional<bool> is_default;
  // The licence: e.g. "Control" or "Complete" (Firewall Control requires
  // Control), "Trial" or "Paid".
  std::string sku;
  std::string suite;
  std::string site_type;
  // The names of `licenses.bundles[]`, when the console lists them.
  std::vector<std::string> license_bundles;
};

// The accounts that have an active site among `sites`: each one's name by
// its id.
std::map<std::string, std::string> ActiveAccounts(
    const std::vector<SiteListing>& sites);

// GET /system/info: the console's version as found (numbers kept as text).
struct ConsoleInfo {
  std::string version;
  std::string build;
  std::string release;
  std::string patch;
};

// POST /users/api-token-details for the client's own token. The caller
// computes days left from its own clock.
struct ApiTokenDetails {
  // What the console sent ("" when null or missing)...
  std::string created_at_text;
  std::string expires_at_text;
  // ...and as a time: nullopt when null, missing or not an RFC 3339 time
  // (a token that never expires has no expiresAt).
  std::optional<absl::Time> created_at;
  std::optional<absl::Time> expires_at;
};

// A token expiring sooner than this is worth a warning (`tqs1 check`'s
// WARN, and a warning line at the start of every plan and apply).
inline constexpr absl::Duration kTokenRenewalWarning = absl::Hours(24 * 30);

// The warning for `token` when it expires sooner than kTokenRenewalWarning
// after `now`, or has expired, naming the day ("the SentinelOne API token
// expires on 2026-05-01, in 12 days: renew it in the console before
// then"); nullopt otherwise, and for a token that never expires.
std::optional<std::string> TokenRenewalWarning(const ApiTokenDetails& token,
                                               absl::Time now);

// GET /user: the user the token belongs to, and its scope.
struct ConsoleUser {
  std::string id;
  std::string email;
  std::string full_name;
  // "tenant", "account", "site" or "group": how far the token reaches.
  std::string scope;
  // e.g. "Admin", "Viewer".
  std::string lowest_role;
};

// Thread-safe when its transport is (the syncs of a parallel run that use
// one console share its client).
class SentinelOneClient : public FirewallRules {
 public:
  // kInvalidArgument when the options are unusable (no URL, no token, page
  // size out of 1..1000, null transport). `transport` is not owned and must
  // outlive the client.
  static absl::StatusOr<std::unique_ptr<SentinelOneClient>> Create(
      SentinelOneClientOptions options, http::HttpTransport* transport);

  // FirewallRules. Error codes as documented there, plus kAborted from
  // ReadSite when the site changed while it was paged through (re-read),
  // and, from every call, kFailedPrecondition for a redirect (never
  // followed; the message names its Location: an SSO page or a wrong URL).
  // ReadSite also reads the site's Firewall Control configuration
  // (GET /firewall-control/configuration?siteIds=) into
  // ObservedState.firewall; when the console refuses it (HTTP 400, 403,
  // 404) or does not say whether it is enabled, the configuration is
  // unknown (known false), logged once per site at warning, and the read
  // goes on.
  // An account's ReadSite lists GET /firewall-control?accountIds= and reads
  // no configuration (each of its sites has its own).
  // FindAccount lists the active sites (GET /sites?state=active) and
  // matches their accountId and accountName: an account without an active
  // site is not found. FindGroup lists the site's groups
  // (GET /groups?siteIds=) and matches their id and exact name. A group's
  // ReadSite lists GET /firewall-control?groupIds= and reads no
  // configuration (its site's is the site's).
  absl::StatusOr<std::string> FindSite(const SiteSelector& site) override;
  absl::StatusOr<std::string> FindAccount(
      absl::string_view name_or_id) override;
  absl::StatusOr<std::string> FindGroup(absl::string_view site_id,
                                        absl::string_view name) override;
  absl::StatusOr<tqs1::v1::ObservedState> ReadSite(const Scope& scope) override;
  absl::StatusOr<tqs1::v1::Rule> CreateRule(
      const Scope& scope, const tqs1::v1::Rule& rule) override;
  absl::StatusOr<tqs1::v1::Rule> UpdateRule(
      const Scope& scope, const tqs1::v1::Rule& rule) override;
  absl::Status DeleteRule(const Scope& scope,
                          absl::string_view rule_id) override;

  // Read-only calls for `tqs1 check` and `tqs1 init`. Answers are read
  // leniently: a missing or odd field is empty, never an error. Errors:
  // those common to FirewallRules (401 kUnauthenticated, 403
  // kPermissionDenied, 429/5xx kUnavailable), a body that is not JSON (an
  // HTML login or gateway page) kDataLoss naming the endpoint, other HTTP
  // errors by the HTTP table (a 404 of an older console kNotFound).

  // Every site the token sees, in every state, read to the end
  // (GET /sites). Items that are not objects are skipped.
  absl::StatusOr<std::vector<SiteListing>> ListSites();
  // The console's version (GET /system/info).
  absl::StatusOr<ConsoleInfo> SystemInfo();
  // The token's creation and expiry (POST /users/api-token-details with the
  // token in the body, as the spec has it; never logged).
  absl::StatusOr<ApiTokenDetails> TokenDetails();
  // The token's user and scope (GET /user).
  absl::StatusOr<ConsoleUser> CurrentUser();

 private:
  SentinelOneClient(SentinelOneClientOptions options,
                    http::HttpTransport* transport);

  // The FirewallRules calls before their errors pass through Redact(): any
  // message may quote what the server sent, which may hold the token.
  absl::StatusOr<std::string> DoFindSite(const SiteSelector& site);
  // `with_firewall` false skips the configuration (re-reads that settle a
  // write need only the rules).
  absl::StatusOr<std::string> DoFindAccount(absl::string_view name_or_id);
  absl::StatusOr<std::string> DoFindGroup(absl::string_view site_id,
                                          absl::string_view name);
  absl::StatusOr<tqs1::v1::ObservedState> DoReadSite(const Scope& scope,
                                                     bool with_firewall = true);
  // The site's Firewall Control configuration; unknown (known false) when
  // the console refuses to say (400, 403, 404) or its answer does not say.
  absl::StatusOr<tqs1::v1::FirewallConfiguration> ReadFirewallConfiguration(
      absl::string_view site_id);
  absl::StatusOr<tqs1::v1::Rule> DoCreateRule(const Scope& scope,
                                              const tqs1::v1::Rule& rule);
  absl::StatusOr<tqs1::v1::Rule> DoUpdateRule(const Scope& scope,
                                              const tqs1::v1::Rule& rule);
  absl::Status DoDeleteRule(const Scope& scope, absl::string_view rule_id);
  // Every site `query` ("/sites" plus filters) lists.
  absl::StatusOr<std::vector<SiteListing>> DoListSites(absl::string_view query);
  // kNotFound for `site` (by name), with near matches among every active
  // site the token sees.
  absl::Status NoSuchSite(const SiteSelector& site);
  // The answer's `data` object of a GET or POST to `path` (the answer
  // itself when it has none).
  absl::StatusOr<nlohmann::json> DataObject(
      absl::string_view method, absl::string_view path,
      absl::string_view endpoint, const std::optional<nlohmann::json>& body);

  // Sends one request to `path` (below /web/api/v2.1, query included) and
  // returns the parsed JSON object of a 2xx answer. `endpoint` names the
  // call in messages, e.g. "GET /firewall-control".
  absl::StatusOr<nlohmann::json> Call(
      absl::string_view method, absl::string_view path,
      absl::string_view endpoint, const std::optional<nlohmann::json>& body);

  // Pages through a list endpoint: `path_and_filters` (with or without a
  // query) plus limit (=
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
      const Scope& scope,
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
  mutable absl::Mutex mu_;
  // Names of sites found by FindSite, for ObservedState.site_name.
  std::map<std::string, std::string> site_names_ ABSL_GUARDED_BY(mu_);
  // Account names by id, as FindAccount found them.
  std::map<std::string, std::string> account_names_ ABSL_GUARDED_BY(mu_);
  // Group names by id, as FindGroup found them.
  std::map<std::string, std::string> group_names_ ABSL_GUARDED_BY(mu_);
  // Sites whose unknown firewall configuration was logged already.
  std::set<std::string> firewall_unknown_logged_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tqs1::sentinelone

#endif  // TQS1_PROVIDERS_SENTINELONE_SENTINELONE_CLIENT_H_

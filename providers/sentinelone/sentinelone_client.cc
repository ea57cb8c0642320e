#include "providers/sentinelone/sentinelone_client.h"

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "base/redact.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "providers/sentinelone/wire.h"

namespace tqs1::sentinelone {
namespace {

using ::nlohmann::json;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

constexpr absl::string_view kApiPath = "/web/api/v2.1";
// Empty pages that still carry a cursor: more than this many in a row is a
// server that never ends.
constexpr int kMaxEmptyPagesInARow = 3;
// Groups per page of GET /groups. UNCERTAIN: a third-party schema of the
// endpoint caps `limit` at 100 there, below the 1000 of /sites.
constexpr int kGroupPageSize = 100;

// The `data.sites` array of a page of GET /sites; kDataLoss naming `label`.
absl::StatusOr<const json*> SitesOfPage(const json& answer,
                                        const std::string& label) {
  auto data = answer.find("data");
  if (data == answer.end() || !data->is_object()) {
    return absl::DataLossError(
        absl::StrCat(label, ": field \"data\" should be an object"));
  }
  auto sites = data->find("sites");
  if (sites == data->end() || !sites->is_array()) {
    return absl::DataLossError(
        absl::StrCat(label, ": field \"data.sites\" should be an array"));
  }
  return &*sites;
}

// Whether a failed write may have been applied anyway (or was refused in a
// way only a re-read can explain), so that the site must be re-read before
// the error is believed.
bool MayHaveBeenApplied(const absl::Status& status) {
  if (http::IsOutcomeUnknown(status)) return true;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:       // 5xx, connection lost
    case absl::StatusCode::kDeadlineExceeded:  // answer never came
    case absl::StatusCode::kDataLoss:          // answer unreadable
      return true;
    default:
      return false;
  }
}

// The rule in a create or update answer ({"data": {...rule...}}), or why
// there is none (the call's own error first).
absl::StatusOr<Rule> RuleFromAnswer(const absl::StatusOr<json>& answer,
                                    const Scope& scope,
                                    absl::string_view label) {
  if (!answer.ok()) return answer.status();
  auto data = answer->find("data");
  if (data == answer->end()) {
    return absl::DataLossError(absl::StrCat(label, ": missing field \"data\""));
  }
  return RuleFromWriteAnswer(*data, scope.kind, scope.id, label);
}

// Lenient field reading for the check calls: a string as it is, a number
// or boolean as its text, anything else (null, missing, objects) "".
std::string TextOf(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return absl::StrCat(it->get<uint64_t>());
  if (it->is_number_integer()) return absl::StrCat(it->get<int64_t>());
  if (it->is_number_float() || it->is_boolean()) return it->dump();
  return "";
}

// An RFC 3339 time, with or without fractional seconds; a time without a
// zone is read as UTC. nullopt for anything else.
std::optional<absl::Time> TimeOf(absl::string_view text) {
  for (const char* format :
       {absl::RFC3339_full, "%Y-%m-%dT%H:%M:%E*S", "%Y-%m-%d %H:%M:%E*S"}) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &t, &error)) {
      return t;
    }
  }
  return std::nullopt;
}

SiteListing SiteListingFromWire(const json& item) {
  SiteListing site;
  site.id = TextOf(item, "id");
  site.name = TextOf(item, "name");
  site.account_id = TextOf(item, "accountId");
  site.account_name = TextOf(item, "accountName");
  site.state = TextOf(item, "state");
  site.is_default = LenientBool(item, "isDefault");
  site.sku = TextOf(item, "sku");
  site.suite = TextOf(item, "suite");
  site.site_type = TextOf(item, "siteType");
  auto licenses = item.find("licenses");
  if (licenses != item.end() && licenses->is_object()) {
    auto bundles = licenses->find("bundles");
    if (bundles != licenses->end() && bundles->is_array()) {
      for (const json& bundle : *bundles) {
        std::string name = TextOf(bundle, "name");
        if (name.empty()) name = TextOf(bundle, "displayName");
        if (!name.empty()) site.license_bundles.push_back(std::move(name));
      }
    }
  }
  return site;
}

// The rules of `scope` itself, not those it inherits.
bool IsScopeRule(const Rule& rule, const Scope& scope) {
  return rule.scope() == scope.kind && rule.scope_id() == scope.id;
}

// The filter that names `scope` in a list query: "siteIds=1758...",
// "groupIds=1827...", "accountIds=1286...", or "tenant=true" for the global
// scope.
std::string ScopeQuery(const Scope& scope) {
  switch (scope.kind) {
    case v1::RULE_SCOPE_ACCOUNT:
      return absl::StrCat("accountIds=", UrlEncode(scope.id));
    case v1::RULE_SCOPE_GROUP:
      return absl::StrCat("groupIds=", UrlEncode(scope.id));
    case v1::RULE_SCOPE_GLOBAL:
      return "tenant=true";
    default:
      return absl::StrCat("siteIds=", UrlEncode(scope.id));
  }
}

// The same in a write's `filter`: {"siteIds": ["1758..."]},
// {"groupIds": [...]}, {"accountIds": [...]} or {"tenant": true}; `extra`
// ({"ids": [...]}) beside it.
json ScopeBodyFilter(const Scope& scope, json extra = json::object()) {
  switch (scope.kind) {
    case v1::RULE_SCOPE_ACCOUNT:
      extra["accountIds"] = {scope.id};
      break;
    case v1::RULE_SCOPE_GROUP:
      extra["groupIds"] = {scope.id};
      break;
    case v1::RULE_SCOPE_GLOBAL:
      extra["tenant"] = true;
      break;
    default:
      extra["siteIds"] = {scope.id};
      break;
  }
  return extra;
}

// The `data` array of a list answer (GET /firewall-control, GET /groups).
absl::StatusOr<const json*> ArrayData(const json& answer,
                                      absl::string_view label) {
  auto data = answer.find("data");
  if (data == answer.end()) {
    return absl::DataLossError(absl::StrCat(label, ": missing field \"data\""));
  }
  if (!data->is_array()) {
    return absl::DataLossError(absl::StrCat(
        label, ": field \"data\" should be an array, got ", data->type_name()));
  }
  return &*data;
}

}  // namespace

std::map<std::string, std::string> ActiveAccounts(
    const std::vector<SiteListing>& sites) {
  std::map<std::string, std::string> accounts;
  for (const SiteListing& s : sites) {
    if (!s.state.empty() && s.state != "active") continue;
    if (!s.account_id.empty()) accounts[s.account_id] = s.account_name;
  }
  return accounts;
}

SentinelOneClient::SentinelOneClient(SentinelOneClientOptions options,
                                     http::HttpTransport* transport)
    : options_(std::move(options)),
      api_base_([this] {
        absl::string_view base = options_.base_url;
        while (absl::ConsumeSuffix(&base, "/")) {
        }
        absl::ConsumeSuffix(&base, kApiPath);
        return absl::StrCat(base, kApiPath);
      }()),
      transport_(transport) {}

absl::StatusOr<std::unique_ptr<SentinelOneClient>> SentinelOneClient::Create(
    SentinelOneClientOptions options, http::HttpTransport* transport) {
  if (transport == nullptr) {
    return absl::InvalidArgumentError("SentinelOne client: no HTTP transport");
  }
  if (!absl::StartsWith(options.base_url, "https://") &&
      !absl::StartsWith(options.base_url, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SentinelOne client: the console URL must start with https:// (got \"",
        options.base_url, "\")"));
  }
  if (options.api_token.empty()) {
    return absl::InvalidArgumentError("SentinelOne client: no API token");
  }
  for (int size : {options.page_size, options.rule_page_size}) {
    if (size < 1 || size > kMaxPageSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SentinelOne client: page size ", size, " is outside 1..1000"));
    }
  }
  if (options.max_pages < 1) {
    return absl::InvalidArgumentError("SentinelOne client: max_pages < 1");
  }
  return absl::WrapUnique(new SentinelOneClient(std::move(options), transport));
}

absl::Status SentinelOneClient::Redact(const absl::Status& status) const {
  absl::Status redacted = RedactSecrets(status, {options_.api_token});
  // The HTTP answers that refuse the token map to these two codes
  // (StatusFromHttpError): say which token, so that a wrong variable or
  // file is found without guessing.
  const bool rejected = status.code() == absl::StatusCode::kUnauthenticated ||
                        status.code() == absl::StatusCode::kPermissionDenied;
  if (!rejected || options_.credential_origin.empty()) return redacted;
  return AddContext(
      redacted,
      absl::StrCat("the API token from ", options_.credential_origin,
                   status.code() == absl::StatusCode::kUnauthenticated
                       ? " was rejected by the console (HTTP 401)"
                       : " was refused this request by the console (HTTP "
                         "403: the token's user lacks a permission)"));
}

void SentinelOneClient::Log(log::LogLevel level,
                            absl::string_view message) const {
  if (options_.logger == nullptr) return;
  options_.logger->Log(level, RedactSecrets(message, {options_.api_token}));
}

absl::StatusOr<std::string> SentinelOneClient::FindSite(
    const SiteSelector& site) {
  return Redact(DoFindSite(site));
}

absl::StatusOr<std::string> SentinelOneClient::FindAccount(
    absl::string_view name_or_id) {
  return Redact(DoFindAccount(name_or_id));
}

absl::StatusOr<std::string> SentinelOneClient::FindGroup(
    absl::string_view site_id, absl::string_view name) {
  return Redact(DoFindGroup(site_id, name));
}

absl::StatusOr<ObservedState> SentinelOneClient::ReadSite(const Scope& scope) {
  return Redact(DoReadSite(scope));
}

absl::StatusOr<Rule> SentinelOneClient::CreateRule(const Scope& scope,
                                                   const Rule& rule) {
  return Redact(DoCreateRule(scope, rule));
}

absl::StatusOr<Rule> SentinelOneClient::UpdateRule(const Scope& scope,
                                                   const Rule& rule) {
  return Redact(DoUpdateRule(scope, rule));
}

absl::Status SentinelOneClient::DeleteRule(const Scope& scope,
                                           absl::string_view rule_id) {
  return Redact(DoDeleteRule(scope, rule_id));
}

absl::StatusOr<std::vector<SiteListing>> SentinelOneClient::ListSites() {
  return Redact(DoListSites("/sites"));
}

absl::StatusOr<std::vector<SiteListing>> SentinelOneClient::DoListSites(
    absl::string_view query) {
  constexpr absl::string_view kEndpoint = "GET /sites";
  const std::string label = absl::StrCat("SentinelOne ", kEndpoint);
  std::vector<SiteListing> sites;
  RETURN_IF_ERROR(ReadAllPages(
      query, kEndpoint, options_.page_size,
      [&label](const json& answer) { return SitesOfPage(answer, label); },
      [&sites](const json& item) -> absl::Status {
        if (item.is_object()) sites.push_back(SiteListingFromWire(item));
        return absl::OkStatus();
      }));
  return sites;
}

absl::StatusOr<json> SentinelOneClient::DataObject(
    absl::string_view method, absl::string_view path,
    absl::string_view endpoint, const std::optional<json>& body) {
  ASSIGN_OR_RETURN(json answer, Call(method, path, endpoint, body));
  auto data = answer.find("data");
  if (data != answer.end() && data->is_object()) return *data;
  return answer;
}

absl::StatusOr<ConsoleInfo> SentinelOneClient::SystemInfo() {
  absl::StatusOr<json> data =
      DataObject("GET", "/system/info", "GET /system/info", std::nullopt);
  if (!data.ok()) return Redact(data.status());
  ConsoleInfo info;
  info.version = TextOf(*data, "version");
  info.build = TextOf(*data, "build");
  info.release = TextOf(*data, "release");
  info.patch = TextOf(*data, "patch");
  return info;
}

std::optional<std::string> TokenRenewalWarning(const ApiTokenDetails& token,
                                               absl::Time now) {
  if (!token.expires_at.has_value()) return std::nullopt;
  const absl::Duration left = *token.expires_at - now;
  if (left >= kTokenRenewalWarning) return std::nullopt;
  const std::string when =
      absl::FormatTime("%Y-%m-%d", *token.expires_at, absl::UTCTimeZone());
  if (left <= absl::ZeroDuration()) {
    return absl::StrCat("the SentinelOne API token expired on ", when,
                        ": make a new one in the console");
  }
  return absl::StrCat("the SentinelOne API token expires on ", when, ", in ",
                      absl::ToInt64Hours(left) / 24,
                      " days: renew it in the console before then");
}

absl::StatusOr<ApiTokenDetails> SentinelOneClient::TokenDetails() {
  // UNCERTAIN: the spec has POST with the token in the body; the token
  // never reaches a log (Call logs the endpoint only) or an error (Redact).
  const json body = {{"data", {{"apiToken", options_.api_token}}}};
  absl::StatusOr<json> data = DataObject("POST", "/users/api-token-details",
                                         "POST /users/api-token-details", body);
  if (!data.ok()) return Redact(data.status());
  ApiTokenDetails details;
  details.created_at_text = TextOf(*data, "createdAt");
  details.expires_at_text = TextOf(*data, "expiresAt");
  details.created_at = TimeOf(details.created_at_text);
  details.expires_at = TimeOf(details.expires_at_text);
  return details;
}

absl::StatusOr<ConsoleUser> SentinelOneClient::CurrentUser() {
  absl::StatusOr<json> data =
      DataObject("GET", "/user", "GET /user", std::nullopt);
  if (!data.ok()) return Redact(data.status());
  ConsoleUser user;
  user.id = TextOf(*data, "id");
  user.email = TextOf(*data, "email");
  user.full_name = TextOf(*data, "fullName");
  user.scope = TextOf(*data, "scope");
  user.lowest_role = TextOf(*data, "lowestRole");
  return user;
}

absl::StatusOr<json> SentinelOneClient::Call(absl::string_view method,
                                             absl::string_view path,
                                             absl::string_view endpoint,
                                             const std::optional<json>& body) {
  const std::string label = absl::StrCat("SentinelOne ", endpoint);
  http::HttpRequest request;
  request.method = std::string(method);
  request.url = absl::StrCat(api_base_, path);
  request.headers.emplace_back("Authorization",
                               absl::StrCat("ApiToken ", options_.api_token));
  request.headers.emplace_back("Accept", "application/json");
  if (body.has_value()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = DumpJson(*body);
  }
  Log(log::LogLevel::kDebug, label);
  absl::StatusOr<http::HttpResponse> response = transport_->Send(request);
  if (!response.ok()) {
    return AddContext(response.status(), label);
  }
  if (response->body.size() > options_.max_response_bytes) {
    return absl::DataLossError(absl::StrCat(
        label, ": response body of ", response->body.size(),
        " bytes exceeds the limit of ", options_.max_response_bytes));
  }
  if (response->status < 200 || response->status > 299) {
    absl::Status error =
        StatusFromHttpError(response->status, response->body, label);
    if (response->status == 429) {
      if (std::optional<std::string> after = response->Header("Retry-After")) {
        error = WithMessage(
            error, absl::StrCat(error.message(), ", Retry-After: ", *after));
      }
    }
    if (response->status >= 300 && response->status <= 399) {
      // An SSO gateway or a wrong console URL: never followed.
      constexpr size_t kMaxLocation = 120;
      std::string location =
          response->Header("Location").value_or("(no Location)");
      if (location.size() > kMaxLocation) {
        location = absl::StrCat(location.substr(0, kMaxLocation), "...");
      }
      error = WithMessage(
          error,
          absl::StrCat(error.message(), ", redirected to ", location,
                       "; redirects are not followed: check that the console "
                       "URL is the API's (https://<console>), not a login or "
                       "SSO page"));
    }
    return error;
  }
  return ParseJsonBody(response->body, label);
}

absl::Status SentinelOneClient::ReadAllPages(
    absl::string_view path_and_filters, absl::string_view endpoint,
    int page_size,
    const std::function<absl::StatusOr<const json*>(const json&)>& items_of,
    const std::function<absl::Status(const json&)>& on_item) {
  const std::string label = absl::StrCat("SentinelOne ", endpoint);
  std::set<std::string> seen_cursors;
  std::optional<std::string> cursor;
  int empty_in_a_row = 0;
  for (int page = 1;; ++page) {
    if (page > options_.max_pages) {
      return absl::DataLossError(absl::StrCat(
          label, ": still more pages after ", options_.max_pages,
          " pages; refusing to page on (a cursor that never ends?)"));
    }
    std::string path = absl::StrCat(
        path_and_filters, absl::StrContains(path_and_filters, '?') ? "&" : "?",
        "limit=", page_size);
    if (cursor.has_value())
      absl::StrAppend(&path, "&cursor=", UrlEncode(*cursor));
    ASSIGN_OR_RETURN(json answer, Call("GET", path, endpoint, std::nullopt));
    ASSIGN_OR_RETURN(const json* items, items_of(answer));
    for (const json& item : *items) RETURN_IF_ERROR(on_item(item));

    auto pagination = answer.find("pagination");
    if (pagination == answer.end() || !pagination->is_object()) {
      // Without pagination we cannot know the list ended: never guess.
      return absl::DataLossError(absl::StrCat(
          label, ": missing field \"pagination\" (page ", page, ")"));
    }
    auto next = pagination->find("nextCursor");
    if (next == pagination->end() || next->is_null() ||
        (next->is_string() && next->get_ref<const std::string&>().empty())) {
      return absl::OkStatus();
    }
    if (!next->is_string()) {
      return absl::DataLossError(
          absl::StrCat(label,
                       ": field \"pagination.nextCursor\" should be a "
                       "string or null, got ",
                       next->type_name()));
    }
    // Decoded once here, encoded once when sent: never double-encoded
    // (a console that sends "YXJy%3D%3D" means "YXJy==").
    const std::string next_cursor =
        CursorFromWire(next->get_ref<const std::string&>());
    if (!seen_cursors.insert(next_cursor).second) {
      return absl::DataLossError(
          absl::StrCat(label, ": pagination cursor repeats on page ", page,
                       "; refusing to loop"));
    }
    empty_in_a_row = items->empty() ? empty_in_a_row + 1 : 0;
    if (empty_in_a_row > kMaxEmptyPagesInARow) {
      return absl::DataLossError(absl::StrCat(
          label, ": ", empty_in_a_row,
          " empty pages in a row that still carry a cursor; refusing to loop"));
    }
    cursor = next_cursor;
  }
}

absl::StatusOr<std::string> SentinelOneClient::DoFindSite(
    const SiteSelector& site) {
  constexpr absl::string_view kEndpoint = "GET /sites";
  const std::string label = absl::StrCat("SentinelOne ", kEndpoint);
  std::vector<SiteSummary> candidates;
  // By id: every state, so that an expired site is named as such.
  const std::string query =
      site.id.empty()
          ? absl::StrCat("/sites?name=", UrlEncode(site.name), "&state=active")
          : absl::StrCat("/sites?siteIds=", UrlEncode(site.id));
  RETURN_IF_ERROR(ReadAllPages(
      query, kEndpoint, options_.page_size,
      [&label](const json& answer) { return SitesOfPage(answer, label); },
      [&](const json& item) -> absl::Status {
        ASSIGN_OR_RETURN(SiteSummary summary, SiteFromWire(item, label));
        candidates.push_back(std::move(summary));
        return absl::OkStatus();
      }));
  absl::StatusOr<std::string> picked = PickSite(site, candidates);
  if (picked.status().code() == absl::StatusCode::kNotFound &&
      site.id.empty()) {
    return NoSuchSite(site);
  }
  ASSIGN_OR_RETURN(std::string id, std::move(picked));
  absl::MutexLock lock(&mu_);
  for (const SiteSummary& s : candidates) {
    if (s.id == id) site_names_[id] = s.name;
  }
  return id;
}

absl::StatusOr<v1::FirewallConfiguration>
SentinelOneClient::ReadFirewallConfiguration(absl::string_view site_id) {
  constexpr absl::string_view kEndpoint = "GET /firewall-control/configuration";
  absl::StatusOr<json> answer =
      Call("GET",
           absl::StrCat("/firewall-control/configuration?siteIds=",
                        UrlEncode(site_id)),
           kEndpoint, std::nullopt);
  std::string unknown_reason;
  v1::FirewallConfiguration config;
  if (answer.ok()) {
    config = FirewallConfigurationFromWire(*answer, site_id, &unknown_reason);
  } else {
    switch (answer.status().code()) {
      case absl::StatusCode::kInvalidArgument:   // 400
      case absl::StatusCode::kPermissionDenied:  // 403
      case absl::StatusCode::kNotFound:          // 404 (an older console)
        unknown_reason = std::string(answer.status().message());
        break;
      default:
        return answer.status();
    }
  }
  bool first_time = false;
  if (!config.known()) {
    absl::MutexLock lock(&mu_);
    first_time = firewall_unknown_logged_.insert(std::string(site_id)).second;
  }
  if (first_time) {
    Log(log::LogLevel::kWarning,
        absl::StrCat("the Firewall Control configuration of site ", site_id,
                     " is unknown (SentinelOne ", kEndpoint, ": ",
                     unknown_reason,
                     "); whether it is enabled or inherited is not checked"));
  }
  return config;
}

absl::StatusOr<std::string> SentinelOneClient::DoFindAccount(
    absl::string_view name_or_id) {
  if (name_or_id.empty()) {
    return absl::InvalidArgumentError("SentinelOne FindAccount: empty account");
  }
  ASSIGN_OR_RETURN(std::vector<SiteListing> active,
                   DoListSites("/sites?state=active"));
  std::map<std::string, std::string> accounts = ActiveAccounts(active);
  std::vector<std::string> named;
  for (const auto& [id, name] : accounts) {
    if (id == name_or_id) {
      named = {id};
      break;
    }
    if (name == name_or_id) named.push_back(id);
  }
  if (named.size() > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "several SentinelOne accounts are named \"", name_or_id, "\" (ids ",
        absl::StrJoin(named, ", "), "): give the account by its id"));
  }
  if (named.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no SentinelOne account with an active site is named or has the id "
        "\"",
        name_or_id, "\"; the accounts with active sites are ",
        DescribeNamed(accounts)));
  }
  absl::MutexLock lock(&mu_);
  account_names_[named.front()] = accounts[named.front()];
  return named.front();
}

absl::StatusOr<std::string> SentinelOneClient::DoFindGroup(
    absl::string_view site_id, absl::string_view name) {
  if (site_id.empty() || name.empty()) {
    return absl::InvalidArgumentError(
        "SentinelOne FindGroup: empty site id or group name");
  }
  constexpr absl::string_view kEndpoint = "GET /groups";
  const std::string label = absl::StrCat("SentinelOne ", kEndpoint);
  // Every group of the site, not `name=`: the filter's case rule is
  // UNCERTAIN, the match here is exact, and a miss lists the site's groups.
  std::map<std::string, std::string> groups;  // name by id
  RETURN_IF_ERROR(ReadAllPages(
      absl::StrCat("/groups?siteIds=", UrlEncode(site_id)), kEndpoint,
      kGroupPageSize,
      [&label](const json& answer) { return ArrayData(answer, label); },
      [&](const json& item) -> absl::Status {
        if (!item.is_object()) return absl::OkStatus();
        // Only the site's own groups, whatever else the filter lets by.
        const std::string site = TextOf(item, "siteId");
        if (!site.empty() && site != site_id) return absl::OkStatus();
        const std::string id = TextOf(item, "id");
        if (!id.empty()) groups[id] = TextOf(item, "name");
        return absl::OkStatus();
      }));
  ASSIGN_OR_RETURN(std::string id, PickGroup(site_id, name, groups));
  absl::MutexLock lock(&mu_);
  group_names_[id] = groups[id];
  return id;
}

absl::Status SentinelOneClient::NoSuchSite(const SiteSelector& site) {
  absl::StatusOr<std::vector<SiteListing>> active =
      DoListSites("/sites?state=active");
  if (!active.ok()) {
    return absl::NotFoundError(
        absl::StrCat("no active SentinelOne site",
                     site.account.empty()
                         ? ""
                         : absl::StrCat(" in account \"", site.account, "\""),
                     " is named exactly \"", site.name,
                     "\" (listing the active sites for near matches failed: ",
                     active.status().message(), ")"));
  }
  std::vector<SiteSummary> sites;
  for (const SiteListing& s : *active) {
    if (!s.state.empty() && s.state != "active") continue;
    sites.push_back({s.id, s.name, s.account_id, s.account_name, s.state});
  }
  return NoSuchSiteError(site, sites);
}

absl::StatusOr<ObservedState> SentinelOneClient::DoReadSite(
    const Scope& scope, bool with_firewall) {
  const std::string& site_id = scope.id;
  constexpr absl::string_view kEndpoint = "GET /firewall-control";
  const std::string label = absl::StrCat("SentinelOne ", kEndpoint);
  if (site_id.empty() && scope.kind != v1::RULE_SCOPE_GLOBAL) {
    return absl::InvalidArgumentError(
        absl::StrCat("SentinelOne ReadSite: empty ", scope.Noun(), " id"));
  }
  ObservedState observed;
  observed.set_site_id(site_id);
  if (!scope.site()) observed.set_scope(scope.kind);
  if (scope.kind != v1::RULE_SCOPE_GLOBAL) {
    absl::MutexLock lock(&mu_);
    const auto& names = scope.site()                         ? site_names_
                        : scope.kind == v1::RULE_SCOPE_GROUP ? group_names_
                                                             : account_names_;
    auto name = names.find(site_id);
    if (name != names.end()) observed.set_site_name(name->second);
  }
  std::set<std::string> ids;
  // UNCERTAIN (spec §3.2): whether siteIds=X also returns inherited rules.
  // We do not send scopes=site: the contract is to return every rule the
  // site query returns, inherited ones included, each classified by its own
  // scope/scopeId (RuleFromJson), so the planner sees name clashes with
  // inherited rules and manages only scope == site && scopeId == X.
  RETURN_IF_ERROR(ReadAllPages(
      absl::StrCat("/firewall-control?", ScopeQuery(scope)), kEndpoint,
      options_.rule_page_size,
      [&label](const json& answer) { return ArrayData(answer, label); },
      [&](const json& item) -> absl::Status {
        // Network Quarantine rules share the listing; they are not
        // firewall rules and never tqs1's.
        if (item.is_object()) {
          auto category = item.find("ruleCategory");
          if (category != item.end() && category->is_string() &&
              *category != "firewall") {
            return absl::OkStatus();
          }
        }
        ASSIGN_OR_RETURN(Rule rule, RuleFromJson(item, label));
        if (!ids.insert(rule.id()).second) {
          // Cursor pages shifted under us: a rule was added or removed
          // while we read.
          return absl::AbortedError(absl::StrCat(
              label, ": rule ", rule.id(),
              " was listed twice; the site changed while it was read, "
              "read it again"));
        }
        *observed.add_rules() = std::move(rule);
        return absl::OkStatus();
      }));
  // A site's configuration says whether its rules are enforced; an
  // account's rules reach endpoints through its sites, each read on its own.
  if (with_firewall && scope.site()) {
    ASSIGN_OR_RETURN(*observed.mutable_firewall(),
                     ReadFirewallConfiguration(site_id));
  }
  Log(log::LogLevel::kDebug, absl::StrCat("read ", observed.rules_size(),
                                          " rules of ", scope.Label()));
  return observed;
}

absl::StatusOr<std::optional<Rule>> SentinelOneClient::ReReadFor(
    const Scope& scope, const std::function<bool(const Rule&)>& found) {
  ASSIGN_OR_RETURN(ObservedState observed,
                   DoReadSite(scope, /*with_firewall=*/false));
  for (const Rule& rule : observed.rules()) {
    if (IsScopeRule(rule, scope) && found(rule)) return rule;
  }
  return std::optional<Rule>();
}

absl::StatusOr<Rule> SentinelOneClient::DoCreateRule(const Scope& scope,
                                                     const Rule& rule) {
  constexpr absl::string_view kEndpoint = "POST /firewall-control";
  const std::string label = absl::StrCat("SentinelOne ", kEndpoint);
  if (absl::Status valid = ValidateRuleForWrite(rule); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": ", valid.message()));
  }
  json body = {{"data", RuleToWireData(rule)},
               {"filter", ScopeBodyFilter(scope)}};
  absl::StatusOr<json> answer =
      Call("POST", "/firewall-control", kEndpoint, body);
  absl::StatusOr<Rule> created = RuleFromAnswer(answer, scope, label);
  if (created.ok()) {
    Log(log::LogLevel::kInfo,
        absl::StrCat("created rule \"", created->name(), "\" (id ",
                     created->id(), ") in ", scope.Label()));
    return created;
  }
  absl::Status error = created.status();
  // Only a re-read tells whether the create happened: its answer was lost
  // or unreadable, or it was refused as a duplicate (libcurl may have
  // re-sent our own POST after applying it), or refused with a 400 that may
  // be a differently worded duplicate (spec §4: "treat a 400 on create after
  // a race as maybe duplicate").
  const bool ambiguous = MayHaveBeenApplied(error) ||
                         error.code() == absl::StatusCode::kAlreadyExists ||
                         error.code() == absl::StatusCode::kInvalidArgument;
  if (!ambiguous) return error;
  Log(log::LogLevel::kWarning,
      absl::StrCat("create of rule \"", rule.name(), "\" in ", scope.Label(),
                   " failed (", absl::StatusCodeToString(error.code()),
                   "); re-reading the ", scope.Noun(),
                   " to learn whether it happened"));
  absl::StatusOr<std::optional<Rule>> existing = ReReadFor(
      scope, [&rule](const Rule& r) { return r.name() == rule.name(); });
  if (!existing.ok()) {
    absl::Status out = WithMessage(
        error, absl::StrCat(error.message(),
                            "; re-reading the site to learn the outcome "
                            "failed too: ",
                            existing.status().message()));
    return MayHaveBeenApplied(error) ? http::MarkOutcomeUnknown(out) : out;
  }
  if (!existing->has_value()) {
    // Not there: the create did not happen; the original error stands, its
    // outcome now known (a retry is safe).
    return absl::Status(error.code(), error.message());
  }
  const Rule& found = **existing;
  if (SameRuleContent(found, rule)) {
    Log(log::LogLevel::kInfo,
        absl::StrCat("rule \"", rule.name(), "\" (id ", found.id(), ") is in ",
                     scope.Label(),
                     " with the intended content: the create succeeded"));
    return found;
  }
  return absl::AlreadyExistsError(absl::StrCat(
      label, ": ", scope.Label(), " already holds a rule named \"", rule.name(),
      "\" (id ", found.id(), ") with different content"));
}

absl::StatusOr<Rule> SentinelOneClient::DoUpdateRule(const Scope& scope,
                                                     const Rule& rule) {
  const std::string endpoint =
      absl::StrCat("PUT /firewall-control/", rule.id());
  const std::string label = absl::StrCat("SentinelOne ", endpoint);
  if (rule.id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": no rule id"));
  }
  if (absl::Status valid = ValidateRuleForWrite(rule); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": ", valid.message()));
  }
  // UNCERTAIN (spec §7.3): partial update or replacement; we always send
  // every field we manage, which is right either way.
  json body = {{"data", RuleToWireData(rule)}};
  absl::StatusOr<json> answer =
      Call("PUT", absl::StrCat("/firewall-control/", UrlEncode(rule.id())),
           endpoint, body);
  absl::StatusOr<Rule> updated = RuleFromAnswer(answer, scope, label);
  if (updated.ok()) {
    Log(log::LogLevel::kInfo,
        absl::StrCat("updated rule \"", updated->name(), "\" (id ",
                     updated->id(), ") in ", scope.Label()));
    return updated;
  }
  absl::Status error = updated.status();
  const bool unknown = MayHaveBeenApplied(error);
  if (!unknown && error.code() != absl::StatusCode::kInvalidArgument) {
    return error;
  }
  // Lost answer: see whether the rule now says what we sent. A 400: see
  // whether another rule holds the name (a differently worded duplicate).
  absl::StatusOr<std::optional<Rule>> existing =
      ReReadFor(scope, [&rule, unknown](const Rule& r) {
        return unknown ? r.id() == rule.id()
                       : r.id() != rule.id() && r.name() == rule.name();
      });
  if (!existing.ok()) {
    absl::Status out = WithMessage(
        error, absl::StrCat(error.message(),
                            "; re-reading the site to learn the outcome "
                            "failed too: ",
                            existing.status().message()));
    return unknown ? http::MarkOutcomeUnknown(out) : out;
  }
  if (!existing->has_value()) return error;
  const Rule& found = **existing;
  if (!unknown) {
    return absl::AlreadyExistsError(absl::StrCat(
        label, ": ", scope.Label(), " already holds another rule named \"",
        rule.name(), "\" (id ", found.id(), "): ", error.message()));
  }
  if (SameRuleContent(found, rule)) {
    Log(log::LogLevel::kInfo,
        absl::StrCat("rule ", rule.id(),
                     " holds the intended content: the update succeeded"));
    return found;
  }
  return error;
}

absl::Status SentinelOneClient::DoDeleteRule(const Scope& scope,
                                             absl::string_view rule_id) {
  const std::string& site_id = scope.id;
  constexpr absl::string_view kEndpoint = "DELETE /firewall-control";
  const std::string label = absl::StrCat("SentinelOne ", kEndpoint);
  if (rule_id.empty() ||
      (site_id.empty() && scope.kind != v1::RULE_SCOPE_GLOBAL)) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": empty scope or rule id"));
  }
  // UNCERTAIN (spec §3.5): an empty filter might match everything; we
  // always send both the rule id and the scope's id.
  json body = {
      {"filter", ScopeBodyFilter(scope, {{"ids", {std::string(rule_id)}}})}};
  absl::StatusOr<json> answer =
      Call("DELETE", "/firewall-control", kEndpoint, body);
  absl::Status error = answer.status();
  // Anything but `affected: 1` (0, a string, no count) says nothing sure
  // about the rule: re-read the site and decide, as for a lost answer.
  bool settle_by_reading = false;
  if (answer.ok()) {
    std::string affected_text = "no \"data.affected\"";
    auto data = answer->find("data");
    if (data != answer->end() && data->is_object()) {
      auto affected = data->find("affected");
      if (affected != data->end()) {
        int64_t n = -1;
        if (affected->is_number_integer()) {
          n = affected->get<int64_t>();
        } else if (affected->is_string() &&
                   !absl::SimpleAtoi(affected->get<std::string>(), &n)) {
          n = -1;
        }
        if (n == 1) {
          Log(log::LogLevel::kInfo,
              absl::StrCat("deleted rule ", rule_id, " of ", scope.Label()));
          return absl::OkStatus();
        }
        affected_text = absl::StrCat("\"affected\": ", DumpJson(*affected));
      }
    }
    error = absl::AbortedError(absl::StrCat(
        label, ": rule ", rule_id, " of ", scope.Label(),
        " is still there after a delete that answered ", affected_text));
    settle_by_reading = true;
  }
  if (error.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (!settle_by_reading && !MayHaveBeenApplied(error)) return error;
  absl::StatusOr<std::optional<Rule>> existing =
      ReReadFor(scope, [rule_id](const Rule& r) { return r.id() == rule_id; });
  if (!existing.ok()) {
    return http::MarkOutcomeUnknown(WithMessage(
        error, absl::StrCat(error.message(),
                            "; re-reading the site to learn the outcome "
                            "failed too: ",
                            existing.status().message())));
  }
  if (!existing->has_value()) {
    Log(log::LogLevel::kInfo,
        absl::StrCat("rule ", rule_id, " is gone from ", scope.Label(),
                     ": the delete succeeded"));
    return absl::OkStatus();
  }
  return error;
}

}  // namespace tqs1::sentinelone

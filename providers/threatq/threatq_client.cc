#include "providers/threatq/threatq_client.h"

#include <algorithm>
#include <future>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/net.h"
#include "base/redact.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "nlohmann/json.hpp"
#include "providers/http/http_status.h"
#include "providers/threatq/indicator_page.h"

namespace tqs1::threatq {
namespace {

using ::nlohmann::json;
using ::tqs1::log::LogLevel;

constexpr int kServerMaxPageSize = 1000;
// UNCERTAIN (spec 1.3): sources disagree on expires_in; when the field is
// missing, null or not a positive number of seconds we assume the vendor
// SDK's fixed 30 minutes.
constexpr int64_t kDefaultTokenSeconds = 30 * 60;
// The limit sent on every GET list (saved searches, types, statuses).
constexpr int kListLimit = 1000;
constexpr size_t kMaxDetail = 200;

bool LooksLikeHtml(const http::HttpResponse& response) {
  std::string type =
      absl::AsciiStrToLower(response.Header("Content-Type").value_or(""));
  if (absl::StrContains(type, "html")) return true;
  absl::string_view body = absl::StripLeadingAsciiWhitespace(response.body);
  return absl::StartsWith(body, "<");
}

absl::Status HtmlError(const http::HttpResponse& response,
                       absl::string_view context, absl::string_view where) {
  return absl::DataLossError(absl::StrCat(
      context, ": expected JSON from ", where, " but got an HTML page (HTTP ",
      response.status, "); a proxy or login page in the way?"));
}

// `where` is e.g. "GET https://tq/api/search/query".
absl::StatusOr<json> ParseJson(const http::HttpResponse& response,
                               absl::string_view context,
                               absl::string_view where) {
  if (LooksLikeHtml(response)) return HtmlError(response, context, where);
  json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::DataLossError(absl::StrCat(context, ": malformed JSON from ",
                                            where, " (", response.body.size(),
                                            " bytes)"));
  }
  return parsed;
}

// A short server error text from an error body, or "".
std::string ServerErrorText(const http::HttpResponse& response) {
  if (LooksLikeHtml(response)) return "an HTML page (a proxy in the way?)";
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return "";
  std::string out;
  if (auto it = body.find("error"); it != body.end() && it->is_string()) {
    out = it->get<std::string>();
  }
  if (auto it = body.find("message"); it != body.end() && it->is_string()) {
    absl::StrAppend(&out, out.empty() ? "" : ": ", it->get<std::string>());
  }
  if (auto it = body.find("errors"); it != body.end()) {
    AppendJsonErrorText(*it, out);
  }
  if (auto data = body.find("data"); data != body.end() && data->is_object()) {
    if (auto it = data->find("errors"); it != data->end()) {
      AppendJsonErrorText(*it, out);
    }
  }
  if (out.size() > kMaxDetail)
    out = absl::StrCat(out.substr(0, kMaxDetail), "…");
  return out;
}

std::string StripBase(absl::string_view base) {
  while (absl::ConsumeSuffix(&base, "/")) {
  }
  absl::ConsumeSuffix(&base, "/api");
  while (absl::ConsumeSuffix(&base, "/")) {
  }
  return std::string(base);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ThreatQClient>> ThreatQClient::Create(
    http::HttpTransport* transport, ThreatQClientOptions options) {
  if (transport == nullptr) {
    return absl::InvalidArgumentError("ThreatQ: no HTTP transport");
  }
  const std::string base = StripBase(options.base_url);
  absl::StatusOr<net::ParsedUrl> parsed = net::ParseUrl(base);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ThreatQ base URL: ", parsed.status().message()));
  }
  if (parsed->target != "/") {
    return absl::InvalidArgumentError(absl::StrCat(
        "ThreatQ base URL \"", net::UrlWithoutQuery(base),
        "\" must be scheme://host[:port] (optionally ending in /api)"));
  }
  using Grant = ThreatQClientOptions::Grant;
  if (options.grant == Grant::kPassword &&
      (options.email.empty() || options.password.empty() ||
       options.client_id.empty())) {
    return absl::InvalidArgumentError(
        "ThreatQ password grant needs an email, a password and a client id");
  }
  if (options.grant == Grant::kClientCredentials &&
      (options.client_id.empty() || options.client_secret.empty())) {
    return absl::InvalidArgumentError(
        "ThreatQ client credentials need a client id and a client secret");
  }
  if (options.page_size < 1 || options.max_pages < 1) {
    return absl::InvalidArgumentError(
        "ThreatQ page_size and max_pages must be at least 1");
  }
  if (options.max_read_attempts < 1) {
    return absl::InvalidArgumentError(
        "ThreatQ max_read_attempts must be at least 1");
  }
  options.page_size = std::min(options.page_size, kServerMaxPageSize);
  std::string api_base = absl::StrCat(base, "/api");
  return std::unique_ptr<ThreatQClient>(
      new ThreatQClient(transport, std::move(options), std::move(api_base)));
}

ThreatQClient::ThreatQClient(http::HttpTransport* transport,
                             ThreatQClientOptions options, std::string api_base)
    : transport_(transport),
      options_(std::move(options)),
      api_base_(std::move(api_base)),
      clock_(options_.clock != nullptr ? *options_.clock : tqs1::RealClock()) {}

std::string ThreatQClient::Redact(absl::string_view text) const {
  absl::MutexLock lock(&token_mu_);
  return RedactSecrets(text, {options_.password, options_.client_secret,
                              options_.client_id, token_.value_or("")});
}

absl::Status ThreatQClient::Redact(const absl::Status& status) const {
  absl::MutexLock lock(&token_mu_);
  return RedactSecrets(status, {options_.password, options_.client_secret,
                                options_.client_id, token_.value_or("")});
}

std::string ThreatQClient::RejectedCredential(int http_status) const {
  if (options_.credential_origin.empty()) return "";
  return absl::StrCat("the ThreatQ ",
                      options_.grant == ThreatQClientOptions::Grant::kPassword
                          ? "password"
                          : "client secret",
                      " from ", options_.credential_origin,
                      " was rejected (HTTP ", http_status, "): ");
}

void ThreatQClient::Log(LogLevel level, absl::string_view message) const {
  log::LogTo(options_.logger, level, Redact(message));
}

absl::Status ThreatQClient::Annotate(const absl::Status& status,
                                     absl::string_view context) const {
  return Redact(AddContext(status, context));
}

absl::StatusOr<std::string> ThreatQClient::Token() {
  {
    absl::MutexLock lock(&token_mu_);
    if (token_.has_value() && clock_.Now() < token_expiry_) return *token_;
  }
  return FetchToken();
}

absl::StatusOr<std::string> ThreatQClient::FetchToken() {
  constexpr absl::string_view kContext = "ThreatQ: getting a token";
  {
    absl::MutexLock lock(&token_mu_);
    token_.reset();
  }
  http::HttpRequest request;
  request.method = "POST";
  // Asking for a token twice is harmless, so retries may re-send it.
  request.idempotent = true;
  request.headers.emplace_back("Accept", "application/json");
  if (options_.grant == ThreatQClientOptions::Grant::kPassword) {
    // Password grant, encoding (a) of spec 1.2: grant_type and client_id in
    // the query string, email and password in a JSON body. It is what the
    // vendor SDK sends and what the v5.14 API reference shows. UNCERTAIN
    // (spec 7): some versions may want (b) all-JSON or (c) a form body.
    request.url =
        absl::StrCat(api_base_, "/token?grant_type=password&client_id=",
                     net::PercentEncode(options_.client_id));
    request.headers.emplace_back("Content-Type", "application/json");
    request.body =
        json{{"email", options_.email}, {"password", options_.password}}.dump();
  } else {
    // Client credentials (spec 1.2 d): HTTP Basic client_id:client_secret.
    // UNCERTAIN: the SDK sends a JSON content type, Elastic's mock a form;
    // we send grant_type both in the query and as a form body.
    request.url =
        absl::StrCat(api_base_, "/token?grant_type=client_credentials");
    request.headers.emplace_back(
        "Authorization", absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(
                                                    options_.client_id, ":",
                                                    options_.client_secret))));
    request.headers.emplace_back("Content-Type",
                                 "application/x-www-form-urlencoded");
    request.body = "grant_type=client_credentials";
  }
  const std::string where =
      absl::StrCat("POST ", net::UrlWithoutQuery(request.url));
  Log(LogLevel::kDebug,
      absl::StrCat("ThreatQ: requesting a token (",
                   options_.grant == ThreatQClientOptions::Grant::kPassword
                       ? "password grant"
                       : "client credentials",
                   ")"));
  absl::StatusOr<http::HttpResponse> response = transport_->Send(request);
  if (!response.ok()) return Annotate(response.status(), kContext);
  const int status = response->status;
  if (status >= 300 && status < 400) {
    // The transport never follows redirects; on /api/token a redirect is an
    // error (it would carry the credentials elsewhere).
    return absl::FailedPreconditionError(Redact(absl::StrCat(
        kContext, ": ", where, " was redirected (HTTP ", status, " to \"",
        net::UrlWithoutQuery(response->Header("Location").value_or("")),
        "\"); check the ThreatQ base URL")));
  }
  if (status == 400 || status == 401) {
    // The SDK treats 400 on login as an authentication failure: on the
    // token endpoint a 400 means what a 401 means.
    absl::Status mapped = http::HttpStatusToStatus(
        status, "POST", request.url, "ThreatQ refused the credentials",
        ServerErrorText(*response));
    return Redact(absl::Status(
        http::HttpStatusCode(401),
        absl::StrCat(RejectedCredential(status), mapped.message())));
  }
  if (status < 200 || status >= 300) {
    absl::Status mapped = http::HttpStatusToStatus(
        status, "POST", request.url, kContext, ServerErrorText(*response));
    return Redact(WithMessage(
        mapped, absl::StrCat(status == 403 ? RejectedCredential(status) : "",
                             mapped.message())));
  }
  absl::StatusOr<json> body = ParseJson(*response, kContext, where);
  if (!body.ok()) return body.status();
  if (!body->is_object()) {
    return absl::DataLossError(absl::StrCat(kContext, ": response from ", where,
                                            " is not a JSON object"));
  }
  auto access = body->find("access_token");
  if (access == body->end() || !access->is_string() ||
      access->get<std::string>().empty()) {
    return absl::DataLossError(absl::StrCat(kContext, ": response from ", where,
                                            " has no string \"access_token\""));
  }
  TokenInfo info;
  info.grant = options_.grant == ThreatQClientOptions::Grant::kPassword
                   ? "password"
                   : "client_credentials";
  if (auto type = body->find("token_type");
      type != body->end() && type->is_string()) {
    info.token_type = type->get<std::string>();
  }
  info.refresh_token = body->contains("refresh_token");
  int64_t lifetime = kDefaultTokenSeconds;
  if (auto expires = body->find("expires_in"); expires != body->end()) {
    info.expires_in = expires->dump();
    if (info.expires_in.size() > 40) {
      info.expires_in = absl::StrCat(info.expires_in.substr(0, 40), "…");
    }
    std::optional<int64_t> seconds = JsonCount(*expires);
    if (seconds.has_value() && *seconds > 0) {
      lifetime = *seconds;
      info.expires_in_known = true;
    }
  }
  if (!info.expires_in_known) {
    Log(LogLevel::kInfo,
        absl::StrCat("ThreatQ: the token's lifetime is unknown (expires_in ",
                     info.expires_in.empty() ? "absent" : info.expires_in,
                     " from ", where, "); assuming 30 minutes"));
  }
  info.lifetime = absl::Seconds(lifetime);
  // Renew `token_margin` early, but keep at least half of a short lifetime.
  const absl::Duration life = absl::Seconds(lifetime);
  const std::string token = access->get<std::string>();
  {
    absl::MutexLock lock(&token_mu_);
    token_expiry_ =
        clock_.Now() + std::max(life - options_.token_margin, life / 2);
    token_ = token;
    token_info_ = std::move(info);
  }
  Log(LogLevel::kDebug,
      absl::StrCat("ThreatQ: got a token valid for ", lifetime, "s"));
  return token;
}

absl::StatusOr<TokenInfo> ThreatQClient::Login() {
  RETURN_IF_ERROR(FetchToken().status());
  absl::MutexLock lock(&token_mu_);
  return *token_info_;
}

std::optional<TokenInfo> ThreatQClient::LastTokenInfo() const {
  absl::MutexLock lock(&token_mu_);
  return token_info_;
}

absl::StatusOr<http::HttpResponse> ThreatQClient::Call(
    const std::string& method, const std::string& path_and_query,
    const std::string& body, absl::string_view context) {
  http::HttpRequest request;
  request.method = method;
  request.url = absl::StrCat(api_base_, path_and_query);
  // Every call the client makes is a read (the indicator query is a POST
  // only to carry its filter), so retries may re-send it.
  request.idempotent = true;
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::string token, Token());
    request.headers.clear();
    request.headers.emplace_back("Accept", "application/json");
    // Always the literal "Bearer": ThreatQ rejects a lower-case "bearer"
    // even when its own token_type says so (spec 1.3).
    request.headers.emplace_back("Authorization",
                                 absl::StrCat("Bearer ", token));
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = body;
    }
    absl::StatusOr<http::HttpResponse> response = transport_->Send(request);
    if (!response.ok()) return Annotate(response.status(), context);
    if (response->status == 401 && attempt == 0) {
      Log(LogLevel::kInfo,
          absl::StrCat("ThreatQ: token refused (HTTP 401) by ", method, " ",
                       net::UrlWithoutQuery(request.url),
                       "; getting a new one"));
      {
        absl::MutexLock lock(&token_mu_);
        token_.reset();
      }
      continue;
    }
    if (response->status < 200 || response->status >= 300) {
      return Redact(http::HttpStatusToStatus(response->status, method,
                                             request.url, context,
                                             ServerErrorText(*response)));
    }
    return *std::move(response);
  }
}

struct ThreatQClient::Listing {
  std::vector<json> items;
  std::optional<int64_t> total;  // the last page's "total", if a count
  std::string where;             // "GET https://tq/api/search/query"
};

absl::StatusOr<ThreatQClient::Listing> ThreatQClient::ListAll(
    const std::string& path, absl::string_view context) {
  // UNCERTAIN (spec 2.2): whether these lists page, and by how much. Ask
  // for 1000 explicitly and page by offset: on with a "total" until it is
  // reached, without one until a page shorter than the limit (the echoed
  // one when the server clamps).
  Listing out;
  out.where = absl::StrCat("GET ", api_base_, path);
  absl::flat_hash_set<std::string> seen_ids;
  for (int page = 0;; ++page) {
    if (page >= options_.max_pages) {
      return absl::DataLossError(absl::StrCat(
          context, ": ", out.where, " did not end after ", page, " pages"));
    }
    const std::string target =
        absl::StrCat(path, "?limit=", kListLimit, "&offset=", out.items.size());
    ASSIGN_OR_RETURN(http::HttpResponse response,
                     Call("GET", target, "", context));
    ASSIGN_OR_RETURN(json root, ParseJson(response, context, out.where));
    if (!root.is_object() || !root.contains("data") ||
        !root["data"].is_array()) {
      return absl::DataLossError(absl::StrCat(
          context, ": response from ", out.where, " has no \"data\" array"));
    }
    const size_t got = root["data"].size();
    size_t fresh = 0;
    for (json& item : root["data"]) {
      // An id already listed: the server ignores the offset.
      if (item.is_object() && item.contains("id") &&
          !seen_ids.insert(item["id"].dump()).second) {
        continue;
      }
      out.items.push_back(std::move(item));
      ++fresh;
    }
    if (auto it = root.find("total"); it != root.end()) {
      out.total = JsonCount(*it);
    }
    size_t limit = kListLimit;
    if (auto it = root.find("limit"); it != root.end()) {
      if (std::optional<int64_t> echoed = JsonCount(*it);
          echoed.has_value() && *echoed > 0 && *echoed < kListLimit) {
        limit = static_cast<size_t>(*echoed);
      }
    }
    if (got == 0 || fresh == 0 || got > kListLimit) break;
    if (out.total.has_value()
            ? static_cast<int64_t>(out.items.size()) >= *out.total
            : got < limit) {
      break;
    }
  }
  return out;
}

absl::StatusOr<std::vector<NamedId>> ThreatQClient::ListNamedIds(
    const std::string& path, absl::string_view context) {
  ASSIGN_OR_RETURN(Listing listing, ListAll(path, context));
  std::vector<NamedId> out;
  for (const json& item : listing.items) {
    if (!item.is_object()) continue;
    auto id = item.find("id");
    auto name = item.find("name");
    if (id == item.end() || name == item.end() || !name->is_string()) continue;
    std::optional<int64_t> count = JsonCount(*id);
    if (!count.has_value()) continue;
    out.push_back({*count, name->get<std::string>()});
  }
  return out;
}

absl::StatusOr<std::vector<NamedId>> ThreatQClient::ListIndicatorTypes() {
  return ListNamedIds("/indicator/types", "ThreatQ: listing indicator types");
}

absl::StatusOr<std::vector<NamedId>> ThreatQClient::ListIndicatorStatuses() {
  return ListNamedIds("/indicator/statuses",
                      "ThreatQ: listing indicator statuses");
}

absl::StatusOr<std::vector<json>> ThreatQClient::NamedSearches(int& unnamed) {
  constexpr absl::string_view kContext = "ThreatQ: listing data collections";
  ASSIGN_OR_RETURN(Listing listing, ListAll("/search/query", kContext));
  std::vector<json> named;
  unnamed = 0;
  for (json& item : listing.items) {
    if (item.is_object() && item.contains("name") && item["name"].is_string()) {
      named.push_back(std::move(item));
    } else {
      // The SDK can save unnamed searches to the same list (spec 2.2).
      ++unnamed;
    }
  }
  if (unnamed > 0) {
    Log(LogLevel::kInfo,
        absl::StrCat("ThreatQ: ", unnamed, " of ", listing.items.size(),
                     " saved searches from ", listing.where,
                     " have no string \"name\"; skipped"));
  }
  return named;
}

absl::StatusOr<CollectionList> ThreatQClient::ListCollections() {
  CollectionList out;
  ASSIGN_OR_RETURN(std::vector<json> named, NamedSearches(out.unnamed));
  for (const json& item : named) {
    CollectionInfo& info = out.collections.emplace_back();
    info.name = item["name"].get<std::string>();
    if (auto id = item.find("id"); id != item.end() && !id->is_null()) {
      info.id = id->is_string() ? id->get<std::string>() : id->dump();
    }
    if (auto hash = item.find("hash");
        hash != item.end() && hash->is_string()) {
      info.hash = hash->get<std::string>();
    }
  }
  return out;
}

absl::StatusOr<std::string> ThreatQClient::QueryBodyFor(
    absl::string_view collection) {
  const std::string where = absl::StrCat("GET ", api_base_, "/search/query");
  int unnamed = 0;
  ASSIGN_OR_RETURN(std::vector<json> items, NamedSearches(unnamed));
  std::vector<std::string> names;
  std::vector<const json*> matches;
  for (const json& item : items) {
    names.push_back(item["name"].get<std::string>());
    // Exact, case-sensitive, as the vendor SDK matches.
    if (names.back() == collection) matches.push_back(&item);
  }
  if (matches.empty()) return NoSuchCollectionError(collection, names);
  if (matches.size() > 1) {
    return DuplicateCollectionError(collection,
                                    static_cast<int>(matches.size()));
  }
  const json& item = *matches[0];
  const std::string about =
      absl::StrCat("ThreatQ: the saved search of data collection \"",
                   collection, "\" (from ", where, ")");
  // `json` may arrive as a JSON string or as an object (spec 2.2).
  json saved;
  auto field = item.find("json");
  if (field == item.end() || field->is_null() ||
      (field->is_string() && field->get<std::string>().empty())) {
    return absl::DataLossError(
        absl::StrCat(about, " is empty (\"json\" is ",
                     field == item.end() ? "absent"
                     : field->is_null()  ? "null"
                                         : "\"\"",
                     "); save the collection again in ThreatQ"));
  }
  if (field->is_string()) {
    saved = json::parse(field->get<std::string>(), nullptr, false);
    if (saved.is_discarded()) {
      return absl::DataLossError(
          absl::StrCat(about, " has a malformed \"json\" string"));
    }
  } else if (field != item.end() && field->is_object()) {
    saved = *field;
  }
  if (!saved.is_object() || saved.empty()) {
    return absl::DataLossError(absl::StrCat(about, " has no \"json\" object"));
  }
  // A collection built on another object type would be widened when run
  // against indicators (spec 3, UNCERTAIN): refuse it.
  if (auto ui = saved.find("ui_query"); ui != saved.end() && ui->is_object()) {
    if (auto objects = ui->find("objects");
        objects != ui->end() && objects->is_object()) {
      auto current = objects->find("current");
      if (current != objects->end() && current->is_string() &&
          !absl::EqualsIgnoreCase(current->get<std::string>(), "indicators")) {
        return absl::FailedPreconditionError(absl::StrCat(
            "ThreatQ: data collection \"", collection, "\" is a search on \"",
            current->get<std::string>(),
            "\", not on indicators; tqs1 reads indicator collections only"));
      }
    }
  }
  auto api_query = saved.find("api_query");
  if (api_query == saved.end() || !api_query->is_object()) {
    return absl::DataLossError(
        absl::StrCat(about, " has no \"api_query\" object"));
  }
  // Read route (a) of spec 6.4: the SDK's POST /api/indicators/query with
  // the saved api_query, asking for the fields we need explicitly.
  json body = *api_query;
  body["fields"] = json::array({"id", "value", "type", "status"});
  return body.dump();
}

absl::StatusOr<CollectionRead> ThreatQClient::ReadCollection(
    absl::string_view collection) {
  if (options_.max_reads_at_once > 0) {
    absl::MutexLock lock(&reads_mu_);
    auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reads_mu_) {
      return reads_ < options_.max_reads_at_once;
    };
    reads_mu_.Await(absl::Condition(&free));
    ++reads_;
  }
  absl::StatusOr<CollectionRead> read = Read(collection);
  if (options_.max_reads_at_once > 0) {
    absl::MutexLock lock(&reads_mu_);
    --reads_;
  }
  if (read.ok()) return read;
  // Every message passes through Redact() once more on its way out.
  absl::Status out = Redact(read.status());
  Log(LogLevel::kDebug, absl::StrCat("ThreatQ: read failed: ", out.message()));
  return out;
}

struct ThreatQClient::ReadCache {
  // Whether the server answered cursorMark with a nextCursorMark; unknown
  // before the first answer.
  std::optional<bool> cursor_offered;
  // Filled on the first row that needs them.
  std::optional<absl::flat_hash_map<int64_t, std::string>> types;
  std::optional<absl::flat_hash_map<int64_t, std::string>> statuses;
};

struct ThreatQClient::Pass {
  std::optional<CollectionRead> read;  // set when the pass completed
  std::string restart;                 // else why it must start again
  int64_t first_total = 0;
  int64_t last_total = 0;
  bool by_cursor = false;
};

namespace {

bool IsHex(char c) {
  return absl::ascii_isxdigit(static_cast<unsigned char>(c));
}

// A cursor mark as it is meant (cursor marks are opaque): a mark that came
// percent-encoded (every '%' starts a %XX escape) is decoded once; '+' is
// kept (base64 has it).
std::string CursorMark(absl::string_view sent) {
  if (!absl::StrContains(sent, '%')) return std::string(sent);
  for (size_t i = 0; i < sent.size(); ++i) {
    if (sent[i] == '%' &&
        (i + 2 >= sent.size() || !IsHex(sent[i + 1]) || !IsHex(sent[i + 2]))) {
      return std::string(sent);
    }
  }
  std::string out;
  for (size_t i = 0; i < sent.size(); ++i) {
    if (sent[i] == '%') {
      int value = 0;
      // Both digits were checked above.
      if (!absl::SimpleHexAtoi(sent.substr(i + 1, 2), &value)) {
        return std::string(sent);
      }
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(sent[i]);
    }
  }
  return out;
}

absl::flat_hash_map<int64_t, std::string> ById(
    const std::vector<NamedId>& list) {
  absl::flat_hash_map<int64_t, std::string> out;
  for (const NamedId& item : list) out.emplace(item.id, item.name);
  return out;
}

}  // namespace

absl::Status ThreatQClient::NameById(IndicatorRow& row, ReadCache& cache,
                                     absl::string_view context,
                                     absl::string_view which) {
  struct Kind {
    std::optional<int64_t>& id;
    std::string& name;
    std::optional<absl::flat_hash_map<int64_t, std::string>>& names;
    const char* field;
    const char* path;
    bool is_type;
  };
  for (Kind kind : {Kind{row.unnamed_type_id, row.type, cache.types, "type_id",
                         "/indicator/types", true},
                    Kind{row.unnamed_status_id, row.status, cache.statuses,
                         "status_id", "/indicator/statuses", false}}) {
    if (!kind.id.has_value()) continue;
    if (!kind.names.has_value()) {
      absl::StatusOr<std::vector<NamedId>> list =
          kind.is_type ? ListIndicatorTypes() : ListIndicatorStatuses();
      if (!list.ok()) return list.status();
      kind.names = ById(*list);
      Log(LogLevel::kInfo,
          absl::StrCat("ThreatQ: indicators come with a ", kind.field,
                       " but no name; naming them from GET ", api_base_,
                       kind.path, " (", list->size(), " listed)"));
    }
    auto it = kind.names->find(*kind.id);
    if (it == kind.names->end()) {
      return absl::DataLossError(
          absl::StrCat(context, ": ", which, " has ", kind.field, " ", *kind.id,
                       ", which GET ", api_base_, kind.path, " does not list"));
    }
    kind.name = it->second;
    kind.id.reset();
  }
  return absl::OkStatus();
}

absl::StatusOr<QueryProbe> ThreatQClient::ProbeQuery(
    absl::string_view collection) {
  ASSIGN_OR_RETURN(std::string body, QueryBodyFor(collection));
  const std::string where =
      absl::StrCat("POST ", api_base_, "/indicators/query (page 1, offset 0)");
  const std::string context = absl::StrCat(
      "ThreatQ: reading data collection \"", collection, "\" at offset 0");
  ASSIGN_OR_RETURN(
      http::HttpResponse response,
      Call("POST",
           absl::StrCat("/indicators/query?limit=", options_.page_size,
                        "&sort=id&cursorMark=*"),
           body, context));
  if (LooksLikeHtml(response)) return HtmlError(response, context, where);
  ASSIGN_OR_RETURN(
      IndicatorPage page,
      ParseIndicatorPage(response.body, 0, context, where, response.status));
  QueryProbe probe;
  const json root = json::parse(response.body, nullptr, false);
  for (auto it = root.begin(); it != root.end(); ++it) {
    probe.keys.push_back(it.key());
  }
  probe.total = page.total;
  probe.echoed_limit = page.limit;
  probe.cursor_offered = page.next_cursor.has_value();
  probe.rows = static_cast<int>(page.rows.size());
  const json& data = root["data"];
  ReadCache cache;
  for (size_t i = 0; i < page.rows.size(); ++i) {
    IndicatorRow& row = page.rows[i];
    const json& item = data[i];
    if (row.unnamed_type_id.has_value() || row.unnamed_status_id.has_value()) {
      ++probe.id_only_rows;
      RETURN_IF_ERROR(NameById(row, cache, context,
                               absl::StrCat("indicator #", i, " of ", where)));
    } else if (item["type"].is_object() || item["status"].is_object()) {
      ++probe.nested_rows;
    } else {
      ++probe.flat_rows;
    }
    ++probe.by_type[row.type];
    ++probe.by_status[row.status];
  }
  return probe;
}

absl::StatusOr<CollectionRead> ThreatQClient::Read(
    absl::string_view collection) {
  ASSIGN_OR_RETURN(std::string body, QueryBodyFor(collection));
  ReadCache cache;
  Pass pass;
  for (int attempt = 1; attempt <= options_.max_read_attempts; ++attempt) {
    ASSIGN_OR_RETURN(pass, ReadPass(collection, body, cache));
    if (pass.read.has_value()) {
      CollectionRead& read = *pass.read;
      Log(LogLevel::kInfo,
          absl::StrCat(
              "ThreatQ: data collection \"", collection,
              "\": ", read.report.indicators_read(), " indicators read (",
              pass.by_cursor ? "by cursor" : "by offset", ", sorted by id; ",
              "total ", pass.first_total, " at the first page, ",
              pass.last_total, " at the last",
              attempt > 1 ? absl::StrCat("; read ", attempt, " times") : "",
              "), ", read.values.size(), " IP values kept"));
      return *std::move(pass.read);
    }
    Log(LogLevel::kWarning,
        absl::StrCat("ThreatQ: data collection \"", collection,
                     "\" changed while being read (", pass.restart, "; total ",
                     pass.first_total, " at the first page, ", pass.last_total,
                     " at the last)",
                     attempt < options_.max_read_attempts
                         ? absl::StrCat("; reading it again from the start "
                                        "(attempt ",
                                        attempt + 1, " of ",
                                        options_.max_read_attempts, ")")
                         : ""));
  }
  return absl::UnavailableError(absl::StrCat(
      "ThreatQ: data collection \"", collection,
      "\" kept changing while being read (", options_.max_read_attempts,
      options_.max_read_attempts == 1 ? " attempt" : " attempts",
      "; the last: ", pass.restart, "; total ", pass.first_total,
      " at its first page, ", pass.last_total,
      " at its last); refusing a partial list; read it again later"));
}

absl::StatusOr<ThreatQClient::Pass> ThreatQClient::ReadPass(
    absl::string_view collection, const std::string& body, ReadCache& cache) {
  const std::string path = "/indicators/query";
  const std::string endpoint = absl::StrCat("POST ", api_base_, path);
  CollectionReadBuilder builder(options_.block_statuses);
  absl::flat_hash_set<int64_t> seen_ids;
  Pass pass;
  auto context_at = [&](int64_t offset) {
    return absl::StrCat("ThreatQ: reading data collection \"", collection,
                        "\" at offset ", offset);
  };
  auto fetch = [&, this](int64_t offset) {
    return Call("POST",
                absl::StrCat(path, "?limit=", options_.page_size,
                             "&offset=", offset, "&sort=id"),
                body, context_at(offset));
  };
  // In offset paging, still one request at a time, but the next page is
  // asked for while this one is parsed: ThreatQ's work on page n+1 overlaps
  // ours on page n. The next offset is guessed from the size of the page
  // before (pages keep their size until the last one); a wrong guess costs
  // one request whose answer is dropped. No guess before the total is
  // known, so a collection of one page costs one request.
  struct Prefetch {
    int64_t offset;
    std::future<absl::StatusOr<http::HttpResponse>> response;
  };
  std::optional<Prefetch> prefetch;
  bool by_cursor = cache.cursor_offered.value_or(true);
  std::string cursor = "*";  // as meant (decoded)
  int64_t offset = 0;        // rows received so far
  int64_t last_rows = 0;
  std::optional<int64_t> total;  // the latest page's
  for (int page = 0;; ++page) {
    // The first page of a cursor read is also the offset-0 page of the
    // offset read it falls back to.
    const bool cursor_page = by_cursor && page > 0;
    const std::string where =
        cursor_page
            ? absl::StrCat(endpoint, " (page ", page + 1, ", by cursor)")
            : absl::StrCat(endpoint, " (page ", page + 1, ", offset ", offset,
                           ")");
    const std::string context =
        cursor_page
            ? absl::StrCat("ThreatQ: reading data collection \"", collection,
                           "\" after ", offset, " indicators (by cursor)")
            : context_at(offset);
    if (page >= options_.max_pages) {
      return absl::DataLossError(absl::StrCat(
          "ThreatQ: reading data collection \"", collection, "\": ", endpoint,
          " did not end after ", page, " pages (", offset, " of ",
          total.value_or(0), " indicators); refusing a partial list"));
    }
    absl::StatusOr<http::HttpResponse> answer;
    if (by_cursor) {
      answer = Call("POST",
                    absl::StrCat(path, "?limit=", options_.page_size,
                                 "&sort=id&cursorMark=",
                                 page == 0 ? "*" : net::PercentEncode(cursor)),
                    body, context);
      if (page == 0 && !cache.cursor_offered.has_value() && !answer.ok() &&
          answer.status().code() == absl::StatusCode::kInvalidArgument) {
        Log(LogLevel::kInfo,
            absl::StrCat("ThreatQ: ", endpoint, " refused cursorMark (",
                         answer.status().message(), "); paging by offset"));
        cache.cursor_offered = false;
        by_cursor = false;
        answer = fetch(0);
      }
    } else {
      const bool guessed = prefetch.has_value() && prefetch->offset == offset;
      if (guessed) answer = prefetch->response.get();
      prefetch.reset();  // a wrong guess: waits for its answer and drops it
      if (!guessed) answer = fetch(offset);
    }
    ASSIGN_OR_RETURN(http::HttpResponse response, std::move(answer));
    if (const int64_t guess = offset + last_rows;
        !by_cursor && total.has_value() && last_rows > 0 && guess < *total &&
        page + 1 < options_.max_pages) {
      prefetch = Prefetch{guess, std::async(std::launch::async, fetch, guess)};
    }
    if (LooksLikeHtml(response)) return HtmlError(response, context, where);
    ASSIGN_OR_RETURN(
        IndicatorPage indicators,
        ParseIndicatorPage(
            response.body,
            cursor_page ? std::nullopt : std::optional<int64_t>(offset),
            context, where, response.status));
    if (page == 0) {
      pass.first_total = indicators.total;
      if (by_cursor) {
        if (!cache.cursor_offered.has_value()) {
          Log(LogLevel::kDebug,
              absl::StrCat("ThreatQ: ", endpoint,
                           indicators.next_cursor.has_value()
                               ? " offers cursor paging"
                               : " sent no nextCursorMark; paging by offset"));
        }
        cache.cursor_offered = indicators.next_cursor.has_value();
        by_cursor = *cache.cursor_offered;
      }
    }
    pass.last_total = indicators.total;
    pass.by_cursor = by_cursor;
    if (!by_cursor && total.has_value() && indicators.total < *total) {
      pass.restart = absl::StrCat("the total went from ", *total, " to ",
                                  indicators.total, " at offset ", offset);
      return pass;
    }
    if (total.has_value() && indicators.total > *total) {
      Log(LogLevel::kDebug,
          absl::StrCat("ThreatQ: data collection \"", collection,
                       "\" grew from ", *total, " to ", indicators.total,
                       " indicators while being read; reading on"));
    }
    total = indicators.total;
    int64_t index = 0;
    for (IndicatorRow& row : indicators.rows) {
      if (row.id.has_value() && !seen_ids.insert(*row.id).second) {
        pass.restart = absl::StrCat("indicator id ", *row.id, " came twice");
        return pass;
      }
      if (row.unnamed_type_id.has_value() ||
          row.unnamed_status_id.has_value()) {
        RETURN_IF_ERROR(
            NameById(row, cache, context,
                     absl::StrCat("indicator #", index, " of ", where)));
      }
      builder.Add(row.value, row.type, row.status,
                  row.id.has_value() && *row.id > 0
                      ? static_cast<uint64_t>(*row.id)
                      : 0);
      ++index;
    }
    const int64_t rows = static_cast<int64_t>(indicators.rows.size());
    Log(LogLevel::kDebug, absl::StrCat("ThreatQ: ", where, ": ", rows,
                                       " indicators of ", *total));
    offset += rows;  // rows received, not the limit asked (spec notes)
    last_rows = rows;
    if (by_cursor) {
      // Kibana's rules (spec 2.4): empty data or an unchanged cursor ends.
      if (rows == 0) break;
      if (!indicators.next_cursor.has_value()) {
        if (offset >= *total) break;
        pass.restart =
            absl::StrCat("the cursor ended after ", offset, " of ", *total,
                         " indicators (", where, " sent no nextCursorMark)");
        return pass;
      }
      std::string next = CursorMark(*indicators.next_cursor);
      if (next == cursor) break;
      cursor = std::move(next);
      continue;
    }
    if (offset >= *total) break;
    if (rows == 0) {
      pass.restart = absl::StrCat(where, " came back empty before the end (",
                                  offset, " of ", *total, " indicators)");
      return pass;
    }
  }
  pass.read = std::move(builder).Finish();
  return pass;
}

}  // namespace tqs1::threatq

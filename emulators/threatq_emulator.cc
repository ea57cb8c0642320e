#include "emulators/threatq_emulator.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/net.h"
#include "nlohmann/json.hpp"

namespace tqs1::threatq {
namespace {

using ::nlohmann::json;

// The key the emulator puts in a collection's api_query to find it again.
constexpr char kCollectionKey[] = "tqs1_emulator_collection";

emulator::Response Json(int status, const json& body) {
  return emulator::JsonResponse(status, body.dump());
}

emulator::Response Errors(int status, absl::string_view message) {
  return Json(status, json{{"errors", json::array({std::string(message)})}});
}

// Form or JSON body fields as strings.
std::map<std::string, std::string> BodyFields(const emulator::Request& r) {
  std::map<std::string, std::string> fields;
  json parsed = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    for (auto it = parsed.begin(); it != parsed.end(); ++it) {
      if (it.value().is_string()) {
        fields[it.key()] = it.value().get<std::string>();
      }
    }
    return fields;
  }
  for (absl::string_view pair :
       absl::StrSplit(r.body, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    fields[net::PercentDecode(kv.first)] = net::PercentDecode(kv.second);
  }
  return fields;
}

int TypeId(const std::string& type) {
  if (type == "IP Address") return 14;
  if (type == "IPv6 Address") return 15;
  if (type == "CIDR Block") return 16;
  return 100 + static_cast<int>(std::hash<std::string>()(type) % 100);
}

int StatusId(const std::string& status) {
  if (status == "Active") return 1;
  if (status == "Expired") return 2;
  if (status == "Indirect") return 3;
  if (status == "Review") return 4;
  if (status == "Whitelisted") return 5;
  return 100 + static_cast<int>(std::hash<std::string>()(status) % 100);
}

constexpr int kFirstIndicatorId = 100000;
// The id of the unnamed saved search (ThreatQModes::unnamed_saved_search).
constexpr int kUnnamedSearchId = 99999;

// The types and statuses every instance has, in id order.
const std::vector<std::string>& DefaultTypes() {
  static const auto* types =
      new std::vector<std::string>{"IP Address", "IPv6 Address", "CIDR Block"};
  return *types;
}
const std::vector<std::string>& DefaultStatuses() {
  static const auto* statuses = new std::vector<std::string>{
      "Active", "Expired", "Indirect", "Review", "Whitelisted"};
  return *statuses;
}

// Cursor marks: base64 of bytes chosen so that the text holds '+', '/' and
// '=' (a client must percent-encode them), then the last id served.
constexpr absl::string_view kCursorPrefix = "\xfb\xef\xbe\xff\xff\xffid:";

std::string EncodeCursorMark(int64_t last_id) {
  std::string raw = absl::StrCat(kCursorPrefix, last_id);
  if (raw.size() % 3 == 0) raw.push_back('.');  // keeps an '=' of padding
  return absl::Base64Escape(raw);
}

// The last id served, -1 for "*", nullopt for a cursor not made here.
std::optional<int64_t> DecodeCursorMark(absl::string_view mark) {
  if (mark == "*") return -1;
  std::string raw;
  if (!absl::Base64Unescape(mark, &raw)) return std::nullopt;
  absl::string_view rest = raw;
  if (!absl::ConsumePrefix(&rest, kCursorPrefix)) return std::nullopt;
  absl::ConsumeSuffix(&rest, ".");
  int64_t id = 0;
  if (!absl::SimpleAtoi(rest, &id)) return std::nullopt;
  return id;
}

// limit and offset query parameters, each defaulting to `limit` / 0.
bool ReadLimitOffset(const emulator::Request& request, int64_t& limit,
                     int64_t& offset, std::string& error) {
  if (std::optional<std::string> p = request.Param("limit")) {
    if (!absl::SimpleAtoi(*p, &limit) || limit < 1) {
      error = "The limit must be a positive integer.";
      return false;
    }
  }
  if (std::optional<std::string> p = request.Param("offset")) {
    if (!absl::SimpleAtoi(*p, &offset) || offset < 0) {
      error = "The offset must be a non-negative integer.";
      return false;
    }
  }
  return true;
}

}  // namespace

ThreatQEmulator::ThreatQEmulator(ThreatQEmulatorOptions options)
    : options_(std::move(options)) {
  absl::MutexLock lock(&mu_);
  modes_ = options_.modes;
}

void ThreatQEmulator::SetModes(ThreatQModes modes) {
  absl::MutexLock lock(&mu_);
  modes_ = std::move(modes);
  for (Collection& c : collections_) c.pages_served = c.grown = 0;
}

ThreatQModes ThreatQEmulator::modes() const {
  absl::MutexLock lock(&mu_);
  return modes_;
}

std::vector<Indicator> ThreatQEmulator::Indicators(int id) const {
  absl::MutexLock lock(&mu_);
  for (const Collection& c : collections_) {
    if (c.id == id) return c.indicators;
  }
  return {};
}

void ThreatQEmulator::GrowAfterPage(Collection& c) {
  ++c.pages_served;
  if (modes_.grow_every_pages <= 0 || modes_.grow_by <= 0 ||
      c.grown >= modes_.grow_times ||
      c.pages_served % modes_.grow_every_pages != 0) {
    return;
  }
  ++c.grown;
  for (int i = 0; i < modes_.grow_by; ++i) {
    const int n = grown_values_++;
    c.indicators.push_back({absl::StrCat("198.", 18 + (n >> 16), ".",
                                         (n >> 8) & 0xff, ".", n & 0xff),
                            "IP Address", "Active"});
  }
}

absl::StatusOr<std::unique_ptr<ThreatQEmulator>> ThreatQEmulator::Start(
    ThreatQEmulatorOptions options) {
  std::unique_ptr<ThreatQEmulator> self(new ThreatQEmulator(options));
  ThreatQEmulator* raw = self.get();
  absl::StatusOr<std::unique_ptr<emulator::EmulatorServer>> server =
      emulator::EmulatorServer::Start(options.server,
                                      [raw](const emulator::Request& request) {
                                        return raw->Handle(request);
                                      });
  if (!server.ok()) return server.status();
  self->server_ = *std::move(server);
  return self;
}

ThreatQEmulator::~ThreatQEmulator() {
  if (server_ != nullptr) server_->Stop();
}

void ThreatQEmulator::AddUser(absl::string_view email,
                              absl::string_view password,
                              absl::string_view client_id) {
  absl::MutexLock lock(&mu_);
  users_[std::string(email)] = {std::string(password), std::string(client_id)};
}

void ThreatQEmulator::AddOAuthClient(absl::string_view client_id,
                                     absl::string_view client_secret) {
  absl::MutexLock lock(&mu_);
  clients_[std::string(client_id)] = std::string(client_secret);
}

int ThreatQEmulator::AddCollection(absl::string_view name,
                                   std::vector<Indicator> indicators) {
  absl::MutexLock lock(&mu_);
  Collection collection;
  collection.id = next_collection_id_++;
  collection.name = std::string(name);
  collection.indicators = std::move(indicators);
  collections_.push_back(std::move(collection));
  return collections_.back().id;
}

bool ThreatQEmulator::SetIndicators(int id, std::vector<Indicator> indicators) {
  absl::MutexLock lock(&mu_);
  for (Collection& c : collections_) {
    if (c.id == id) {
      c.indicators = std::move(indicators);
      return true;
    }
  }
  return false;
}

bool ThreatQEmulator::SetCollectionObjectType(int id,
                                              absl::string_view object_type) {
  absl::MutexLock lock(&mu_);
  for (Collection& c : collections_) {
    if (c.id == id) {
      c.object_type = std::string(object_type);
      return true;
    }
  }
  return false;
}

void ThreatQEmulator::ExpireAllTokens() {
  absl::MutexLock lock(&mu_);
  tokens_.clear();
}

void ThreatQEmulator::ExpireTokensAfter(int n) {
  absl::MutexLock lock(&mu_);
  expire_after_ = n;
}

int ThreatQEmulator::TokensIssued() const {
  absl::MutexLock lock(&mu_);
  return tokens_issued_;
}

emulator::Response ThreatQEmulator::Handle(const emulator::Request& request) {
  if (request.path == "/api/token") {
    if (request.method != "POST") return Errors(405, "Method not allowed");
    return Token(request);
  }
  if (!Authorized(request)) return Errors(401, "Unauthenticated.");
  emulator::Response response;
  if (request.path == "/api/search/query" && request.method == "GET") {
    response = Search(request);
  } else if ((request.path == "/api/indicator/types" ||
              request.path == "/api/indicator/statuses") &&
             request.method == "GET") {
    response = NamedIds(request, request.path == "/api/indicator/types");
  } else if (request.path == "/api/indicators/query" &&
             request.method == "POST") {
    response = Query(request);
  } else {
    response = Errors(404, "Not found");
  }
  absl::MutexLock lock(&mu_);
  if (expire_after_ > 0 && --expire_after_ == 0) {
    tokens_.clear();
    expire_after_ = -1;
  }
  return response;
}

bool ThreatQEmulator::Authorized(const emulator::Request& request) {
  std::optional<std::string> header = request.Header("Authorization");
  if (!header.has_value() || !absl::StartsWith(*header, "Bearer ")) {
    return false;
  }
  std::string token = header->substr(7);
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(token);
  return it != tokens_.end() && absl::Now() < it->second;
}

emulator::Response ThreatQEmulator::Token(const emulator::Request& request) {
  std::map<std::string, std::string> body = BodyFields(request);
  auto field = [&](const std::string& name) -> std::string {
    if (std::optional<std::string> p = request.Param(name)) return *p;
    auto it = body.find(name);
    return it == body.end() ? "" : it->second;
  };
  const std::string grant = field("grant_type");
  absl::MutexLock lock(&mu_);
  if (grant == "password") {
    auto user = users_.find(field("email"));
    if (user == users_.end() || user->second.password != field("password") ||
        user->second.client_id != field("client_id")) {
      return Json(400,
                  json{{"error", "invalid_grant"},
                       {"message", "The user credentials were incorrect."}});
    }
  } else if (grant == "client_credentials") {
    std::optional<std::string> auth = request.Header("Authorization");
    std::string decoded;
    if (!auth.has_value() || !absl::StartsWith(*auth, "Basic ") ||
        !absl::Base64Unescape(auth->substr(6), &decoded)) {
      return Json(401, json{{"error", "invalid_client"},
                            {"message", "Client authentication failed"}});
    }
    std::pair<std::string, std::string> pair =
        absl::StrSplit(decoded, absl::MaxSplits(':', 1));
    auto client = clients_.find(pair.first);
    if (client == clients_.end() || client->second != pair.second) {
      return Json(401, json{{"error", "invalid_client"},
                            {"message", "Client authentication failed"}});
    }
  } else {
    return Json(400, json{{"error", "unsupported_grant_type"},
                          {"message",
                           "The authorization grant type is not "
                           "supported."}});
  }
  ++tokens_issued_;
  std::string token = absl::StrCat("tqemu-access-", tokens_issued_, "-",
                                   absl::ToUnixNanos(absl::Now()) % 1000003);
  tokens_[token] = absl::Now() + options_.token_lifetime;
  json answer = {
      {"access_token", token},
      {"token_type", "bearer"},
      {"expires_in", absl::ToInt64Seconds(options_.token_lifetime)},
      {"refresh_token", absl::StrCat("tqemu-refresh-", tokens_issued_)}};
  switch (modes_.expires_in) {
    case ExpiresInForm::kNumber:
      break;
    case ExpiresInForm::kString:
      answer["expires_in"] =
          absl::StrCat(absl::ToInt64Seconds(options_.token_lifetime));
      break;
    case ExpiresInForm::kNull:
      answer["expires_in"] = nullptr;
      break;
    case ExpiresInForm::kAbsent:
      answer.erase("expires_in");
      break;
  }
  // token_type in lower case, as some instances answer.
  return Json(200, answer);
}

emulator::Response ThreatQEmulator::Search(const emulator::Request& request) {
  absl::MutexLock lock(&mu_);
  json data = json::array();
  if (modes_.unnamed_saved_search) {
    json saved = {
        {"ui_query",
         {{"objects", {{"current", "indicators"}, {"selected", json::array()}}},
          {"criteria", json::object()},
          {"filters", json::object()}}},
        {"api_query",
         {{"criteria", json::object()}, {"filters", json::object()}}}};
    data.push_back(
        {{"id", kUnnamedSearchId}, {"name", nullptr}, {"json", saved.dump()}});
  }
  for (const Collection& c : collections_) {
    json saved = {
        {"ui_query",
         {{"objects",
           {{"current", c.object_type}, {"selected", json::array()}}},
          {"criteria", json::object()},
          {"filters", json::object()}}},
        {"api_query",
         {{"criteria", json::object()},
          {"filters", {{"+and", json::array({{{kCollectionKey, c.id}}})}}}}}};
    data.push_back({{"id", c.id}, {"name", c.name}, {"json", saved.dump()}});
  }
  if (modes_.search_page_size <= 0) {
    return Json(200, json{{"total", data.size()}, {"data", data}});
  }
  int64_t limit = modes_.search_page_size;
  int64_t offset = 0;
  std::string error;
  if (!ReadLimitOffset(request, limit, offset, error)) {
    return Errors(400, error);
  }
  limit = std::min<int64_t>(limit, modes_.search_page_size);
  json page = json::array();
  for (int64_t i = offset;
       i < static_cast<int64_t>(data.size()) && i < offset + limit; ++i) {
    page.push_back(data[i]);
  }
  json out = {{"limit", limit}, {"offset", offset}, {"data", page}};
  if (!modes_.search_omit_total) out["total"] = data.size();
  return Json(200, out);
}

emulator::Response ThreatQEmulator::NamedIds(const emulator::Request& request,
                                             bool types) {
  int64_t limit = options_.default_page_size;
  int64_t offset = 0;
  std::string error;
  if (!ReadLimitOffset(request, limit, offset, error)) {
    return Errors(400, error);
  }
  limit = std::min<int64_t>(limit, options_.max_page_size);
  std::map<int, std::string> by_id;
  for (const std::string& name : types ? DefaultTypes() : DefaultStatuses()) {
    by_id[types ? TypeId(name) : StatusId(name)] = name;
  }
  {
    absl::MutexLock lock(&mu_);
    for (const Collection& c : collections_) {
      for (const Indicator& in : c.indicators) {
        const std::string& name = types ? in.type : in.status;
        by_id[types ? TypeId(name) : StatusId(name)] = name;
      }
    }
  }
  const std::optional<std::string> name = request.Param("name");
  json all = json::array();
  for (const auto& [id, item] : by_id) {
    if (name.has_value() && *name != item) continue;
    all.push_back({{"id", id}, {"name", item}});
  }
  json page = json::array();
  for (int64_t i = offset;
       i < static_cast<int64_t>(all.size()) && i < offset + limit; ++i) {
    page.push_back(all[i]);
  }
  return Json(200, json{{"total", all.size()},
                        {"limit", limit},
                        {"offset", offset},
                        {"data", page}});
}

emulator::Response ThreatQEmulator::Query(const emulator::Request& request) {
  int64_t limit = options_.default_page_size;
  int64_t offset = 0;
  std::string error;
  if (!ReadLimitOffset(request, limit, offset, error)) {
    return Errors(400, error);
  }
  limit = std::min<int64_t>(limit, options_.max_page_size);
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return Errors(400, "The body must be JSON.");
  const bool flat = body.contains("fields");
  int id = -1;
  auto filters = body.find("filters");
  if (filters != body.end() && filters->is_object()) {
    auto all = filters->find("+and");
    if (all != filters->end() && all->is_array()) {
      for (const json& f : *all) {
        if (f.is_object() && f.contains(kCollectionKey) &&
            f[kCollectionKey].is_number_integer()) {
          id = f[kCollectionKey].get<int>();
        }
      }
    }
  }
  absl::MutexLock lock(&mu_);
  Collection* collection = nullptr;
  for (Collection& c : collections_) {
    if (c.id == id) collection = &c;
  }
  const int64_t total =
      collection == nullptr
          ? 0
          : static_cast<int64_t>(collection->indicators.size());
  const int64_t query = queries_++;
  // The rows of this page, as indexes into the collection (id = first id +
  // index), and the cursor mark to send.
  std::vector<int64_t> rows;
  std::optional<std::string> next_cursor;
  const std::optional<std::string> cursor_mark =
      modes_.cursor_paging ? request.Param("cursorMark") : std::nullopt;
  if (cursor_mark.has_value()) {
    std::optional<int64_t> last_id = DecodeCursorMark(*cursor_mark);
    if (!last_id.has_value()) {
      return Errors(400, "The cursorMark is not valid.");
    }
    // Ids ascending after the last one served; the cursor overrides offset.
    for (int64_t i = std::max<int64_t>(0, *last_id - kFirstIndicatorId + 1);
         i < total && static_cast<int64_t>(rows.size()) < limit; ++i) {
      rows.push_back(i);
    }
    next_cursor = rows.empty()
                      ? *cursor_mark
                      : EncodeCursorMark(kFirstIndicatorId + rows.back());
  } else {
    const bool unstable = modes_.unstable_default_order &&
                          request.Param("sort").value_or("") != "id";
    // An unsorted index: each request sees the rows rotated anew.
    const int64_t shift = unstable && total > 0 ? (query * 7919) % total : 0;
    for (int64_t i = offset; i < total && i < offset + limit; ++i) {
      rows.push_back((i + shift) % total);
    }
  }
  // Pages of 1,000 indicators are the bulk of a large read: written as text
  // directly rather than built as a JSON tree first.
  std::string out = absl::StrCat(R"({"total":)", total, R"(,"limit":)", limit);
  // A page asked by a cursor other than "*" echoes no offset.
  if (!cursor_mark.has_value() || *cursor_mark == "*") {
    absl::StrAppend(&out, R"(,"offset":)",
                    cursor_mark.has_value() ? 0 : offset);
  }
  if (next_cursor.has_value()) {
    out.append(R"(,"nextCursorMark":)");
    emulator::AppendJsonString(*next_cursor, out);
  }
  out.append(R"(,"data":[)");
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t i = rows[r];
    const Indicator& in = collection->indicators[i];
    if (r > 0) out.push_back(',');
    absl::StrAppend(&out, R"({"id":)", kFirstIndicatorId + i, R"(,"value":)");
    emulator::AppendJsonString(in.value, out);
    if (flat) {
      out.append(R"(,"type":)");
      emulator::AppendJsonString(in.type, out);
      out.append(R"(,"status":)");
      emulator::AppendJsonString(in.status, out);
    } else {
      const int type_id = TypeId(in.type);
      const int status_id = StatusId(in.status);
      absl::StrAppend(&out, R"(,"type_id":)", type_id, R"(,"type":{"id":)",
                      type_id, R"(,"name":)");
      emulator::AppendJsonString(in.type, out);
      absl::StrAppend(&out, R"(},"status_id":)", status_id,
                      R"(,"status":{"id":)", status_id, R"(,"name":)");
      emulator::AppendJsonString(in.status, out);
      out.push_back('}');
    }
    out.push_back('}');
  }
  out.append("]}");
  if (collection != nullptr) GrowAfterPage(*collection);
  return emulator::JsonResponse(200, std::move(out));
}

}  // namespace tqs1::threatq

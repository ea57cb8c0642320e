#include "emulators/sentinelone_emulator.h"

#include <algorithm>
#include <set>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "providers/sentinelone/wire.h"

namespace tqs1::sentinelone {
namespace {

using ::nlohmann::json;
using ::tqs1::emulator::JsonResponse;
using ::tqs1::emulator::Request;
using ::tqs1::emulator::Response;
using ::tqs1::v1::Rule;
using ::tqs1::v1::RuleScope;

constexpr absl::string_view kApiPrefix = "/web/api/v2.1";
constexpr int kMaxSkip = 1000;
constexpr int kDefaultLimit = 10;
// UNCERTAIN: the code of a rate-limited answer; nothing public shows one.
constexpr int kCodeTooManyRequests = 4290010;
// What GET /user answers (the token's user).
constexpr char kUserId[] = "1000000000000000001";

// Field access that never throws and never reads past a missing key (the
// test hooks may store anything).
std::string Str(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

json At(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? json(nullptr) : *it;
}

Response Error(int status, int code, absl::string_view title,
               absl::string_view detail) {
  json body = {{"errors",
                {{{"code", code},
                  {"title", std::string(title)},
                  {"detail", std::string(detail)}}}}};
  return JsonResponse(status, DumpJson(body));
}

Response Validation(absl::string_view detail) {
  return Error(400, kCodeValidation, "Validation Error", detail);
}

// The console's success envelope around `data`, given as JSON text (large
// pages are written as text, never built as a tree).
Response OkText(absl::string_view data,
                const std::optional<json>& pagination = std::nullopt) {
  return JsonResponse(
      200, absl::StrCat(
               R"({"data":)", data, R"(,"errors":null)",
               pagination.has_value()
                   ? absl::StrCat(R"(,"pagination":)", DumpJson(*pagination))
                   : "",
               "}"));
}

// A stored rule's text with "order" put in front of its members.
std::string WithOrder(int position, absl::string_view rule) {
  return absl::StrCat(R"({"order":)", position, ",", rule.substr(1));
}

Response Ok(const json& data,
            const std::optional<json>& pagination = std::nullopt) {
  return OkText(DumpJson(data), pagination);
}

std::string ScopeName(RuleScope scope) {
  switch (scope) {
    case v1::RULE_SCOPE_ACCOUNT:
      return "account";
    case v1::RULE_SCOPE_GLOBAL:
      return "global";
    case v1::RULE_SCOPE_GROUP:
      return "group";
    default:
      return "site";
  }
}

// Evaluation order of the console: group, site, account, global.
int ScopeRank(absl::string_view scope) {
  if (scope == "group") return 0;
  if (scope == "site") return 1;
  if (scope == "account") return 2;
  return 3;
}

json ScopeIdJson(RuleScope scope, absl::string_view scope_id) {
  if (scope == v1::RULE_SCOPE_GLOBAL) return nullptr;
  return std::string(scope_id);
}

// Whether `ids` is a filter's array of exactly one id string, put in `id`.
bool OneId(const json& ids, std::string* id) {
  if (!ids.is_array() || ids.size() != 1 || !ids[0].is_string()) return false;
  *id = ids[0].get<std::string>();
  return true;
}

std::vector<std::string> CsvParam(const Request& request,
                                  absl::string_view name) {
  std::vector<std::string> out;
  for (const auto& [key, value] : request.params) {
    if (key != name) continue;
    for (absl::string_view part : absl::StrSplit(value, ',')) {
      if (!part.empty()) out.emplace_back(part);
    }
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, absl::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// UTF-8 code points (the console counts characters, not bytes).
size_t CharCount(absl::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

const std::set<std::string>& HostTypes() {
  static const auto* types =
      new std::set<std::string>{"any", "cidr", "range", "addresses", "fqdn"};
  return *types;
}

const std::set<std::string>& OsTypes() {
  static const auto* types =
      new std::set<std::string>{"windows", "windows_legacy", "linux", "macos"};
  return *types;
}

// Checks the rule fields present in `data` against the console's schema.
// Returns an error detail, or "" when valid.
std::string ValidateData(const json& data, bool require_all) {
  auto field = [&](const char* key) -> const json* {
    auto it = data.find(key);
    return it == data.end() ? nullptr : &*it;
  };
  const json* name = field("name");
  if (name != nullptr || require_all) {
    if (name == nullptr || !name->is_string() ||
        name->get_ref<const std::string&>().empty()) {
      return "data.name: a non-empty string is required";
    }
    if (CharCount(name->get_ref<const std::string&>()) > kMaxRuleNameLength) {
      return "data.name: longer than maximum length 200";
    }
  }
  const json* action = field("action");
  if (action != nullptr || require_all) {
    if (action == nullptr || (*action != "Allow" && *action != "Block")) {
      return "data.action: must be one of Allow, Block";
    }
  }
  const json* status = field("status");
  if (status != nullptr || require_all) {
    if (status == nullptr || (*status != "Enabled" && *status != "Disabled")) {
      return "data.status: must be one of Enabled, Disabled";
    }
  }
  if (const json* d = field("direction"); d != nullptr && !d->is_null()) {
    if (*d != "any" && *d != "inbound" && *d != "outbound") {
      return "data.direction: must be one of any, inbound, outbound";
    }
  }
  if (const json* d = field("description");
      d != nullptr && !d->is_null() && !d->is_string()) {
    return "data.description: must be a string";
  }
  if (const json* os = field("osTypes"); os != nullptr && !os->is_null()) {
    if (!os->is_array()) return "data.osTypes: must be an array";
    for (const json& v : *os) {
      if (!v.is_string() || OsTypes().count(v.get<std::string>()) == 0) {
        return "data.osTypes: must be one of windows, windows_legacy, linux, "
               "macos";
      }
    }
  }
  if (const json* hosts = field("remoteHosts");
      hosts != nullptr && !hosts->is_null()) {
    if (!hosts->is_array()) return "data.remoteHosts: must be an array";
    size_t total = 0;
    for (const json& h : *hosts) {
      if (!h.is_object()) return "data.remoteHosts: items must be objects";
      auto type = h.find("type");
      if (type == h.end() || !type->is_string() ||
          HostTypes().count(type->get<std::string>()) == 0) {
        return "data.remoteHosts.type: must be one of any, cidr, range, "
               "addresses, fqdn";
      }
      auto values = h.find("values");
      if (values == h.end() || !values->is_array()) {
        return "data.remoteHosts.values: must be an array";
      }
      if (values->size() > kMaxValuesPerRule) {
        return "data.remoteHosts.values: longer than maximum length 5000";
      }
      for (const json& v : *values) {
        if (!v.is_string()) return "data.remoteHosts.values: must be strings";
        const bool has_slash = absl::StrContains(v.get<std::string>(), "/");
        if (*type == "addresses" && has_slash) {
          return absl::StrCat("data.remoteHosts.values: '",
                              v.get<std::string>(), "' is not an address");
        }
        if (*type == "cidr" && !has_slash) {
          return absl::StrCat("data.remoteHosts.values: '",
                              v.get<std::string>(), "' is not a CIDR block");
        }
      }
      total += values->size();
    }
    // UNCERTAIN (spec §7.2): enforced per rule, the stricter reading.
    if (total > kMaxValuesPerRule) {
      return "data.remoteHosts: more than 5000 values in one rule";
    }
  }
  return "";
}

std::string DuplicateDetail(absl::string_view name) {
  // UNCERTAIN (spec §7.1): how the console words a duplicate name; the
  // client recognises kDuplicateNameMarker ("already exists").
  return absl::StrCat("Firewall rule name \"", name, "\" ",
                      kDuplicateNameMarker, " in this scope");
}

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                          absl::UTCTimeZone());
}

// Copies the rule fields of `data` into the stored object `rule`, filling
// the deprecated singular fields and nulls the way the console shows them.
void ApplyData(const json& data, json& rule) {
  for (const char* key : {"name", "description", "action", "status",
                          "direction", "osTypes", "remoteHosts"}) {
    auto it = data.find(key);
    if (it != data.end()) rule[key] = *it;
  }
  for (const char* key : {"description", "direction"}) {
    if (!rule.contains(key)) rule[key] = nullptr;
  }
  for (const char* key : {"osTypes", "remoteHosts"}) {
    if (!rule.contains(key) || rule[key].is_null()) rule[key] = json::array();
  }
  const json& os = rule["osTypes"];
  rule["osType"] = os.is_array() && !os.empty() ? os[0] : json(nullptr);
  const json& hosts = rule["remoteHosts"];
  rule["remoteHost"] =
      hosts.is_array() && !hosts.empty() ? hosts[0] : json::object();
  rule["updatedAt"] = Now();
}

std::string EncodeCursor(size_t offset) {
  return absl::Base64Escape(absl::StrCat("tqs1-emulator:offset=", offset));
}

std::optional<size_t> DecodeCursor(absl::string_view cursor) {
  std::string raw;
  if (!absl::Base64Unescape(cursor, &raw)) return std::nullopt;
  absl::string_view rest = raw;
  if (!absl::ConsumePrefix(&rest, "tqs1-emulator:offset=")) return std::nullopt;
  size_t offset = 0;
  if (!absl::SimpleAtoi(rest, &offset)) return std::nullopt;
  return offset;
}

// limit, skip and cursor of a list request: the offset of the first item and
// the page size, or an error response.
struct Page {
  size_t offset = 0;
  size_t limit = kDefaultLimit;
};
std::variant<Page, Response> ReadPaging(const Request& request) {
  Page page;
  if (std::optional<std::string> limit = request.Param("limit")) {
    int value = 0;
    if (!absl::SimpleAtoi(*limit, &value) || value < 1 ||
        value > kMaxPageSize) {
      return Validation("limit: must be between 1 and 1000");
    }
    page.limit = static_cast<size_t>(value);
  }
  if (std::optional<std::string> skip = request.Param("skip")) {
    int value = 0;
    if (!absl::SimpleAtoi(*skip, &value) || value < 0 || value > kMaxSkip) {
      return Validation(
          "skip: must be between 0 and 1000; to iterate over more than 1000 "
          "items use cursor");
    }
    page.offset = static_cast<size_t>(value);
  }
  if (std::optional<std::string> cursor = request.Param("cursor")) {
    std::optional<size_t> offset = DecodeCursor(*cursor);
    if (!offset.has_value()) return Validation("cursor: invalid cursor");
    page.offset = *offset;
  }
  return page;
}

// A page of `items` with the console's pagination object.
Response PageOf(const std::vector<json>& items, const Page& page,
                const std::function<json(std::vector<json>)>& wrap) {
  std::vector<json> slice;
  for (size_t i = page.offset; i < items.size() && slice.size() < page.limit;
       ++i) {
    slice.push_back(items[i]);
  }
  const size_t end = page.offset + slice.size();
  json pagination = {{"totalItems", items.size()},
                     {"nextCursor", end < items.size() ? json(EncodeCursor(end))
                                                       : json(nullptr)}};
  return Ok(wrap(std::move(slice)), pagination);
}

// The first remoteHosts value of `data` that is an IPv6 address or prefix
// (holds a ':'), or "".
std::string FirstIpv6Value(const json& data) {
  auto hosts = data.find("remoteHosts");
  if (hosts == data.end() || !hosts->is_array()) return "";
  for (const json& host : *hosts) {
    auto values = host.is_object() ? host.find("values") : host.end();
    if (!host.is_object() || values == host.end() || !values->is_array()) {
      continue;
    }
    for (const json& v : *values) {
      if (v.is_string() && absl::StrContains(v.get<std::string>(), ":")) {
        return v.get<std::string>();
      }
    }
  }
  return "";
}

bool IsRuleWrite(const Request& request) {
  absl::string_view path = request.path;
  return (request.method == "POST" || request.method == "PUT" ||
          request.method == "DELETE") &&
         absl::ConsumePrefix(&path, kApiPrefix) &&
         absl::StartsWith(path, "/firewall-control");
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

json ConfigJson(const EmulatedFirewallConfig& config) {
  return {{"enabled", config.enabled},
          {"inheritedFrom", config.inherited_from.empty()
                                ? json(nullptr)
                                : json(config.inherited_from)},
          {"inherits", config.inherits},
          {"inheritSettings", config.inherits},
          {"inheritAllFirewallRules", config.inherit_all_firewall_rules},
          {"locationAware", false},
          {"reportBlocked", true},
          {"selectedTags", json::array()}};
}

}  // namespace

SentinelOneEmulator::SentinelOneEmulator(EmulatorOptions options)
    : options_(std::move(options)) {}

SentinelOneEmulator::~SentinelOneEmulator() {
  if (server_ != nullptr) server_->Stop();
}

absl::StatusOr<std::unique_ptr<SentinelOneEmulator>> SentinelOneEmulator::Start(
    EmulatorOptions options) {
  if (options.api_token.empty()) {
    return absl::InvalidArgumentError(
        "SentinelOne emulator: an api_token is required");
  }
  std::unique_ptr<SentinelOneEmulator> emulator(
      new SentinelOneEmulator(std::move(options)));
  SentinelOneEmulator* self = emulator.get();
  self->SetModes(self->options_.modes);
  if (self->options_.default_sites_in_two_accounts) {
    self->AddDefaultSitesInTwoAccounts();
  }
  absl::StatusOr<std::unique_ptr<emulator::EmulatorServer>> server =
      emulator::EmulatorServer::Start(
          self->options_.server,
          [self](const Request& request) { return self->Handle(request); });
  if (!server.ok()) return server.status();
  emulator->server_ = *std::move(server);
  return emulator;
}

void SentinelOneEmulator::SetModes(ConsoleModes modes) {
  absl::MutexLock lock(&mu_);
  modes_ = std::move(modes);
  writes_seen_ = 0;
}

ConsoleModes SentinelOneEmulator::modes() const {
  absl::MutexLock lock(&mu_);
  return modes_;
}

void SentinelOneEmulator::ThrottleNext(int n) {
  absl::MutexLock lock(&mu_);
  throttle_next_ = std::max(0, n);
}

absl::Status SentinelOneEmulator::SetFirewallConfig(
    absl::string_view site_id, EmulatedFirewallConfig config) {
  absl::MutexLock lock(&mu_);
  auto site = sites_.find(std::string(site_id));
  if (site == sites_.end()) {
    return absl::NotFoundError(absl::StrCat("no site ", site_id));
  }
  site->second.firewall = std::move(config);
  return absl::OkStatus();
}

std::vector<EmulatedSite> SentinelOneEmulator::AddDefaultSitesInTwoAccounts() {
  std::vector<EmulatedSite> sites(3);
  sites[0] = {"1758952600032266201", "Default site", kFirstAccountId, "Acme"};
  sites[0].is_default = true;
  sites[1] = {"1758952600032266202", "Default site", kSecondAccountId,
              "Globex"};
  sites[1].is_default = true;
  sites[1].sku = "Control";
  sites[2] = {"1758952600032266203", "default site", kSecondAccountId, "Globex",
              "expired"};
  for (const EmulatedSite& site : sites) AddSite(site);
  return sites;
}

absl::StatusOr<std::vector<std::string>>
SentinelOneEmulator::AddOddForeignRules(absl::string_view site_id) {
  absl::MutexLock lock(&mu_);
  auto site = sites_.find(std::string(site_id));
  if (site == sites_.end()) {
    return absl::NotFoundError(absl::StrCat("no site ", site_id));
  }
  const std::string account_id = site->second.account_id;
  auto rule = [](const char* name, json extra) {
    json r = {{"name", name},
              {"description", "Added by the SOC"},
              {"action", "Block"},
              {"status", "Enabled"},
              {"direction", "any"},
              {"osTypes", {"windows"}},
              {"remoteHosts",
               {{{"type", "addresses"}, {"values", {"198.51.100.20"}}}}},
              {"creator", "soc-analyst@example.com"}};
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      if (it.value().is_null() && it.key().front() == '-') {
        r.erase(it.key().substr(1));
      } else {
        r[it.key()] = it.value();
      }
    }
    return r;
  };
  const json kRemove = nullptr;  // {"-key": null} removes "key"
  struct Odd {
    RuleScope scope;
    std::string scope_id;
    json object;
  };
  std::vector<Odd> odd = {
      {v1::RULE_SCOPE_SITE, std::string(site_id),
       rule("Foreign: null in values",
            {{"remoteHosts",
              {{{"type", "addresses"},
                {"values", {"198.51.100.20", nullptr}}}}}})},
      {v1::RULE_SCOPE_SITE, std::string(site_id),
       rule("Foreign: host entries without a type",
            {{"remoteHosts",
              json::array({json::object(), {{"values", {"198.51.100.21"}}}})},
             {"remoteHost", json::object()}})},
      {v1::RULE_SCOPE_SITE, std::string(site_id),
       rule("Foreign: null lists", {{"osTypes", nullptr},
                                    {"osType", nullptr},
                                    {"remoteHosts", nullptr},
                                    {"remoteHost", json::object()}})},
      {v1::RULE_SCOPE_SITE, std::string(site_id),
       rule("Foreign: read-only", {{"editable", false}})},
      {v1::RULE_SCOPE_SITE, std::string(site_id),
       rule("Foreign: network quarantine",
            {{"ruleCategory", "network_quarantine"}, {"action", "Allow"}})},
      {v1::RULE_SCOPE_SITE, std::string(site_id),
       rule("Foreign: legacy singular fields",
            {{"-osTypes", kRemove},
             {"-remoteHosts", kRemove},
             {"osType", "windows"},
             {"remoteHost",
              {{"type", "addresses"}, {"values", {"198.51.100.22"}}}}})},
      {v1::RULE_SCOPE_SITE, std::string(site_id),
       rule(
           "Foreign: any, fqdn and range",
           {{"osTypes", {"windows_legacy", "macos"}},
            {"remoteHosts",
             {{{"type", "any"}, {"values", nullptr}},
              {{"type", "fqdn"}, {"values", {"updates.example.com"}}},
              {{"type", "range"}, {"values", {"10.0.0.1-10.0.0.9"}}}}},
            {"localHost", json::object()},
            {"localPort", json::object()},
            {"remotePort", json::object()},
            {"application", json::object()},
            {"location", {{"type", "all"}, {"values", nullptr}}},
            {"protocol", nullptr},
            {"tagIds", {"1400000000000000001"}},
            {"tagNames", {"SOC policy"}},
            {"tags", {{{"id", "1400000000000000001"}, {"name", "SOC policy"}}}},
            {"tag", {{"id", "1400000000000000001"}, {"name", "SOC policy"}}}})},
      {v1::RULE_SCOPE_ACCOUNT, account_id,
       rule("Foreign: account policy", {{"editable", false}})},
      {v1::RULE_SCOPE_GLOBAL, "",
       rule("Foreign: global policy",
            {{"editable", false}, {"direction", "outbound"}})},
  };
  std::vector<std::string> ids;
  for (Odd& o : odd) {
    o.object["createdAt"] = Now();
    o.object["updatedAt"] = Now();
    std::string id = InsertOnTop(o.scope, o.scope_id, std::move(o.object));
    Record("hook_add", id, nullptr, &rules_.front().object);
    ids.push_back(std::move(id));
  }
  return ids;
}

std::string SentinelOneEmulator::base_url() const {
  return server_->base_url();
}

void SentinelOneEmulator::AddSite(EmulatedSite site) {
  absl::MutexLock lock(&mu_);
  std::string id = site.id;
  sites_[id] = std::move(site);
}

void SentinelOneEmulator::AddGroup(EmulatedGroup group) {
  absl::MutexLock lock(&mu_);
  std::string id = group.id;
  groups_[id] = std::move(group);
}

std::string SentinelOneEmulator::NewId() {
  // 18-digit ids, carried as strings.
  return absl::StrCat(225494730938400000ULL + ++next_id_);
}

void SentinelOneEmulator::Record(absl::string_view kind, absl::string_view id,
                                 const json* before, const json* after) {
  WriteEvent event;
  event.seq = events_cleared_ + static_cast<int64_t>(events_.size()) + 1;
  event.kind = std::string(kind);
  event.rule_id = std::string(id);
  if (options_.keep_write_contents) {
    if (before != nullptr) event.before = *before;
    if (after != nullptr) event.after = *after;
  }
  events_.push_back(std::move(event));
}

std::string SentinelOneEmulator::InsertOnTop(RuleScope scope,
                                             absl::string_view scope_id,
                                             json rule) {
  if (!rule.contains("id") || !rule["id"].is_string() ||
      rule["id"].get<std::string>().empty()) {
    rule["id"] = NewId();
  }
  rule["scope"] = ScopeName(scope);
  rule["scopeId"] = ScopeIdJson(scope, scope_id);
  for (const auto& [key, value] :
       std::map<std::string, json>{{"ruleCategory", "firewall"},
                                   {"editable", true},
                                   {"tagIds", json::array()},
                                   {"tags", json::array()},
                                   {"creator", "tqs1-emulator"},
                                   {"createdAt", Now()}}) {
    if (!rule.contains(key)) rule[key] = value;
  }
  std::string id = rule["id"].get<std::string>();
  // New rules go on top of their scope (NABLE: "added to the top").
  rules_.insert(rules_.begin(), StoredRule(std::move(rule)));
  return id;
}

std::string SentinelOneEmulator::AddRule(RuleScope scope,
                                         absl::string_view scope_id,
                                         const Rule& rule) {
  json object = RuleToWireData(rule);
  if (!rule.id().empty()) object["id"] = rule.id();
  json stored = json::object();
  if (object.contains("id")) stored["id"] = object["id"];
  ApplyData(object, stored);
  return AddRuleJson(scope, scope_id, std::move(stored));
}

std::string SentinelOneEmulator::AddRuleJson(RuleScope scope,
                                             absl::string_view scope_id,
                                             json rule) {
  absl::MutexLock lock(&mu_);
  std::string id = InsertOnTop(scope, scope_id, std::move(rule));
  Record("hook_add", id, nullptr, &rules_.front().object);
  return id;
}

absl::Status SentinelOneEmulator::ModifyRule(
    absl::string_view id, const std::function<void(json&)>& edit) {
  absl::MutexLock lock(&mu_);
  int index = FindRule(id);
  if (index < 0) return absl::NotFoundError(absl::StrCat("no rule ", id));
  json before = rules_[index].object;
  edit(rules_[index].object);
  rules_[index].Index();
  Record("hook_modify", id, &before, &rules_[index].object);
  return absl::OkStatus();
}

absl::Status SentinelOneEmulator::RemoveRule(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  int index = FindRule(id);
  if (index < 0) return absl::NotFoundError(absl::StrCat("no rule ", id));
  Record("hook_delete", id, &rules_[index].object, nullptr);
  rules_.erase(rules_.begin() + index);
  return absl::OkStatus();
}

std::vector<json> SentinelOneEmulator::RulesJson(
    RuleScope scope, absl::string_view scope_id) const {
  absl::MutexLock lock(&mu_);
  std::vector<json> out;
  const std::string name = ScopeName(scope);
  const json want_id = ScopeIdJson(scope, scope_id);
  for (const StoredRule& r : rules_) {
    if (Str(r.object, "scope") == name && At(r.object, "scopeId") == want_id) {
      out.push_back(r.object);
    }
  }
  return out;
}

std::vector<Rule> SentinelOneEmulator::Rules(RuleScope scope,
                                             absl::string_view scope_id) const {
  std::vector<Rule> out;
  for (const json& object : RulesJson(scope, scope_id)) {
    absl::StatusOr<Rule> rule = RuleFromJson(object, "emulator state");
    if (rule.ok()) out.push_back(*std::move(rule));
  }
  return out;
}

std::vector<WriteEvent> SentinelOneEmulator::Events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

void SentinelOneEmulator::ClearEvents() {
  absl::MutexLock lock(&mu_);
  events_cleared_ += static_cast<int64_t>(events_.size());
  events_.clear();
  events_.shrink_to_fit();
}

int SentinelOneEmulator::FindRule(absl::string_view id) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].id == id) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool SentinelOneEmulator::NameTaken(absl::string_view scope,
                                    const json& scope_id,
                                    absl::string_view name,
                                    absl::string_view except_id) const {
  for (const StoredRule& r : rules_) {
    if (r.name == name && r.scope == scope && r.scope_id == scope_id &&
        r.id != except_id) {
      return true;
    }
  }
  return false;
}

void SentinelOneEmulator::StoredRule::Index() {
  text = DumpJson(object);
  id = Str(object, "id");
  name = Str(object, "name");
  scope = Str(object, "scope");
  scope_id = At(object, "scopeId");
}

Response SentinelOneEmulator::Handle(const Request& request) {
  // Parsed before the lock: a rule's body is 5,000 addresses.
  const json body =
      request.body.empty()
          ? json()
          : json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  absl::MutexLock lock(&mu_);
  return HandleLocked(request, body);
}

std::optional<Response> SentinelOneEmulator::Throttle(const Request& request) {
  bool limited = false;
  if (throttle_next_ > 0) {
    --throttle_next_;
    limited = true;
  } else if (modes_.throttle_every_kth_write > 0 && IsRuleWrite(request)) {
    limited = ++writes_seen_ % modes_.throttle_every_kth_write == 0;
  }
  if (!limited) return std::nullopt;
  // No Retry-After: GOSDK falls back to 5 s when it is missing.
  return Error(429, kCodeTooManyRequests, "Too Many Requests",
               "API rate limit exceeded, please try again later");
}

Response SentinelOneEmulator::HandleLocked(const Request& request,
                                           const json& body) {
  if (std::optional<Response> limited = Throttle(request)) return *limited;
  // Auth first, as the console does. The scheme is matched
  // case-insensitively (SOAR sends "APIToken"), the token exactly.
  const std::string auth = request.Header("Authorization").value_or("");
  absl::string_view token = auth;
  if (!absl::StartsWithIgnoreCase(token, "ApiToken ") ||
      token.substr(9) != options_.api_token) {
    return Error(401, kCodeUnauthenticated, "Authentication Failed",
                 "Invalid or missing API token");
  }
  absl::string_view path = request.path;
  if (!absl::ConsumePrefix(&path, kApiPrefix)) {
    return Error(404, kCodeNotFound, "Not Found", "No such endpoint");
  }
  if (path == "/sites" && request.method == "GET") return ListSites(request);
  if (path == "/groups" && request.method == "GET") return ListGroups(request);
  if (path == "/firewall-control/configuration" && request.method == "GET") {
    return FirewallConfiguration(request);
  }
  if (path == "/users/api-token-details" && request.method == "POST") {
    return TokenDetails(request);
  }
  if (path == "/system/info" && request.method == "GET") {
    return Ok({{"version", options_.console_version},
               {"build", "tqs1-emulator"},
               {"release", "tqs1-emulator"},
               {"patch", "0"}});
  }
  if (path == "/user" && request.method == "GET") {
    return Ok({{"id", kUserId},
               {"email", "tqs1-service@example.invalid"},
               {"fullName", "tqs1 service user"},
               {"scope", "account"},
               {"lowestRole", "Admin"}});
  }
  if (path == "/firewall-control") {
    if (request.method == "GET") return ListRules(request);
    if (request.method == "POST") return CreateRule(body);
    if (request.method == "DELETE") return DeleteRules(body);
  }
  absl::string_view id = path;
  if (absl::ConsumePrefix(&id, "/firewall-control/") &&
      request.method == "PUT" && !id.empty() &&
      std::all_of(id.begin(), id.end(),
                  [](char c) { return absl::ascii_isdigit(c); })) {
    return UpdateRule(body, id);
  }
  return Error(
      404, kCodeNotFound, "Not Found",
      absl::StrCat("No such endpoint: ", request.method, " ", request.path));
}

Response SentinelOneEmulator::ListSites(const Request& request) {
  auto paging = ReadPaging(request);
  if (auto* error = std::get_if<Response>(&paging)) return *error;
  std::optional<std::string> name = request.Param("name");
  std::optional<std::string> state = request.Param("state");
  std::vector<std::string> account_ids = CsvParam(request, "accountIds");
  std::vector<std::string> site_ids = CsvParam(request, "siteIds");
  std::vector<json> items;
  for (const auto& [id, site] : sites_) {
    if (!site_ids.empty() && !Contains(site_ids, site.id)) continue;
    // UNCERTAIN (spec §2): whether `name` is case-sensitive. The emulator
    // matches case-insensitively, the harder case for the client, which
    // compares exactly itself.
    if (name.has_value() && !absl::EqualsIgnoreCase(site.name, *name)) continue;
    if (state.has_value() && site.state != *state) continue;
    if (!account_ids.empty() && !Contains(account_ids, site.account_id)) {
      continue;
    }
    items.push_back({{"id", site.id},
                     {"name", site.name},
                     {"accountId", site.account_id},
                     {"accountName", site.account_name},
                     {"state", site.state},
                     {"siteType", "Paid"},
                     {"sku", site.sku},
                     {"isDefault", site.is_default}});
  }
  return PageOf(items, std::get<Page>(paging), [](std::vector<json> slice) {
    return json{{"allSites", {{"activeLicenses", 0}, {"totalLicenses", 0}}},
                {"sites", std::move(slice)}};
  });
}

Response SentinelOneEmulator::ListGroups(const Request& request) {
  auto paging = ReadPaging(request);
  if (auto* error = std::get_if<Response>(&paging)) return *error;
  const std::vector<std::string> site_ids = CsvParam(request, "siteIds");
  const std::vector<std::string> ids = CsvParam(request, "groupIds");
  const std::optional<std::string> name = request.Param("name");
  std::vector<json> items;
  for (const auto& [id, group] : groups_) {
    if (!site_ids.empty() && !Contains(site_ids, group.site_id)) continue;
    if (!ids.empty() && !Contains(ids, group.id)) continue;
    // UNCERTAIN: whether `name` is case-sensitive; matched as sites' are.
    if (name.has_value() && !absl::EqualsIgnoreCase(group.name, *name)) {
      continue;
    }
    items.push_back({{"id", group.id},
                     {"name", group.name},
                     {"siteId", group.site_id},
                     {"type", group.type},
                     {"isDefault", false},
                     {"inherits", true},
                     {"rank", nullptr},
                     {"totalAgents", 0}});
  }
  return PageOf(items, std::get<Page>(paging),
                [](std::vector<json> slice) { return json(std::move(slice)); });
}

Response SentinelOneEmulator::ListRules(const Request& request) {
  auto paging = ReadPaging(request);
  if (auto* error = std::get_if<Response>(&paging)) return *error;
  const std::vector<std::string> site_ids = CsvParam(request, "siteIds");
  const std::vector<std::string> account_ids = CsvParam(request, "accountIds");
  const std::vector<std::string> group_ids = CsvParam(request, "groupIds");
  const std::vector<std::string> ids = CsvParam(request, "ids");
  const std::vector<std::string> scopes = CsvParam(request, "scopes");
  const std::vector<std::string> actions = CsvParam(request, "actions");
  const std::vector<std::string> statuses = CsvParam(request, "statuses");
  const std::vector<std::string> os_types = CsvParam(request, "osTypes");
  const std::optional<std::string> name = request.Param("name");
  const bool tenant = request.Param("tenant").value_or("") == "true";
  // "At least one of these filters is required: action, status, osType,
  // name, or scope ID" [SPEC].
  if (site_ids.empty() && account_ids.empty() && group_ids.empty() &&
      ids.empty() && actions.empty() && statuses.empty() && os_types.empty() &&
      !name.has_value() && !tenant) {
    return Validation(
        "At least one of these filters is required: action, status, osType, "
        "name, or scope ID");
  }
  // Sites whose rules the requested groups inherit, and accounts whose
  // rules the requested sites (and the groups' sites) inherit.
  std::vector<std::string> inherited_sites = site_ids;
  for (const std::string& id : group_ids) {
    auto group = groups_.find(id);
    if (group != groups_.end()) {
      inherited_sites.push_back(group->second.site_id);
    }
  }
  std::vector<std::string> inherited_accounts = account_ids;
  for (const std::string& id : inherited_sites) {
    auto site = sites_.find(id);
    if (site != sites_.end())
      inherited_accounts.push_back(site->second.account_id);
  }
  const bool scoped =
      !site_ids.empty() || !group_ids.empty() || !account_ids.empty() || tenant;

  // Pointers, not copies: only the page served is copied.
  std::vector<const StoredRule*> items;
  for (const StoredRule& stored : rules_) {
    const json& r = stored.object;
    const std::string& scope = stored.scope;
    const std::string scope_id = Str(r, "scopeId");
    if (scoped) {
      // A site query also returns the rules the site inherits from its
      // account and from global scope, each marked with its own scope; a
      // group query its site's too.
      bool visible =
          (scope == "group" && Contains(group_ids, scope_id)) ||
          (scope == "site" && Contains(inherited_sites, scope_id)) ||
          (scope == "account" && Contains(inherited_accounts, scope_id)) ||
          scope == "global";
      if (!visible) continue;
    }
    if (!scopes.empty() && !Contains(scopes, scope)) continue;
    if (!ids.empty() && !Contains(ids, Str(r, "id"))) continue;
    if (name.has_value() && Str(r, "name") != *name) continue;
    if (!actions.empty() && !Contains(actions, Str(r, "action"))) continue;
    if (!statuses.empty() && !Contains(statuses, Str(r, "status"))) {
      continue;
    }
    items.push_back(&stored);
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const StoredRule* a, const StoredRule* b) {
                     return ScopeRank(a->scope) < ScopeRank(b->scope);
                   });
  const Page& page = std::get<Page>(paging);
  // "order": 1-based position within the rule's scope.
  std::map<std::string, int> order;
  // The page is written from the stored rules' text, with "order" put in
  // front of each one's members: a page of 200 rules of 5,000 addresses is
  // 15 MB, and building it as a JSON tree first doubled the work.
  std::string data = "[";
  size_t served = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const StoredRule& item = *items[i];
    int position = ++order[item.scope + "/" + Str(item.object, "scopeId")];
    if (i < page.offset || served >= page.limit) continue;
    absl::StrAppend(&data, served++ > 0 ? "," : "",
                    WithOrder(position, item.text));
  }
  data += "]";
  const size_t end = page.offset + served;
  json pagination = {{"totalItems", items.size()},
                     {"nextCursor", end < items.size() ? json(EncodeCursor(end))
                                                       : json(nullptr)}};
  return OkText(data, pagination);
}

Response SentinelOneEmulator::CreateRule(const json& body) {
  if (body.is_discarded() || !body.is_object()) {
    return Validation("Request body must be a JSON object");
  }
  auto data = body.find("data");
  auto filter = body.find("filter");
  if (data == body.end() || !data->is_object()) {
    return Validation("data: Missing data for required field.");
  }
  if (filter == body.end() || !filter->is_object()) {
    return Validation("filter: Missing data for required field.");
  }
  if (std::string detail = ValidateData(*data, /*require_all=*/true);
      !detail.empty()) {
    return Validation(detail);
  }
  if (std::optional<Response> refused = RefuseIpv6(*data)) return *refused;
  // UNCERTAIN (spec §7.6): the effect of `tenant` with siteIds. The
  // emulator creates site rules from exactly one site id; tenant=true alone
  // makes a global rule.
  RuleScope scope;
  std::string scope_id;
  auto site_ids = filter->find("siteIds");
  auto account_ids = filter->find("accountIds");
  auto group_ids = filter->find("groupIds");
  if (group_ids != filter->end()) {
    if (!OneId(*group_ids, &scope_id)) {
      return Validation(
          "filter.groupIds: exactly one group id string expected");
    }
    scope = v1::RULE_SCOPE_GROUP;
    if (groups_.find(scope_id) == groups_.end()) {
      return Validation(
          absl::StrCat("filter.groupIds: no group with id ", scope_id));
    }
  } else if (site_ids != filter->end()) {
    if (!OneId(*site_ids, &scope_id)) {
      return Validation("filter.siteIds: exactly one site id string expected");
    }
    scope = v1::RULE_SCOPE_SITE;
    auto site = sites_.find(scope_id);
    if (site == sites_.end() || site->second.state != "active") {
      return Validation(
          absl::StrCat("filter.siteIds: no active site with id ", scope_id));
    }
  } else if (account_ids != filter->end()) {
    if (!OneId(*account_ids, &scope_id)) {
      return Validation(
          "filter.accountIds: exactly one account id string expected");
    }
    scope = v1::RULE_SCOPE_ACCOUNT;
  } else if ((At(*filter, "tenant") == true ||
              At(*filter, "tenant") == "true")) {
    scope = v1::RULE_SCOPE_GLOBAL;
  } else {
    return Validation(
        "filter: a scope (siteIds, groupIds, accountIds or tenant) is "
        "required");
  }
  const std::string name = (*data)["name"].get<std::string>();
  if (NameTaken(ScopeName(scope), ScopeIdJson(scope, scope_id), name, "")) {
    return Validation(DuplicateDetail(name));
  }
  json rule = json::object();
  ApplyData(*data, rule);
  std::string id = InsertOnTop(scope, scope_id, std::move(rule));
  Record("create", id, nullptr, &rules_.front().object);
  return OkText(WithOrder(1, rules_.front().text));
}

Response SentinelOneEmulator::UpdateRule(const json& body,
                                         absl::string_view id) {
  if (body.is_discarded() || !body.is_object()) {
    return Validation("Request body must be a JSON object");
  }
  auto data = body.find("data");
  if (data == body.end() || !data->is_object()) {
    return Validation("data: Missing data for required field.");
  }
  int index = FindRule(id);
  if (index < 0) {
    return Error(404, kCodeNotFound, "Not Found", "Firewall rule not found");
  }
  json& stored = rules_[index].object;
  if (At(stored, "editable") == false) {
    return Error(403, kCodeInsufficientPermissions, "Insufficient permissions",
                 "The rule cannot be modified at this scope level");
  }
  // UNCERTAIN (spec §7.3): partial update or replacement. The emulator
  // replaces the fields sent and keeps the others; tqs1 always sends all.
  json merged = stored;
  ApplyData(*data, merged);
  if (std::string detail = ValidateData(merged, /*require_all=*/true);
      !detail.empty()) {
    return Validation(detail);
  }
  if (std::optional<Response> refused = RefuseIpv6(*data)) return *refused;
  if (NameTaken(Str(merged, "scope"), At(merged, "scopeId"),
                merged["name"].get<std::string>(), id)) {
    return Validation(DuplicateDetail(merged["name"].get<std::string>()));
  }
  std::swap(stored, merged);  // `merged` now holds the rule before
  rules_[index].Index();
  Record("update", id, &merged, &stored);
  return OkText(rules_[index].text);
}

Response SentinelOneEmulator::DeleteRules(const json& body) {
  if (body.is_discarded() || !body.is_object()) {
    return Validation("Request body must be a JSON object");
  }
  auto filter = body.find("filter");
  if (filter == body.end() || !filter->is_object()) {
    return Validation("filter: Missing data for required field.");
  }
  auto strings =
      [&](const char* key) -> std::optional<std::vector<std::string>> {
    std::vector<std::string> out;
    auto it = filter->find(key);
    if (it == filter->end() || it->is_null()) return out;
    if (!it->is_array()) return std::nullopt;
    for (const json& v : *it) {
      if (!v.is_string()) return std::nullopt;
      out.push_back(v.get<std::string>());
    }
    return out;
  };
  std::optional<std::vector<std::string>> ids = strings("ids");
  std::optional<std::vector<std::string>> site_ids = strings("siteIds");
  std::optional<std::vector<std::string>> account_ids = strings("accountIds");
  std::optional<std::vector<std::string>> group_ids = strings("groupIds");
  if (!ids || !site_ids || !account_ids || !group_ids) {
    return Validation(
        "filter: ids, siteIds, groupIds and accountIds must be arrays of "
        "id strings");
  }
  // UNCERTAIN (spec §3.5): an empty filter is refused rather than taken as
  // "everything".
  if (ids->empty() && site_ids->empty() && account_ids->empty() &&
      group_ids->empty()) {
    return Validation(
        "filter: at least one of ids, siteIds, groupIds, accountIds is "
        "required");
  }
  if (ids->size() > kMaxValuesPerRule) {
    return Validation("filter.ids: longer than maximum length 5000");
  }
  int affected = 0;
  for (size_t i = 0; i < rules_.size();) {
    const json& r = rules_[i].object;
    const std::string scope = Str(r, "scope");
    const std::string scope_id = Str(r, "scopeId");
    // A scope filter deletes only rules of that very scope, never the
    // inherited ones a site query shows.
    bool in_scope =
        (site_ids->empty() && account_ids->empty() && group_ids->empty()) ||
        (scope == "site" && Contains(*site_ids, scope_id)) ||
        (scope == "group" && Contains(*group_ids, scope_id)) ||
        (scope == "account" && Contains(*account_ids, scope_id));
    bool id_match = ids->empty() || Contains(*ids, Str(r, "id"));
    if (in_scope && id_match) {
      Record("delete", Str(r, "id"), &r, nullptr);
      rules_.erase(rules_.begin() + static_cast<std::ptrdiff_t>(i));
      ++affected;
    } else {
      ++i;
    }
  }
  return Ok({{"affected", affected}});
}

std::optional<Response> SentinelOneEmulator::RefuseIpv6(const json& data) {
  if (!modes_.refuse_ipv6) return std::nullopt;
  const std::string value = FirstIpv6Value(data);
  if (value.empty()) return std::nullopt;
  return Validation(absl::StrCat("data.remoteHosts.values: '", value,
                                 "' is not a valid IPv4 address, range or "
                                 "CIDR block"));
}

Response SentinelOneEmulator::FirewallConfiguration(const Request& request) {
  const std::vector<std::string> site_ids = CsvParam(request, "siteIds");
  // Without a scope the console answers for the tenant (Global).
  if (site_ids.empty()) return Ok(ConfigJson({}));
  if (site_ids.size() != 1) {
    return Validation("siteIds: exactly one site id expected");
  }
  auto site = sites_.find(site_ids[0]);
  if (site == sites_.end()) {
    return Validation(absl::StrCat("siteIds: no site with id ", site_ids[0]));
  }
  return Ok(ConfigJson(site->second.firewall));
}

Response SentinelOneEmulator::TokenDetails(const Request& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  json token = body.is_object() ? At(At(body, "data"), "apiToken") : nullptr;
  if (!token.is_string()) {
    return Validation("data.apiToken: Missing data for required field.");
  }
  // The token itself never appears in an answer.
  if (token.get<std::string>() != options_.api_token) {
    return Validation("data.apiToken: not a valid API token");
  }
  if (modes_.token_expires_in == absl::InfiniteDuration()) {
    return Ok({{"createdAt", Rfc3339(absl::Now() - absl::Hours(24 * 30))},
               {"expiresAt", nullptr}});
  }
  const absl::Time expires = absl::Now() + modes_.token_expires_in;
  return Ok({{"createdAt", Rfc3339(expires - absl::Hours(24 * 180))},
             {"expiresAt", Rfc3339(expires)}});
}

}  // namespace tqs1::sentinelone

#include "providers/sentinelone/wire.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "providers/http/http_status.h"

namespace tqs1::sentinelone {
namespace {

using ::nlohmann::json;
using ::tqs1::v1::Direction;
using ::tqs1::v1::HostSet;
using ::tqs1::v1::OsType;
using ::tqs1::v1::Rule;
using ::tqs1::v1::RuleAction;
using ::tqs1::v1::RuleScope;

// A short, printable excerpt of a body that is not what we expected, for
// error messages. Bodies are not copied whole: they may be huge.
std::string Excerpt(absl::string_view body) {
  constexpr size_t kMax = 40;
  absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(body);
  std::string out;
  for (char c : trimmed.substr(0, kMax)) {
    out.push_back(absl::ascii_isprint(static_cast<unsigned char>(c)) ? c : '?');
  }
  if (trimmed.size() > kMax) out += "...";
  return out;
}

bool LooksLikeHtml(absl::string_view body) {
  absl::string_view t = absl::StripLeadingAsciiWhitespace(body);
  return absl::StartsWithIgnoreCase(t, "<!doctype html") ||
         absl::StartsWithIgnoreCase(t, "<html") ||
         absl::StartsWithIgnoreCase(t, "<head") ||
         absl::StartsWithIgnoreCase(t, "<body");
}

absl::Status WrongType(absl::string_view endpoint, absl::string_view field,
                       absl::string_view want, const json& got) {
  return absl::DataLossError(absl::StrCat(endpoint, ": field \"", field,
                                          "\" should be ", want, ", got ",
                                          got.type_name()));
}

// The string at `key` of `object`: absent or null reads as "" when
// `required` is false.
absl::StatusOr<std::string> StringField(const json& object,
                                        absl::string_view key, bool required,
                                        absl::string_view endpoint,
                                        absl::string_view path) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) {
    if (required) {
      return absl::DataLossError(
          absl::StrCat(endpoint, ": missing field \"", path, "\""));
    }
    return std::string();
  }
  if (!it->is_string()) return WrongType(endpoint, path, "a string", *it);
  return it->get_ref<const std::string&>();
}

// An 18-digit id: a string, or defensively an integer (never a float, which
// would have lost digits).
absl::StatusOr<std::string> IdField(const json& object, absl::string_view key,
                                    absl::string_view endpoint,
                                    absl::string_view path) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) {
    return absl::DataLossError(
        absl::StrCat(endpoint, ": missing field \"", path, "\""));
  }
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty()) {
      return absl::DataLossError(
          absl::StrCat(endpoint, ": field \"", path, "\" is empty"));
    }
    return s;
  }
  if (it->is_number_unsigned()) return absl::StrCat(it->get<uint64_t>());
  if (it->is_number_integer()) return absl::StrCat(it->get<int64_t>());
  return WrongType(endpoint, path, "an id string", *it);
}

bool HasSlash(absl::string_view v) {
  return v.find('/') != absl::string_view::npos;
}

// name -> sorted values, for content comparison.
std::map<std::string, std::vector<std::string>> CanonicalHosts(
    const Rule& rule) {
  std::map<std::string, std::vector<std::string>> out;
  for (const HostSet& hs : rule.remote_hosts()) {
    if (hs.type() == "addresses" || hs.type() == "cidr") {
      for (const std::string& v : hs.values()) {
        out[HasSlash(v) ? "cidr" : "addresses"].push_back(v);
      }
    } else {
      auto& values = out[hs.type()];
      values.insert(values.end(), hs.values().begin(), hs.values().end());
    }
  }
  for (auto& [type, values] : out) std::sort(values.begin(), values.end());
  return out;
}

std::set<int> OsTypeSet(const Rule& rule) {
  return std::set<int>(rule.os_types().begin(), rule.os_types().end());
}

// Appends "title (code N): detail" for each vendor error of an envelope;
// false when `body` holds no usable envelope.
bool DescribeEnvelope(absl::string_view body, std::string* description,
                      bool* duplicate) {
  json parsed = json::parse(body.begin(), body.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return false;
  auto errors = parsed.find("errors");
  if (errors == parsed.end() || !errors->is_array() || errors->empty()) {
    return false;
  }
  std::vector<std::string> parts;
  for (const json& e : *errors) {
    if (!e.is_object()) continue;
    std::string title, detail, code;
    for (const char* key : {"title", "message"}) {
      auto it = e.find(key);
      if (it != e.end() && it->is_string() && title.empty()) {
        title = it->get<std::string>();
      }
    }
    auto d = e.find("detail");
    if (d != e.end() && d->is_string()) detail = d->get<std::string>();
    auto c = e.find("code");
    if (c != e.end() && c->is_number_integer()) {
      code = absl::StrCat(c->get<int64_t>());
    } else if (c != e.end() && c->is_string()) {
      code = c->get<std::string>();
    }
    std::string part = title.empty() ? "error" : title;
    if (!code.empty()) absl::StrAppend(&part, " (code ", code, ")");
    if (!detail.empty()) absl::StrAppend(&part, ": ", detail);
    if (absl::StrContains(absl::AsciiStrToLower(title + " " + detail),
                          kDuplicateNameMarker)) {
      *duplicate = true;
    }
    parts.push_back(std::move(part));
  }
  if (parts.empty()) return false;
  *description = absl::StrJoin(parts, "; ");
  return true;
}

}  // namespace

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<json> ParseJsonBody(absl::string_view body,
                                   absl::string_view endpoint) {
  if (absl::StripAsciiWhitespace(body).empty()) {
    return absl::DataLossError(
        absl::StrCat(endpoint, ": empty response body, expected JSON"));
  }
  if (LooksLikeHtml(body)) {
    return absl::DataLossError(absl::StrCat(
        endpoint,
        ": expected JSON, got an HTML page (a proxy or gateway error page?): "
        "\"",
        Excerpt(body), "\""));
  }
  json parsed = json::parse(body.begin(), body.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::DataLossError(
        absl::StrCat(endpoint, ": malformed JSON in response (", body.size(),
                     " bytes, starting \"", Excerpt(body), "\")"));
  }
  if (!parsed.is_object()) {
    return absl::DataLossError(absl::StrCat(
        endpoint, ": expected a JSON object, got ", parsed.type_name()));
  }
  return parsed;
}

absl::Status StatusFromHttpError(int http_status, absl::string_view body,
                                 absl::string_view endpoint) {
  std::string description;
  bool duplicate = false;
  if (!DescribeEnvelope(body, &description, &duplicate)) {
    description = body.empty()
                      ? "empty body"
                      : absl::StrCat(LooksLikeHtml(body) ? "HTML page"
                                                         : "non-envelope body",
                                     " \"", Excerpt(body), "\"");
  }
  std::string message =
      absl::StrCat(endpoint, ": HTTP ", http_status, ": ", description);
  if (http_status == 429) absl::StrAppend(&message, " (rate limited)");
  // The code is the HTTP table's. SentinelOne answers a duplicate name with
  // a 400 (kDuplicateNameMarker) where HTTP would say 409 Conflict: ask the
  // table about the status the answer means.
  const int meaning = http_status == 400 && duplicate ? 409 : http_status;
  absl::StatusCode code = http::HttpStatusCode(meaning);
  // Only error answers come here; a stray 2xx must not turn into OK.
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  return absl::Status(code, message);
}

absl::string_view ActionToWire(RuleAction action) {
  switch (action) {
    case v1::RULE_ACTION_BLOCK:
      return "Block";
    case v1::RULE_ACTION_ALLOW:
      return "Allow";
    default:
      return "";
  }
}

RuleAction ActionFromWire(absl::string_view text) {
  if (text == "Block") return v1::RULE_ACTION_BLOCK;
  if (text == "Allow") return v1::RULE_ACTION_ALLOW;
  return v1::RULE_ACTION_UNSPECIFIED;
}

absl::string_view DirectionToWire(Direction direction) {
  switch (direction) {
    case v1::DIRECTION_ANY:
      return "any";
    case v1::DIRECTION_INBOUND:
      return "inbound";
    case v1::DIRECTION_OUTBOUND:
      return "outbound";
    default:
      return "";
  }
}

Direction DirectionFromWire(absl::string_view text) {
  if (text == "any") return v1::DIRECTION_ANY;
  if (text == "inbound") return v1::DIRECTION_INBOUND;
  if (text == "outbound") return v1::DIRECTION_OUTBOUND;
  return v1::DIRECTION_UNSPECIFIED;
}

absl::string_view OsTypeToWire(OsType os_type) {
  switch (os_type) {
    case v1::OS_TYPE_WINDOWS:
      return "windows";
    case v1::OS_TYPE_WINDOWS_LEGACY:
      return "windows_legacy";
    case v1::OS_TYPE_MACOS:
      return "macos";
    case v1::OS_TYPE_LINUX:
      return "linux";
    default:
      return "";
  }
}

OsType OsTypeFromWire(absl::string_view text) {
  if (text == "windows") return v1::OS_TYPE_WINDOWS;
  if (text == "windows_legacy") return v1::OS_TYPE_WINDOWS_LEGACY;
  if (text == "macos") return v1::OS_TYPE_MACOS;
  if (text == "linux") return v1::OS_TYPE_LINUX;
  return v1::OS_TYPE_UNSPECIFIED;
}

RuleScope ScopeFromWire(absl::string_view text) {
  if (text == "site") return v1::RULE_SCOPE_SITE;
  if (text == "account") return v1::RULE_SCOPE_ACCOUNT;
  if (text == "global") return v1::RULE_SCOPE_GLOBAL;
  if (text == "group") return v1::RULE_SCOPE_GROUP;
  return v1::RULE_SCOPE_UNSPECIFIED;
}

json RuleToWireData(const Rule& rule) {
  json data = json::object();
  data["name"] = rule.name();
  data["description"] = rule.description();
  data["action"] = std::string(ActionToWire(rule.action()));
  data["status"] = rule.enabled() ? "Enabled" : "Disabled";
  absl::string_view direction = DirectionToWire(rule.direction());
  data["direction"] =
      direction.empty() ? json(nullptr) : json(std::string(direction));
  json os_types = json::array();
  for (int os : rule.os_types()) {
    absl::string_view text = OsTypeToWire(static_cast<OsType>(os));
    if (!text.empty()) os_types.push_back(std::string(text));
  }
  data["osTypes"] = std::move(os_types);

  json addresses = json::array();
  json cidrs = json::array();
  json others = json::array();
  for (const HostSet& hs : rule.remote_hosts()) {
    if (hs.type() == "addresses" || hs.type() == "cidr") {
      for (const std::string& v : hs.values()) {
        (HasSlash(v) ? cidrs : addresses).push_back(v);
      }
    } else if (hs.values_size() > 0 || hs.type() == "any") {
      others.push_back({{"type", hs.type()}, {"values", hs.values()}});
    }
  }
  json hosts = json::array();
  if (!addresses.empty()) {
    hosts.push_back({{"type", "addresses"}, {"values", std::move(addresses)}});
  }
  if (!cidrs.empty()) {
    hosts.push_back({{"type", "cidr"}, {"values", std::move(cidrs)}});
  }
  for (json& other : others) hosts.push_back(std::move(other));
  data["remoteHosts"] = std::move(hosts);
  return data;
}

absl::Status ValidateRuleForWrite(const Rule& rule) {
  if (rule.name().empty()) {
    return absl::InvalidArgumentError("rule name is empty");
  }
  if (rule.name().size() > kMaxRuleNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rule name \"", rule.name().substr(0, 40), "...\" is ",
        rule.name().size(), " characters; SentinelOne allows at most ",
        kMaxRuleNameLength));
  }
  if (rule.action() == v1::RULE_ACTION_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule \"", rule.name(), "\" has no action"));
  }
  size_t values = 0;
  for (const HostSet& hs : rule.remote_hosts()) values += hs.values_size();
  if (values > kMaxValuesPerRule) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule \"", rule.name(), "\" holds ", values,
                     " remote host values; SentinelOne allows at most ",
                     kMaxValuesPerRule, " per rule"));
  }
  return absl::OkStatus();
}

namespace {
absl::Status RuleBodyFromJson(const json& item, absl::string_view endpoint,
                              absl::string_view where, Rule& rule);
}  // namespace

absl::StatusOr<Rule> RuleFromJson(const json& item,
                                  absl::string_view endpoint) {
  if (!item.is_object()) {
    return absl::DataLossError(absl::StrCat(
        endpoint, ": a rule should be an object, got ", item.type_name()));
  }
  Rule rule;
  absl::StatusOr<std::string> id = IdField(item, "id", endpoint, "id");
  if (!id.ok()) return id.status();
  rule.set_id(*std::move(id));
  // Later messages name the rule: "rule[<id>].<field>".
  const std::string where = absl::StrCat("rule ", rule.id());

  auto string_field = [&](absl::string_view key,
                          bool required) -> absl::StatusOr<std::string> {
    return StringField(item, key, required, endpoint,
                       absl::StrCat(where, " ", key));
  };
  absl::StatusOr<std::string> name = string_field("name", true);
  if (!name.ok()) return name.status();
  rule.set_name(*std::move(name));
  // Past its id and name, a rule someone else made may be odd (the spec
  // allows null values; consoles send entries without a type; a newer
  // console may add an action, status, direction, scope or OS type): such a
  // rule is kept with what could be read, and says why it is unreadable
  // (the first problem); the planner decides whether that matters.
  std::string problem;
  auto note = [&problem](const absl::Status& s) {
    if (problem.empty()) problem = std::string(s.message());
  };
  auto unknown = [&](absl::string_view key, absl::string_view text) {
    note(absl::DataLossError(absl::StrCat(endpoint, ": field \"", where, " ",
                                          key, "\" has the unknown value \"",
                                          text, "\"")));
  };
  // The text of an optional string field, or nullopt (noted) when it is
  // not a string.
  auto text_of = [&](absl::string_view key) -> std::optional<std::string> {
    absl::StatusOr<std::string> text = string_field(key, false);
    if (!text.ok()) {
      note(text.status());
      return std::nullopt;
    }
    return *std::move(text);
  };
  if (std::optional<std::string> description = text_of("description")) {
    rule.set_description(*std::move(description));
  }
  if (std::optional<std::string> action = text_of("action")) {
    rule.set_action(ActionFromWire(*action));
    if (!action->empty() && rule.action() == v1::RULE_ACTION_UNSPECIFIED) {
      unknown("action", *action);
    }
  }
  if (std::optional<std::string> status = text_of("status")) {
    rule.set_enabled(*status == "Enabled");
    if (!status->empty() && *status != "Enabled" && *status != "Disabled") {
      unknown("status", *status);
    }
  }
  if (std::optional<std::string> direction = text_of("direction")) {
    rule.set_direction(DirectionFromWire(*direction));
    if (!direction->empty() && rule.direction() == v1::DIRECTION_UNSPECIFIED) {
      unknown("direction", *direction);
    }
  }
  if (std::optional<std::string> scope = text_of("scope")) {
    rule.set_scope(ScopeFromWire(absl::AsciiStrToLower(*scope)));
    if (!scope->empty() && rule.scope() == v1::RULE_SCOPE_UNSPECIFIED) {
      unknown("scope", *scope);
    }
  }
  // scopeId: null for global rules; defensively accept an integer.
  auto scope_id = item.find("scopeId");
  if (scope_id != item.end() && !scope_id->is_null()) {
    absl::StatusOr<std::string> sid =
        IdField(item, "scopeId", endpoint, absl::StrCat(where, " scopeId"));
    if (sid.ok()) {
      rule.set_scope_id(*std::move(sid));
    } else {
      note(sid.status());
    }
  }
  auto editable = item.find("editable");
  if (editable != item.end() && editable->is_boolean()) {
    rule.set_read_only(!editable->get<bool>());
  }
  if (absl::Status body = RuleBodyFromJson(item, endpoint, where, rule);
      !body.ok()) {
    note(body);
  }
  if (!problem.empty()) {
    rule.clear_os_types();
    rule.clear_remote_hosts();
    rule.set_unreadable(problem);
  }
  return rule;
}

namespace {

absl::Status RuleBodyFromJson(const json& item, absl::string_view endpoint,
                              absl::string_view where, Rule& rule) {
  auto os_types = item.find("osTypes");
  if (os_types != item.end() && !os_types->is_null()) {
    if (!os_types->is_array()) {
      return WrongType(endpoint, absl::StrCat(where, " osTypes"), "an array",
                       *os_types);
    }
    for (const json& os : *os_types) {
      if (!os.is_string()) {
        return WrongType(endpoint, absl::StrCat(where, " osTypes[]"),
                         "a string", os);
      }
      const std::string& text = os.get_ref<const std::string&>();
      const OsType os_type = OsTypeFromWire(text);
      if (os_type == v1::OS_TYPE_UNSPECIFIED) {
        return absl::DataLossError(
            absl::StrCat(endpoint, ": field \"", where,
                         " osTypes[]\" has the unknown value \"", text, "\""));
      }
      rule.add_os_types(os_type);
    }
  }

  auto hosts = item.find("remoteHosts");
  if (hosts != item.end() && !hosts->is_null()) {
    if (!hosts->is_array()) {
      return WrongType(endpoint, absl::StrCat(where, " remoteHosts"),
                       "an array", *hosts);
    }
    for (const json& entry : *hosts) {
      if (!entry.is_object()) {
        return WrongType(endpoint, absl::StrCat(where, " remoteHosts[]"),
                         "an object", entry);
      }
      HostSet* hs = rule.add_remote_hosts();
      absl::StatusOr<std::string> type =
          StringField(entry, "type", true, endpoint,
                      absl::StrCat(where, " remoteHosts[].type"));
      if (!type.ok()) return type.status();
      hs->set_type(*std::move(type));
      auto values = entry.find("values");
      if (values == entry.end() || values->is_null()) continue;
      if (!values->is_array()) {
        return WrongType(endpoint, absl::StrCat(where, " remoteHosts[].values"),
                         "an array", *values);
      }
      for (const json& v : *values) {
        if (!v.is_string()) {
          return WrongType(endpoint,
                           absl::StrCat(where, " remoteHosts[].values[]"),
                           "a string", v);
        }
        hs->add_values(v.get_ref<const std::string&>());
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Rule> RuleFromWriteAnswer(const json& data, v1::RuleScope kind,
                                         absl::string_view scope_id,
                                         absl::string_view endpoint) {
  ASSIGN_OR_RETURN(Rule rule, RuleFromJson(data, endpoint));
  auto scope = data.find("scope");
  const bool no_scope =
      scope == data.end() || scope->is_null() ||
      (scope->is_string() &&
       absl::StripAsciiWhitespace(scope->get_ref<const std::string&>())
           .empty());
  if (no_scope) rule.set_scope(kind);
  if (rule.scope() == kind && rule.scope_id().empty()) {
    rule.set_scope_id(std::string(scope_id));
  }
  return rule;
}

bool SameRuleContent(const Rule& a, const Rule& b) {
  return a.name() == b.name() && a.description() == b.description() &&
         a.action() == b.action() && a.enabled() == b.enabled() &&
         a.direction() == b.direction() && OsTypeSet(a) == OsTypeSet(b) &&
         CanonicalHosts(a) == CanonicalHosts(b);
}

absl::StatusOr<SiteSummary> SiteFromWire(const json& item,
                                         absl::string_view endpoint) {
  if (!item.is_object()) {
    return absl::DataLossError(absl::StrCat(
        endpoint, ": a site should be an object, got ", item.type_name()));
  }
  SiteSummary site;
  ASSIGN_OR_RETURN(site.id, IdField(item, "id", endpoint, "site id"));
  auto name = item.find("name");
  if (name == item.end() || !name->is_string()) {
    return absl::DataLossError(
        absl::StrCat(endpoint, ": site ", site.id, " without a name string"));
  }
  site.name = name->get<std::string>();
  if (item.contains("accountId") && !item["accountId"].is_null()) {
    ASSIGN_OR_RETURN(site.account_id,
                     IdField(item, "accountId", endpoint,
                             absl::StrCat("site ", site.id, " accountId")));
  }
  ASSIGN_OR_RETURN(
      site.account_name,
      StringField(item, "accountName", /*required=*/false, endpoint,
                  absl::StrCat("site ", site.id, " accountName")));
  ASSIGN_OR_RETURN(site.state,
                   StringField(item, "state", /*required=*/false, endpoint,
                               absl::StrCat("site ", site.id, " state")));
  return site;
}

namespace {

// "\"HQ\" (account \"Acme\", account id 1, site id 2)".
std::string DescribeSite(const SiteSummary& s) {
  std::string out = absl::StrCat("\"", s.name, "\" (");
  if (!s.account_name.empty() || !s.account_id.empty()) {
    absl::StrAppend(&out, "account \"", s.account_name, "\"");
    if (!s.account_id.empty()) {
      absl::StrAppend(&out, ", account id ", s.account_id);
    }
    absl::StrAppend(&out, ", ");
  }
  return absl::StrCat(out, "site id ", s.id, ")");
}

// Whether `name` looks like `wanted`: equal ignoring case, or one contains
// the other ignoring case.
bool IsNearName(absl::string_view wanted, absl::string_view name) {
  const std::string w = absl::AsciiStrToLower(wanted);
  const std::string n = absl::AsciiStrToLower(name);
  if (w.empty() || n.empty()) return false;
  return absl::StrContains(n, w) || absl::StrContains(w, n);
}

}  // namespace

std::string DescribeNamed(const std::map<std::string, std::string>& named) {
  if (named.empty()) return "none";
  std::vector<std::string> words;
  for (const auto& [id, name] : named) {
    words.push_back(absl::StrCat("\"", name, "\" (id ", id, ")"));
  }
  return absl::StrJoin(words, ", ");
}

absl::StatusOr<std::string> PickGroup(
    absl::string_view site_id, absl::string_view name,
    const std::map<std::string, std::string>& groups) {
  std::vector<std::string> named;
  for (const auto& [id, group_name] : groups) {
    if (id == name) return id;
    if (group_name == name) named.push_back(id);
  }
  if (named.size() > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "several groups of SentinelOne site ", site_id, " are named \"", name,
        "\" (ids ", absl::StrJoin(named, ", "), "): give the group by its id"));
  }
  if (named.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "SentinelOne site ", site_id, " has no group named or with the id \"",
        name, "\"; its groups are ", DescribeNamed(groups)));
  }
  return named.front();
}

absl::Status NoSuchSiteError(const SiteSelector& want,
                             const std::vector<SiteSummary>& active_sites) {
  constexpr size_t kMaxNear = 5;
  std::vector<std::string> near;
  size_t more = 0;
  std::set<std::string> ids;
  for (const SiteSummary& s : active_sites) {
    if (!IsNearName(want.name, s.name) || !ids.insert(s.id).second) continue;
    if (near.size() < kMaxNear) {
      near.push_back(DescribeSite(s));
    } else {
      ++more;
    }
  }
  std::string message = absl::StrCat("no active SentinelOne site");
  if (!want.account.empty()) {
    absl::StrAppend(&message, " in account \"", want.account, "\"");
  }
  absl::StrAppend(&message, " is named exactly \"", want.name, "\"");
  if (near.empty()) {
    absl::StrAppend(&message, " (no near matches among ", active_sites.size(),
                    " active sites)");
  } else {
    absl::StrAppend(&message, "; near matches: ", absl::StrJoin(near, ", "));
    if (more > 0) absl::StrAppend(&message, " and ", more, " more");
  }
  return absl::NotFoundError(message);
}

absl::StatusOr<std::string> PickSite(
    const SiteSelector& want, const std::vector<SiteSummary>& candidates) {
  auto describe = DescribeSite;
  if (!want.id.empty()) {
    for (const SiteSummary& s : candidates) {
      if (s.id != want.id) continue;
      if (!s.state.empty() && s.state != "active") {
        return absl::FailedPreconditionError(
            absl::StrCat("the SentinelOne site of site_id ", want.id, ", ",
                         describe(s), ", is ", s.state, ", not active"));
      }
      if (!want.name.empty() && s.name != want.name) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the SentinelOne site of site_id ", want.id, " is named \"", s.name,
            "\", not \"", want.name,
            "\" as the sync's site: says; correct site: or leave it out"));
      }
      return s.id;
    }
    return absl::NotFoundError(
        absl::StrCat("no SentinelOne site has the id ", want.id,
                     " (the sync's site_id:) that this API token can see"));
  }
  auto in_account = [&](const SiteSummary& s) {
    return want.account.empty() || s.account_id == want.account ||
           s.account_name == want.account;
  };
  std::vector<const SiteSummary*> exact;
  std::vector<const SiteSummary*> other_accounts;
  for (const SiteSummary& s : candidates) {
    if (s.name != want.name) continue;
    (in_account(s) ? exact : other_accounts).push_back(&s);
  }
  if (exact.size() == 1) return exact.front()->id;
  std::string where;
  if (!want.account.empty()) {
    where = absl::StrCat(" in account \"", want.account, "\"");
  }
  if (exact.empty()) return NoSuchSiteError(want, candidates);
  std::vector<std::string> listed;
  for (const SiteSummary* s : exact) listed.push_back(describe(*s));
  return absl::FailedPreconditionError(absl::StrCat(
      exact.size(), " active SentinelOne sites", where, " are named \"",
      want.name, "\": ", absl::StrJoin(listed, ", "),
      "; set site_id: (one of the site ids above) or account: (an account "
      "name or id) in the sync to say which"));
}

std::optional<bool> LenientBool(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    if (absl::EqualsIgnoreCase(text, "true")) return true;
    if (absl::EqualsIgnoreCase(text, "false")) return false;
  }
  return std::nullopt;
}

namespace {

std::string LenientId(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return absl::StrCat(it->get<uint64_t>());
  if (it->is_number_integer()) return absl::StrCat(it->get<int64_t>());
  return "";
}

// The configuration object of `data` meant for `site_id`, or null.
const json* ConfigurationFor(const json& data, absl::string_view site_id,
                             std::string* why_not) {
  if (data.is_object()) return &data;
  if (!data.is_array()) {
    *why_not = absl::StrCat("\"data\" is ", data.type_name(),
                            ", not a configuration object");
    return nullptr;
  }
  std::vector<const json*> objects;
  for (const json& item : data) {
    if (!item.is_object()) continue;
    if (LenientId(item, "scopeId") == site_id ||
        LenientId(item, "siteId") == site_id) {
      return &item;
    }
    objects.push_back(&item);
  }
  if (objects.size() == 1) return objects.front();
  *why_not = absl::StrCat("\"data\" lists ", objects.size(),
                          " configurations, none for site ", site_id);
  return nullptr;
}

}  // namespace

v1::FirewallConfiguration FirewallConfigurationFromWire(
    const json& answer, absl::string_view site_id,
    std::string* unknown_reason) {
  v1::FirewallConfiguration config;
  std::string why_not = "no \"data\"";
  const json* item = nullptr;
  if (answer.is_object()) {
    auto data = answer.find("data");
    if (data != answer.end()) item = ConfigurationFor(*data, site_id, &why_not);
  }
  if (item == nullptr) {
    *unknown_reason = why_not;
    return config;
  }
  std::optional<bool> enabled = LenientBool(*item, "enabled");
  if (!enabled.has_value()) {
    *unknown_reason = "the answer does not say whether it is enabled";
    return config;
  }
  config.set_known(true);
  config.set_enabled(*enabled);
  auto from = item->find("inheritedFrom");
  if (from != item->end() && from->is_string()) {
    config.set_inherited_from(
        std::string(absl::StripAsciiWhitespace(from->get<std::string>())));
  }
  if (config.inherited_from().empty() &&
      (LenientBool(*item, "inherits").value_or(false) ||
       LenientBool(*item, "inheritSettings").value_or(false))) {
    config.set_inherited_from("parent scope");
  }
  config.set_inherits_rules(
      LenientBool(*item, "inheritAllFirewallRules").value_or(false));
  return config;
}

std::string CursorFromWire(absl::string_view cursor) {
  auto is_hex = [](char c) {
    return absl::ascii_isxdigit(static_cast<unsigned char>(c));
  };
  if (!absl::StrContains(cursor, '%')) return std::string(cursor);
  for (size_t i = 0; i < cursor.size(); ++i) {
    if (cursor[i] == '%' && (i + 2 >= cursor.size() || !is_hex(cursor[i + 1]) ||
                             !is_hex(cursor[i + 2]))) {
      return std::string(cursor);
    }
  }
  std::string out;
  for (size_t i = 0; i < cursor.size(); ++i) {
    int value = 0;
    if (cursor[i] == '%' &&
        absl::SimpleHexAtoi(cursor.substr(i + 1, 2), &value)) {
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(cursor[i]);
    }
  }
  return out;
}

std::string UrlEncode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

}  // namespace tqs1::sentinelone

// SentinelOne's JSON wire shapes (spec/sentinelone-api.md §3) mapped to and
// from tqs1's protos, and the one mapping from an HTTP error answer to
// absl::Status. Pure functions: no I/O, never throw, never crash on input.
//
//   absl::StatusOr<nlohmann::json> body =
//       ParseJsonBody(response.body, "GET /firewall-control");
//   if (!body.ok()) return body.status();          // kDataLoss, says why
//   absl::StatusOr<Rule> rule = RuleFromJson(item, "GET /firewall-control");
//
//   nlohmann::json data = RuleToWireData(rule);    // for POST / PUT bodies
//
//   if (response.status != 200)
//     return StatusFromHttpError(response.status, response.body,
//                                "POST /firewall-control");
#ifndef TQS1_PROVIDERS_SENTINELONE_WIRE_H_
#define TQS1_PROVIDERS_SENTINELONE_WIRE_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "proto/state.pb.h"
#include "providers/sentinelone/firewall_rules.h"

namespace tqs1::sentinelone {

// SentinelOne's limits (spec §4).
inline constexpr size_t kMaxRuleNameLength = 200;
// UNCERTAIN (spec §7.2): the spec caps values per remoteHosts entry; we cap
// the whole rule, the stricter reading, on both client and emulator.
inline constexpr size_t kMaxValuesPerRule = 5000;
inline constexpr int kMaxPageSize = 1000;

// `object[key]` as a boolean, also when sent as "true"/"false" in any case;
// nullopt when `object` is no object, the key is missing or holds anything
// else. For answers read leniently.
std::optional<bool> LenientBool(const nlohmann::json& object, const char* key);

// Vendor error codes seen in public threads (spec §3.8).
inline constexpr int kCodeValidation = 4000010;
inline constexpr int kCodeUnauthenticated = 4010010;
inline constexpr int kCodeInsufficientPermissions = 4030010;
inline constexpr int kCodeNotFound = 4040010;
inline constexpr int kCodeInternal = 5000010;

// How a duplicate rule name is reported. UNCERTAIN (spec §7.1): the spec
// declares no 409; the likeliest answer is HTTP 400 with the standard
// validation envelope. We chose: HTTP 400, code 4000010 "Validation Error",
// and a detail containing "already exists". The emulator answers exactly so.
// StatusFromHttpError maps that (and, defensively, any 409) to
// kAlreadyExists; the client additionally re-reads the site after any 400 to
// a create, so a differently worded duplicate answer is still recognised.
inline constexpr absl::string_view kDuplicateNameMarker = "already exists";

// Parses `body` as a JSON object. kDataLoss naming `endpoint` when it is
// empty, not JSON (an HTML page from a proxy is called out as such), or not
// an object. Never throws.
absl::StatusOr<nlohmann::json> ParseJsonBody(absl::string_view body,
                                             absl::string_view endpoint);

// A non-2xx SentinelOne answer as absl::Status. The code is
// http::HttpStatusCode()'s (the one HTTP table: 400 kInvalidArgument, 401
// kUnauthenticated, 403 kPermissionDenied, 404/410 kNotFound, 409
// kAlreadyExists, 408/429/5xx kUnavailable, 501 kUnimplemented, ...), except
// that a 400 reporting a duplicate name is read as the 409 it means
// (kAlreadyExists). This layer adds the vendor's detail to the message,
// never a code of its own. The message names `endpoint` and the HTTP status
// and keeps every vendor error's code, title and detail (a 429 also says
// "(rate limited)"); a body that is not the error envelope (e.g. a proxy's
// HTML page) is summarised, not copied. Never OK, never throws.
absl::Status StatusFromHttpError(int http_status, absl::string_view body,
                                 absl::string_view endpoint);

// The `data` object of a create or update request for `rule`: name,
// description, action, status, direction, osTypes and remoteHosts. Address
// values of "addresses" and "cidr" entries are re-split into one
// "addresses" entry and one "cidr" entry (values containing '/'); entries of
// other types are kept as they are; empty entries are left out. Enum values
// that are UNSPECIFIED are sent as null (direction) or left out (osTypes).
nlohmann::json RuleToWireData(const tqs1::v1::Rule& rule);

// Checks `rule` against SentinelOne's limits before it is sent:
// kInvalidArgument when the name is empty or longer than 200 characters, the
// action is unspecified, or it holds more than 5000 values.
absl::Status ValidateRuleForWrite(const tqs1::v1::Rule& rule);

// Reads one rule object of a list, create or update answer. Required: "id"
// (string, or an integer kept as its decimal text) and "name" (string);
// without them, or when `item` is not an object, kDataLoss naming
// `endpoint` and the field. Optional (null or missing reads as
// empty/UNSPECIFIED): description, action, status, direction, osTypes,
// remoteHosts, scope (any letter case), scopeId, editable (false is
// read_only). Past the id and name nothing fails: a field of the wrong JSON
// type, an odd host entry, or a value SentinelOne does not document (an
// unknown action, status, direction, scope or OS type: a newer console may
// add values) makes the rule `unreadable` (the first problem, naming
// `endpoint`, the rule and the field), with its OS types and hosts cleared
// and everything else as read, never the whole list.
absl::StatusOr<tqs1::v1::Rule> RuleFromJson(const nlohmann::json& item,
                                            absl::string_view endpoint);

// The rule of a create or update answer's `data` for the scope written to
// (`kind` RULE_SCOPE_SITE or RULE_SCOPE_ACCOUNT, of id `scope_id`): as
// RuleFromJson, except that an answer without a scope (none, null or "")
// counts as that scope's, and a rule of that kind without a scopeId gets
// `scope_id`.
absl::StatusOr<tqs1::v1::Rule> RuleFromWriteAnswer(const nlohmann::json& data,
                                                   tqs1::v1::RuleScope kind,
                                                   absl::string_view scope_id,
                                                   absl::string_view endpoint);

// Whether `a` and `b` say the same thing on the wire: equal name,
// description, action, status, direction, set of OS types and set of values
// per host type (order ignored). Ids and scopes are not compared.
bool SameRuleContent(const tqs1::v1::Rule& a, const tqs1::v1::Rule& b);

// Enum <-> wire text. The *FromWire functions return UNSPECIFIED for text
// they do not know.
absl::string_view ActionToWire(tqs1::v1::RuleAction action);
tqs1::v1::RuleAction ActionFromWire(absl::string_view text);
absl::string_view DirectionToWire(tqs1::v1::Direction direction);
tqs1::v1::Direction DirectionFromWire(absl::string_view text);
absl::string_view OsTypeToWire(tqs1::v1::OsType os_type);
tqs1::v1::OsType OsTypeFromWire(absl::string_view text);
tqs1::v1::RuleScope ScopeFromWire(absl::string_view text);

// A site as a /sites answer lists it.
struct SiteSummary {
  std::string id;
  std::string name;
  std::string account_id;
  std::string account_name;
  // "active", "expired", "deleted"; empty when not said.
  std::string state;
};

// One item of a /sites answer: `id` a string or an integer, `name` a
// string, the account and state when present. kDataLoss otherwise.
absl::StatusOr<SiteSummary> SiteFromWire(const nlohmann::json& item,
                                         absl::string_view endpoint);

// Picks the one site `want` selects among `candidates` (what a name or id
// query returned, possibly case-insensitive name matches): the one of id
// `want.id` (active, and named `want.name` when that is given), or the one
// named exactly `want.name` (case-sensitive) of account `want.account` (an
// id or a name) when that is given. kNotFound when none matches,
// kFailedPrecondition when several do or the site of `want.id` does not
// fit; the messages list the candidates with their accounts and ids.
absl::StatusOr<std::string> PickSite(
    const SiteSelector& want, const std::vector<SiteSummary>& candidates);

// The site's Firewall Control configuration from the answer of
// GET /firewall-control/configuration?siteIds=`site_id`. `data` is one
// configuration object, or a list of them (the one whose scopeId or siteId
// is `site_id`, else the only one). Read leniently: `enabled` true or false
// (or "true"/"false"); `inheritedFrom` a scope name or null; a site that
// `inherits` (or `inheritSettings`) without naming a scope inherits from
// "parent scope"; `inheritAllFirewallRules`. When the answer does not say
// whether Firewall Control is enabled, the result is unknown (known false)
// and `unknown_reason` says why. Never fails.
tqs1::v1::FirewallConfiguration FirewallConfigurationFromWire(
    const nlohmann::json& answer, absl::string_view site_id,
    std::string* unknown_reason);

// kNotFound: no active site is named exactly `want.name` (in `want.account`
// when set). Lists near matches among `active_sites` (every active site the
// token sees): names equal ignoring case, or one containing the other
// ignoring case, each with its account and id, at most 5.
absl::Status NoSuchSiteError(const SiteSelector& want,
                             const std::vector<SiteSummary>& active_sites);

// Names by id (accounts, groups) in words: "\"Acme\" (id 1286...), \"Beta\"
// (id 1287...)", or "none".
std::string DescribeNamed(const std::map<std::string, std::string>& named);

// The id of the group `name` means among `groups` (names by id) of site
// `site_id`: the group of that id, or the only one named exactly so.
// kNotFound when none is (the message lists the groups), kFailedPrecondition
// when several are (it lists their ids and asks for one).
absl::StatusOr<std::string> PickGroup(
    absl::string_view site_id, absl::string_view name,
    const std::map<std::string, std::string>& groups);

// `value` percent-encoded for a URL query (RFC 3986 unreserved kept).
std::string UrlEncode(absl::string_view value);

// A pagination cursor as it is meant (cursors are opaque): one that came
// percent-encoded ("YXJy%3D%3D": every '%' starts a %XX escape) is decoded
// once, so that UrlEncode sends it as the console gave it; any other cursor
// is kept as it is ('+' included: base64 has it).
std::string CursorFromWire(absl::string_view cursor);

// Serialises `json` without ever throwing (invalid UTF-8 is replaced).
std::string DumpJson(const nlohmann::json& json);

}  // namespace tqs1::sentinelone

#endif  // TQS1_PROVIDERS_SENTINELONE_WIRE_H_

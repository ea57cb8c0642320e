#include "providers/sentinelone/wire.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/http/http_status.h"

namespace tqs1::sentinelone {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::tqs1::v1::Rule;

Rule SampleRule() {
  Rule rule;
  rule.set_name("Known C2 IPs (1)");
  rule.set_description("Blocked by ThreatQ [tqs1]");
  rule.set_action(v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  rule.set_direction(v1::DIRECTION_ANY);
  rule.add_os_types(v1::OS_TYPE_WINDOWS);
  rule.add_os_types(v1::OS_TYPE_MACOS);
  auto* hs = rule.add_remote_hosts();
  hs->set_type("addresses");
  hs->add_values("203.0.113.7");
  hs->add_values("192.0.2.0/24");
  hs->add_values("2001:db8::1");
  return rule;
}

TEST(StatusFromHttpErrorTest, MapsStatusAndVendorCodeWithMessage) {
  struct Case {
    int http_status;
    std::string body;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {400,
       R"({"errors":[{"code":4000010,"title":"Validation Error","detail":"Wrong query"}]})",
       absl::StatusCode::kInvalidArgument,
       "POST /firewall-control: HTTP 400: Validation Error (code 4000010): "
       "Wrong query"},
      {400,
       R"({"errors":[{"code":4000010,"title":"Validation Error","detail":"Firewall rule name \"x\" already exists in this scope"}]})",
       absl::StatusCode::kAlreadyExists,
       "POST /firewall-control: HTTP 400: Validation Error (code 4000010): "
       "Firewall rule name \"x\" already exists in this scope"},
      {401,
       R"({"errors":[{"code":4010010,"title":"Authentication Failed","detail":null}]})",
       absl::StatusCode::kUnauthenticated,
       "POST /firewall-control: HTTP 401: Authentication Failed (code "
       "4010010)"},
      {403,
       R"({"errors":[{"code":4030010,"title":"Insufficient permissions","detail":"User does not have required permissions"}]})",
       absl::StatusCode::kPermissionDenied,
       "POST /firewall-control: HTTP 403: Insufficient permissions (code "
       "4030010): User does not have required permissions"},
      {404,
       R"({"errors":[{"code":4040010,"title":"Not Found","detail":"Firewall rule not found"}]})",
       absl::StatusCode::kNotFound,
       "POST /firewall-control: HTTP 404: Not Found (code 4040010): Firewall "
       "rule not found"},
      {409, R"({"errors":[{"code":"E1","message":"Duplicate"}]})",
       absl::StatusCode::kAlreadyExists,
       "POST /firewall-control: HTTP 409: Duplicate (code E1)"},
      {429, "", absl::StatusCode::kUnavailable,
       "POST /firewall-control: HTTP 429: empty body (rate limited)"},
      {500,
       R"({"errors":[{"code":5000010,"title":"Internal server error","detail":null}]})",
       absl::StatusCode::kUnavailable,
       "POST /firewall-control: HTTP 500: Internal server error (code "
       "5000010)"},
      {502, "<html><body>Bad Gateway</body></html>",
       absl::StatusCode::kUnavailable,
       "POST /firewall-control: HTTP 502: HTML page \"<html><body>Bad "
       "Gateway</body></html>\""},
      {415, "not json", absl::StatusCode::kFailedPrecondition,
       "POST /firewall-control: HTTP 415: non-envelope body \"not json\""},
      {400,
       R"({"errors":[{"code":1,"title":"A"},{"code":2,"title":"B","detail":"d"}]})",
       absl::StatusCode::kInvalidArgument,
       "POST /firewall-control: HTTP 400: A (code 1); B (code 2): d"},
      {400, R"({"errors":"nope"})", absl::StatusCode::kInvalidArgument,
       "POST /firewall-control: HTTP 400: non-envelope body "
       "\"{\"errors\":\"nope\"}\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    absl::Status s =
        StatusFromHttpError(c.http_status, c.body, "POST /firewall-control");
    EXPECT_EQ(s.code(), c.code);
    EXPECT_EQ(s.message(), c.message);
  }
}

// The codes on which this layer used to keep a table of its own: they now
// are the HTTP table's (http_status.h says why).
TEST(StatusFromHttpErrorTest, CodesWhereTheTablesDisagreedAreTheHttpTables) {
  struct Case {
    int http_status;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {405, absl::StatusCode::kInvalidArgument},
      {408, absl::StatusCode::kUnavailable},
      {410, absl::StatusCode::kNotFound},
      {413, absl::StatusCode::kInvalidArgument},
      {422, absl::StatusCode::kInvalidArgument},
      {501, absl::StatusCode::kUnimplemented},
      {100, absl::StatusCode::kUnknown},
      {0, absl::StatusCode::kUnknown},
  };
  const std::string body =
      R"({"errors":[{"code":4000010,"title":"Validation Error","detail":"x"}]})";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.http_status);
    absl::Status s =
        StatusFromHttpError(c.http_status, body, "DELETE /firewall-control");
    EXPECT_EQ(s.code(), c.code);
    EXPECT_EQ(s.message(),
              absl::StrCat("DELETE /firewall-control: HTTP ", c.http_status,
                           ": Validation Error (code 4000010): x"));
  }
}

// Whatever the status, the code is the HTTP table's; only the vendor's
// duplicate-name 400 reads as the 409 it means.
TEST(StatusFromHttpErrorTest, NeverChoosesACodeOfItsOwn) {
  const std::string plain = R"({"errors":[{"title":"T","detail":"d"}]})";
  const std::string duplicate =
      R"({"errors":[{"title":"T","detail":"name already exists"}]})";
  for (int http_status = 100; http_status < 600; ++http_status) {
    if (http_status >= 200 && http_status < 300) continue;
    SCOPED_TRACE(http_status);
    EXPECT_EQ(StatusFromHttpError(http_status, plain, "GET /x").code(),
              http::HttpStatusCode(http_status));
    EXPECT_EQ(StatusFromHttpError(http_status, duplicate, "GET /x").code(),
              http::HttpStatusCode(http_status == 400 ? 409 : http_status));
  }
  EXPECT_FALSE(StatusFromHttpError(200, plain, "GET /x").ok());
}

TEST(ParseJsonBodyTest, RejectsWhatIsNotAJsonObject) {
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "GET /sites: empty response body, expected JSON"},
      {"<!DOCTYPE html><html><body>502</body></html>",
       "GET /sites: expected JSON, got an HTML page (a proxy or gateway error "
       "page?): \"<!DOCTYPE html><html><body>502</body></h...\""},
      {"{\"data\": [",
       "GET /sites: malformed JSON in response (10 bytes, "
       "starting \"{\"data\": [\")"},
      {"[1,2]", "GET /sites: expected a JSON object, got array"},
      {"\"x\"", "GET /sites: expected a JSON object, got string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    absl::StatusOr<json> parsed = ParseJsonBody(c.body, "GET /sites");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(parsed.status().message(), c.message);
  }
  absl::StatusOr<json> ok = ParseJsonBody(R"({"data":[]})", "GET /sites");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE((*ok)["data"].is_array());
}

TEST(RuleFromJsonTest, ReadsAFullRule) {
  json item = json::parse(R"({
    "id": "225494730938493804", "name": "ioc-block-0001",
    "description": "managed", "action": "Block", "status": "Enabled",
    "direction": "any", "osTypes": ["windows", "macos", "linux"],
    "remoteHosts": [{"type": "addresses", "values": ["203.0.113.7"]},
                    {"type": "cidr", "values": ["192.0.2.0/24"]}],
    "scope": "account", "scopeId": "1286405255240245908", "editable": false,
    "order": 3, "tags": []})");
  absl::StatusOr<Rule> rule = RuleFromJson(item, "GET /firewall-control");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->id(), "225494730938493804");
  EXPECT_EQ(rule->name(), "ioc-block-0001");
  EXPECT_EQ(rule->description(), "managed");
  EXPECT_EQ(rule->action(), v1::RULE_ACTION_BLOCK);
  EXPECT_TRUE(rule->enabled());
  EXPECT_EQ(rule->direction(), v1::DIRECTION_ANY);
  EXPECT_THAT(rule->os_types(),
              testing::ElementsAre(v1::OS_TYPE_WINDOWS, v1::OS_TYPE_MACOS,
                                   v1::OS_TYPE_LINUX));
  ASSERT_EQ(rule->remote_hosts_size(), 2);
  EXPECT_EQ(rule->remote_hosts(1).type(), "cidr");
  EXPECT_EQ(rule->remote_hosts(1).values(0), "192.0.2.0/24");
  EXPECT_EQ(rule->scope(), v1::RULE_SCOPE_ACCOUNT);
  EXPECT_EQ(rule->scope_id(), "1286405255240245908");
}

TEST(RuleFromJsonTest, NullsAndAbsentOptionalsReadAsEmpty) {
  json item = json::parse(
      R"({"id": 225494730938493804, "name": "legacy", "description": null,
          "direction": null, "osTypes": null, "remoteHosts": null,
          "scope": "global", "scopeId": null, "status": "Disabled"})");
  absl::StatusOr<Rule> rule = RuleFromJson(item, "GET /firewall-control");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->id(), "225494730938493804");  // integer kept exactly
  EXPECT_EQ(rule->description(), "");
  EXPECT_FALSE(rule->enabled());
  EXPECT_EQ(rule->action(), v1::RULE_ACTION_UNSPECIFIED);
  EXPECT_EQ(rule->scope(), v1::RULE_SCOPE_GLOBAL);
  EXPECT_EQ(rule->scope_id(), "");
  EXPECT_EQ(rule->remote_hosts_size(), 0);
}

TEST(RuleFromJsonTest, WrongTypesAndMissingFieldsAreDataLoss) {
  struct Case {
    std::string item;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"([1])", "E: a rule should be an object, got array"},
      {R"({"name": "a"})", "E: missing field \"id\""},
      {R"({"id": 1.5e17, "name": "a"})",
       "E: field \"id\" should be an id string, got number"},
      {R"({"id": "", "name": "a"})", "E: field \"id\" is empty"},
      {R"({"id": "1"})", "E: missing field \"rule 1 name\""},
      {R"({"id": "1", "name": 7})",
       "E: field \"rule 1 name\" should be a string, got number"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.item);
    absl::StatusOr<Rule> rule = RuleFromJson(json::parse(c.item), "E");
    ASSERT_FALSE(rule.ok());
    EXPECT_EQ(rule.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(rule.status().message(), c.message);
  }
}

// A rule someone else made may be odd past its id and name (the spec
// allows null values; consoles send host entries without a type): it is
// kept, with its name, description and scope, and says why it is
// unreadable, so that one odd rule never makes the whole site unreadable.
TEST(RuleFromJsonTest, OddRulesAreKeptAsUnreadable) {
  struct Case {
    std::string item;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"id": "1", "name": "a", "osTypes": "windows"})",
       "E: field \"rule 1 osTypes\" should be an array, got string"},
      {R"({"id": "1", "name": "a", "osTypes": [1]})",
       "E: field \"rule 1 osTypes[]\" should be a string, got number"},
      {R"({"id": "1", "name": "a", "remoteHosts": {"type": "cidr"}})",
       "E: field \"rule 1 remoteHosts\" should be an array, got object"},
      {R"({"id": "1", "name": "a", "remoteHosts": [{"values": []}]})",
       "E: missing field \"rule 1 remoteHosts[].type\""},
      {R"({"id": "1", "name": "a", "remoteHosts": [{"type": "cidr", "values": "x"}]})",
       "E: field \"rule 1 remoteHosts[].values\" should be an array, got "
       "string"},
      {R"({"id": "1", "name": "a", "remoteHosts": [{"type": "cidr", "values": [1]}]})",
       "E: field \"rule 1 remoteHosts[].values[]\" should be a string, got "
       "number"},
      {R"({"id": "1", "name": "a", "remoteHosts": [{}]})",
       "E: missing field \"rule 1 remoteHosts[].type\""},
      {R"({"id": "1", "name": "a", "remoteHosts": [{"type": "addresses", "values": ["192.0.2.1", null]}]})",
       "E: field \"rule 1 remoteHosts[].values[]\" should be a string, got "
       "null"},
      // Past the id and name, a wrong JSON type is the rule's problem only.
      {R"({"id": "1", "name": "a", "action": ["Block"]})",
       "E: field \"rule 1 action\" should be a string, got array"},
      {R"({"id": "1", "name": "a", "description": 7})",
       "E: field \"rule 1 description\" should be a string, got number"},
      {R"({"id": "1", "name": "a", "status": true})",
       "E: field \"rule 1 status\" should be a string, got boolean"},
      {R"({"id": "1", "name": "a", "scopeId": true})",
       "E: field \"rule 1 scopeId\" should be an id string, got boolean"},
      // Values SentinelOne does not document (a newer console's).
      {R"({"id": "1", "name": "a", "action": "Quarantine"})",
       "E: field \"rule 1 action\" has the unknown value \"Quarantine\""},
      {R"({"id": "1", "name": "a", "action": "block"})",
       "E: field \"rule 1 action\" has the unknown value \"block\""},
      {R"({"id": "1", "name": "a", "status": "Paused"})",
       "E: field \"rule 1 status\" has the unknown value \"Paused\""},
      {R"({"id": "1", "name": "a", "direction": "both"})",
       "E: field \"rule 1 direction\" has the unknown value \"both\""},
      {R"({"id": "1", "name": "a", "scope": "tenant"})",
       "E: field \"rule 1 scope\" has the unknown value \"tenant\""},
      {R"({"id": "1", "name": "a", "osTypes": ["windows", "beos"]})",
       "E: field \"rule 1 osTypes[]\" has the unknown value \"beos\""},
      // The first problem is the one reported.
      {R"({"id": "1", "name": "a", "action": "Log", "osTypes": ["beos"]})",
       "E: field \"rule 1 action\" has the unknown value \"Log\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.item);
    absl::StatusOr<Rule> rule = RuleFromJson(json::parse(c.item), "E");
    ASSERT_TRUE(rule.ok()) << rule.status();
    EXPECT_EQ(rule->id(), "1");
    EXPECT_EQ(rule->name(), "a");
    EXPECT_EQ(rule->unreadable(), c.message);
    EXPECT_EQ(rule->remote_hosts_size(), 0);
    EXPECT_EQ(rule->os_types_size(), 0);
  }
}

TEST(RuleFromJsonTest, AnUnreadableRuleKeepsEverythingElseItRead) {
  absl::StatusOr<Rule> rule = RuleFromJson(
      json::parse(R"({"id": "7", "name": "theirs", "description": "d",
                      "action": "Block", "status": "Enabled",
                      "direction": "sideways", "scope": "site",
                      "scopeId": "9", "editable": false,
                      "osTypes": ["linux"],
                      "remoteHosts": [{"type": "addresses",
                                       "values": ["192.0.2.1"]}]})"),
      "E");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->unreadable(),
            "E: field \"rule 7 direction\" has the unknown value \"sideways\"");
  EXPECT_EQ(rule->description(), "d");
  EXPECT_EQ(rule->action(), v1::RULE_ACTION_BLOCK);
  EXPECT_TRUE(rule->enabled());
  EXPECT_EQ(rule->scope(), v1::RULE_SCOPE_SITE);
  EXPECT_EQ(rule->scope_id(), "9");
  EXPECT_TRUE(rule->read_only());
  EXPECT_EQ(rule->os_types_size(), 0);
  EXPECT_EQ(rule->remote_hosts_size(), 0);
}

TEST(RuleFromWriteAnswerTest, AnAnswerWithoutScopeIsTheSitesWeWroteTo) {
  struct Case {
    std::string data;
    v1::RuleScope scope;
    std::string scope_id;
  };
  const std::vector<Case> cases = {
      {R"({"id": "5", "name": "a", "order": 1})", v1::RULE_SCOPE_SITE, "9"},
      {R"({"id": "5", "name": "a", "scope": null, "scopeId": null})",
       v1::RULE_SCOPE_SITE, "9"},
      {R"({"id": "5", "name": "a", "scope": "", "scopeId": ""})",
       v1::RULE_SCOPE_SITE, "9"},
      {R"({"id": "5", "name": "a", "scope": " "})", v1::RULE_SCOPE_SITE, "9"},
      {R"({"id": "5", "name": "a", "scope": "site"})", v1::RULE_SCOPE_SITE,
       "9"},
      // What the answer says stands.
      {R"({"id": "5", "name": "a", "scope": "site", "scopeId": "8"})",
       v1::RULE_SCOPE_SITE, "8"},
      {R"({"id": "5", "name": "a", "scope": "account", "scopeId": "3"})",
       v1::RULE_SCOPE_ACCOUNT, "3"},
      {R"({"id": "5", "name": "a", "scope": "tenant"})",
       v1::RULE_SCOPE_UNSPECIFIED, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.data);
    absl::StatusOr<Rule> rule =
        RuleFromWriteAnswer(json::parse(c.data), v1::RULE_SCOPE_SITE, "9",
                            "POST /firewall-control");
    ASSERT_TRUE(rule.ok()) << rule.status();
    EXPECT_EQ(rule->scope(), c.scope);
    EXPECT_EQ(rule->scope_id(), c.scope_id);
  }
  EXPECT_EQ(RuleFromWriteAnswer(json::parse(R"({"name": "a"})"),
                                v1::RULE_SCOPE_SITE, "9", "E")
                .status()
                .message(),
            "E: missing field \"id\"");
}

TEST(WireTest, AnAccountWriteAnswerWithoutAScopeIsTheAccounts) {
  absl::StatusOr<Rule> rule = RuleFromWriteAnswer(
      json::parse(R"({"id": "5", "name": "a"})"), v1::RULE_SCOPE_ACCOUNT, "77",
      "POST /firewall-control");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->scope(), v1::RULE_SCOPE_ACCOUNT);
  EXPECT_EQ(rule->scope_id(), "77");
}

TEST(RuleFromJsonTest, ScopeIgnoresCaseAndEditableFalseIsReadOnly) {
  absl::StatusOr<Rule> rule =
      RuleFromJson(json::parse(R"({"id": "1", "name": "a", "scope": "Site",
                      "scopeId": "9", "editable": false})"),
                   "E");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->scope(), tqs1::v1::RULE_SCOPE_SITE);
  EXPECT_TRUE(rule->read_only());
  EXPECT_TRUE(rule->unreadable().empty());
}

TEST(RuleToWireDataTest, SplitsAddressesAndCidrs) {
  json data = RuleToWireData(SampleRule());
  EXPECT_EQ(data, json::parse(R"json({
    "name": "Known C2 IPs (1)", "description": "Blocked by ThreatQ [tqs1]",
    "action": "Block", "status": "Enabled", "direction": "any",
    "osTypes": ["windows", "macos"],
    "remoteHosts": [{"type": "addresses", "values": ["203.0.113.7", "2001:db8::1"]},
                    {"type": "cidr", "values": ["192.0.2.0/24"]}]})json"));
}

TEST(RuleToWireDataTest, LeavesOutEmptyEntriesAndKeepsOtherTypes) {
  Rule rule;
  rule.set_name("n");
  rule.set_action(v1::RULE_ACTION_ALLOW);
  rule.add_remote_hosts()->set_type("cidr");  // empty: left out
  auto* fqdn = rule.add_remote_hosts();
  fqdn->set_type("fqdn");
  fqdn->add_values("evil.example");
  json data = RuleToWireData(rule);
  EXPECT_EQ(data["status"], "Disabled");
  EXPECT_TRUE(data["direction"].is_null());
  EXPECT_EQ(data["osTypes"], json::array());
  EXPECT_EQ(data["remoteHosts"],
            json::parse(R"([{"type":"fqdn","values":["evil.example"]}])"));
}

TEST(RuleToWireDataTest, RoundTripsThroughRuleFromJson) {
  json item = RuleToWireData(SampleRule());
  item["id"] = "100000000000000001";
  absl::StatusOr<Rule> back = RuleFromJson(item, "E");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(SameRuleContent(*back, SampleRule()));
}

TEST(SameRuleContentTest, IgnoresOrderButNotValues) {
  Rule a = SampleRule();
  Rule b = SampleRule();
  b.set_id("1");
  b.set_scope(v1::RULE_SCOPE_SITE);
  b.mutable_remote_hosts(0)->mutable_values()->SwapElements(0, 2);
  EXPECT_TRUE(SameRuleContent(a, b));
  struct Case {
    std::string what;
    void (*mutate)(Rule*);
  };
  const std::vector<Case> cases = {
      {"name", [](Rule* r) { r->set_name("other"); }},
      {"description", [](Rule* r) { r->set_description("other"); }},
      {"action", [](Rule* r) { r->set_action(v1::RULE_ACTION_ALLOW); }},
      {"status", [](Rule* r) { r->set_enabled(false); }},
      {"direction", [](Rule* r) { r->set_direction(v1::DIRECTION_INBOUND); }},
      {"os", [](Rule* r) { r->add_os_types(v1::OS_TYPE_LINUX); }},
      {"value", [](Rule* r) { r->mutable_remote_hosts(0)->add_values("x"); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Rule changed = SampleRule();
    c.mutate(&changed);
    EXPECT_FALSE(SameRuleContent(a, changed));
  }
}

TEST(ValidateRuleForWriteTest, EnforcesSentinelOneLimits) {
  EXPECT_TRUE(ValidateRuleForWrite(SampleRule()).ok());
  Rule rule = SampleRule();
  rule.set_name(std::string(200, 'n'));
  EXPECT_TRUE(ValidateRuleForWrite(rule).ok());
  rule.set_name(std::string(201, 'n'));
  EXPECT_EQ(ValidateRuleForWrite(rule).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ValidateRuleForWrite(rule).message(),
              HasSubstr("is 201 characters; SentinelOne allows at most 200"));
  rule = SampleRule();
  rule.clear_name();
  EXPECT_EQ(ValidateRuleForWrite(rule).message(), "rule name is empty");
  rule = SampleRule();
  rule.set_action(v1::RULE_ACTION_UNSPECIFIED);
  EXPECT_EQ(ValidateRuleForWrite(rule).message(),
            "rule \"Known C2 IPs (1)\" has no action");
  rule = SampleRule();
  auto* cidr = rule.add_remote_hosts();
  cidr->set_type("cidr");
  for (int i = 0; i < 4997; ++i) cidr->add_values("10.0.0.0/24");
  EXPECT_TRUE(ValidateRuleForWrite(rule).ok());  // 3 + 4997 = 5000
  cidr->add_values("10.0.1.0/24");
  EXPECT_EQ(ValidateRuleForWrite(rule).message(),
            "rule \"Known C2 IPs (1)\" holds 5001 remote host values; "
            "SentinelOne allows at most 5000 per rule");
}

TEST(UrlEncodeTest, EncodesReservedCharacters) {
  EXPECT_EQ(UrlEncode("HQ site/1&x=ü"), "HQ%20site%2F1%26x%3D%C3%BC");
  EXPECT_EQ(UrlEncode("a-b_c.d~"), "a-b_c.d~");
}

TEST(CursorFromWireTest, DecodesAPercentEncodedCursorExactlyOnce) {
  struct Case {
    std::string sent, meant;
  };
  const std::vector<Case> cases = {
      {"YXJy%3D%3D", "YXJy=="},
      {"YWJj%2B%2F%3d", "YWJj+/="},  // lower-case hex too
      // Decoded once only: what the console encoded twice stays encoded once.
      {"YXJy%253D", "YXJy%3D"},
      // Plain base64 is kept as it is: '+' is not a space.
      {"YWdlbnRfaWQ6NTgwMjkzODE=", "YWdlbnRfaWQ6NTgwMjkzODE="},
      {"a+b/c=", "a+b/c="},
      // Not an encoding: a '%' that starts no %XX escape keeps it all.
      {"100%", "100%"},
      {"a%2Bb%zz", "a%2Bb%zz"},
      {"%4", "%4"},
      {"", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sent);
    EXPECT_EQ(CursorFromWire(c.sent), c.meant);
  }
  // Sent back: encoded once, as the console gave it.
  EXPECT_EQ(UrlEncode(CursorFromWire("YXJy%3D%3D")), "YXJy%3D%3D");
  EXPECT_EQ(UrlEncode(CursorFromWire("a+b/c=")), "a%2Bb%2Fc%3D");
}

TEST(NoSuchSiteErrorTest, SuggestsNearMatchesAmongActiveSites) {
  const std::vector<SiteSummary> sites = {
      {"1", "HQ", "10", "Acme", "active"},
      {"2", "hq-east", "10", "Acme", "active"},
      {"3", "Branch", "20", "Beta", "active"},
      {"4", "Default site", "", "", "active"},
  };
  struct Case {
    SiteSelector want;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"Hq"},
       "no active SentinelOne site is named exactly \"Hq\"; near matches: "
       "\"HQ\" (account \"Acme\", account id 10, site id 1), \"hq-east\" "
       "(account \"Acme\", account id 10, site id 2)"},
      {{"HQ-East-2"},
       "no active SentinelOne site is named exactly \"HQ-East-2\"; near "
       "matches: \"HQ\" (account \"Acme\", account id 10, site id 1), "
       "\"hq-east\" (account \"Acme\", account id 10, site id 2)"},
      {{"DEFAULT"},
       "no active SentinelOne site is named exactly \"DEFAULT\"; near "
       "matches: \"Default site\" (site id 4)"},
      {{"Branch", "", "10"},
       "no active SentinelOne site in account \"10\" is named exactly "
       "\"Branch\"; near matches: \"Branch\" (account \"Beta\", account id "
       "20, site id 3)"},
      {{"Lab"},
       "no active SentinelOne site is named exactly \"Lab\" (no near matches "
       "among 4 active sites)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want.name);
    absl::Status s = NoSuchSiteError(c.want, sites);
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(s.message(), c.message);
  }
  std::vector<SiteSummary> many;
  for (int i = 0; i < 8; ++i) {
    many.push_back({absl::StrCat(i), absl::StrCat("Lab ", i), "", "", ""});
  }
  EXPECT_THAT(NoSuchSiteError({"lab"}, many).message(),
              HasSubstr("\"Lab 4\" (site id 4) and 3 more"));
}

TEST(DumpJsonTest, NeverThrowsOnInvalidUtf8) {
  json j = {{"name", std::string("bad\xff")}};
  EXPECT_THAT(DumpJson(j), Not(HasSubstr("\xff")));
}

}  // namespace
}  // namespace tqs1::sentinelone

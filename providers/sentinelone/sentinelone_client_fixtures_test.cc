// SentinelOneClient over the fake transport against answers shaped like a
// real console's (fidelity-audit.md §4, SentinelOne): the read-only calls of
// tqs1 check (sites with every extra field, console version, token details,
// the token's user), the site's Firewall Control configuration, cursors
// that arrive percent-encoded, near matches for a missing site, heavy rule
// pages and the body cap, create and update answers (without scope,
// normalized), error envelopes in several wordings, 429 and gateway HTML
// pages, SSO login pages and redirects.
// The fixtures are written from the described shapes, not the emulator's.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/capturing_logger.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "providers/http/fake_transport.h"
#include "providers/sentinelone/sentinelone_client.h"

namespace tqs1::sentinelone {
namespace {

using ::nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::tqs1::http::HttpRequest;
using ::tqs1::http::HttpResponse;

constexpr char kToken[] = "tok-5e1f-fixture-never-print-me";
constexpr char kBase[] = "http://127.0.0.1:9";

HttpResponse Answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

constexpr char kGatewayPage[] =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>"
    "\r\n</body>\r\n</html>\r\n";
constexpr char kSsoPage[] =
    "<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
    "<form action=\"/sso/saml\"></form></body></html>";

class FixturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SentinelOneClientOptions options;
    options.base_url = kBase;
    options.api_token = kToken;
    options.logger = &logger_;
    absl::StatusOr<std::unique_ptr<SentinelOneClient>> client =
        SentinelOneClient::Create(options, &transport_);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  void TearDown() override {
    for (const absl::Status& s : statuses_) {
      EXPECT_FALSE(absl::StrContains(s.ToString(), kToken)) << s;
    }
    EXPECT_FALSE(logger_.Contains(kToken));
  }
  void Expect(const absl::Status& s, absl::StatusCode code,
              const std::string& part) {
    statuses_.push_back(s);
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(part));
  }

  http::FakeTransport transport_{nullptr, {.allow_plain_http = true}};
  log::CapturingLogger logger_;
  std::unique_ptr<SentinelOneClient> client_;
  std::vector<absl::Status> statuses_;
};

// Audit §4.1: a realistic /sites answer, every extra field, over two pages.
TEST_F(FixturesTest, ListSitesReadsEveryFieldOfARealSiteList) {
  json first = {
      {"data",
       {{"allSites", {{"activeLicenses", 764}, {"totalLicenses", 800}}},
        {"sites",
         {{{"id", "1758952600032266153"},
           {"name", "Default site"},
           {"accountId", "1286405255240245908"},
           {"accountName", "Acme"},
           {"state", "active"},
           {"siteType", "Paid"},
           {"sku", "Control"},
           {"suite", "Control"},
           {"isDefault", true},
           {"expiration", nullptr},
           {"unlimitedExpiration", true},
           {"unlimitedLicenses", false},
           {"activeLicenses", 12},
           {"totalLicenses", 40},
           {"registrationToken", "eyJ1cmwiOiAi..."},
           {"creator", "Jane Admin"},
           {"creatorId", "1000000000000000009"},
           {"createdAt", "2023-05-01T10:00:00.000000Z"},
           {"licenses",
            {{"bundles",
              {{{"name", "control"},
                {"displayName", "Control"},
                {"majorVersion", 1},
                {"surfaces", {{{"name", "Total Agents"}, {"count", 40}}}}}}},
             {"modules", json::array()},
             {"settings", json::array()}}}}}}}},
      {"errors", nullptr},
      {"pagination", {{"nextCursor", "c2l0ZXM6Mg=="}, {"totalItems", 2}}}};
  json second = {
      {"data",
       {{"allSites", {{"activeLicenses", 764}, {"totalLicenses", 800}}},
        {"sites",
         {{{"id", 1758952600032266999},  // a bare integer id
           {"name", "Default site"},
           {"accountId", "2000000000000000001"},
           {"accountName", "Beta"},
           {"state", "expired"},
           {"sku", "Complete"},
           {"isDefault", false}}}}}},
      {"pagination", {{"nextCursor", nullptr}, {"totalItems", 2}}}};
  transport_.Enqueue(Answer(200, first.dump()));
  transport_.Enqueue(Answer(200, second.dump()));

  absl::StatusOr<std::vector<SiteListing>> sites = client_->ListSites();
  ASSERT_TRUE(sites.ok()) << sites.status();
  ASSERT_EQ(sites->size(), 2u);
  const SiteListing& a = (*sites)[0];
  EXPECT_EQ(a.id, "1758952600032266153");
  EXPECT_EQ(a.name, "Default site");
  EXPECT_EQ(a.account_id, "1286405255240245908");
  EXPECT_EQ(a.account_name, "Acme");
  EXPECT_EQ(a.state, "active");
  EXPECT_EQ(a.is_default, std::optional<bool>(true));
  EXPECT_EQ(a.sku, "Control");
  EXPECT_EQ(a.suite, "Control");
  EXPECT_EQ(a.site_type, "Paid");
  EXPECT_THAT(a.license_bundles, ElementsAre("control"));
  const SiteListing& b = (*sites)[1];
  EXPECT_EQ(b.id, "1758952600032266999");
  EXPECT_EQ(b.state, "expired");
  EXPECT_EQ(b.is_default, std::optional<bool>(false));
  EXPECT_EQ(b.sku, "Complete");
  EXPECT_TRUE(b.license_bundles.empty());

  // Every state (no name or state filter), paged by cursor.
  std::vector<HttpRequest> sent = transport_.Requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[0].url, absl::StrCat(kBase, "/web/api/v2.1/sites?limit=1000"));
  EXPECT_EQ(sent[1].url, absl::StrCat(kBase,
                                      "/web/api/v2.1/sites?limit=1000&cursor="
                                      "c2l0ZXM6Mg%3D%3D"));
}

// Audit §4.3: odd site lists never fail the listing; what is missing is
// empty.
TEST_F(FixturesTest, ListSitesIsLenientAboutOddSites) {
  transport_.Enqueue(Answer(200,
                            R"({"data":{"sites":[
           {"id":"1","name":"Bare"},
           {"id":null,"name":7,"accountId":3,"state":null,
            "isDefault":"TRUE","sku":null,"licenses":{"bundles":[{},"x"]}},
           "not a site", null,
           {"isDefault":{"odd":1},"licenses":[]}
         ]},"pagination":{"nextCursor":null,"totalItems":3}})"));
  absl::StatusOr<std::vector<SiteListing>> sites = client_->ListSites();
  ASSERT_TRUE(sites.ok()) << sites.status();
  ASSERT_EQ(sites->size(), 3u);
  EXPECT_EQ((*sites)[0].name, "Bare");
  EXPECT_EQ((*sites)[0].is_default, std::nullopt);
  EXPECT_EQ((*sites)[0].state, "");
  EXPECT_EQ((*sites)[1].id, "");
  EXPECT_EQ((*sites)[1].name, "7");
  EXPECT_EQ((*sites)[1].account_id, "3");
  EXPECT_EQ((*sites)[1].is_default, std::optional<bool>(true));
  EXPECT_TRUE((*sites)[1].license_bundles.empty());
  EXPECT_EQ((*sites)[2].is_default, std::nullopt);

  transport_.Enqueue(Answer(
      200,
      R"({"data":{"allSites":{},"sites":[]},"pagination":{"totalItems":0}})"));
  sites = client_->ListSites();
  ASSERT_TRUE(sites.ok()) << sites.status();
  EXPECT_TRUE(sites->empty());
}

TEST_F(FixturesTest, ListSitesNamesTheEndpointWhenTheAnswerIsNotASiteList) {
  transport_.Enqueue(Answer(200, kSsoPage));
  Expect(client_->ListSites().status(), absl::StatusCode::kDataLoss,
         "SentinelOne GET /sites: expected JSON, got an HTML page");
  transport_.Enqueue(Answer(502, kGatewayPage));
  Expect(client_->ListSites().status(), absl::StatusCode::kUnavailable,
         "SentinelOne GET /sites: HTTP 502: HTML page");
  transport_.Enqueue(Answer(200, R"({"data":[],"pagination":{}})"));
  Expect(client_->ListSites().status(), absl::StatusCode::kDataLoss,
         "SentinelOne GET /sites: field \"data\" should be an object");
  // Without pagination the list may not be complete: never guess.
  transport_.Enqueue(Answer(200, R"({"data":{"sites":[]}})"));
  Expect(client_->ListSites().status(), absl::StatusCode::kDataLoss,
         "missing field \"pagination\"");
}

TEST_F(FixturesTest, SystemInfoReadsTheVersionAsFound) {
  struct Case {
    std::string name, body;
    ConsoleInfo want;
  };
  const std::vector<Case> cases = {
      {"full",
       R"({"data":{"version":"23.4.2.14","build":"102","release":"23.4 SP2",
                   "patch":"3","latestAgentVersion":"23.4.4.223"}})",
       {"23.4.2.14", "102", "23.4 SP2", "3"}},
      {"numbers as numbers",
       R"({"data":{"version":23.4,"build":102,"patch":3}})",
       {"23.4", "102", "", "3"}},
      {"version only",
       R"({"data":{"version":"Z-SP1"}})",
       {"Z-SP1", "", "", ""}},
      {"no data envelope",
       R"({"version":"22.1.1","build":"7"})",
       {"22.1.1", "7", "", ""}},
      {"odd types",
       R"({"data":{"version":null,"build":{},"release":[]}})",
       {"", "", "", ""}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    transport_.Enqueue(Answer(200, c.body));
    absl::StatusOr<ConsoleInfo> info = client_->SystemInfo();
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->version, c.want.version);
    EXPECT_EQ(info->build, c.want.build);
    EXPECT_EQ(info->release, c.want.release);
    EXPECT_EQ(info->patch, c.want.patch);
    EXPECT_EQ(transport_.Requests().back().method, "GET");
    EXPECT_EQ(transport_.Requests().back().url,
              absl::StrCat(kBase, "/web/api/v2.1/system/info"));
  }
  transport_.Enqueue(Answer(200, kSsoPage));
  Expect(client_->SystemInfo().status(), absl::StatusCode::kDataLoss,
         "SentinelOne GET /system/info: expected JSON, got an HTML page");
  transport_.Enqueue(Answer(200, "[1,2]"));
  Expect(client_->SystemInfo().status(), absl::StatusCode::kDataLoss,
         "SentinelOne GET /system/info: expected a JSON object");
  transport_.Enqueue(Answer(502, kGatewayPage));
  Expect(client_->SystemInfo().status(), absl::StatusCode::kUnavailable,
         "SentinelOne GET /system/info: HTTP 502");
  transport_.Enqueue(Answer(
      404,
      R"({"errors":[{"code":4040010,"title":"Not Found","detail":null}]})"));
  Expect(client_->SystemInfo().status(), absl::StatusCode::kNotFound,
         "SentinelOne GET /system/info: HTTP 404: Not Found (code 4040010)");
}

// Audit §4.14: token details, expiring soon, expired, never, odd.
TEST_F(FixturesTest, TokenDetailsReturnsTheParsedTimestamps) {
  struct Case {
    std::string name, body;
    std::string created_text, expires_text;
    std::optional<absl::Time> created, expires;
  };
  const absl::Time created = absl::FromUnixSeconds(1780000000);  // 2026-05
  const absl::Time expires = absl::FromUnixSeconds(1796000000);  // 2026-11
  const std::vector<Case> cases = {
      {"expiring",
       R"({"data":{"createdAt":"2026-05-28T20:26:40Z",
                   "expiresAt":"2026-11-30T00:53:20Z"}})",
       "2026-05-28T20:26:40Z", "2026-11-30T00:53:20Z", created, expires},
      {"fractional seconds and an offset",
       R"({"data":{"createdAt":"2026-05-28T20:26:40.250000Z",
                   "expiresAt":"2026-11-30T02:53:20+02:00"}})",
       "2026-05-28T20:26:40.250000Z", "2026-11-30T02:53:20+02:00",
       created + absl::Milliseconds(250), expires},
      {"no zone (read as UTC)",
       R"({"data":{"createdAt":"2026-05-28T20:26:40.000",
                   "expiresAt":"2026-11-30 00:53:20"}})",
       "2026-05-28T20:26:40.000", "2026-11-30 00:53:20", created, expires},
      {"never expires",
       R"({"data":{"createdAt":"2026-05-28T20:26:40Z","expiresAt":null}})",
       "2026-05-28T20:26:40Z", "", created, std::nullopt},
      {"odd", R"({"data":{"createdAt":1780000000,"expiresAt":"soon"}})",
       "1780000000", "soon", std::nullopt, std::nullopt},
      {"empty", R"({"data":{}})", "", "", std::nullopt, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    transport_.Enqueue(Answer(200, c.body));
    absl::StatusOr<ApiTokenDetails> details = client_->TokenDetails();
    ASSERT_TRUE(details.ok()) << details.status();
    EXPECT_EQ(details->created_at_text, c.created_text);
    EXPECT_EQ(details->expires_at_text, c.expires_text);
    EXPECT_EQ(details->created_at, c.created);
    EXPECT_EQ(details->expires_at, c.expires);
  }
  // POST with the token in the body, as the spec has it.
  const HttpRequest sent = transport_.Requests().back();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url,
            absl::StrCat(kBase, "/web/api/v2.1/users/api-token-details"));
  EXPECT_EQ(json::parse(sent.body), json({{"data", {{"apiToken", kToken}}}}));
}

TEST_F(FixturesTest, TokenDetailsErrorsNameTheEndpointAndNeverTheToken) {
  // A console that quotes the token back in its refusal.
  transport_.Enqueue(Answer(
      400,
      json{{"errors",
            {{{"code", 4000010},
              {"title", "Validation Error"},
              {"detail", absl::StrCat("not a valid API token: ", kToken)}}}}}
          .dump()));
  Expect(client_->TokenDetails().status(), absl::StatusCode::kInvalidArgument,
         "SentinelOne POST /users/api-token-details: HTTP 400: Validation "
         "Error (code 4000010): not a valid API token: ");
  transport_.Enqueue(Answer(200, kSsoPage));
  Expect(client_->TokenDetails().status(), absl::StatusCode::kDataLoss,
         "SentinelOne POST /users/api-token-details: expected JSON, got an "
         "HTML page");
  transport_.Enqueue(Answer(
      401, R"({"errors":[{"code":4010010,"title":"Authentication Failed"}]})"));
  Expect(client_->TokenDetails().status(), absl::StatusCode::kUnauthenticated,
         "HTTP 401: Authentication Failed (code 4010010)");
}

TEST_F(FixturesTest, CurrentUserReadsTheTokensUserAndScope) {
  transport_.Enqueue(
      Answer(200,
             R"({"data":{"id":"1000000000000000001","email":"svc@example.com",
                  "fullName":"Sync service","scope":"account",
                  "lowestRole":"Admin","twoFaEnabled":false,
                  "scopeRoles":[{"id":"1","name":"Acme","roleName":"Admin",
                                 "accountName":"Acme"}],
                  "siteRoles":[],"dateJoined":"2024-01-01T00:00:00Z"}})"));
  absl::StatusOr<ConsoleUser> user = client_->CurrentUser();
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->id, "1000000000000000001");
  EXPECT_EQ(user->email, "svc@example.com");
  EXPECT_EQ(user->full_name, "Sync service");
  EXPECT_EQ(user->scope, "account");
  EXPECT_EQ(user->lowest_role, "Admin");
  EXPECT_EQ(transport_.Requests().back().url,
            absl::StrCat(kBase, "/web/api/v2.1/user"));

  transport_.Enqueue(Answer(200, R"({"data":{"id":12,"scope":null}})"));
  user = client_->CurrentUser();
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->id, "12");
  EXPECT_EQ(user->scope, "");
  EXPECT_EQ(user->email, "");

  transport_.Enqueue(
      Answer(403,
             R"({"errors":[{"code":4030010,"title":"Insufficient permissions",
                     "detail":"User does not have required permissions"}]})"));
  Expect(client_->CurrentUser().status(), absl::StatusCode::kPermissionDenied,
         "SentinelOne GET /user: HTTP 403: Insufficient permissions (code "
         "4030010)");
  transport_.Enqueue(Answer(200, "not json"));
  Expect(client_->CurrentUser().status(), absl::StatusCode::kDataLoss,
         "SentinelOne GET /user: malformed JSON");
}

constexpr char kSite[] = "1758952600032266153";

// Answers the rule listing with an empty page and the configuration with
// `config` (status and body).
http::FakeTransport::Handler ConsoleWithConfiguration(HttpResponse config) {
  return [config](const HttpRequest& request) -> absl::StatusOr<HttpResponse> {
    if (absl::StrContains(request.url, "/firewall-control/configuration?")) {
      return config;
    }
    return Answer(200, R"({"data":[],"pagination":{"nextCursor":null}})");
  };
}

// Audit §4.13: the configuration variants a console may send.
TEST_F(FixturesTest, ReadSiteReadsTheFirewallConfigurationLeniently) {
  struct Case {
    std::string name;
    HttpResponse answer;
    bool known, enabled;
    std::string inherited_from;
    bool inherits_rules;
  };
  const std::vector<Case> cases = {
      {"enabled, own policy",
       Answer(200, R"({"data":{"enabled":true,"locationAware":false,
                      "reportBlocked":true,"inheritSettings":false,
                      "inherits":false,"inheritAllFirewallRules":false,
                      "inheritedFrom":null,"selectedTags":[]},"errors":null})"),
       true, true, "", false},
      {"disabled",
       Answer(200, R"({"data":{"enabled":false,"inheritedFrom":null}})"), true,
       false, "", false},
      {"inherits from Global",
       Answer(200, R"({"data":{"enabled":true,"inherits":true,
                      "inheritSettings":true,"inheritedFrom":"Global"}})"),
       true, true, "Global", false},
      {"inherits every rule of its account",
       Answer(200, R"({"data":{"enabled":true,"inheritedFrom":"Account",
                      "inheritAllFirewallRules":true}})"),
       true, true, "Account", true},
      {"inherits without naming from where",
       Answer(200, R"({"data":{"enabled":true,"inheritSettings":true,
                      "inheritedFrom":null}})"),
       true, true, "parent scope", false},
      {"booleans as text",
       Answer(
           200,
           R"({"data":{"enabled":"False","inheritAllFirewallRules":"true"}})"),
       true, false, "", true},
      {"tenant-level answer: a list holding the site's configuration",
       Answer(200, absl::StrCat(R"({"data":[{"scopeId":null,"enabled":false,
                      "inheritedFrom":null},{"scopeId":")",
                                kSite, R"(","enabled":true,
                      "inheritedFrom":"Global"}]})")),
       true, true, "Global", false},
      {"tenant-level answer: a list of one",
       Answer(200, R"({"data":[{"enabled":true,"inheritedFrom":null}]})"), true,
       true, "", false},
      {"tenant-level answer: several, none for the site",
       Answer(200, R"({"data":[{"enabled":true},{"enabled":false}]})"), false,
       false, "", false},
      {"no enabled", Answer(200, R"({"data":{"inheritedFrom":"Global"}})"),
       false, false, "", false},
      {"enabled null", Answer(200, R"({"data":{"enabled":null}})"), false,
       false, "", false},
      {"no data", Answer(200, R"({"errors":null})"), false, false, "", false},
      {"data null", Answer(200, R"({"data":null})"), false, false, "", false},
      {"403",
       Answer(403,
              R"({"errors":[{"code":4030010,"title":"Insufficient permissions",
                      "detail":"User does not have required permissions"}]})"),
       false, false, "", false},
      {"400",
       Answer(400, R"({"errors":[{"code":4000010,"title":"Validation Error",
                      "detail":"siteIds: not a valid scope"}]})"),
       false, false, "", false},
      {"404 of an older console", Answer(404, kGatewayPage), false, false, "",
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    transport_.SetHandler(ConsoleWithConfiguration(c.answer));
    absl::StatusOr<v1::ObservedState> observed = client_->ReadSite(kSite);
    ASSERT_TRUE(observed.ok()) << observed.status();
    EXPECT_EQ(observed->firewall().known(), c.known);
    EXPECT_EQ(observed->firewall().enabled(), c.enabled);
    EXPECT_EQ(observed->firewall().inherited_from(), c.inherited_from);
    EXPECT_EQ(observed->firewall().inherits_rules(), c.inherits_rules);
    EXPECT_EQ(transport_.Requests().back().url,
              absl::StrCat(kBase,
                           "/web/api/v2.1/firewall-control/configuration?"
                           "siteIds=",
                           kSite));
  }
}

TEST_F(FixturesTest, AnUnknownConfigurationIsLoggedOnceAtWarning) {
  transport_.SetHandler(ConsoleWithConfiguration(Answer(
      403,
      R"({"errors":[{"code":4030010,"title":"Insufficient permissions"}]})")));
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::ObservedState> observed = client_->ReadSite(kSite);
    ASSERT_TRUE(observed.ok()) << observed.status();
    EXPECT_FALSE(observed->firewall().known());
  }
  int warnings = 0;
  for (const std::string& line : logger_.Lines()) {
    if (absl::StartsWith(line, "W ") &&
        absl::StrContains(line, "Firewall Control configuration of site")) {
      ++warnings;
      EXPECT_THAT(line, HasSubstr(kSite));
      EXPECT_THAT(line, HasSubstr("HTTP 403: Insufficient permissions"));
    }
  }
  EXPECT_EQ(warnings, 1) << logger_.Text();
}

TEST_F(FixturesTest,
       AConfigurationThatCannotBeReadForOtherReasonsFailsTheRead) {
  // The console is failing or the token refused: retry later, as for the
  // rules themselves.
  transport_.SetHandler(ConsoleWithConfiguration(Answer(503, kGatewayPage)));
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kUnavailable,
         "SentinelOne GET /firewall-control/configuration: HTTP 503");
  transport_.SetHandler(ConsoleWithConfiguration(Answer(200, kSsoPage)));
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kDataLoss,
         "SentinelOne GET /firewall-control/configuration: expected JSON, got "
         "an HTML page");
  transport_.SetHandler(ConsoleWithConfiguration(Answer(401, "{}")));
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kUnauthenticated,
         "GET /firewall-control/configuration: HTTP 401");
}

TEST_F(FixturesTest, ReReadsThatSettleAWriteSkipTheConfiguration) {
  // A lost create answer: the client re-reads the rules only.
  transport_.Enqueue(http::MarkOutcomeUnknown(absl::UnavailableError("reset")));
  transport_.SetHandler(
      ConsoleWithConfiguration(Answer(200, R"({"data":{"enabled":true}})")));
  v1::Rule rule;
  rule.set_name("tqs1 block 1");
  rule.set_action(v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  rule.add_remote_hosts()->set_type("addresses");
  rule.mutable_remote_hosts(0)->add_values("203.0.113.7");
  absl::StatusOr<v1::Rule> created = client_->CreateRule(kSite, rule);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable);
  std::vector<HttpRequest> sent = transport_.Requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_THAT(sent[1].url, HasSubstr("/firewall-control?siteIds="));
}

// Audit §4.6: a cursor that arrives percent-encoded is decoded once before
// it is sent back (encoded once): never "%253D", never a bare "==".
TEST_F(FixturesTest, APercentEncodedCursorIsDecodedExactlyOnce) {
  auto page = [](const std::string& id, json cursor) {
    return json{{"data",
                 {{{"id", id},
                   {"name", "r" + id},
                   {"action", "Block"},
                   {"status", "Enabled"},
                   {"scope", "site"},
                   {"scopeId", kSite}}}},
                {"pagination", {{"nextCursor", cursor}, {"totalItems", 4}}}}
        .dump();
  };
  transport_.Enqueue(Answer(200, page("1", "YXJy%3D%3D")));
  transport_.Enqueue(Answer(200, page("2", "YWJj%2B%2F%253D")));
  transport_.Enqueue(Answer(200, page("3", "cGxhaW4+/w==")));
  transport_.Enqueue(Answer(200, page("4", nullptr)));
  transport_.Enqueue(Answer(200, R"({"data":{"enabled":true}})"));
  absl::StatusOr<v1::ObservedState> observed = client_->ReadSite(kSite);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_EQ(observed->rules_size(), 4);
  std::vector<HttpRequest> sent = transport_.Requests();
  ASSERT_EQ(sent.size(), 5u);
  const std::string rules = absl::StrCat(
      kBase, "/web/api/v2.1/firewall-control?siteIds=", kSite, "&limit=200");
  EXPECT_EQ(sent[0].url, rules);
  EXPECT_EQ(sent[1].url, rules + "&cursor=YXJy%3D%3D");
  EXPECT_EQ(sent[2].url, rules + "&cursor=YWJj%2B%2F%253D");
  EXPECT_EQ(sent[3].url, rules + "&cursor=cGxhaW4%2B%2Fw%3D%3D");
}

TEST_F(FixturesTest, ACursorThatRepeatsOnceDecodedIsRefused) {
  // The same cursor, once encoded and once not: the console is looping.
  auto page = [](const std::string& cursor) {
    return json{{"data", json::array()},
                {"pagination", {{"nextCursor", cursor}}}}
        .dump();
  };
  transport_.Enqueue(Answer(200, page("YXJy==")));
  transport_.Enqueue(Answer(200, page("YXJy%3D%3D")));
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kDataLoss,
         "pagination cursor repeats on page 2");
}

// A missing site's error names near matches among every active site
// (case-insensitive, substring), as the ThreatQ collection lookup does.
TEST_F(FixturesTest, AMissingSiteSuggestsNearMatchesAmongEveryActiveSite) {
  // The name query finds nothing (an exact, case-sensitive console)...
  transport_.Enqueue(
      Answer(200, R"({"data":{"sites":[]},"pagination":{"nextCursor":null}})"));
  // ...the active sites, over two pages, hold near matches.
  transport_.Enqueue(Answer(200,
                            R"({"data":{"sites":[
           {"id":"11","name":"HQ","accountId":"1","accountName":"Acme",
            "state":"active","isDefault":false},
           {"id":"12","name":"Branch","accountId":"1","accountName":"Acme",
            "state":"active"}]},
         "pagination":{"nextCursor":"bmV4dA%3D%3D"}})"));
  transport_.Enqueue(Answer(200,
                            R"json({"data":{"sites":[
           {"id":13,"name":"hq (old)","accountId":"2","accountName":"Beta",
            "state":"active"},
           {"id":"14","name":"hq","state":"expired"}]},
         "pagination":{"nextCursor":null}})json"));
  absl::Status missing = client_->FindSite({"Hq"}).status();
  Expect(missing, absl::StatusCode::kNotFound,
         "no active SentinelOne site is named exactly \"Hq\"; near matches: "
         "\"HQ\" (account \"Acme\", account id 1, site id 11), \"hq (old)\" "
         "(account \"Beta\", account id 2, site id 13)");
  EXPECT_THAT(std::string(missing.message()),
              ::testing::Not(HasSubstr("site id 14")));
  std::vector<HttpRequest> sent = transport_.Requests();
  ASSERT_EQ(sent.size(), 3u);
  const std::string sites = absl::StrCat(kBase, "/web/api/v2.1/sites?");
  EXPECT_EQ(sent[0].url, sites + "name=Hq&state=active&limit=1000");
  EXPECT_EQ(sent[1].url, sites + "state=active&limit=1000");
  EXPECT_EQ(sent[2].url, sites + "state=active&limit=1000&cursor=bmV4dA%3D%3D");

  // When listing the active sites fails too, the lookup's answer stands.
  transport_.Enqueue(
      Answer(200, R"({"data":{"sites":[]},"pagination":{"nextCursor":null}})"));
  transport_.Enqueue(Answer(502, kGatewayPage));
  Expect(client_->FindSite({"Hq"}).status(), absl::StatusCode::kNotFound,
         "no active SentinelOne site is named exactly \"Hq\" (listing the "
         "active sites for near matches failed: SentinelOne GET /sites: HTTP "
         "502: HTML page");
}

// A full rule as a real console lists it (audit §4.4): every extra field,
// the deprecated singular copies, empty objects.
json FullRule(const std::string& id, const std::vector<std::string>& values) {
  return {{"id", id},
          {"name", "ioc-block-" + id},
          {"description", "managed by someone else"},
          {"action", "Block"},
          {"status", "Enabled"},
          {"direction", "any"},
          {"osTypes", {"windows", "macos", "linux"}},
          {"osType", "windows"},
          {"protocol", nullptr},
          {"remoteHosts", {{{"type", "addresses"}, {"values", values}}}},
          {"remoteHost", {{"type", "addresses"}, {"values", {values.front()}}}},
          {"localHost", json::object()},
          {"localPort", json::object()},
          {"remotePort", json::object()},
          {"application", json::object()},
          {"location", {{"type", "all"}, {"values", nullptr}}},
          {"ruleCategory", "firewall"},
          {"scope", "site"},
          {"scopeId", kSite},
          {"editable", true},
          {"order", 3},
          {"tagIds", json::array()},
          {"tagNames", json::array()},
          {"tags", json::array()},
          {"tag", nullptr},
          {"creator", "Jane Admin"},
          {"creatorId", "1000000000000000009"},
          {"createdAt", "2018-02-27T04:49:26.257525Z"},
          {"updatedAt", "2018-02-27T04:49:26.257525Z"}};
}

// Audit §4.7 and §2 #12: a page of 200 full rules of 5000 values each is
// read whole; past the body cap the read says so, naming the endpoint and
// the size.
TEST_F(FixturesTest, AHeavyPageIsReadAndOnePastTheCapIsNamed) {
  std::vector<std::string> values;
  for (int i = 0; i < 5000; ++i) {
    values.push_back(absl::StrCat("10.", i / 256, ".", i % 256, ".1"));
  }
  json data = json::array();
  for (int i = 0; i < 200; ++i) {
    data.push_back(FullRule(absl::StrCat(225494730938490000 + i), values));
  }
  const std::string body =
      json{{"data", data},
           {"errors", nullptr},
           {"pagination", {{"nextCursor", nullptr}, {"totalItems", 200}}}}
          .dump();
  ASSERT_GT(body.size(), size_t{10} << 20);  // the weight of a real page
  transport_.SetHandler(
      [&body](const HttpRequest& request) -> absl::StatusOr<HttpResponse> {
        if (absl::StrContains(request.url, "/configuration?")) {
          return Answer(200, R"({"data":{"enabled":true}})");
        }
        return Answer(200, body);
      });
  absl::StatusOr<v1::ObservedState> observed = client_->ReadSite(kSite);
  ASSERT_TRUE(observed.ok()) << observed.status();
  ASSERT_EQ(observed->rules_size(), 200);
  for (const v1::Rule& rule : observed->rules()) {
    ASSERT_TRUE(rule.unreadable().empty()) << rule.unreadable();
    ASSERT_EQ(rule.remote_hosts_size(), 1);
    ASSERT_EQ(rule.remote_hosts(0).values_size(), 5000);
  }
  // The page size asked for is the rule page size (200), not 1000.
  EXPECT_THAT(transport_.Requests()[0].url, HasSubstr("&limit=200"));

  SentinelOneClientOptions options;
  options.base_url = kBase;
  options.api_token = kToken;
  options.max_response_bytes = size_t{8} << 20;
  absl::StatusOr<std::unique_ptr<SentinelOneClient>> capped =
      SentinelOneClient::Create(options, &transport_);
  ASSERT_TRUE(capped.ok()) << capped.status();
  Expect((*capped)->ReadSite(kSite).status(), absl::StatusCode::kDataLoss,
         absl::StrCat("SentinelOne GET /firewall-control: response body of ",
                      body.size(), " bytes exceeds the limit of 8388608"));
}

// Audit §4.8: a create answer without scope or scopeId is the site's.
TEST_F(FixturesTest, ACreateAnswerWithoutScopeIsTheSitesRule) {
  v1::Rule rule;
  rule.set_name("tqs1 block 1");
  rule.set_description("Blocked by ThreatQ [managed-by:tqs1]");
  rule.set_action(v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  rule.set_direction(v1::DIRECTION_ANY);
  rule.add_remote_hosts()->set_type("addresses");
  rule.mutable_remote_hosts(0)->add_values("203.0.113.7");
  transport_.Enqueue(
      Answer(200,
             R"({"data":{"id":"225494730938493804","name":"tqs1 block 1",
                  "description":"Blocked by ThreatQ [managed-by:tqs1]",
                  "action":"Block","status":"Enabled","direction":"any",
                  "remoteHosts":[{"type":"addresses","values":["203.0.113.7"]}],
                  "order":1}})"));
  absl::StatusOr<v1::Rule> created = client_->CreateRule(kSite, rule);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->id(), "225494730938493804");
  EXPECT_EQ(created->scope(), v1::RULE_SCOPE_SITE);
  EXPECT_EQ(created->scope_id(), kSite);
  EXPECT_EQ(transport_.RequestCount(), 1);  // no re-read needed
}

// Audit §4.9: a console that normalizes what it stores answers an update
// with what it kept (description trimmed, OS types and values reordered,
// IPv6 upper-case): the update succeeded, and the answer is what is
// returned, without a second write or a re-read.
TEST_F(FixturesTest, UpdateAnswersThatNormalizeAreTheUpdatedRule) {
  v1::Rule rule;
  rule.set_id("225494730938493804");
  rule.set_name("tqs1 block 1");
  rule.set_description("Blocked by ThreatQ [managed-by:tqs1] ");
  rule.set_action(v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  rule.set_direction(v1::DIRECTION_ANY);
  rule.add_os_types(v1::OS_TYPE_WINDOWS);
  rule.add_os_types(v1::OS_TYPE_LINUX);
  rule.add_remote_hosts()->set_type("addresses");
  rule.mutable_remote_hosts(0)->add_values("2001:db8::a");
  rule.mutable_remote_hosts(0)->add_values("192.0.2.1");
  transport_.Enqueue(
      Answer(200,
             R"({"data":{"id":"225494730938493804","name":"tqs1 block 1",
                  "description":"Blocked by ThreatQ [managed-by:tqs1]",
                  "action":"Block","status":"Enabled","direction":"any",
                  "osTypes":["linux","windows"],
                  "remoteHosts":[{"type":"addresses",
                                  "values":["192.0.2.1","2001:DB8::A"]}],
                  "scope":"site","scopeId":")" +
                 std::string(kSite) + R"("}})"));
  absl::StatusOr<v1::Rule> updated = client_->UpdateRule(kSite, rule);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->description(), "Blocked by ThreatQ [managed-by:tqs1]");
  EXPECT_THAT(updated->os_types(),
              ElementsAre(v1::OS_TYPE_LINUX, v1::OS_TYPE_WINDOWS));
  ASSERT_EQ(updated->remote_hosts_size(), 1);
  EXPECT_THAT(updated->remote_hosts(0).values(),
              ElementsAre("192.0.2.1", "2001:DB8::A"));
  EXPECT_EQ(transport_.RequestCount(), 1);

  // Without scope in the answer it is still the site's.
  transport_.Enqueue(Answer(
      200, R"({"data":{"id":"225494730938493804","name":"tqs1 block 1"}})"));
  updated = client_->UpdateRule(kSite, rule);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->scope(), v1::RULE_SCOPE_SITE);
  EXPECT_EQ(updated->scope_id(), kSite);

  transport_.Enqueue(Answer(404,
                            R"({"errors":[{"code":4040010,"title":"Not Found",
                     "detail":"Firewall rule not found"}]})"));
  Expect(client_->UpdateRule(kSite, rule).status(), absl::StatusCode::kNotFound,
         "SentinelOne PUT /firewall-control/225494730938493804: HTTP 404: Not "
         "Found (code 4040010): Firewall rule not found");
}

// Audit §4.11: error envelopes in the wordings consoles and SDKs use.
TEST_F(FixturesTest, ErrorEnvelopesInSeveralWordingsAreNamedWhole) {
  struct Case {
    std::string name;
    int status;
    std::string body;
    absl::StatusCode code;
    std::string message;
  };
  const std::string e = "SentinelOne GET /firewall-control: ";
  const std::vector<Case> cases = {
      {"validation", 400,
       R"({"errors":[{"code":4000010,"title":"Validation Error",
                      "detail":"Wrong query Query cannot contain newlines"}]})",
       absl::StatusCode::kInvalidArgument,
       e + "HTTP 400: Validation Error (code 4000010): Wrong query Query "
           "cannot contain newlines"},
      {"detail null and params", 400,
       R"({"errors":[{"code":4000010,"title":"Validation Error","detail":null,
                      "params":{"siteIds":["Not a valid id."]}}]})",
       absl::StatusCode::kInvalidArgument,
       e + "HTTP 400: Validation Error (code 4000010)"},
      {"two errors", 400,
       R"({"errors":[{"code":4000010,"title":"Validation Error",
                      "detail":"limit: must be at most 1000"},
                     {"code":400010,"title":"Bad parameter given",
                      "detail":"cursor"}]})",
       absl::StatusCode::kInvalidArgument,
       e + "HTTP 400: Validation Error (code 4000010): limit: must be at "
           "most 1000; Bad parameter given (code 400010): cursor"},
      {"message instead of title (the Go SDK's model)", 400,
       R"({"errors":[{"code":"4000010","message":"Invalid filter"}]})",
       absl::StatusCode::kInvalidArgument,
       e + "HTTP 400: Invalid filter (code 4000010)"},
      {"expired token", 401,
       R"({"errors":[{"code":4010010,"title":"Authentication Failed",
                      "detail":"Token has expired"}]})",
       absl::StatusCode::kUnauthenticated,
       e + "HTTP 401: Authentication Failed (code 4010010): Token has "
           "expired"},
      {"insufficient permissions", 403,
       R"({"errors":[{"code":4030010,"title":"Insufficient permissions",
                      "detail":"User does not have required permissions"}]})",
       absl::StatusCode::kPermissionDenied,
       e + "HTTP 403: Insufficient permissions (code 4030010): User does not "
           "have required permissions"},
      {"internal", 500,
       R"({"errors":[{"code":5000010,"title":"Internal server error",
                      "detail":null}]})",
       absl::StatusCode::kUnavailable,
       e + "HTTP 500: Internal server error (code 5000010)"},
      {"an envelope of nothing usable", 400, R"({"errors":[]})",
       absl::StatusCode::kInvalidArgument,
       e + "HTTP 400: non-envelope body \"{\"errors\":[]}\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    transport_.Enqueue(Answer(c.status, c.body));
    absl::Status s = client_->ReadSite(kSite).status();
    statuses_.push_back(s);
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_EQ(s.message(), c.message);
  }
}

// A duplicate-name answer worded otherwise than "already exists" is still
// recognised: the 400 to a create is settled by re-reading the site.
TEST_F(FixturesTest, ADuplicateNameInOtherWordsIsFoundByReReading) {
  v1::Rule rule;
  rule.set_name("tqs1 block 1");
  rule.set_action(v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  rule.add_remote_hosts()->set_type("addresses");
  rule.mutable_remote_hosts(0)->add_values("203.0.113.7");
  transport_.Enqueue(
      Answer(400,
             R"({"errors":[{"code":4000010,"title":"Validation Error",
                     "detail":"Rule name must be unique in scope"}]})"));
  json other = FullRule("225494730938490001", {"198.51.100.1"});
  other["name"] = "tqs1 block 1";
  transport_.Enqueue(Answer(
      200, json{{"data", {other}}, {"pagination", {{"nextCursor", nullptr}}}}
               .dump()));
  Expect(client_->CreateRule(kSite, rule).status(),
         absl::StatusCode::kAlreadyExists,
         "already holds a rule named \"tqs1 block 1\" (id 225494730938490001) "
         "with different content");
}

// Audit §4.12: rate limits and gateways answer with HTML pages.
TEST_F(FixturesTest, RateLimitsAndGatewayPagesAreUnavailableAndSummarised) {
  constexpr char kHtml429[] =
      "<html><head><title>429 Too Many Requests</title></head><body>"
      "<center><h1>429 Too Many Requests</h1></center></body></html>";
  HttpResponse limited = Answer(429, kHtml429);
  limited.headers.emplace_back("Retry-After", "7");
  limited.headers.emplace_back("Content-Type", "text/html");
  transport_.Enqueue(limited);
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kUnavailable,
         "SentinelOne GET /firewall-control: HTTP 429: HTML page "
         "\"<html><head><title>429 Too Many Requests...\" (rate limited), "
         "Retry-After: 7");
  transport_.Enqueue(Answer(429, kHtml429));
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kUnavailable,
         "(rate limited)");
  EXPECT_THAT(std::string(statuses_.back().message()),
              ::testing::Not(HasSubstr("Retry-After")));

  for (int status : {502, 503, 504}) {
    SCOPED_TRACE(status);
    transport_.Enqueue(Answer(
        status,
        absl::StrCat("<html><head><title>", status,
                     " Gateway</title></head><body>cloudflare</body></html>")));
    Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kUnavailable,
           absl::StrCat("SentinelOne GET /firewall-control: HTTP ", status,
                        ": HTML page \"<html><head><title>", status));
  }
  // A 200 SSO login page is no answer at all.
  transport_.Enqueue(Answer(200, kSsoPage));
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kDataLoss,
         "SentinelOne GET /firewall-control: expected JSON, got an HTML page "
         "(a proxy or gateway error page?)");
}

// Audit §4.12: a 302 to a login page is refused, never followed, and says
// where it pointed.
TEST_F(FixturesTest, ARedirectToASsoLoginIsRefusedAndNamed) {
  HttpResponse redirect = Answer(302, "");
  redirect.headers.emplace_back(
      "Location", "https://login.example-idp.com/sso/saml?SAMLRequest=abc");
  transport_.Enqueue(redirect);
  Expect(client_->ReadSite(kSite).status(),
         absl::StatusCode::kFailedPrecondition,
         "SentinelOne GET /firewall-control: HTTP 302: empty body, redirected "
         "to https://login.example-idp.com/sso/saml?SAMLRequest=abc; "
         "redirects are not followed");
  EXPECT_EQ(transport_.RequestCount(), 1);

  HttpResponse long_redirect = Answer(301, "<html>Moved</html>");
  long_redirect.headers.emplace_back(
      "Location", "https://sso.example.com/" + std::string(500, 'x'));
  transport_.Enqueue(long_redirect);
  absl::Status s = client_->SystemInfo().status();
  Expect(s, absl::StatusCode::kFailedPrecondition,
         "SentinelOne GET /system/info: HTTP 301: HTML page");
  EXPECT_THAT(std::string(s.message()), HasSubstr("xxx...; redirects"));
  EXPECT_LT(s.message().size(), 400u);

  transport_.Enqueue(Answer(307, ""));
  Expect(client_->ListSites().status(), absl::StatusCode::kFailedPrecondition,
         "HTTP 307: empty body, redirected to (no Location)");
}

}  // namespace
}  // namespace tqs1::sentinelone

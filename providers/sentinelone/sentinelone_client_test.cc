// SentinelOneClient against scripted answers (FakeTransport): request shape,
// bad wire input, paging guards, lost-response settling, token hygiene.
#include "providers/sentinelone/sentinelone_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/capturing_logger.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/http/fake_transport.h"
#include "providers/sentinelone/wire.h"
#include "testing/builders.h"

namespace tqs1::sentinelone {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::tqs1::http::HttpRequest;
using ::tqs1::http::HttpResponse;
using ::tqs1::v1::Rule;

constexpr char kToken[] = "tok-3c1f00d5-never-print-me";
constexpr const char* kSite = ::tqs1::testing::kSiteId;
constexpr char kBase[] = "http://127.0.0.1:9";

HttpResponse Answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string RulesPage(const std::vector<std::string>& ids,
                      const std::string& next_cursor = "") {
  json data = json::array();
  for (const std::string& id : ids) {
    data.push_back({{"id", id},
                    {"name", "r" + id},
                    {"action", "Block"},
                    {"status", "Enabled"},
                    {"scope", "site"},
                    {"scopeId", kSite}});
  }
  return json{{"data", data},
              {"pagination",
               {{"nextCursor",
                 next_cursor.empty() ? json(nullptr) : json(next_cursor)}}}}
      .dump();
}

Rule BlockRule(const std::string& name) {
  Rule rule;
  rule.set_name(name);
  rule.set_action(v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  rule.set_direction(v1::DIRECTION_ANY);
  auto* hosts = rule.add_remote_hosts();
  hosts->set_type("addresses");
  hosts->add_values("203.0.113.7");
  hosts->add_values("192.0.2.0/24");
  return rule;
}

std::string RuleJson(const Rule& rule, const std::string& id) {
  json data = RuleToWireData(rule);
  data["id"] = id;
  data["scope"] = "site";
  data["scopeId"] = kSite;
  return data.dump();
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(1000); }
  void Reset(int page_size, int max_pages = 20000, size_t max_bytes = 1 << 20) {
    SentinelOneClientOptions options;
    options.base_url = std::string(kBase) + "/";
    options.api_token = kToken;
    options.page_size = page_size;
    options.rule_page_size = page_size;
    options.max_pages = max_pages;
    options.max_response_bytes = max_bytes;
    options.logger = &logger_;
    absl::StatusOr<std::unique_ptr<SentinelOneClient>> client =
        SentinelOneClient::Create(options, &transport_);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  void Expect(const absl::Status& s, absl::StatusCode code,
              const std::string& part) {
    statuses_.push_back(s);
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(part));
  }
  void TearDown() override {
    for (const absl::Status& s : statuses_) {
      EXPECT_FALSE(absl::StrContains(s.ToString(), kToken)) << s;
    }
    EXPECT_FALSE(logger_.Contains(kToken));
  }

  http::FakeTransport transport_{nullptr, {.allow_plain_http = true}};
  log::CapturingLogger logger_;
  std::unique_ptr<SentinelOneClient> client_;
  std::vector<absl::Status> statuses_;
};

TEST(TokenRenewalWarningTest, WithinThirtyDaysOrExpired) {
  const absl::Time now = absl::FromCivil(
      absl::CivilSecond(2026, 5, 1, 12, 0, 0), absl::UTCTimeZone());
  ApiTokenDetails token;
  EXPECT_EQ(TokenRenewalWarning(token, now), std::nullopt);  // never expires
  token.expires_at = now + absl::Hours(24 * 31);
  EXPECT_EQ(TokenRenewalWarning(token, now), std::nullopt);
  token.expires_at = now + absl::Hours(24 * 12 + 3);
  EXPECT_EQ(TokenRenewalWarning(token, now),
            "the SentinelOne API token expires on 2026-05-13, in 12 days: "
            "renew it in the console before then");
  token.expires_at = now - absl::Hours(1);
  EXPECT_EQ(TokenRenewalWarning(token, now),
            "the SentinelOne API token expired on 2026-05-01: make a new one "
            "in the console");
}

TEST_F(ClientTest, CreateValidatesOptions) {
  struct Case {
    std::string url, token;
    int page_size;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "t", 10, "must start with https://"},
      {"ftp://x", "t", 10, "must start with https://"},
      {"https://x", "", 10, "no API token"},
      {"https://x", "t", 0, "page size 0 is outside 1..1000"},
      {"https://x", "t", 1001, "page size 1001 is outside 1..1000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    SentinelOneClientOptions options;
    options.base_url = c.url;
    options.api_token = c.token;
    options.page_size = c.page_size;
    options.rule_page_size = c.page_size;
    absl::Status s = SentinelOneClient::Create(options, &transport_).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message));
  }
}

TEST_F(ClientTest, SendsTheDocumentedRequests) {
  transport_.Enqueue(Answer(
      200, R"({"data":{"sites":[{"id":")" + std::string(kSite) +
               R"(","name":"H Q"}]},"pagination":{"nextCursor":null}})"));
  transport_.Enqueue(Answer(200, RulesPage({})));
  transport_.Enqueue(Answer(200, R"({"data":{"enabled":true}})"));
  transport_.Enqueue(Answer(
      200,
      R"({"data":)" + RuleJson(BlockRule("A"), "225494730938493804") + "}"));
  Rule update = BlockRule("A");
  update.set_id("225494730938493804");
  transport_.Enqueue(
      Answer(200, R"({"data":)" + RuleJson(update, update.id()) + "}"));
  transport_.Enqueue(Answer(200, R"({"data":{"affected":1}})"));
  ASSERT_TRUE(client_->FindSite("H Q").ok());
  ASSERT_TRUE(client_->ReadSite(kSite).ok());
  ASSERT_TRUE(client_->CreateRule(kSite, BlockRule("A")).ok());
  ASSERT_TRUE(client_->UpdateRule(kSite, update).ok());
  ASSERT_TRUE(client_->DeleteRule(kSite, update.id()).ok());

  std::vector<HttpRequest> sent = transport_.Requests();
  ASSERT_EQ(sent.size(), 6u);
  const std::string api = std::string(kBase) + "/web/api/v2.1";
  struct Want {
    std::string method, url, body;
  };
  const json data = RuleToWireData(BlockRule("A"));
  const std::vector<Want> want = {
      {"GET", api + "/sites?name=H%20Q&state=active&limit=1000", ""},
      {"GET", api + "/firewall-control?siteIds=" + kSite + "&limit=1000", ""},
      {"GET", api + "/firewall-control/configuration?siteIds=" + kSite, ""},
      {"POST", api + "/firewall-control",
       json{{"data", data}, {"filter", {{"siteIds", {kSite}}}}}.dump()},
      {"PUT", api + "/firewall-control/225494730938493804",
       json{{"data", data}}.dump()},
      {"DELETE", api + "/firewall-control",
       json{{"filter", {{"ids", {"225494730938493804"}}, {"siteIds", {kSite}}}}}
           .dump()},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].url);
    EXPECT_EQ(sent[i].method, want[i].method);
    EXPECT_EQ(sent[i].url, want[i].url);
    if (!want[i].body.empty()) {
      EXPECT_EQ(json::parse(sent[i].body), json::parse(want[i].body));
    }
    EXPECT_THAT(sent[i].headers,
                ::testing::Contains(std::pair<std::string, std::string>(
                    "Authorization", std::string("ApiToken ") + kToken)));
  }
}

TEST_F(ClientTest, BadWireInputIsAClearErrorNeverAShortList) {
  struct Case {
    std::string what;
    std::vector<HttpResponse> answers;
    absl::StatusCode code;
    std::string part;
  };
  HttpResponse html = Answer(200, "<!DOCTYPE html><html>Proxy login</html>");
  html.headers.emplace_back("Content-Type", "text/html");
  const std::vector<Case> cases = {
      {"malformed",
       {Answer(200, R"({"data":[{"id":)")},
       absl::StatusCode::kDataLoss,
       "SentinelOne GET /firewall-control: malformed JSON"},
      {"html", {html}, absl::StatusCode::kDataLoss, "got an HTML page"},
      {"html 502",
       {Answer(502, "<html>Bad Gateway</html>")},
       absl::StatusCode::kUnavailable,
       "HTTP 502: HTML page"},
      {"data object",
       {Answer(200, R"({"data":{},"pagination":{}})")},
       absl::StatusCode::kDataLoss,
       "field \"data\" should be an array"},
      {"no data",
       {Answer(200, R"({"pagination":{}})")},
       absl::StatusCode::kDataLoss,
       "missing field \"data\""},
      {"no pagination",
       {Answer(200, R"({"data":[]})")},
       absl::StatusCode::kDataLoss,
       "missing field \"pagination\""},
      {"cursor number",
       {Answer(200, R"({"data":[],"pagination":{"nextCursor":5}})")},
       absl::StatusCode::kDataLoss,
       "nextCursor\" should be a string"},
      {"rule wrong type",
       {Answer(200, R"({"data":[{"id":"1","name":["x"]}],"pagination":{}})")},
       absl::StatusCode::kDataLoss,
       "field \"rule 1 name\" should be a string"},
      {"second page broken",
       {Answer(200, RulesPage({"1"}, "c1")), Answer(200, "{oops")},
       absl::StatusCode::kDataLoss,
       "malformed JSON"},
      {"oversized",
       {Answer(200, std::string(2 << 20, ' '))},
       absl::StatusCode::kDataLoss,
       "exceeds the limit of 1048576"},
      {"duplicate ids",
       {Answer(200, RulesPage({"1", "2"}, "c1")),
        Answer(200, RulesPage({"2", "3"}))},
       absl::StatusCode::kAborted,
       "rule 2 was listed twice"},
      {"repeating cursor",
       {Answer(200, RulesPage({"1"}, "same")),
        Answer(200, RulesPage({"2"}, "same"))},
       absl::StatusCode::kDataLoss,
       "cursor repeats"},
      {"empty pages forever",
       {Answer(200, RulesPage({}, "a")), Answer(200, RulesPage({}, "b")),
        Answer(200, RulesPage({}, "c")), Answer(200, RulesPage({}, "d"))},
       absl::StatusCode::kDataLoss,
       "empty pages in a row"},
      {"401 echoing the token",
       {Answer(
           401,
           absl::StrCat(
               R"({"errors":[{"code":4010010,"title":"Authentication Failed","detail":"token )",
               kToken, R"( expired"}]})"))},
       absl::StatusCode::kUnauthenticated,
       "token [redacted] expired"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    for (const HttpResponse& a : c.answers) transport_.Enqueue(a);
    Expect(client_->ReadSite(kSite).status(), c.code, c.part);
    // Every scripted answer was consumed: nothing left for the next case.
    EXPECT_EQ(client_->ReadSite(kSite).status().code(),
              absl::StatusCode::kUnavailable);
  }
}

TEST_F(ClientTest, ARejectedTokenSaysWhereItCameFrom) {
  SentinelOneClientOptions options;
  options.base_url = kBase;
  options.api_token = kToken;
  options.credential_origin = "$TQS1_S1_TOKEN";
  absl::StatusOr<std::unique_ptr<SentinelOneClient>> client =
      SentinelOneClient::Create(options, &transport_);
  ASSERT_TRUE(client.ok()) << client.status();
  transport_.Enqueue(Answer(
      401, absl::StrCat(R"({"errors":[{"code":4010010,"title":"Authentication )"
                        R"(Failed","detail":"token )",
                        kToken, R"( expired"}]})")));
  absl::Status s = (*client)->FindSite("HQ").status();
  statuses_.push_back(s);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(),
            "the API token from $TQS1_S1_TOKEN was rejected by the console "
            "(HTTP 401): SentinelOne GET /sites: HTTP 401: Authentication "
            "Failed (code 4010010): token [redacted] expired");

  transport_.Enqueue(Answer(
      403,
      R"({"errors":[{"code":4030010,"title":"Insufficient permissions"}]})"));
  s = (*client)->ReadSite(kSite).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(
      std::string(s.message()),
      ::testing::StartsWith("the API token from $TQS1_S1_TOKEN was "
                            "refused this request by the console (HTTP "
                            "403: the token's user lacks a permission): "
                            "SentinelOne GET /firewall-control"));

  // Other errors do not blame the token; without an origin nothing changes.
  transport_.Enqueue(Answer(404, "{}"));
  s = (*client)->ReadSite(kSite).status();
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("API token")));
  transport_.Enqueue(Answer(401, "{}"));
  EXPECT_THAT(std::string(client_->FindSite("HQ").status().message()),
              ::testing::StartsWith("SentinelOne GET /sites: HTTP 401"));
}

TEST_F(ClientTest, GivesUpAfterMaxPages) {
  Reset(1000, /*max_pages=*/3);
  for (int i = 0; i < 3; ++i) {
    transport_.Enqueue(
        Answer(200, RulesPage({absl::StrCat(i)}, absl::StrCat("c", i))));
  }
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kDataLoss,
         "still more pages after 3 pages");
}

// Real site lists carry many more fields, ids may come as bare integers,
// and every account has a "Default site".
TEST_F(ClientTest, FindSiteReadsRealSiteListsAndNamesEveryCandidate) {
  constexpr char kTwoDefaults[] = R"({"data":{"allSites":{"activeLicenses":3,
    "totalLicenses":100},"sites":[
    {"id":225494730938493804,"name":"Default site","accountId":"11",
     "accountName":"Acme","isDefault":true,"state":"active","sku":"Control",
     "suite":"Control","siteType":"Paid","expiration":null,
     "unlimitedExpiration":true,"licenses":{"bundles":[]},
     "registrationToken":"eyJ...","creator":"x","creatorId":"9"},
    {"id":"225494730938493805","name":"Default site","accountId":12,
     "accountName":"Globex","isDefault":true,"state":"active"}]},
    "pagination":{"nextCursor":null,"totalItems":2}})";
  transport_.Enqueue(Answer(200, kTwoDefaults));
  absl::Status ambiguous = client_->FindSite("Default site").status();
  Expect(ambiguous, absl::StatusCode::kFailedPrecondition,
         "2 active SentinelOne sites are named \"Default site\": \"Default "
         "site\" (account \"Acme\", account id 11, site id "
         "225494730938493804), \"Default site\" (account \"Globex\", account "
         "id 12, site id 225494730938493805); set site_id:");
  EXPECT_THAT(transport_.Requests().back().url,
              HasSubstr("/sites?name=Default%20site&state=active"));

  transport_.Enqueue(Answer(200, kTwoDefaults));
  absl::StatusOr<std::string> by_account =
      client_->FindSite({"Default site", "", "Globex"});
  ASSERT_TRUE(by_account.ok()) << by_account.status();
  EXPECT_EQ(*by_account, "225494730938493805");

  transport_.Enqueue(Answer(200, kTwoDefaults));
  absl::StatusOr<std::string> by_id =
      client_->FindSite({"", "225494730938493804", ""});
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(*by_id, "225494730938493804");
  EXPECT_THAT(transport_.Requests().back().url,
              HasSubstr("/sites?siteIds=225494730938493804"));
}

TEST_F(ClientTest, FindSiteRejectsBadShapes) {
  transport_.Enqueue(Answer(200, R"({"data":[],"pagination":{}})"));
  Expect(client_->FindSite("HQ").status(), absl::StatusCode::kDataLoss,
         "field \"data\" should be an object");
  transport_.Enqueue(
      Answer(200, R"({"data":{"sites":[{"name":"HQ"}]},"pagination":{}})"));
  Expect(client_->FindSite("HQ").status(), absl::StatusCode::kDataLoss,
         "missing field \"site id\"");
}

// `affected: 1` is a delete done; any other answer (0, a string, none)
// is settled by re-reading the site, as a lost answer is.
TEST_F(ClientTest, DeleteSettlesAnythingButOneAffectedByReading) {
  struct Case {
    std::string what;
    std::string answer;
    std::string listed;  // the re-read's page; "unused": no re-read
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"one", R"({"data":{"affected":1},"errors":null})", "unused",
       absl::StatusCode::kOk, ""},
      {"one as a string", R"({"data":{"affected":"1"}})", "unused",
       absl::StatusCode::kOk, ""},
      {"zero, rule gone", R"({"data":{"affected":0}})", RulesPage({}),
       absl::StatusCode::kOk, ""},
      {"zero, rule still there", R"({"data":{"affected":0}})",
       RulesPage({"42"}), absl::StatusCode::kAborted,
       "rule 42 of site " + std::string(kSite) +
           " is still there after a delete that answered \"affected\": 0"},
      {"no count, rule still there", R"({"data":{}})", RulesPage({"42"}),
       absl::StatusCode::kAborted,
       "after a delete that answered no \"data.affected\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    transport_.Enqueue(Answer(200, c.answer));
    if (c.listed != "unused") transport_.Enqueue(Answer(200, c.listed));
    absl::Status deleted = client_->DeleteRule(kSite, "42");
    EXPECT_EQ(deleted.code(), c.code) << deleted;
    EXPECT_THAT(std::string(deleted.message()), HasSubstr(c.message));
    EXPECT_EQ(client_->ReadSite(kSite).status().code(),
              absl::StatusCode::kUnavailable);  // script fully consumed
  }
}

TEST_F(ClientTest, CreateWithUnknownOutcomeIsSettledByReading) {
  const Rule rule = BlockRule("A");
  struct Case {
    std::string what;
    absl::StatusOr<HttpResponse> answer;
    std::string listed_rule;  // the re-read's page ("" = empty site)
    absl::StatusCode code;
  };
  const std::string ours = RuleJson(rule, "225494730938493804");
  Rule other = rule;
  other.set_description("hand made");
  const std::string theirs = RuleJson(other, "225494730938493805");
  const std::string dup =
      R"({"errors":[{"code":4000010,"title":"Validation Error","detail":"Firewall rule name \"A\" already exists in this scope"}]})";
  const std::vector<Case> cases = {
      {"lost, applied",
       http::MarkOutcomeUnknown(absl::UnavailableError("reset")), ours,
       absl::StatusCode::kOk},
      {"lost, not applied",
       http::MarkOutcomeUnknown(absl::UnavailableError("reset")), "",
       absl::StatusCode::kUnavailable},
      {"503, applied", Answer(503, ""), ours, absl::StatusCode::kOk},
      {"unreadable 200, applied", Answer(200, "{"), ours,
       absl::StatusCode::kOk},
      {"duplicate of our own resent create", Answer(400, dup), ours,
       absl::StatusCode::kOk},
      {"duplicate of another rule", Answer(400, dup), theirs,
       absl::StatusCode::kAlreadyExists},
      {"400 worded otherwise, name taken",
       Answer(
           400,
           R"({"errors":[{"code":4000010,"title":"Validation Error","detail":"Name must be unique"}]})"),
       theirs, absl::StatusCode::kAlreadyExists},
      {"plain 400",
       Answer(
           400,
           R"({"errors":[{"code":4000010,"title":"Validation Error","detail":"bad"}]})"),
       "", absl::StatusCode::kInvalidArgument},
      {"403 is believed",
       Answer(
           403,
           R"({"errors":[{"code":4030010,"title":"Insufficient permissions"}]})"),
       "unused", absl::StatusCode::kPermissionDenied},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    transport_.Enqueue(c.answer);
    if (c.listed_rule != "unused") {
      transport_.Enqueue(
          Answer(200, absl::StrCat(R"({"data":[)", c.listed_rule,
                                   R"(],"pagination":{"nextCursor":null}})")));
    }
    const int before = transport_.RequestCount();
    absl::StatusOr<Rule> created = client_->CreateRule(kSite, rule);
    statuses_.push_back(created.status());
    EXPECT_EQ(created.status().code(), c.code) << created.status();
    // The re-read settled the outcome.
    EXPECT_FALSE(http::IsOutcomeUnknown(created.status()));
    if (created.ok()) {
      EXPECT_EQ(created->id(), "225494730938493804");
    }
    // Exactly one POST: settled by reading, never by re-sending.
    std::vector<HttpRequest> sent = transport_.Requests();
    int posts = 0;
    for (size_t i = before; i < sent.size(); ++i) {
      posts += sent[i].method == "POST";
    }
    EXPECT_EQ(posts, 1);
    EXPECT_EQ(client_->ReadSite(kSite).status().code(),
              absl::StatusCode::kUnavailable);  // script fully consumed
  }
}

// Messages quote what the server sent (ids, names); a server that echoes
// the token into them must not get it into an error.
TEST_F(ClientTest, ErrorsQuotingServerDataNeverCarryTheToken) {
  const std::string echoed = absl::StrCat("9", kToken);
  transport_.Enqueue(
      Answer(200, absl::StrCat(R"({"data":{"sites":[{"id":")", echoed,
                               R"("}]},"pagination":{"nextCursor":null}})")));
  Expect(client_->FindSite("HQ").status(), absl::StatusCode::kDataLoss,
         "site 9[redacted] without a name string");
  transport_.Enqueue(
      Answer(200, absl::StrCat(R"({"data":[{"id":")", echoed,
                               R"("}],"pagination":{"nextCursor":null}})")));
  Expect(client_->ReadSite(kSite).status(), absl::StatusCode::kDataLoss,
         "9[redacted]");
  // The create's answer is unreadable, and so is the re-read's.
  const std::string bad_rule =
      absl::StrCat(R"({"data":{"id":")", echoed, R"("}})");
  transport_.Enqueue(Answer(200, bad_rule));
  transport_.Enqueue(
      Answer(200, absl::StrCat(R"({"data":[{"id":")", echoed, R"("}]})")));
  Expect(client_->CreateRule(kSite, BlockRule("A")).status(),
         absl::StatusCode::kDataLoss, "9[redacted]");
  Rule update = BlockRule("A");
  update.set_id("225494730938493804");
  transport_.Enqueue(Answer(200, bad_rule));
  transport_.Enqueue(
      Answer(200, absl::StrCat(R"({"data":[{"id":")", echoed, R"("}]})")));
  Expect(client_->UpdateRule(kSite, update).status(),
         absl::StatusCode::kDataLoss, "9[redacted]");
}

TEST_F(ClientTest, CreateWhoseReReadFailsStaysOutcomeUnknown) {
  transport_.Enqueue(http::MarkOutcomeUnknown(absl::UnavailableError("reset")));
  transport_.Enqueue(absl::UnavailableError("console down"));
  absl::Status s = client_->CreateRule(kSite, BlockRule("A")).status();
  Expect(s, absl::StatusCode::kUnavailable,
         "re-reading the site to learn the outcome failed too");
  EXPECT_TRUE(http::IsOutcomeUnknown(s));
}

TEST_F(ClientTest, UpdateAndDeleteSettleLostAnswersByReading) {
  Rule rule = BlockRule("A");
  rule.set_id("225494730938493804");
  const std::string page =
      absl::StrCat(R"({"data":[)", RuleJson(rule, rule.id()),
                   R"(],"pagination":{"nextCursor":null}})");
  // Update lost, but the rule holds our content: success.
  transport_.Enqueue(http::MarkOutcomeUnknown(absl::UnavailableError("x")));
  transport_.Enqueue(Answer(200, page));
  EXPECT_TRUE(client_->UpdateRule(kSite, rule).ok());
  // Update 404: believed.
  transport_.Enqueue(
      Answer(404, R"({"errors":[{"code":4040010,"title":"Not Found"}]})"));
  Expect(client_->UpdateRule(kSite, rule).status(), absl::StatusCode::kNotFound,
         "HTTP 404");
  // Delete lost and the rule is still there: the error stands.
  transport_.Enqueue(Answer(503, ""));
  transport_.Enqueue(Answer(200, page));
  Expect(client_->DeleteRule(kSite, rule.id()), absl::StatusCode::kUnavailable,
         "HTTP 503");
  // Delete lost and the rule is gone: success.
  transport_.Enqueue(Answer(503, ""));
  transport_.Enqueue(Answer(200, RulesPage({})));
  EXPECT_TRUE(client_->DeleteRule(kSite, rule.id()).ok());
  // Delete of an absent rule answered 404: fine.
  transport_.Enqueue(Answer(404, ""));
  EXPECT_TRUE(client_->DeleteRule(kSite, rule.id()).ok());
}

// The codes the client used to map on its own (http_status.h says why each
// is what it is now), seen where they change what the client does.
TEST_F(ClientTest, CodesOfTheHttpTableDecideWhatAWriteDoes) {
  Rule rule = BlockRule("A");
  rule.set_id("225494730938493804");
  // 410 Gone to a delete: the rule is gone, the delete is done.
  transport_.Enqueue(Answer(410, ""));
  EXPECT_TRUE(client_->DeleteRule(kSite, rule.id()).ok());
  EXPECT_EQ(transport_.RequestCount(), 1);
  // 501 to an update: believed at once, no re-read (nothing was applied).
  transport_.Enqueue(Answer(501, ""));
  Expect(client_->UpdateRule(kSite, rule).status(),
         absl::StatusCode::kUnimplemented, "HTTP 501");
  EXPECT_EQ(transport_.RequestCount(), 2);
  // 408 to a delete: may be retried, so the site is re-read first; the
  // rule is gone: success.
  transport_.Enqueue(Answer(408, ""));
  transport_.Enqueue(Answer(200, RulesPage({})));
  EXPECT_TRUE(client_->DeleteRule(kSite, rule.id()).ok());
  EXPECT_EQ(transport_.RequestCount(), 4);
}

TEST_F(ClientTest, RefusesRulesBeyondTheLimitsWithoutSending) {
  Rule rule = BlockRule(std::string(201, 'x'));
  Expect(client_->CreateRule(kSite, rule).status(),
         absl::StatusCode::kInvalidArgument, "at most 200");
  EXPECT_EQ(transport_.RequestCount(), 0);
}

}  // namespace
}  // namespace tqs1::sentinelone

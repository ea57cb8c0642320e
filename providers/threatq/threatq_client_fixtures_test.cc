// ThreatQClient against answers shaped like a real ThreatQ instance's (the
// fidelity audit's section 4, "ThreatQ" 1-10), served by a FakeTransport:
// token answers, saved searches, flat and nested pages, numbers as strings,
// odd values, reads that change underneath, cursor pages, error shapes, and
// rows that give type and status ids only. The fixtures are written from
// the shapes the audit and spec/threatq-api.md describe.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "base/capturing_logger.h"
#include "base/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "providers/http/fake_transport.h"
#include "providers/threatq/threatq_client.h"

namespace tqs1::threatq {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using ::nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kPassword[] = "pa55-w0rd-SECRET";
constexpr char kClientId[] = "cid-SECRET-7";
constexpr char kRefresh[] = "refresh-SECRET-3";
constexpr char kBase[] = "https://tq.test";
constexpr char kQuery[] = "/api/indicators/query";
constexpr char kPages[] = "https://tq.test/api/indicators/query";

HttpResponse Reply(int status, std::string body,
                   std::string type = "application/json") {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::move(type));
  response.body = std::move(body);
  return response;
}

HttpResponse Json(const json& body) { return Reply(200, body.dump()); }

// The raw (still encoded) value of query parameter `key`, if sent.
std::optional<std::string> Param(const HttpRequest& request,
                                 absl::string_view key) {
  const size_t q = request.url.find('?');
  if (q == std::string::npos) return std::nullopt;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(request.url).substr(q + 1), '&')) {
    if (absl::ConsumePrefix(&part, key) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return std::nullopt;
}

int64_t IntParam(const HttpRequest& request, absl::string_view key) {
  int64_t v = 0;
  std::optional<std::string> text = Param(request, key);
  if (text.has_value()) {
    EXPECT_TRUE(absl::SimpleAtoi(*text, &v)) << *text;
  }
  return v;
}

json SavedQuery(const std::string& object_type = "indicators") {
  return {
      {"ui_query",
       {{"objects", {{"current", object_type}, {"selected", json::array()}}},
        {"criteria", json::object()},
        {"filters", json::object()},
        {"filter_sets",
         {{{"id", 0}, {"operator", "+or"}, {"expanded", true}}}}}},
      {"api_query",
       {{"criteria", json::object()},
        {"filters",
         {{"+and",
           {{{"+or",
              {{{"type_name", "IP Address"}},
               {{"type_name", "IPv6 Address"}}}}},
            {{"status_name", "Active"}},
            {{"score", {{"+gte", 6}}}}}}}}}}};
}

json Row(int64_t id, const std::string& value,
         const std::string& type = "IP Address",
         const std::string& status = "Active") {
  return {{"id", id}, {"value", value}, {"type", type}, {"status", status}};
}

// Rows 0..n-1 with ids 100.., values 10.0.0.<i>.
std::vector<json> Rows(int n) {
  std::vector<json> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(Row(100 + i, absl::StrCat("10.0.0.", i)));
  }
  return out;
}

// The rows [offset, offset + limit) of `rows`, as an offset page.
HttpResponse Slice(const std::vector<json>& rows, int64_t offset, int64_t limit,
                   std::optional<int64_t> total = std::nullopt) {
  json data = json::array();
  for (int64_t i = offset;
       i < static_cast<int64_t>(rows.size()) && i < offset + limit; ++i) {
    data.push_back(rows[i]);
  }
  return Json({{"total", total.value_or(static_cast<int64_t>(rows.size()))},
               {"limit", limit},
               {"offset", offset},
               {"data", data}});
}

// A scripted ThreatQ: a handler per path (without the query string); the
// token, the saved-search list and the indicator query have defaults. Handlers
// run one at a time (the client may fetch the next page on another thread).
struct Tq {
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit Tq(std::function<void(ThreatQClientOptions&)> change = nullptr)
      : transport([this](const HttpRequest& r) -> absl::StatusOr<HttpResponse> {
          return Route(r);
        }) {
    ThreatQClientOptions o;
    o.base_url = kBase;
    o.email = "svc-tq@example.org";
    o.password = kPassword;
    o.client_id = kClientId;
    o.clock = &clock;
    o.logger = &logger;
    if (change) change(o);
    auto made = ThreatQClient::Create(&transport, o);
    EXPECT_TRUE(made.ok()) << made.status();
    if (made.ok()) client = *std::move(made);
  }

  HttpResponse Route(const HttpRequest& r) {
    absl::MutexLock lock(&mu);
    absl::string_view path = r.url;
    path = path.substr(0, path.find('?'));
    EXPECT_TRUE(absl::ConsumePrefix(&path, kBase)) << r.url;
    const size_t q = r.url.find('?');
    sent.push_back(
        absl::StrCat(path, q == std::string::npos ? "" : r.url.substr(q)));
    if (path == "/api/token") {
      ++tokens;
      if (token) return token(r);
      return Json({{"access_token", absl::StrCat("tok-SECRET-", tokens)},
                   {"token_type", "bearer"},
                   {"expires_in", 3600}});
    }
    if (auto it = routes.find(std::string(path)); it != routes.end()) {
      return it->second(r);
    }
    if (path == "/api/search/query") {
      return Json(
          {{"total", 1},
           {"data",
            {{{"id", 12}, {"name", "C2"}, {"json", SavedQuery().dump()}}}}});
    }
    if (path == kQuery) {
      return Slice(Rows(3), IntParam(r, "offset"), IntParam(r, "limit"));
    }
    return Reply(404, R"({"errors": ["Not found"]})");
  }

  absl::StatusOr<CollectionRead> Read(absl::string_view name = "C2") {
    return client->ReadCollection(name);
  }

  // The requests sent to `path`, as "path?query", in order.
  std::vector<std::string> Sent(absl::string_view path) {
    absl::MutexLock lock(&mu);
    std::vector<std::string> out;
    for (const std::string& s : sent) {
      if (s.substr(0, s.find('?')) == path) out.push_back(s);
    }
    return out;
  }
  std::vector<std::string> Queries(absl::string_view path) {
    std::vector<std::string> out;
    for (const std::string& s : Sent(path)) {
      out.push_back(s.find('?') == std::string::npos ? ""
                                                     : s.substr(s.find('?')));
    }
    return out;
  }

  absl::Mutex mu;
  std::map<std::string, Handler> routes;
  Handler token;
  int tokens = 0;
  std::vector<std::string> sent;
  tqs1::FakeClock clock;
  log::CapturingLogger logger;
  http::FakeTransport transport;
  std::unique_ptr<ThreatQClient> client;
};

// --- 1. Token answers -----------------------------------------------------

TEST(ThreatQFixturesTest, TokenAnswersAndTheirLifetime) {
  struct Case {
    std::string name;
    json body;
    std::string expires_in;  // as TokenInfo reports it
    bool known;
    absl::Duration lifetime;
  };
  const json full = {{"access_token", "tok-SECRET-9"},
                     {"token_type", "bearer"},
                     {"expires_in", 3600},
                     {"refresh_token", kRefresh}};
  auto with = [&](json value) {
    json body = full;
    body["expires_in"] = std::move(value);
    return body;
  };
  json absent = full;
  absent.erase("expires_in");
  const std::vector<Case> kCases = {
      {"full", full, "3600", true, absl::Seconds(3600)},
      {"string", with("3600"), "\"3600\"", true, absl::Seconds(3600)},
      {"null", with(nullptr), "null", false, absl::Minutes(30)},
      {"absent", absent, "", false, absl::Minutes(30)},
      {"two days", with(172799), "172799", true, absl::Seconds(172799)},
      {"text", with("soon"), "\"soon\"", false, absl::Minutes(30)},
      {"zero", with(0), "0", false, absl::Minutes(30)},
      {"negative", with(-60), "-60", false, absl::Minutes(30)},
      {"object", with(json{{"s", 1}}), "{\"s\":1}", false, absl::Minutes(30)},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Tq tq;
    tq.token = [&](const HttpRequest&) { return Json(c.body); };
    EXPECT_EQ(tq.client->LastTokenInfo(), std::nullopt);
    absl::StatusOr<TokenInfo> info = tq.client->Login();
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->grant, "password");
    EXPECT_EQ(info->token_type, "bearer");
    EXPECT_EQ(info->expires_in, c.expires_in);
    EXPECT_EQ(info->expires_in_known, c.known);
    EXPECT_EQ(info->lifetime, c.lifetime);
    EXPECT_TRUE(info->refresh_token);
    ASSERT_TRUE(tq.client->LastTokenInfo().has_value());
    EXPECT_EQ(tq.client->LastTokenInfo()->expires_in, c.expires_in);
    EXPECT_EQ(tq.logger.Contains("assuming 30 minutes"), !c.known)
        << tq.logger.Text();
    // The token serves reads until its lifetime (less the margin) is up.
    ASSERT_TRUE(tq.Read().ok());
    EXPECT_EQ(tq.tokens, 1);
    tq.clock.Advance(c.lifetime - absl::Seconds(61));
    ASSERT_TRUE(tq.Read().ok());
    EXPECT_EQ(tq.tokens, 1);
    tq.clock.Advance(absl::Seconds(2));
    ASSERT_TRUE(tq.Read().ok());
    EXPECT_EQ(tq.tokens, 2);
    EXPECT_FALSE(tq.logger.Contains(kRefresh));
    EXPECT_FALSE(tq.logger.Contains("tok-SECRET-9"));
  }
}

TEST(ThreatQFixturesTest, ClientCredentialsTokenInfoWithoutRefreshToken) {
  Tq tq([](ThreatQClientOptions& o) {
    o.grant = ThreatQClientOptions::Grant::kClientCredentials;
    o.client_secret = "cs-SECRET";
  });
  tq.token = [](const HttpRequest&) {
    return Json({{"access_token", "t"},
                 {"token_type", "Bearer"},
                 {"expires_in", 172799}});
  };
  absl::StatusOr<TokenInfo> info = tq.client->Login();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->grant, "client_credentials");
  EXPECT_EQ(info->token_type, "Bearer");
  EXPECT_FALSE(info->refresh_token);
}

TEST(ThreatQFixturesTest, TokenRefusals) {
  struct Case {
    std::string name;
    HttpResponse response;
    absl::StatusCode code;
    std::string message;
  };
  HttpResponse login = Reply(302, "", "text/html");
  login.headers.emplace_back("Location", "https://tq.test/login");
  const std::string kUrl = "POST https://tq.test/api/token";
  const std::vector<Case> kCases = {
      {"400 error and message",
       Reply(400, R"({"error": "invalid_grant", "message": "The user )"
                  R"(credentials were incorrect."})"),
       absl::StatusCode::kUnauthenticated,
       "ThreatQ refused the credentials: HTTP 400 Bad Request from " + kUrl +
           ": invalid_grant: The user credentials were incorrect."},
      {"400 errors list",
       Reply(400, R"({"errors": ["The email field is required.",)"
                  R"( ["The password field is required."]]})"),
       absl::StatusCode::kUnauthenticated,
       "ThreatQ refused the credentials: HTTP 400 Bad Request from " + kUrl +
           ": The email field is required.; The password field is "
           "required."},
      {"401 json",
       Reply(401, R"({"error": "invalid_client", "message": )"
                  R"("Client authentication failed"})"),
       absl::StatusCode::kUnauthenticated,
       "ThreatQ refused the credentials: HTTP 401 Unauthorized from " + kUrl +
           ": invalid_client: Client authentication failed"},
      {"302 to the login page", login, absl::StatusCode::kFailedPrecondition,
       "ThreatQ: getting a token: " + kUrl +
           " was redirected (HTTP 302 to \"https://tq.test/login\"); check "
           "the ThreatQ base URL"},
      {"200 html",
       Reply(200, "<!DOCTYPE html><html><title>ThreatQ | Login</title>",
             "text/html; charset=UTF-8"),
       absl::StatusCode::kDataLoss,
       "ThreatQ: getting a token: expected JSON from " + kUrl +
           " but got an HTML page (HTTP 200); a proxy or login page in the "
           "way?"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Tq tq;
    tq.token = [&](const HttpRequest&) { return c.response; };
    absl::Status status = tq.client->Login().status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(), c.message);
    EXPECT_EQ(tq.client->LastTokenInfo(), std::nullopt);
    EXPECT_EQ(tq.Read().status(), status);
  }
}

// --- 2. Saved searches ----------------------------------------------------

TEST(ThreatQFixturesTest, SavedSearchJsonAsStringOrObjectIsSentWithFields) {
  for (bool as_string : {true, false}) {
    SCOPED_TRACE(as_string ? "string" : "object");
    Tq tq;
    tq.routes["/api/search/query"] = [&](const HttpRequest&) {
      const json saved = SavedQuery();
      return Json({{"data",
                    {{{"id", 12},
                      {"name", "C2"},
                      {"json", as_string ? json(saved.dump()) : saved}}}}});
    };
    std::string body;
    tq.routes[kQuery] = [&](const HttpRequest& r) {
      body = r.body;
      return Slice(Rows(1), 0, 1000);
    };
    ASSERT_TRUE(tq.Read().ok());
    json expected = SavedQuery()["api_query"];
    expected["fields"] = {"id", "value", "type", "status"};
    EXPECT_EQ(json::parse(body), expected);
  }
}

TEST(ThreatQFixturesTest, SavedSearchWithoutAQueryNamesTheCollection) {
  struct Case {
    json value;
    std::string said;
  };
  const Case kCases[] = {{nullptr, "null"}, {"", "\"\""}};
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.said);
    Tq tq;
    tq.routes["/api/search/query"] = [&](const HttpRequest&) {
      return Json(
          {{"data", {{{"id", 12}, {"name", "C2"}, {"json", c.value}}}}});
    };
    absl::Status status = tq.Read().status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(status.message(),
              absl::StrCat("ThreatQ: the saved search of data collection "
                           "\"C2\" (from GET https://tq.test/api/search/query) "
                           "is empty (\"json\" is ",
                           c.said, "); save the collection again in ThreatQ"));
  }
}

TEST(ThreatQFixturesTest, UnnamedAndOddSavedSearchesAreSkippedAndCounted) {
  Tq tq;
  tq.routes["/api/search/query"] = [](const HttpRequest&) {
    return Json(
        {{"total", 6},
         {"data",
          {{{"id", 1}, {"name", nullptr}, {"json", SavedQuery().dump()}},
           {{"id", 2}, {"json", SavedQuery().dump()}},
           {{"id", "3"}, {"name", 3}},
           "not an object",
           {{"id", 12},
            {"name", "C2"},
            {"hash", "69be5d0cb6cf"},
            {"user_id", 4},
            {"created_at", "2021-10-01 18:36:03"},
            {"updated_at", "2021-10-02 08:00:00"},
            {"shared", true},
            {"shared_with", {{{"user_id", 9}}}},
            {"json", SavedQuery().dump()}},
           {{"id", "13"}, {"name", "Other"}, {"hash", nullptr}}}}});
  };
  absl::StatusOr<CollectionList> list = tq.client->ListCollections();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->unnamed, 4);
  EXPECT_THAT(list->collections,
              ElementsAre(CollectionInfo{"12", "C2", "69be5d0cb6cf"},
                          CollectionInfo{"13", "Other", ""}));
  EXPECT_TRUE(tq.logger.Contains(
      "ThreatQ: 4 of 6 saved searches from GET "
      "https://tq.test/api/search/query have no string \"name\"; skipped"))
      << tq.logger.Text();
  // The read finds the collection among them.
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  // A name no item has: the near matches come from named items only.
  absl::Status missing = tq.Read("c2").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("\"C2\""));
}

TEST(ThreatQFixturesTest, SavedSearchOnAdversariesIsRefused) {
  Tq tq;
  tq.routes["/api/search/query"] = [](const HttpRequest&) {
    return Json({{"data",
                  {{{"id", 12},
                    {"name", "C2"},
                    {"json", SavedQuery("adversaries").dump()}}}}});
  };
  absl::Status status = tq.Read().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "ThreatQ: data collection \"C2\" is a search on \"adversaries\", "
            "not on indicators; tqs1 reads indicator collections only");
  EXPECT_TRUE(tq.Sent(kQuery).empty());
}

// A list of `n` saved searches, the last one "C2".
std::vector<json> Searches(int n) {
  std::vector<json> out;
  for (int i = 0; i + 1 < n; ++i) {
    out.push_back({{"id", i}, {"name", absl::StrCat("S", i)}});
  }
  out.push_back({{"id", n}, {"name", "C2"}, {"json", SavedQuery()}});
  return out;
}

TEST(ThreatQFixturesTest, SavedSearchListsArePagedWithAnExplicitLimit) {
  struct Case {
    std::string name;
    int items;
    int server_page;    // what the server sends at most
    bool total;         // whether it says its total
    bool echoes_limit;  // whether it echoes the (clamped) limit
    std::vector<std::string> queries;
  };
  const std::vector<Case> kCases = {
      {"one short page", 3, 1000, false, false, {"?limit=1000&offset=0"}},
      {"total above what came",
       5,
       2,
       true,
       false,
       {"?limit=1000&offset=0", "?limit=1000&offset=2",
        "?limit=1000&offset=4"}},
      {"no total, clamped limit echoed",
       5,
       2,
       false,
       true,
       {"?limit=1000&offset=0", "?limit=1000&offset=2",
        "?limit=1000&offset=4"}},
      {"no total, full pages",
       1500,
       1000,
       false,
       false,
       {"?limit=1000&offset=0", "?limit=1000&offset=1000"}},
      {"no total, exactly one full page",
       1000,
       1000,
       false,
       false,
       {"?limit=1000&offset=0", "?limit=1000&offset=1000"}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Tq tq;
    const std::vector<json> all = Searches(c.items);
    tq.routes["/api/search/query"] = [&](const HttpRequest& r) {
      const int64_t offset = IntParam(r, "offset");
      const int64_t limit =
          std::min<int64_t>(IntParam(r, "limit"), c.server_page);
      json data = json::array();
      for (int64_t i = offset;
           i < static_cast<int64_t>(all.size()) && i < offset + limit; ++i) {
        data.push_back(all[i]);
      }
      json body = {{"data", data}};
      if (c.total) body["total"] = all.size();
      if (c.echoes_limit) body["limit"] = limit;
      return Json(body);
    };
    absl::StatusOr<CollectionList> list = tq.client->ListCollections();
    ASSERT_TRUE(list.ok()) << list.status();
    EXPECT_EQ(list->collections.size(), all.size());
    EXPECT_EQ(tq.Queries("/api/search/query"), c.queries);
    EXPECT_TRUE(tq.Read().ok());
  }
}

TEST(ThreatQFixturesTest, SavedSearchListIgnoringTheOffsetEndsWithoutRepeats) {
  Tq tq;
  tq.routes["/api/search/query"] = [](const HttpRequest&) {
    // Says 4, sends the same 2 whatever the offset.
    return Json({{"total", 4}, {"data", Searches(2)}});
  };
  absl::StatusOr<CollectionList> list = tq.client->ListCollections();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->collections.size(), 2u);
  EXPECT_EQ(tq.Queries("/api/search/query").size(), 2u);
  EXPECT_TRUE(tq.Read().ok());  // one "C2", not a duplicate
}

// --- 3-6. Indicator pages -------------------------------------------------

TEST(ThreatQFixturesTest, FlatPageWithFields) {
  Tq tq;
  tq.routes[kQuery] = [](const HttpRequest&) {
    return Json({{"total", 2},
                 {"limit", 1000},
                 {"offset", 0},
                 {"data",
                  {Row(106767, "203.0.113.7"),
                   Row(106768, "2001:db8::7", "IPv6 Address")}}});
  };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, ElementsAre("203.0.113.7", "2001:db8::7"));
  EXPECT_THAT(read->indicator_ids, ElementsAre(106767, 106768));
}

TEST(ThreatQFixturesTest, NestedPageWithEveryExtraField) {
  Tq tq;
  auto nested = [](int64_t id, const std::string& value, int type_id,
                   const std::string& type, int status_id,
                   const std::string& status, json score) {
    return json{
        {"id", id},
        {"value", value},
        {"class", "network"},
        {"hash", "69be5d0cb6cf"},
        {"type_id", type_id},
        {"type", {{"id", type_id}, {"name", type}, {"class", "network"}}},
        {"status_id", status_id},
        {"status",
         {{"id", status_id},
          {"name", status},
          {"description", "Poses a threat and is being exported."}}},
        {"score", std::move(score)},
        {"created_at", "2021-10-01 18:36:03"},
        {"touched_at", "2021-10-24 18:36:10"},
        {"expires_calculated_at", "2021-10-23 18:40:17"},
        {"expired_at", nullptr},
        {"adversaries", json::array()},
        {"attributes", {{{"name", "Country"}, {"value", "US"}}}},
        {"sources",
         {{{"name", "AlienVault OTX"},
           {"source_type", "connectors"},
           {"source_expire_days", "30"}}}}};
  };
  tq.routes[kQuery] = [&](const HttpRequest&) {
    return Json({{"total", 3},
                 {"data",
                  {nested(1, "203.0.113.7", 15, "IP Address", 1, "Active", 4),
                   nested(2, "198.51.100.0/24", 22, "CIDR Block", 1, "Active",
                          {{"generated_score", 5}, {"manual_score", nullptr}}),
                   nested(3, "evil.example", 9, "FQDN", 1, "Active", "7")}}});
  };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, ElementsAre("203.0.113.7", "198.51.100.0/24"));
  EXPECT_THAT(read->report.skipped_types(),
              UnorderedElementsAre(Pair("FQDN", 1)));
  // Names given: no list of types or statuses is asked for.
  EXPECT_TRUE(tq.Sent("/api/indicator/types").empty());
}

TEST(ThreatQFixturesTest, NumbersAsStringsNullOffsetAndAClampedLimit) {
  Tq tq([](ThreatQClientOptions& o) { o.page_size = 500; });
  const std::vector<json> rows = Rows(5);
  tq.routes[kQuery] = [&](const HttpRequest& r) {
    const int64_t offset = IntParam(r, "offset");
    EXPECT_EQ(IntParam(r, "limit"), 500);
    json data = json::array();
    for (int64_t i = offset; i < 5 && i < offset + 2; ++i) {
      json row = rows[i];
      row["id"] = absl::StrCat(106767 + i);  // a numeric string
      data.push_back(row);
    }
    // The server clamps the limit to 2 and says so; "offset" comes as a
    // string, or null on the first page.
    return Json(
        {{"total", "5"},
         {"limit", "2"},
         {"offset", offset == 0 ? json(nullptr) : json(absl::StrCat(offset))},
         {"data", data}});
  };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 5u);
  EXPECT_THAT(read->indicator_ids,
              ElementsAre(106767, 106768, 106769, 106770, 106771));
  EXPECT_THAT(tq.Queries(kQuery), ElementsAre("?limit=500&sort=id&cursorMark=*",
                                              "?limit=500&offset=2&sort=id",
                                              "?limit=500&offset=4&sort=id"));
}

TEST(ThreatQFixturesTest, OddValuesPassThroughRawAndStatusesAreCounted) {
  Tq tq;
  const std::vector<json> rows = {
      Row(1, "2001:DB8::A", "IPv6 Address"),
      Row(2, "2001:0db8:0000::0001", "IPv6 Address"),
      Row(3, "198.51.100.7/24", "CIDR Block"),
      Row(4, "010.000.000.001"),
      Row(5, " 192.0.2.1 "),
      Row(6, "::ffff:192.0.2.1", "IPv6 Address"),
      Row(7, "fe80::1%eth0", "IPv6 Address"),
      Row(8, "", "IP Address"),
      Row(9, "evil.example", "FQDN"),
      Row(10, "http://192.0.2.9/x", "URL"),
      Row(11, "192.0.2.11", "IP Address", "Expired"),
      Row(12, "192.0.2.12", "IP Address", "Indirect"),
      Row(13, "192.0.2.13", "IP Address", "Review"),
      Row(14, "192.0.2.14", "IP Address", "Whitelisted"),
      Row(15, "192.0.2.15", "IP Address", "False Positive"),
      Row(16, "192.0.2.16", "ip address", "active"),
  };
  tq.routes[kQuery] = [&](const HttpRequest& r) {
    return Slice(rows, IntParam(r, "offset"), IntParam(r, "limit"));
  };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  // Unvalidated: the reconciler validates and reports.
  EXPECT_THAT(read->values, ElementsAre("2001:DB8::A", "2001:0db8:0000::0001",
                                        "198.51.100.7/24", "010.000.000.001",
                                        " 192.0.2.1 ", "::ffff:192.0.2.1",
                                        "fe80::1%eth0", "", "192.0.2.16"));
  EXPECT_EQ(read->report.indicators_read(), 16);
  EXPECT_THAT(read->report.skipped_types(),
              UnorderedElementsAre(Pair("FQDN", 1), Pair("URL", 1)));
  EXPECT_THAT(read->report.skipped_statuses(),
              UnorderedElementsAre(Pair("Expired", 1), Pair("Indirect", 1),
                                   Pair("Review", 1), Pair("Whitelisted", 1),
                                   Pair("False Positive", 1)));
}

// --- 7. Reads that change underneath --------------------------------------

// An offset-paged server of 2-row pages whose rows and total the test
// changes as pages are asked for: `on_page(pass, offset)` runs first; a
// pass starts with each request at offset 0 (the cursor request too). The
// client may ask for the next page before it has read this one, so changes
// go by pass and offset, not by request number.
struct Changing {
  std::vector<json> rows = Rows(6);
  std::optional<int64_t> total;  // overrides rows.size()
  int pass = 0;
  std::function<void(int pass, int64_t offset)> on_page;
  HttpResponse operator()(const HttpRequest& r) {
    const int64_t offset = IntParam(r, "offset");
    if (offset == 0) ++pass;
    if (on_page) on_page(pass, offset);
    return Slice(rows, offset, 2, total);
  }
};

TEST(ThreatQFixturesTest, ATotalThatGrowsIsReadToTheNewTotal) {
  Tq tq;
  Changing server;
  server.rows = Rows(4);
  server.on_page = [&](int, int64_t offset) {
    if (offset == 2) server.rows = Rows(7);  // feeds add three
  };
  tq.routes[kQuery] = [&](const HttpRequest& r) { return server(r); };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 7u);
  EXPECT_THAT(tq.Queries(kQuery),
              ElementsAre("?limit=1000&sort=id&cursorMark=*",
                          "?limit=1000&offset=2&sort=id",
                          "?limit=1000&offset=4&sort=id",
                          "?limit=1000&offset=6&sort=id"));
  EXPECT_TRUE(tq.logger.Contains(
      "ThreatQ: data collection \"C2\": 7 indicators read (by offset, sorted "
      "by id; total 4 at the first page, 7 at the last), 7 IP values kept"))
      << tq.logger.Text();
}

TEST(ThreatQFixturesTest, AChangeUnderneathReadsAgainFromTheStart) {
  struct Case {
    std::string name;
    // Changes the server in pass 1 at offset 2, and back in pass 2.
    std::function<void(Changing&, int pass, int64_t offset)> change;
    std::string reason;  // in the restart log line
  };
  const std::vector<Case> kCases = {
      {"total shrinks",
       [](Changing& s, int pass, int64_t offset) {
         if (pass == 1 && offset == 2) s.total = 5;
         if (pass == 2 && offset == 0) s.total.reset();
       },
       "the total went from 6 to 5 at offset 2; total 6 at the first page, 5 "
       "at the last"},
      {"a row repeats",
       [](Changing& s, int pass, int64_t offset) {
         // An older indicator joins the collection: rows shift by one.
         if (pass == 1 && offset == 2) {
           s.rows.insert(s.rows.begin(), Row(50, "10.9.9.9"));
         }
         if (pass == 2 && offset == 0) s.rows.erase(s.rows.begin());
       },
       "indicator id 101 came twice; total 6 at the first page, 7 at the "
       "last"},
      {"an empty page before the end",
       [](Changing& s, int pass, int64_t offset) {
         if (pass == 1 && offset == 2) {
           s.rows.resize(2);
           s.total = 6;
         }
         if (pass == 2 && offset == 0) {
           s.rows = Rows(6);
           s.total.reset();
         }
       },
       absl::StrCat("POST ", kPages,
                    " (page 2, offset 2) came back empty before the end (2 "
                    "of 6 indicators); total 6 at the first page, 6 at the "
                    "last")},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Tq tq;
    Changing server;
    server.on_page = [&](int pass, int64_t offset) {
      c.change(server, pass, offset);
    };
    tq.routes[kQuery] = [&](const HttpRequest& r) { return server(r); };
    absl::StatusOr<CollectionRead> read = tq.Read();
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_THAT(read->values, ElementsAre("10.0.0.0", "10.0.0.1", "10.0.0.2",
                                          "10.0.0.3", "10.0.0.4", "10.0.0.5"));
    EXPECT_TRUE(tq.logger.Contains(absl::StrCat(
        "ThreatQ: data collection \"C2\" changed while being read (", c.reason,
        "); reading it again from the start (attempt 2 of 3)")))
        << tq.logger.Text();
    // Pass 1: the cursor request, offset 2 and the guess at offset 4 sent
    // with it; pass 2 by offset (the server offered no cursor) from 0.
    EXPECT_THAT(
        tq.Queries(kQuery),
        ElementsAre(
            "?limit=1000&sort=id&cursorMark=*", "?limit=1000&offset=2&sort=id",
            "?limit=1000&offset=4&sort=id", "?limit=1000&offset=0&sort=id",
            "?limit=1000&offset=2&sort=id", "?limit=1000&offset=4&sort=id"));
  }
}

TEST(ThreatQFixturesTest, ACollectionThatKeepsChangingFailsTheRead) {
  for (int attempts : {1, 3}) {
    SCOPED_TRACE(attempts);
    Tq tq([&](ThreatQClientOptions& o) { o.max_read_attempts = attempts; });
    // A server that ignores the offset: page 1 every time.
    tq.routes[kQuery] = [](const HttpRequest&) {
      return Json({{"total", 6},
                   {"data", {Row(100, "10.0.0.0"), Row(101, "10.0.0.1")}}});
    };
    absl::Status status = tq.Read().status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(status.message(),
              absl::StrCat("ThreatQ: data collection \"C2\" kept changing "
                           "while being read (",
                           attempts, attempts == 1 ? " attempt" : " attempts",
                           "; the last: indicator id 100 came twice; total 6 "
                           "at its first page, 6 at its last); refusing a "
                           "partial list; read it again later"));
    // Each pass: two pages and the guess at the third.
    EXPECT_EQ(tq.Sent(kQuery).size(), 3u * attempts);
  }
}

TEST(ThreatQFixturesTest, MaxReadAttemptsBelowOneIsRefused) {
  http::FakeTransport transport;
  ThreatQClientOptions o;
  o.base_url = kBase;
  o.email = "a@b";
  o.password = "p";
  o.client_id = "c";
  o.max_read_attempts = 0;
  absl::Status status = ThreatQClient::Create(&transport, o).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "ThreatQ max_read_attempts must be at least 1");
}

// --- 8. Cursor pages ------------------------------------------------------

// A cursor server over `rows`: pages of 2; the cursor names the next row
// as "c<index>" (or what `mark` makes of it); no offset echoed.
struct Cursors {
  std::vector<json> rows = Rows(5);
  std::function<std::string(int64_t next)> mark = [](int64_t next) {
    return absl::StrCat("c", next);
  };
  // What each request sent as cursorMark, raw.
  std::vector<std::string> marks;
  std::function<HttpResponse(const std::string& mark)> override_answer;
  HttpResponse operator()(const HttpRequest& r) {
    EXPECT_EQ(Param(r, "offset"), std::nullopt) << r.url;
    EXPECT_EQ(Param(r, "sort"), "id") << r.url;
    const std::string sent = Param(r, "cursorMark").value_or("");
    marks.push_back(sent);
    if (override_answer) {
      HttpResponse answer = override_answer(sent);
      if (answer.status != 0) return answer;
    }
    int64_t at = 0;
    if (sent != "*") {
      for (int64_t i = 0; i <= static_cast<int64_t>(rows.size()); ++i) {
        if (net_form(mark(i)) == sent) at = i;
      }
    }
    json data = json::array();
    for (int64_t i = at; i < static_cast<int64_t>(rows.size()) && i < at + 2;
         ++i) {
      data.push_back(rows[i]);
    }
    const int64_t next = std::min<int64_t>(at + 2, rows.size());
    // After the last rows, one more page: empty data, a new cursor.
    return Json(
        {{"total", rows.size()},
         {"limit", 2},
         {"data", data},
         {"nextCursorMark", data.empty() ? mark(next + 1) : mark(next)}});
  }
  // How the client must send `meant` in the query string.
  std::function<std::string(const std::string&)> net_form =
      [](const std::string& meant) { return meant; };
};

TEST(ThreatQFixturesTest, CursorPagesToAnEmptyPage) {
  Tq tq;
  Cursors server;
  tq.routes[kQuery] = [&](const HttpRequest& r) { return server(r); };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 5u);
  EXPECT_THAT(server.marks, ElementsAre("*", "c2", "c4", "c5"));
  EXPECT_THAT(tq.Queries(kQuery),
              ElementsAre("?limit=1000&sort=id&cursorMark=*",
                          "?limit=1000&sort=id&cursorMark=c2",
                          "?limit=1000&sort=id&cursorMark=c4",
                          "?limit=1000&sort=id&cursorMark=c5"));
  EXPECT_TRUE(tq.logger.Contains("5 indicators read (by cursor, sorted by id"))
      << tq.logger.Text();
}

TEST(ThreatQFixturesTest, AnUnchangedCursorEndsTheRead) {
  Tq tq;
  Cursors server;
  server.rows = Rows(4);
  // The page of the last rows repeats the cursor it was asked with.
  server.override_answer = [&](const std::string& mark) {
    if (mark != "c2") return HttpResponse{};
    return Json({{"total", 4},
                 {"data", {server.rows[2], server.rows[3]}},
                 {"nextCursorMark", "c2"}});
  };
  tq.routes[kQuery] = [&](const HttpRequest& r) { return server(r); };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 4u);
  EXPECT_THAT(server.marks, ElementsAre("*", "c2"));
}

TEST(ThreatQFixturesTest, CursorMarksAreEncodedOnceAndDecodedOnce) {
  struct Case {
    std::string name;
    std::function<std::string(int64_t)> mark;  // as the server sends it
    std::function<std::string(const std::string&)> net_form;
  };
  const std::vector<Case> kCases = {
      {"base64 with + / =",
       [](int64_t n) { return absl::StrCat("AoJ9+x/", n, "="); },
       [](const std::string& m) {
         return absl::StrReplaceAll(m,
                                    {{"+", "%2B"}, {"/", "%2F"}, {"=", "%3D"}});
       }},
      {"already percent-encoded",
       [](int64_t n) { return absl::StrCat("AoJ9%2Bx%2F", n, "%3D"); },
       [](const std::string& m) { return m; }},
      {"a bare percent", [](int64_t n) { return absl::StrCat("50%off-", n); },
       [](const std::string& m) {
         return absl::StrReplaceAll(m, {{"%", "%25"}});
       }},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Tq tq;
    Cursors server;
    server.mark = c.mark;
    server.net_form = c.net_form;
    tq.routes[kQuery] = [&](const HttpRequest& r) { return server(r); };
    absl::StatusOr<CollectionRead> read = tq.Read();
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->values.size(), 5u);
    ASSERT_EQ(server.marks.size(), 4u);
    EXPECT_EQ(server.marks[1], c.net_form(c.mark(2)));
  }
}

TEST(ThreatQFixturesTest, CursorReadsThatChangeReadAgain) {
  struct Case {
    std::string name;
    std::function<HttpResponse(Cursors&, const std::string& mark)> answer;
    std::string reason;
  };
  const std::vector<Case> kCases = {
      {"a row repeats",
       [](Cursors& s, const std::string& mark) {
         if (mark == "c2" && s.marks.size() == 2) {
           return Json({{"total", 5},
                        {"data", {Row(101, "10.0.0.1")}},
                        {"nextCursorMark", "c3"}});
         }
         return HttpResponse{};
       },
       "indicator id 101 came twice"},
      {"the cursor ends early",
       [](Cursors& s, const std::string& mark) {
         if (mark == "c2" && s.marks.size() == 2) {
           return Json({{"total", 5}, {"data", {Row(102, "10.0.0.2")}}});
         }
         return HttpResponse{};
       },
       absl::StrCat("the cursor ended after 3 of 5 indicators (POST ", kPages,
                    " (page 2, by cursor) sent no nextCursorMark)")},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Tq tq;
    Cursors server;
    server.override_answer = [&](const std::string& mark) {
      return c.answer(server, mark);
    };
    tq.routes[kQuery] = [&](const HttpRequest& r) { return server(r); };
    absl::StatusOr<CollectionRead> read = tq.Read();
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->values.size(), 5u);
    EXPECT_THAT(server.marks, ElementsAre("*", "c2", "*", "c2", "c4", "c5"));
    EXPECT_TRUE(tq.logger.Contains(absl::StrCat(
        "changed while being read (", c.reason, "; total 5 at the first page")))
        << tq.logger.Text();
  }
}

TEST(ThreatQFixturesTest, CursorRefusedWith400FallsBackToOffsets) {
  Tq tq;
  const std::vector<json> rows = Rows(3);
  tq.routes[kQuery] = [&](const HttpRequest& r) {
    if (Param(r, "cursorMark").has_value()) {
      return Reply(400, R"({"errors": ["Unknown parameter cursorMark."]})");
    }
    return Slice(rows, IntParam(r, "offset"), 2);
  };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 3u);
  EXPECT_THAT(tq.Queries(kQuery),
              ElementsAre("?limit=1000&sort=id&cursorMark=*",
                          "?limit=1000&offset=0&sort=id",
                          "?limit=1000&offset=2&sort=id"));
}

// --- 9. Errors ------------------------------------------------------------

TEST(ThreatQFixturesTest, ErrorAnswersOfTheIndicatorQuery) {
  struct Case {
    std::string name;
    HttpResponse response;
    absl::StatusCode code;
    std::string message;  // after "ThreatQ: reading data collection ...: "
  };
  HttpResponse retry_after = Reply(429, R"({"errors": ["Too many requests"]})");
  retry_after.headers.emplace_back("Retry-After", "7");
  const std::string kFrom = absl::StrCat(" from POST ", kPages);
  const std::vector<Case> kCases = {
      {"errors of strings and lists",
       Reply(400, R"({"errors": ["The filter is invalid.",)"
                  R"( ["type_name is unknown", "score must be a number"]]})"),
       absl::StatusCode::kInvalidArgument,
       "HTTP 400 Bad Request" + kFrom +
           ": The filter is invalid.; type_name is unknown; score must be a "
           "number"},
      {"errors by field",
       Reply(422, R"({"data": {"errors": {"limit": ["The limit may not be )"
                  R"(greater than 1000."]}}})"),
       absl::StatusCode::kInvalidArgument,
       "HTTP 422 Unprocessable Entity" + kFrom +
           ": The limit may not be greater than 1000."},
      {"200 with errors",
       Reply(200, R"({"total": 0, "data": [], "errors": ["Search timed )"
                  R"(out"]})"),
       absl::StatusCode::kDataLoss,
       absl::StrCat("POST ", kPages,
                    " (page 1, offset 0) answered HTTP 200 with errors: "
                    "Search timed out")},
      {"403", Reply(403, R"({"errors": ["This action is unauthorized."]})"),
       absl::StatusCode::kPermissionDenied,
       "HTTP 403 Forbidden" + kFrom + ": This action is unauthorized."},
      {"404", Reply(404, R"({"errors": ["Not found"]})"),
       absl::StatusCode::kNotFound,
       "HTTP 404 Not Found" + kFrom + ": Not found"},
      {"429 without Retry-After", Reply(429, ""),
       absl::StatusCode::kUnavailable, "HTTP 429 Too Many Requests" + kFrom},
      {"429 with Retry-After", retry_after, absl::StatusCode::kUnavailable,
       "HTTP 429 Too Many Requests" + kFrom + ": Too many requests"},
      {"500 html",
       Reply(500,
             "<!DOCTYPE html><html><head><title>Whoops! There was an "
             "error.</title></head></html>",
             "text/html; charset=UTF-8"),
       absl::StatusCode::kUnavailable,
       "HTTP 500 Internal Server Error" + kFrom +
           ": an HTML page (a proxy in the way?)"},
      {"502 nginx",
       Reply(502,
             "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>"
             "\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>"
             "nginx</center>\r\n</body>\r\n</html>\r\n",
             "text/html"),
       absl::StatusCode::kUnavailable,
       "HTTP 502 Bad Gateway" + kFrom + ": an HTML page (a proxy in the way?)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Tq tq;
    tq.routes[kQuery] = [&](const HttpRequest&) { return c.response; };
    absl::Status status = tq.Read().status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(),
              absl::StrCat("ThreatQ: reading data collection \"C2\" at offset "
                           "0: ",
                           c.message));
  }
}

TEST(ThreatQFixturesTest, A401MidPagingReauthenticatesAndContinues) {
  Tq tq;
  const std::vector<json> rows = Rows(6);
  int refused = 0;
  tq.routes[kQuery] = [&](const HttpRequest& r) {
    const int64_t offset = IntParam(r, "offset");
    if (offset == 2 && refused == 0) {
      ++refused;
      return Reply(401, R"({"errors": ["Unauthenticated."]})");
    }
    return Slice(rows, offset, 2);
  };
  absl::StatusOr<CollectionRead> read = tq.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 6u);
  EXPECT_EQ(tq.tokens, 2);
  EXPECT_EQ(refused, 1);
}

// --- 10. Rows with ids only -----------------------------------------------

HttpResponse NamedIds(const std::vector<std::pair<int, std::string>>& items) {
  json data = json::array();
  for (const auto& [id, name] : items) {
    data.push_back({{"id", id}, {"name", name}, {"class", "network"}});
  }
  return Json({{"total", data.size()}, {"data", data}});
}

void ServeTypesAndStatuses(Tq& tq) {
  // Ids that differ from the defaults (IP Address is 15 here, not 14).
  tq.routes["/api/indicator/types"] = [](const HttpRequest&) {
    return NamedIds({{9, "FQDN"},
                     {15, "IP Address"},
                     {16, "IPv6 Address"},
                     {22, "CIDR Block"}});
  };
  tq.routes["/api/indicator/statuses"] = [](const HttpRequest&) {
    return NamedIds({{1, "Active"},
                     {2, "Expired"},
                     {3, "Indirect"},
                     {4, "Review"},
                     {5, "Whitelisted"},
                     {8, "False Positive"}});
  };
}

TEST(ThreatQFixturesTest, IdOnlyRowsAreNamedFromTheTypeAndStatusLists) {
  Tq tq;
  ServeTypesAndStatuses(tq);
  const std::vector<json> rows = {
      {{"id", 1}, {"value", "203.0.113.1"}, {"type_id", 15}, {"status_id", 1}},
      {{"id", 2},
       {"value", "2001:db8::2"},
       {"type", {{"id", 16}}},
       {"status", {{"id", "1"}}}},
      {{"id", 3}, {"value", "203.0.113.3"}, {"type_id", 15}, {"status_id", 5}},
      {{"id", 4}, {"value", "x.example"}, {"type_id", 9}, {"status", "Active"}},
      {{"id", 5},
       {"value", "198.51.100.0/24"},
       {"type", "CIDR Block"},
       {"status_id", "8"}},
  };
  tq.routes[kQuery] = [&](const HttpRequest& r) {
    return Slice(rows, IntParam(r, "offset"), 2);  // three pages
  };
  for (int read_number = 1; read_number <= 2; ++read_number) {
    SCOPED_TRACE(read_number);
    absl::StatusOr<CollectionRead> read = tq.Read();
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_THAT(read->values, ElementsAre("203.0.113.1", "2001:db8::2"));
    EXPECT_THAT(read->report.skipped_types(),
                UnorderedElementsAre(Pair("FQDN", 1)));
    EXPECT_THAT(read->report.skipped_statuses(),
                UnorderedElementsAre(Pair("Whitelisted", 1),
                                     Pair("False Positive", 1)));
    // Once per read, with an explicit limit.
    EXPECT_EQ(tq.Sent("/api/indicator/types").size(),
              static_cast<size_t>(read_number));
    EXPECT_EQ(tq.Sent("/api/indicator/statuses").size(),
              static_cast<size_t>(read_number));
  }
  EXPECT_EQ(tq.Sent("/api/indicator/types")[0],
            "/api/indicator/types?limit=1000&offset=0");
}

TEST(ThreatQFixturesTest, AnIdNoListHasFailsTheRead) {
  Tq tq;
  ServeTypesAndStatuses(tq);
  tq.routes[kQuery] = [](const HttpRequest&) {
    return Json({{"total", 1},
                 {"data",
                  {{{"id", 1},
                    {"value", "203.0.113.1"},
                    {"type_id", 15},
                    {"status_id", 99}}}}});
  };
  absl::Status status = tq.Read().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(),
            absl::StrCat("ThreatQ: reading data collection \"C2\" at offset "
                         "0: indicator #0 of POST ",
                         kPages,
                         " (page 1, offset 0) has status_id 99, which GET "
                         "https://tq.test/api/indicator/statuses does not "
                         "list"));
}

TEST(ThreatQFixturesTest, ListsOfTypesAndStatusesForCheck) {
  Tq tq;
  ServeTypesAndStatuses(tq);
  // An item without a numeric id or a name is left out.
  tq.routes["/api/indicator/types"] = [](const HttpRequest&) {
    return Json({{"data",
                  {{{"id", 15}, {"name", "IP Address"}},
                   {{"id", "16"}, {"name", "IPv6 Address"}},
                   {{"id", 17}},
                   {{"name", "No id"}},
                   {{"id", 22}, {"name", "CIDR Block"}}}}});
  };
  absl::StatusOr<std::vector<NamedId>> types = tq.client->ListIndicatorTypes();
  ASSERT_TRUE(types.ok()) << types.status();
  EXPECT_THAT(*types, ElementsAre(NamedId{15, "IP Address"},
                                  NamedId{16, "IPv6 Address"},
                                  NamedId{22, "CIDR Block"}));
  absl::StatusOr<std::vector<NamedId>> statuses =
      tq.client->ListIndicatorStatuses();
  ASSERT_TRUE(statuses.ok()) << statuses.status();
  EXPECT_EQ(statuses->size(), 6u);
  EXPECT_EQ(statuses->front(), (NamedId{1, "Active"}));
  tq.routes["/api/indicator/statuses"] = [](const HttpRequest&) {
    return Reply(200, R"({"data": {"errors": ["no"]}})");
  };
  absl::Status bad = tq.client->ListIndicatorStatuses().status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(bad.message(),
            "ThreatQ: listing indicator statuses: response from GET "
            "https://tq.test/api/indicator/statuses has no \"data\" array");
}

TEST(ThreatQFixturesTest, ProbeQueryDescribesTheFirstPage) {
  Tq tq([](ThreatQClientOptions& o) { o.page_size = 5; });
  ServeTypesAndStatuses(tq);
  tq.routes[kQuery] = [](const HttpRequest&) {
    return Json({{"total", 4090},
                 {"limit", 2},
                 {"nextCursorMark", "AoJ9"},
                 {"data",
                  {Row(1, "192.0.2.1"),
                   {{"id", 2},
                    {"value", "192.0.2.2"},
                    {"type", {{"id", 15}, {"name", "IP Address"}}},
                    {"status", {{"id", 2}, {"name", "Expired"}}}},
                   {{"id", 3},
                    {"value", "x.example"},
                    {"type_id", 9},
                    {"status_id", 1}}}}});
  };
  absl::StatusOr<QueryProbe> probe = tq.client->ProbeQuery("C2");
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_THAT(probe->keys, ElementsAre("data", "limit", "nextCursorMark",
                                       "total"));  // nlohmann sorts keys
  EXPECT_EQ(probe->total, 4090);
  EXPECT_EQ(probe->echoed_limit, 2);
  EXPECT_TRUE(probe->cursor_offered);
  EXPECT_EQ(probe->rows, 3);
  EXPECT_EQ(probe->flat_rows, 1);
  EXPECT_EQ(probe->nested_rows, 1);
  EXPECT_EQ(probe->id_only_rows, 1);
  EXPECT_THAT(probe->by_type,
              ElementsAre(Pair("FQDN", 1), Pair("IP Address", 2)));
  EXPECT_THAT(probe->by_status,
              ElementsAre(Pair("Active", 2), Pair("Expired", 1)));
  EXPECT_THAT(tq.Queries(kQuery), ElementsAre("?limit=5&sort=id&cursorMark=*"));
}

TEST(ThreatQFixturesTest, NoSecretInAnyLogLine) {
  Tq tq;
  ServeTypesAndStatuses(tq);
  tq.token = [](const HttpRequest&) {
    return Json({{"access_token", "tok-SECRET-1"},
                 {"expires_in", nullptr},
                 {"refresh_token", kRefresh}});
  };
  Cursors server;
  tq.routes[kQuery] = [&](const HttpRequest& r) { return server(r); };
  ASSERT_TRUE(tq.client->Login().ok());
  ASSERT_TRUE(tq.Read().ok());
  ASSERT_TRUE(tq.client->ListCollections().ok());
  for (const char* secret : {kPassword, kClientId, kRefresh, "tok-SECRET"}) {
    SCOPED_TRACE(secret);
    EXPECT_FALSE(tq.logger.Contains(secret)) << tq.logger.Text();
  }
}

}  // namespace
}  // namespace tqs1::threatq

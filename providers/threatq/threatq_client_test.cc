// ThreatQClient against a scripted FakeTransport: the exact requests it
// sends, token handling, both item shapes, paging stop rules, and every
// kind of bad wire input.
#include "providers/threatq/threatq_client.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/capturing_logger.h"
#include "base/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "providers/http/fake_transport.h"

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
constexpr char kClientId[] = "cid/SECRET-7";
constexpr char kClientSecret[] = "cs-SECRET-91b2";
constexpr char kToken[] = "tok-SECRET-1";
constexpr char kPages[] = "https://tq.test/api/indicators/query";

HttpResponse Reply(int status, std::string body,
                   std::string type = "application/json") {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::move(type));
  response.body = std::move(body);
  return response;
}

std::string SavedSearch(const std::string& object_type = "indicators") {
  return json{{"ui_query", {{"objects", {{"current", object_type}}}}},
              {"api_query",
               {{"criteria", json::object()},
                {"filters", {{"+and", {{{"type_name", "IP Address"}}}}}}}}}
      .dump();
}

// A scripted ThreatQ: each endpoint's answer can be replaced.
struct Server {
  Server() {
    for (int i = 0; i < 5; ++i) {
      indicators.push_back({{"id", 100 + i},
                            {"value", absl::StrCat("192.0.2.", i)},
                            {"type", "IP Address"},
                            {"status", "Active"}});
    }
  }
  HttpResponse Handle(const HttpRequest& request) {
    std::string url = request.url.substr(0, request.url.find('?'));
    if (url == "https://tq.test/api/token") {
      ++token_requests;
      if (token) return token(request);
      return Reply(
          200, json{{"access_token", absl::StrCat(kToken, "-", token_requests)},
                    {"token_type", "bearer"},
                    {"expires_in", 3600}}
                   .dump());
    }
    if (unauthorized_left > 0) {
      --unauthorized_left;
      return Reply(401, R"({"errors": ["Unauthenticated."]})");
    }
    if (url == "https://tq.test/api/search/query") {
      if (listing) return listing(request);
      return Reply(
          200,
          json{{"data", {{{"id", 1}, {"name", "C2"}, {"json", SavedSearch()}}}}}
              .dump());
    }
    if (url == kPages) {
      int64_t limit = 0, offset = 0;
      for (absl::string_view part :
           absl::StrSplit(request.url.substr(request.url.find('?') + 1), '&')) {
        if (absl::ConsumePrefix(&part, "limit=")) {
          EXPECT_TRUE(absl::SimpleAtoi(part, &limit));
        }
        if (absl::ConsumePrefix(&part, "offset=")) {
          EXPECT_TRUE(absl::SimpleAtoi(part, &offset));
        }
      }
      if (page) return page(offset, limit);
      json data = json::array();
      for (int64_t i = offset;
           i < static_cast<int64_t>(indicators.size()) && i < offset + limit;
           ++i) {
        data.push_back(indicators[i]);
      }
      return Reply(
          200,
          json{{"total", indicators.size()}, {"offset", offset}, {"data", data}}
              .dump());
    }
    return Reply(404, R"({"errors": ["Not found"]})");
  }

  std::vector<json> indicators;
  std::function<HttpResponse(const HttpRequest&)> token;
  std::function<HttpResponse(const HttpRequest&)> listing;
  std::function<HttpResponse(int64_t offset, int64_t limit)> page;
  int unauthorized_left = 0;
  int token_requests = 0;
};

struct Harness {
  explicit Harness(ThreatQClientOptions o = Defaults(),
                   http::FakeTransportOptions t = {})
      : transport(
            [this](const HttpRequest& r) -> absl::StatusOr<HttpResponse> {
              return server.Handle(r);
            },
            t) {
    o.clock = &clock;
    o.logger = &logger;
    auto made = ThreatQClient::Create(&transport, o);
    EXPECT_TRUE(made.ok()) << made.status();
    if (made.ok()) client = *std::move(made);
  }
  static ThreatQClientOptions Defaults() {
    ThreatQClientOptions o;
    o.base_url = "https://tq.test";
    o.email = "svc-tq@example.org";
    o.password = kPassword;
    o.client_id = kClientId;
    o.client_secret = kClientSecret;
    return o;
  }
  absl::StatusOr<CollectionRead> Read(absl::string_view name = "C2") {
    return client->ReadCollection(name);
  }

  Server server;
  tqs1::FakeClock clock;
  log::CapturingLogger logger;
  http::FakeTransport transport;
  std::unique_ptr<ThreatQClient> client;
};

std::optional<std::string> HeaderOf(const HttpRequest& r,
                                    absl::string_view name) {
  HttpResponse as_response;
  as_response.headers = r.headers;
  return as_response.Header(name);
}

TEST(ThreatQClientTest, PasswordGrantAndReadRequestsOnTheWire) {
  Harness h;
  ASSERT_NE(h.client, nullptr);
  absl::StatusOr<CollectionRead> read = h.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, ElementsAre("192.0.2.0", "192.0.2.1", "192.0.2.2",
                                        "192.0.2.3", "192.0.2.4"));
  std::vector<HttpRequest> sent = h.transport.Requests();
  ASSERT_EQ(sent.size(), 3u);
  // 1. The token: encoding (a) of the spec.
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url,
            "https://tq.test/api/token?grant_type=password&client_id=cid%2F"
            "SECRET-7");
  EXPECT_EQ(json::parse(sent[0].body),
            (json{{"email", "svc-tq@example.org"}, {"password", kPassword}}));
  EXPECT_EQ(HeaderOf(sent[0], "Content-Type"), "application/json");
  EXPECT_EQ(HeaderOf(sent[0], "Authorization"), std::nullopt);
  EXPECT_TRUE(sent[0].IsIdempotent());
  // 2. The listing, with the literal "Bearer" although token_type is
  // "bearer".
  EXPECT_EQ(sent[1].method, "GET");
  EXPECT_EQ(sent[1].url,
            "https://tq.test/api/search/query?limit=1000&offset=0");
  EXPECT_EQ(HeaderOf(sent[1], "Authorization"),
            absl::StrCat("Bearer ", kToken, "-1"));
  // 3. One page: the saved api_query plus the fields, sorted by id, asking
  // for a cursor (this server offers none: its rows are the offset-0 page).
  EXPECT_EQ(sent[2].method, "POST");
  EXPECT_EQ(sent[2].url,
            absl::StrCat(kPages, "?limit=1000&sort=id&cursorMark=*"));
  EXPECT_TRUE(sent[2].IsIdempotent());
  EXPECT_EQ(json::parse(sent[2].body),
            (json{{"criteria", json::object()},
                  {"filters", {{"+and", {{{"type_name", "IP Address"}}}}}},
                  {"fields", {"id", "value", "type", "status"}}}));
  EXPECT_EQ(HeaderOf(sent[2], "Content-Type"), "application/json");
}

TEST(ThreatQClientTest, ClientCredentialsUseBasicAuth) {
  ThreatQClientOptions o = Harness::Defaults();
  o.grant = ThreatQClientOptions::Grant::kClientCredentials;
  Harness h(o);
  ASSERT_TRUE(h.Read().ok());
  HttpRequest token = h.transport.Requests().at(0);
  EXPECT_EQ(token.url,
            "https://tq.test/api/token?grant_type=client_credentials");
  EXPECT_EQ(HeaderOf(token, "Authorization"),
            absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(
                                       kClientId, ":", kClientSecret))));
  EXPECT_EQ(token.body, "grant_type=client_credentials");
}

TEST(ThreatQClientTest, BaseUrlForms) {
  for (const char* base : {"https://tq.test", "https://tq.test/",
                           "https://tq.test/api", "https://tq.test/api/"}) {
    SCOPED_TRACE(base);
    ThreatQClientOptions o = Harness::Defaults();
    o.base_url = base;
    Harness h(o);
    ASSERT_TRUE(h.Read().ok());
    EXPECT_TRUE(absl::StartsWith(h.transport.Requests().at(0).url,
                                 "https://tq.test/api/token?"));
  }
}

TEST(ThreatQClientTest, CreateRejectsBadOptions) {
  struct Case {
    std::string name;
    std::function<void(ThreatQClientOptions&)> change;
    std::string message;
  };
  const std::vector<Case> kCases = {
      {"no scheme", [](auto& o) { o.base_url = "tq.test"; },
       "ThreatQ base URL: bad URL \"tq.test\": no scheme"},
      {"a path", [](auto& o) { o.base_url = "https://tq.test/x"; },
       "ThreatQ base URL \"https://tq.test/x\" must be scheme://host[:port] "
       "(optionally ending in /api)"},
      {"no password", [](auto& o) { o.password = ""; },
       "ThreatQ password grant needs an email, a password and a client id"},
      {"no secret",
       [](auto& o) {
         o.grant = ThreatQClientOptions::Grant::kClientCredentials;
         o.client_secret = "";
       },
       "ThreatQ client credentials need a client id and a client secret"},
      {"page size", [](auto& o) { o.page_size = 0; },
       "ThreatQ page_size and max_pages must be at least 1"},
  };
  http::FakeTransport transport;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ThreatQClientOptions o = Harness::Defaults();
    c.change(o);
    absl::Status status = ThreatQClient::Create(&transport, o).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(ThreatQClientTest, ReauthenticatesOnceOn401) {
  Harness h;
  h.server.unauthorized_left = 1;
  ASSERT_TRUE(h.Read().ok());
  EXPECT_EQ(h.server.token_requests, 2);
  h.server.unauthorized_left = 2;
  absl::Status status = h.Read().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "ThreatQ: listing data collections: HTTP 401 Unauthorized from "
            "GET https://tq.test/api/search/query: Unauthenticated.");
  EXPECT_EQ(h.server.token_requests, 3);
}

TEST(ThreatQClientTest, TokenIsCachedUntilExpiresInMinusMargin) {
  Harness h;
  h.server.token = [](const HttpRequest&) {
    return Reply(200, R"({"access_token": "t", "expires_in": 600})");
  };
  ASSERT_TRUE(h.Read().ok());
  h.clock.Advance(absl::Seconds(530));
  ASSERT_TRUE(h.Read().ok());
  EXPECT_EQ(h.server.token_requests, 1);
  h.clock.Advance(absl::Seconds(20));  // 550 s > 600 - 60
  ASSERT_TRUE(h.Read().ok());
  EXPECT_EQ(h.server.token_requests, 2);
}

TEST(ThreatQClientTest, MissingExpiresInMeansThirtyMinutes) {
  Harness h;
  h.server.token = [](const HttpRequest&) {
    return Reply(200, R"({"access_token": "t"})");
  };
  ASSERT_TRUE(h.Read().ok());
  h.clock.Advance(absl::Minutes(28));
  ASSERT_TRUE(h.Read().ok());
  EXPECT_EQ(h.server.token_requests, 1);
  h.clock.Advance(absl::Minutes(1) + absl::Seconds(1));
  ASSERT_TRUE(h.Read().ok());
  EXPECT_EQ(h.server.token_requests, 2);
}

TEST(ThreatQClientTest, TokenFailures) {
  struct Case {
    std::string name;
    HttpResponse response;
    absl::StatusCode code;
    std::string message;
  };
  HttpResponse redirect = Reply(302, "");
  redirect.headers.emplace_back("Location",
                                "https://sso.test/login?next=/api/token");
  const std::vector<Case> kCases = {
      {"redirect", redirect, absl::StatusCode::kFailedPrecondition,
       "ThreatQ: getting a token: POST https://tq.test/api/token was "
       "redirected (HTTP 302 to \"https://sso.test/login\"); check the "
       "ThreatQ base URL"},
      {"400", Reply(400, R"({"error": "invalid_grant", "message": "bad"})"),
       absl::StatusCode::kUnauthenticated,
       "ThreatQ refused the credentials: HTTP 400 Bad Request from POST "
       "https://tq.test/api/token: invalid_grant: bad"},
      {"401", Reply(401, R"({"error": "invalid_client"})"),
       absl::StatusCode::kUnauthenticated,
       "ThreatQ refused the credentials: HTTP 401 Unauthorized from POST "
       "https://tq.test/api/token: invalid_client"},
      {"503", Reply(503, "<html>down</html>", "text/html"),
       absl::StatusCode::kUnavailable,
       "ThreatQ: getting a token: HTTP 503 Service Unavailable from POST "
       "https://tq.test/api/token: an HTML page (a proxy in the way?)"},
      {"no token", Reply(200, R"({"token_type": "bearer"})"),
       absl::StatusCode::kDataLoss,
       "ThreatQ: getting a token: response from POST "
       "https://tq.test/api/token has no string \"access_token\""},
      {"html 200", Reply(200, "<!DOCTYPE html><p>Login</p>", "text/html"),
       absl::StatusCode::kDataLoss,
       "ThreatQ: getting a token: expected JSON from POST "
       "https://tq.test/api/token but got an HTML page (HTTP 200); a proxy or "
       "login page in the way?"},
      {"array", Reply(200, "[]"), absl::StatusCode::kDataLoss,
       "ThreatQ: getting a token: response from POST "
       "https://tq.test/api/token is not a JSON object"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Harness h;
    h.server.token = [&](const HttpRequest&) { return c.response; };
    absl::Status status = h.Read().status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(ThreatQClientTest, ARejectedCredentialSaysWhereItCameFrom) {
  struct Case {
    ThreatQClientOptions::Grant grant;
    std::string origin;
    int http_status;
    absl::StatusCode code;
    std::string prefix;
  };
  const Case kCases[] = {
      {ThreatQClientOptions::Grant::kPassword, "$TQS1_THREATQ_PASSWORD", 401,
       absl::StatusCode::kUnauthenticated,
       "the ThreatQ password from $TQS1_THREATQ_PASSWORD was rejected (HTTP "
       "401): ThreatQ refused the credentials: HTTP 401 Unauthorized from "
       "POST https://tq.test/api/token"},
      {ThreatQClientOptions::Grant::kPassword, "file /x", 400,
       absl::StatusCode::kUnauthenticated,
       "the ThreatQ password from file /x was rejected (HTTP 400): ThreatQ "
       "refused the credentials: HTTP 400 Bad Request"},
      {ThreatQClientOptions::Grant::kClientCredentials, "file /etc/tq.secret",
       403, absl::StatusCode::kPermissionDenied,
       "the ThreatQ client secret from file /etc/tq.secret was rejected (HTTP "
       "403): ThreatQ: getting a token: HTTP 403 Forbidden"},
      {ThreatQClientOptions::Grant::kPassword, "", 401,
       absl::StatusCode::kUnauthenticated,
       "ThreatQ refused the credentials: HTTP 401"},
      {ThreatQClientOptions::Grant::kPassword, "$TQS1_THREATQ_PASSWORD", 503,
       absl::StatusCode::kUnavailable, "ThreatQ: getting a token: HTTP 503"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.prefix);
    ThreatQClientOptions options = Harness::Defaults();
    options.grant = c.grant;
    options.credential_origin = c.origin;
    Harness h(options);
    h.server.token = [&](const HttpRequest&) {
      return Reply(c.http_status, R"({"error": "invalid_grant"})");
    };
    absl::Status status = h.Read().status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_THAT(std::string(status.message()), testing::StartsWith(c.prefix));
  }
}

TEST(ThreatQClientTest, TransportErrorsKeepTheirCodeAndGainContext) {
  Harness h;
  h.transport.Enqueue(absl::UnavailableError(
      "POST https://tq.test/api/token: Couldn't connect to server"));
  absl::Status status = h.Read().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            "ThreatQ: getting a token: POST https://tq.test/api/token: "
            "Couldn't connect to server");
}

TEST(ThreatQClientTest, AcceptsFlatAndNestedShapesAndJsonAsObject) {
  Harness h;
  h.server.listing = [](const HttpRequest&) {
    return Reply(
        200,
        json{{"data", {{{"name", "C2"}, {"json", json::parse(SavedSearch())}}}}}
            .dump());
  };
  h.server.indicators = {
      {{"value", "192.0.2.1"}, {"type", "IP Address"}, {"status", "Active"}},
      {{"value", "2001:db8::1"},
       {"type_id", 15},
       {"type", {{"id", 15}, {"name", "IPv6 Address"}}},
       {"status_id", 1},
       {"status", {{"id", 1}, {"name", "Active"}}}},
      {{"value", "192.0.2.9"},
       {"type", {{"name", "IP Address"}}},
       {"status", {{"name", "Whitelisted"}}}},
      {{"value", "x.test"}, {"type", {{"name", "FQDN"}}}, {"status", "Active"}},
  };
  absl::StatusOr<CollectionRead> read = h.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->values, ElementsAre("192.0.2.1", "2001:db8::1"));
  EXPECT_THAT(read->report.skipped_statuses(),
              UnorderedElementsAre(Pair("Whitelisted", 1)));
  EXPECT_THAT(read->report.skipped_types(),
              UnorderedElementsAre(Pair("FQDN", 1)));
}

TEST(ThreatQClientTest, BadListings) {
  struct Case {
    std::string name;
    std::string body;
    absl::StatusCode code;
    std::string message;
  };
  const std::string kAbout =
      "ThreatQ: the saved search of data collection \"C2\" (from GET "
      "https://tq.test/api/search/query)";
  const std::vector<Case> kCases = {
      {"malformed", "{\"data\": [", absl::StatusCode::kDataLoss,
       "ThreatQ: listing data collections: malformed JSON from GET "
       "https://tq.test/api/search/query (10 bytes)"},
      {"no data", "{}", absl::StatusCode::kDataLoss,
       "ThreatQ: listing data collections: response from GET "
       "https://tq.test/api/search/query has no \"data\" array"},
      {"no json", R"({"data": [{"name": "C2"}]})", absl::StatusCode::kDataLoss,
       kAbout + " is empty (\"json\" is absent); save the collection again in "
                "ThreatQ"},
      {"bad json string", R"({"data": [{"name": "C2", "json": "{oops"}]})",
       absl::StatusCode::kDataLoss,
       kAbout + " has a malformed \"json\" string"},
      {"no api_query", R"({"data": [{"name": "C2", "json": {"x": 1}}]})",
       absl::StatusCode::kDataLoss, kAbout + " has no \"api_query\" object"},
      {"adversaries",
       json{{"data", {{{"name", "C2"}, {"json", SavedSearch("adversaries")}}}}}
           .dump(),
       absl::StatusCode::kFailedPrecondition,
       "ThreatQ: data collection \"C2\" is a search on \"adversaries\", not "
       "on indicators; tqs1 reads indicator collections only"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Harness h;
    h.server.listing = [&](const HttpRequest&) { return Reply(200, c.body); };
    absl::Status status = h.Read().status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(ThreatQClientTest, PagedListingIsReadToTheEnd) {
  Harness h;
  h.server.listing = [](const HttpRequest& r) {
    if (absl::StrContains(r.url, "offset=2")) {
      return Reply(200,
                   json{{"total", 3},
                        {"data", {{{"name", "C2"}, {"json", SavedSearch()}}}}}
                       .dump());
    }
    return Reply(
        200, json{{"total", 3}, {"data", {{{"name", "A"}}, {{"name", "B"}}}}}
                 .dump());
  };
  absl::StatusOr<CollectionRead> read = h.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(h.transport.Requests().at(2).url,
            "https://tq.test/api/search/query?limit=1000&offset=2");
}

TEST(ThreatQClientTest, BadPages) {
  struct Case {
    std::string name;
    HttpResponse response;
    absl::StatusCode code;
    std::string message;  // after the common prefix
  };
  const std::string kWhere =
      absl::StrCat("POST ", kPages, " (page 1, offset 0)");
  auto item = [](json fields) {
    return Reply(200, json{{"total", 1}, {"data", {fields}}}.dump());
  };
  const std::vector<Case> kCases = {
      {"malformed", Reply(200, R"({"total": 1, "data": [)"),
       absl::StatusCode::kDataLoss,
       "malformed JSON from " + kWhere + " (22 bytes)"},
      {"html",
       Reply(200, "  <html><body>Proxy login</body></html>", "text/plain"),
       absl::StatusCode::kDataLoss,
       "expected JSON from " + kWhere +
           " but got an HTML page (HTTP 200); a proxy or login page in the "
           "way?"},
      {"array", Reply(200, "[1]"), absl::StatusCode::kDataLoss,
       "response from " + kWhere + " is not a JSON object"},
      {"no data", Reply(200, R"({"total": 1})"), absl::StatusCode::kDataLoss,
       "response from " + kWhere + " has no \"data\" array"},
      {"data object", Reply(200, R"({"total": 1, "data": {}})"),
       absl::StatusCode::kDataLoss,
       "response from " + kWhere + " has no \"data\" array"},
      {"no total", Reply(200, R"({"data": []})"), absl::StatusCode::kDataLoss,
       "response from " + kWhere +
           " has no \"total\" count; cannot tell when the list ends"},
      {"negative total", Reply(200, R"({"total": -1, "data": []})"),
       absl::StatusCode::kDataLoss,
       "response from " + kWhere +
           " has no \"total\" count; cannot tell when the list ends"},
      {"item not object", item("192.0.2.1"), absl::StatusCode::kDataLoss,
       "indicator #0 of " + kWhere + " is not a JSON object"},
      {"value number",
       item({{"value", 7}, {"type", "IP Address"}, {"status", "Active"}}),
       absl::StatusCode::kDataLoss,
       "indicator #0 of " + kWhere + " has no string \"value\""},
      {"no type", item({{"value", "192.0.2.1"}, {"status", "Active"}}),
       absl::StatusCode::kDataLoss,
       "indicator #0 of " + kWhere +
           " has no \"type\" (a name, an object with a \"name\", or a "
           "\"type_id\")"},
      {"type without name or id",
       item({{"value", "192.0.2.1"},
             {"type", {{"class", "network"}}},
             {"status", "Active"}}),
       absl::StatusCode::kDataLoss,
       "indicator #0 of " + kWhere +
           " has no \"type\" (a name, an object with a \"name\", or a "
           "\"type_id\")"},
      {"no status", item({{"value", "192.0.2.1"}, {"type", "IP Address"}}),
       absl::StatusCode::kDataLoss,
       "indicator #0 of " + kWhere +
           " has no \"status\" (a name, an object with a \"name\", or a "
           "\"status_id\")"},
      {"status number",
       item({{"value", "192.0.2.1"}, {"type", "IP Address"}, {"status", 5}}),
       absl::StatusCode::kDataLoss,
       "indicator #0 of " + kWhere +
           " has no \"status\" (a name, an object with a \"name\", or a "
           "\"status_id\")"},
      {"errors on 200",
       Reply(200, R"({"total": 0, "data": [], "errors": ["bad filter"]})"),
       absl::StatusCode::kDataLoss,
       kWhere + " answered HTTP 200 with errors: bad filter"},
      {"offset ignored", Reply(200, R"({"total": 1, "offset": 5, "data": []})"),
       absl::StatusCode::kDataLoss,
       kWhere + " answered for offset 5; the server ignores paging"},
      {"403", Reply(403, R"({"data": {"errors": {"search": ["not yours"]}}})"),
       absl::StatusCode::kPermissionDenied,
       absl::StrCat("HTTP 403 Forbidden from POST ", kPages, ": not yours")},
      {"500", Reply(500, "oops", "text/plain"), absl::StatusCode::kUnavailable,
       absl::StrCat("HTTP 500 Internal Server Error from POST ", kPages)},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Harness h;
    h.server.page = [&](int64_t, int64_t) { return c.response; };
    absl::Status status = h.Read().status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(),
              absl::StrCat("ThreatQ: reading data collection \"C2\" at offset "
                           "0: ",
                           c.message));
  }
}

TEST(ThreatQClientTest, OversizedPageIsResourceExhausted) {
  http::FakeTransportOptions limits;
  limits.max_response_body_bytes = 300;
  Harness h(Harness::Defaults(), limits);
  for (int i = 0; i < 20; ++i) {
    h.server.indicators.push_back({{"value", "198.51.100.1"},
                                   {"type", "IP Address"},
                                   {"status", "Active"}});
  }
  absl::Status status = h.Read().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(),
            absl::StrCat("ThreatQ: reading data collection \"C2\" at offset 0: "
                         "POST ",
                         kPages, ": response body is larger than 300 bytes"));
}

TEST(ThreatQClientTest, PagingAdvancesByRowsReceived) {
  ThreatQClientOptions o = Harness::Defaults();
  o.page_size = 4;
  Harness h(o);
  h.server.indicators.clear();
  for (int i = 0; i < 10; ++i) {
    h.server.indicators.push_back({{"id", i},
                                   {"value", absl::StrCat("10.0.0.", i)},
                                   {"type", "IP Address"},
                                   {"status", "Active"}});
  }
  // The server clamps pages to 3 rows whatever is asked.
  h.server.page = [&](int64_t offset, int64_t limit) {
    EXPECT_EQ(limit, 4);
    json data = json::array();
    for (int64_t i = offset; i < 10 && i < offset + 3; ++i) {
      data.push_back(h.server.indicators[i]);
    }
    return Reply(200, json{{"total", 10}, {"data", data}}.dump());
  };
  absl::StatusOr<CollectionRead> read = h.Read();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values.size(), 10u);
  std::vector<std::string> pages;
  for (const HttpRequest& r : h.transport.Requests()) {
    if (absl::StartsWith(r.url, kPages))
      pages.push_back(r.url.substr(r.url.find('?')));
  }
  EXPECT_THAT(
      pages,
      ElementsAre("?limit=4&sort=id&cursorMark=*", "?limit=4&offset=3&sort=id",
                  "?limit=4&offset=6&sort=id", "?limit=4&offset=9&sort=id"));
}

TEST(ThreatQClientTest, PageSizeIsClampedToTheServerMaximum) {
  ThreatQClientOptions o = Harness::Defaults();
  o.page_size = 5000;
  Harness h(o);
  ASSERT_TRUE(h.Read().ok());
  EXPECT_EQ(h.transport.Requests().at(2).url,
            absl::StrCat(kPages, "?limit=1000&sort=id&cursorMark=*"));
}

TEST(ThreatQClientTest, PagingGuards) {
  struct Case {
    std::string name;
    std::function<HttpResponse(int64_t offset)> page;
    absl::StatusCode code;
    std::string message;
  };
  auto rows = [](int64_t offset, int n, int64_t total) {
    json data = json::array();
    for (int i = 0; i < n; ++i) {
      data.push_back({{"id", offset + i},
                      {"value", "10.0.0.1"},
                      {"type", "IP Address"},
                      {"status", "Active"}});
    }
    return Reply(200, json{{"total", total}, {"data", data}}.dump());
  };
  const std::vector<Case> kCases = {
      {"never ends", [&](int64_t offset) { return rows(offset, 1, 1000000); },
       absl::StatusCode::kDataLoss,
       absl::StrCat("ThreatQ: reading data collection \"C2\": POST ", kPages,
                    " did not end after 50 pages (50 of 1000000 indicators); "
                    "refusing a partial list")},
      {"empty page before the end",
       [&](int64_t offset) { return rows(offset, offset == 0 ? 2 : 0, 5); },
       absl::StatusCode::kUnavailable,
       absl::StrCat("ThreatQ: data collection \"C2\" kept changing while "
                    "being read (3 attempts; the last: POST ",
                    kPages,
                    " (page 2, offset 2) came back empty before the end (2 of "
                    "5 indicators); total 5 at its first page, 5 at its "
                    "last); refusing a partial list; read it again later")},
      {"total shrinks every time",
       [&](int64_t offset) { return rows(offset, 2, offset == 0 ? 6 : 5); },
       absl::StatusCode::kUnavailable,
       "ThreatQ: data collection \"C2\" kept changing while being read (3 "
       "attempts; the last: the total went from 6 to 5 at offset 2; total 6 "
       "at its first page, 5 at its last); refusing a partial list; read it "
       "again later"},
      {"the server ignores the offset", [&](int64_t) { return rows(0, 2, 5); },
       absl::StatusCode::kUnavailable,
       "ThreatQ: data collection \"C2\" kept changing while being read (3 "
       "attempts; the last: indicator id 0 came twice; total 5 at its first "
       "page, 5 at its last); refusing a partial list; read it again later"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ThreatQClientOptions o = Harness::Defaults();
    o.max_pages = 50;
    Harness h(o);
    h.server.page = [&](int64_t offset, int64_t) { return c.page(offset); };
    absl::Status status = h.Read().status();
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(ThreatQClientTest, SecretsNeverReachLogsOrErrors) {
  std::vector<std::string> errors;
  log::CapturingLogger* logger = nullptr;
  ThreatQClientOptions o = Harness::Defaults();
  Harness h(o);
  logger = &h.logger;
  // A server that echoes what it got back in its error texts.
  h.server.token = [&](const HttpRequest& r) {
    if (h.server.token_requests == 1) {
      return Reply(200,
                   json{{"access_token", kToken}, {"expires_in", 10}}.dump());
    }
    return Reply(400, json{{"error", "invalid_grant"},
                           {"message",
                            absl::StrCat("bad login ", r.body, " for ", r.url)}}
                          .dump());
  };
  h.server.unauthorized_left = 0;
  h.server.page = [&](int64_t, int64_t) {
    return Reply(
        500,
        json{{"errors", {absl::StrCat("token ", kToken, " broke")}}}.dump());
  };
  errors.push_back(h.Read().status().ToString());
  h.clock.Advance(absl::Hours(1));
  errors.push_back(h.Read().status().ToString());
  ASSERT_THAT(errors[0], HasSubstr("UNAVAILABLE"));
  ASSERT_THAT(errors[1], HasSubstr("UNAUTHENTICATED"));
  ASSERT_THAT(errors[0], HasSubstr("[redacted]"));
  ASSERT_THAT(errors[1], HasSubstr("[redacted]"));
  for (const char* secret : {kPassword, kClientId, kClientSecret, kToken}) {
    SCOPED_TRACE(secret);
    EXPECT_FALSE(logger->Contains(secret)) << logger->Text();
    for (const std::string& error : errors) {
      EXPECT_THAT(error, Not(HasSubstr(secret)));
    }
  }
}

}  // namespace
}  // namespace tqs1::threatq

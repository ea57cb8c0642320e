// The ThreatQ emulator's opt-in modes (ThreatQModes) and its lists, through
// Handle() (no sockets) and, where the wire matters (a cursor holding '+'),
// over HTTP. The client's side is threatq_client_emulator_test.
#include "emulators/threatq_emulator.h"

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/net.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace tqs1::threatq {
namespace {

using ::nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::tqs1::emulator::Request;
using ::tqs1::emulator::Response;

constexpr char kEmail[] = "svc@example.org";
constexpr char kPassword[] = "pw-3k9";
constexpr char kClientId[] = "client-1";

std::vector<Indicator> Ips(int n, const std::string& status = "Active") {
  std::vector<Indicator> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({absl::StrCat("203.0.113.", i), "IP Address", status});
  }
  return out;
}

class ThreatQEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(ThreatQEmulatorOptions options) {
    absl::StatusOr<std::unique_ptr<ThreatQEmulator>> tq =
        ThreatQEmulator::Start(std::move(options));
    ASSERT_TRUE(tq.ok()) << tq.status();
    tq_ = *std::move(tq);
    tq_->AddUser(kEmail, kPassword, kClientId);
    token_ = Token()["access_token"].get<std::string>();
  }

  // The request as the harness hands it over: `query` percent-encoded.
  static Request Make(const std::string& method, const std::string& path,
                      const std::string& query, const std::string& body) {
    Request request;
    request.method = method;
    request.path = path;
    request.query = query;
    for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
      std::pair<std::string, std::string> p =
          absl::StrSplit(kv, absl::MaxSplits('=', 1));
      request.params.emplace_back(net::PercentDecode(p.first),
                                  net::PercentDecode(p.second));
    }
    request.body = body;
    return request;
  }

  json Token() {
    Request request =
        Make("POST", "/api/token",
             absl::StrCat("grant_type=password&client_id=", kClientId),
             json{{"email", kEmail}, {"password", kPassword}}.dump());
    Response r = tq_->Handle(request);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  Response Call(const std::string& method, const std::string& path,
                const std::string& query = "", const std::string& body = "") {
    Request request = Make(method, path, query, body);
    request.headers.emplace_back("Authorization",
                                 absl::StrCat("Bearer ", token_));
    return tq_->Handle(request);
  }

  json Get(const std::string& path, const std::string& query = "") {
    Response r = Call("GET", path, query);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // The query body of collection `id`, as the client sends it.
  json QueryBody(int id) {
    const json list = Get("/api/search/query");
    for (const json& item : list["data"]) {
      if (item["id"] == id) {
        json body = json::parse(item["json"].get<std::string>())["api_query"];
        body["fields"] = {"id", "value", "type", "status"};
        return body;
      }
    }
    ADD_FAILURE() << "no collection " << id;
    return json::object();
  }

  json Page(int id, const std::string& query) {
    Response r =
        Call("POST", "/api/indicators/query", query, QueryBody(id).dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  void SetModes(const std::function<void(ThreatQModes&)>& edit) {
    ThreatQModes modes = tq_->modes();
    edit(modes);
    tq_->SetModes(modes);
  }

  std::unique_ptr<ThreatQEmulator> tq_;
  std::string token_;
};

TEST_F(ThreatQEmulatorTest, CursorMarkIsIgnoredByDefault) {
  const int id = tq_->AddCollection("C2", Ips(3));
  json with = Page(id, "limit=2&offset=0&sort=id&cursorMark=*");
  json without = Page(id, "limit=2&offset=0");
  EXPECT_FALSE(with.contains("nextCursorMark"));
  EXPECT_EQ(with, without);
  EXPECT_EQ(with["offset"], 0);
  EXPECT_EQ(with["total"], 3);
  EXPECT_EQ(with["data"].size(), 2u);
}

TEST_F(ThreatQEmulatorTest, CursorPagingFollowsNextCursorMark) {
  SetModes([](ThreatQModes& m) { m.cursor_paging = true; });
  const int id = tq_->AddCollection("C2", Ips(25));
  std::vector<int64_t> ids;
  std::vector<size_t> sizes;
  std::string cursor = "*";
  std::string previous;
  for (int page = 0; page < 10 && cursor != previous; ++page) {
    SCOPED_TRACE(cursor);
    json body = Page(id, absl::StrCat("limit=10&sort=id&cursorMark=",
                                      net::PercentEncode(cursor)));
    sizes.push_back(body["data"].size());
    // Only the first page echoes an offset.
    EXPECT_EQ(body.contains("offset"), page == 0);
    EXPECT_EQ(body["total"], 25);
    for (const json& row : body["data"]) ids.push_back(row["id"]);
    ASSERT_TRUE(body["nextCursorMark"].is_string()) << body.dump();
    previous = cursor;
    cursor = body["nextCursorMark"].get<std::string>();
    if (page == 0) {
      for (const char* c : {"+", "/", "="}) EXPECT_THAT(cursor, HasSubstr(c));
    }
  }
  // The page after the last is empty and keeps its cursor.
  EXPECT_THAT(sizes, ElementsAre(10, 10, 5, 0));
  ASSERT_EQ(ids.size(), 25u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 25u);

  Response bogus =
      Call("POST", "/api/indicators/query",
           "limit=10&cursorMark=bm90LW91cnM%3D", QueryBody(id).dump());
  EXPECT_EQ(bogus.status, 400);
  EXPECT_THAT(bogus.body, HasSubstr("cursorMark"));
}

TEST_F(ThreatQEmulatorTest, CursorHoldingPlusMustBePercentEncoded) {
  SetModes([](ThreatQModes& m) { m.cursor_paging = true; });
  const int id = tq_->AddCollection("C2", Ips(5));
  const std::string body = QueryBody(id).dump();
  httplib::Client client("127.0.0.1", tq_->server().port());
  httplib::Headers auth = {{"Authorization", absl::StrCat("Bearer ", token_)}};
  auto first = client.Post("/api/indicators/query?limit=2&cursorMark=*", auth,
                           body, "application/json");
  ASSERT_TRUE(first);
  const std::string cursor =
      json::parse(first->body)["nextCursorMark"].get<std::string>();
  auto encoded =
      client.Post(absl::StrCat("/api/indicators/query?limit=2&cursorMark=",
                               net::PercentEncode(cursor))
                      .c_str(),
                  auth, body, "application/json");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->status, 200);
  EXPECT_EQ(json::parse(encoded->body)["data"][0]["id"], 100002);
  // Sent as is, '+' reads as a space.
  client.set_url_encode(false);
  auto raw = client.Post(
      absl::StrCat("/api/indicators/query?limit=2&cursorMark=", cursor).c_str(),
      auth, body, "application/json");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 400);
}

TEST_F(ThreatQEmulatorTest, SortByIdIsStableWhereTheDefaultOrderIsNot) {
  SetModes([](ThreatQModes& m) { m.unstable_default_order = true; });
  const int id = tq_->AddCollection("C2", Ips(25));
  auto read = [&](const std::string& sort) {
    std::vector<int64_t> ids;
    for (int offset = 0; offset < 25; offset += 10) {
      json body = Page(id, absl::StrCat("limit=10&offset=", offset, sort));
      for (const json& row : body["data"]) ids.push_back(row["id"]);
    }
    return ids;
  };
  std::vector<int64_t> sorted = read("&sort=id");
  ASSERT_EQ(sorted.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(sorted[i], 100000 + i);
  std::vector<int64_t> unsorted = read("");
  ASSERT_EQ(unsorted.size(), 25u);
  // Rows repeat and others are never served.
  EXPECT_LT(std::set<int64_t>(unsorted.begin(), unsorted.end()).size(), 25u);
}

TEST_F(ThreatQEmulatorTest, CollectionGrowsWhileRead) {
  SetModes([](ThreatQModes& m) {
    m.grow_every_pages = 1;
    m.grow_by = 3;
    m.grow_times = 2;
  });
  const int id = tq_->AddCollection("C2", Ips(10));
  std::vector<int> totals;
  std::vector<int64_t> ids;
  for (int offset = 0; offset < 20; offset += 5) {
    json body = Page(id, absl::StrCat("limit=5&sort=id&offset=", offset));
    totals.push_back(body["total"]);
    for (const json& row : body["data"]) ids.push_back(row["id"]);
  }
  EXPECT_THAT(totals, ElementsAre(10, 13, 16, 16));
  ASSERT_EQ(ids.size(), 16u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  std::vector<Indicator> now = tq_->Indicators(id);
  ASSERT_EQ(now.size(), 16u);
  EXPECT_EQ(now[10].value, "198.18.0.0");
  EXPECT_EQ(now[15].value, "198.18.0.5");
  EXPECT_EQ(now[15].status, "Active");
}

TEST_F(ThreatQEmulatorTest, CursorReadSeesRowsAddedBehindIt) {
  SetModes([](ThreatQModes& m) {
    m.cursor_paging = true;
    m.grow_every_pages = 1;
    m.grow_by = 4;
  });
  const int id = tq_->AddCollection("C2", Ips(6));
  std::set<int64_t> ids;
  std::string cursor = "*";
  for (int page = 0; page < 10; ++page) {
    json body = Page(id, absl::StrCat("limit=5&sort=id&cursorMark=",
                                      net::PercentEncode(cursor)));
    if (body["data"].empty()) break;
    for (const json& row : body["data"]) ids.insert(row["id"].get<int64_t>());
    cursor = body["nextCursorMark"].get<std::string>();
  }
  EXPECT_EQ(ids.size(), 10u);  // 6 and the 4 added after page 1
}

TEST_F(ThreatQEmulatorTest, SavedSearchesUnnamedAndPaged) {
  tq_->AddCollection("A", {});
  tq_->AddCollection("B", {});
  tq_->AddCollection("C", {});
  json all = Get("/api/search/query", "limit=2&offset=0");
  EXPECT_EQ(all["data"].size(), 3u);  // by default the list never pages
  EXPECT_EQ(all["total"], 3);

  SetModes([](ThreatQModes& m) {
    m.unnamed_saved_search = true;
    m.search_page_size = 2;
  });
  struct Case {
    std::string query;
    std::vector<json> names;
  };
  const std::vector<Case> cases = {
      {"limit=1000&offset=0", {nullptr, "A"}},
      {"limit=1000&offset=2", {"B", "C"}},
      {"limit=1000&offset=4", {}},
      {"limit=1&offset=1", {"A"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    json body = Get("/api/search/query", c.query);
    std::vector<json> names;
    for (const json& item : body["data"]) names.push_back(item["name"]);
    EXPECT_EQ(names, c.names);
    EXPECT_EQ(body["total"], 4);
    EXPECT_EQ(body["limit"], c.query == "limit=1&offset=1" ? 1 : 2);
  }
  SetModes([](ThreatQModes& m) { m.search_omit_total = true; });
  EXPECT_FALSE(Get("/api/search/query", "limit=1000").contains("total"));
}

TEST_F(ThreatQEmulatorTest, IndicatorTypesAndStatuses) {
  tq_->AddCollection("C2", {{"evil.example", "FQDN", "False Positive"},
                            {"192.0.2.1", "IP Address", "Active"}});
  auto names = [](const json& body) {
    std::map<std::string, int> out;
    for (const json& item : body["data"]) out[item["name"]] = item["id"];
    return out;
  };
  std::map<std::string, int> types = names(Get("/api/indicator/types"));
  EXPECT_EQ(types["IP Address"], 14);
  EXPECT_EQ(types["IPv6 Address"], 15);
  EXPECT_EQ(types["CIDR Block"], 16);
  EXPECT_TRUE(types.count("FQDN"));
  EXPECT_EQ(types.size(), 4u);
  std::map<std::string, int> statuses = names(Get("/api/indicator/statuses"));
  EXPECT_EQ(statuses["Active"], 1);
  EXPECT_EQ(statuses["Whitelisted"], 5);
  EXPECT_TRUE(statuses.count("False Positive"));
  EXPECT_EQ(statuses.size(), 6u);

  json one = Get("/api/indicator/types", "limit=1");
  EXPECT_EQ(one["data"].size(), 1u);
  EXPECT_EQ(one["total"], 4);
  EXPECT_EQ(names(Get("/api/indicator/types", "name=CIDR%20Block")).size(), 1u);
  EXPECT_EQ(Get("/api/indicator/statuses", "limit=2&offset=5")["data"].size(),
            1u);
  Request anonymous = Make("GET", "/api/indicator/types", "", "");
  EXPECT_EQ(tq_->Handle(anonymous).status, 401);
}

TEST_F(ThreatQEmulatorTest, ExpiresInForms) {
  struct Case {
    ExpiresInForm form;
    json want;  // "absent" for no key
  };
  const std::vector<Case> cases = {
      {ExpiresInForm::kNumber, 3600},
      {ExpiresInForm::kString, "3600"},
      {ExpiresInForm::kNull, nullptr},
      {ExpiresInForm::kAbsent, "absent"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want.dump());
    SetModes([&](ThreatQModes& m) { m.expires_in = c.form; });
    json answer = Token();
    if (c.want == "absent") {
      EXPECT_FALSE(answer.contains("expires_in"));
    } else {
      EXPECT_EQ(answer["expires_in"], c.want);
    }
    token_ = answer["access_token"].get<std::string>();
    EXPECT_EQ(Call("GET", "/api/search/query").status, 200);  // still valid
  }
}

TEST(ThreatQEmulatorStartTest, ModesFromTheOptionsAndOffByDefault) {
  ThreatQEmulatorOptions options;
  options.modes.cursor_paging = true;
  options.modes.expires_in = ExpiresInForm::kNull;
  absl::StatusOr<std::unique_ptr<ThreatQEmulator>> tq =
      ThreatQEmulator::Start(options);
  ASSERT_TRUE(tq.ok()) << tq.status();
  EXPECT_TRUE((*tq)->modes().cursor_paging);
  EXPECT_EQ((*tq)->modes().expires_in, ExpiresInForm::kNull);
  ThreatQModes none;
  EXPECT_FALSE(none.cursor_paging || none.unstable_default_order ||
               none.unnamed_saved_search || none.search_omit_total);
  EXPECT_EQ(none.grow_every_pages, 0);
  EXPECT_EQ(none.search_page_size, 0);
  EXPECT_EQ(none.expires_in, ExpiresInForm::kNumber);
}

}  // namespace
}  // namespace tqs1::threatq

// The emulator's enforcement of the console's rules, through Handle() (no
// sockets); the HTTP(S) path is covered by sentinelone_client_emulator_test.
#include "emulators/sentinelone_emulator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/sentinelone/wire.h"
#include "testing/builders.h"

namespace tqs1::sentinelone {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::tqs1::emulator::Request;
using ::tqs1::emulator::Response;
using ::tqs1::testing::kAccountId;
using ::tqs1::testing::kSiteId;

constexpr char kToken[] = "emulator-token";

class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmulatorOptions options;
    options.api_token = kToken;
    absl::StatusOr<std::unique_ptr<SentinelOneEmulator>> s1 =
        SentinelOneEmulator::Start(options);
    ASSERT_TRUE(s1.ok()) << s1.status();
    s1_ = *std::move(s1);
    s1_->AddSite({kSiteId, "HQ", kAccountId, "Acme"});
  }

  Response Call(const std::string& method, const std::string& path_and_query,
                const std::string& body = "",
                const std::string& auth = absl::StrCat("ApiToken ", kToken)) {
    Request request;
    request.method = method;
    std::string path = path_and_query;
    size_t q = path.find('?');
    if (q != std::string::npos) {
      request.query = path.substr(q + 1);
      for (absl::string_view kv : absl::StrSplit(request.query, '&')) {
        std::pair<std::string, std::string> p = absl::StrSplit(kv, '=');
        request.params.push_back(p);
      }
      path = path.substr(0, q);
    }
    request.path = absl::StrCat("/web/api/v2.1", path);
    if (!auth.empty()) request.headers.emplace_back("Authorization", auth);
    request.body = body;
    return s1_->Handle(request);
  }

  static json Body(const Response& r) {
    return json::parse(r.body, nullptr, false);
  }

  static std::string CreateBody(const std::string& name,
                                const std::string& extra_data = "") {
    return absl::StrCat(
        R"({"filter":{"siteIds":[")", kSiteId, R"("]},"data":{"name":")", name,
        R"(","action":"Block","status":"Enabled")", extra_data, "}}");
  }

  std::unique_ptr<SentinelOneEmulator> s1_;
};

TEST_F(EmulatorTest, RequiresTheApiTokenHeader) {
  struct Case {
    std::string auth;
    int status;
  };
  const std::vector<Case> cases = {
      {"", 401},
      {"Bearer emulator-token", 401},
      {"ApiToken wrong", 401},
      {"ApiToken emulator-token-and-more", 401},
      {"ApiToken emulator-token", 200},
      {"APIToken emulator-token", 200},  // the scheme is case-insensitive
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.auth);
    Response r = Call(
        "GET", absl::StrCat("/firewall-control?siteIds=", kSiteId), "", c.auth);
    EXPECT_EQ(r.status, c.status);
    if (c.status == 401) {
      EXPECT_EQ(Body(r)["errors"][0]["code"], kCodeUnauthenticated);
    }
  }
}

TEST_F(EmulatorTest, ListEnforcesFiltersAndPagingLimits) {
  struct Case {
    std::string query;
    int status;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"", 400, "At least one of these filters is required"},
      {"limit=10", 400, "At least one of these filters is required"},
      {absl::StrCat("siteIds=", kSiteId, "&limit=0"), 400, "limit"},
      {absl::StrCat("siteIds=", kSiteId, "&limit=1001"), 400, "limit"},
      {absl::StrCat("siteIds=", kSiteId, "&limit=x"), 400, "limit"},
      {absl::StrCat("siteIds=", kSiteId, "&skip=1001"), 400, "use cursor"},
      {absl::StrCat("siteIds=", kSiteId, "&cursor=bogus"), 400, "cursor"},
      {absl::StrCat("siteIds=", kSiteId, "&limit=1000&skip=1000"), 200, ""},
      {"name=x", 200, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    Response r = Call("GET", absl::StrCat("/firewall-control?", c.query));
    EXPECT_EQ(r.status, c.status);
    if (c.status == 400) {
      json body = Body(r);
      EXPECT_EQ(body["errors"][0]["code"], kCodeValidation);
      EXPECT_THAT(body["errors"][0]["detail"].get<std::string>(),
                  HasSubstr(c.detail));
    }
  }
}

TEST_F(EmulatorTest, PagesWithOpaqueCursorsUntilNull) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_EQ(
        Call("POST", "/firewall-control", CreateBody(absl::StrCat("R", i)))
            .status,
        200);
  }
  std::vector<std::string> names;
  std::string cursor;
  int pages = 0;
  do {
    std::string query =
        absl::StrCat("/firewall-control?siteIds=", kSiteId, "&limit=10");
    if (!cursor.empty()) absl::StrAppend(&query, "&cursor=", cursor);
    json body = Body(Call("GET", query));
    ++pages;
    for (const json& r : body["data"]) names.push_back(r["name"]);
    EXPECT_EQ(body["pagination"]["totalItems"], 25);
    cursor = body["pagination"]["nextCursor"].is_null()
                 ? ""
                 : body["pagination"]["nextCursor"].get<std::string>();
    EXPECT_THAT(cursor, ::testing::Not(HasSubstr("offset")));  // opaque
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(names.size(), 25u);
  EXPECT_EQ(names.front(), "R24");  // newest on top
  EXPECT_EQ(names.back(), "R0");
}

TEST_F(EmulatorTest, CreateValidatesLikeTheConsole) {
  std::string many;
  for (int i = 0; i < 5001; ++i) {
    absl::StrAppend(&many, i ? "," : "", "\"10.0.", i / 250, ".", i % 250,
                    "\"");
  }
  struct Case {
    std::string body;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"not json", "JSON object"},
      {R"({"data":{"name":"a","action":"Block","status":"Enabled"}})",
       "filter"},
      {absl::StrCat(R"({"filter":{"siteIds":[")", kSiteId, R"("]}})"), "data"},
      {CreateBody(std::string(201, 'n')), "maximum length 200"},
      {CreateBody(""), "data.name"},
      {absl::StrCat(
           R"({"filter":{"siteIds":[")", kSiteId,
           R"("]},"data":{"name":"a","action":"block","status":"Enabled"}})"),
       "data.action"},
      {absl::StrCat(
           R"({"filter":{"siteIds":[")", kSiteId,
           R"("]},"data":{"name":"a","action":"Block","status":"enabled"}})"),
       "data.status"},
      {CreateBody("a", R"(,"direction":"Any")"), "data.direction"},
      {CreateBody("a", R"(,"osTypes":["mac"])"), "data.osTypes"},
      {CreateBody("a", R"(,"remoteHosts":[{"type":"subnets","values":[]}])"),
       "data.remoteHosts.type"},
      {CreateBody(
           "a",
           R"(,"remoteHosts":[{"type":"addresses","values":["10.0.0.0/8"]}])"),
       "not an address"},
      {CreateBody("a", absl::StrCat(
                           R"(,"remoteHosts":[{"type":"addresses","values":[)",
                           many, "]}]")),
       "maximum length 5000"},
      {R"({"filter":{"siteIds":["199999999999999999"]},"data":{"name":"a","action":"Block","status":"Enabled"}})",
       "no active site"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.substr(0, 120));
    Response r = Call("POST", "/firewall-control", c.body);
    EXPECT_EQ(r.status, 400);
    EXPECT_THAT(Body(r)["errors"][0]["detail"].get<std::string>(),
                HasSubstr(c.detail));
  }
  EXPECT_TRUE(s1_->Events().empty());
}

TEST_F(EmulatorTest, FiveThousandValuesPerRuleAcrossEntries) {
  std::string addresses, cidrs;
  for (int i = 0; i < 2500; ++i) {
    absl::StrAppend(&addresses, i ? "," : "", "\"10.0.", i / 250, ".", i % 250,
                    "\"");
    absl::StrAppend(&cidrs, i ? "," : "", "\"10.1.", i / 250, ".", i % 250,
                    "/32\"");
  }
  std::string hosts =
      absl::StrCat(R"(,"remoteHosts":[{"type":"addresses","values":[)",
                   addresses, R"(]},{"type":"cidr","values":[)", cidrs, "]}");
  EXPECT_EQ(
      Call("POST", "/firewall-control", CreateBody("full", hosts + "]")).status,
      200);
  std::string over =
      absl::StrCat(hosts, R"(,{"type":"fqdn","values":["x.example"]}])");
  Response r = Call("POST", "/firewall-control", CreateBody("over", over));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("more than 5000 values in one rule"));
}

TEST_F(EmulatorTest, CreateReturnsAStringIdAndRejectsDuplicateNames) {
  Response r = Call("POST", "/firewall-control", CreateBody("A"));
  ASSERT_EQ(r.status, 200) << r.body;
  json rule = Body(r)["data"];
  ASSERT_TRUE(rule["id"].is_string());
  EXPECT_EQ(rule["id"].get<std::string>().size(), 18u);
  EXPECT_EQ(rule["scope"], "site");
  EXPECT_EQ(rule["scopeId"], kSiteId);

  Response dup = Call("POST", "/firewall-control", CreateBody("A"));
  EXPECT_EQ(dup.status, 400);
  absl::Status mapped =
      StatusFromHttpError(dup.status, dup.body, "POST /firewall-control");
  EXPECT_EQ(mapped.code(), absl::StatusCode::kAlreadyExists) << mapped;
  EXPECT_EQ(mapped.message(),
            "POST /firewall-control: HTTP 400: Validation Error (code "
            "4000010): Firewall rule name \"A\" already exists in this scope");
  // The same name at account scope is another scope.
  std::string account_body = absl::StrCat(
      R"({"filter":{"accountIds":[")", kAccountId,
      R"("]},"data":{"name":"A","action":"Block","status":"Enabled"}})");
  EXPECT_EQ(Call("POST", "/firewall-control", account_body).status, 200);
}

TEST_F(EmulatorTest, SiteQueriesShowInheritedRulesWithTheirScope) {
  v1::Rule rule;
  rule.set_name("inherited");
  rule.set_action(v1::RULE_ACTION_BLOCK);
  s1_->AddRule(v1::RULE_SCOPE_GLOBAL, "", rule);
  s1_->AddRule(v1::RULE_SCOPE_ACCOUNT, kAccountId, rule);
  s1_->AddRule(v1::RULE_SCOPE_ACCOUNT, "999999999999999999", rule);
  s1_->AddRule(v1::RULE_SCOPE_SITE, "111111111111111111", rule);
  ASSERT_EQ(Call("POST", "/firewall-control", CreateBody("own")).status, 200);
  json body =
      Body(Call("GET", absl::StrCat("/firewall-control?siteIds=", kSiteId)));
  ASSERT_EQ(body["data"].size(), 3u) << body.dump();
  EXPECT_EQ(body["data"][0]["scope"], "site");
  EXPECT_EQ(body["data"][1]["scope"], "account");
  EXPECT_EQ(body["data"][1]["scopeId"], kAccountId);
  EXPECT_EQ(body["data"][2]["scope"], "global");
  EXPECT_TRUE(body["data"][2]["scopeId"].is_null());
  // scopes=site narrows to the site's own rules.
  body = Body(Call("GET", absl::StrCat("/firewall-control?siteIds=", kSiteId,
                                       "&scopes=site")));
  EXPECT_EQ(body["data"].size(), 1u);
}

// GET /groups lists a site's groups; a group's query shows its own rules,
// then its site's, its account's and the global ones; a group's filter
// creates and deletes group rules only.
TEST_F(EmulatorTest, GroupsListAndScopeTheirRules) {
  constexpr char kGroup[] = "1827364554637281901";
  s1_->AddGroup({kGroup, "Lab", kSiteId});
  s1_->AddGroup({"1827364554637281902", "Other", "111111111111111111"});
  json groups = Body(Call("GET", absl::StrCat("/groups?siteIds=", kSiteId)));
  ASSERT_EQ(groups["data"].size(), 1u) << groups.dump();
  EXPECT_EQ(groups["data"][0]["id"], kGroup);
  EXPECT_EQ(groups["data"][0]["name"], "Lab");
  EXPECT_EQ(groups["data"][0]["siteId"], kSiteId);
  EXPECT_EQ(groups["data"][0]["type"], "static");
  EXPECT_TRUE(groups["pagination"]["nextCursor"].is_null());

  v1::Rule rule;
  rule.set_name("inherited");
  rule.set_action(v1::RULE_ACTION_BLOCK);
  s1_->AddRule(v1::RULE_SCOPE_GLOBAL, "", rule);
  s1_->AddRule(v1::RULE_SCOPE_SITE, kSiteId, rule);
  s1_->AddRule(v1::RULE_SCOPE_GROUP, "1827364554637281902", rule);
  const std::string create = absl::StrCat(
      R"({"filter":{"groupIds":[")", kGroup,
      R"("]},"data":{"name":"inherited","action":"Block","status":"Enabled"}})");
  Response created = Call("POST", "/firewall-control", create);
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(Body(created)["data"]["scope"], "group");
  EXPECT_EQ(Body(created)["data"]["scopeId"], kGroup);
  // The name is the group's now, whatever its site holds.
  EXPECT_EQ(Call("POST", "/firewall-control", create).status, 400);
  json body =
      Body(Call("GET", absl::StrCat("/firewall-control?groupIds=", kGroup)));
  ASSERT_EQ(body["data"].size(), 3u) << body.dump();
  EXPECT_EQ(body["data"][0]["scope"], "group");
  EXPECT_EQ(body["data"][1]["scope"], "site");
  EXPECT_EQ(body["data"][2]["scope"], "global");
  // The site's query never shows its groups' rules.
  body = Body(Call("GET", absl::StrCat("/firewall-control?siteIds=", kSiteId)));
  for (const json& r : body["data"]) EXPECT_NE(r["scope"], "group");
  // An unknown group is refused; a group's delete leaves the site's rule.
  EXPECT_EQ(Call("POST", "/firewall-control",
                 absl::StrReplaceAll(create, {{kGroup, "1"}}))
                .status,
            400);
  const std::string id = Body(created)["data"]["id"];
  Response deleted = Call("DELETE", "/firewall-control",
                          absl::StrCat(R"({"filter":{"groupIds":[")", kGroup,
                                       R"("],"ids":[")", id, R"("]}})"));
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(Body(deleted)["data"]["affected"], 1);
  EXPECT_EQ(s1_->RulesJson(v1::RULE_SCOPE_SITE, kSiteId).size(), 1u);
  EXPECT_TRUE(s1_->RulesJson(v1::RULE_SCOPE_GROUP, kGroup).empty());
}

TEST_F(EmulatorTest, UpdateAndDeleteFollowTheirRules) {
  json created =
      Body(Call("POST", "/firewall-control", CreateBody("A")))["data"];
  ASSERT_EQ(Call("POST", "/firewall-control", CreateBody("B")).status, 200);
  const std::string id = created["id"];
  EXPECT_EQ(Call("PUT", "/firewall-control/199999999999999999",
                 R"({"data":{"name":"x"}})")
                .status,
            404);
  Response clash = Call("PUT", absl::StrCat("/firewall-control/", id),
                        R"({"data":{"name":"B"}})");
  EXPECT_EQ(clash.status, 400);
  EXPECT_THAT(clash.body, HasSubstr("already exists"));
  // Fields not sent are kept (UNCERTAIN upstream; tqs1 always sends all).
  Response renamed = Call("PUT", absl::StrCat("/firewall-control/", id),
                          R"({"data":{"name":"A2"}})");
  ASSERT_EQ(renamed.status, 200);
  EXPECT_EQ(Body(renamed)["data"]["action"], "Block");

  EXPECT_EQ(Call("DELETE", "/firewall-control", R"({"filter":{}})").status,
            400);
  Response deleted =
      Call("DELETE", "/firewall-control",
           absl::StrCat(R"({"filter":{"ids":[")", id, R"("],"siteIds":[")",
                        kSiteId, R"("]}})"));
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(Body(deleted)["data"]["affected"], 1);
  Response again = Call("DELETE", "/firewall-control",
                        absl::StrCat(R"({"filter":{"ids":[")", id, R"("]}})"));
  EXPECT_EQ(Body(again)["data"]["affected"], 0);

  // Every write is logged with before/after.
  std::vector<WriteEvent> events = s1_->Events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, "create");
  EXPECT_FALSE(events[0].before.has_value());
  EXPECT_EQ(events[2].kind, "update");
  EXPECT_EQ((*events[2].before)["name"], "A");
  EXPECT_EQ((*events[2].after)["name"], "A2");
  EXPECT_EQ(events[3].kind, "delete");
  EXPECT_EQ(events[3].rule_id, id);
  EXPECT_FALSE(events[3].after.has_value());
}

TEST_F(EmulatorTest, HooksEditStateDirectlyAndAreLogged) {
  json legacy = {
      {"name", "Old connector"},
      {"action", "Block"},
      {"status", "Enabled"},
      {"remoteHost", {{"type", "addresses"}, {"values", {"1.2.3.4"}}}}};
  std::string id = s1_->AddRuleJson(v1::RULE_SCOPE_SITE, kSiteId, legacy);
  ASSERT_TRUE(
      s1_->ModifyRule(id, [](json& r) { r["status"] = "Disabled"; }).ok());
  EXPECT_EQ(s1_->RulesJson(v1::RULE_SCOPE_SITE, kSiteId)[0]["status"],
            "Disabled");
  EXPECT_EQ(s1_->Rules(v1::RULE_SCOPE_SITE, kSiteId)[0].name(),
            "Old connector");
  ASSERT_TRUE(s1_->RemoveRule(id).ok());
  EXPECT_EQ(s1_->RemoveRule(id).code(), absl::StatusCode::kNotFound);
  std::vector<WriteEvent> events = s1_->Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, "hook_add");
  EXPECT_EQ(events[1].kind, "hook_modify");
  EXPECT_EQ(events[2].kind, "hook_delete");

  // A cleared log starts empty and goes on numbering.
  s1_->ClearEvents();
  EXPECT_TRUE(s1_->Events().empty());
  s1_->AddRuleJson(v1::RULE_SCOPE_SITE, kSiteId, legacy);
  events = s1_->Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].seq, 4);
}

// A rule changed in the console (a hook) or by an update is served and
// checked as it is now: its new name in lists, its old name free.
TEST_F(EmulatorTest, RenamedRulesAreListedAndCheckedByTheirNewName) {
  std::string id = s1_->AddRuleJson(
      v1::RULE_SCOPE_SITE, kSiteId,
      {{"name", "Old connector"}, {"action", "Block"}, {"status", "Enabled"}});
  ASSERT_TRUE(s1_->ModifyRule(id, [](json& r) { r["name"] = "Renamed"; }).ok());
  Response list =
      Call("GET", absl::StrCat("/firewall-control?siteIds=", kSiteId));
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(Body(list)["data"].size(), 1u);
  EXPECT_EQ(Body(list)["data"][0]["name"], "Renamed");
  EXPECT_EQ(Call("POST", "/firewall-control", CreateBody("Renamed")).status,
            400);
  Response again =
      Call("POST", "/firewall-control", CreateBody("Old connector"));
  ASSERT_EQ(again.status, 200) << again.body;
  const std::string second = Body(again)["data"]["id"].get<std::string>();

  // Renamed by an update: listed so, and the name it left is free.
  Response put = Call("PUT", absl::StrCat("/firewall-control/", second),
                      R"({"data":{"name":"Third"}})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Body(put)["data"]["name"], "Third");
  list = Call("GET", absl::StrCat("/firewall-control?siteIds=", kSiteId));
  EXPECT_EQ(Body(list)["data"][0]["name"], "Third");
  EXPECT_EQ(Body(list)["data"][0]["order"], 1);
  EXPECT_EQ(
      Call("POST", "/firewall-control", CreateBody("Old connector")).status,
      200);
  EXPECT_EQ(Call("PUT", absl::StrCat("/firewall-control/", second),
                 R"({"data":{"name":"Renamed"}})")
                .status,
            400);
}

TEST_F(EmulatorTest, SitesByNameAreCaseInsensitiveAndActiveOnly) {
  s1_->AddSite({"100000000000000002", "hq", kAccountId, "Acme"});
  s1_->AddSite({"100000000000000003", "HQ", "2", "Other", "expired"});
  json body = Body(Call("GET", "/sites?name=HQ&state=active"));
  ASSERT_TRUE(body["data"]["sites"].is_array());
  EXPECT_EQ(body["data"]["sites"].size(), 2u);
  EXPECT_TRUE(body["pagination"]["nextCursor"].is_null());
}

TEST_F(EmulatorTest, ListedRulesCarryCategoryEditableAndOrder) {
  ASSERT_EQ(Call("POST", "/firewall-control", CreateBody("A")).status, 200);
  ASSERT_EQ(Call("POST", "/firewall-control", CreateBody("B")).status, 200);
  json body =
      Body(Call("GET", absl::StrCat("/firewall-control?siteIds=", kSiteId)));
  ASSERT_EQ(body["data"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(body["data"][i]["ruleCategory"], "firewall");
    EXPECT_EQ(body["data"][i]["editable"], true);
    EXPECT_EQ(body["data"][i]["order"], i + 1);
  }
}

TEST_F(EmulatorTest, DefaultSitesInTwoAccounts) {
  std::vector<EmulatedSite> added = s1_->AddDefaultSitesInTwoAccounts();
  ASSERT_EQ(added.size(), 3u);
  struct Case {
    std::string query;
    std::vector<std::string> ids;
  };
  const std::vector<Case> cases = {
      {"name=Default site&state=active", {added[0].id, added[1].id}},
      {"name=Default site", {added[0].id, added[1].id, added[2].id}},
      {absl::StrCat("name=Default site&state=active&accountIds=",
                    SentinelOneEmulator::kSecondAccountId),
       {added[1].id}},
      {absl::StrCat("siteIds=", added[0].id, ",", kSiteId),
       {added[0].id, kSiteId}},
      {"state=expired", {added[2].id}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    json body = Body(Call("GET", absl::StrCat("/sites?", c.query)));
    std::vector<std::string> ids;
    for (const json& site : body["data"]["sites"]) ids.push_back(site["id"]);
    EXPECT_THAT(ids, ::testing::UnorderedElementsAreArray(c.ids));
  }
  json body = Body(Call(
      "GET", absl::StrCat("/sites?siteIds=", added[0].id, ",", added[1].id)));
  ASSERT_EQ(body["data"]["sites"].size(), 2u);
  for (const json& site : body["data"]["sites"]) {
    EXPECT_EQ(site["name"], "Default site");
    EXPECT_EQ(site["isDefault"], true);
    EXPECT_EQ(site["state"], "active");
  }
  EXPECT_NE(body["data"]["sites"][0]["accountId"],
            body["data"]["sites"][1]["accountId"]);
  EXPECT_NE(body["data"]["sites"][0]["accountName"],
            body["data"]["sites"][1]["accountName"]);
  EXPECT_NE(body["data"]["sites"][0]["sku"], body["data"]["sites"][1]["sku"]);
  // The seeded site keeps the defaults of today.
  json hq = Body(Call("GET", absl::StrCat("/sites?siteIds=", kSiteId)));
  EXPECT_EQ(hq["data"]["sites"][0]["isDefault"], false);
  EXPECT_EQ(hq["data"]["sites"][0]["sku"], "Complete");
}

TEST_F(EmulatorTest, FirewallConfigurationPerSite) {
  const std::string path =
      absl::StrCat("/firewall-control/configuration?siteIds=", kSiteId);
  json config = Body(Call("GET", path))["data"];
  EXPECT_EQ(config["enabled"], true);
  EXPECT_TRUE(config["inheritedFrom"].is_null());
  EXPECT_EQ(config["inherits"], false);
  EXPECT_EQ(config["inheritAllFirewallRules"], false);

  EmulatedFirewallConfig disabled;
  disabled.enabled = false;
  disabled.inherited_from = "Global";
  disabled.inherits = true;
  disabled.inherit_all_firewall_rules = true;
  ASSERT_TRUE(s1_->SetFirewallConfig(kSiteId, disabled).ok());
  config = Body(Call("GET", path))["data"];
  EXPECT_EQ(config["enabled"], false);
  EXPECT_EQ(config["inheritedFrom"], "Global");
  EXPECT_EQ(config["inherits"], true);
  EXPECT_EQ(config["inheritAllFirewallRules"], true);

  EXPECT_EQ(s1_->SetFirewallConfig("199999999999999999", disabled).code(),
            absl::StatusCode::kNotFound);
  Response unknown =
      Call("GET", "/firewall-control/configuration?siteIds=199999999999999999");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.body, HasSubstr("199999999999999999"));
  EXPECT_EQ(Call("GET", "/firewall-control/configuration").status, 200);
}

TEST_F(EmulatorTest, RefusesIpv6OnlyWhenAsked) {
  const std::string v6 =
      R"(,"remoteHosts":[{"type":"addresses","values":["192.0.2.1","2001:db8::1"]}])";
  const std::string v6_prefix =
      R"(,"remoteHosts":[{"type":"cidr","values":["2001:db8::/32"]}])";
  const std::string v4 =
      R"(,"remoteHosts":[{"type":"addresses","values":["192.0.2.1"]}])";
  Response accepted = Call("POST", "/firewall-control", CreateBody("v6", v6));
  ASSERT_EQ(accepted.status, 200) << accepted.body;  // the default
  const std::string id = Body(accepted)["data"]["id"];

  ConsoleModes modes;
  modes.refuse_ipv6 = true;
  s1_->SetModes(modes);
  const size_t events = s1_->Events().size();
  struct Case {
    std::string method;
    std::string path;
    std::string body;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"POST", "/firewall-control", CreateBody("v6b", v6), "2001:db8::1"},
      {"POST", "/firewall-control", CreateBody("v6c", v6_prefix),
       "2001:db8::/32"},
      {"PUT", absl::StrCat("/firewall-control/", id),
       absl::StrCat(R"({"data":{"name":"v6")", v6_prefix, "}}"),
       "2001:db8::/32"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    Response r = Call(c.method, c.path, c.body);
    EXPECT_EQ(r.status, 400);
    json error = Body(r)["errors"][0];
    EXPECT_EQ(error["code"], kCodeValidation);
    EXPECT_EQ(error["title"], "Validation Error");
    EXPECT_THAT(error["detail"].get<std::string>(),
                HasSubstr(absl::StrCat("'", c.value, "'")));
  }
  EXPECT_EQ(s1_->Events().size(), events);  // nothing written
  EXPECT_EQ(Call("POST", "/firewall-control", CreateBody("v4", v4)).status,
            200);
  EXPECT_EQ(Call("PUT", absl::StrCat("/firewall-control/", id),
                 absl::StrCat(R"({"data":{"name":"v6")", v4, "}}"))
                .status,
            200);
}

TEST_F(EmulatorTest, ThrottlesWithoutRetryAfter) {
  s1_->ThrottleNext(2);
  const std::string list = absl::StrCat("/firewall-control?siteIds=", kSiteId);
  for (int i = 0; i < 2; ++i) {
    // Before authentication, as a front end would.
    Response r = Call("GET", list, "", i == 0 ? "" : "ApiToken wrong");
    EXPECT_EQ(r.status, 429);
    EXPECT_TRUE(
        r.headers.empty() ||
        std::none_of(r.headers.begin(), r.headers.end(), [](const auto& h) {
          return absl::EqualsIgnoreCase(h.first, "Retry-After");
        }));
    EXPECT_EQ(Body(r)["errors"][0]["title"], "Too Many Requests");
  }
  EXPECT_EQ(Call("GET", list).status, 200);

  ConsoleModes modes;
  modes.throttle_every_kth_write = 3;
  s1_->SetModes(modes);
  std::vector<int> statuses;
  for (int i = 0; i < 7; ++i) {
    statuses.push_back(
        Call("POST", "/firewall-control", CreateBody(absl::StrCat("W", i)))
            .status);
    EXPECT_EQ(Call("GET", list).status, 200);  // reads are not counted
  }
  EXPECT_THAT(statuses,
              ::testing::ElementsAre(200, 200, 429, 200, 200, 429, 200));
  EXPECT_EQ(Body(Call("GET", list))["pagination"]["totalItems"], 5);
}

TEST_F(EmulatorTest, OddForeignRulesInRealShapes) {
  EXPECT_EQ(s1_->AddOddForeignRules("199999999999999999").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<std::string>> ids =
      s1_->AddOddForeignRules(kSiteId);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 9u);
  json body =
      Body(Call("GET", absl::StrCat("/firewall-control?siteIds=", kSiteId,
                                    "&limit=100")));
  ASSERT_EQ(body["data"].size(), 9u) << body.dump();
  std::map<std::string, json> by_name;
  for (const json& r : body["data"]) by_name[r["name"]] = r;
  auto rule = [&](const std::string& name) -> const json& {
    EXPECT_TRUE(by_name.count(name)) << name;
    return by_name[name];
  };
  EXPECT_TRUE(
      rule("Foreign: null in values")["remoteHosts"][0]["values"][1].is_null());
  EXPECT_EQ(rule("Foreign: host entries without a type")["remoteHosts"][0],
            json::object());
  EXPECT_FALSE(
      rule("Foreign: host entries without a type")["remoteHosts"][1].contains(
          "type"));
  EXPECT_TRUE(rule("Foreign: null lists")["osTypes"].is_null());
  EXPECT_TRUE(rule("Foreign: null lists")["remoteHosts"].is_null());
  EXPECT_EQ(rule("Foreign: read-only")["editable"], false);
  EXPECT_EQ(rule("Foreign: network quarantine")["ruleCategory"],
            "network_quarantine");
  const json& legacy = rule("Foreign: legacy singular fields");
  EXPECT_FALSE(legacy.contains("osTypes"));
  EXPECT_FALSE(legacy.contains("remoteHosts"));
  EXPECT_EQ(legacy["osType"], "windows");
  EXPECT_EQ(legacy["remoteHost"]["values"][0], "198.51.100.22");
  const json& mixed = rule("Foreign: any, fqdn and range");
  EXPECT_TRUE(mixed["remoteHosts"][0]["values"].is_null());
  EXPECT_EQ(mixed["remoteHosts"][1]["type"], "fqdn");
  EXPECT_EQ(mixed["remoteHosts"][2]["type"], "range");
  EXPECT_EQ(mixed["localHost"], json::object());
  EXPECT_TRUE(mixed["location"]["values"].is_null());
  EXPECT_EQ(rule("Foreign: account policy")["scope"], "account");
  EXPECT_EQ(rule("Foreign: account policy")["scopeId"], kAccountId);
  EXPECT_EQ(rule("Foreign: global policy")["scope"], "global");
  EXPECT_TRUE(rule("Foreign: global policy")["scopeId"].is_null());
  for (const auto& [name, r] : by_name) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(r["order"].is_number_integer());
    EXPECT_THAT(r["description"].get<std::string>(),
                ::testing::Not(HasSubstr("tqs1")));
    if (name != "Foreign: network quarantine") {
      EXPECT_EQ(r["ruleCategory"], "firewall");
    }
  }
  // A read-only rule cannot be changed.
  Response r = Call("PUT", absl::StrCat("/firewall-control/", (*ids)[3]),
                    R"({"data":{"status":"Disabled"}})");
  EXPECT_EQ(r.status, 403);
}

TEST_F(EmulatorTest, TokenDetailsSystemInfoAndUser) {
  const std::string request =
      absl::StrCat(R"({"data":{"apiToken":")", kToken, R"("}})");
  auto expires_in_days = [&]() -> std::optional<double> {
    json data = Body(Call("POST", "/users/api-token-details", request))["data"];
    EXPECT_TRUE(data["createdAt"].is_string()) << data.dump();
    if (data["expiresAt"].is_null()) return std::nullopt;
    absl::Time expires;
    std::string error;
    EXPECT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ",
                                data["expiresAt"].get<std::string>(), &expires,
                                &error))
        << error;
    return absl::ToDoubleHours(expires - absl::Now()) / 24;
  };
  EXPECT_NEAR(expires_in_days().value_or(-1), 180, 0.1);  // the default
  ConsoleModes modes;
  modes.token_expires_in = absl::Hours(24 * 10);
  s1_->SetModes(modes);
  EXPECT_NEAR(expires_in_days().value_or(-1), 10, 0.1);
  modes.token_expires_in = -absl::Hours(24);
  s1_->SetModes(modes);
  EXPECT_NEAR(expires_in_days().value_or(0), -1, 0.1);
  modes.token_expires_in = absl::InfiniteDuration();
  s1_->SetModes(modes);
  EXPECT_FALSE(expires_in_days().has_value());

  Response wrong = Call("POST", "/users/api-token-details",
                        R"({"data":{"apiToken":"not-the-token-xyz"}})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_THAT(wrong.body, ::testing::Not(HasSubstr("not-the-token-xyz")));
  EXPECT_EQ(Call("POST", "/users/api-token-details", "{}").status, 400);

  json info = Body(Call("GET", "/system/info"))["data"];
  EXPECT_EQ(info["version"], "23.4.2.14");
  EXPECT_TRUE(info["build"].is_string());
  json user = Body(Call("GET", "/user"))["data"];
  EXPECT_TRUE(user["id"].is_string());
  EXPECT_TRUE(user["scope"].is_string());
  EXPECT_EQ(Call("GET", "/user", "", "ApiToken wrong").status, 401);
}

TEST(EmulatorStartTest, WritesWithoutTheirContents) {
  EmulatorOptions options;
  options.api_token = kToken;
  options.keep_write_contents = false;
  absl::StatusOr<std::unique_ptr<SentinelOneEmulator>> s1 =
      SentinelOneEmulator::Start(options);
  ASSERT_TRUE(s1.ok()) << s1.status();
  (*s1)->AddSite({kSiteId, "HQ", kAccountId, "Acme"});
  v1::Rule rule;
  rule.set_name("A");
  rule.set_action(v1::RULE_ACTION_BLOCK);
  const std::string id = (*s1)->AddRule(v1::RULE_SCOPE_SITE, kSiteId, rule);
  ASSERT_TRUE(
      (*s1)->ModifyRule(id, [](json& rule) { rule["name"] = "B"; }).ok());
  ASSERT_TRUE((*s1)->RemoveRule(id).ok());
  std::vector<WriteEvent> events = (*s1)->Events();
  ASSERT_EQ(events.size(), 3u);
  for (const WriteEvent& e : events) {
    EXPECT_EQ(e.rule_id, id) << e.kind;
    EXPECT_FALSE(e.before.has_value()) << e.kind;
    EXPECT_FALSE(e.after.has_value()) << e.kind;
  }
  EXPECT_EQ(events[1].kind, "hook_modify");
  EXPECT_TRUE((*s1)->Rules(v1::RULE_SCOPE_SITE, kSiteId).empty());
}

TEST(EmulatorStartTest, ModesAndFixturesFromTheOptions) {
  EmulatorOptions options;
  options.api_token = kToken;
  options.modes.refuse_ipv6 = true;
  options.default_sites_in_two_accounts = true;
  absl::StatusOr<std::unique_ptr<SentinelOneEmulator>> s1 =
      SentinelOneEmulator::Start(options);
  ASSERT_TRUE(s1.ok()) << s1.status();
  EXPECT_TRUE((*s1)->modes().refuse_ipv6);
  Request request;
  request.method = "GET";
  request.path = "/web/api/v2.1/sites";
  request.params = {{"name", "Default site"}, {"state", "active"}};
  request.headers.emplace_back("Authorization",
                               absl::StrCat("ApiToken ", kToken));
  json body = json::parse((*s1)->Handle(request).body, nullptr, false);
  EXPECT_EQ(body["data"]["sites"].size(), 2u);
  // Off by default.
  EmulatorOptions plain;
  plain.api_token = kToken;
  absl::StatusOr<std::unique_ptr<SentinelOneEmulator>> s2 =
      SentinelOneEmulator::Start(plain);
  ASSERT_TRUE(s2.ok()) << s2.status();
  EXPECT_FALSE((*s2)->modes().refuse_ipv6);
  EXPECT_EQ((*s2)->modes().throttle_every_kth_write, 0);
  body = json::parse((*s2)->Handle(request).body, nullptr, false);
  EXPECT_EQ(body["data"]["sites"].size(), 0u);
}

TEST(EmulatorStartTest, NeedsAToken) {
  EXPECT_EQ(SentinelOneEmulator::Start({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tqs1::sentinelone

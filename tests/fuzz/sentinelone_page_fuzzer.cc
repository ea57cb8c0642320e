// Fuzzes SentinelOneClient's parsing of SentinelOne's answers
// (providers/sentinelone/sentinelone_client.h, wire.h) through its public
// methods: the first input byte picks the answer replaced by the rest of
// the input (0: the site list, 1: every firewall rule page, 2: the answer to
// a create, 3: an HTTP error body); the other answers are well-formed.
// Whatever the server says: no crash, a bounded number of requests (at
// most max_pages per list), no rule id listed twice in a successful read,
// and never the API token in an error message.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "proto/state.pb.h"
#include "providers/http/http_transport.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/sentinelone/wire.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/scripted_transport.h"

namespace {

constexpr char kToken[] = "s1-FUZZ-SECRET-3";
constexpr char kSites[] =
    R"({"data": {"sites": [{"id": "1758952600032266153", "name": "HQ", )"
    R"("accountName": "Acme"}]}, "pagination": {"nextCursor": null}})";
constexpr char kRules[] =
    R"({"data": [{"id": "1", "name": "Known C2", "action": "Block", )"
    R"("description": "x [managed by tqs1]", "scope": "site", )"
    R"("scopeId": "1758952600032266153", "remoteHosts": [{"type": )"
    R"("addresses", "values": ["192.0.2.1"]}]}], )"
    R"("pagination": {"nextCursor": null}})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tqs1::fuzz::Answer;
  using tqs1::fuzz::Check;
  if (size == 0) return 0;
  const uint8_t which = data[0] % 4;
  const std::string fuzzed(tqs1::fuzz::AsText(data + 1, size - 1));

  if (which == 3) {
    // The error mapping, on every status class.
    for (int status : {400, 401, 404, 409, 429, 500, 503, 302}) {
      absl::Status error = tqs1::sentinelone::StatusFromHttpError(
          status, fuzzed, "POST /firewall-control");
      Check(!error.ok(), "an HTTP error is an error");
      Check(absl::StrContains(error.message(), "POST /firewall-control"),
            "errors name the endpoint");
    }
    absl::StatusOr<nlohmann::json> body =
        tqs1::sentinelone::ParseJsonBody(fuzzed, "GET /x");
    if (body.ok()) {
      Check(body->is_object(), "a parsed body is an object");
      absl::StatusOr<tqs1::v1::Rule> rule =
          tqs1::sentinelone::RuleFromJson(*body, "GET /x");
      if (rule.ok()) {
        nlohmann::json wire = tqs1::sentinelone::RuleToWireData(*rule);
        Check(wire.is_object(), "RuleToWireData gives an object");
        (void)tqs1::sentinelone::DumpJson(wire);
        (void)tqs1::sentinelone::ValidateRuleForWrite(*rule);
      }
    }
    return 0;
  }

  tqs1::fuzz::ScriptedTransport transport(
      [&](const tqs1::http::HttpRequest& request)
          -> absl::StatusOr<tqs1::http::HttpResponse> {
        if (absl::StrContains(request.url, "/sites")) {
          return Answer(200, which == 0 ? fuzzed : kSites);
        }
        if (request.method == "POST") return Answer(200, fuzzed);
        return Answer(200, which == 1 ? fuzzed : kRules);
      });
  tqs1::sentinelone::SentinelOneClientOptions options;
  options.base_url = "https://s1.test";
  options.api_token = kToken;
  options.max_pages = 4;
  absl::StatusOr<std::unique_ptr<tqs1::sentinelone::SentinelOneClient>> client =
      tqs1::sentinelone::SentinelOneClient::Create(options, &transport);
  Check(client.ok(), "the client is created", client.status().ToString());
  auto no_secret = [](const absl::Status& status) {
    Check(!absl::StrContains(status.message(), kToken), "no token in errors");
  };

  absl::StatusOr<std::string> site = (*client)->FindSite("HQ");
  Check(transport.requests() <= options.max_pages,
        "a list read sends at most max_pages requests");
  if (!site.ok()) {
    no_secret(site.status());
    return 0;
  }
  if (which == 1) {
    const int before = transport.requests();
    absl::StatusOr<tqs1::v1::ObservedState> observed =
        (*client)->ReadSite(*site);
    Check(transport.requests() - before <= options.max_pages,
          "a list read sends at most max_pages requests");
    if (!observed.ok()) {
      no_secret(observed.status());
      return 0;
    }
    std::set<std::string> ids;
    for (const tqs1::v1::Rule& rule : observed->rules()) {
      Check(ids.insert(rule.id()).second, "no rule id listed twice");
    }
    return 0;
  }
  if (which == 2) {
    tqs1::v1::Rule rule;
    rule.set_name("Known C2 (2)");
    rule.set_description("x [managed by tqs1]");
    rule.set_action(tqs1::v1::RULE_ACTION_BLOCK);
    tqs1::v1::HostSet* hosts = rule.add_remote_hosts();
    hosts->set_type("addresses");
    hosts->add_values("192.0.2.7");
    absl::StatusOr<tqs1::v1::Rule> created = (*client)->CreateRule(*site, rule);
    if (!created.ok()) no_secret(created.status());
  }
  return 0;
}

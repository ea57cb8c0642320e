#include "cli/check/raw_rules.h"

#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "providers/sentinelone/wire.h"

namespace tqs1::check {
namespace {

using ::nlohmann::json;

constexpr absl::string_view kApiPath = "/web/api/v2.1";

json ParsedBody(const RawAnswer& answer) {
  return json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpRawRuleCalls>> HttpRawRuleCalls::Create(
    http::HttpTransport* transport, absl::string_view console_url,
    std::string api_token) {
  if (transport == nullptr || console_url.empty() || api_token.empty()) {
    return absl::InvalidArgumentError(
        "write probe: a SentinelOne transport, console URL and API token are "
        "needed");
  }
  absl::string_view base = console_url;
  while (absl::ConsumeSuffix(&base, "/")) {
  }
  absl::ConsumeSuffix(&base, kApiPath);
  return absl::WrapUnique(new HttpRawRuleCalls(
      transport, absl::StrCat(base, kApiPath), std::move(api_token)));
}

absl::StatusOr<RawAnswer> HttpRawRuleCalls::Send(absl::string_view method,
                                                 absl::string_view path,
                                                 const json& body) {
  http::HttpRequest request;
  request.method = std::string(method);
  request.url = absl::StrCat(api_base_, path);
  request.headers.emplace_back("Authorization",
                               absl::StrCat("ApiToken ", api_token_));
  request.headers.emplace_back("Accept", "application/json");
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = sentinelone::DumpJson(body);
  }
  absl::StatusOr<http::HttpResponse> response = transport_->Send(request);
  if (!response.ok()) return response.status();
  return RawAnswer{response->status, std::move(response->body)};
}

absl::StatusOr<RawAnswer> HttpRawRuleCalls::Create(absl::string_view site_id,
                                                   const tqs1::v1::Rule& rule) {
  json body = {{"data", sentinelone::RuleToWireData(rule)},
               {"filter", {{"siteIds", {std::string(site_id)}}}}};
  return Send("POST", "/firewall-control", body);
}

absl::StatusOr<RawAnswer> HttpRawRuleCalls::Put(absl::string_view rule_id,
                                                const json& data) {
  return Send(
      "PUT",
      absl::StrCat("/firewall-control/", sentinelone::UrlEncode(rule_id)),
      json{{"data", data}});
}

absl::StatusOr<RawAnswer> HttpRawRuleCalls::Delete(absl::string_view site_id,
                                                   absl::string_view rule_id) {
  json body = {
      {"filter",
       {{"ids", {std::string(rule_id)}}, {"siteIds", {std::string(site_id)}}}}};
  return Send("DELETE", "/firewall-control", body);
}

absl::StatusOr<RawAnswer> HttpRawRuleCalls::FirstRules(
    absl::string_view site_id, int limit) {
  return Send("GET",
              absl::StrCat("/firewall-control?siteIds=",
                           sentinelone::UrlEncode(site_id), "&limit=", limit),
              json());
}

std::string SummarizeAnswer(const RawAnswer& answer) {
  if (answer.status >= 200 && answer.status <= 299) {
    return absl::StrCat("HTTP ", answer.status);
  }
  absl::Status error = sentinelone::StatusFromHttpError(
      answer.status, answer.body, "SentinelOne");
  return std::string(error.message());
}

std::optional<int64_t> AffectedOf(const RawAnswer& answer) {
  json body = ParsedBody(answer);
  if (!body.is_object()) return std::nullopt;
  auto data = body.find("data");
  if (data == body.end() || !data->is_object()) return std::nullopt;
  auto affected = data->find("affected");
  if (affected == data->end()) return std::nullopt;
  int64_t n = 0;
  if (affected->is_number_integer()) return affected->get<int64_t>();
  if (affected->is_string() &&
      absl::SimpleAtoi(affected->get<std::string>(), &n)) {
    return n;
  }
  return std::nullopt;
}

std::string RuleIdOf(const RawAnswer& answer) {
  json body = ParsedBody(answer);
  if (!body.is_object()) return "";
  auto data = body.find("data");
  if (data == body.end() || !data->is_object()) return "";
  auto id = data->find("id");
  if (id == data->end()) return "";
  if (id->is_string()) return id->get<std::string>();
  if (id->is_number_integer()) return absl::StrCat(id->get<int64_t>());
  return "";
}

}  // namespace tqs1::check

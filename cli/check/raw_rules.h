// The few SentinelOne requests the write probe must see unsettled: a
// FirewallRules client re-reads and rewords a refused duplicate, sends every
// field on update and hides a delete's `affected` count, which is exactly
// what the probe wants to learn. Used only on rules named tqs1-probe-*.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<RawRuleCalls> raw,
//                    HttpRawRuleCalls::Create(transport, console_url, token));
//   ASSIGN_OR_RETURN(RawAnswer answer, raw->Put(rule_id, {{"description",
//   d}})); std::string said = SummarizeAnswer(answer);  // "HTTP 200"
#ifndef TQS1_CLI_CHECK_RAW_RULES_H_
#define TQS1_CLI_CHECK_RAW_RULES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "proto/state.pb.h"
#include "providers/http/http_transport.h"

namespace tqs1::check {

// An HTTP answer as received (any status).
struct RawAnswer {
  int status = 0;
  std::string body;
};

// Not thread-safe. Errors are the transport's (no answer); an answer of any
// HTTP status is returned as is.
class RawRuleCalls {
 public:
  virtual ~RawRuleCalls() = default;
  // POST /firewall-control {"data": <rule as the client sends it>,
  // "filter": {"siteIds": [site_id]}}.
  virtual absl::StatusOr<RawAnswer> Create(absl::string_view site_id,
                                           const tqs1::v1::Rule& rule) = 0;
  // PUT /firewall-control/<rule_id> {"data": data}: only the fields given.
  virtual absl::StatusOr<RawAnswer> Put(absl::string_view rule_id,
                                        const nlohmann::json& data) = 0;
  // DELETE /firewall-control {"filter": {"ids": [rule_id], "siteIds":
  // [site_id]}}.
  virtual absl::StatusOr<RawAnswer> Delete(absl::string_view site_id,
                                           absl::string_view rule_id) = 0;
  // GET /firewall-control?siteIds=<site_id>&limit=<limit>: the first page
  // of the site's rules, every field as the console sends it.
  virtual absl::StatusOr<RawAnswer> FirstRules(absl::string_view site_id,
                                               int limit) = 0;
};

class HttpRawRuleCalls : public RawRuleCalls {
 public:
  // `transport` is not owned and must outlive the object. kInvalidArgument
  // without a transport, a console URL or a token.
  static absl::StatusOr<std::unique_ptr<HttpRawRuleCalls>> Create(
      http::HttpTransport* transport, absl::string_view console_url,
      std::string api_token);

  absl::StatusOr<RawAnswer> Create(absl::string_view site_id,
                                   const tqs1::v1::Rule& rule) override;
  absl::StatusOr<RawAnswer> Put(absl::string_view rule_id,
                                const nlohmann::json& data) override;
  absl::StatusOr<RawAnswer> Delete(absl::string_view site_id,
                                   absl::string_view rule_id) override;
  absl::StatusOr<RawAnswer> FirstRules(absl::string_view site_id,
                                       int limit) override;

 private:
  HttpRawRuleCalls(http::HttpTransport* transport, std::string api_base,
                   std::string api_token)
      : transport_(transport),
        api_base_(std::move(api_base)),
        api_token_(std::move(api_token)) {}
  // `body` null: none.
  absl::StatusOr<RawAnswer> Send(absl::string_view method,
                                 absl::string_view path,
                                 const nlohmann::json& body);

  http::HttpTransport* const transport_;
  const std::string api_base_;  // "https://console/web/api/v2.1"
  const std::string api_token_;
};

// "HTTP 200" for a 2xx answer; else "HTTP 400: " and the vendor's errors
// (code, title, detail) as StatusFromHttpError words them.
std::string SummarizeAnswer(const RawAnswer& answer);

// The answer's "data.affected" as a count (an integer or a numeric
// string); nullopt when there is none.
std::optional<int64_t> AffectedOf(const RawAnswer& answer);

// The answer's "data.id" (a string or an integer); "" when there is none.
std::string RuleIdOf(const RawAnswer& answer);

}  // namespace tqs1::check

#endif  // TQS1_CLI_CHECK_RAW_RULES_H_

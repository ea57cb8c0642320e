// Counts the vendor API calls `tqs1 serve` makes, by vendor, operation and
// outcome code, by wrapping the two provider interfaces. For the metrics
// page ("tqs1_api_calls_total{vendor,operation,code}").
//
//   ApiCallCounter counter;
//   CountingIndicatorSource source(backends.threatq.get(), &counter);
//   CountingFirewallRules rules(backends.sentinelone.get(), &counter);
//   PlanSync(sync, never_block, source, rules, options);
//   counter.Snapshot();  // {{"threatq", "read_collection", "OK"}: 1, ...}
//
// One call of a provider method counts once, whatever the transport retried
// underneath; the code is the method's final absl::StatusCode.
#ifndef TQS1_CLI_SERVER_API_CALLS_H_
#define TQS1_CLI_SERVER_API_CALLS_H_

#include <map>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "providers/sentinelone/firewall_rules.h"
#include "providers/threatq/indicator_source.h"

namespace tqs1::server {

// What one counter counts.
struct ApiCallKey {
  std::string vendor;     // "threatq", "sentinelone"
  std::string operation;  // "read_collection", "find_site", "read_site", ...
  std::string code;       // absl::StatusCodeToString: "OK", "UNAVAILABLE"

  friend bool operator<(const ApiCallKey& a, const ApiCallKey& b) {
    return std::tie(a.vendor, a.operation, a.code) <
           std::tie(b.vendor, b.operation, b.code);
  }
};

// Thread-safe.
class ApiCallCounter {
 public:
  void Record(absl::string_view vendor, absl::string_view operation,
              const absl::Status& status);
  std::map<ApiCallKey, uint64_t> Snapshot() const;

 private:
  mutable absl::Mutex mu_;
  std::map<ApiCallKey, uint64_t> counts_ ABSL_GUARDED_BY(mu_);
};

// Forwards to `base` (unowned) and records each call as vendor "threatq".
// Thread-safe when `base` is.
class CountingIndicatorSource : public threatq::IndicatorSource {
 public:
  CountingIndicatorSource(threatq::IndicatorSource* base,
                          ApiCallCounter* counter)
      : base_(base), counter_(counter) {}
  absl::StatusOr<threatq::CollectionRead> ReadCollection(
      absl::string_view collection) override;

 private:
  threatq::IndicatorSource* base_;
  ApiCallCounter* counter_;
};

// Forwards to `base` (unowned) and records each call as vendor
// "sentinelone". Thread-safe when `base` is.
class CountingFirewallRules : public sentinelone::FirewallRules {
 public:
  CountingFirewallRules(sentinelone::FirewallRules* base,
                        ApiCallCounter* counter)
      : base_(base), counter_(counter) {}
  absl::StatusOr<std::string> FindSite(
      const sentinelone::SiteSelector& site) override;
  absl::StatusOr<std::string> FindAccount(
      absl::string_view name_or_id) override;
  absl::StatusOr<std::string> FindGroup(absl::string_view site_id,
                                        absl::string_view name) override;
  absl::StatusOr<tqs1::v1::ObservedState> ReadSite(
      const sentinelone::Scope& scope) override;
  absl::StatusOr<tqs1::v1::Rule> CreateRule(
      const sentinelone::Scope& scope, const tqs1::v1::Rule& rule) override;
  absl::StatusOr<tqs1::v1::Rule> UpdateRule(
      const sentinelone::Scope& scope, const tqs1::v1::Rule& rule) override;
  absl::Status DeleteRule(const sentinelone::Scope& scope,
                          absl::string_view rule_id) override;

 private:
  sentinelone::FirewallRules* base_;
  ApiCallCounter* counter_;
};

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_API_CALLS_H_

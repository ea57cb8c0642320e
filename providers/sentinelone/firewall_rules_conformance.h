// One conformance suite for FirewallRules, run against every implementation
// (FakeFirewallRules, and SentinelOneClient + CurlTransport against the
// SentinelOneEmulator), so that fake and real cannot drift apart.
//
// A test file instantiates it with a factory of backends:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Fake, FirewallRulesConformanceTest,
//       ::testing::Values(ConformanceParam{"fake", [] {
//         return std::make_unique<FakeBackend>();   // a ConformanceBackend
//       }}),
//       ConformanceParamName);
#ifndef TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_CONFORMANCE_H_
#define TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "proto/state.pb.h"
#include "providers/sentinelone/firewall_rules.h"

namespace tqs1::sentinelone {

// An implementation under test plus the test hooks to set up its state.
class ConformanceBackend {
 public:
  virtual ~ConformanceBackend() = default;

  // The implementation under test.
  virtual FirewallRules& rules() = 0;
  // Adds a site ("active" unless `active` is false) in account `account_id`.
  virtual void AddSite(const std::string& id, const std::string& name,
                       const std::string& account_id, bool active) = 0;
  // Adds group `id` named `name` to site `site_id`.
  virtual void AddGroup(const std::string& id, const std::string& site_id,
                        const std::string& name) = 0;
  // Puts `rule` directly into the state, bypassing validation (hand-made,
  // legacy or inherited rules). `rule.scope()` decides where: SITE into
  // `site_id`, ACCOUNT into the site's account, GLOBAL. Returns its id.
  virtual std::string PutRule(const std::string& site_id,
                              const tqs1::v1::Rule& rule) = 0;
  // Sets the site's Firewall Control configuration (`config.known` true):
  // enabled, inherited_from (empty: its own policy), inherits_rules.
  virtual void SetFirewallConfiguration(
      const std::string& site_id,
      const tqs1::v1::FirewallConfiguration& config) = 0;
};

struct ConformanceParam {
  // Names the instantiation in test names ([A-Za-z0-9_] only).
  std::string name;
  std::function<std::unique_ptr<ConformanceBackend>()> make;
};

// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string ConformanceParamName(
    const ::testing::TestParamInfo<ConformanceParam>& info);

// The suite. Its tests live in firewall_rules_conformance.cc.
class FirewallRulesConformanceTest
    : public ::testing::TestWithParam<ConformanceParam> {
 protected:
  void SetUp() override;
  FirewallRules& rules() { return backend_->rules(); }
  ConformanceBackend& backend() { return *backend_; }

  std::unique_ptr<ConformanceBackend> backend_;
};

}  // namespace tqs1::sentinelone

#endif  // TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_CONFORMANCE_H_

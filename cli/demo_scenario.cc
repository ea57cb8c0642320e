#include "cli/demo_scenario.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_context.h"

namespace tqs1::cli {

tqs1::v1::Config DemoConfig(const std::string& threatq_url,
                            const std::string& sentinelone_url) {
  tqs1::v1::Config config;
  config.mutable_threatq()->set_url(threatq_url);
  config.mutable_threatq()->set_client_id(kDemoClientId);
  config.mutable_threatq()->set_username(kDemoUser);
  config.mutable_threatq()->mutable_password()->set_env(kDemoPasswordEnv);
  config.mutable_sentinelone()->set_url(sentinelone_url);
  config.mutable_sentinelone()->mutable_api_token()->set_env(kDemoTokenEnv);
  // The emulator has no rate limit to stay under.
  config.mutable_sentinelone()->set_writes_per_second(kEmulatorWritesPerSecond);
  tqs1::v1::SyncConfig* sync = config.add_syncs();
  sync->set_name(absl::StrCat(kDemoCollection, " -> ", kDemoSite));
  sync->set_collection(kDemoCollection);
  sync->set_site(kDemoSite);
  sync->mutable_rule()->set_description("Blocked by ThreatQ");
  sync->mutable_rule()->set_direction(tqs1::v1::DIRECTION_ANY);
  sync->mutable_rule()->set_enabled(true);
  return config;
}

absl::StatusOr<DemoVendors> StartDemoEmulators(const std::string& password,
                                               const std::string& api_token,
                                               bool keep_contents) {
  DemoVendors vendors;
  threatq::ThreatQEmulatorOptions tq_options;
  tq_options.server.log_contents = keep_contents;
  absl::StatusOr<std::unique_ptr<threatq::ThreatQEmulator>> tq =
      threatq::ThreatQEmulator::Start(tq_options);
  if (!tq.ok()) {
    return AddContext(tq.status(), "cannot start the ThreatQ emulator");
  }
  vendors.tq = *std::move(tq);
  vendors.tq->AddUser(kDemoUser, password, kDemoClientId);
  sentinelone::EmulatorOptions s1_options;
  s1_options.api_token = api_token;
  s1_options.server.log_contents = keep_contents;
  s1_options.keep_write_contents = keep_contents;
  absl::StatusOr<std::unique_ptr<sentinelone::SentinelOneEmulator>> s1 =
      sentinelone::SentinelOneEmulator::Start(s1_options);
  if (!s1.ok()) {
    return AddContext(s1.status(), "cannot start the SentinelOne emulator");
  }
  vendors.s1 = *std::move(s1);
  return vendors;
}

absl::StatusOr<DemoVendors> StartDemoVendors(
    const std::string& password, const std::string& api_token,
    std::vector<threatq::Indicator> indicators) {
  absl::StatusOr<DemoVendors> vendors = StartDemoEmulators(password, api_token);
  if (!vendors.ok()) return vendors.status();
  vendors->collection_id =
      vendors->tq->AddCollection(kDemoCollection, std::move(indicators));
  vendors->s1->AddSite({kDemoSiteId, kDemoSite, kDemoAccountId, "Acme"});
  return vendors;
}

}  // namespace tqs1::cli

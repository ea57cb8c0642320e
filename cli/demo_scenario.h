// The scenario of `tqs1 demo` and `tqs1 serve --demo`, in one place: both
// vendor emulators in-process on 127.0.0.1, seeded with the demo's user,
// collection and site, and the config a user would write for them. Not
// test-only (the binary runs it); tests get it through testing/vendors_env.h.
//
//   ASSIGN_OR_RETURN(DemoVendors vendors,
//                    StartDemoVendors("pw", "token", DemoIndicators(1)));
//   tqs1::v1::Config config =
//       DemoConfig(vendors.tq->base_url(), vendors.s1->base_url());
//   // secrets: the same "pw" and "token"
//   ASSIGN_OR_RETURN(Backends backends, Connect(config, secrets, &logger));
#ifndef TQS1_CLI_DEMO_SCENARIO_H_
#define TQS1_CLI_DEMO_SCENARIO_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"
#include "proto/config.pb.h"
#include "providers/threatq/collection_read_builder.h"

namespace tqs1::cli {

// The demo's names and ids.
inline constexpr char kDemoCollection[] = "Known C2 IPs";
inline constexpr char kDemoSite[] = "HQ";
inline constexpr char kDemoSiteId[] = "1758952600032266153";
inline constexpr char kDemoAccountId[] = "1286405255240245908";
inline constexpr char kDemoUser[] = "svc-tqs1@example.net";
inline constexpr char kDemoClientId[] = "demo-client-id";
// The environment variables DemoConfig() reads the two secrets from.
inline constexpr char kDemoPasswordEnv[] = "TQS1_THREATQ_PASSWORD";
inline constexpr char kDemoTokenEnv[] = "TQS1_S1_TOKEN";
// SentinelOne writes a second in the demo config: the most the config
// accepts (the emulators have no rate limit).
inline constexpr double kEmulatorWritesPerSecond = 1000;
// The config a user would write for the demo's vendors at these URLs:
// ThreatQ user kDemoUser of OAuth client kDemoClientId with the password
// from $TQS1_THREATQ_PASSWORD, the SentinelOne API token from
// $TQS1_S1_TOKEN, and one sync, "Known C2 IPs -> HQ", of kDemoCollection to
// site kDemoSite (description "Blocked by ThreatQ", any direction,
// enabled).
tqs1::v1::Config DemoConfig(const std::string& threatq_url,
                            const std::string& sentinelone_url);

// The two emulators of the demo. Destroy the clients that talk to them
// first.
struct DemoVendors {
  std::unique_ptr<threatq::ThreatQEmulator> tq;
  std::unique_ptr<sentinelone::SentinelOneEmulator> s1;
  // The id of kDemoCollection in `tq` (0 when not seeded).
  int collection_id = 0;
};

// Starts both emulators on 127.0.0.1 (ephemeral ports) with the demo's
// accounts only: on ThreatQ the user kDemoUser (client kDemoClientId) with
// `password`, on SentinelOne the API token `api_token`; no collection, no
// site. Errors: the emulator's, prefixed "cannot start the ThreatQ
// emulator: " or "cannot start the SentinelOne emulator: ". Without
// `keep_contents`, the emulators log each request and write without its
// body or rule copies (their sizes and kinds only), as a benchmark of
// millions of addresses needs.
absl::StatusOr<DemoVendors> StartDemoEmulators(const std::string& password,
                                               const std::string& api_token,
                                               bool keep_contents = true);

// StartDemoEmulators(), seeded: the collection kDemoCollection holding
// `indicators`, and the active site kDemoSite (kDemoSiteId) of account
// kDemoAccountId ("Acme"), with no rules.
absl::StatusOr<DemoVendors> StartDemoVendors(
    const std::string& password, const std::string& api_token,
    std::vector<threatq::Indicator> indicators);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_DEMO_SCENARIO_H_

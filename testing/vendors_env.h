// Both vendor emulators on 127.0.0.1 (ephemeral ports), seeded as the demo
// is (cli/demo_scenario.h), for the tests that run the real clients, the
// server or the binary against them: a ThreatQ with the demo's user and its
// collection kCollection (empty), a SentinelOne with the site kSiteName
// (kSiteId) of account kAccountId, and the config the CLI needs to reach
// them.
//
//   VendorsEnvOptions options;
//   options.password = "pw-7f3c";                // the secrets of the test
//   ASSIGN_OR_RETURN(std::unique_ptr<VendorsEnv> env,
//                    VendorsEnv::Start(options));
//   env->SetCollection({"192.0.2.1", "10.0.0.0/24"});
//   tqs1::v1::Config config = env->Config();      // in-process use
//   std::string yaml = env->ConfigYaml(           // for the binary
//       {{"c2-hq", kCollection, kSiteName, ""}});
//   env->s1().server().InjectFault(fault);        // the emulators' hooks
#ifndef TQS1_TESTING_VENDORS_ENV_H_
#define TQS1_TESTING_VENDORS_ENV_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/demo_scenario.h"
#include "emulators/emulator_server.h"
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"
#include "proto/config.pb.h"
#include "proto/state.pb.h"
#include "testing/builders.h"

namespace tqs1::testing {

// The ThreatQ user and OAuth client the emulator knows, and the collection
// it holds (the demo's).
inline constexpr const char* kUser = cli::kDemoUser;
inline constexpr const char* kClientId = cli::kDemoClientId;
inline constexpr const char* kCollection = cli::kDemoCollection;
// The variables Config() and ConfigYaml() read the two secrets from.
inline constexpr const char* kPasswordEnv = cli::kDemoPasswordEnv;
inline constexpr const char* kTokenEnv = cli::kDemoTokenEnv;

struct VendorsEnvOptions {
  // The ThreatQ user's password and the SentinelOne API token.
  std::string password = "test-tq-password";
  std::string api_token = "test-s1-token";
  // Whether to seed the collection kCollection and the site kSiteName;
  // without, the test adds its own (tq().AddCollection(), AddSite()).
  bool seed = true;
};

// A fault of the SentinelOne emulator's firewall-rule endpoints
// (/web/api/v2.1/firewall-control...) for requests of `method`.
emulator::Fault RulesFault(emulator::FaultKind kind, const char* method);

// One sync of ConfigYaml().
struct SyncSpec {
  std::string name;
  std::string collection;
  std::string site;
  // More YAML lines for this sync, each indented by 4 spaces by the
  // caller, e.g. "    guards: {unblock_floor: 10}\n".
  std::string extra;
};

// Thread-safe as the emulators are.
class VendorsEnv {
 public:
  // Errors: the emulators' (cannot listen on loopback).
  static absl::StatusOr<std::unique_ptr<VendorsEnv>> Start(
      VendorsEnvOptions options = {});

  threatq::ThreatQEmulator& tq() { return *vendors_.tq; }
  sentinelone::SentinelOneEmulator& s1() { return *vendors_.s1; }
  const VendorsEnvOptions& options() const { return options_; }

  // The id of the seeded collection (0 when not seeded).
  int collection_id() const { return vendors_.collection_id; }
  // Replaces the seeded collection's indicators: IpIndicators(values).
  void SetCollection(const std::vector<std::string>& values);

  // Adds an active site of account kAccountId; returns its 18-digit id.
  std::string AddSite(const std::string& name);
  // The site's own rules (not inherited ones), top first.
  std::vector<tqs1::v1::Rule> SiteRules(
      const std::string& site_id = kSiteId) const;
  // Every address of the site's rules that carry tqs1's ownership marker,
  // sorted.
  std::vector<std::string> BlockedAddresses(
      const std::string& site_id = kSiteId) const;
  // Writes through the SentinelOne API (not test hooks) so far.
  int ApiWrites() const;

  // The demo config (cli::DemoConfig) for these emulators: user kUser of
  // client kClientId, the secrets from $kPasswordEnv and $kTokenEnv, one
  // sync of kCollection to kSiteName.
  tqs1::v1::Config Config() const;
  // The same connection as a tqs1.yaml file, with these syncs (rule:
  // "Blocked by ThreatQ", any direction, every OS, enabled).
  std::string ConfigYaml(const std::vector<SyncSpec>& syncs) const;

 private:
  explicit VendorsEnv(VendorsEnvOptions options)
      : options_(std::move(options)) {}

  const VendorsEnvOptions options_;
  cli::DemoVendors vendors_;
  int next_site_ = 0;
};

}  // namespace tqs1::testing

#endif  // TQS1_TESTING_VENDORS_ENV_H_

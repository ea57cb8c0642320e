#include "testing/vendors_env.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "reconciler/ownership.h"

namespace tqs1::testing {
namespace {

// The seeded site is the demo's; the tests know it by testing/builders.h.
static_assert(std::string_view(kSiteId) == cli::kDemoSiteId);
static_assert(std::string_view(kSiteName) == cli::kDemoSite);
static_assert(std::string_view(kAccountId) == cli::kDemoAccountId);

std::string Quoted(const std::string& s) {
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\\\""}}), "\"");
}

}  // namespace

absl::StatusOr<std::unique_ptr<VendorsEnv>> VendorsEnv::Start(
    VendorsEnvOptions options) {
  std::unique_ptr<VendorsEnv> env(new VendorsEnv(std::move(options)));
  const VendorsEnvOptions& o = env->options_;
  absl::StatusOr<cli::DemoVendors> vendors =
      o.seed ? cli::StartDemoVendors(o.password, o.api_token, {})
             : cli::StartDemoEmulators(o.password, o.api_token);
  if (!vendors.ok()) return vendors.status();
  env->vendors_ = *std::move(vendors);
  return env;
}

void VendorsEnv::SetCollection(const std::vector<std::string>& values) {
  tq().SetIndicators(collection_id(), IpIndicators(values));
}

emulator::Fault RulesFault(emulator::FaultKind kind, const char* method) {
  emulator::Fault fault;
  fault.kind = kind;
  fault.method = method;
  fault.path_prefix = "/web/api/v2.1/firewall-control";
  return fault;
}

std::string VendorsEnv::AddSite(const std::string& name) {
  std::string id = absl::StrFormat("17589526000322%05d", ++next_site_);
  s1().AddSite({id, name, kAccountId, "Acme"});
  return id;
}

std::vector<tqs1::v1::Rule> VendorsEnv::SiteRules(
    const std::string& site_id) const {
  return vendors_.s1->Rules(tqs1::v1::RULE_SCOPE_SITE, site_id);
}

std::vector<std::string> VendorsEnv::BlockedAddresses(
    const std::string& site_id) const {
  std::vector<std::string> out;
  for (const tqs1::v1::Rule& rule : SiteRules(site_id)) {
    if (!reconciler::HasOwnershipMarker(rule.description())) continue;
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      out.insert(out.end(), hosts.values().begin(), hosts.values().end());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int VendorsEnv::ApiWrites() const {
  int n = 0;
  for (const sentinelone::WriteEvent& e : vendors_.s1->Events()) {
    n += e.kind == "create" || e.kind == "update" || e.kind == "delete";
  }
  return n;
}

tqs1::v1::Config VendorsEnv::Config() const {
  return cli::DemoConfig(vendors_.tq->base_url(), vendors_.s1->base_url());
}

std::string VendorsEnv::ConfigYaml(const std::vector<SyncSpec>& syncs) const {
  const tqs1::v1::Config config = Config();
  std::string yaml = absl::StrCat(
      "threatq:\n"
      "  url: ",
      config.threatq().url(),
      "\n"
      "  client_id: ",
      Quoted(config.threatq().client_id()),
      "\n"
      "  username: ",
      config.threatq().username(),
      "\n"
      "  password_env: ",
      config.threatq().password().env(),
      "\n"
      "sentinelone:\n"
      "  url: ",
      config.sentinelone().url(),
      "\n"
      "  api_token_env: ",
      config.sentinelone().api_token().env(),
      "\n"
      "  writes_per_second: ",
      config.sentinelone().writes_per_second(),
      "\n"
      "syncs:\n");
  for (const SyncSpec& sync : syncs) {
    absl::StrAppend(&yaml, "  - name: ", Quoted(sync.name),
                    "\n"
                    "    collection: ",
                    Quoted(sync.collection),
                    "\n"
                    "    site: ",
                    Quoted(sync.site),
                    "\n"
                    "    rule:\n"
                    "      description: \"Blocked by ThreatQ\"\n"
                    "      direction: any\n"
                    "      os_types: [windows, macos, linux]\n"
                    "      enabled: true\n",
                    sync.extra);
  }
  return yaml;
}

}  // namespace tqs1::testing

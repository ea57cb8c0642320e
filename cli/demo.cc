#include "cli/demo.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/config/secrets.h"
#include "cli/demo_scenario.h"
#include "providers/ledger/ledger.h"
#include "reconciler/ownership.h"
#include "reconciler/render.h"

namespace tqs1::cli {
namespace {

// First octets of the demo's IPv4 addresses: public space, far from every
// built-in never-block range.
constexpr int kFirstOctets[] = {23,  31,  45,  62,  77,  80,  91,  93,  103,
                                109, 141, 176, 178, 185, 193, 194, 195, 212};

std::string RandomIpv4(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> octet(1, 254);
  int first = kFirstOctets[rng() % std::size(kFirstOctets)];
  return absl::StrCat(first, ".", octet(rng), ".", octet(rng), ".", octet(rng));
}

std::string RandomIpv6(std::mt19937_64& rng) {
  return absl::StrCat("2001:db8:", absl::Hex(rng() % 0xffff), ":",
                      absl::Hex(rng() % 0xffff),
                      "::", absl::Hex(rng() % 0xffff));
}

tqs1::v1::Rule SiteRule(const std::string& name, const std::string& description,
                        tqs1::v1::RuleAction action,
                        const std::vector<std::string>& values) {
  tqs1::v1::Rule rule;
  rule.set_name(name);
  rule.set_description(description);
  rule.set_action(action);
  rule.set_enabled(true);
  rule.set_direction(tqs1::v1::DIRECTION_ANY);
  rule.add_os_types(tqs1::v1::OS_TYPE_WINDOWS);
  rule.add_os_types(tqs1::v1::OS_TYPE_MACOS);
  rule.add_os_types(tqs1::v1::OS_TYPE_LINUX);
  tqs1::v1::HostSet* hosts = rule.add_remote_hosts();
  hosts->set_type("addresses");
  for (const std::string& v : values) hosts->add_values(v);
  return rule;
}

void Heading(const Io& io, const std::string& text) {
  const char* bold = io.color ? "\033[1m" : "";
  const char* reset = io.color ? "\033[0m" : "";
  *io.out << "\n" << bold << "──── " << text << reset << "\n\n";
}

}  // namespace

std::vector<threatq::Indicator> DemoIndicators(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<threatq::Indicator> out;
  std::set<std::string> seen;
  auto add_unique = [&](std::string value, const char* type) {
    if (seen.insert(value).second) out.push_back({value, type, "Active"});
  };
  while (out.size() < 10800) add_unique(RandomIpv4(rng), "IP Address");
  while (out.size() < 11500) add_unique(RandomIpv6(rng), "IPv6 Address");
  while (out.size() < 11750) {
    std::string network = RandomIpv4(rng);
    network = network.substr(0, network.rfind('.'));
    add_unique(absl::StrCat(network, rng() % 4 == 0 ? ".16/28" : ".0/24"),
               "CIDR Block");
  }
  // The same indicator under other spellings, and repeated.
  for (int k = 0; k < 60; ++k) {
    threatq::Indicator again = out[rng() % out.size()];
    if (again.type == "IPv6 Address") {
      again.value = absl::AsciiStrToUpper(again.value);
    }
    out.push_back(again);
  }
  // What a real collection also holds.
  for (const char* bad :
       {"203.0.113.300", "10.0.0.1/33", "not-an-address", "2001:db8::zz",
        "192.0.2.5/24", "0.0.0.0/0", "127.0.0.1", "::1"}) {
    out.push_back({bad, "IP Address", "Active"});
  }
  for (int k = 0; k < 25; ++k) {
    out.push_back({absl::StrCat("c2-", k, ".example.net"), "FQDN", "Active"});
  }
  for (int k = 0; k < 15; ++k) {
    out.push_back({RandomIpv4(rng), "IP Address", "Whitelisted"});
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

namespace {

// The entries of the demo site's tqs1 rules.
std::set<std::string> ManagedEntries(
    const sentinelone::SentinelOneEmulator& s1) {
  std::set<std::string> out;
  for (const tqs1::v1::Rule& rule :
       s1.Rules(tqs1::v1::RULE_SCOPE_SITE, kDemoSiteId)) {
    if (!reconciler::HasOwnershipMarker(rule.description())) continue;
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      out.insert(hosts.values().begin(), hosts.values().end());
    }
  }
  return out;
}

}  // namespace

int RunDemo(const CommandLine& cl, const Io& io) {
  log::StderrLogger logger(log::LogLevel::kWarning);
  std::mt19937_64 rng(kDemoSeed);
  config::Credentials secrets;
  secrets.threatq_password = absl::StrCat("demo-pw-", rng());
  secrets.sentinelone_api_token = absl::StrCat("demo-token-", rng());

  // ThreatQ: a user and the collection. SentinelOne: the site.
  std::vector<threatq::Indicator> indicators = DemoIndicators(kDemoSeed);
  absl::StatusOr<DemoVendors> vendors = StartDemoVendors(
      secrets.threatq_password, secrets.sentinelone_api_token, indicators);
  if (!vendors.ok()) {
    *io.err << "Error: " << vendors.status().message() << "\n";
    return kExitError;
  }
  threatq::ThreatQEmulator* const tq = vendors->tq.get();
  sentinelone::SentinelOneEmulator* const s1 = vendors->s1.get();

  // The site's rules: an account rule it inherits, a rule made by hand, and
  // a rule of the old connector (no tqs1 marker) holding part of the
  // collection and a few addresses no longer in it.
  s1->AddRule(tqs1::v1::RULE_SCOPE_ACCOUNT, kDemoAccountId,
              SiteRule("Global deny list", "set by the SOC",
                       tqs1::v1::RULE_ACTION_BLOCK,
                       {"198.51.100.23", "198.51.100.24"}));
  s1->AddRule(
      tqs1::v1::RULE_SCOPE_SITE, kDemoSiteId,
      SiteRule("Allow backup servers", "made by hand",
               tqs1::v1::RULE_ACTION_ALLOW, {"192.0.2.10", "192.0.2.11"}));
  std::vector<std::string> legacy;
  for (const threatq::Indicator& i : indicators) {
    if (i.type == "IP Address" && i.status == "Active" &&
        legacy.size() < 4970 && i.value.find('.') != std::string::npos &&
        i.value.find('/') == std::string::npos && i.value != "127.0.0.1" &&
        i.value != "203.0.113.300") {
      legacy.push_back(i.value);
    }
  }
  std::sort(legacy.begin(), legacy.end());
  legacy.erase(std::unique(legacy.begin(), legacy.end()), legacy.end());
  for (int k = 0; k < 30; ++k) legacy.push_back(RandomIpv4(rng));
  s1->AddRule(
      tqs1::v1::RULE_SCOPE_SITE, kDemoSiteId,
      SiteRule(absl::StrCat(kDemoCollection, " (1)"), "Blocked by ThreatQ",
               tqs1::v1::RULE_ACTION_BLOCK, legacy));

  // The config a user would write.
  const tqs1::v1::Config config = DemoConfig(tq->base_url(), s1->base_url());
  absl::StatusOr<Backends> backends = Connect(config, secrets, &logger);
  if (!backends.ok()) {
    *io.err << "Error: " << backends.status().message() << "\n";
    return kExitError;
  }

  *io.out << "tqs1 demo: ThreatQ emulator at " << tq->base_url()
          << ", SentinelOne emulator at " << s1->base_url() << "\n"
          << "Collection \"" << kDemoCollection
          << "\": " << reconciler::FormatCount(indicators.size())
          << " indicators. Site \"" << kDemoSite
          << "\": a hand-made rule, an inherited account rule, and the old "
             "connector's rule \""
          << kDemoCollection << " (1)\" ("
          << reconciler::FormatCount(legacy.size())
          << " addresses, no tqs1 marker).\n";

  // The ledger of this run's applies, in a folder of this run only
  // ($TMPDIR, else /tmp). Without a writable one (a read-only container),
  // the demo runs without its ledger steps.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string state_dir =
      absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp",
                   "/tqs1-demo.XXXXXX");
  const bool have_state = mkdtemp(state_dir.data()) != nullptr;
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() {
      if (dir.empty()) return;
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove_state{have_state ? state_dir : ""};
  if (have_state) {
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> ledger = OpenLedger(
        absl::StrCat(state_dir, "/tqs1.ledger.sqlite"), /*read_only=*/false);
    if (!ledger.ok()) {
      *io.err << "Error: " << ledger.status().message() << "\n";
      return kExitError;
    }
    backends->ledger = *std::move(ledger);
  } else {
    *io.out << "(no writable temporary folder: " << std::strerror(errno)
            << "; the demo runs without its ledger, so without history, why "
               "and restore)\n";
  }

  CommandLine step = cl;
  step.auto_approve = true;
  bool ok = true;
  auto apply_command = [&]() {
    ApplyCommand command = ApplyCommandFrom(step);
    command.identity = ThisProcess(log::NewRunId());
    return command;
  };

  Heading(io, "$ tqs1 plan");
  ok &=
      RunPlan(config, *backends, PlanCommandFrom(step), io, &logger) == kExitOk;

  Heading(io, "$ tqs1 apply --auto-approve --adopt");
  step.adopt = true;
  ok &= RunApply(config, *backends, apply_command(), io, &logger) == kExitOk;
  step.adopt = false;

  // The collection moves on: 40 new indicators, 25 gone.
  std::vector<threatq::Indicator> changed = indicators;
  std::shuffle(changed.begin(), changed.end(), rng);
  // For `why` below: an address the first apply blocked that leaves now,
  // and one that stays blocked.
  const std::set<std::string> blocked_first = ManagedEntries(*s1);
  std::string gone;
  for (size_t k = changed.size() - 25; k < changed.size(); ++k) {
    if (blocked_first.count(changed[k].value) > 0) gone = changed[k].value;
  }
  changed.resize(changed.size() - 25);
  for (int k = 0; k < 40; ++k) {
    changed.push_back({RandomIpv4(rng), "IP Address", "Active"});
  }
  tq->SetIndicators(vendors->collection_id, changed);
  Heading(io,
          "Meanwhile in ThreatQ: 40 new indicators, 25 left the collection");
  Heading(io, "$ tqs1 plan");
  ok &=
      RunPlan(config, *backends, PlanCommandFrom(step), io, &logger) == kExitOk;

  Heading(io, "$ tqs1 apply --auto-approve");
  ok &= RunApply(config, *backends, apply_command(), io, &logger) == kExitOk;

  Heading(io, "$ tqs1 plan --detailed-exitcode");
  step.detailed_exitcode = true;
  int last = RunPlan(config, *backends, PlanCommandFrom(step), io, &logger);
  ok &= last == kExitOk;
  *io.out << "(exit code " << last << ": in sync)\n";

  // The ledger: what was applied, why an address is (not) blocked, and
  // the plan that would bring back the first apply's set.
  if (backends->ledger != nullptr) {
    Heading(io, "$ tqs1 history");
    ok &=
        RunHistory(*backends->ledger, HistoryCommandFrom(step), io) == kExitOk;
    const std::set<std::string> blocked_now = ManagedEntries(*s1);
    std::string stays;
    for (const threatq::Indicator& i : changed) {
      if (i.type == "IP Address" && blocked_now.count(i.value) > 0) {
        stays = i.value;
        break;
      }
    }
    for (const std::string& address : {stays, gone}) {
      if (address.empty()) continue;
      Heading(io, absl::StrCat("$ tqs1 why ", address));
      CommandLine why = step;
      why.positional = {address};
      ok &= RunWhy(config, &*backends, backends->ledger.get(),
                   WhyCommandFrom(why), io, &logger) == kExitOk;
    }
    Heading(io,
            "$ tqs1 plan --restore 1   (the site as after the first apply)");
    CommandLine restore = step;
    restore.detailed_exitcode = false;
    restore.restore = 1;
    ok &= RunPlan(config, *backends, PlanCommandFrom(restore), io, &logger) ==
          kExitOk;
  }

  size_t managed = 0;
  for (const tqs1::v1::Rule& rule :
       s1->Rules(tqs1::v1::RULE_SCOPE_SITE, kDemoSiteId)) {
    managed += reconciler::HasOwnershipMarker(rule.description());
  }
  Heading(io, "Done");
  *io.out << "The site holds " << managed << " tqs1 rules; "
          << s1->Events().size() << " writes and "
          << s1->server().Requests().size()
          << " requests reached the SentinelOne emulator. The hand-made and "
             "inherited rules were never touched.\n";
  if (!ok) {
    *io.err << "Error: the demo did not end in sync.\n";
    return kExitError;
  }
  return kExitOk;
}

int RunCheckDemo(const CommandLine& cl, const Io& io) {
  log::StderrLogger logger(log::LogLevel::kWarning);
  std::mt19937_64 rng(kDemoSeed);
  config::Credentials secrets;
  secrets.threatq_password = absl::StrCat("demo-pw-", rng());
  secrets.sentinelone_api_token = absl::StrCat("demo-token-", rng());
  absl::StatusOr<DemoVendors> vendors =
      StartDemoVendors(secrets.threatq_password, secrets.sentinelone_api_token,
                       DemoIndicators(kDemoSeed));
  if (!vendors.ok()) {
    *io.err << "Error: " << vendors.status().message() << "\n";
    return kExitError;
  }
  const tqs1::v1::Config config =
      DemoConfig(vendors->tq->base_url(), vendors->s1->base_url());
  absl::StatusOr<Backends> backends = Connect(config, secrets, &logger);
  if (!backends.ok()) {
    *io.err << "Error: " << backends.status().message() << "\n";
    return kExitError;
  }
  // What a write probe learns stays in a folder of this run only.
  char state_dir[] = "/tmp/tqs1-check-demo.XXXXXX";
  if (mkdtemp(state_dir) == nullptr) {
    *io.err << "Error: cannot make a temporary folder: " << std::strerror(errno)
            << "\n";
    return kExitError;
  }
  *io.out << "tqs1 check --demo: ThreatQ emulator at "
          << vendors->tq->base_url() << ", SentinelOne emulator at "
          << vendors->s1->base_url() << "\n";
  const int code =
      RunCheckCommand(config, *backends, secrets, cl, state_dir, io, &logger);
  std::error_code ignored;
  std::filesystem::remove_all(state_dir, ignored);
  return code;
}

}  // namespace tqs1::cli

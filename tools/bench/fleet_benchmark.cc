// A fleet against the emulators with injected latency: S sites fed by C
// collections of N addresses each (site i by collection i mod C, one sync
// a site), a cold `tqs1 apply --auto-approve` (RunApply) and a re-apply
// after 0.1% churn of every collection. Records, per vendor, the HTTP
// calls and bytes (request and response bodies), the ThreatQ pages next to
// one pass over each distinct collection, SentinelOne's writes next to the
// sum of W* over the sites, and the wall time next to the lower bound the
// calls and the latency allow at the configured concurrency (for each
// vendor, its calls x its latency / the requests it may have in flight,
// the smaller of its max_in_flight and the run's parallelism; the bound is
// the slower vendor's), and the most requests each emulator saw in flight.
// A vendor's answer comes its latency after the request arrived, with the
// emulator's own work (its lock included) inside that time, as a console's
// processing is inside its latency (FaultKind::kLatency); an answer comes
// later only when the emulator's work took longer, and the mean time
// served shows it.
//
//   fleet_benchmark --sites=50 --collections=5 --addresses=200000
//     --tq-latency-ms=30 --s1-latency-ms=80
//     --parallelism=8 --s1-in-flight=4 --tq-in-flight=2
//
// The emulators log each request and write by its size and kind only: at
// 200,000 addresses a collection (10M on the console) their bodies and
// rule copies outgrew 24 GiB.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/logger.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/config/secrets.h"
#include "cli/demo_scenario.h"
#include "emulators/emulator_server.h"
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"
#include "tools/bench/bench_util.h"

namespace tqs1::bench {
namespace {

constexpr int64_t kPerRule = 5000;
constexpr int64_t kPageSize = 1000;  // ThreatQ's default page

struct Flags {
  int sites = 50;
  int collections = 5;
  int64_t addresses = 200000;
  int tq_latency_ms = 30;
  int s1_latency_ms = 80;
  double writes_per_second = 1000;
  // The config's parallelism, sentinelone.max_in_flight and
  // threatq.max_in_flight (tqs1's defaults).
  int parallelism = 8;
  int s1_in_flight = 4;
  int tq_in_flight = 2;
};

// How long `calls` take at `latency_ms` each, `in_flight` at a time.
double Bound(int64_t calls, int latency_ms, int in_flight) {
  return static_cast<double>(calls) * latency_ms / 1000.0 / in_flight;
}

// Collection c's k-th address: 45.0.0.0 + c * 2^20 + k.
std::string Address(int c, int64_t k) {
  const uint32_t a =
      (45u << 24) + (static_cast<uint32_t>(c) << 20) + static_cast<uint32_t>(k);
  return absl::StrCat(a >> 24, ".", (a >> 16) & 255, ".", (a >> 8) & 255, ".",
                      a & 255);
}

std::vector<threatq::Indicator> Indicators(int c,
                                           const std::vector<int64_t>& ks) {
  std::vector<threatq::Indicator> out;
  out.reserve(ks.size());
  for (int64_t k : ks) out.push_back({Address(c, k), "IP Address", "Active"});
  return out;
}

// What one vendor's emulator served since its log was cleared.
struct Served {
  int64_t calls = 0;
  int64_t bytes = 0;
  int64_t pages = 0;  // ThreatQ: indicator pages
  int max_in_flight = 0;
  // Arrival to answer, summed: the injected latency, or the emulator's own
  // time (its lock and its work) where that was longer.
  double served_seconds = 0;
  // From the first arrival to the last answer, and how much of it had
  // fewer requests in flight than the vendor's width (the vendor waiting
  // on tqs1).
  double span_seconds = 0;
  double short_seconds = 0;
  // Calls and bytes by method and path, ids written as {id}.
  std::map<std::string, std::pair<int64_t, int64_t>> kinds;
};

// "PUT /web/api/v2.1/firewall-control/{id}" for a request to rule 123.
std::string Kind(const emulator::LoggedRequest& r) {
  std::string kind = r.method + " ";
  for (size_t i = 0; i < r.path.size(); ++i) {
    if (absl::ascii_isdigit(r.path[i]) && (i == 0 || r.path[i - 1] == '/')) {
      kind += "{id}";
      while (i + 1 < r.path.size() && r.path[i + 1] != '/') ++i;
    } else {
      kind += r.path[i];
    }
  }
  return kind;
}

Served Count(const emulator::EmulatorServer& server, int width) {
  Served s;
  std::vector<std::pair<absl::Time, int>> edges;  // +1 arrival, -1 answer
  for (const emulator::LoggedRequest& r : server.Requests()) {
    ++s.calls;
    const int64_t bytes = static_cast<int64_t>(r.body_bytes + r.response_bytes);
    s.bytes += bytes;
    s.pages += absl::StrContains(r.path, "/indicators/query");
    s.served_seconds += absl::ToDoubleSeconds(r.served);
    auto& kind = s.kinds[Kind(r)];
    ++kind.first;
    kind.second += bytes;
    edges.push_back({r.arrived, 1});
    edges.push_back({r.arrived + r.served, -1});
  }
  std::sort(edges.begin(), edges.end());
  int in_flight = 0;
  for (size_t i = 0; i < edges.size(); ++i) {
    in_flight += edges[i].second;
    if (i + 1 == edges.size()) break;
    const double gap =
        absl::ToDoubleSeconds(edges[i + 1].first - edges[i].first);
    s.span_seconds += gap;
    if (in_flight < width) s.short_seconds += gap;
  }
  s.max_in_flight = server.MaxInFlight();
  return s;
}

int64_t Writes(const sentinelone::SentinelOneEmulator& s1) {
  int64_t n = 0;
  for (const sentinelone::WriteEvent& e : s1.Events()) {
    n += e.kind == "create" || e.kind == "update" || e.kind == "delete";
  }
  return n;
}

// W* of one site (DESIGN.md): rho rules lose an address, F is their room
// once the removals are out, `added` addresses come.
int64_t WStar(const std::vector<tqs1::v1::Rule>& rules,
              const std::set<std::string>& removed, int64_t added) {
  int64_t rho = 0, room = 0;
  for (const tqs1::v1::Rule& rule : rules) {
    int64_t held = 0, lost = 0;
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      for (const std::string& v : hosts.values()) {
        ++held;
        lost += removed.count(v);
      }
    }
    if (lost == 0) continue;
    ++rho;
    room += kPerRule - (held - lost);
  }
  const int64_t overflow = std::max<int64_t>(0, added - room);
  return rho + (overflow + kPerRule - 1) / kPerRule;
}

struct Step {
  std::string name;
  double seconds = 0;
  Served tq, s1;
  int64_t writes = 0;
  int64_t w_star = 0;
  int64_t expected_pages = 0;
};

int Run(const Flags& f) {
  log::StderrLogger logger(log::LogLevel::kWarning);
  config::Credentials secrets;
  secrets.threatq_password = "bench-password";
  secrets.sentinelone_api_token = "bench-token";
  // The emulators keep no request bodies nor copies of rules: at 5
  // collections of 200,000 those would be tens of gigabytes.
  absl::StatusOr<cli::DemoVendors> vendors = cli::StartDemoEmulators(
      secrets.threatq_password, secrets.sentinelone_api_token,
      /*keep_contents=*/false);
  if (!vendors.ok()) {
    std::cerr << "fleet_benchmark: " << vendors.status() << "\n";
    return 1;
  }
  threatq::ThreatQEmulator& tq = *vendors->tq;
  sentinelone::SentinelOneEmulator& s1 = *vendors->s1;
  std::mt19937_64 rng(20261204);
  std::vector<std::vector<int64_t>> members(f.collections);
  std::vector<int> ids(f.collections);
  for (int c = 0; c < f.collections; ++c) {
    members[c].resize(static_cast<size_t>(f.addresses));
    for (int64_t k = 0; k < f.addresses; ++k) members[c][k] = k;
    std::shuffle(members[c].begin(), members[c].end(), rng);
    ids[c] = tq.AddCollection(absl::StrCat("Blocklist ", c + 1),
                              Indicators(c, members[c]));
  }
  tqs1::v1::Config config = cli::DemoConfig(tq.base_url(), s1.base_url());
  config.mutable_sentinelone()->set_writes_per_second(f.writes_per_second);
  config.mutable_sentinelone()->set_max_in_flight(f.s1_in_flight);
  config.mutable_threatq()->set_max_in_flight(f.tq_in_flight);
  config.set_parallelism(f.parallelism);
  const tqs1::v1::SyncConfig templ = config.syncs(0);
  config.clear_syncs();
  std::vector<std::string> site_ids;
  for (int i = 0; i < f.sites; ++i) {
    const std::string id = absl::StrFormat("17589526%011d", i + 1);
    const std::string name = absl::StrFormat("Site %02d", i + 1);
    s1.AddSite({id, name, cli::kDemoAccountId, "Acme"});
    site_ids.push_back(id);
    tqs1::v1::SyncConfig* sync = config.add_syncs();
    *sync = templ;
    sync->set_collection(absl::StrCat("Blocklist ", i % f.collections + 1));
    sync->set_site(name);
    sync->set_name(absl::StrCat(sync->collection(), " -> ", name));
  }
  absl::StatusOr<cli::Backends> backends =
      cli::Connect(config, secrets, &logger);
  if (!backends.ok()) {
    std::cerr << "fleet_benchmark: " << backends.status() << "\n";
    return 1;
  }
  for (auto [server, ms] : {std::make_pair(&tq.server(), f.tq_latency_ms),
                            std::make_pair(&s1.server(), f.s1_latency_ms)}) {
    emulator::Fault latency;
    latency.kind = emulator::FaultKind::kLatency;
    latency.count = INT_MAX;
    latency.delay = absl::Milliseconds(ms);
    server->InjectFault(latency);
  }

  // The requests each vendor may have in flight.
  const int s1_width = std::min(f.s1_in_flight, f.parallelism);
  const int tq_width = std::min(f.tq_in_flight, f.parallelism);
  auto apply = [&](Step& step) -> bool {
    tq.server().ClearRequests();
    s1.server().ClearRequests();
    s1.ClearEvents();
    std::ostringstream out, err;
    cli::Io io;
    io.out = &out;
    io.err = &err;
    cli::CommandLine cl;
    cl.command = "apply";
    cl.auto_approve = true;
    std::cerr << "fleet_benchmark: " << step.name << "...\n";
    const absl::Time start = absl::Now();
    const int code = cli::RunApply(config, *backends, cli::ApplyCommandFrom(cl),
                                   io, &logger);
    step.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (code != cli::kExitOk) {
      std::cerr << "fleet_benchmark: apply exited " << code << ":\n"
                << err.str() << out.str().substr(0, 2000) << "\n";
      return false;
    }
    step.tq = Count(tq.server(), tq_width);
    step.s1 = Count(s1.server(), s1_width);
    step.writes = Writes(s1);
    return true;
  };

  std::vector<Step> steps(2);
  steps[0].name = "cold apply";
  steps[0].w_star = f.sites * ((f.addresses + kPerRule - 1) / kPerRule);
  steps[0].expected_pages =
      f.collections * ((f.addresses + kPageSize - 1) / kPageSize);
  if (!apply(steps[0])) return 1;

  // 0.1% churn of every collection: that many leave, as many come.
  const int64_t churn = std::max<int64_t>(1, f.addresses / 1000);
  steps[1].name = "0.1% churn re-apply";
  std::vector<std::set<std::string>> removed(f.collections);
  for (int c = 0; c < f.collections; ++c) {
    for (int64_t j = 0; j < churn; ++j) {
      removed[c].insert(Address(c, members[c][j]));
      members[c][j] = f.addresses + j;
    }
    tq.SetIndicators(ids[c], Indicators(c, members[c]));
  }
  for (int i = 0; i < f.sites; ++i) {
    steps[1].w_star += WStar(s1.Rules(tqs1::v1::RULE_SCOPE_SITE, site_ids[i]),
                             removed[i % f.collections], churn);
  }
  steps[1].expected_pages = steps[0].expected_pages;
  if (!apply(steps[1])) return 1;

  std::cout << absl::StrFormat(
      "%d sites fed by %d collections of %s addresses (site i by collection "
      "i mod %d), latency injected per request: ThreatQ %d ms, SentinelOne "
      "%d ms; %d syncs at once, at most %d requests in flight to the "
      "console and %d to ThreatQ; writes paced at %g a second.\n\n",
      f.sites, f.collections, bench::Count(f.addresses), f.collections,
      f.tq_latency_ms, f.s1_latency_ms, f.parallelism, f.s1_in_flight,
      f.tq_in_flight, f.writes_per_second);
  std::cout << "| step | ThreatQ calls | ThreatQ pages (one pass each) | "
               "ThreatQ bytes | SentinelOne calls | SentinelOne bytes | "
               "most in flight (S1, ThreatQ) | writes | sum of W* | "
               "wall time | bound | wall / bound | one at a time | "
               "bound at the time served | wall / it |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
               "---:|---:|---:|\n";
  for (const Step& s : steps) {
    const double bound = std::max(Bound(s.s1.calls, f.s1_latency_ms, s1_width),
                                  Bound(s.tq.calls, f.tq_latency_ms, tq_width));
    const double serial = Bound(s.s1.calls, f.s1_latency_ms, 1) +
                          Bound(s.tq.calls, f.tq_latency_ms, 1);
    // The same bound with each request taking as long as the emulator took
    // to answer it, not just the latency injected.
    const double served = std::max(s.s1.served_seconds / s1_width,
                                   s.tq.served_seconds / tq_width);
    std::cout << absl::StrFormat(
        "| %s | %s | %s (%s) | %s | %s | %s | %d, %d | %s | %s | %.1f s | "
        "%.1f s | %.2f | %.1f s | %.1f s | %.2f |\n",
        s.name, bench::Count(s.tq.calls), bench::Count(s.tq.pages),
        bench::Count(s.expected_pages), Bytes(s.tq.bytes),
        bench::Count(s.s1.calls), Bytes(s.s1.bytes), s.s1.max_in_flight,
        s.tq.max_in_flight, bench::Count(s.writes), bench::Count(s.w_star),
        s.seconds, bound, s.seconds / bound, serial, served,
        s.seconds / served);
  }
  std::cout << "\nWhere the time went: from a vendor's first request to its "
               "last answer, and how much of it the vendor had fewer requests "
               "in flight than it may (waiting on tqs1).\n\n"
               "| step | vendor | first request to last answer | "
               "fewer in flight than allowed | mean time served |\n"
               "|---|---|---:|---:|---:|\n";
  for (const Step& s : steps) {
    for (auto [vendor, served] : {std::make_pair("SentinelOne", &s.s1),
                                  std::make_pair("ThreatQ", &s.tq)}) {
      std::cout << absl::StrFormat(
          "| %s | %s | %.1f s | %.1f s | %.1f ms |\n", s.name, vendor,
          served->span_seconds, served->short_seconds,
          served->calls > 0 ? 1000 * served->served_seconds / served->calls
                            : 0.0);
    }
  }
  std::cout << "\nCalls and bytes by request:\n\n"
               "| step | request | calls | bytes |\n|---|---|---:|---:|\n";
  for (const Step& s : steps) {
    for (const Served* served : {&s.tq, &s.s1}) {
      for (const auto& [kind, counts] : served->kinds) {
        std::cout << absl::StrFormat("| %s | %s | %s | %s |\n", s.name, kind,
                                     bench::Count(counts.first),
                                     Bytes(counts.second));
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace tqs1::bench

int main(int argc, char** argv) {
  tqs1::bench::Flags f;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool ok = true;
    if (absl::ConsumePrefix(&arg, "--sites=")) {
      ok = absl::SimpleAtoi(arg, &f.sites) && f.sites > 0 && f.sites <= 1000;
    } else if (absl::ConsumePrefix(&arg, "--collections=")) {
      ok = absl::SimpleAtoi(arg, &f.collections) && f.collections > 0 &&
           f.collections <= 16;
    } else if (absl::ConsumePrefix(&arg, "--tq-latency-ms=")) {
      ok = absl::SimpleAtoi(arg, &f.tq_latency_ms) && f.tq_latency_ms >= 0;
    } else if (absl::ConsumePrefix(&arg, "--s1-latency-ms=")) {
      ok = absl::SimpleAtoi(arg, &f.s1_latency_ms) && f.s1_latency_ms > 0;
    } else if (absl::ConsumePrefix(&arg, "--parallelism=")) {
      ok = absl::SimpleAtoi(arg, &f.parallelism) && f.parallelism >= 1 &&
           f.parallelism <= 64;
    } else if (absl::ConsumePrefix(&arg, "--s1-in-flight=")) {
      ok = absl::SimpleAtoi(arg, &f.s1_in_flight) && f.s1_in_flight >= 1 &&
           f.s1_in_flight <= 32;
    } else if (absl::ConsumePrefix(&arg, "--tq-in-flight=")) {
      ok = absl::SimpleAtoi(arg, &f.tq_in_flight) && f.tq_in_flight >= 1 &&
           f.tq_in_flight <= 32;
    } else if (absl::ConsumePrefix(&arg, "--writes-per-second=")) {
      ok = absl::SimpleAtod(arg, &f.writes_per_second) &&
           f.writes_per_second > 0;
    } else {
      rest.push_back(argv[i]);
    }
    if (!ok) {
      std::cerr << "fleet_benchmark: bad flag " << argv[i]
                << " (--sites=1..1000, --collections=1..16, "
                   "--tq-latency-ms=N, --s1-latency-ms=N>0, "
                   "--writes-per-second=X>0, --parallelism=1..64, "
                   "--s1-in-flight=1..32, --tq-in-flight=1..32, "
                   "--addresses=N)\n";
      return 2;
    }
  }
  const std::optional<int64_t> n =
      tqs1::bench::AddressesFlag(static_cast<int>(rest.size()), rest.data(),
                                 "fleet_benchmark", 1, 1000000);
  if (!n.has_value()) return 2;
  f.addresses = *n;
  return tqs1::bench::Run(f);
}

// What the ledger costs: `tqs1 apply --auto-approve` (RunApply) of a
// collection of N IPv4 addresses to an empty site, without and with the
// ledger, twice each and alternating (each on emulators of its own and an
// empty ledger; the best of each pair is reported: a process's later
// rounds run on a fuller heap, so one round each would favour the first),
// then K applies of 0.1% churn after the last; the ledger's size on disk; and a
// ledger of 1,000 applies for `tqs1 history`. Leaves in --dir a config
// (tqs1.yaml) and both ledgers, so that the binary's `why --offline` and
// `history` can be timed as whole processes afterwards (tools/bench/run.sh
// does, with /usr/bin/time).
//
//   ledger_benchmark --addresses=1000000 --churn=100 --dir=/tmp/ledger-bench
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

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
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"
#include "providers/ledger/sqlite_ledger.h"
#include "tools/bench/bench_util.h"

namespace tqs1::bench {
namespace {

using ::tqs1::cli::kDemoCollection;

std::string Address(int64_t k) {
  // 45.0.0.0 upwards, as the other benchmarks count.
  const uint32_t a = (45u << 24) + static_cast<uint32_t>(k);
  return absl::StrCat(a >> 24, ".", (a >> 16) & 255, ".", (a >> 8) & 255, ".",
                      a & 255);
}

std::vector<threatq::Indicator> Indicators(const std::vector<int64_t>& ks) {
  std::vector<threatq::Indicator> out;
  out.reserve(ks.size());
  for (int64_t k : ks) out.push_back({Address(k), "IP Address", "Active"});
  return out;
}

int64_t FileBytes(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

// One apply through RunApply; its wall time in seconds, or -1.
double Apply(const tqs1::v1::Config& config, cli::Backends& backends,
             log::Logger& logger) {
  std::ostringstream out, err;
  cli::Io io;
  io.out = &out;
  io.err = &err;
  cli::CommandLine cl;
  cl.command = "apply";
  cl.auto_approve = true;
  cli::ApplyCommand command = cli::ApplyCommandFrom(cl);
  command.identity = cli::ThisProcess("bench");
  const absl::Time start = absl::Now();
  const int code = cli::RunApply(config, backends, command, io, &logger);
  const double s = absl::ToDoubleSeconds(absl::Now() - start);
  if (code != cli::kExitOk) {
    std::cerr << "ledger_benchmark: apply exited " << code << ":\n"
              << err.str() << out.str().substr(0, 2000) << "\n";
    return -1;
  }
  return s;
}

int Run(int64_t n, int churn, const std::string& dir) {
  log::StderrLogger logger(log::LogLevel::kWarning);
  config::Credentials secrets;
  secrets.threatq_password = "bench-password";
  secrets.sentinelone_api_token = "bench-token";
  std::vector<int64_t> ks(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) ks[static_cast<size_t>(k)] = k;
  std::mt19937_64 rng(20261203);
  std::shuffle(ks.begin(), ks.end(), rng);
  const std::string ledger_file = dir + "/tqs1.ledger.sqlite";
  std::remove(ledger_file.c_str());

  double without = 0, with = 0;  // the best round of each
  std::vector<double> churn_s;
  std::string config_yaml;
  const bool rounds[] = {false, true, false, true};
  for (size_t round = 0; round < 4; ++round) {
    const bool ledger_on = rounds[round];
    absl::StatusOr<cli::DemoVendors> vendors =
        cli::StartDemoVendors(secrets.threatq_password,
                              secrets.sentinelone_api_token, Indicators(ks));
    if (!vendors.ok()) {
      std::cerr << "ledger_benchmark: " << vendors.status() << "\n";
      return 1;
    }
    const tqs1::v1::Config config =
        cli::DemoConfig(vendors->tq->base_url(), vendors->s1->base_url());
    absl::StatusOr<cli::Backends> backends =
        cli::Connect(config, secrets, &logger);
    if (!backends.ok()) {
      std::cerr << "ledger_benchmark: " << backends.status() << "\n";
      return 1;
    }
    if (ledger_on) {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::remove((ledger_file + suffix).c_str());
      }
      auto ledger = cli::OpenLedger(ledger_file, /*read_only=*/false);
      if (!ledger.ok()) {
        std::cerr << "ledger_benchmark: " << ledger.status() << "\n";
        return 1;
      }
      backends->ledger = *std::move(ledger);
    }
    const double s = Apply(config, *backends, logger);
    if (s < 0) return 1;
    double& best = ledger_on ? with : without;
    if (best == 0 || s < best) best = s;
    if (round != 3) continue;

    // 0.1% churn: that many addresses leave, as many new ones come.
    std::vector<int64_t> current = ks;
    int64_t next = n;
    const int64_t step = std::max<int64_t>(1, n / 1000);
    for (int i = 0; i < churn; ++i) {
      std::rotate(current.begin(), current.begin() + step, current.end());
      for (int64_t j = 0; j < step; ++j) {
        current[current.size() - 1 - static_cast<size_t>(j)] = next++;
      }
      vendors->tq->SetIndicators(vendors->collection_id, Indicators(current));
      vendors->s1->ClearEvents();
      const double c = Apply(config, *backends, logger);
      if (c < 0) return 1;
      churn_s.push_back(c);
    }
    config_yaml = absl::StrCat(
        "threatq:\n  url: ", vendors->tq->base_url(),
        "\n  client_id: ", cli::kDemoClientId, "\n  username: ", cli::kDemoUser,
        "\n  password_env: ", cli::kDemoPasswordEnv,
        "\nsentinelone:\n  url: ", vendors->s1->base_url(),
        "\n  api_token_env: ", cli::kDemoTokenEnv, "\nsyncs:\n  - name: \"",
        config.syncs(0).name(), "\"\n    collection: \"", kDemoCollection,
        "\"\n    site: \"", config.syncs(0).site(), "\"\n");
  }
  std::ofstream(dir + "/tqs1.yaml") << config_yaml;

  // A ledger of 1,000 small applies, for `tqs1 history`.
  const std::string many = dir + "/many/tqs1.ledger.sqlite";
  mkdir((dir + "/many").c_str(), 0700);
  std::remove(many.c_str());
  std::ofstream(dir + "/many/tqs1.yaml") << config_yaml;
  {
    auto ledger = ledger::SqliteLedger::Open(
        many, ledger::SqliteLedger::Mode::kReadWrite);
    if (!ledger.ok()) {
      std::cerr << "ledger_benchmark: " << ledger.status() << "\n";
      return 1;
    }
    for (int i = 0; i < 1000; ++i) {
      ledger::ApplyRecord a;
      a.started = absl::Now();
      a.finished = a.started;
      a.sync = "Known C2 IPs -> HQ";
      a.site_id = "1";
      absl::StatusOr<int64_t> id = (*ledger)->BeginApply(a);
      if (!id.ok()) return 1;
      ledger::WriteRecord w;
      w.kind = ledger::WriteKind::kUpdate;
      w.rule_id = "1";
      w.rule_name = "Known C2 IPs";
      ledger::WrittenEntry e;
      e.text = Address(i);
      e.key = {4, (45u << 24) + static_cast<uint64_t>(i),
               (45u << 24) + static_cast<uint64_t>(i)};
      w.added.push_back(e);
      if (!(*ledger)->RecordWrite(*id, w).ok()) return 1;
      a.id = *id;
      a.outcome = "applied";
      a.updated = 1;
      a.blocked = 1;
      if (!(*ledger)->FinishApply(a).ok()) return 1;
    }
  }

  double churn_mean = 0;
  for (double c : churn_s) churn_mean += c;
  if (!churn_s.empty()) churn_mean /= static_cast<double>(churn_s.size());
  std::cout << absl::StrFormat(
      "| step | wall time |\n|---|---:|\n"
      "| apply %s addresses to an empty site, no ledger | %.2f s |\n"
      "| the same with the ledger | %.2f s (%+.1f%%) |\n"
      "| %d applies of 0.1%% churn (%s in, %s out each), with the ledger | "
      "%.2f s mean |\n\n"
      "Ledger after them: %s (%s with its WAL) in %s.\n",
      Count(n), without, with, 100.0 * (with - without) / without, churn,
      Count(std::max<int64_t>(1, n / 1000)),
      Count(std::max<int64_t>(1, n / 1000)), churn_mean,
      Bytes(FileBytes(ledger_file)),
      Bytes(FileBytes(ledger_file) + FileBytes(ledger_file + "-wal")),
      ledger_file);
  return 0;
}

}  // namespace
}  // namespace tqs1::bench

int main(int argc, char** argv) {
  int churn = 100;
  std::string dir = "/tmp/tqs1-ledger-bench";
  // Its own flags; the rest (--addresses=N) go to AddressesFlag().
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--churn=")) {
      if (!absl::SimpleAtoi(arg, &churn) || churn < 0) {
        std::cerr << "ledger_benchmark: --churn=N (applies of 0.1% churn)\n";
        return 2;
      }
    } else if (absl::ConsumePrefix(&arg, "--dir=")) {
      dir = std::string(arg);
    } else {
      rest.push_back(argv[i]);
    }
  }
  const std::optional<int64_t> n =
      tqs1::bench::AddressesFlag(static_cast<int>(rest.size()), rest.data(),
                                 "ledger_benchmark", 1, 16000000);
  if (!n.has_value()) return 2;
  mkdir(dir.c_str(), 0700);
  return tqs1::bench::Run(*n, churn, dir);
}

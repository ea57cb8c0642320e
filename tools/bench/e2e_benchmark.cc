// End to end: `tqs1 apply` of a large collection to an empty site, then a
// no-change `tqs1 plan` of the same site, through the real clients over HTTP
// against both vendor emulators started in this process (as `tqs1 demo`
// does).
//
//   bazel build //tools/bench:e2e_benchmark
//   bazel-bin/tools/bench/e2e_benchmark                   # 1M addresses
//   bazel-bin/tools/bench/e2e_benchmark --addresses=200000
//
// Reports, per step, the HTTP calls each emulator served (from its request
// log), the request body bytes sent to SentinelOne, the rule writes, and the
// wall time of the command (RunApply / RunPlan, rendering included). Prints
// a Markdown table; exits 1 when a step fails or the site does not end up
// equal to the collection.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/logger.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/config/secrets.h"
#include "cli/demo_scenario.h"
#include "emulators/emulator_server.h"
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"
#include "proto/config.pb.h"
#include "providers/sentinelone/firewall_rules.h"
#include "providers/threatq/collection_read_builder.h"
#include "providers/threatq/indicator_source.h"
#include "reconciler/ownership.h"
#include "tools/bench/bench_util.h"

namespace tqs1::bench {
namespace {

using ::tqs1::cli::kDemoCollection;
using ::tqs1::cli::kDemoSite;
using ::tqs1::cli::kDemoSiteId;

// The k-th address: 45.0.0.0 + k (public space, clear of every built-in
// never-block range for k < 2^24).
std::string Address(int64_t k) {
  return absl::StrCat("45.", (k >> 16) & 255, ".", (k >> 8) & 255, ".",
                      k & 255);
}

// What both emulators logged during one step.
struct Traffic {
  int64_t threatq_calls = 0;
  int64_t sentinelone_calls = 0;
  int64_t sentinelone_gets = 0;
  int64_t sentinelone_writes = 0;  // POST, PUT, DELETE
  int64_t sentinelone_bytes = 0;   // request bodies
  int64_t threatq_bytes = 0;       // request bodies
};

Traffic TakeTraffic(threatq::ThreatQEmulator& tq,
                    sentinelone::SentinelOneEmulator& s1) {
  Traffic t;
  for (const emulator::LoggedRequest& r : tq.server().Requests()) {
    ++t.threatq_calls;
    t.threatq_bytes += static_cast<int64_t>(r.body_bytes);
  }
  for (const emulator::LoggedRequest& r : s1.server().Requests()) {
    ++t.sentinelone_calls;
    t.sentinelone_bytes += static_cast<int64_t>(r.body_bytes);
    if (r.method == "GET") {
      ++t.sentinelone_gets;
    } else {
      ++t.sentinelone_writes;
    }
  }
  tq.server().ClearRequests();
  s1.server().ClearRequests();
  return t;
}

// CPU time of the calling thread (the client's; the emulators serve on
// their own threads).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// CPU time of the whole process: the client's threads and both emulators'.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) +
           static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// Wall time, the calling thread's CPU time and the whole process's, from
// construction to Elapsed().
struct Spent {
  double wall = 0, thread_cpu = 0, process_cpu = 0;
};
class Stopwatch {
 public:
  Stopwatch()
      : start_(std::chrono::steady_clock::now()),
        thread_cpu_(ThreadCpuSeconds()),
        process_cpu_(ProcessCpuSeconds()) {}
  Spent Elapsed() const {
    return {SecondsSince(start_), ThreadCpuSeconds() - thread_cpu_,
            ProcessCpuSeconds() - process_cpu_};
  }

 private:
  std::chrono::steady_clock::time_point start_;
  double thread_cpu_, process_cpu_;
};

int Run(int64_t n) {
  log::StderrLogger logger(log::LogLevel::kWarning);

  // ThreatQ: the demo's user and a collection of n IPv4 addresses, in no
  // order. SentinelOne: the demo's site, empty.
  std::vector<threatq::Indicator> indicators;
  indicators.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    indicators.push_back({Address(k), "IP Address", "Active"});
  }
  std::mt19937_64 rng(20261128);
  std::shuffle(indicators.begin(), indicators.end(), rng);
  tqs1::config::Credentials secrets;
  secrets.threatq_password = "bench-password";
  secrets.sentinelone_api_token = "bench-token";
  absl::StatusOr<cli::DemoVendors> vendors = cli::StartDemoVendors(
      secrets.threatq_password, secrets.sentinelone_api_token,
      std::move(indicators));
  if (!vendors.ok()) {
    std::cerr << "e2e_benchmark: " << vendors.status() << "\n";
    return 1;
  }
  threatq::ThreatQEmulator* const tq = vendors->tq.get();
  sentinelone::SentinelOneEmulator* const s1 = vendors->s1.get();

  // The config a user would write, built in code as `tqs1 demo` does.
  const tqs1::v1::Config config =
      cli::DemoConfig(tq->base_url(), s1->base_url());
  absl::StatusOr<cli::Backends> backends =
      cli::Connect(config, secrets, &logger);
  if (!backends.ok()) {
    std::cerr << "e2e_benchmark: Connect: " << backends.status() << "\n";
    return 1;
  }

  std::ostringstream out, err;
  cli::Io io;
  io.out = &out;
  io.err = &err;
  cli::CommandLine cl;
  TakeTraffic(*tq, *s1);

  // 1. `tqs1 apply --auto-approve` to the empty site.
  cl.command = "apply";
  cl.auto_approve = true;
  Stopwatch apply_watch;
  const int apply_code =
      cli::RunApply(config, *backends, cli::ApplyCommandFrom(cl), io, &logger);
  const double apply_s = apply_watch.Elapsed().wall;
  const Traffic apply = TakeTraffic(*tq, *s1);
  const int64_t apply_writes = static_cast<int64_t>(s1->Events().size());
  if (apply_code != cli::kExitOk) {
    std::cerr << "e2e_benchmark: apply exited " << apply_code << ":\n"
              << err.str() << out.str().substr(0, 4000) << "\n";
    return 1;
  }
  int64_t rules = 0, blocked = 0;
  for (const tqs1::v1::Rule& rule :
       s1->Rules(tqs1::v1::RULE_SCOPE_SITE, kDemoSiteId)) {
    if (!reconciler::HasOwnershipMarker(rule.description())) continue;
    ++rules;
    for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
      blocked += hosts.values_size();
    }
  }
  if (blocked != n) {
    std::cerr << "e2e_benchmark: the site blocks " << blocked
              << " addresses after the apply, expected " << n << "\n";
    return 1;
  }

  // 2. `tqs1 plan --detailed-exitcode` with nothing to change.
  out.str("");
  err.str("");
  cl = cli::CommandLine();
  cl.command = "plan";
  cl.detailed_exitcode = true;
  Stopwatch plan_watch;
  const int plan_code =
      cli::RunPlan(config, *backends, cli::PlanCommandFrom(cl), io, &logger);
  const Spent replan_spent = plan_watch.Elapsed();
  const Traffic replan = TakeTraffic(*tq, *s1);
  const int64_t replan_writes =
      static_cast<int64_t>(s1->Events().size()) - apply_writes;
  if (plan_code != cli::kExitOk) {
    std::cerr << "e2e_benchmark: the re-plan exited " << plan_code
              << " (0 = in sync):\n"
              << err.str() << out.str().substr(0, 4000) << "\n";
    return 1;
  }

  // Where the re-plan's time goes: the same two reads again, alone.
  Stopwatch tq_watch;
  absl::StatusOr<threatq::CollectionRead> read =
      backends->threatq->ReadCollection(kDemoCollection);
  const Spent read_tq = tq_watch.Elapsed();
  if (!read.ok() || static_cast<int64_t>(read->values.size()) != n) {
    std::cerr << "e2e_benchmark: reading the collection again failed: "
              << read.status() << "\n";
    return 1;
  }
  Stopwatch s1_watch;
  absl::StatusOr<std::string> site_id =
      backends->sentinelone->FindSite(kDemoSite);
  absl::StatusOr<tqs1::v1::ObservedState> site =
      site_id.ok() ? backends->sentinelone->ReadSite(*site_id)
                   : absl::StatusOr<tqs1::v1::ObservedState>(site_id.status());
  const Spent read_s1 = s1_watch.Elapsed();
  if (!site.ok()) {
    std::cerr << "e2e_benchmark: reading the site again failed: "
              << site.status() << "\n";
    return 1;
  }
  const Traffic reads = TakeTraffic(*tq, *s1);

  std::cout << "| step | HTTP calls (ThreatQ + SentinelOne) | SentinelOne "
               "GET / writes | bytes sent to SentinelOne | rule writes | "
               "wall time |\n"
            << "|---|---:|---:|---:|---:|---:|\n";
  auto row = [](const std::string& step, const Traffic& t, int64_t writes,
                double seconds) {
    std::cout << absl::StrFormat(
        "| %s | %s (%s + %s) | %s / %s | %s | %s | %.2f s |\n", step,
        Count(t.threatq_calls + t.sentinelone_calls), Count(t.threatq_calls),
        Count(t.sentinelone_calls), Count(t.sentinelone_gets),
        Count(t.sentinelone_writes), Bytes(t.sentinelone_bytes), Count(writes),
        seconds);
  };
  row(absl::StrCat("apply ", Count(n), " addresses to an empty site"), apply,
      apply_writes, apply_s);
  row("no-change re-plan of the same site", replan, replan_writes,
      replan_spent.wall);
  std::cout << absl::StrFormat(
      "\nWhere the re-plan's %.2f s go (each read timed again on its own). "
      "Calling thread: the CPU time of the thread that runs the command "
      "(parsing, planning, rendering; ThreatQ's next page is fetched on a "
      "helper thread meanwhile, not counted here). Whole process: the CPU "
      "time of every thread, the client's and both emulators' (JSON pages, "
      "gzip, HTTP):\n\n"
      "| part of the re-plan | HTTP calls | wall time | CPU, calling thread "
      "| CPU, whole process |\n"
      "|---|---:|---:|---:|---:|\n"
      "| read the ThreatQ collection (`ReadCollection`, paged) | %s | %.2f s "
      "| %.2f s | %.2f s |\n"
      "| find and read the SentinelOne site (`FindSite`, `ReadSite`) | %s | "
      "%.2f s | %.2f s | %.2f s |\n"
      "| the rest: normalizing, planning, rendering (by difference) | 0 | "
      "%.2f s | %.2f s | %.2f s |\n"
      "| whole re-plan (`RunPlan`) | %s | %.2f s | %.2f s | %.2f s |\n",
      replan_spent.wall, Count(reads.threatq_calls), read_tq.wall,
      read_tq.thread_cpu, read_tq.process_cpu, Count(reads.sentinelone_calls),
      read_s1.wall, read_s1.thread_cpu, read_s1.process_cpu,
      std::max(0.0, replan_spent.wall - read_tq.wall - read_s1.wall),
      std::max(0.0, replan_spent.thread_cpu - read_tq.thread_cpu -
                        read_s1.thread_cpu),
      std::max(0.0, replan_spent.process_cpu - read_tq.process_cpu -
                        read_s1.process_cpu),
      Count(replan.threatq_calls + replan.sentinelone_calls), replan_spent.wall,
      replan_spent.thread_cpu, replan_spent.process_cpu);
  std::cout << "\nThe site ends with " << Count(blocked) << " addresses in "
            << Count(rules) << (rules == 1 ? " tqs1 rule" : " tqs1 rules")
            << "; the re-plan found it in sync (exit code 0). "
               "Request bodies sent to ThreatQ: "
            << Bytes(apply.threatq_bytes) << " (apply), "
            << Bytes(replan.threatq_bytes) << " (re-plan).\n";
  return 0;
}

}  // namespace
}  // namespace tqs1::bench

int main(int argc, char** argv) {
  const std::optional<int64_t> n =
      tqs1::bench::AddressesFlag(argc, argv, "e2e_benchmark", 1, 16000000);
  if (!n.has_value()) return 2;
  return tqs1::bench::Run(*n);
}

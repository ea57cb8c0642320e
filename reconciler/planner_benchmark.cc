// Planning time for a site that already holds N addresses in full rules, with
// 0.1% churn (half of it removals, half additions) — the steady state of a
// scheduled sync — and the time to admit that plan before it is applied.
//
//   bazel run //reconciler:planner_benchmark
//   /usr/bin/time -v bazel-bin/reconciler/planner_benchmark
//       --benchmark_filter='BM_PlanWithChurn/1000000$'   (one line)
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "reconciler/admission.h"
#include "reconciler/ownership.h"
#include "reconciler/planner.h"

namespace tqs1::reconciler {
namespace {

// The k-th benchmark address: IPv4 from 11.0.0.0 upward.
std::string Address(int64_t k) {
  return absl::StrCat("11.", (k >> 16) & 255, ".", (k >> 8) & 255, ".",
                      k & 255);
}

struct Inputs {
  tqs1::v1::DesiredState desired;
  tqs1::v1::ObservedState observed;
};

Inputs MakeInputs(int64_t n) {
  const int64_t churn = std::max<int64_t>(2, n / 1000);
  Inputs in;
  tqs1::v1::SyncConfig* sync = in.desired.mutable_sync();
  sync->set_collection("Known C2");
  sync->set_site("HQ");
  sync->mutable_rule()->set_description("Blocked by ThreatQ");
  in.observed.set_site_id("900000000000000001");
  in.observed.set_site_name("HQ");

  // The site: addresses 0..n-1 in rules of 5000.
  for (int64_t start = 0, r = 1; start < n;
       start += kMaxAddressesPerRule, ++r) {
    tqs1::v1::Rule* rule = in.observed.add_rules();
    rule->set_id(absl::StrCat(800000000000000000 + r));
    rule->set_name(RuleName("Known C2", r));
    rule->set_description(DescriptionWithMarker("Blocked by ThreatQ"));
    rule->set_action(tqs1::v1::RULE_ACTION_BLOCK);
    rule->set_enabled(true);
    rule->set_direction(tqs1::v1::DIRECTION_ANY);
    for (auto os : {tqs1::v1::OS_TYPE_WINDOWS, tqs1::v1::OS_TYPE_MACOS,
                    tqs1::v1::OS_TYPE_LINUX}) {
      rule->add_os_types(os);
    }
    rule->set_scope(tqs1::v1::RULE_SCOPE_SITE);
    rule->set_scope_id("900000000000000001");
    tqs1::v1::HostSet* hosts = rule->add_remote_hosts();
    hosts->set_type("addresses");
    int64_t end = std::min<int64_t>(n, start + kMaxAddressesPerRule);
    for (int64_t k = start; k < end; ++k) *hosts->add_values() = Address(k);
  }

  // The collection: every address but churn/2 spread-out ones, plus churn/2
  // new ones, shuffled.
  const int64_t removed = churn / 2, added = churn - churn / 2;
  const int64_t stride = n / removed;
  std::vector<int64_t> order;
  order.reserve(n + added);
  for (int64_t k = 0; k < n + added; ++k) {
    if (k < n && k % stride == 0 && k / stride < removed) continue;
    order.push_back(k);
  }
  // ThreatQ returns indicators in no useful order; a JSON parser allocates
  // their strings one after another.
  std::mt19937_64 rng(n);
  std::shuffle(order.begin(), order.end(), rng);
  in.desired.mutable_values()->Reserve(order.size());
  for (int64_t k : order) *in.desired.add_values() = Address(k);
  return in;
}

void BM_PlanWithChurn(benchmark::State& state) {
  const Inputs in = MakeInputs(state.range(0));
  tqs1::v1::PlanOptions options;
  int64_t actions = 0;
  for (auto _ : state) {
    absl::StatusOr<tqs1::v1::Plan> plan =
        ComputePlan(in.desired, in.observed, options);
    if (!plan.ok()) {
      state.SkipWithError(std::string(plan.status().message()).c_str());
      return;
    }
    actions = plan->actions_size();
    benchmark::DoNotOptimize(plan);
  }
  state.counters["addresses"] = static_cast<double>(state.range(0));
  state.counters["writes"] = static_cast<double>(actions);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// The apply-time admission of that plan (AdmitPlan: the writes rebuilt, the
// plan derived again and compared): what an apply adds to planning.
void BM_AdmitPlanWithChurn(benchmark::State& state) {
  const Inputs in = MakeInputs(state.range(0));
  absl::StatusOr<tqs1::v1::Plan> plan =
      ComputePlan(in.desired, in.observed, {});
  if (!plan.ok()) {
    state.SkipWithError(std::string(plan.status().message()).c_str());
    return;
  }
  tqs1::v1::DesiredState policy = in.desired;
  policy.clear_values();
  for (auto _ : state) {
    absl::StatusOr<AdmittedPlan> admitted =
        AdmitPlan(*plan, policy, in.observed);
    if (!admitted.ok()) {
      state.SkipWithError(std::string(admitted.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(admitted);
  }
  // The same counters as BM_PlanWithChurn (the CSV report needs them all).
  state.counters["addresses"] = static_cast<double>(state.range(0));
  state.counters["writes"] = static_cast<double>(plan->actions_size());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_AdmitPlanWithChurn)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

BENCHMARK(BM_PlanWithChurn)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Arg(2000000)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace tqs1::reconciler

BENCHMARK_MAIN();

#include "sync/sync_runner.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/logger.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "reconciler/admission.h"
#include "reconciler/planner.h"

namespace tqs1::sync {

using ::tqs1::v1::Plan;
using ::tqs1::v1::SyncConfig;
using ::tqs1::v1::SyncStep;

tqs1::v1::DesiredState SyncPolicy(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block) {
  tqs1::v1::DesiredState policy;
  *policy.mutable_sync() = sync;
  for (const tqs1::v1::NeverBlock& entry : never_block) {
    *policy.add_never_block() = entry;
  }
  return policy;
}

absl::StatusOr<SyncReading> ReadAndPlanSync(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    threatq::IndicatorSource& source, sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& options, const Ipv6AutoResolver& ipv6_auto,
    SyncStep* failed) {
  // ThreatQ first: without the desired set there is nothing to plan, and a
  // failed read must never look like an empty collection.
  absl::StatusOr<threatq::CollectionRead> read =
      source.ReadCollection(sync.collection());
  if (!read.ok()) {
    *failed = tqs1::v1::SYNC_STEP_READ_COLLECTION;
    return AddContext(
        read.status(),
        absl::StrCat("reading ThreatQ collection \"", sync.collection(), "\""));
  }
  const std::string site_label =
      sync.global()          ? std::string("the global scope")
      : sync.account_scope() ? absl::StrCat("account \"", sync.account(), "\"")
      : sync.site_id().empty() ? absl::StrCat("site \"", sync.site(), "\"")
                               : absl::StrCat("site id ", sync.site_id());
  // The global scope is the console's own: nothing to find.
  absl::StatusOr<std::string> site_id =
      sync.global() ? absl::StatusOr<std::string>("")
      : sync.account_scope()
          ? site.FindAccount(sync.account())
          : site.FindSite(sentinelone::SiteSelector(sync.site(), sync.site_id(),
                                                    sync.account()));
  if (!site_id.ok()) {
    *failed = tqs1::v1::SYNC_STEP_FIND_SITE;
    return AddContext(site_id.status(),
                      absl::StrCat("finding SentinelOne ", site_label));
  }
  sentinelone::Scope scope = sync.global() ? sentinelone::Scope::Global()
                             : sync.account_scope()
                                 ? sentinelone::Scope::Account(*site_id)
                                 : sentinelone::Scope(*site_id);
  std::string target_label = site_label;
  if (!sync.group().empty()) {
    target_label = absl::StrCat("group \"", sync.group(), "\" of ", site_label);
    absl::StatusOr<std::string> group_id =
        site.FindGroup(*site_id, sync.group());
    if (!group_id.ok()) {
      *failed = tqs1::v1::SYNC_STEP_FIND_SITE;
      return AddContext(group_id.status(),
                        absl::StrCat("finding SentinelOne ", target_label));
    }
    scope = sentinelone::Scope::Group(*group_id);
  }
  absl::StatusOr<tqs1::v1::ObservedState> observed = site.ReadSite(scope);
  if (!observed.ok()) {
    *failed = tqs1::v1::SYNC_STEP_READ_SITE;
    return AddContext(
        observed.status(),
        absl::StrCat("reading the firewall rules of ", target_label,
                     sync.site_id().empty() && !sync.global()
                         ? absl::StrCat(" (id ", scope.id, ")")
                         : std::string()));
  }
  // FindSite names the site; keep that even if the read leaves it out.
  if (observed->site_id().empty()) observed->set_site_id(scope.id);

  SyncReading reading;
  tqs1::v1::DesiredState& desired = reading.desired;
  desired = SyncPolicy(DecideIpv6(sync, scope.id, ipv6_auto), never_block);
  desired.mutable_values()->Reserve(static_cast<int>(read->values.size()));
  for (std::string& value : read->values) {
    desired.add_values(std::move(value));
  }
  // Beside each value, the indicator it came from (rejected values name it).
  if (read->indicator_ids.size() == read->values.size()) {
    desired.mutable_indicator_ids()->Assign(read->indicator_ids.begin(),
                                            read->indicator_ids.end());
  }
  if (read->origin_of.size() == read->values.size()) {
    for (threatq::CollectionRead::Origin& origin : read->origins) {
      tqs1::v1::IndicatorOrigin* o = desired.add_origins();
      o->set_type(std::move(origin.type));
      o->set_status(std::move(origin.status));
    }
    desired.mutable_origin_of()->Assign(read->origin_of.begin(),
                                        read->origin_of.end());
  }
  *desired.mutable_source() = std::move(read->report);
  reading.set_aside = std::move(read->set_aside);
  *failed = tqs1::v1::SYNC_STEP_PLAN;
  absl::StatusOr<Plan> plan =
      reconciler::ComputePlan(desired, *observed, options);
  if (!plan.ok()) return plan.status();
  *failed = tqs1::v1::SYNC_STEP_UNSPECIFIED;
  reading.plan = *std::move(plan);
  reading.observed = *std::move(observed);
  return reading;
}

namespace {

// The counts of a plan and of an apply, for a log a machine reads.
log::LogFields PlanFields(const Plan& plan) {
  const tqs1::v1::PlanSummary& s = plan.summary();
  log::LogFields fields;
  fields.counts = {{"creates", s.creates()},
                   {"updates", s.updates()},
                   {"deletes", s.deletes()},
                   {"addresses_desired", plan.inputs().desired()},
                   {"addresses_newly_blocked", s.newly_blocked()},
                   {"addresses_unblocked", s.unblocked()},
                   {"guard_blocked", s.blocked() ? 1u : 0u}};
  return fields;
}

log::LogFields ReportFields(const tqs1::v1::ApplyReport& report) {
  log::LogFields fields;
  fields.counts = {{"created", report.created()},
                   {"updated", report.updated()},
                   {"deleted", report.deleted()},
                   {"addresses_blocked", report.addresses_blocked()},
                   {"addresses_unblocked", report.addresses_unblocked()},
                   {"duration_ms", report.duration_ms()}};
  return fields;
}

}  // namespace

absl::StatusOr<Plan> PlanSync(
    const tqs1::v1::SyncConfig& sync,
    const std::vector<tqs1::v1::NeverBlock>& never_block,
    threatq::IndicatorSource& source, sentinelone::FirewallRules& site,
    const tqs1::v1::PlanOptions& options) {
  SyncStep failed = tqs1::v1::SYNC_STEP_UNSPECIFIED;
  absl::StatusOr<SyncReading> reading =
      ReadAndPlanSync(sync, never_block, source, site, options, {}, &failed);
  if (!reading.ok()) return reading.status();
  return std::move(reading->plan);
}

SyncConfig DecideIpv6(const SyncConfig& sync, absl::string_view site_id,
                      const Ipv6AutoResolver& resolver) {
  SyncConfig decided = sync;
  if (sync.ipv6() != tqs1::v1::IPV6_MODE_AUTO) return decided;
  const tqs1::v1::Ipv6Mode mode =
      resolver ? resolver(sync, site_id) : tqs1::v1::IPV6_MODE_AUTO;
  decided.set_ipv6(mode == tqs1::v1::IPV6_MODE_OFF ? tqs1::v1::IPV6_MODE_OFF
                                                   : tqs1::v1::IPV6_MODE_ON);
  return decided;
}

namespace {

// Whether `name` selects `sync`: its own name, or the name of the config
// entry it is one target of (SyncConfig.fleet).
bool Selects(absl::string_view name, const SyncConfig& sync) {
  return sync.name() == name || (!sync.fleet().empty() && sync.fleet() == name);
}

}  // namespace

SyncSelection SelectSyncs(const tqs1::v1::Config& config,
                          const std::vector<std::string>& names) {
  SyncSelection selection;
  for (const std::string& name : names) {
    if (std::none_of(
            config.syncs().begin(), config.syncs().end(),
            [&name](const SyncConfig& s) { return Selects(name, s); })) {
      selection.unknown = name;
      return selection;
    }
  }
  for (const SyncConfig& sync : config.syncs()) {
    if (names.empty() ||
        std::any_of(names.begin(), names.end(), [&sync](const std::string& n) {
          return Selects(n, sync);
        })) {
      selection.syncs.push_back(&sync);
    }
  }
  return selection;
}

std::vector<std::string> SyncNames(const tqs1::v1::Config& config) {
  std::vector<std::string> names;
  for (const SyncConfig& sync : config.syncs()) names.push_back(sync.name());
  return names;
}

void CountInto(const tqs1::v1::ApplyReport& report, tqs1::v1::SyncRun& run) {
  run.set_rules_created(report.created());
  run.set_rules_updated(report.updated());
  run.set_rules_deleted(report.deleted());
  run.set_addresses_blocked(static_cast<uint32_t>(report.addresses_blocked()));
  run.set_addresses_unblocked(
      static_cast<uint32_t>(report.addresses_unblocked()));
  run.mutable_ipv6_refused()->CopyFrom(report.ipv6_refused());
}

SyncRunResult RunSync(const RunSyncRequest& request,
                      threatq::IndicatorSource& source,
                      sentinelone::FirewallRules& site) {
  const std::vector<tqs1::v1::NeverBlock> none;
  const SyncConfig& sync = *request.sync;
  const std::vector<tqs1::v1::NeverBlock>& never_block =
      request.never_block != nullptr ? *request.never_block : none;
  SyncRunResult run;
  std::optional<tqs1::v1::DesiredState> desired;
  std::optional<tqs1::v1::ObservedState> observed;
  run.report.set_sync_name(reconciler::SyncDisplayName(sync));
  // Every line this run logs concerns the sync (`--log-format json`).
  const log::LogScope scope("", run.report.sync_name());
  auto fail = [&run](SyncStep step, absl::Status status) {
    run.outcome = tqs1::v1::SYNC_OUTCOME_FAILED;
    run.failed_step = step;
    run.status = std::move(status);
    return std::move(run);
  };

  // 1. The plan: made now, or given.
  if (request.plan != nullptr) {
    run.plan = *request.plan;
    if (!run.plan->error().empty()) {
      return fail(tqs1::v1::SYNC_STEP_PLAN,
                  absl::FailedPreconditionError(absl::StrCat(
                      "it could not be planned, so the file holds nothing to "
                      "apply for it: ",
                      run.plan->error())));
    }
  } else {
    SyncStep failed = tqs1::v1::SYNC_STEP_UNSPECIFIED;
    absl::StatusOr<SyncReading> read =
        ReadAndPlanSync(sync, never_block, source, site, request.plan_options,
                        request.ipv6_auto, &failed);
    if (!read.ok()) return fail(failed, read.status());
    // Kept for the ledger: each added entry's sources; and, for an apply
    // with nothing to write, the site it found (SettleInSync()).
    if (request.ledger != nullptr && request.apply) {
      desired = std::move(read->desired);
      if (!read->plan.summary().blocked() && read->plan.actions().empty()) {
        observed = std::move(read->observed);
      }
    }
    run.plan = std::move(read->plan);
    run.plan->set_restore_of(request.restore_of);
  }
  const Plan& plan = *run.plan;
  run.report.set_sync_name(plan.sync_name());
  log::LogTo(
      request.apply_options.logger, log::LogLevel::kInfo,
      absl::StrCat(
          "planned sync \"", plan.sync_name(), "\": ", plan.summary().creates(),
          " to create, ", plan.summary().updates(), " to update, ",
          plan.summary().deletes(), " to delete",
          plan.summary().blocked() ? "; blocked by a guard" : "",
          plan.inputs().source().shared_by_size() > 1
              ? absl::StrCat("; its collection read once for ",
                             plan.inputs().source().shared_by_size(), " syncs")
              : ""),
      PlanFields(plan));
  if (request.on_plan) request.on_plan(plan);

  // 2.-5. What the plan calls for before anything is written. A blocked
  // plan to apply goes on to ApplyPlan(), which refuses it without a read
  // (and words the refusal the same way for every caller).
  if (!request.apply) {
    run.outcome =
        plan.summary().blocked() ? tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED
        : plan.actions().empty() ? tqs1::v1::SYNC_OUTCOME_IN_SYNC
                                 : tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING;
    return run;
  }
  if (!plan.summary().blocked() && plan.actions().empty()) {
    run.outcome = tqs1::v1::SYNC_OUTCOME_IN_SYNC;
    // Nothing to write; the ledger may still have to catch up with the
    // site (a process killed after its last write).
    if (observed.has_value()) {
      ApplyJournal journal(*request.ledger, request.identity, plan, &*desired);
      if (absl::Status s = journal.SettleInSync(*observed); !s.ok()) {
        return fail(tqs1::v1::SYNC_STEP_APPLY,
                    WithMessage(s, absl::StrCat("the site is in sync, but "
                                                "recording it failed: ",
                                                s.message())));
      }
    }
    return run;
  }
  // From here on the run is an apply the ledger records, however it ends.
  std::optional<ApplyJournal> journal;
  ApplyOptions apply_options = request.apply_options;
  if (request.ledger != nullptr) {
    journal.emplace(*request.ledger, request.identity, plan,
                    desired.has_value() ? &*desired : nullptr);
    journal->Attach(apply_options);
  }
  auto recorded = [&]() {
    if (!journal.has_value()) return std::move(run);
    absl::Status s = journal->Finish(run.outcome, run.report, run.status);
    if (s.ok()) return std::move(run);
    const absl::string_view ended = LedgerOutcome(run.outcome);
    run.outcome = tqs1::v1::SYNC_OUTCOME_FAILED;
    run.failed_step = tqs1::v1::SYNC_STEP_APPLY;
    run.status = WithMessage(
        s,
        run.status.ok()
            ? absl::StrCat("the apply ended (", ended,
                           "), but recording it failed: ", s.message())
            : absl::StrCat(run.status.message(),
                           "; recording the apply failed too: ", s.message()));
    return std::move(run);
  };
  if (!plan.summary().blocked()) {
    switch (request.approve ? request.approve(plan) : Approval::kApproved) {
      case Approval::kApproved:
        break;
      case Approval::kDeclined:
        run.outcome = tqs1::v1::SYNC_OUTCOME_DECLINED;
        return recorded();
      case Approval::kNoOneToAsk:
        run.outcome = tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING;
        return recorded();
      case Approval::kInterrupted:
        run.outcome = tqs1::v1::SYNC_OUTCOME_INTERRUPTED;
        run.status = absl::CancelledError("stopped before the first write");
        return recorded();
    }
  }

  // 6. The one way into a write.
  absl::StatusOr<tqs1::v1::ApplyReport> report =
      ApplyPlan(plan,
                SyncPolicy(DecideIpv6(sync, plan.site_id(), request.ipv6_auto),
                           never_block),
                site, apply_options);
  if (report.ok()) {
    run.report = *std::move(report);
    run.outcome = tqs1::v1::SYNC_OUTCOME_APPLIED;
    log::LogTo(request.apply_options.logger, log::LogLevel::kInfo,
               absl::StrCat("applied sync \"", plan.sync_name(),
                            "\": ", run.report.created(), " created, ",
                            run.report.updated(), " updated, ",
                            run.report.deleted(), " deleted"),
               ReportFields(run.report));
    return recorded();
  }
  if (std::optional<tqs1::v1::ApplyReport> partial =
          PartialApplyReport(report.status());
      partial.has_value()) {
    run.report = *std::move(partial);
  }
  run.status = report.status();
  if (reconciler::IsGuardRefusal(run.status)) {
    run.outcome = tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED;
  } else if (run.status.code() == absl::StatusCode::kCancelled) {
    run.outcome = tqs1::v1::SYNC_OUTCOME_INTERRUPTED;
  } else {
    run.outcome = tqs1::v1::SYNC_OUTCOME_FAILED;
    run.failed_step = tqs1::v1::SYNC_STEP_APPLY;
  }
  return recorded();
}

}  // namespace tqs1::sync

// `tqs1 apply [PLANFILE]`.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/timestamp.h"
#include "cli/app.h"
#include "cli/command_output.h"
#include "cli/stop_signals.h"
#include "cli/version.h"
#include "providers/ledger/ledger.h"
#include "reconciler/plan_file.h"
#include "reconciler/planner.h"
#include "reconciler/render.h"
#include "sync/rollout.h"
#include "sync/shared_reads.h"
#include "sync/sync_runner.h"

namespace tqs1::cli {
namespace {

using ::tqs1::v1::Config;
using ::tqs1::v1::Plan;
using ::tqs1::v1::SyncConfig;

google::protobuf::Timestamp Now() { return ToTimestamp(absl::Now()); }

// The record of a sync's run, started now.
tqs1::v1::SyncRun NewRecord(const std::string& sync_name) {
  tqs1::v1::SyncRun r;
  r.set_name(sync_name);
  *r.mutable_started() = Now();
  *r.mutable_finished() = r.started();
  return r;
}

// Asks the operator to approve `plan` (unless --auto-approve), printing
// why when it cannot be applied now.
sync::Approval Approve(const Plan& plan, const ApplyCommand& command,
                       const Io& io, const StopSignals& stop) {
  if (command.auto_approve) return sync::Approval::kApproved;
  if (!io.interactive) return sync::Approval::kNoOneToAsk;
  std::optional<std::string> answer =
      io.ask(absl::StrCat("Apply these changes to site \"", plan.site_name(),
                          "\" (sync \"", plan.sync_name(),
                          "\")? Only 'yes' is accepted: "),
             false);
  if (stop.received() != 0) return sync::Approval::kInterrupted;
  if (!answer.has_value() || *answer != "yes") return sync::Approval::kDeclined;
  return sync::Approval::kApproved;
}

// `tqs1 apply` of one sync through sync::RunSync(): `given` is a plan read
// from a plan file, or null to plan now from `source` (printing the plan
// and asking unless --auto-approve). Prints what became of it with a progress
// line on a terminal, fills `r` and returns the exit code. Stops before the
// next write once `stop` has received a signal.
int ApplySync(const SyncConfig& sync, const Plan* given,
              threatq::IndicatorSource& source, Backends& backends,
              const ApplyCommand& command, const Io& io, log::Logger* logger,
              const StopSignals& stop, tqs1::v1::SyncRun& r) {
  sync::RunSyncRequest request;
  request.sync = &sync;
  request.never_block = &backends.never_block;
  request.plan_options = command.options;
  request.ipv6_auto = backends.ipv6_auto;
  request.plan = given;
  if (given == nullptr) {
    request.on_plan = [&](const Plan& plan) {
      *io.out << reconciler::RenderPlanText(plan, WithColor(command.render, io))
              << "\n"
              << std::flush;
      LogRejected(plan, logger);
    };
  }
  // Whether the apply step ran (a progress line may need clearing). A saved
  // plan was reviewed when it was made: applying the file approves it.
  bool applying = given != nullptr &&
                  (given->summary().blocked() || given->actions_size() > 0);
  if (given == nullptr) {
    request.approve = [&](const Plan& plan) {
      sync::Approval approval = Approve(plan, command, io, stop);
      applying = approval == sync::Approval::kApproved;
      return approval;
    };
  }
  request.ledger = backends.ledger.get();
  request.identity = command.identity;
  request.apply_options.logger = logger;
  request.apply_options.should_stop = [&stop] { return stop.received() != 0; };
  if (io.interactive) {
    request.apply_options.on_action = [&io](int index, int total,
                                            const tqs1::v1::Action& action) {
      *io.out << "\r  [" << index + 1 << "/" << total << "] " << action.name()
              << "\033[K" << std::flush;
    };
  }
  const sync::SyncRunResult run =
      sync::RunSync(request, source, backends.RulesFor(sync));
  if (io.interactive && applying) *io.out << "\r\033[K";

  *r.mutable_finished() = Now();
  r.set_outcome(run.outcome);
  r.set_failed_step(run.failed_step);
  sync::CountInto(run.report, r);
  if (!run.status.ok()) r.set_error(std::string(run.status.message()));
  // Before the apply step, messages name the sync as selected; after it,
  // as planned.
  const std::string& name = given != nullptr ? given->sync_name() : sync.name();
  switch (run.outcome) {
    case tqs1::v1::SYNC_OUTCOME_IN_SYNC:
      return kExitOk;
    case tqs1::v1::SYNC_OUTCOME_CHANGES_PENDING:
      *io.err << "Error: sync \"" << name
              << "\": apply needs a confirmation and there is no terminal "
                 "to ask on; review the plan above, then run `tqs1 apply "
                 "--auto-approve` (or save it with `tqs1 plan --out FILE` "
                 "and apply the file).\n";
      return kExitError;
    case tqs1::v1::SYNC_OUTCOME_DECLINED:
      *io.out << "Apply cancelled: sync \"" << name << "\" was not applied.\n";
      return kExitError;
    case tqs1::v1::SYNC_OUTCOME_INTERRUPTED:
      if (!applying) {
        *io.err << "Interrupted: sync \"" << name
                << "\" stopped before its first write.\n";
      } else {
        *io.err << "Interrupted: sync \"" << run.plan->sync_name()
                << "\" stopped after "
                << run.report.created() + run.report.updated() +
                       run.report.deleted()
                << " of " << run.plan->actions_size()
                << " actions; run apply again to finish.\n";
      }
      return stop.received() != 0 ? ExitForSignal(stop.received()) : kExitError;
    case tqs1::v1::SYNC_OUTCOME_GUARD_BLOCKED:
      if (given == nullptr && run.plan->summary().blocked()) {
        *io.err << "Error: sync \"" << name
                << "\": a guard blocks this plan; nothing applied ("
                << GuardsInWords(*run.plan) << ").\n";
      } else {
        PrintError(io, run.report.sync_name(), run.status);
      }
      return kExitGuard;
    case tqs1::v1::SYNC_OUTCOME_APPLIED:
      *io.out << "Apply complete for \"" << run.plan->sync_name()
              << "\": " << run.report.created() << " created, "
              << run.report.updated() << " updated, " << run.report.deleted()
              << " deleted; "
              << reconciler::FormatCount(run.plan->summary().newly_blocked())
              << " addresses blocked, "
              << reconciler::FormatCount(run.plan->summary().unblocked())
              << " unblocked, in " << Seconds(run.report.duration_ms())
              << ".\n";
      return kExitOk;
    default:
      PrintError(io,
                 run.failed_step == tqs1::v1::SYNC_STEP_APPLY
                     ? run.report.sync_name()
                     : name,
                 run.status);
      return kExitError;
  }
}

// The sync of `config` a plan names, or null.
const SyncConfig* SyncNamed(const Config& config, absl::string_view name) {
  for (const SyncConfig& sync : config.syncs()) {
    if (reconciler::SyncDisplayName(sync) == name) return &sync;
  }
  return nullptr;
}

// Reads, verifies and checks a saved plan file; prints what is wrong.
std::optional<tqs1::v1::PlanFile> LoadPlanFile(const std::string& path,
                                               const ApplyCommand& command,
                                               const Io& io) {
  auto fail = [&](absl::string_view message) {
    *io.err << "Error: plan file \"" << path << "\": " << message
            << "; nothing applied.\n";
    return std::nullopt;
  };
  absl::StatusOr<std::string> text =
      ReadFileUpTo(path, kMaxPlanFileBytes, "plan file ");
  if (!text.ok()) return fail(text.status().message());
  absl::StatusOr<tqs1::v1::PlanFile> file =
      reconciler::ParsePlanFileJson(*text);
  if (!file.ok()) return fail(file.status().message());
  absl::StatusOr<std::string> key = PlanKey(command);
  if (!key.ok()) return fail(key.status().message());
  if (absl::Status s = reconciler::VerifyPlanFile(*key, *file, path); !s.ok()) {
    *io.err << "Error: " << s.message() << "\n";
    return std::nullopt;
  }
  if (file->plans().empty()) {
    return fail("it holds no syncs (was the config's syncs list empty?)");
  }
  absl::Time created;
  std::string why;
  if (!absl::ParseTime(absl::RFC3339_full, file->created_at(), &created,
                       &why)) {
    return fail(absl::StrCat("its creation time \"", file->created_at(),
                             "\" is not an RFC 3339 time"));
  }
  const absl::Duration age = absl::Now() - created;
  if (age > command.plan_max_age) {
    const absl::Duration shown = absl::Trunc(age, absl::Seconds(1));
    *io.err << "Warning: plan file \"" << path << "\" was made "
            << (shown == absl::ZeroDuration() ? "under a second"
                                              : absl::FormatDuration(shown))
            << " ago (" << file->created_at() << ", --plan-max-age "
            << absl::FormatDuration(command.plan_max_age)
            << "); it is applied only if the site is unchanged since.\n";
  }
  if (file->tqs1_version() != kVersion) {
    *io.err << "Warning: plan file \"" << path << "\" was made by tqs1 "
            << file->tqs1_version() << "; this is tqs1 " << kVersion << ".\n";
  }
  return *std::move(file);
}

// How many syncs `command` applies at once: one when it asks the operator
// to confirm each plan, else ParallelismOf().
int ApplyParallelism(const ApplyCommand& command, const Config& config,
                     const Io& io) {
  const bool asks =
      command.plan_file.empty() && !command.auto_approve && io.interactive;
  return asks ? 1 : ParallelismOf(command, config);
}

// Applies `syncs` in their rollout's order (sync::Rollout: canaries first,
// each planned again once applied; an entry whose canary failed goes no
// further), each from its plan in `plans` (a plan file's) or planned now
// when it has none, `parallelism` at a time: every canary, then the others
// (ForEachSync(): output and records in that order). Records each in
// `record` and returns the exit code, starting from `exit_code`.
int ApplyInRollout(const std::vector<const SyncConfig*>& syncs,
                   const std::map<const SyncConfig*, const Plan*>& plans,
                   int parallelism, Backends& backends,
                   const ApplyCommand& command, const Io& io,
                   log::Logger* logger, tqs1::v1::LastRun* record,
                   int exit_code) {
  StopSignals stop;
  sync::Rollout rollout(syncs);
  // One read per collection: several syncs of one collection share it.
  sync::SharedReads reads(backends.SourceOf(), rollout.readers());
  // What one sync's apply came to, for its turn in order.
  struct Applied {
    tqs1::v1::SyncRun r;
    // Unset: not run (a signal came before it).
    std::optional<int> code;
    std::optional<std::string> canary_failed;
  };
  for (const std::vector<const SyncConfig*>& phase : rollout.phases()) {
    // Decided before the phase starts: the canaries have all finished.
    std::vector<std::optional<std::string>> held;
    for (const SyncConfig* sync : phase)
      held.push_back(rollout.HeldBack(*sync));
    std::vector<Applied> applied(phase.size());
    ForEachSync(
        phase, reads, parallelism, io,
        [&](int i, const Io& out) {
          const SyncConfig* sync = phase[i];
          auto given = plans.find(sync);
          const Plan* plan = given == plans.end() ? nullptr : given->second;
          Applied& a = applied[i];
          a.r = NewRecord(plan != nullptr ? plan->sync_name() : sync->name());
          if (stop.received() != 0) {
            a.r.set_outcome(tqs1::v1::SYNC_OUTCOME_INTERRUPTED);
            return;
          }
          if (held[i].has_value()) {
            const std::string why = absl::StrCat("not run: ", *held[i]);
            *out.err << "Error: sync \"" << sync->name() << "\": " << why
                     << "\n";
            a.r.set_outcome(tqs1::v1::SYNC_OUTCOME_FAILED);
            a.r.set_error(why);
            a.code = kExitError;
            return;
          }
          a.code = ApplySync(*sync, plan, reads.For(*sync), backends, command,
                             out, logger, stop, a.r);
          if (!sync->canary() || *a.code > kExitGuard) return;
          if (*a.code != kExitOk) {
            a.canary_failed = "did not apply";
          } else {
            sync::RunSyncRequest request;
            request.sync = sync;
            request.never_block = &backends.never_block;
            request.plan_options = command.options;
            request.ipv6_auto = backends.ipv6_auto;
            a.canary_failed = sync::VerifyCanary(request, reads.For(*sync),
                                                 backends.RulesFor(*sync));
          }
          if (a.canary_failed.has_value()) {
            *out.err << "Error: canary sync \"" << sync->name() << "\" "
                     << *a.canary_failed << ": the other sites of \""
                     << sync->fleet() << "\" are not applied.\n";
            a.code = WorseExit(*a.code, kExitError);
          } else {
            *out.out << "Canary sync \"" << sync->name()
                     << "\" applied and verified (planned again: nothing to "
                        "do).\n";
          }
        },
        [&](int i) {
          Applied& a = applied[i];
          if (record != nullptr) *record->add_syncs() = std::move(a.r);
          if (a.canary_failed.has_value()) {
            rollout.CanaryFailed(*phase[i], *a.canary_failed);
          }
          if (!a.code.has_value()) return;
          // An interrupted apply exits 130/143; the syncs after it are
          // recorded as interrupted.
          exit_code =
              *a.code > kExitGuard ? *a.code : WorseExit(exit_code, *a.code);
        });
  }
  return exit_code;
}

// `tqs1 apply PLANFILE`.
int ApplyPlanFile(const Config& config, Backends& backends,
                  const ApplyCommand& command, const Io& io,
                  log::Logger* logger, tqs1::v1::LastRun* record) {
  const std::string& path = command.plan_file;
  if (const std::vector<std::string>& flags = command.fixed_flags;
      !flags.empty()) {
    *io.err
        << "Error: " << absl::StrJoin(flags, ", ")
        << " cannot change a saved plan: which syncs it holds and its guard "
           "overrides are decided when it is made (`tqs1 plan "
        << absl::StrJoin(flags, " ") << " ... --out FILE`), and the "
        << "signed file records them; nothing applied.\n";
    return kExitError;
  }
  std::optional<tqs1::v1::PlanFile> file = LoadPlanFile(path, command, io);
  if (!file.has_value()) return kExitError;

  // Syncs the config no longer has are errors; the others are applied in
  // their rollout's order, like a fresh apply.
  int exit_code = kExitOk;
  std::vector<const SyncConfig*> syncs;
  std::map<const SyncConfig*, const Plan*> plans;
  for (const Plan& plan : file->plans()) {
    const SyncConfig* sync = SyncNamed(config, plan.sync_name());
    if (sync == nullptr) {
      PrintError(io, plan.sync_name(),
                 absl::InvalidArgumentError(
                     "the plan file names a sync that is not in the config"));
      if (record != nullptr) {
        tqs1::v1::SyncRun& r = *record->add_syncs();
        r = NewRecord(plan.sync_name());
        r.set_outcome(tqs1::v1::SYNC_OUTCOME_FAILED);
        r.set_error("not in the config");
      }
      exit_code = WorseExit(exit_code, kExitError);
      continue;
    }
    if (!plans.emplace(sync, &plan).second) {
      *io.err << "Error: plan file \"" << path << "\" holds sync \""
              << plan.sync_name() << "\" twice; nothing applied.\n";
      return kExitError;
    }
    syncs.push_back(sync);
  }
  return ApplyInRollout(syncs, plans, ApplyParallelism(command, config, io),
                        backends, command, io, logger, record, exit_code);
}

}  // namespace

int RunApply(const Config& config, Backends& backends,
             const ApplyCommand& command, const Io& io, log::Logger* logger,
             tqs1::v1::LastRun* record) {
  WarnIfTokenExpiresSoon(backends, io, logger, absl::Now());
  if (!command.plan_file.empty()) {
    return ApplyPlanFile(config, backends, command, io, logger, record);
  }
  absl::StatusOr<std::vector<const SyncConfig*>> syncs =
      SelectSyncs(config, command.syncs);
  if (!syncs.ok()) {
    *io.err << "Error: " << syncs.status().message() << "\n";
    return kExitError;
  }
  return ApplyInRollout(*syncs, {}, ApplyParallelism(command, config, io),
                        backends, command, io, logger, record, kExitOk);
}

}  // namespace tqs1::cli

// `tqs1 plan`.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "cli/app.h"
#include "cli/command_output.h"
#include "cli/version.h"
#include "providers/ledger/ledger.h"
#include "reconciler/plan_file.h"
#include "reconciler/planner.h"
#include "reconciler/render.h"
#include "sync/restore.h"
#include "sync/shared_reads.h"
#include "sync/sync_runner.h"

namespace tqs1::cli {

using ::tqs1::v1::Config;
using ::tqs1::v1::Plan;
using ::tqs1::v1::SyncConfig;

namespace {

// For `plan --restore ID`: the recorded set and its sync, or an error
// printed.
struct Restore {
  sync::RecordedSet set;
  const SyncConfig* sync = nullptr;
};
std::optional<Restore> PrepareRestore(const Config& config, Backends& backends,
                                      const PlanCommand& command,
                                      const Io& io) {
  auto fail = [&](absl::string_view message) {
    *io.err << "Error: plan --restore " << command.restore << ": " << message
            << "\n";
    return std::nullopt;
  };
  if (backends.ledger == nullptr) {
    return fail("there is no ledger in the state folder yet");
  }
  absl::StatusOr<sync::RecordedSet> set =
      sync::ReadRecordedSet(*backends.ledger, command.restore);
  if (!set.ok()) return fail(set.status().message());
  Restore restore{*std::move(set), nullptr};
  for (const SyncConfig& sync : config.syncs()) {
    if (reconciler::SyncDisplayName(sync) == restore.set.apply.sync) {
      restore.sync = &sync;
    }
  }
  if (restore.sync == nullptr) {
    return fail(absl::StrCat("its sync \"", restore.set.apply.sync,
                             "\" is not in the config"));
  }
  if (!command.syncs.empty() &&
      (command.syncs.size() != 1 || command.syncs[0] != restore.sync->name())) {
    return fail(absl::StrCat("it restores sync \"", restore.set.apply.sync,
                             "\" only; leave --sync out"));
  }
  return restore;
}

}  // namespace

int RunPlan(const Config& config, Backends& backends,
            const PlanCommand& command, const Io& io, log::Logger* logger) {
  std::optional<Restore> restore;
  if (command.restore != 0) {
    restore = PrepareRestore(config, backends, command, io);
    if (!restore.has_value()) return kExitError;
  }
  absl::StatusOr<std::vector<const SyncConfig*>> syncs =
      restore.has_value() ? std::vector<const SyncConfig*>{restore->sync}
                          : SelectSyncs(config, command.syncs);
  if (!syncs.ok()) {
    *io.err << "Error: " << syncs.status().message() << "\n";
    return kExitError;
  }
  std::optional<sync::RecordedSetSource> recorded;
  if (restore.has_value()) recorded.emplace(restore->set);
  // One read per collection: several syncs of one collection share it.
  sync::SharedReads reads(backends.SourceOf(), *syncs);
  WarnIfTokenExpiresSoon(backends, io, logger, absl::Now());
  int exit_code = kExitOk;
  bool any_blocked = false;
  tqs1::v1::PlanFile file = NewPlanFile(absl::Now());
  std::vector<sync::SyncRunResult> runs(syncs->size());
  ForEachSync(
      *syncs, reads, restore.has_value() ? 1 : ParallelismOf(command, config),
      io,
      [&](int i, const Io& out) {
        const SyncConfig* sync = (*syncs)[i];
        log::LogTo(logger, log::LogLevel::kInfo,
                   absl::StrCat("planning sync \"", sync->name(), "\""));
        sync::RunSyncRequest request;
        request.sync = sync;
        request.never_block = &backends.never_block;
        request.plan_options = command.options;
        request.ipv6_auto = backends.ipv6_auto;
        request.apply = false;
        if (restore.has_value()) request.restore_of = command.restore;
        request.on_plan = [&](const Plan& plan) {
          if (!command.json) {
            *out.out << reconciler::RenderPlanText(
                            plan, WithColor(command.render, out))
                     << "\n"
                     << std::flush;
          }
          LogRejected(plan, logger);
          if (plan.summary().blocked()) {
            log::LogAlwaysTo(logger,
                             absl::StrCat("sync \"", plan.sync_name(),
                                          "\": a guard blocks the plan: ",
                                          GuardsInWords(plan)));
          }
        };
        threatq::IndicatorSource& source =
            recorded.has_value()
                ? static_cast<threatq::IndicatorSource&>(*recorded)
                : reads.For(*sync);
        runs[i] = sync::RunSync(request, source, backends.RulesFor(*sync));
        if (!runs[i].plan.has_value()) {
          PrintError(out, sync->name(), runs[i].status);
        }
      },
      [&](int i) {
        const SyncConfig* sync = (*syncs)[i];
        sync::SyncRunResult& run = runs[i];
        if (!run.plan.has_value()) {
          exit_code = WorseExit(exit_code, kExitError);
          // Every sync has an entry; a failed one says why and has no
          // actions.
          Plan* failed = file.add_plans();
          failed->set_format(tqs1::v1::PLAN_FORMAT_V1);
          failed->set_sync_name(reconciler::SyncDisplayName(*sync));
          failed->set_collection(sync->collection());
          failed->set_site_name(sync->site());
          failed->set_error(std::string(run.status.message()));
          return;
        }
        if (run.plan->summary().blocked()) any_blocked = true;
        exit_code = WorseExit(exit_code, ExitFor(*run.plan));
        *file.add_plans() = *std::move(run.plan);
      });
  if (restore.has_value() && file.plans(0).error().empty() &&
      file.plans(0).site_id() != restore->set.apply.site_id) {
    *io.err << "Error: plan --restore " << command.restore << ": apply "
            << command.restore << " was of site id "
            << restore->set.apply.site_id << "; sync \""
            << restore->sync->name() << "\" now targets site id "
            << file.plans(0).site_id() << "; nothing planned\n";
    return kExitError;
  }
  if (command.json || !command.out.empty()) {
    // Signed, so that `tqs1 apply FILE` can tell it is this instance's and
    // unchanged.
    absl::StatusOr<std::string> key = PlanKey(command);
    absl::Status signed_ok =
        key.ok() ? reconciler::SignPlanFile(*key, file) : key.status();
    if (!signed_ok.ok()) {
      *io.err << "Error: cannot sign the plan: " << signed_ok.message() << "\n";
      return kExitError;
    }
  }
  absl::StatusOr<std::string> json = reconciler::RenderPlanFileJson(file);
  if (!json.ok()) {
    *io.err << "Error: " << json.status().message() << "\n";
    return kExitError;
  }
  if (command.json) *io.out << *json;
  if (!command.out.empty()) {
    // Atomic and fsynced; 0644: a plan holds addresses, never a secret.
    if (absl::Status s = WriteFileAtomically(command.out, *json, 0644);
        !s.ok()) {
      *io.err << "Error: " << s.message() << "\n";
      return kExitError;
    }
    if (!command.json && any_blocked) {
      *io.out << "Saved the plan to \"" << command.out
              << "\"; a guard blocks it, so apply would refuse it.\n";
    } else if (!command.json) {
      std::string hint = "tqs1 apply";
      if (command.config_arg != ".")
        absl::StrAppend(&hint, " -c ", ShellWord(command.config_arg));
      if (!command.name_arg.empty())
        absl::StrAppend(&hint, " -n ", ShellWord(command.name_arg));
      if (!command.state_dir_arg.empty())
        absl::StrAppend(&hint, " --state-dir ",
                        ShellWord(command.state_dir_arg));
      absl::StrAppend(&hint, " ", ShellWord(command.out));
      *io.out << "Saved the plan to \"" << command.out << "\"; apply it with `"
              << hint << "`.\n";
    }
  }
  if (!command.detailed_exitcode && exit_code == kExitChanges)
    exit_code = kExitOk;
  return exit_code;
}

}  // namespace tqs1::cli

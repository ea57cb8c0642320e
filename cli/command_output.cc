#include "cli/command_output.h"

#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"
#include "cli/config/config_loader.h"
#include "cli/config/paths.h"
#include "cli/config/state.h"
#include "cli/logging.h"
#include "sync/parallel_runs.h"
#include "sync/plan_executor.h"

namespace tqs1::cli {

using ::tqs1::v1::Plan;

std::string Seconds(uint64_t ms) {
  return absl::StrFormat("%.1f s", static_cast<double>(ms) / 1000);
}

reconciler::RenderOptions WithColor(reconciler::RenderOptions render,
                                    const Io& io) {
  render.color = io.color;
  return render;
}

void PrintError(const Io& io, absl::string_view sync, const absl::Status& s) {
  *io.err << "Error: sync \"" << sync << "\": " << s.message() << "\n";
  if (std::optional<tqs1::v1::ApplyReport> partial =
          sync::PartialApplyReport(s)) {
    *io.err << reconciler::RenderApplyRefusals(*partial, WithColor({}, io));
  }
}

std::string GuardsInWords(const Plan& plan) {
  std::vector<std::string> words;
  for (const tqs1::v1::GuardVerdict& v : plan.guards()) {
    if (!v.tripped()) continue;
    words.push_back(absl::StrCat("guard \"", v.guard(), "\"",
                                 v.overridden() ? " (overridden)" : "", ": ",
                                 v.message()));
  }
  return absl::StrJoin(words, "; ");
}

void LogRejected(const Plan& plan, log::Logger* logger) {
  const tqs1::v1::InputReport& in = plan.inputs();
  const uint64_t rejected = in.rejected_size() + in.rejected_truncated();
  if (rejected == 0) return;
  std::vector<std::string> examples;
  for (const tqs1::v1::RejectedValue& r : in.rejected()) {
    if (examples.size() == 3) break;
    examples.push_back(absl::StrCat("\"", r.value(), "\" (", r.reason(), ")"));
  }
  log::LogAlwaysTo(
      logger, absl::StrCat("sync \"", plan.sync_name(),
                           "\": ", reconciler::FormatCount(rejected),
                           " values not blocked (", in.invalid(), " invalid, ",
                           in.never_blocked(), " never-blocked), e.g. ",
                           absl::StrJoin(examples, ", ")));
}

absl::StatusOr<std::string> PlanKey(const SyncCommand& command) {
  ASSIGN_OR_RETURN(
      config::ConfigPaths paths,
      config::ResolveConfigPaths(command.config_arg, command.name_arg,
                                 command.state_dir_arg));
  return config::LoadOrCreatePlanKey(paths.PlanKeyFile());
}

std::string ShellWord(absl::string_view word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                             "XYZ0123456789_-./:=@%+,") ==
          absl::string_view::npos) {
    return std::string(word);
  }
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

int ParallelismOf(const SyncCommand& command, const tqs1::v1::Config& config) {
  return command.parallelism > 0 ? command.parallelism
                                 : config::Parallelism(config);
}

void ForEachSync(const std::vector<const tqs1::v1::SyncConfig*>& syncs,
                 sync::SharedReads& reads, int parallelism, const Io& io,
                 const std::function<void(int i, const Io& out)>& run,
                 const std::function<void(int i)>& finish) {
  const int count = static_cast<int>(syncs.size());
  auto key = [&syncs](int i) { return sync::SiteKey(*syncs[i]); };
  if (parallelism <= 1 || count <= 1) {
    sync::RunInParallel(
        count, 1, key, [&](int i) { run(i, io); }, finish);
    return;
  }
  // One buffer a sync: what it prints waits for its turn.
  struct Buffer {
    std::ostringstream out;
    std::ostringstream err;
    Io io;
  };
  std::vector<std::unique_ptr<Buffer>> buffers;
  for (int i = 0; i < count; ++i) {
    auto b = std::make_unique<Buffer>();
    b->io.out = &b->out;
    b->io.err = &b->err;
    b->io.color = io.color;
    buffers.push_back(std::move(b));
  }
  sync::RunInParallel(
      count, parallelism, key, [&](int i) { run(i, buffers[i]->io); },
      [&](int i) {
        *io.out << buffers[i]->out.str() << std::flush;
        *io.err << buffers[i]->err.str() << std::flush;
        buffers[i].reset();
        finish(i);
      },
      [&](int i) { return reads.Reading(*syncs[i]); });
}

}  // namespace tqs1::cli

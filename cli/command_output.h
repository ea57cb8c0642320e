// What the plan and apply commands print and log, shared by both. Internal
// to //cli:app.
#ifndef TQS1_CLI_COMMAND_OUTPUT_H_
#define TQS1_CLI_COMMAND_OUTPUT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/logger.h"
#include "cli/app.h"
#include "proto/plan.pb.h"
#include "reconciler/render.h"
#include "sync/shared_reads.h"

namespace tqs1::cli {

// "1.5 s".
std::string Seconds(uint64_t ms);

// `render` with the terminal's color.
reconciler::RenderOptions WithColor(reconciler::RenderOptions render,
                                    const Io& io);

// "Error: sync \"<sync>\": <message>" on the terminal's error stream; when
// `s` is a failed apply whose console refused IPv6 writes (its partial
// ApplyReport holds ipv6_refused lines), followed by those lines
// (reconciler::RenderApplyRefusals()):
//
//   Error: sync "Known C2 -> HQ": the console refused the IPv6 values of 1
//   write: ...; set `ipv6: off` for sync "Known C2 -> HQ" and apply again
//   IPv6 values refused by the console:
//     ! action 2 of 6 (create "Known C2 (3)") refused by the console: ...
void PrintError(const Io& io, absl::string_view sync, const absl::Status& s);

// The guards a plan trips (and which were overridden), in words.
std::string GuardsInWords(const tqs1::v1::Plan& plan);

// One line in the log for the values a plan will not block.
void LogRejected(const tqs1::v1::Plan& plan, log::Logger* logger);

// This instance's plan-signing key (created on first use), in the state
// folder of the instance that the command's -c, -n and --state-dir name.
absl::StatusOr<std::string> PlanKey(const SyncCommand& command);

// How many syncs the command runs at once: --parallelism, else the
// config's `parallelism:` (config::Parallelism()).
int ParallelismOf(const SyncCommand& command, const tqs1::v1::Config& config);

// Runs `run(i, out)` for each of `syncs` through sync::RunInParallel() at
// `parallelism` (never two of one site at once), each printing to `out`:
// `io` itself when they run one at a time, else a buffer of its own (the
// terminal's colors, no prompts, no progress lines) printed on `io`, stdout
// then stderr, in the order of `syncs`, each once it and the ones before it
// are done; then `finish(i)` on this thread. A sync whose collection is
// being read for another (`reads`) gives its turn to one that would not
// wait.
void ForEachSync(const std::vector<const tqs1::v1::SyncConfig*>& syncs,
                 sync::SharedReads& reads, int parallelism, const Io& io,
                 const std::function<void(int i, const Io& out)>& run,
                 const std::function<void(int i)>& finish);

// A shell-safe rendering of one argument for a hint.
std::string ShellWord(absl::string_view word);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_COMMAND_OUTPUT_H_

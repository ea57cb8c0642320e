// What the plan and apply commands print and log, shared by both. Internal
// to //cli:app.
#ifndef TQS1_CLI_COMMAND_OUTPUT_H_
#define TQS1_CLI_COMMAND_OUTPUT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/logger.h"
#include "cli/app.h"
#include "proto/plan.pb.h"
#include "reconciler/render.h"

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

// A shell-safe rendering of one argument for a hint.
std::string ShellWord(absl::string_view word);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_COMMAND_OUTPUT_H_

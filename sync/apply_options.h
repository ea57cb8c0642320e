// How an apply reports progress, stops and measures itself: the options of
// ApplyPlan() (plan_executor.h).
//
//   ApplyOptions options;
//   options.on_action = [](int index, int total, const Action& action) {
//     std::cerr << "[" << index + 1 << "/" << total << "] " << action.name();
//   };
//   options.should_stop = [] { return interrupted.load(); };  // e.g. SIGINT
#ifndef TQS1_SYNC_APPLY_OPTIONS_H_
#define TQS1_SYNC_APPLY_OPTIONS_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/clock.h"
#include "base/logger.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"

namespace tqs1::sync {

struct ApplyOptions {
  // Called just before action `index` (0-based) of `total` is written, in
  // plan order, on the calling thread. For progress displays. Not called
  // for an action that is skipped (see ApplyPlan()).
  std::function<void(int index, int total, const tqs1::v1::Action& action)>
      on_action;
  // Consulted before each write (never during one). Returning true stops the
  // apply cleanly: ApplyPlan returns kCancelled and the writes done so far
  // stay (the site is left between two actions of the plan, a state the
  // planner's ordering makes safe).
  std::function<bool()> should_stop;
  // Called once, after the plan is admitted against the re-read site and
  // before its first write, with the site as re-read. An error refuses the
  // apply: nothing is written, and ApplyPlan() returns the error. For the
  // ledger (sync/apply_journal.h).
  std::function<absl::Status(const tqs1::v1::ObservedState& site)>
      before_writes;
  // Called after each write SentinelOne accepted (not for a refused or a
  // skipped action), on the calling thread, with the id of the rule
  // written (a CREATE's new rule). An error stops the apply before the next
  // write, as a failed write does: the writes done stay, and the planner's
  // order makes every prefix of a plan safe (no wanted address is
  // unblocked). For the ledger.
  std::function<absl::Status(int index, const tqs1::v1::Action& action,
                             absl::string_view rule_id)>
      after_write;
  // Receives one line per write (debug) and a summary (info). Unowned; may
  // be null.
  tqs1::log::Logger* logger = nullptr;
  // For ApplyReport.duration_ms. Unowned; null means tqs1::RealClock().
  tqs1::Clock* clock = nullptr;
};

}  // namespace tqs1::sync

#endif  // TQS1_SYNC_APPLY_OPTIONS_H_

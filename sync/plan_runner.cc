#include "sync/plan_runner.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "base/status_context.h"
#include "reconciler/address.h"
#include "reconciler/render.h"

namespace tqs1::sync {
namespace {

using ::tqs1::log::LogLevel;
using ::tqs1::log::LogTo;
using ::tqs1::reconciler::IpPrefix;
using ::tqs1::v1::Action;
using ::tqs1::v1::ApplyReport;
using ::tqs1::v1::Plan;

// Refused writes the failure message names one by one.
constexpr int kRefusalsNamed = 10;

// An entry of a rule as an address or prefix: canonical or not, and with
// host bits past the prefix length ignored ("10.0.0.5/8" is 10.0.0.0/8, as
// a console may read it). nullopt when it is neither.
std::optional<IpPrefix> ReadEntry(absl::string_view entry) {
  absl::StatusOr<IpPrefix> prefix = reconciler::ParseIpPrefix(entry);
  if (prefix.ok()) return *prefix;
  const size_t slash = entry.find('/');
  if (slash == absl::string_view::npos) return std::nullopt;
  absl::StatusOr<IpPrefix> address =
      reconciler::ParseIpPrefix(entry.substr(0, slash));
  int length = 0;
  if (!address.ok() || !address->is_host() ||
      !absl::SimpleAtoi(entry.substr(slash + 1), &length) || length < 0 ||
      length > address->max_length()) {
    return std::nullopt;
  }
  if (address->family() == IpPrefix::Family::kV4) {
    return IpPrefix::V4(static_cast<uint32_t>(address->low_bits()), length);
  }
  return IpPrefix::V6(address->high_bits(), address->low_bits(), length);
}

// `prefix` cut to its first `length` bits.
IpPrefix Truncated(const IpPrefix& prefix, int length) {
  if (prefix.family() == IpPrefix::Family::kV4) {
    return IpPrefix::V4(static_cast<uint32_t>(prefix.low_bits()), length);
  }
  return IpPrefix::V6(prefix.high_bits(), prefix.low_bits(), length);
}

// The entries refused and skipped actions were to add: what the site does
// not block although the plan meant it to, and so what no later action may
// unblock (plan_runner.h, "Skipping").
class UnwrittenEntries {
 public:
  struct Dropped {
    std::string entry;  // as the dropping action lists it
    int holder;         // the index of the action that was to hold it
  };

  // Notes what action `index` was to add.
  void Add(const Action& action, int index) {
    for (const std::string& entry : action.add()) {
      // Admission parsed every added entry; one that does not read could
      // not overlap anything.
      if (std::optional<IpPrefix> prefix = ReadEntry(entry)) {
        held_.emplace_back(*prefix, index);
      }
    }
    std::sort(held_.begin(), held_.end());
    if (first_ < 0) first_ = index;
  }

  // The first entry `action` removes that overlaps an unwritten one.
  std::optional<Dropped> FirstDropped(const Action& action) const {
    if (first_ < 0) return std::nullopt;
    for (const std::string& entry : action.remove()) {
      std::optional<IpPrefix> prefix = ReadEntry(entry);
      if (!prefix.has_value()) return Dropped{entry, first_};
      if (int holder = Holder(*prefix); holder >= 0) {
        return Dropped{entry, holder};
      }
    }
    return std::nullopt;
  }

 private:
  // The action that was to hold an entry overlapping `prefix`, or -1.
  int Holder(const IpPrefix& prefix) const {
    // An unwritten entry containing `prefix` (or equal to it) is one of its
    // truncations.
    for (int length = 0; length <= prefix.length(); ++length) {
      const IpPrefix outer = Truncated(prefix, length);
      auto it = std::lower_bound(held_.begin(), held_.end(),
                                 std::make_pair(outer, -1));
      if (it != held_.end() && it->first == outer) return it->second;
    }
    // One inside `prefix` sorts right after it (same start address, a longer
    // length, or a later address within it).
    auto it = std::lower_bound(held_.begin(), held_.end(),
                               std::make_pair(prefix, -1));
    if (it != held_.end() && prefix.Contains(it->first)) return it->second;
    return -1;
  }

  std::vector<std::pair<IpPrefix, int>> held_;  // sorted
  int first_ = -1;  // the first action noted, -1 while none
};

// What the run did besides the counts in ApplyReport.
struct Refusals {
  // The actions, as DescribeAction() names them.
  std::vector<std::string> refused;
  std::vector<std::string> skipped;
  // ApplyReport.ipv6_refused lines of each kind, in plan order.
  std::vector<std::string> refused_lines;
  std::vector<std::string> skipped_lines;
  std::string first_answer;

  bool any() const { return !refused.empty(); }

  // Puts the lines into `report`: refused writes first, then skipped
  // actions.
  void Report(ApplyReport& report) const {
    report.clear_ipv6_refused();
    for (const auto* lines : {&refused_lines, &skipped_lines}) {
      for (const std::string& line : *lines) report.add_ipv6_refused(line);
    }
  }
};

// "N IPv6 writes", "1 action".
std::string Counted(size_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

// "1 created, 0 updated, 0 deleted", then the refused and skipped actions
// when there are any.
std::string DescribeDone(const ApplyReport& report, const Refusals& r) {
  std::string done =
      absl::StrCat(report.created(), " created, ", report.updated(),
                   " updated, ", report.deleted(), " deleted");
  if (r.any()) {
    absl::StrAppend(&done, ", ",
                    Counted(r.refused.size(), "IPv6 write", "IPv6 writes"),
                    " refused");
  }
  if (!r.skipped.empty()) {
    absl::StrAppend(&done, ", ", Counted(r.skipped.size(), "action", "actions"),
                    " skipped");
  }
  return done;
}

// The kFailedPrecondition of a run whose IPv6 writes were refused.
absl::Status RefusalError(const Plan& plan, const ApplyReport& report,
                          const Refusals& r) {
  std::vector<std::string> named(
      r.refused.begin(),
      r.refused.begin() + std::min<size_t>(r.refused.size(), kRefusalsNamed));
  if (r.refused.size() > named.size()) {
    named.push_back(absl::StrCat("and ", r.refused.size() - named.size(),
                                 " more (listed in the apply report)"));
  }
  std::string message =
      absl::StrCat("the console refused the IPv6 values of ",
                   Counted(r.refused.size(), "write", "writes"), ": ",
                   absl::StrJoin(named, "; "));
  if (!r.skipped.empty()) {
    absl::StrAppend(&message, "; ",
                    Counted(r.skipped.size(), "action", "actions"),
                    " skipped so as not to unblock what the refused writes "
                    "were to hold: ",
                    absl::StrJoin(r.skipped, "; "));
  }
  absl::StrAppend(
      &message, "; every other action ran (done: ", DescribeDone(report, r),
      "); the console answered: ", r.first_answer,
      "; if this console does not take IPv6 values, set `ipv6: off` for "
      "sync \"",
      plan.sync_name(), "\" and apply again");
  return absl::FailedPreconditionError(message);
}

// Writes one action; returns the id of the rule written (a CREATE's new
// rule).
absl::StatusOr<std::string> Write(const Plan& plan, const Action& action,
                                  const tqs1::v1::Rule& write,
                                  sentinelone::FirewallRules& site) {
  const sentinelone::Scope scope =
      sentinelone::Scope::Of(plan.scope(), plan.site_id());
  switch (action.kind()) {
    case tqs1::v1::ACTION_KIND_CREATE: {
      absl::StatusOr<tqs1::v1::Rule> created = site.CreateRule(scope, write);
      if (!created.ok()) return created.status();
      return created->id();
    }
    case tqs1::v1::ACTION_KIND_UPDATE: {
      absl::StatusOr<tqs1::v1::Rule> updated = site.UpdateRule(scope, write);
      if (!updated.ok()) return updated.status();
      return action.rule_id();
    }
    default: {  // DELETE; admission refused any other kind.
      absl::Status deleted = site.DeleteRule(scope, action.rule_id());
      if (!deleted.ok()) return deleted;
      return action.rule_id();
    }
  }
}

void Count(const Action& action, ApplyReport& report) {
  switch (action.kind()) {
    case tqs1::v1::ACTION_KIND_CREATE:
      report.set_created(report.created() + 1);
      break;
    case tqs1::v1::ACTION_KIND_UPDATE:
      report.set_updated(report.updated() + 1);
      break;
    default:
      report.set_deleted(report.deleted() + 1);
      break;
  }
  report.set_addresses_blocked(report.addresses_blocked() + action.add_size());
  report.set_addresses_unblocked(report.addresses_unblocked() +
                                 action.remove_size());
}

}  // namespace

bool IsIpv6Refusal(const Action& action, const absl::Status& status) {
  return (action.kind() == tqs1::v1::ACTION_KIND_CREATE ||
          action.kind() == tqs1::v1::ACTION_KIND_UPDATE) &&
         action.family() == tqs1::v1::ADDRESS_FAMILY_IPV6 &&
         status.code() == absl::StatusCode::kInvalidArgument;
}

RunOutcome RunAdmittedPlan(const reconciler::AdmittedPlan& admitted,
                           sentinelone::FirewallRules& site,
                           const ApplyOptions& options, absl::Time started) {
  tqs1::Clock& clock =
      options.clock != nullptr ? *options.clock : tqs1::RealClock();
  const Plan& plan = admitted.plan;
  RunOutcome run;
  ApplyReport& report = run.report;
  report.set_sync_name(plan.sync_name());
  Refusals refusals;
  auto finish = [&]() {
    report.set_duration_ms(static_cast<uint64_t>(
        absl::ToInt64Milliseconds(clock.Now() - started)));
    refusals.Report(report);
  };
  UnwrittenEntries unwritten;
  // Ends the run early with `status`, worded as `message`.
  auto stop = [&](const absl::Status& status, absl::string_view message) {
    finish();
    run.status = WithMessage(status, message);
    return std::move(run);
  };

  const int total = plan.actions_size();
  LogTo(options.logger, LogLevel::kInfo,
        absl::StrCat("applying plan for sync \"", plan.sync_name(), "\": ",
                     total, " actions on site \"", plan.site_name(), "\""));
  for (int i = 0; i < total; ++i) {
    const Action& action = plan.actions(i);
    const std::string what = reconciler::DescribeAction(i, total, action);
    if (std::optional<UnwrittenEntries::Dropped> dropped =
            unwritten.FirstDropped(action)) {
      std::string line =
          absl::StrCat(what, " skipped: it would unblock ", dropped->entry,
                       ", which action ", dropped->holder + 1, " was to hold");
      LogTo(options.logger, LogLevel::kDebug, line);
      refusals.skipped_lines.push_back(std::move(line));
      refusals.skipped.push_back(what);
      unwritten.Add(action, i);
      continue;
    }
    if (options.should_stop && options.should_stop()) {
      const std::string message =
          absl::StrCat("apply cancelled before ", what,
                       "; done: ", DescribeDone(report, refusals),
                       "; re-plan and apply again to finish");
      return stop(absl::CancelledError(message), message);
    }
    if (options.on_action) options.on_action(i, total, action);
    LogTo(options.logger, LogLevel::kDebug,
          absl::StrCat(what, ": +", action.add_size(), " -",
                       action.remove_size()));

    absl::StatusOr<std::string> written =
        Write(plan, action, admitted.writes[i], site);
    if (written.ok()) {
      Count(action, report);
      if (!options.after_write) continue;
      absl::Status recorded = options.after_write(i, action, *written);
      if (recorded.ok()) continue;
      return stop(recorded,
                  absl::StrCat(what, " was written, then: ", recorded.message(),
                               "; done: ", DescribeDone(report, refusals),
                               "; the apply stopped before its next write"));
    }
    const absl::Status& status = written.status();
    if (IsIpv6Refusal(action, status)) {
      std::string line =
          absl::StrCat(what, " refused by the console: ", status.message());
      LogTo(options.logger, LogLevel::kDebug, line);
      refusals.refused_lines.push_back(std::move(line));
      if (refusals.first_answer.empty()) {
        refusals.first_answer = std::string(status.message());
      }
      refusals.refused.push_back(what);
      unwritten.Add(action, i);
      continue;
    }
    return stop(status, absl::StrCat(what, " failed: ", status.message(),
                                     "; done before it: ",
                                     DescribeDone(report, refusals),
                                     "; re-plan and apply again to converge"));
  }
  finish();
  LogTo(options.logger, LogLevel::kInfo,
        absl::StrCat("applied plan for sync \"", plan.sync_name(),
                     "\": ", DescribeDone(report, refusals), "; ",
                     reconciler::FormatCount(report.addresses_blocked()),
                     " address entries added, ",
                     reconciler::FormatCount(report.addresses_unblocked()),
                     " removed, in ", report.duration_ms(), " ms"));
  if (refusals.any()) run.status = RefusalError(plan, report, refusals);
  return run;
}

}  // namespace tqs1::sync

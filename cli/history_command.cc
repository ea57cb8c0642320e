// `tqs1 history`: the applies the ledger recorded.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/app.h"
#include "cli/ledger_output.h"
#include "nlohmann/json.hpp"
#include "providers/ledger/ledger.h"
#include "reconciler/address.h"
#include "reconciler/format.h"
#include "sync/apply_journal.h"

namespace tqs1::cli {
namespace {

using ::nlohmann::ordered_json;
using ::tqs1::ledger::ApplyRecord;

// One line of the list.
std::string ApplyLine(const ApplyRecord& a) {
  std::string line = absl::StrFormat(
      "%5d  %s  %-20s  %-13s  %3u created %3u updated %3u deleted  %s "
      "blocked, %s unblocked",
      a.id, LedgerTime(a.started), absl::StrCat("\"", a.sync, "\""), a.outcome,
      a.created, a.updated, a.deleted, reconciler::FormatCount(a.blocked),
      reconciler::FormatCount(a.unblocked));
  if (a.restore_of != 0) {
    absl::StrAppend(&line, "  (restore of apply ", a.restore_of, ")");
  }
  return line;
}

int ListApplies(ledger::Ledger& ledger, const HistoryCommand& command,
                const Io& io) {
  ledger::ApplyFilter filter;
  filter.since = command.since;
  if (command.syncs.size() > 1) {
    *io.err << "Error: history takes one --sync at most\n";
    return kExitError;
  }
  if (!command.syncs.empty()) filter.sync = command.syncs[0];
  absl::StatusOr<std::vector<ApplyRecord>> applies = ledger.ListApplies(filter);
  if (!applies.ok()) {
    *io.err << "Error: " << applies.status().message() << "\n";
    return kExitError;
  }
  if (command.json) {
    ordered_json out = {{"format", "tqs1.history.v1"},
                        {"applies", ordered_json::array()}};
    for (const ApplyRecord& a : *applies) {
      out["applies"].push_back(ApplyJson(a));
    }
    *io.out << out.dump(2, ' ', false, ordered_json::error_handler_t::replace)
            << "\n";
    return kExitOk;
  }
  if (applies->empty()) {
    *io.out << "No applies recorded"
            << (filter.sync.empty()
                    ? ""
                    : absl::StrCat(" for sync \"", filter.sync, "\""))
            << (command.since == absl::InfinitePast() ? "" : " in that time")
            << ".\n";
    return kExitOk;
  }
  *io.out << absl::StrFormat("%5s  %-20s  %-20s  %-13s  %-39s  %s\n", "ID",
                             "STARTED (UTC)", "SYNC", "OUTCOME", "WRITES",
                             "ADDRESS ENTRIES");
  for (const ApplyRecord& a : *applies) *io.out << ApplyLine(a) << "\n";
  return kExitOk;
}

int ShowApply(ledger::Ledger& ledger, const std::string& id_text,
              const HistoryCommand& command, const Io& io) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(id_text, &id) || id <= 0) {
    *io.err << "Error: history show: \"" << id_text
            << "\" is not an apply id (a number from `tqs1 history`)\n";
    return kExitError;
  }
  absl::StatusOr<ApplyRecord> apply = ledger.GetApply(id);
  absl::StatusOr<std::vector<ledger::WriteRecord>> writes =
      apply.ok() ? ledger.WritesOf(id) : apply.status();
  if (!writes.ok()) {
    *io.err << "Error: " << writes.status().message() << "\n";
    return kExitError;
  }
  if (command.json) {
    ordered_json out = {{"format", "tqs1.history-apply.v1"},
                        {"apply", ApplyJson(*apply)},
                        {"writes", ordered_json::array()}};
    for (const ledger::WriteRecord& w : *writes) {
      out["writes"].push_back(WriteJson(w));
    }
    *io.out << out.dump(2, ' ', false, ordered_json::error_handler_t::replace)
            << "\n";
    return kExitOk;
  }
  const ApplyRecord& a = *apply;
  *io.out << "Apply " << a.id << " of sync \"" << a.sync << "\": " << a.outcome
          << "\n"
          << "  started   " << LedgerTime(a.started) << ", finished "
          << LedgerTime(a.finished) << " (" << a.duration_ms << " ms)\n"
          << "  by        " << a.user << " on " << a.host << ", tqs1 "
          << a.version << ", run " << a.run_id << "\n"
          << "  site      \"" << a.site_name << "\" (id " << a.site_id
          << "), fingerprint " << a.fingerprint << "\n"
          << "  collection \"" << a.collection << "\"\n"
          << "  writes    " << a.created << " created, " << a.updated
          << " updated, " << a.deleted << " deleted; "
          << reconciler::FormatCount(a.blocked) << " address entries blocked, "
          << reconciler::FormatCount(a.unblocked) << " unblocked\n";
  if (a.restore_of != 0) {
    *io.out << "  restore   of the address set after apply " << a.restore_of
            << "\n";
  }
  if (!a.error.empty()) *io.out << "  error     " << a.error << "\n";
  for (const ledger::WriteRecord& w : *writes) {
    *io.out << "  " << WriteLine(w) << "\n";
  }
  return kExitOk;
}

// The timeline of the entries overlapping `address`.
int AddressTimeline(ledger::Ledger& ledger, const HistoryCommand& command,
                    const Io& io) {
  absl::StatusOr<reconciler::IpPrefix> query =
      reconciler::ParseIpPrefix(command.address);
  if (!query.ok()) {
    *io.err << "Error: --address \"" << command.address
            << "\": " << query.status().message() << "\n";
    return kExitError;
  }
  const std::string sync = command.syncs.empty() ? "" : command.syncs[0];
  absl::StatusOr<std::vector<ledger::EntryHit>> hits =
      ledger.FindEntries(sync::EntryKeyOf(*query), sync);
  if (!hits.ok()) {
    *io.err << "Error: " << hits.status().message() << "\n";
    return kExitError;
  }
  ordered_json events = ordered_json::array();
  std::vector<std::string> lines;
  std::map<int64_t, ApplyRecord> applies;  // each read once
  for (const ledger::EntryHit& hit : *hits) {
    absl::StatusOr<reconciler::IpPrefix> entry =
        reconciler::ParseIpPrefix(hit.entry.text);
    if (!entry.ok() || !entry->Overlaps(*query)) continue;
    auto known = applies.find(hit.apply_id);
    if (known == applies.end()) {
      absl::StatusOr<ApplyRecord> apply = ledger.GetApply(hit.apply_id);
      if (!apply.ok()) {
        *io.err << "Error: " << apply.status().message() << "\n";
        return kExitError;
      }
      known = applies.emplace(hit.apply_id, *std::move(apply)).first;
    }
    const ApplyRecord& apply = known->second;
    if (apply.started < command.since) continue;
    events.push_back(HitJson(apply, hit));
    lines.push_back(HitLine(apply, hit));
  }
  if (command.json) {
    ordered_json out = {{"format", "tqs1.history-address.v1"},
                        {"address", query->ToString()},
                        {"events", std::move(events)}};
    *io.out << out.dump(2, ' ', false, ordered_json::error_handler_t::replace)
            << "\n";
    return kExitOk;
  }
  if (lines.empty()) {
    *io.out << "The ledger records no write of " << query->ToString()
            << (sync.empty() ? "" : absl::StrCat(" by sync \"", sync, "\""))
            << ".\n";
    return kExitOk;
  }
  for (const std::string& line : lines) *io.out << line << "\n";
  return kExitOk;
}

}  // namespace

int RunHistory(ledger::Ledger& ledger, const HistoryCommand& command,
               const Io& io) {
  if (!command.positional.empty()) {
    if (command.positional[0] != "show" || command.positional.size() != 2) {
      *io.err << "Error: history takes `show APPLY_ID` or no argument, not \""
              << absl::StrJoin(command.positional, " ") << "\"\n";
      return kExitError;
    }
    return ShowApply(ledger, command.positional[1], command, io);
  }
  if (!command.address.empty()) return AddressTimeline(ledger, command, io);
  return ListApplies(ledger, command, io);
}

}  // namespace tqs1::cli

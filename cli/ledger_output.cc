#include "cli/ledger_output.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reconciler/format.h"

namespace tqs1::cli {

using ::nlohmann::ordered_json;

std::string LedgerTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string SourceText(const ledger::Source& s) {
  std::string text = "indicator";
  if (s.indicator_id != 0) absl::StrAppend(&text, " ", s.indicator_id);
  absl::StrAppend(&text, " \"", s.value, "\"");
  std::vector<std::string> kind;
  if (!s.type.empty()) kind.push_back(s.type);
  if (!s.status.empty()) kind.push_back(s.status);
  if (!kind.empty())
    absl::StrAppend(&text, " (", absl::StrJoin(kind, ", "), ")");
  return text;
}

std::string SourcesText(const std::vector<ledger::Source>& sources) {
  std::vector<std::string> parts;
  for (const ledger::Source& s : sources) parts.push_back(SourceText(s));
  return absl::StrJoin(parts, "; ");
}

namespace {

// The first few entries, for a write line.
std::string FirstEntries(const std::vector<ledger::WrittenEntry>& entries) {
  constexpr size_t kShown = 5;
  std::vector<std::string> shown;
  for (size_t i = 0; i < entries.size() && i < kShown; ++i) {
    shown.push_back(entries[i].text);
  }
  std::string text = absl::StrJoin(shown, ", ");
  if (entries.size() > kShown) {
    absl::StrAppend(&text, ", ... (",
                    reconciler::FormatCount(entries.size() - kShown), " more)");
  }
  return text;
}

}  // namespace

std::string WriteLine(const ledger::WriteRecord& w) {
  std::string line = absl::StrCat(ledger::WriteKindName(w.kind), " rule \"",
                                  w.rule_name, "\" (id ", w.rule_id, "): +",
                                  reconciler::FormatCount(w.added.size()), " -",
                                  reconciler::FormatCount(w.removed.size()));
  if (w.kind == ledger::WriteKind::kObserved) {
    absl::StrAppend(&line, " (found on the site, not written by tqs1)");
  }
  if (!w.added.empty())
    absl::StrAppend(&line, "\n      + ", FirstEntries(w.added));
  if (!w.removed.empty()) {
    absl::StrAppend(&line, "\n      - ", FirstEntries(w.removed));
  }
  return line;
}

std::string HitLine(const ledger::ApplyRecord& apply,
                    const ledger::EntryHit& hit) {
  std::string line = absl::StrCat(
      LedgerTime(apply.started), "  apply ", apply.id, " (sync \"", apply.sync,
      "\", ", apply.outcome, ")  ", hit.added ? "blocked " : "unblocked ",
      hit.entry.text, hit.added ? " in" : " from", " rule \"", hit.rule_name,
      "\" (id ", hit.rule_id, ")");
  if (hit.kind == ledger::WriteKind::kObserved) {
    absl::StrAppend(&line, ", found on the site");
  } else if (hit.kind == ledger::WriteKind::kBaseline) {
    absl::StrAppend(&line, ", held when older history was pruned");
  }
  if (!hit.entry.sources.empty()) {
    absl::StrAppend(&line, ", from ", SourcesText(hit.entry.sources));
  }
  return line;
}

ordered_json SourceJson(const ledger::Source& s) {
  return {{"indicator_id", s.indicator_id},
          {"value", s.value},
          {"type", s.type},
          {"status", s.status}};
}

ordered_json ApplyJson(const ledger::ApplyRecord& a) {
  return {{"id", a.id},
          {"started", LedgerTime(a.started)},
          {"finished", LedgerTime(a.finished)},
          {"sync", a.sync},
          {"collection", a.collection},
          {"site", a.site_name},
          {"site_id", a.site_id},
          {"outcome", a.outcome},
          {"created", a.created},
          {"updated", a.updated},
          {"deleted", a.deleted},
          {"addresses_blocked", a.blocked},
          {"addresses_unblocked", a.unblocked},
          {"duration_ms", a.duration_ms},
          {"restore_of", a.restore_of},
          {"error", a.error},
          {"host", a.host},
          {"user", a.user},
          {"tqs1_version", a.version},
          {"run_id", a.run_id},
          {"observed_fingerprint", a.fingerprint}};
}

ordered_json WriteJson(const ledger::WriteRecord& w) {
  ordered_json added = ordered_json::array();
  ordered_json sources = ordered_json::array();
  for (const ledger::WrittenEntry& e : w.added) {
    added.push_back(e.text);
    for (const ledger::Source& s : e.sources) {
      ordered_json j = SourceJson(s);
      j["entry"] = e.text;
      sources.push_back(std::move(j));
    }
  }
  ordered_json removed = ordered_json::array();
  for (const ledger::WrittenEntry& e : w.removed) removed.push_back(e.text);
  return {{"kind", std::string(ledger::WriteKindName(w.kind))},
          {"action", w.action},
          {"rule_id", w.rule_id},
          {"rule_name", w.rule_name},
          {"added", std::move(added)},
          {"removed", std::move(removed)},
          {"sources", std::move(sources)}};
}

ordered_json HitJson(const ledger::ApplyRecord& apply,
                     const ledger::EntryHit& hit) {
  ordered_json sources = ordered_json::array();
  for (const ledger::Source& s : hit.entry.sources) {
    sources.push_back(SourceJson(s));
  }
  return {{"apply_id", apply.id},
          {"time", LedgerTime(apply.started)},
          {"sync", apply.sync},
          {"outcome", apply.outcome},
          {"write", std::string(ledger::WriteKindName(hit.kind))},
          {"change", hit.added ? "blocked" : "unblocked"},
          {"entry", hit.entry.text},
          {"rule_id", hit.rule_id},
          {"rule_name", hit.rule_name},
          {"sources", std::move(sources)}};
}

}  // namespace tqs1::cli

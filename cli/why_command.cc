// `tqs1 why ADDRESS|CIDR`.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/app.h"
#include "cli/command_output.h"
#include "cli/ledger_output.h"
#include "nlohmann/json.hpp"
#include "reconciler/address.h"
#include "reconciler/planner.h"
#include "sync/shared_reads.h"
#include "sync/why.h"

namespace tqs1::cli {
namespace {

using ::nlohmann::ordered_json;
using ::tqs1::sync::WhyEntry;
using ::tqs1::sync::WhyFacts;
using ::tqs1::sync::WhyRule;

std::string ScopeName(tqs1::v1::RuleScope scope) {
  switch (scope) {
    case tqs1::v1::RULE_SCOPE_SITE:
      return "site";
    case tqs1::v1::RULE_SCOPE_ACCOUNT:
      return "account";
    case tqs1::v1::RULE_SCOPE_GLOBAL:
      return "global";
    case tqs1::v1::RULE_SCOPE_GROUP:
      return "group";
    default:
      return "unknown-scope";
  }
}

// What the sync keeps: "site \"HQ\"", "group \"Lab\"", "account \"Acme\"",
// "the global scope".
std::string TargetText(const WhyFacts& facts) {
  switch (facts.scope) {
    case tqs1::v1::RULE_SCOPE_GLOBAL:
      return "the global scope";
    case tqs1::v1::RULE_SCOPE_GROUP:
    case tqs1::v1::RULE_SCOPE_ACCOUNT:
      return absl::StrCat(ScopeName(facts.scope), " \"", facts.site_name, "\"");
    default:
      return absl::StrCat("site \"", facts.site_name, "\"");
  }
}

std::string RuleText(const WhyRule& r) {
  const bool own = r.tqs1 && !r.inherited;
  return absl::StrCat(own ? "" : absl::StrCat(ScopeName(r.scope), " "),
                      r.block ? "" : "allow ", "rule \"", r.name, "\" (id ",
                      r.rule_id,
                      !r.tqs1       ? ", not this sync's"
                      : r.inherited ? ", this sync's, inherited"
                                    : "",
                      r.enabled ? "" : ", disabled", ")");
}

bool Enforced(const WhyRule& r) { return r.enabled && r.block; }

// The verdict of one entry, then the facts behind it, one line each.
std::vector<std::string> EntryLines(const WhyFacts& facts, const WhyEntry& e) {
  std::vector<std::string> lines;
  const sync::WhyHistory& h = e.history;
  auto since = [&]() {
    return h.since_apply == 0 ? std::string()
                              : absl::StrCat(", since apply ", h.since_apply,
                                             " (", LedgerTime(h.since), ")");
  };
  if (!facts.live) {
    if (h.held) {
      std::vector<std::string> rules;
      for (const auto& [id, name] : h.rules) {
        rules.push_back(absl::StrCat("\"", name, "\" (id ", id, ")"));
      }
      lines.push_back(absl::StrCat(e.entry,
                                   ": blocked, as the ledger knows, "
                                   "by rule ",
                                   absl::StrJoin(rules, ", "), since()));
      if (!h.sources.empty()) {
        lines.push_back(absl::StrCat("  from ", SourcesText(h.sources)));
      }
    } else {
      lines.push_back(absl::StrCat(
          e.entry, ": not blocked, as the ledger knows: unblocked by apply ",
          h.unblocked_by, " (", LedgerTime(h.unblocked_at), ")"));
    }
    return lines;
  }

  std::vector<const WhyRule*> blocking;
  std::vector<const WhyRule*> other;
  for (const WhyRule& r : e.rules) {
    (Enforced(r) && r.tqs1 ? blocking : other).push_back(&r);
  }
  const bool covered = std::any_of(e.rules.begin(), e.rules.end(), Enforced);
  if (!blocking.empty()) {
    std::vector<std::string> rules;
    for (const WhyRule* r : blocking) rules.push_back(RuleText(*r));
    lines.push_back(absl::StrCat(e.entry, ": blocked by ",
                                 absl::StrJoin(rules, " and "), " of ",
                                 TargetText(facts), since()));
  } else if (covered) {
    lines.push_back(absl::StrCat(e.entry, ": blocked, but not by this sync"));
  } else if (!e.rules.empty()) {
    lines.push_back(absl::StrCat(
        e.entry, ": not blocked: only in rules that are not enforced"));
  } else if (e.pending_block) {
    lines.push_back(absl::StrCat(e.entry, ": not blocked yet"));
  } else {
    lines.push_back(absl::StrCat(e.entry, ": not blocked"));
  }
  for (const WhyRule* r : other) {
    lines.push_back(
        absl::StrCat("  ", Enforced(*r) ? "also covered by " : "also in ",
                     RuleText(*r), Enforced(*r) ? "" : " (not enforced)"));
  }
  if (!e.indicators.empty()) {
    lines.push_back(
        absl::StrCat("  in the collection as ", SourcesText(e.indicators)));
  } else if (!blocking.empty() || e.pending_unblock) {
    lines.push_back("  no longer in the collection");
  } else if (h.unblocked_by != 0) {
    lines.push_back(absl::StrCat(
        "  not in the collection: it left it, and apply ", h.unblocked_by, " (",
        LedgerTime(h.unblocked_at), ") unblocked it"));
  }
  if (!h.sources.empty() && e.indicators.empty()) {
    lines.push_back(
        absl::StrCat("  blocked then from ", SourcesText(h.sources)));
  }
  if (e.pending_block) {
    lines.push_back(
        "  the next apply blocks it (`tqs1 plan` shows the change)");
  }
  if (e.pending_unblock) {
    lines.push_back(
        "  the next apply unblocks it: the collection no longer holds it");
  }
  return lines;
}

std::vector<std::string> FactLines(const WhyFacts& facts,
                                   const std::string& query) {
  std::vector<std::string> lines;
  for (const WhyEntry& e : facts.entries) {
    for (std::string& line : EntryLines(facts, e)) {
      lines.push_back(std::move(line));
    }
  }
  for (const tqs1::v1::RejectedValue& r : facts.rejected) {
    lines.push_back(
        absl::StrCat("the collection's value \"", r.value(), "\"",
                     r.indicator_id() != 0
                         ? absl::StrCat(" (indicator ", r.indicator_id(), ")")
                         : "",
                     r.value() == query ? "" : ", which overlaps it,",
                     " is not blocked: ", r.reason()));
  }
  for (const auto& s : facts.set_aside) {
    lines.push_back(absl::StrCat(
        "indicator ", s.indicator_id, " \"", s.value, "\" (", s.type, ", ",
        s.status, ") is set aside: ",
        s.type == "IP Address" || s.type == "IPv6 Address" ||
                s.type == "CIDR Block"
            ? absl::StrCat("its status \"", s.status,
                           "\" is not one this sync blocks")
            : absl::StrCat("its type \"", s.type, "\" is not an IP type")));
  }
  for (const tqs1::v1::NeverBlock& n : facts.never_block) {
    lines.push_back(absl::StrCat("never blocked: ", n.prefix(),
                                 " is on the never-block list (", n.reason(),
                                 ")"));
  }
  if (lines.empty()) {
    lines.push_back(absl::StrCat(
        query, ": not blocked: ",
        facts.live ? "not in the collection, and no rule of the site holds it"
                   : "the ledger records no write of it"));
  }
  return lines;
}

ordered_json FactsJson(const WhyFacts& facts) {
  ordered_json entries = ordered_json::array();
  for (const WhyEntry& e : facts.entries) {
    ordered_json rules = ordered_json::array();
    for (const WhyRule& r : e.rules) {
      rules.push_back({{"rule_id", r.rule_id},
                       {"name", r.name},
                       {"entry", r.entry},
                       {"scope", ScopeName(r.scope)},
                       {"enabled", r.enabled},
                       {"block", r.block},
                       {"this_sync", r.tqs1}});
    }
    ordered_json indicators = ordered_json::array();
    for (const ledger::Source& s : e.indicators) {
      indicators.push_back(SourceJson(s));
    }
    const sync::WhyHistory& h = e.history;
    ordered_json history = {{"held", h.held}};
    if (h.since_apply != 0) {
      history["since_apply"] = h.since_apply;
      history["since"] = LedgerTime(h.since);
    }
    if (h.unblocked_by != 0) {
      history["unblocked_by"] = h.unblocked_by;
      history["unblocked_at"] = LedgerTime(h.unblocked_at);
    }
    ordered_json sources = ordered_json::array();
    for (const ledger::Source& s : h.sources) sources.push_back(SourceJson(s));
    history["sources"] = std::move(sources);
    ordered_json held_by = ordered_json::array();
    for (const auto& [id, name] : h.rules) {
      held_by.push_back({{"rule_id", id}, {"name", name}});
    }
    history["rules"] = std::move(held_by);
    const bool enforced_by_sync =
        std::any_of(e.rules.begin(), e.rules.end(),
                    [](const WhyRule& r) { return Enforced(r) && r.tqs1; });
    entries.push_back(
        {{"entry", e.entry},
         {"blocked", facts.live
                         ? std::any_of(e.rules.begin(), e.rules.end(), Enforced)
                         : h.held},
         {"blocked_by_this_sync", facts.live ? enforced_by_sync : h.held},
         {"wanted", e.wanted},
         {"pending_block", e.pending_block},
         {"pending_unblock", e.pending_unblock},
         {"rules", std::move(rules)},
         {"indicators", std::move(indicators)},
         {"ledger", std::move(history)}});
  }
  ordered_json rejected = ordered_json::array();
  for (const tqs1::v1::RejectedValue& r : facts.rejected) {
    rejected.push_back({{"value", r.value()},
                        {"reason", r.reason()},
                        {"indicator_id", r.indicator_id()}});
  }
  ordered_json set_aside = ordered_json::array();
  for (const auto& s : facts.set_aside) {
    set_aside.push_back({{"indicator_id", s.indicator_id},
                         {"value", s.value},
                         {"type", s.type},
                         {"status", s.status}});
  }
  ordered_json never = ordered_json::array();
  for (const tqs1::v1::NeverBlock& n : facts.never_block) {
    never.push_back({{"prefix", n.prefix()}, {"reason", n.reason()}});
  }
  return {{"sync", facts.sync},
          {"collection", facts.collection},
          {"site", facts.site_name},
          {"scope", facts.scope == tqs1::v1::RULE_SCOPE_UNSPECIFIED
                        ? std::string("site")
                        : ScopeName(facts.scope)},
          {"site_id", facts.site_id},
          {"live", facts.live},
          {"ledger_read", facts.ledger_read},
          {"entries", std::move(entries)},
          {"rejected", std::move(rejected)},
          {"set_aside", std::move(set_aside)},
          {"never_block", std::move(never)}};
}

}  // namespace

int RunWhy(const tqs1::v1::Config& config, Backends* backends,
           ledger::Ledger* ledger, const WhyCommand& command, const Io& io,
           log::Logger* logger) {
  if (command.positional.size() != 1) {
    *io.err << "Error: why takes one address or CIDR prefix, e.g. `tqs1 why "
               "203.0.113.7`\n";
    return kExitError;
  }
  const std::string& text = command.positional[0];
  absl::StatusOr<reconciler::IpPrefix> query = reconciler::ParseIpPrefix(text);
  if (!query.ok()) {
    *io.err << "Error: why: \"" << text
            << "\" is not an address or prefix: " << query.status().message()
            << "\n";
    return kExitError;
  }
  absl::StatusOr<std::vector<const tqs1::v1::SyncConfig*>> syncs =
      SelectSyncs(config, command.syncs);
  if (!syncs.ok()) {
    *io.err << "Error: " << syncs.status().message() << "\n";
    return kExitError;
  }
  if (backends == nullptr) {
    // Offline, an entry of every site of an account has no sites yet.
    std::vector<const tqs1::v1::SyncConfig*> listed;
    for (const tqs1::v1::SyncConfig* sync : *syncs) {
      if (!sync->has_all_sites()) {
        listed.push_back(sync);
        continue;
      }
      *io.err << "Note: sync entry \"" << sync->fleet()
              << "\" takes its sites from the console: run tqs1 why without "
                 "--offline for them\n";
    }
    *syncs = std::move(listed);
  }
  if (backends == nullptr && ledger == nullptr) {
    *io.err << "Error: why --offline: no ledger yet (no apply has been "
               "recorded in this state folder)\n";
    return kExitError;
  }
  const std::vector<tqs1::v1::NeverBlock> never_block =
      backends != nullptr ? backends->never_block : ConfigNeverBlock(config);
  int exit_code = kExitOk;
  ordered_json answers = ordered_json::array();
  // Live: one read per collection, as plan and apply read.
  std::optional<sync::SharedReads> reads;
  if (backends != nullptr) reads.emplace(backends->SourceOf(), *syncs);
  for (const tqs1::v1::SyncConfig* sync : *syncs) {
    absl::StatusOr<WhyFacts> facts =
        backends != nullptr
            ? sync::ExplainLive(*query, *sync, never_block, reads->For(*sync),
                                backends->RulesFor(*sync), command.options,
                                backends->ipv6_auto, ledger)
            : sync::ExplainOffline(*query, sync::SyncPolicy(*sync, never_block),
                                   *ledger);
    if (!facts.ok()) {
      PrintError(io, reconciler::SyncDisplayName(*sync), facts.status());
      log::LogTo(logger, log::LogLevel::kError,
                 absl::StrCat("why ", text, ": ", facts.status().message()));
      exit_code = kExitError;
      continue;
    }
    if (command.json) {
      answers.push_back(FactsJson(*facts));
      continue;
    }
    *io.out << "sync \"" << facts->sync << "\" (collection \""
            << facts->collection << "\", " << TargetText(*facts)
            << (facts->live ? "" : "; from the ledger only") << "):\n";
    for (const std::string& line : FactLines(*facts, query->ToString())) {
      *io.out << "  " << line << "\n";
    }
    if (facts->live && !facts->ledger_read) {
      *io.out << "  (no ledger yet: since when and by which apply is not "
                 "known)\n";
    }
  }
  if (command.json) {
    ordered_json out = {{"format", "tqs1.why.v1"},
                        {"query", query->ToString()},
                        {"syncs", std::move(answers)}};
    *io.out << out.dump(2, ' ', false, ordered_json::error_handler_t::replace)
            << "\n";
  }
  return exit_code;
}

}  // namespace tqs1::cli

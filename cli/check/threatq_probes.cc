#include "cli/check/threatq_probes.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "providers/threatq/collection_read_builder.h"

namespace tqs1::check {
namespace {

using ::tqs1::threatq::CollectionInfo;
using ::tqs1::threatq::CollectionList;
using ::tqs1::threatq::NamedId;
using ::tqs1::threatq::QueryProbe;
using ::tqs1::threatq::TokenInfo;

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", text, "\"");
}

std::vector<std::string> BlockStatuses(const v1::ThreatQConfig& config) {
  if (config.block_statuses_size() == 0) {
    return threatq::DefaultBlockStatuses();
  }
  return {config.block_statuses().begin(), config.block_statuses().end()};
}

bool ContainsIgnoreCase(const std::vector<std::string>& list,
                        absl::string_view item) {
  return std::any_of(list.begin(), list.end(), [item](const std::string& s) {
    return absl::EqualsIgnoreCase(s, item);
  });
}

const NamedId* FindNamed(const std::vector<NamedId>& items,
                         absl::string_view name) {
  for (const NamedId& item : items) {
    if (absl::EqualsIgnoreCase(item.name, name)) return &item;
  }
  return nullptr;
}

std::string CountsText(const std::map<std::string, int>& counts) {
  std::vector<std::string> parts;
  for (const auto& [name, n] : counts) {
    parts.push_back(absl::StrCat(Quoted(name), " ", n));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

bool Token(threatq::ThreatQClient& client, CheckReport& report) {
  absl::StatusOr<TokenInfo> token = client.Login();
  if (!token.ok()) {
    report.Fail("threatq.token", token.status());
    return false;
  }
  std::string text = absl::StrCat(
      "grant ", token->grant, ": token_type ",
      token->token_type.empty() ? "absent" : Quoted(token->token_type),
      ", expires_in ", token->expires_in.empty() ? "absent" : token->expires_in,
      token->expires_in_known ? "" : " (not a count of seconds)", ", taken as ",
      absl::FormatDuration(token->lifetime),
      token->refresh_token ? ", a refresh_token came" : ", no refresh_token",
      "; redirects are never followed");
  report.Add(token->expires_in_known ? Verdict::kPass : Verdict::kWarn,
             "threatq.token", text);
  return true;
}

void Types(threatq::ThreatQClient& client, CheckReport& report) {
  absl::StatusOr<std::vector<NamedId>> types = client.ListIndicatorTypes();
  if (!types.ok()) {
    report.Fail("threatq.types", types.status());
    return;
  }
  std::vector<std::string> found;
  std::vector<std::string> missing;
  for (absl::string_view name : {"IP Address", "IPv6 Address", "CIDR Block"}) {
    if (const NamedId* type = FindNamed(*types, name)) {
      found.push_back(absl::StrCat(Quoted(type->name), " (id ", type->id, ")"));
    } else {
      missing.push_back(Quoted(name));
    }
  }
  std::string text = absl::StrCat(types->size(), " indicator types; ",
                                  absl::StrJoin(found, ", "));
  if (missing.empty()) {
    report.Pass("threatq.types", text);
    return;
  }
  absl::StrAppend(&text, found.empty() ? "" : "; ",
                  "missing: ", absl::StrJoin(missing, ", "),
                  " (indicators of other types are skipped)");
  report.Add(FindNamed(*types, "IP Address") == nullptr ? Verdict::kFail
                                                        : Verdict::kWarn,
             "threatq.types", text);
}

void Statuses(threatq::ThreatQClient& client,
              const std::vector<std::string>& block, CheckReport& report) {
  absl::StatusOr<std::vector<NamedId>> statuses =
      client.ListIndicatorStatuses();
  if (!statuses.ok()) {
    report.Fail("threatq.statuses", statuses.status());
    return;
  }
  std::vector<std::string> names;
  for (const NamedId& s : *statuses) names.push_back(s.name);
  std::vector<std::string> absent;
  for (const std::string& b : block) {
    if (FindNamed(*statuses, b) == nullptr) absent.push_back(Quoted(b));
  }
  std::string text =
      absl::StrCat(statuses->size(), " statuses (", absl::StrJoin(names, ", "),
                   "); block_statuses [", absl::StrJoin(block, ", "), "]");
  if (absent.empty()) {
    report.Pass("threatq.statuses", text);
  } else {
    report.Warn("threatq.statuses",
                absl::StrCat(text, ": the instance has no status ",
                             absl::StrJoin(absent, ", ")));
  }
}

// Names that contain `name` or that it contains, ignoring case.
std::vector<std::string> NearMatches(const CollectionList& list,
                                     absl::string_view name) {
  std::vector<std::string> near;
  const std::string lower = absl::AsciiStrToLower(name);
  for (const CollectionInfo& c : list.collections) {
    const std::string other = absl::AsciiStrToLower(c.name);
    if (absl::StrContains(other, lower) || absl::StrContains(lower, other)) {
      near.push_back(Quoted(c.name));
    }
    if (near.size() == 5) break;
  }
  return near;
}

// The collection line; whether the collection was found once.
bool Collection(const CollectionList& list, const std::string& name,
                CheckReport& report) {
  std::vector<const CollectionInfo*> matches;
  for (const CollectionInfo& c : list.collections) {
    if (c.name == name) matches.push_back(&c);
  }
  if (matches.size() == 1) {
    const CollectionInfo& c = *matches[0];
    report.Pass(
        "threatq.collection",
        absl::StrCat(Quoted(name), ": id ", c.id.empty() ? "absent" : c.id,
                     ", hash ", c.hash.empty() ? "absent" : c.hash));
    return true;
  }
  if (matches.empty()) {
    std::vector<std::string> near = NearMatches(list, name);
    report.Fail(
        "threatq.collection",
        absl::StrCat(
            "no saved search is named ", Quoted(name),
            near.empty()
                ? ""
                : absl::StrCat(" (near: ", absl::StrJoin(near, ", "), ")"),
            "; names are compared exactly"));
    return false;
  }
  std::vector<std::string> ids;
  for (const CollectionInfo* c : matches) ids.push_back(c->id);
  report.Fail("threatq.collection",
              absl::StrCat(matches.size(), " saved searches are named ",
                           Quoted(name), " (ids ", absl::StrJoin(ids, ", "),
                           "); rename all but one"));
  return false;
}

void Query(threatq::ThreatQClient& client, const v1::ThreatQConfig& config,
           const std::string& name, const std::vector<std::string>& block,
           CheckReport& report) {
  absl::StatusOr<QueryProbe> probe = client.ProbeQuery(name);
  if (!probe.ok()) {
    report.Fail("threatq.query", probe.status());
    return;
  }
  const int asked =
      config.page_size() > 0
          ? std::min<int>(static_cast<int>(config.page_size()), 1000)
          : 1000;
  std::string limit = probe->echoed_limit.has_value()
                          ? absl::StrCat("limit echoed ", *probe->echoed_limit,
                                         " (asked ", asked, ")")
                          : absl::StrCat("no limit echoed (asked ", asked, ")");
  std::string text = absl::StrCat(
      Quoted(name), ": keys [", absl::StrJoin(probe->keys, ", "), "], total ",
      probe->total, ", ", limit, ", cursor paging ",
      probe->cursor_offered ? "offered" : "not offered (offset paging)",
      "; first page ", probe->rows, " rows: ", probe->flat_rows, " flat, ",
      probe->nested_rows, " nested, ", probe->id_only_rows, " by id only");
  const bool clamped =
      probe->echoed_limit.has_value() && *probe->echoed_limit < asked;
  if (clamped) absl::StrAppend(&text, "; the server clamps the page size");
  report.Add(clamped ? Verdict::kWarn : Verdict::kPass, "threatq.query", text);

  std::vector<std::string> skipped;
  for (const auto& [status, n] : probe->by_status) {
    if (!ContainsIgnoreCase(block, status)) {
      skipped.push_back(absl::StrCat(Quoted(status), " ", n));
    }
  }
  std::string counts = absl::StrCat(
      Quoted(name), " first page by type: ", CountsText(probe->by_type),
      "; by status: ", CountsText(probe->by_status));
  if (skipped.empty()) {
    report.Pass("threatq.counts", counts);
  } else {
    report.Warn("threatq.counts",
                absl::StrCat(counts, "; not blocked (not in block_statuses): ",
                             absl::StrJoin(skipped, ", ")));
  }
}

}  // namespace

void RunThreatQProbes(threatq::ThreatQClient& client,
                      const v1::ThreatQConfig& config,
                      const std::vector<std::string>& collections,
                      CheckReport& report) {
  if (!Token(client, report)) return;
  const std::vector<std::string> block = BlockStatuses(config);
  Types(client, report);
  Statuses(client, block, report);
  absl::StatusOr<CollectionList> list = client.ListCollections();
  if (!list.ok()) {
    report.Fail("threatq.collections", list.status());
    return;
  }
  report.Pass(
      "threatq.collections",
      absl::StrCat(list->collections.size(), " saved searches",
                   list->unnamed > 0
                       ? absl::StrCat(" (", list->unnamed, " unnamed, skipped)")
                       : ""));
  std::set<std::string> done;
  for (const std::string& name : collections) {
    if (!done.insert(name).second) continue;
    if (Collection(*list, name, report)) {
      Query(client, config, name, block, report);
    }
  }
}

}  // namespace tqs1::check

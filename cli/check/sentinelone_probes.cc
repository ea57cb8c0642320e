#include "cli/check/sentinelone_probes.h"

#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "reconciler/ownership.h"

namespace tqs1::check {
namespace {

using ::nlohmann::json;
using ::tqs1::sentinelone::SiteListing;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

// The fields of a listed rule the planner relies on (audit §3, item 5).
constexpr const char* kRuleFields[] = {"scope", "scopeId", "editable", "order",
                                       "ruleCategory"};

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", text, "\"");
}

std::string ScopeName(v1::RuleScope scope) {
  switch (scope) {
    case v1::RULE_SCOPE_SITE:
      return "site";
    case v1::RULE_SCOPE_ACCOUNT:
      return "account";
    case v1::RULE_SCOPE_GLOBAL:
      return "global";
    case v1::RULE_SCOPE_GROUP:
      return "group";
    default:
      return "no usable scope";
  }
}

// "\"HQ\" (account \"Acme\", id 1234): active, licence Core, default site".
std::string Describe(const SiteListing& site) {
  std::string licence = site.sku.empty() ? "not said" : site.sku;
  return absl::StrCat(
      Quoted(site.name), " (account ",
      site.account_name.empty() ? site.account_id : Quoted(site.account_name),
      ", id ", site.id,
      "): ", site.state.empty() ? "state not said" : site.state, ", licence ",
      licence,
      site.is_default.has_value()
          ? (*site.is_default ? ", isDefault true" : ", isDefault false")
          : "");
}

// A site the sync may mean: its id, or its name (in any account).
bool Candidate(const SiteListing& site, const v1::SyncConfig& sync) {
  return (!sync.site_id().empty() && site.id == sync.site_id()) ||
         (!sync.site().empty() && site.name == sync.site());
}

// Sites whose name contains `name` or is contained in it, ignoring case
// (at most 5), described.
std::vector<std::string> NearSites(const std::vector<SiteListing>& sites,
                                   absl::string_view name) {
  std::vector<std::string> near;
  const std::string lower = absl::AsciiStrToLower(name);
  for (const SiteListing& site : sites) {
    const std::string other = absl::AsciiStrToLower(site.name);
    if (other.empty() || site.name == name) continue;
    if (absl::StrContains(other, lower) || absl::StrContains(lower, other)) {
      near.push_back(Describe(site));
    }
    if (near.size() == 5) break;
  }
  return near;
}

void Firewall(const ObservedState& observed, CheckReport& report) {
  const v1::FirewallConfiguration& fw = observed.firewall();
  if (!fw.known()) {
    report.Warn("sentinelone.firewall",
                "the console did not say whether Firewall Control is enabled "
                "for the site (GET /firewall-control/configuration)");
    return;
  }
  if (!fw.enabled()) {
    report.Fail("sentinelone.firewall",
                "Firewall Control is disabled for the site: rules would be "
                "written and never enforced (plans stop on this guard unless "
                "--allow-disabled-firewall)");
    return;
  }
  if (!fw.inherited_from().empty() || fw.inherits_rules()) {
    report.Warn(
        "sentinelone.firewall",
        absl::StrCat("enabled, but the site inherits its parent's policy",
                     fw.inherited_from().empty()
                         ? ""
                         : absl::StrCat(" (inheritedFrom ",
                                        Quoted(fw.inherited_from()), ")"),
                     fw.inherits_rules() ? " and every parent rule" : "",
                     ": endpoints may not enforce the site's own rules"));
    return;
  }
  report.Pass("sentinelone.firewall", "enabled, with the site's own policy");
}

void Rules(const ObservedState& observed, CheckReport& report) {
  std::map<std::string, int> by_scope;
  int unreadable = 0;
  int read_only = 0;
  std::vector<std::string> marked;
  const std::string own = ScopeName(reconciler::TargetScope(observed));
  for (const Rule& rule : observed.rules()) {
    const bool own_rule = reconciler::IsTargetRule(rule, observed);
    ++by_scope[own_rule ? own : ScopeName(rule.scope())];
    unreadable += rule.unreadable().empty() ? 0 : 1;
    read_only += rule.read_only() ? 1 : 0;
    if (!reconciler::HasOwnershipMarker(rule.description())) continue;
    // A rule of a scope above (a site's seen from a group, an account's
    // seen from a site, a global one) is a site, account_scope or global
    // sync's, inherited on purpose.
    const bool inherited_above =
        !own_rule &&
        reconciler::IsAbove(rule.scope(), reconciler::TargetScope(observed));
    if (inherited_above && !rule.read_only() && rule.unreadable().empty()) {
      continue;
    }
    std::vector<std::string> why;
    if (!own_rule) why.push_back(ScopeName(rule.scope()));
    if (rule.read_only()) why.push_back("not editable");
    if (!rule.unreadable().empty()) {
      why.push_back(absl::StrCat("unreadable: ", rule.unreadable()));
    }
    if (!why.empty()) {
      marked.push_back(absl::StrCat(Quoted(rule.name()), " (id ", rule.id(),
                                    ": ", absl::StrJoin(why, ", "), ")"));
    }
  }
  std::vector<std::string> counts;
  for (const auto& [scope, n] : by_scope) {
    counts.push_back(absl::StrCat(scope, " ", n));
  }
  report.Pass(
      "sentinelone.rules",
      absl::StrCat(observed.rules_size(), " rules listed",
                   counts.empty() ? "" : ": ", absl::StrJoin(counts, ", "),
                   "; ", read_only, " not editable, ", unreadable,
                   " unreadable (kept as someone else's)"));
  if (marked.empty()) {
    report.Pass("sentinelone.marked",
                absl::StrCat("no rule with tqs1's marker outside the ", own,
                             " scope, not editable or unreadable"));
  } else {
    report.Fail("sentinelone.marked",
                absl::StrCat(marked.size(),
                             " rules carry tqs1's marker but cannot be managed "
                             "as ",
                             own, " rules: ", absl::StrJoin(marked, ", ")));
  }
}

// The rules of `scope` (an account's, a group's, the global ones), checked.
void ReadRules(sentinelone::SentinelOneClient& client,
               const sentinelone::Scope& scope, CheckReport& report) {
  absl::StatusOr<ObservedState> observed = client.ReadSite(scope);
  if (!observed.ok()) {
    report.Fail("sentinelone.rules", observed.status());
    return;
  }
  Rules(*observed, report);
}

void Fields(RawRuleCalls& raw, const std::string& site_id,
            CheckReport& report) {
  absl::StatusOr<RawAnswer> answer = raw.FirstRules(site_id, 20);
  if (!answer.ok()) {
    report.Warn("sentinelone.fields", std::string(answer.status().message()));
    return;
  }
  if (answer->status < 200 || answer->status > 299) {
    report.Warn("sentinelone.fields", SummarizeAnswer(*answer));
    return;
  }
  json body = json::parse(answer->body, nullptr, /*allow_exceptions=*/false);
  auto data = body.is_object() ? body.find("data") : body.end();
  if (!body.is_object() || data == body.end() || !data->is_array()) {
    report.Warn("sentinelone.fields",
                "GET /firewall-control answered without a \"data\" array");
    return;
  }
  int rules = 0;
  std::map<std::string, int> missing;
  for (const json& item : *data) {
    if (!item.is_object()) continue;
    ++rules;
    for (const char* field : kRuleFields) {
      if (!item.contains(field)) ++missing[field];
    }
  }
  std::string text =
      absl::StrCat("on the first ", rules,
                   " listed rules: ", absl::StrJoin(kRuleFields, ", "));
  if (rules == 0) {
    report.Pass("sentinelone.fields",
                "no rules listed yet: nothing to check the fields of");
    return;
  }
  if (missing.empty()) {
    report.Pass("sentinelone.fields", absl::StrCat(text, " all present"));
    return;
  }
  std::vector<std::string> parts;
  for (const auto& [field, n] : missing) {
    parts.push_back(absl::StrCat(field, " missing on ", n));
  }
  report.Warn("sentinelone.fields",
              absl::StrCat(text, ": ", absl::StrJoin(parts, ", ")));
}

}  // namespace

bool ProbeConsole(sentinelone::SentinelOneClient& client, absl::Time now,
                  CheckReport& report) {
  absl::StatusOr<sentinelone::ConsoleInfo> info = client.SystemInfo();
  if (!info.ok()) {
    report.Fail("sentinelone.console", info.status());
    if (absl::IsUnauthenticated(info.status())) return false;
  } else {
    report.Pass(
        "sentinelone.console",
        absl::StrCat(
            "version ", info->version.empty() ? "not said" : info->version,
            info->build.empty() ? "" : absl::StrCat(", build ", info->build)));
  }
  absl::StatusOr<sentinelone::ConsoleUser> user = client.CurrentUser();
  if (!user.ok()) {
    report.Fail("sentinelone.user", user.status());
  } else {
    report.Pass(
        "sentinelone.user",
        absl::StrCat(
            user->email.empty() ? Quoted(user->full_name) : user->email,
            ": scope ", user->scope.empty() ? "not said" : user->scope,
            ", role ",
            user->lowest_role.empty() ? "not said" : user->lowest_role));
  }
  absl::StatusOr<sentinelone::ApiTokenDetails> token = client.TokenDetails();
  if (!token.ok()) {
    report.Warn("sentinelone.token",
                absl::StrCat("the token's expiry is unknown: ",
                             token.status().message()));
  } else if (!token->expires_at.has_value()) {
    report.Add(token->expires_at_text.empty() ? Verdict::kPass : Verdict::kWarn,
               "sentinelone.token",
               token->expires_at_text.empty()
                   ? std::string("the token does not expire (expiresAt null)")
                   : absl::StrCat("expiresAt ", Quoted(token->expires_at_text),
                                  " is not a time"));
  } else {
    const absl::Duration left = *token->expires_at - now;
    const int64_t days = absl::ToInt64Hours(left) / 24;
    const std::string when =
        absl::FormatTime("%Y-%m-%d", *token->expires_at, absl::UTCTimeZone());
    if (left <= absl::ZeroDuration()) {
      report.Fail("sentinelone.token",
                  absl::StrCat("the token expired on ", when));
    } else {
      report.Add(left < kTokenWarnBefore ? Verdict::kWarn : Verdict::kPass,
                 "sentinelone.token",
                 absl::StrCat("expires on ", when, ", in ", days, " days"));
    }
  }
  return true;
}

namespace {

// The global rules: the token's user must reach them.
void ProbeGlobal(sentinelone::SentinelOneClient& client,
                 const v1::SyncConfig& sync, CheckReport& report) {
  absl::StatusOr<sentinelone::ConsoleUser> user = client.CurrentUser();
  if (user.ok() && !absl::EqualsIgnoreCase(user->scope, "tenant")) {
    report.Fail("sentinelone.global",
                absl::StrCat("sync ", Quoted(sync.name()),
                             " keeps the global rules, but the token's user "
                             "has the ",
                             Quoted(user->scope),
                             " scope: only a user of the global (tenant) "
                             "scope may write them"));
  } else {
    report.Pass(
        "sentinelone.global",
        absl::StrCat("sync ", Quoted(sync.name()),
                     " keeps the console's global rules",
                     user.ok() ? "" : " (the token's scope is unknown)"));
  }
  ReadRules(client, sentinelone::Scope::Global(), report);
}

void ProbeAccount(sentinelone::SentinelOneClient& client,
                  const v1::SyncConfig& sync, CheckReport& report) {
  absl::StatusOr<std::string> id = client.FindAccount(sync.account());
  if (!id.ok()) {
    report.Fail("sentinelone.account", id.status());
    return;
  }
  report.Pass("sentinelone.account",
              absl::StrCat("sync ", Quoted(sync.name()),
                           " keeps the account-scope rules of account ",
                           Quoted(sync.account()), " (id ", *id, ")"));
  ReadRules(client, sentinelone::Scope::Account(*id), report);
}

// The group of `sync` within site `site_id`, and its rules.
void ProbeGroup(sentinelone::SentinelOneClient& client,
                const v1::SyncConfig& sync, absl::string_view site_id,
                CheckReport& report) {
  absl::StatusOr<std::string> id = client.FindGroup(site_id, sync.group());
  if (!id.ok()) {
    report.Fail("sentinelone.group", id.status());
    return;
  }
  report.Pass(
      "sentinelone.group",
      absl::StrCat("sync ", Quoted(sync.name()), " keeps the rules of group ",
                   Quoted(sync.group()), " (id ", *id, ") of site ", site_id));
  ReadRules(client, sentinelone::Scope::Group(*id), report);
}

}  // namespace

std::optional<std::string> ProbeSite(sentinelone::SentinelOneClient& client,
                                     RawRuleCalls* raw,
                                     const v1::SyncConfig& sync,
                                     CheckReport& report) {
  if (sync.global()) {
    ProbeGlobal(client, sync, report);
    return std::nullopt;
  }
  if (sync.account_scope()) {
    ProbeAccount(client, sync, report);
    return std::nullopt;
  }
  absl::StatusOr<std::vector<SiteListing>> sites = client.ListSites();
  const SiteListing* chosen_listing = nullptr;
  if (!sites.ok()) {
    report.Warn("sentinelone.site", absl::StrCat("listing the sites failed: ",
                                                 sites.status().message()));
  } else {
    for (const SiteListing& site : *sites) {
      if (!Candidate(site, sync)) continue;
      report.Pass("sentinelone.site",
                  absl::StrCat("candidate ", Describe(site)));
    }
  }
  sentinelone::SiteSelector selector(sync.site(), sync.site_id(),
                                     sync.account());
  absl::StatusOr<std::string> id = client.FindSite(selector);
  if (!id.ok()) {
    std::vector<std::string> near;
    if (absl::IsNotFound(id.status()) && sites.ok() && !sync.site().empty()) {
      near = NearSites(*sites, sync.site());
    }
    report.Fail("sentinelone.site",
                near.empty()
                    ? std::string(id.status().message())
                    : absl::StrCat(id.status().message(),
                                   " (near: ", absl::StrJoin(near, "; "), ")"));
    return std::nullopt;
  }
  if (sites.ok()) {
    for (const SiteListing& site : *sites) {
      if (site.id == *id) chosen_listing = &site;
    }
  }
  if (chosen_listing == nullptr) {
    report.Pass("sentinelone.site",
                absl::StrCat("sync ", Quoted(sync.name()), " uses site ", *id));
  } else {
    const bool core = absl::EqualsIgnoreCase(chosen_listing->sku, "Core");
    report.Add(core ? Verdict::kWarn : Verdict::kPass, "sentinelone.site",
               absl::StrCat("sync ", Quoted(sync.name()), " uses ",
                            Describe(*chosen_listing),
                            core ? "; Firewall Control needs a Control or "
                                   "Complete licence"
                                 : ""));
  }
  absl::StatusOr<ObservedState> observed = client.ReadSite(*id);
  if (!observed.ok()) {
    report.Fail("sentinelone.rules", observed.status());
    return id.value();
  }
  Firewall(*observed, report);
  if (!sync.group().empty()) {
    ProbeGroup(client, sync, *id, report);
  } else {
    Rules(*observed, report);
  }
  if (raw != nullptr) Fields(*raw, *id, report);
  return id.value();
}

}  // namespace tqs1::check

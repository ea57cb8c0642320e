// Where observed state comes from and where plans are written: the firewall
// control rules of a SentinelOne site, of a group within a site, of an
// account's own scope, or the console's global rules. SentinelOneClient
// implements it over HTTP; FakeFirewallRules in memory, for tests.
//
//   ASSIGN_OR_RETURN(std::string site_id, rules.FindSite({"HQ"}));
//   ASSIGN_OR_RETURN(ObservedState observed, rules.ReadSite(site_id));
//   ASSIGN_OR_RETURN(Rule created, rules.CreateRule(site_id, rule));
//   ASSIGN_OR_RETURN(std::string account_id, rules.FindAccount("ACME"));
//   ASSIGN_OR_RETURN(ObservedState acme,
//                    rules.ReadSite(Scope::Account(account_id)));
//   ASSIGN_OR_RETURN(std::string group_id, rules.FindGroup(site_id, "Lab"));
//   ASSIGN_OR_RETURN(ObservedState lab,
//                    rules.ReadSite(Scope::Group(group_id)));
#ifndef TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_H_
#define TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "proto/state.pb.h"

namespace tqs1::sentinelone {

// Whose rules a call reads or writes: a site's (the site scope), a group's
// within a site (the group scope, which inherits its site's), an account's
// own (the account scope, which every site of the account inherits), or the
// console's global rules (every account inherits them).
struct Scope {
  // A site id alone converts implicitly: most callers have only a site.
  Scope(absl::string_view site_id)  // NOLINT(runtime/explicit)
      : id(site_id) {}
  Scope(const std::string& site_id)  // NOLINT(runtime/explicit)
      : id(site_id) {}
  Scope(const char* site_id)  // NOLINT(runtime/explicit)
      : id(site_id) {}
  static Scope Account(absl::string_view account_id) {
    Scope scope(account_id);
    scope.kind = tqs1::v1::RULE_SCOPE_ACCOUNT;
    return scope;
  }
  static Scope Group(absl::string_view group_id) {
    Scope scope(group_id);
    scope.kind = tqs1::v1::RULE_SCOPE_GROUP;
    return scope;
  }
  static Scope Global() {
    Scope scope("");
    scope.kind = tqs1::v1::RULE_SCOPE_GLOBAL;
    return scope;
  }
  // The scope of a state or plan: its `scope` and `site_id` fields
  // (ObservedState, Plan; UNSPECIFIED is a site).
  static Scope Of(tqs1::v1::RuleScope kind, absl::string_view id) {
    switch (kind) {
      case tqs1::v1::RULE_SCOPE_ACCOUNT:
        return Account(id);
      case tqs1::v1::RULE_SCOPE_GROUP:
        return Group(id);
      case tqs1::v1::RULE_SCOPE_GLOBAL:
        return Global();
      default:
        return Scope(id);
    }
  }

  bool site() const { return kind == tqs1::v1::RULE_SCOPE_SITE; }
  // "site", "group", "account" or "global scope", for messages.
  const char* Noun() const {
    switch (kind) {
      case tqs1::v1::RULE_SCOPE_ACCOUNT:
        return "account";
      case tqs1::v1::RULE_SCOPE_GROUP:
        return "group";
      case tqs1::v1::RULE_SCOPE_GLOBAL:
        return "global scope";
      default:
        return "site";
    }
  }
  // "site 1758...", "group 1827...", "account 1286..." or "the global
  // scope".
  std::string Label() const {
    if (kind == tqs1::v1::RULE_SCOPE_GLOBAL) return "the global scope";
    return absl::StrCat(Noun(), " ", id);
  }

  // RULE_SCOPE_SITE, RULE_SCOPE_GROUP, RULE_SCOPE_ACCOUNT or
  // RULE_SCOPE_GLOBAL.
  tqs1::v1::RuleScope kind = tqs1::v1::RULE_SCOPE_SITE;
  // The site's id, the group's or the account's; empty for the global
  // scope.
  std::string id;
};

// Which site a sync means. Site names repeat across accounts (every
// account has a "Default site"): `id` names one site, `account` picks among
// sites of one name.
struct SiteSelector {
  // A name alone converts implicitly: most callers have only a name.
  SiteSelector(absl::string_view site_name)  // NOLINT(runtime/explicit)
      : name(site_name) {}
  SiteSelector(const std::string& site_name)  // NOLINT(runtime/explicit)
      : name(site_name) {}
  SiteSelector(const char* site_name)  // NOLINT(runtime/explicit)
      : name(site_name) {}
  SiteSelector(std::string site_name, std::string site_id,
               std::string account_name_or_id)
      : name(std::move(site_name)),
        id(std::move(site_id)),
        account(std::move(account_name_or_id)) {}

  // The site's exact name; may be empty when `id` is set.
  std::string name;
  // The site's id: read by id, no name lookup (the name, when given too,
  // must match).
  std::string id;
  // An account name or id: only sites of that account are candidates.
  std::string account;
};

// Errors common to every method:
//   kUnauthenticated     the API token was refused.
//   kPermissionDenied    the token's role may not do this.
//   kUnavailable         the console is unreachable or failing; retry later.
//   kDataLoss            a response could not be parsed.
// Thread-compatible (not safe for concurrent calls on one object) unless an
// implementation says more: a parallel run shares one object between
// threads, so only a thread-safe one (SentinelOneClient) may serve it.
class FirewallRules {
 public:
  virtual ~FirewallRules() = default;

  // The id of the active site `site` selects: by id, or named exactly
  // `site.name` (in `site.account` when set). kNotFound when none matches
  // (for a name, the message lists near matches: active sites whose names
  // equal or contain it, or are contained in it, ignoring case),
  // kFailedPrecondition when several do (the message lists each candidate
  // with its account and id, and names the `site_id:` and `account:` keys)
  // or when the site of `site.id` is not active or has another name.
  virtual absl::StatusOr<std::string> FindSite(const SiteSelector& site) = 0;

  // The id of the account named exactly `name_or_id`, or of that id, among
  // the accounts of the active sites the token sees. kNotFound when none
  // is (the message lists those accounts), kFailedPrecondition when
  // several accounts have that name (it lists their ids).
  virtual absl::StatusOr<std::string> FindAccount(
      absl::string_view name_or_id) = 0;

  // The id of the group named exactly `name` (or of that id) within site
  // `site_id`. kNotFound when none is (the message lists the site's
  // groups), kFailedPrecondition when several are (it lists their ids).
  virtual absl::StatusOr<std::string> FindGroup(absl::string_view site_id,
                                                absl::string_view name) = 0;

  // Every firewall rule the scope's query returns, inherited ones included
  // (each Rule says its scope), read to the end. Never a partial list.
  // ObservedState.scope says a group's, an account's or the global one; its
  // site_id is the scope's id.
  virtual absl::StatusOr<tqs1::v1::ObservedState> ReadSite(
      const Scope& scope) = 0;

  // Creates `rule` (its id and scope are ignored) in the scope and returns
  // it with its new id. kAlreadyExists when the scope holds a rule of that
  // name. Safe against lost responses: when the outcome of the request is
  // unknown it re-reads the scope and, if a rule with this name and content
  // is there, returns it instead of creating a second one.
  virtual absl::StatusOr<tqs1::v1::Rule> CreateRule(
      const Scope& scope, const tqs1::v1::Rule& rule) = 0;

  // Replaces every field of the rule `rule.id()` with `rule`'s (name,
  // description, action, status, direction, OS types, remote hosts).
  // Idempotent. kNotFound when the rule is gone; kAlreadyExists when the new
  // name is taken by another rule.
  virtual absl::StatusOr<tqs1::v1::Rule> UpdateRule(
      const Scope& scope, const tqs1::v1::Rule& rule) = 0;

  // Deletes the rule `rule_id` of the scope. Deleting an absent rule is OK.
  virtual absl::Status DeleteRule(const Scope& scope,
                                  absl::string_view rule_id) = 0;
};

}  // namespace tqs1::sentinelone

#endif  // TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_H_

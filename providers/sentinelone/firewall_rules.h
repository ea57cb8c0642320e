// Where observed state comes from and where plans are written: the firewall
// control rules of a SentinelOne site. SentinelOneClient implements it over
// HTTP; FakeFirewallRules in memory, for tests.
//
//   ASSIGN_OR_RETURN(std::string site_id, rules.FindSite({"HQ"}));
//   ASSIGN_OR_RETURN(ObservedState observed, rules.ReadSite(site_id));
//   ASSIGN_OR_RETURN(Rule created, rules.CreateRule(site_id, rule));
#ifndef TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_H_
#define TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/state.pb.h"

namespace tqs1::sentinelone {

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

  // Every firewall rule the site query returns, inherited ones included
  // (each Rule says its scope), read to the end. Never a partial list.
  virtual absl::StatusOr<tqs1::v1::ObservedState> ReadSite(
      absl::string_view site_id) = 0;

  // Creates `rule` (its id is ignored) in the site and returns it with its
  // new id. kAlreadyExists when the site holds a rule of that name.
  // Safe against lost responses: when the outcome of the request is unknown
  // it re-reads the site and, if a rule with this name and content is there,
  // returns it instead of creating a second one.
  virtual absl::StatusOr<tqs1::v1::Rule> CreateRule(
      absl::string_view site_id, const tqs1::v1::Rule& rule) = 0;

  // Replaces every field of the rule `rule.id()` with `rule`'s (name,
  // description, action, status, direction, OS types, remote hosts).
  // Idempotent. kNotFound when the rule is gone; kAlreadyExists when the new
  // name is taken by another rule.
  virtual absl::StatusOr<tqs1::v1::Rule> UpdateRule(
      absl::string_view site_id, const tqs1::v1::Rule& rule) = 0;

  // Deletes the rule `rule_id` of the site. Deleting an absent rule is OK.
  virtual absl::Status DeleteRule(absl::string_view site_id,
                                  absl::string_view rule_id) = 0;
};

}  // namespace tqs1::sentinelone

#endif  // TQS1_PROVIDERS_SENTINELONE_FIREWALL_RULES_H_

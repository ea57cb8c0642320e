// The read-only SentinelOne probes of `tqs1 check`, one "sentinelone.*" line
// each:
//
//   sentinelone.console   the console's version (GET /system/info)
//   sentinelone.user      the token's user, scope and role (GET /user)
//   sentinelone.token     days until the token expires: WARN under 30,
//                         FAIL when expired
//   and per site of the selected syncs:
//   sentinelone.site      every candidate (account, state, licence,
//                         isDefault), then the one the sync selects; none
//                         or several is a FAIL; a Core licence a WARN
//   sentinelone.firewall  the site's Firewall Control configuration:
//                         disabled is a FAIL, inherited a WARN, unknown a
//                         WARN
//   sentinelone.rules     the rules listed, counted by scope
//   sentinelone.marked    rules with tqs1's marker that are not site rules,
//                         not editable or unreadable: a FAIL (plans stop on
//                         them)
//   sentinelone.fields    the fields present on the first listed rules
//                         (scope, scopeId, editable, order, ruleCategory)
//
//   ASSIGN_OR_RETURN(std::string site_id, ...);
//   std::optional<std::string> site =
//       ProbeSite(*client, raw.get(), sync, report);   // the site's id
#ifndef TQS1_CLI_CHECK_SENTINELONE_PROBES_H_
#define TQS1_CLI_CHECK_SENTINELONE_PROBES_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "cli/check/raw_rules.h"
#include "cli/check/report.h"
#include "proto/config.pb.h"
#include "providers/sentinelone/sentinelone_client.h"

namespace tqs1::check {

// A token expiring sooner than this is a WARN.
inline constexpr absl::Duration kTokenWarnBefore =
    sentinelone::kTokenRenewalWarning;

// The console, user and token lines. False when the console refused the
// token (kUnauthenticated): the site probes would only repeat it.
bool ProbeConsole(sentinelone::SentinelOneClient& client, absl::Time now,
                  CheckReport& report);

// The site lines of `sync`; the id of the site it selects, or nullopt when
// there is none (a FAIL line says why). `raw` (may be null) shows the fields
// of listed rules. A sync of an account's own rules (account_scope) gets
// the account's lines instead (sentinelone.account: which account;
// sentinelone.rules and .marked of its listing), and nullopt: it has no
// site to probe writes in. So does a sync of the global rules
// (sentinelone.global: FAIL when the token's user is not of the global,
// "tenant", scope).
std::optional<std::string> ProbeSite(sentinelone::SentinelOneClient& client,
                                     RawRuleCalls* raw,
                                     const tqs1::v1::SyncConfig& sync,
                                     CheckReport& report);

}  // namespace tqs1::check

#endif  // TQS1_CLI_CHECK_SENTINELONE_PROBES_H_

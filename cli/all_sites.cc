// ExpandAllSites(): the config entries of every active site of an account
// (`sites: {account: ACME, all: true}`), listed from their console.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "cli/app.h"
#include "cli/config/config_loader.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/sentinelone/wire.h"

namespace tqs1::cli {
namespace {

using ::tqs1::sentinelone::SiteListing;
using ::tqs1::v1::AccountSites;
using ::tqs1::v1::SyncConfig;

sentinelone::SentinelOneClient* ClientFor(const Backends& backends,
                                          const SyncConfig& sync) {
  if (sync.sentinelone().empty()) return backends.sentinelone_client;
  auto it = backends.named_consoles.find(sync.sentinelone());
  return it == backends.named_consoles.end() ? nullptr : it->second.client;
}

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// The active sites of `all.account()` (by id or name) among `sites`, by
// name.
std::vector<const SiteListing*> SitesOf(const AccountSites& all,
                                        const std::vector<SiteListing>& sites) {
  std::vector<const SiteListing*> out;
  for (const SiteListing& site : sites) {
    if (!site.state.empty() && site.state != "active") continue;
    if (site.account_id == all.account() ||
        site.account_name == all.account()) {
      out.push_back(&site);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SiteListing* a, const SiteListing* b) {
              return std::tie(a->name, a->id) < std::tie(b->name, b->id);
            });
  return out;
}

// The syncs `entry` stands for: one per active site of its account.
absl::StatusOr<std::vector<SyncConfig>> Expand(
    const SyncConfig& entry, const std::vector<SiteListing>& listed,
    const tqs1::v1::Config& config) {
  const AccountSites& all = entry.all_sites();
  const std::string where = absl::StrCat("sync entry ", Quoted(entry.fleet()),
                                         ": account ", Quoted(all.account()));
  const std::vector<const SiteListing*> sites = SitesOf(all, listed);
  if (sites.empty()) {
    return absl::NotFoundError(absl::StrCat(
        where,
        " has no active site on its console; the accounts with active "
        "sites are ",
        sentinelone::DescribeNamed(sentinelone::ActiveAccounts(listed))));
  }
  std::vector<std::string> names;
  for (const SiteListing* site : sites) names.push_back(Quoted(site->name));
  auto listed_as = [&](const std::string& name) {
    return std::any_of(sites.begin(), sites.end(), [&](const SiteListing* s) {
      return absl::EqualsIgnoreCase(s->name, name);
    });
  };
  std::set<std::string> excluded;
  for (const std::string& name : all.exclude()) {
    if (!listed_as(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": exclude ", Quoted(name),
                       " is not one of its active sites (",
                       absl::StrJoin(names, ", "), ")"));
    }
    excluded.insert(absl::AsciiStrToLower(name));
  }
  for (const std::string& first : all.first()) {
    if (!listed_as(first) || excluded.count(first) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": rollout first ", Quoted(first),
                       " is not one of its active sites left in (",
                       absl::StrJoin(names, ", "), ")"));
    }
  }
  std::vector<SyncConfig> out;
  for (const SiteListing* site : sites) {
    const std::string key = absl::AsciiStrToLower(site->name);
    if (excluded.count(key) > 0) continue;
    SyncConfig target = entry;
    target.clear_all_sites();
    target.set_site(site->name);
    target.set_account(all.account());
    // Named by account and site; read by id (no name lookup, no ambiguity).
    target.set_name(config::DefaultSyncName(entry.fleet(), target, config));
    target.clear_account();
    target.set_site_id(site->id);
    target.set_canary(std::find(all.first().begin(), all.first().end(), key) !=
                      all.first().end());
    out.push_back(std::move(target));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": every active site is excluded"));
  }
  if (all.first_size() > 0 &&
      static_cast<size_t>(all.first_size()) == out.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": every site goes first: leave at least one for after them"));
  }
  return out;
}

}  // namespace

absl::Status ExpandAllSites(tqs1::v1::Config& config,
                            const Backends& backends) {
  const bool any =
      std::any_of(config.syncs().begin(), config.syncs().end(),
                  [](const SyncConfig& sync) { return sync.has_all_sites(); });
  if (!any) return absl::OkStatus();
  // One listing per console.
  std::map<std::string, std::vector<SiteListing>> listings;
  google::protobuf::RepeatedPtrField<SyncConfig> expanded;
  // Sync name -> its entry ("": written out), those written out first
  // (wherever they stand in the config).
  std::map<std::string, std::string> names;
  for (const SyncConfig& sync : config.syncs()) {
    if (!sync.has_all_sites()) names.emplace(sync.name(), "");
  }
  for (const SyncConfig& sync : config.syncs()) {
    if (!sync.has_all_sites()) {
      *expanded.Add() = sync;
      continue;
    }
    auto listing = listings.find(sync.sentinelone());
    if (listing == listings.end()) {
      sentinelone::SentinelOneClient* client = ClientFor(backends, sync);
      if (client == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("sync entry ", Quoted(sync.fleet()),
                         ": listing the sites of account ",
                         Quoted(sync.all_sites().account()),
                         " needs a connection to its SentinelOne console"));
      }
      absl::StatusOr<std::vector<SiteListing>> sites = client->ListSites();
      if (!sites.ok()) {
        return absl::Status(sites.status().code(),
                            absl::StrCat("sync entry ", Quoted(sync.fleet()),
                                         ": cannot list the sites of account ",
                                         Quoted(sync.all_sites().account()),
                                         ": ", sites.status().message()));
      }
      listing = listings.emplace(sync.sentinelone(), *std::move(sites)).first;
    }
    ASSIGN_OR_RETURN(std::vector<SyncConfig> targets,
                     Expand(sync, listing->second, config));
    for (SyncConfig& target : targets) {
      auto [other, added] = names.emplace(target.name(), sync.fleet());
      if (!added) {
        return absl::InvalidArgumentError(absl::StrCat(
            "sync entry ", Quoted(sync.fleet()), ": its sync ",
            Quoted(target.name()), " has the name of ",
            other->second.empty()
                ? "a sync written out in the config; give the entry"
                : absl::StrCat("a sync of entry ", Quoted(other->second),
                               "; give one of the entries"),
            " another `name:`"));
      }
      *expanded.Add() = std::move(target);
    }
  }
  // A site fed the same collection twice (by this entry and by a sync
  // naming the site).
  for (const SyncConfig& a : expanded) {
    if (a.site_id().empty()) continue;
    for (const SyncConfig& b : expanded) {
      if (&a == &b || a.collection() != b.collection() ||
          a.threatq() != b.threatq() || a.sentinelone() != b.sentinelone()) {
        continue;
      }
      if (b.site_id() == a.site_id() ||
          (b.site_id().empty() && absl::EqualsIgnoreCase(b.site(), a.site()) &&
           b.account().empty())) {
        return absl::InvalidArgumentError(
            absl::StrCat("collection ", Quoted(a.collection()),
                         " is synced to site ", Quoted(a.site()), " by both ",
                         Quoted(a.name()), " and ", Quoted(b.name())));
      }
    }
  }
  config.mutable_syncs()->Swap(&expanded);
  return absl::OkStatus();
}

}  // namespace tqs1::cli

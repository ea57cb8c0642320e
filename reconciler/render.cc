#include "reconciler/render.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "reconciler/address_space.h"
#include "reconciler/machine_json.h"

namespace tqs1::reconciler {
namespace {

using ::tqs1::v1::Action;
using ::tqs1::v1::Plan;

struct Palette {
  absl::string_view green, yellow, red, bold, dim, reset;
};

Palette MakePalette(bool color) {
  if (!color) return {"", "", "", "", "", ""};
  return {"\033[32m", "\033[33m", "\033[31m", "\033[1m", "\033[2m", "\033[0m"};
}

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// "1 duplicate", "2 duplicates".
std::string Counted(uint64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(FormatCount(n), " ", n == 1 ? one : many);
}

// "3 private (RFC 1918) addresses" for an input warning. The short-prefix
// bounds are normalize.h's kShortIpv4Prefix and kShortIpv6Prefix.
std::string CategoryCount(tqs1::v1::InputCategory category, uint64_t n) {
  switch (category) {
    case tqs1::v1::INPUT_CATEGORY_PRIVATE:
      return Counted(n, "private (RFC 1918) address",
                     "private (RFC 1918) addresses");
    case tqs1::v1::INPUT_CATEGORY_CGNAT:
      return Counted(n, "CGNAT (100.64.0.0/10) address",
                     "CGNAT (100.64.0.0/10) addresses");
    case tqs1::v1::INPUT_CATEGORY_DOCUMENTATION:
      return Counted(n, "documentation (RFC 5737, RFC 3849) address",
                     "documentation (RFC 5737, RFC 3849) addresses");
    case tqs1::v1::INPUT_CATEGORY_UNIQUE_LOCAL:
      return Counted(n, "unique-local IPv6 (fc00::/7) address",
                     "unique-local IPv6 (fc00::/7) addresses");
    case tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX:
      return absl::StrCat(Counted(n, "short prefix", "short prefixes"),
                          " (IPv4 shorter than /16, IPv6 shorter than /32)");
    default:
      return Counted(n, "value", "values");
  }
}

// "private" for INPUT_CATEGORY_PRIVATE: the key of a `refuse` list.
std::string CategoryKey(tqs1::v1::InputCategory category) {
  std::string key = tqs1::v1::InputCategory_Name(category);
  absl::string_view prefix = "INPUT_CATEGORY_";
  if (absl::StartsWith(key, prefix)) key.erase(0, prefix.size());
  return absl::AsciiStrToLower(key);
}

// One line per InputWarning: blocked ones warn, refused ones say so.
void AppendInputWarnings(const tqs1::v1::InputReport& in, const Palette& c,
                         std::string* out) {
  for (const tqs1::v1::InputWarning& w : in.warnings()) {
    std::string examples;
    if (w.examples_size() > 0) {
      examples = absl::StrCat(", e.g. ", absl::StrJoin(w.examples(), ", "));
    }
    if (w.refused()) {
      absl::StrAppend(out, "    ", c.yellow, "refused", c.reset, " ",
                      CategoryCount(w.category(), w.count()),
                      " (refuse: ", CategoryKey(w.category()), ")", examples,
                      "\n");
    } else {
      absl::StrAppend(out, "    ", c.yellow, "warning:", c.reset, " ",
                      CategoryCount(w.category(), w.count()),
                      " will be blocked", examples, "\n");
    }
  }
}

// The rejected values: the first `options.rejected_examples`, or with
// `show_rejected` up to that many, each with the indicator it came from.
void AppendRejected(const tqs1::v1::InputReport& in,
                    const RenderOptions& options, const Palette& c,
                    std::string* out) {
  const int limit = options.show_rejected > 0
                        ? options.show_rejected
                        : std::max(0, options.rejected_examples);
  const int shown = std::min(limit, in.rejected_size());
  for (int k = 0; k < shown; ++k) {
    const tqs1::v1::RejectedValue& r = in.rejected(k);
    absl::StrAppend(out, "    ", c.yellow, "rejected", c.reset, " ",
                    Quote(r.value()));
    if (r.indicator_id() != 0) {
      absl::StrAppend(out, " (indicator ", r.indicator_id(), ")");
    }
    absl::StrAppend(out, ": ", r.reason(), "\n");
  }
  const uint64_t kept_left = in.rejected_size() - shown;
  if (kept_left > 0) {
    absl::StrAppend(
        out, "    ... and ", FormatCount(kept_left + in.rejected_truncated()),
        " more rejected (",
        options.show_rejected > 0 ? "--show-rejected all lists them"
                                  : "--show-rejected N or all lists them",
        ")\n");
  } else if (in.rejected_truncated() > 0) {
    absl::StrAppend(out, "    ... and ", FormatCount(in.rejected_truncated()),
                    " more rejected, not kept in the plan (it keeps the first ",
                    FormatCount(in.rejected_size()), ")\n");
  }
}

std::string Delta(const Action& a) {
  std::vector<std::string> parts;
  if (a.add_size() > 0) parts.push_back("+" + FormatCount(a.add_size()));
  if (a.remove_size() > 0) parts.push_back("-" + FormatCount(a.remove_size()));
  return absl::StrJoin(parts, " ");
}

void AppendExamples(const google::protobuf::RepeatedPtrField<std::string>& v,
                    absl::string_view sign, int limit, std::string* out) {
  int shown = std::min(limit, v.size());
  for (int k = 0; k < shown; ++k) {
    absl::StrAppend(out, "        ", sign, " ", v[k], "\n");
  }
  if (shown > 0 && v.size() > shown) {
    absl::StrAppend(out, "        ... and ", FormatCount(v.size() - shown),
                    " more\n");
  }
}

AddressSpace Space(uint64_t ipv4_addresses, uint64_t ipv6_networks) {
  AddressSpace space;
  space.ipv4_addresses = ipv4_addresses;
  space.ipv6_networks = ipv6_networks;
  return space;
}

// "3 addresses" when the entries are that many single IPv4 addresses;
// otherwise entries and space: "1,045 entries (2,950,120 IPv4 addresses)".
std::string EntriesAndSpace(uint64_t entries, const AddressSpace& space) {
  if (space.ipv6_networks == 0 && space.ipv4_addresses == entries) {
    return Counted(entries, "address", "addresses");
  }
  return absl::StrCat(Counted(entries, "entry", "entries"), " (",
                      FormatSpace(space), ")");
}

// Managed rules disabled in the console: tqs1 keeps them disabled, and
// says what they leave unenforced.
void AppendDisabledRules(const tqs1::v1::ObservedReport& ob, const Palette& c,
                         std::string* out) {
  if (ob.disabled_size() == 0) return;
  absl::StrAppend(out, "\n", c.bold, "Disabled in the console:", c.reset, "\n");
  for (const tqs1::v1::ObservedReport::DisabledRule& rule : ob.disabled()) {
    absl::StrAppend(out, "  ", c.yellow, "!", c.reset, " ", Quote(rule.name()),
                    "  id ", rule.rule_id(), ": ",
                    Counted(rule.entries(), "address", "addresses"),
                    " not enforced: disabled in the console\n");
  }
}

// After the summary line: what disabled rules leave unenforced.
void AppendNotEnforced(const tqs1::v1::ObservedReport& ob, const Palette& c,
                       std::string* out) {
  if (ob.disabled_rules() == 0) return;
  absl::StrAppend(out, c.yellow, "Not enforced:", c.reset, " ",
                  EntriesAndSpace(ob.not_enforced(),
                                  Space(ob.not_enforced_ipv4_addresses(),
                                        ob.not_enforced_ipv6_networks())),
                  " in ",
                  Counted(ob.disabled_rules(), "managed rule", "managed rules"),
                  " disabled in the console; tqs1 keeps ",
                  ob.disabled_rules() == 1 ? "it" : "them",
                  " disabled (enable in the console to enforce).\n");
}

// "  Firewall Control: enabled, inherited from Account": the site's Firewall
// Control configuration in one line.
void AppendFirewall(const tqs1::v1::FirewallConfiguration& fw, const Palette& c,
                    std::string* out) {
  absl::StrAppend(out, "  Firewall Control: ");
  if (!fw.known()) {
    absl::StrAppend(out, "unknown (not read)\n");
    return;
  }
  if (fw.enabled()) {
    absl::StrAppend(out, "enabled");
  } else {
    absl::StrAppend(out, c.red, "disabled", c.reset,
                    " (rules are written but not enforced)");
  }
  if (!fw.inherited_from().empty()) {
    absl::StrAppend(out, ", inherited from ", fw.inherited_from());
  }
  if (fw.inherits_rules()) {
    absl::StrAppend(out,
                    "; the site inherits every firewall rule of its "
                    "parent");
  }
  absl::StrAppend(out, "\n");
}

}  // namespace

std::string RenderPlanText(const Plan& plan, const RenderOptions& options) {
  const Palette c = MakePalette(options.color);
  const bool account = plan.scope() == tqs1::v1::RULE_SCOPE_ACCOUNT;
  const bool global = plan.scope() == tqs1::v1::RULE_SCOPE_GLOBAL;
  const bool group = plan.scope() == tqs1::v1::RULE_SCOPE_GROUP;
  std::string out;
  absl::StrAppend(
      &out, c.bold, "Sync ", Quote(plan.sync_name()), c.reset, ": collection ",
      Quote(plan.collection()),
      global  ? " to the global-scope rules"
      : group ? absl::StrCat(" to the rules of group ", Quote(plan.site_name()))
      : account ? absl::StrCat(" to the account-scope rules of account ",
                               Quote(plan.site_name()))
                : absl::StrCat(" to site ", Quote(plan.site_name())));
  if (!plan.site_id().empty()) absl::StrAppend(&out, " (", plan.site_id(), ")");
  absl::StrAppend(&out, "\n\n");
  if (plan.restore_of() != 0) {
    absl::StrAppend(
        &out, "  ", c.bold, "RESTORE", c.reset,
        ": this plan makes the site hold what it held after apply ",
        plan.restore_of(),
        " (the\n  ledger's record), not what the collection holds now. The "
        "next normal apply\n  follows the collection again: pause scheduled "
        "applies first (systemctl stop\n  tqs1-apply.timer; `tqs1 serve` "
        "without --apply) until the collection is fixed.\n\n");
  }

  const tqs1::v1::InputReport& in = plan.inputs();
  absl::StrAppend(
      &out, "  Source: ", Counted(in.values(), "value", "values"), " read, ",
      Counted(in.desired(), "address", "addresses"), " to block (",
      Counted(in.duplicates(), "duplicate", "duplicates"), ", ",
      FormatCount(in.invalid()), " invalid, ", FormatCount(in.never_blocked()),
      " never blocked",
      in.refused() > 0
          ? absl::StrCat(", ", FormatCount(in.refused()), " refused")
          : "",
      ")\n");
  if (in.source().shared_by_size() > 1) {
    std::vector<std::string> names;
    for (const std::string& name : in.source().shared_by()) {
      names.push_back(Quote(name));
    }
    absl::StrAppend(
        &out, "    collection read once for the ", in.source().shared_by_size(),
        " syncs of this run that use it: ", absl::StrJoin(names, ", "), "\n");
  }
  for (const auto& [type, n] : in.source().skipped_types()) {
    absl::StrAppend(&out, "    skipped ", FormatCount(n),
                    " indicators of type ", Quote(type), "\n");
  }
  for (const auto& [status, n] : in.source().skipped_statuses()) {
    absl::StrAppend(&out, "    skipped ", FormatCount(n),
                    " indicators with status ", Quote(status), "\n");
  }
  AppendInputWarnings(in, c, &out);
  AppendRejected(in, options, c, &out);

  const tqs1::v1::ObservedReport& ob = plan.observed();
  absl::StrAppend(
      &out,
      global    ? "  Global: "
      : account ? "  Account: "
                : "  Site: ",
      Counted(ob.rules(), "rule", "rules"), " (", FormatCount(ob.managed()),
      " managed, ", FormatCount(plan.conflicts_size()), " in conflict, ",
      FormatCount(ob.foreign()), " other, ", FormatCount(ob.inherited()),
      " inherited), ",
      EntriesAndSpace(ob.blocked(), Space(ob.blocked_ipv4_addresses(),
                                          ob.blocked_ipv6_networks())),
      " blocked by managed rules\n");
  if (ob.inherited_blocked() > 0) {
    const char* noun = account ? "account" : group ? "group" : "site";
    absl::StrAppend(
        &out, "    ", Counted(ob.inherited_blocked(), "address", "addresses"),
        " of the collection ", ob.inherited_blocked() == 1 ? "is" : "are",
        " blocked by rules of this sync the ", noun, " inherits (",
        account ? "global scope"
        : group ? "site, account or global scope"
                : "account or global scope",
        "): not written to the ", noun, "\n");
  }
  AppendFirewall(ob.firewall(), c, &out);
  for (const std::string& warning : ob.warnings()) {
    absl::StrAppend(&out, "    ", c.yellow, "warning:", c.reset, " ", warning,
                    "\n");
  }
  AppendDisabledRules(ob, c, &out);

  if (plan.conflicts_size() > 0) {
    absl::StrAppend(&out, "\n", c.bold, "Conflicts:", c.reset, "\n");
    for (const tqs1::v1::Conflict& conflict : plan.conflicts()) {
      absl::StrAppend(&out, "  ", c.yellow, "!", c.reset, " ");
      if (conflict.blocks()) {
        absl::StrAppend(&out, c.red, c.bold, "BLOCKS", c.reset, " ");
      }
      absl::StrAppend(&out, Quote(conflict.name()), "  id ", conflict.rule_id(),
                      ": ", conflict.reason(), "\n");
    }
  }

  if (plan.actions_size() > 0) {
    absl::StrAppend(&out, "\n", c.bold, "Actions:", c.reset, "\n");
    size_t width = 0;
    std::vector<std::string> heads;
    for (const Action& a : plan.actions()) {
      std::string head;
      switch (a.kind()) {
        case tqs1::v1::ACTION_KIND_CREATE:
          head =
              absl::StrCat(c.green, "+ create", c.reset, " ", Quote(a.name()));
          break;
        case tqs1::v1::ACTION_KIND_UPDATE:
          head = absl::StrCat(c.yellow, "~ update", c.reset, " ",
                              Quote(a.name()), "  id ", a.rule_id());
          break;
        default:
          head = absl::StrCat(c.red, "- delete", c.reset, " ", Quote(a.name()),
                              "  id ", a.rule_id());
          break;
      }
      width = std::max(width, head.size());
      heads.push_back(std::move(head));
    }
    for (int k = 0; k < plan.actions_size(); ++k) {
      const Action& a = plan.actions(k);
      absl::StrAppend(&out, "  ", heads[k],
                      std::string(width - heads[k].size() + 2, ' '), Delta(a),
                      "\n");
      absl::StrAppend(&out, "      ", c.dim, absl::StrJoin(a.reasons(), "; "),
                      c.reset, "\n");
      AppendExamples(a.add(), "+", options.address_examples, &out);
      AppendExamples(a.remove(), "-", options.address_examples, &out);
    }
  }

  absl::StrAppend(&out, "\n", c.bold, "Guards:", c.reset, "\n");
  for (const tqs1::v1::GuardVerdict& g : plan.guards()) {
    absl::string_view verdict = !g.tripped()     ? "ok        "
                                : g.overridden() ? "overridden"
                                                 : "TRIPPED   ";
    absl::string_view colour = !g.tripped()     ? c.green
                               : g.overridden() ? c.yellow
                                                : c.red;
    absl::StrAppend(&out, "  ", colour, verdict, c.reset, " ", g.guard(), ": ",
                    g.message(), "\n");
  }

  const tqs1::v1::PlanSummary& s = plan.summary();
  absl::StrAppend(&out, "\n");
  if (s.in_sync()) {
    absl::StrAppend(&out, c.bold, "No changes.", c.reset,
                    global                     ? " The global rules hold "
                    : account                  ? " The account's rules hold "
                    : group                    ? " The group's rules hold "
                    : ob.disabled_rules() == 0 ? " The site blocks "
                                               : " The site's rules hold ",
                    "the collection's ", FormatCount(in.desired()),
                    " addresses.\n");
  } else {
    const AddressSpace newly = Space(s.newly_blocked_ipv4_addresses(),
                                     s.newly_blocked_ipv6_networks());
    const AddressSpace unblocked =
        Space(s.unblocked_ipv4_addresses(), s.unblocked_ipv6_networks());
    const bool entries_are_addresses =
        newly.ipv6_networks == 0 && unblocked.ipv6_networks == 0 &&
        newly.ipv4_addresses == s.newly_blocked() &&
        unblocked.ipv4_addresses == s.unblocked();
    absl::StrAppend(&out, c.bold, "Plan:", c.reset, " ", s.creates(),
                    " to create, ", s.updates(), " to update, ", s.deletes(),
                    " to delete; ");
    if (entries_are_addresses) {
      absl::StrAppend(&out, FormatCount(s.newly_blocked()),
                      " addresses to block, ", FormatCount(s.unblocked()),
                      " to unblock.\n");
    } else {
      absl::StrAppend(&out, Counted(s.newly_blocked(), "entry", "entries"),
                      " to block (", FormatSpace(newly), "), ",
                      FormatCount(s.unblocked()), " to unblock (",
                      FormatSpace(unblocked), ").\n");
    }
  }
  AppendNotEnforced(ob, c, &out);
  if (s.blocked()) {
    absl::StrAppend(&out, c.red, c.bold, "Blocked by a guard:", c.reset,
                    " this plan will not be applied. Check the collection, or "
                    "override the guard if the change is intended.\n");
  }
  return out;
}

std::string RenderApplyRefusals(const tqs1::v1::ApplyReport& report,
                                const RenderOptions& options) {
  if (report.ipv6_refused().empty()) return "";
  const Palette c = MakePalette(options.color);
  std::string out = absl::StrCat(c.bold, "IPv6 values refused by the console",
                                 c.reset, ":\n");
  for (const std::string& line : report.ipv6_refused()) {
    absl::StrAppend(&out, "  ", c.yellow, "!", c.reset, " ", line, "\n");
  }
  return out;
}

namespace {

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  absl::StatusOr<nlohmann::ordered_json> doc = ToMachineJson(message);
  if (!doc.ok()) return doc.status();
  return DumpJson(*doc, /*pretty=*/true);
}

// `json` as a JSON value; kInvalidArgument "not a tqs1 plan: ..." if not.
absl::StatusOr<nlohmann::ordered_json> ParseJson(absl::string_view json) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(
      json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("not a tqs1 plan: not JSON");
  }
  return doc;
}

absl::Status FromJson(const nlohmann::ordered_json& doc,
                      google::protobuf::Message* message) {
  if (absl::Status s = FromMachineJson(doc, message); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a tqs1 plan: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckFormat(tqs1::v1::PlanFormat format) {
  if (format == tqs1::v1::PLAN_FORMAT_V1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("plan format ", static_cast<int>(format),
                   " is not one this tqs1 reads (it reads format 1)"));
}

}  // namespace

absl::StatusOr<std::string> RenderPlanJson(const Plan& plan) {
  return ToJson(plan);
}

absl::StatusOr<Plan> ParsePlanJson(absl::string_view json) {
  absl::StatusOr<nlohmann::ordered_json> doc = ParseJson(json);
  if (!doc.ok()) return doc.status();
  Plan plan;
  if (absl::Status s = FromJson(*doc, &plan); !s.ok()) return s;
  if (absl::Status s = CheckFormat(plan.format()); !s.ok()) return s;
  return plan;
}

absl::StatusOr<std::string> RenderPlanFileJson(
    const tqs1::v1::PlanFile& plan_file) {
  absl::StatusOr<nlohmann::ordered_json> plans = ToMachineJson(plan_file);
  if (!plans.ok()) return plans.status();
  bool errored = false, blocked = false, actions = false;
  for (const Plan& plan : plan_file.plans()) {
    errored |= !plan.error().empty();
    blocked |= plan.summary().blocked();
    actions |= plan.actions_size() > 0;
  }
  // What a script checks first, first; then the PlanFile's own fields.
  nlohmann::ordered_json doc = {
      {"format_version", kPlanJsonFormatVersion},
      {"tqs1_version", plan_file.tqs1_version()},
      {"timestamp", plan_file.created_at()},
      {"errored", errored},
      {"applyable", !errored && !blocked && actions},
  };
  for (auto& [key, value] : plans->items()) {
    if (!doc.contains(key)) doc[key] = std::move(value);
  }
  return DumpJson(doc, /*pretty=*/true);
}

absl::StatusOr<tqs1::v1::PlanFile> ParsePlanFileJson(absl::string_view json) {
  absl::StatusOr<nlohmann::ordered_json> doc = ParseJson(json);
  if (!doc.ok()) return doc.status();
  if (doc->is_object() && doc->contains("format_version")) {
    const nlohmann::ordered_json& version = (*doc)["format_version"];
    if (!version.is_string() || version != kPlanJsonFormatVersion) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plan JSON format_version ", version.dump(),
          " is not one this tqs1 reads (it reads \"", kPlanJsonFormatVersion,
          "\" and plan files without one)"));
    }
    // Said of the file, not kept in it: the plans say the same.
    for (const char* key :
         {"format_version", "timestamp", "errored", "applyable"}) {
      doc->erase(key);
    }
  }
  tqs1::v1::PlanFile file;
  if (absl::Status s = FromJson(*doc, &file); !s.ok()) return s;
  if (absl::Status s = CheckFormat(file.format()); !s.ok()) return s;
  for (const Plan& plan : file.plans()) {
    if (absl::Status s = CheckFormat(plan.format()); !s.ok()) return s;
  }
  return file;
}

}  // namespace tqs1::reconciler

#include "cli/check/write_probe.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "reconciler/ownership.h"

namespace tqs1::check {
namespace {

using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Rule;

constexpr absl::string_view kPrefix = "tqs1-probe-";
constexpr absl::string_view kDescription =
    "tqs1 check --write-probe: a disabled test rule of documentation "
    "addresses; safe to delete";
const std::vector<std::string>& Ipv4Values() {
  static const auto* values =
      new std::vector<std::string>{"192.0.2.1", "198.51.100.0/24"};
  return *values;
}
const std::vector<std::string>& Ipv6Values() {
  static const auto* values =
      new std::vector<std::string>{"2001:db8::1", "2001:db8::/32"};
  return *values;
}

// A Disabled Block rule of `values` (addresses and prefixes), any
// direction, every OS.
Rule ProbeRule(const std::string& name, const std::vector<std::string>& values,
               absl::string_view description = kDescription) {
  Rule rule;
  rule.set_name(name);
  rule.set_description(std::string(description));
  rule.set_action(v1::RULE_ACTION_BLOCK);
  rule.set_enabled(false);
  rule.set_direction(v1::DIRECTION_ANY);
  rule.add_os_types(v1::OS_TYPE_WINDOWS);
  rule.add_os_types(v1::OS_TYPE_MACOS);
  rule.add_os_types(v1::OS_TYPE_LINUX);
  v1::HostSet* addresses = rule.add_remote_hosts();
  addresses->set_type("addresses");
  v1::HostSet* cidr = rule.add_remote_hosts();
  cidr->set_type("cidr");
  for (const std::string& v : values) {
    (absl::StrContains(v, "/") ? cidr : addresses)->add_values(v);
  }
  return rule;
}

std::vector<std::string> ValuesOf(const Rule& rule) {
  std::vector<std::string> out;
  for (const v1::HostSet& hosts : rule.remote_hosts()) {
    out.insert(out.end(), hosts.values().begin(), hosts.values().end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::set<int> OsTypesOf(const Rule& rule) {
  return std::set<int>(rule.os_types().begin(), rule.os_types().end());
}

std::string OsTypesText(const Rule& rule) {
  std::vector<std::string> names;
  for (int os : OsTypesOf(rule)) {
    names.push_back(v1::OsType_Name(static_cast<v1::OsType>(os)));
  }
  return absl::StrCat("[", absl::StrJoin(names, ", "), "]");
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CEscape(text), "\"");
}

std::string RandomSuffix() {
  absl::BitGen gen;
  return absl::StrFormat("%08x", absl::Uniform<uint32_t>(gen));
}

class WriteProbe {
 public:
  WriteProbe(sentinelone::FirewallRules& rules, RawRuleCalls* raw,
             const WriteProbeOptions& options, CheckReport& report)
      : rules_(rules),
        raw_(raw),
        options_(options),
        report_(report),
        name_(absl::StrCat(kPrefix, options.suffix.empty() ? RandomSuffix()
                                                           : options.suffix)) {
    Clock& clock = options.clock != nullptr ? *options.clock : RealClock();
    result_.findings.learned_at = clock.Now();
  }

  WriteProbeResult Run() {
    Sweep();
    using Step = bool (WriteProbe::*)();
    const Step steps[] = {
        &WriteProbe::CreateProbeRule,    &WriteProbe::ReadBack,
        &WriteProbe::Duplicate,          &WriteProbe::CaseDuplicate,
        &WriteProbe::DescriptionOnlyPut, &WriteProbe::Ipv6Only};
    for (Step step : steps) {
      if (options_.should_stop && options_.should_stop()) {
        result_.interrupted = true;
        report_.Warn("sentinelone.probe",
                     "stopped on request; cleaning up before the remaining "
                     "probes");
        break;
      }
      if (!(this->*step)()) break;
    }
    CleanUp();
    return std::move(result_);
  }

 private:
  ProbeFindings& findings() { return result_.findings; }
  const std::string& site() const { return options_.site_id; }

  // The site rules `pick` selects, or nullopt (a FAIL line) when the site
  // cannot be read.
  std::optional<std::vector<Rule>> SiteRules(
      absl::string_view probe, const std::function<bool(const Rule&)>& pick) {
    absl::StatusOr<ObservedState> observed = rules_.ReadSite(site());
    if (!observed.ok()) {
      report_.Fail(probe, observed.status());
      return std::nullopt;
    }
    std::vector<Rule> out;
    for (const Rule& rule : observed->rules()) {
      if (reconciler::IsTargetRule(rule, *observed) && pick(rule)) {
        out.push_back(rule);
      }
    }
    return out;
  }

  std::optional<Rule> ReadRule(absl::string_view probe, const std::string& id) {
    std::optional<std::vector<Rule>> found =
        SiteRules(probe, [&id](const Rule& r) { return r.id() == id; });
    if (!found.has_value()) return std::nullopt;
    if (found->empty()) {
      report_.Fail(probe, absl::StrCat("rule ", id,
                                       " is not among the site's rules after "
                                       "it was written"));
      return std::nullopt;
    }
    return found->front();
  }

  void Sweep() {
    std::optional<std::vector<Rule>> left =
        SiteRules("sentinelone.probe.sweep",
                  [](const Rule& r) { return IsProbeRuleName(r.name()); });
    if (!left.has_value()) return;
    if (left->empty()) {
      report_.Pass("sentinelone.probe.sweep",
                   "no tqs1-probe-* rule left from an earlier probe");
      return;
    }
    std::vector<std::string> names;
    int deleted = 0;
    for (const Rule& rule : *left) {
      names.push_back(
          absl::StrCat(Quoted(rule.name()), " (id ", rule.id(), ")"));
      deleted += Delete(rule.id()) ? 1 : 0;
    }
    report_.Add(deleted == static_cast<int>(left->size()) ? Verdict::kWarn
                                                          : Verdict::kFail,
                "sentinelone.probe.sweep",
                absl::StrCat("deleted ", deleted, " of ", left->size(),
                             " rules an earlier, interrupted probe left: ",
                             absl::StrJoin(names, ", ")));
  }

  bool CreateProbeRule() {
    std::vector<std::string> values = Ipv4Values();
    values.insert(values.end(), Ipv6Values().begin(), Ipv6Values().end());
    absl::StatusOr<Rule> created =
        rules_.CreateRule(site(), ProbeRule(name_, values));
    ids_.insert(name_);  // the clean-up also looks for the name
    if (!created.ok() && absl::IsInvalidArgument(created.status())) {
      report_.Warn("sentinelone.probe.create",
                   absl::StrCat("a rule of IPv4 and IPv6 values was refused: ",
                                created.status().message(),
                                "; trying IPv4 values only"));
      values = Ipv4Values();
      created = rules_.CreateRule(site(), ProbeRule(name_, values));
    }
    if (!created.ok()) {
      report_.Fail("sentinelone.probe.create", created.status());
      return false;
    }
    sent_ = ProbeRule(name_, values);
    probe_ = *created;
    ids_.insert(created->id());
    report_.Pass(
        "sentinelone.probe.create",
        absl::StrCat("created ", Quoted(name_), " (id ", created->id(),
                     ", Disabled) with ", absl::StrJoin(values, ", ")));
    return true;
  }

  bool ReadBack() {
    std::optional<Rule> read =
        ReadRule("sentinelone.probe.readback", probe_.id());
    if (!read.has_value()) return false;
    std::vector<std::string> differences;
    const bool values_same = ValuesOf(*read) == ValuesOf(sent_);
    if (!values_same) {
      differences.push_back(
          absl::StrCat("values sent [", absl::StrJoin(ValuesOf(sent_), ", "),
                       "], read [", absl::StrJoin(ValuesOf(*read), ", "), "]"));
    }
    const bool description_same = read->description() == sent_.description();
    if (!description_same) {
      differences.push_back(absl::StrCat("description sent ",
                                         Quoted(sent_.description()), ", read ",
                                         Quoted(read->description())));
    }
    const bool os_same = OsTypesOf(*read) == OsTypesOf(sent_);
    if (!os_same) {
      differences.push_back(absl::StrCat("OS types sent ", OsTypesText(sent_),
                                         ", read ", OsTypesText(*read)));
    }
    findings().values_verbatim = values_same ? Tristate::kYes : Tristate::kNo;
    findings().description_verbatim =
        description_same ? Tristate::kYes : Tristate::kNo;
    findings().os_types_verbatim = os_same ? Tristate::kYes : Tristate::kNo;
    findings().readback_differences = absl::StrJoin(differences, "; ");
    probe_ = *read;
    if (differences.empty()) {
      report_.Pass("sentinelone.probe.readback",
                   "values, description and OS types read back as sent");
    } else {
      report_.Warn(
          "sentinelone.probe.readback",
          absl::StrCat("read back changed: ", findings().readback_differences));
    }
    return true;
  }

  // Creates `rule` (a name the probe rule already holds, in some letter
  // case) and says what the console answered: nullopt when it accepted it
  // (the new rule is noted for the clean-up), else its answer.
  std::optional<std::string> CreateClash(const Rule& rule, bool& no_answer) {
    no_answer = false;
    ids_.insert(rule.name());
    if (raw_ == nullptr) {
      absl::StatusOr<Rule> created = rules_.CreateRule(site(), rule);
      if (created.ok()) {
        ids_.insert(created->id());
        return std::nullopt;
      }
      return std::string(created.status().message());
    }
    absl::StatusOr<RawAnswer> answer = raw_->Create(site(), rule);
    if (!answer.ok()) {
      no_answer = true;
      return std::string(answer.status().message());
    }
    if (answer->status >= 200 && answer->status <= 299) {
      if (std::string id = RuleIdOf(*answer); !id.empty()) ids_.insert(id);
      return std::nullopt;
    }
    return SummarizeAnswer(*answer);
  }

  bool Duplicate() {
    Rule again = sent_;
    again.set_description(absl::StrCat(kDescription, " (a second one)"));
    bool no_answer = false;
    std::optional<std::string> answer = CreateClash(again, no_answer);
    if (no_answer) {
      findings().duplicate_answer = "unknown";
      report_.Warn("sentinelone.probe.duplicate",
                   absl::StrCat("no answer to a second create of ",
                                Quoted(name_), ": ", *answer));
    } else if (!answer.has_value()) {
      findings().duplicate_answer = "accepted";
      report_.Warn("sentinelone.probe.duplicate",
                   absl::StrCat("a second rule named ", Quoted(name_),
                                " was accepted: names are not unique in the "
                                "site"));
    } else {
      findings().duplicate_answer = *answer;
      report_.Pass(
          "sentinelone.probe.duplicate",
          absl::StrCat("a second ", Quoted(name_), " was refused: ", *answer));
    }
    return true;
  }

  bool CaseDuplicate() {
    Rule upper = sent_;
    upper.set_name(absl::AsciiStrToUpper(name_));
    bool no_answer = false;
    std::optional<std::string> answer = CreateClash(upper, no_answer);
    if (no_answer) {
      report_.Warn("sentinelone.probe.case",
                   absl::StrCat("no answer to a create of ",
                                Quoted(upper.name()), ": ", *answer));
    } else if (!answer.has_value()) {
      findings().names_clash_ignoring_case = Tristate::kNo;
      report_.Pass("sentinelone.probe.case",
                   absl::StrCat(Quoted(upper.name()), " was accepted beside ",
                                Quoted(name_),
                                ": names clash only in the same letter case"));
    } else {
      findings().names_clash_ignoring_case = Tristate::kYes;
      findings().case_answer = *answer;
      report_.Pass("sentinelone.probe.case",
                   absl::StrCat(Quoted(upper.name()), " was refused beside ",
                                Quoted(name_),
                                ": names clash ignoring case (tqs1 avoids "
                                "names so); the answer: ",
                                *answer));
    }
    return true;
  }

  bool DescriptionOnlyPut() {
    if (raw_ == nullptr) {
      report_.Warn("sentinelone.probe.put",
                   "not probed: this check has no direct SentinelOne "
                   "connection");
      return true;
    }
    const std::string description = absl::StrCat(kDescription, " (updated)");
    absl::StatusOr<RawAnswer> answer =
        raw_->Put(probe_.id(), nlohmann::json{{"description", description}});
    if (!answer.ok()) {
      report_.Warn("sentinelone.probe.put",
                   absl::StrCat("no answer to a PUT of the description alone: ",
                                answer.status().message()));
      return true;
    }
    if (answer->status < 200 || answer->status > 299) {
      findings().put_update = "refused";
      report_.Warn("sentinelone.probe.put",
                   absl::StrCat("a PUT of the description alone was refused (",
                                SummarizeAnswer(*answer),
                                "); tqs1 always sends every field it manages"));
      return true;
    }
    std::optional<Rule> read = ReadRule("sentinelone.probe.put", probe_.id());
    if (!read.has_value()) return false;
    std::vector<std::string> changed;
    if (read->name() != probe_.name()) changed.push_back("name");
    if (ValuesOf(*read) != ValuesOf(probe_)) changed.push_back("values");
    if (OsTypesOf(*read) != OsTypesOf(probe_)) changed.push_back("OS types");
    if (read->enabled() != probe_.enabled()) changed.push_back("status");
    if (read->direction() != probe_.direction()) changed.push_back("direction");
    if (read->action() != probe_.action()) changed.push_back("action");
    if (read->description() != description) {
      report_.Warn(
          "sentinelone.probe.put",
          absl::StrCat("a PUT of the description alone answered ",
                       SummarizeAnswer(*answer), " but the description reads ",
                       Quoted(read->description())));
    } else if (changed.empty()) {
      findings().put_update = "partial";
      report_.Pass("sentinelone.probe.put",
                   "a PUT of the description alone kept every other field "
                   "(partial update)");
    } else {
      findings().put_update = "full";
      report_.Warn(
          "sentinelone.probe.put",
          absl::StrCat("a PUT of the description alone changed ",
                       absl::StrJoin(changed, ", "),
                       " (full replacement): tqs1 sends every field it "
                       "manages; an adopted rule loses the fields tqs1 does "
                       "not manage (ports, protocol, location)"));
    }
    probe_ = *read;
    return true;
  }

  bool Ipv6Only() {
    const std::string name = absl::StrCat(name_, "-v6");
    ids_.insert(name);
    absl::StatusOr<Rule> created =
        rules_.CreateRule(site(), ProbeRule(name, Ipv6Values()));
    if (created.ok()) {
      ids_.insert(created->id());
      findings().ipv6_accepted = Tristate::kYes;
      report_.Pass("sentinelone.probe.ipv6",
                   absl::StrCat("a rule of IPv6 values only (",
                                absl::StrJoin(Ipv6Values(), ", "),
                                ") was accepted (id ", created->id(), ")"));
    } else if (absl::IsInvalidArgument(created.status())) {
      findings().ipv6_accepted = Tristate::kNo;
      findings().ipv6_answer = std::string(created.status().message());
      report_.Warn("sentinelone.probe.ipv6",
                   absl::StrCat("the console refused a rule of IPv6 values "
                                "only: ",
                                created.status().message(),
                                "; syncs with ipv6: auto leave IPv6 out"));
    } else {
      report_.Fail("sentinelone.probe.ipv6", created.status());
    }
    return true;
  }

  // Deletes rule `id`; true when the site no longer holds it (as far as the
  // answer says). Notes the answer in `deletes_`.
  bool Delete(const std::string& id) {
    if (raw_ != nullptr) {
      absl::StatusOr<RawAnswer> answer = raw_->Delete(site(), id);
      if (answer.ok() && answer->status >= 200 && answer->status <= 299) {
        std::optional<int64_t> affected = AffectedOf(*answer);
        deletes_.push_back(affected.has_value()
                               ? absl::StrCat("affected ", *affected)
                               : std::string("no affected count"));
        if (affected == 1) return true;
      } else {
        deletes_.push_back(answer.ok()
                               ? SummarizeAnswer(*answer)
                               : std::string(answer.status().message()));
      }
    }
    // The client settles what the raw answer left open (a 0, a lost
    // answer) by re-reading the site.
    absl::Status status = rules_.DeleteRule(site(), id);
    if (raw_ == nullptr) {
      deletes_.push_back(status.ok() ? "deleted"
                                     : std::string(status.message()));
    }
    if (!status.ok()) {
      report_.Fail("sentinelone.probe.cleanup",
                   absl::StrCat("deleting rule ", id, ": ", status.message()));
    }
    return status.ok();
  }

  // Whether `rule` is one this run made: its id was returned, or its name is
  // one of this run's (in any letter case: a create whose answer was lost).
  bool OfThisRun(const Rule& rule) const {
    if (ids_.count(rule.id()) > 0) return true;
    for (const std::string& noted : ids_) {
      if (absl::EqualsIgnoreCase(noted, rule.name())) return true;
    }
    return false;
  }

  void CleanUp() {
    std::optional<std::vector<Rule>> mine =
        SiteRules("sentinelone.probe.cleanup",
                  [this](const Rule& r) { return OfThisRun(r); });
    if (!mine.has_value()) {
      report_.Fail("sentinelone.probe.cleanup",
                   absl::StrCat("could not list the site to remove the rules "
                                "named ",
                                name_, "*; delete them by hand"));
      return;
    }
    for (const Rule& rule : *mine) Delete(rule.id());
    findings().delete_answer =
        deletes_.empty() ? "unknown" : absl::StrJoin(deletes_, "; ");
    std::optional<std::vector<Rule>> left =
        SiteRules("sentinelone.probe.cleanup", [this](const Rule& r) {
          return OfThisRun(r) || IsProbeRuleName(r.name());
        });
    if (!left.has_value()) return;
    if (!left->empty()) {
      std::vector<std::string> names;
      for (const Rule& rule : *left) {
        names.push_back(
            absl::StrCat(Quoted(rule.name()), " (id ", rule.id(), ")"));
      }
      report_.Fail("sentinelone.probe.cleanup",
                   absl::StrCat("left in site ", site(), ": ",
                                absl::StrJoin(names, ", "),
                                "; delete them by hand (the next probe tries "
                                "too)"));
      return;
    }
    result_.clean = true;
    const bool all_one =
        !deletes_.empty() &&
        std::all_of(deletes_.begin(), deletes_.end(),
                    [](const std::string& d) { return d == "affected 1"; });
    report_.Add(
        all_one || raw_ == nullptr ? Verdict::kPass : Verdict::kWarn,
        "sentinelone.probe.cleanup",
        absl::StrCat("deleted ", mine->size(), " probe rules (answers: ",
                     deletes_.empty() ? "none" : absl::StrJoin(deletes_, "; "),
                     "); none left in site ", site()));
  }

  sentinelone::FirewallRules& rules_;
  RawRuleCalls* const raw_;
  const WriteProbeOptions& options_;
  CheckReport& report_;
  const std::string name_;
  WriteProbeResult result_;
  Rule sent_;   // the probe rule as sent
  Rule probe_;  // as last read
  // Ids and names of every rule this run made or may have made.
  std::set<std::string> ids_;
  std::vector<std::string> deletes_;
};

}  // namespace

bool IsProbeRuleName(absl::string_view name) {
  if (!absl::StartsWithIgnoreCase(name, kPrefix)) return false;
  absl::string_view rest = name.substr(kPrefix.size());
  if (absl::EndsWithIgnoreCase(rest, "-v6")) rest.remove_suffix(3);
  if (rest.size() != 8) return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return absl::ascii_isxdigit(static_cast<unsigned char>(c));
  });
}

WriteProbeResult RunWriteProbe(sentinelone::FirewallRules& rules,
                               RawRuleCalls* raw,
                               const WriteProbeOptions& options,
                               CheckReport& report) {
  return WriteProbe(rules, raw, options, report).Run();
}

}  // namespace tqs1::check

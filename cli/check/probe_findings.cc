#include "cli/check/probe_findings.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/net.h"
#include "base/status_macros.h"
#include "nlohmann/json.hpp"

namespace tqs1::check {
namespace {

using ::nlohmann::json;

constexpr size_t kMaxFindingsBytes = 1 << 20;

// The console as the findings name it: "host" or "host:port".
absl::StatusOr<std::string> ConsoleOf(absl::string_view console_url) {
  absl::StatusOr<net::ParsedUrl> url = net::ParseUrl(console_url);
  if (!url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SentinelOne console URL: ", url.status().message()));
  }
  return url->port == 0 ? url->host : absl::StrCat(url->host, ":", url->port);
}

std::string FileSafe(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '-' && c != '_') {
      c = '_';
    }
  }
  return out;
}

Tristate TristateFrom(const json& value) {
  if (value == "yes") return Tristate::kYes;
  if (value == "no") return Tristate::kNo;
  return Tristate::kUnknown;
}

}  // namespace

absl::string_view TristateName(Tristate value) {
  switch (value) {
    case Tristate::kYes:
      return "yes";
    case Tristate::kNo:
      return "no";
    case Tristate::kUnknown:
      return "unknown";
  }
  return "unknown";
}

absl::StatusOr<std::string> ProbeFindingsPath(absl::string_view state_dir,
                                              absl::string_view console_url,
                                              absl::string_view site_id) {
  if (site_id.empty()) {
    return absl::InvalidArgumentError("probe findings: empty site id");
  }
  ASSIGN_OR_RETURN(std::string console, ConsoleOf(console_url));
  std::string dir(state_dir.empty() ? "." : state_dir);
  if (dir.back() != '/') dir.push_back('/');
  return absl::StrCat(dir, "probe-", FileSafe(console), "-", FileSafe(site_id),
                      ".json");
}

std::string ProbeFindingsToJson(const ProbeFindings& f) {
  json out = {
      {"console", f.console},
      {"site_id", f.site_id},
      {"learned_at",
       absl::FormatTime(absl::RFC3339_sec, f.learned_at, absl::UTCTimeZone())},
      {"ipv6_accepted", std::string(TristateName(f.ipv6_accepted))},
      {"ipv6_answer", f.ipv6_answer},
      {"values_verbatim", std::string(TristateName(f.values_verbatim))},
      {"description_verbatim",
       std::string(TristateName(f.description_verbatim))},
      {"os_types_verbatim", std::string(TristateName(f.os_types_verbatim))},
      {"readback_differences", f.readback_differences},
      {"duplicate_answer", f.duplicate_answer},
      {"names_clash_ignoring_case",
       std::string(TristateName(f.names_clash_ignoring_case))},
      {"case_answer", f.case_answer},
      {"put_update", f.put_update},
      {"delete_answer", f.delete_answer},
  };
  return out.dump(2) + "\n";
}

absl::StatusOr<ProbeFindings> ProbeFindingsFromJson(absl::string_view text,
                                                    absl::string_view where) {
  json in = json::parse(text.begin(), text.end(), nullptr,
                        /*allow_exceptions=*/false);
  if (in.is_discarded() || !in.is_object()) {
    return absl::DataLossError(
        absl::StrCat(where, ": not a JSON object of probe findings"));
  }
  auto text_of = [&](const char* key,
                     bool required) -> absl::StatusOr<std::string> {
    auto it = in.find(key);
    if (it == in.end() && !required) return std::string();
    if (it == in.end() || !it->is_string()) {
      return absl::DataLossError(
          absl::StrCat(where, ": field \"", key, "\" should be a string"));
    }
    return it->get<std::string>();
  };
  ProbeFindings f;
  ASSIGN_OR_RETURN(f.console, text_of("console", true));
  ASSIGN_OR_RETURN(f.site_id, text_of("site_id", true));
  ASSIGN_OR_RETURN(std::string learned, text_of("learned_at", true));
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, learned, &f.learned_at, &error)) {
    return absl::DataLossError(absl::StrCat(
        where, ": field \"learned_at\" is not an RFC 3339 time: \"", learned,
        "\""));
  }
  ASSIGN_OR_RETURN(std::string ipv6, text_of("ipv6_accepted", true));
  if (ipv6 != "yes" && ipv6 != "no" && ipv6 != "unknown") {
    return absl::DataLossError(
        absl::StrCat(where,
                     ": field \"ipv6_accepted\" should be yes, no or "
                     "unknown, not \"",
                     ipv6, "\""));
  }
  f.ipv6_accepted = TristateFrom(ipv6);
  ASSIGN_OR_RETURN(f.ipv6_answer, text_of("ipv6_answer", false));
  f.values_verbatim = TristateFrom(in.value("values_verbatim", json()));
  f.description_verbatim =
      TristateFrom(in.value("description_verbatim", json()));
  f.os_types_verbatim = TristateFrom(in.value("os_types_verbatim", json()));
  ASSIGN_OR_RETURN(f.readback_differences,
                   text_of("readback_differences", false));
  ASSIGN_OR_RETURN(f.duplicate_answer, text_of("duplicate_answer", false));
  f.names_clash_ignoring_case =
      TristateFrom(in.value("names_clash_ignoring_case", json()));
  ASSIGN_OR_RETURN(f.case_answer, text_of("case_answer", false));
  ASSIGN_OR_RETURN(f.put_update, text_of("put_update", false));
  ASSIGN_OR_RETURN(f.delete_answer, text_of("delete_answer", false));
  if (f.put_update.empty()) f.put_update = "unknown";
  if (f.delete_answer.empty()) f.delete_answer = "unknown";
  return f;
}

absl::StatusOr<std::optional<ProbeFindings>> ReadProbeFindings(
    absl::string_view state_dir, absl::string_view console_url,
    absl::string_view site_id) {
  ASSIGN_OR_RETURN(std::string path,
                   ProbeFindingsPath(state_dir, console_url, site_id));
  absl::StatusOr<std::string> text =
      ReadFileUpTo(path, kMaxFindingsBytes, "probe findings ");
  if (absl::IsNotFound(text.status())) return std::optional<ProbeFindings>();
  if (!text.ok()) return text.status();
  ASSIGN_OR_RETURN(ProbeFindings findings, ProbeFindingsFromJson(*text, path));
  ASSIGN_OR_RETURN(std::string console, ConsoleOf(console_url));
  if (findings.console != console || findings.site_id != site_id) {
    return absl::DataLossError(absl::StrCat(
        path, ": holds findings of console \"", findings.console, "\" site ",
        findings.site_id, ", not of console \"", console, "\" site ", site_id));
  }
  return std::optional<ProbeFindings>(std::move(findings));
}

absl::Status WriteProbeFindings(absl::string_view state_dir,
                                absl::string_view console_url,
                                absl::string_view site_id,
                                ProbeFindings findings) {
  ASSIGN_OR_RETURN(std::string path,
                   ProbeFindingsPath(state_dir, console_url, site_id));
  ASSIGN_OR_RETURN(findings.console, ConsoleOf(console_url));
  findings.site_id = std::string(site_id);
  RETURN_IF_ERROR(MakeFolders(Dirname(path), 0700));
  return WriteFileAtomically(path, ProbeFindingsToJson(findings), 0600,
                             "probe findings ");
}

}  // namespace tqs1::check

// What `tqs1 check --write-probe` learned about a console, kept in the state
// folder so that later plans can use it (a sync's `ipv6: auto`): one JSON
// file per console and site, `<state_dir>/probe-<console>-<site id>.json`,
// mode 0600, replaced atomically (base/files.h).
//
//   ASSIGN_OR_RETURN(std::optional<ProbeFindings> found,
//                    ReadProbeFindings(state_dir, config.sentinelone().url(),
//                                      site_id));
//   bool ipv6 = !found || found->ipv6_accepted != Tristate::kNo;
#ifndef TQS1_CLI_CHECK_PROBE_FINDINGS_H_
#define TQS1_CLI_CHECK_PROBE_FINDINGS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tqs1::check {

// A yes/no question the probe may not have settled.
enum class Tristate { kUnknown, kYes, kNo };

// "yes", "no" or "unknown".
absl::string_view TristateName(Tristate value);

struct ProbeFindings {
  // The console's host, with ":port" when the URL gives one (as in the file
  // name), and the site the probe wrote to.
  std::string console;
  std::string site_id;
  // When the probe ran (its clock).
  absl::Time learned_at = absl::UnixEpoch();

  // Whether the console took a rule of IPv6 values only (2001:db8::1 in
  // `addresses`, 2001:db8::/32 in `cidr`), and its answer when it refused.
  Tristate ipv6_accepted = Tristate::kUnknown;
  std::string ipv6_answer;
  // Whether the probe rule read back as sent: its values (as a set), its
  // description (byte for byte), its OS types (as a set); what differed.
  Tristate values_verbatim = Tristate::kUnknown;
  Tristate description_verbatim = Tristate::kUnknown;
  Tristate os_types_verbatim = Tristate::kUnknown;
  std::string readback_differences;
  // The console's answer to a second create of the same name (HTTP status
  // and error text, or "accepted" when it made a second rule).
  std::string duplicate_answer;
  // Whether a create whose name differs only in letter case was refused.
  Tristate names_clash_ignoring_case = Tristate::kUnknown;
  std::string case_answer;
  // "partial" (a PUT of the description alone kept the other fields),
  // "full" (it cleared or reset them), "refused" (a PUT without the other
  // fields was refused) or "unknown".
  std::string put_update = "unknown";
  // What the deletes answered, e.g. "affected 1" or "affected 0, then gone
  // on re-read"; "unknown" when not seen.
  std::string delete_answer = "unknown";
};

// The findings file's name for the console at `console_url` (its host,
// and "_<port>" when the URL has one; characters other than letters,
// digits, '.', '-' and '_' become '_') and `site_id`:
// "probe-usea1.sentinelone.net-1758952600032266153.json".
// kInvalidArgument for a URL net::ParseUrl refuses or an empty site id.
absl::StatusOr<std::string> ProbeFindingsPath(absl::string_view state_dir,
                                              absl::string_view console_url,
                                              absl::string_view site_id);

// The findings last saved for this console and site; nullopt when there are
// none. kDataLoss "<path>: ..." for a file that is not findings JSON or that
// names another console or site; errno's code for a file that cannot be
// read; kInvalidArgument as ProbeFindingsPath.
absl::StatusOr<std::optional<ProbeFindings>> ReadProbeFindings(
    absl::string_view state_dir, absl::string_view console_url,
    absl::string_view site_id);

// Saves `findings` (its console and site fields are set from the
// arguments) as ReadProbeFindings reads them: mode 0600, atomically; the
// state folder is created (0700) when missing.
absl::Status WriteProbeFindings(absl::string_view state_dir,
                                absl::string_view console_url,
                                absl::string_view site_id,
                                ProbeFindings findings);

// The JSON text of `findings`, and back (kDataLoss naming `where` and the
// field for anything else).
std::string ProbeFindingsToJson(const ProbeFindings& findings);
absl::StatusOr<ProbeFindings> ProbeFindingsFromJson(absl::string_view text,
                                                    absl::string_view where);

}  // namespace tqs1::check

#endif  // TQS1_CLI_CHECK_PROBE_FINDINGS_H_

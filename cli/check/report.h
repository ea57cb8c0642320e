// What `tqs1 check` prints: one line per probe, a verdict (PASS, WARN or
// FAIL), the probe's name and what it found, with every secret of the run
// taken out (base/redact.h), so that the output can be pasted into a support
// ticket. The exit code is 1 when any line is a FAIL.
//
//   CheckReport report({token, password}, &std::cout);  // printed as added
//   report.Pass("threatq.token", "grant password, expires_in 3600");
//   report.Fail("sentinelone.site", status);   // the status' message
//   return report.ExitCode();
//   // PASS  threatq.token           grant password, expires_in 3600
#ifndef TQS1_CLI_CHECK_REPORT_H_
#define TQS1_CLI_CHECK_REPORT_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tqs1::check {

enum class Verdict { kPass, kWarn, kFail };

// "PASS", "WARN" or "FAIL".
absl::string_view VerdictName(Verdict verdict);

struct CheckLine {
  Verdict verdict = Verdict::kPass;
  std::string probe;  // e.g. "sentinelone.site"
  std::string text;   // redacted, one line
};

// The probe column is this wide; longer names are followed by one space.
inline constexpr int kProbeWidth = 24;

// "PASS  sentinelone.site        \"HQ\" ...": the verdict, two spaces, the
// probe padded to kProbeWidth, the text.
std::string RenderLine(const CheckLine& line);

// Not thread-safe.
class CheckReport {
 public:
  // `secrets` (empty ones ignored) are redacted from every text; `out`, when
  // not null, receives each line as it is added (so that an interrupted
  // check has printed what it found).
  explicit CheckReport(std::vector<std::string> secrets,
                       std::ostream* out = nullptr);

  // Adds a line. The text is redacted and made one line (line breaks and
  // tabs become spaces).
  void Add(Verdict verdict, absl::string_view probe, absl::string_view text);
  void Pass(absl::string_view probe, absl::string_view text) {
    Add(Verdict::kPass, probe, text);
  }
  void Warn(absl::string_view probe, absl::string_view text) {
    Add(Verdict::kWarn, probe, text);
  }
  void Fail(absl::string_view probe, absl::string_view text) {
    Add(Verdict::kFail, probe, text);
  }
  // A FAIL line holding `status`' message (and its code when the message
  // does not say it).
  void Fail(absl::string_view probe, const absl::Status& status);

  // `text` redacted as lines are.
  std::string Redact(absl::string_view text) const;

  const std::vector<CheckLine>& lines() const { return lines_; }
  // Every line rendered, each ending in "\n".
  std::string Render() const;
  // 1 when any line is a FAIL, else 0.
  int ExitCode() const;

 private:
  std::vector<std::string> secrets_;
  std::ostream* out_;
  std::vector<CheckLine> lines_;
};

}  // namespace tqs1::check

#endif  // TQS1_CLI_CHECK_REPORT_H_

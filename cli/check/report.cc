#include "cli/check/report.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/redact.h"

namespace tqs1::check {

absl::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kWarn:
      return "WARN";
    case Verdict::kFail:
      return "FAIL";
  }
  return "FAIL";
}

std::string RenderLine(const CheckLine& line) {
  std::string out = absl::StrCat(VerdictName(line.verdict), "  ", line.probe);
  const size_t width = 6 + kProbeWidth;
  out.append(out.size() < width ? width - out.size() : 1, ' ');
  out.append(line.text);
  return out;
}

CheckReport::CheckReport(std::vector<std::string> secrets, std::ostream* out)
    : secrets_(std::move(secrets)), out_(out) {}

std::string CheckReport::Redact(absl::string_view text) const {
  std::vector<absl::string_view> secrets(secrets_.begin(), secrets_.end());
  return RedactSecrets(text, secrets);
}

void CheckReport::Add(Verdict verdict, absl::string_view probe,
                      absl::string_view text) {
  std::string one_line = Redact(text);
  for (char& c : one_line) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  CheckLine& line = lines_.emplace_back();
  line.verdict = verdict;
  line.probe = std::string(probe);
  line.text = std::move(one_line);
  if (out_ != nullptr) *out_ << RenderLine(line) << "\n" << std::flush;
}

void CheckReport::Fail(absl::string_view probe, const absl::Status& status) {
  std::string code(absl::StatusCodeToString(status.code()));
  Add(Verdict::kFail, probe,
      status.message().empty()
          ? code
          : absl::StrCat(status.message(), " (", code, ")"));
}

std::string CheckReport::Render() const {
  std::string out;
  for (const CheckLine& line : lines_)
    absl::StrAppend(&out, RenderLine(line), "\n");
  return out;
}

int CheckReport::ExitCode() const {
  for (const CheckLine& line : lines_) {
    if (line.verdict == Verdict::kFail) return 1;
  }
  return 0;
}

}  // namespace tqs1::check

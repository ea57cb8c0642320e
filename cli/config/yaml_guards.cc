#include "cli/config/yaml_guards.h"

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/mark.h"
#include "yaml-cpp/parser.h"

namespace tqs1::config {
namespace {

// The 1-based line of the first line that starts with ',' outside any flow
// collection (e.g. ",a:\n  b: c"), or 0. Such text is invalid YAML, and
// yaml-cpp 0.7 loops forever on it (found by //tests/fuzz:config_fuzzer), so
// it is refused before yaml-cpp sees it.
int LeadingFlowEntryLine(absl::string_view yaml) {
  // A ',' separates entries of a flow collection: no YAML line outside
  // "[...]" or "{...}" can start with one, and yaml-cpp 0.7 loops forever on
  // some such documents. Quoted scalars and comments are skipped so that
  // their contents do not count.
  int line = 1, depth = 0;
  bool line_start = true, in_comment = false;
  char quote = 0;
  char previous = '\n';
  for (size_t k = 0; k < yaml.size(); ++k) {
    const char c = yaml[k];
    if (c == '\n') {
      ++line;
      line_start = true;
      in_comment = false;
      previous = c;
      continue;
    }
    if (in_comment) continue;
    if (quote != 0) {
      if (quote == '"' && c == '\\') {
        ++k;  // an escaped character
      } else if (c == quote) {
        if (quote == '\'' && k + 1 < yaml.size() && yaml[k + 1] == '\'') {
          ++k;  // '' inside a single-quoted scalar
        } else {
          quote = 0;
        }
      }
      previous = c;
      continue;
    }
    if (line_start && (c == ' ' || c == '\t')) continue;
    if (line_start && c == ',' && depth == 0) return line;
    line_start = false;
    if (c == '#' && (previous == ' ' || previous == '\t' || previous == '\n')) {
      in_comment = true;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    previous = c;
  }
  return 0;
}

// Records where each document yaml-cpp's parser reads starts.
class DocumentStarts : public YAML::EventHandler {
 public:
  const YAML::Mark& last() const { return last_; }

  void OnDocumentStart(const YAML::Mark& mark) override { last_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  YAML::Mark last_ = YAML::Mark::null_mark();
};

// Where yaml-cpp's parser stops advancing through `yaml`, if it does.
// yaml-cpp 0.7 ends a document at a token no rule reads (a stray ',') without
// consuming it, so the next document starts at the same token, and so on:
// YAML::LoadAll() never returns and keeps an empty document per round until
// memory runs out (fixed in later yaml-cpp releases). A document that starts
// where the previous one did is that loop. Throws what the parser throws.
std::optional<YAML::Mark> StuckParserMark(const std::string& yaml) {
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  DocumentStarts starts;
  int previous = -1;
  while (parser.HandleNextDocument(starts)) {
    if (starts.last().pos == previous) return starts.last();
    previous = starts.last().pos;
  }
  return std::nullopt;
}

absl::Status Error(absl::string_view source, int line,
                   absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ":", line, ": ", message));
}

absl::StatusOr<YAML::Node> LoadGuarded(absl::string_view yaml,
                                       absl::string_view source) {
  if (int line = LeadingFlowEntryLine(yaml); line > 0) {
    return Error(source, line,
                 "invalid YAML: a line cannot start with ',' outside [] or {}");
  }
  const std::string text(yaml);
  // Before LoadAll(), which would never return (see StuckParserMark).
  if (std::optional<YAML::Mark> stuck = StuckParserMark(text)) {
    const unsigned char c =
        stuck->pos >= 0 && static_cast<size_t>(stuck->pos) < text.size()
            ? text[stuck->pos]
            : 0;
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", stuck->line + 1, ":", stuck->column + 1,
        ": invalid YAML: unexpected ",
        absl::ascii_isgraph(c) ? absl::StrCat("'", std::string(1, c), "'")
                               : "character"));
  }
  const std::vector<YAML::Node> docs = YAML::LoadAll(text);
  if (docs.size() > 1) {
    return Error(
        source, LineOf(docs[1], 1),
        absl::StrCat("expected one YAML document, found ", docs.size()));
  }
  if (docs.empty()) return YAML::Node();
  return docs[0];
}

}  // namespace

absl::StatusOr<YAML::Node> LoadOneYamlDocument(absl::string_view yaml,
                                               absl::string_view source) {
  try {
    return LoadGuarded(yaml, source);
  } catch (const std::exception& e) {
    return YamlExceptionToStatus(e, source);
  }
}

absl::Status YamlExceptionToStatus(const std::exception& e,
                                   absl::string_view source) {
  if (const auto* yaml = dynamic_cast<const YAML::Exception*>(&e)) {
    if (yaml->mark.is_null()) {
      return Error(source, 1, absl::StrCat("invalid YAML: ", yaml->msg));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", yaml->mark.line + 1, ":",
                     yaml->mark.column + 1, ": invalid YAML: ", yaml->msg));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": cannot read the config: ", e.what()));
}

int LineOf(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

}  // namespace tqs1::config

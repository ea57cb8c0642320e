#include "cli/config/yaml_guards.h"

#include <stdexcept>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace tqs1::config {
namespace {

TEST(LoadOneYamlDocumentTest, OneDocumentOrNone) {
  absl::StatusOr<YAML::Node> doc = LoadOneYamlDocument("a: 1\n", "c.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ((*doc)["a"].Scalar(), "1");

  for (const char* empty : {"", "# only a comment\n", "~\n"}) {
    SCOPED_TRACE(empty);
    absl::StatusOr<YAML::Node> none = LoadOneYamlDocument(empty, "c.yaml");
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_TRUE(none->IsNull());
  }

  EXPECT_EQ(LoadOneYamlDocument("a: 1\n---\nb: 2\n", "c.yaml").status(),
            absl::InvalidArgumentError(
                "c.yaml:3: expected one YAML document, found 2"));
  EXPECT_EQ(LoadOneYamlDocument("a: [1\n", "c.yaml").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(YamlExceptionToStatusTest, NamesTheSourceAndPlace) {
  YAML::Mark mark;
  mark.line = 4;
  mark.column = 2;
  EXPECT_EQ(YamlExceptionToStatus(YAML::ParserException(mark, "bad"), "c.yaml"),
            absl::InvalidArgumentError("c.yaml:5:3: invalid YAML: bad"));
  EXPECT_EQ(YamlExceptionToStatus(
                YAML::Exception(YAML::Mark::null_mark(), "odd"), "c.yaml"),
            absl::InvalidArgumentError("c.yaml:1: invalid YAML: odd"));
  EXPECT_EQ(YamlExceptionToStatus(std::runtime_error("boom"), "c.yaml"),
            absl::InvalidArgumentError("c.yaml: cannot read the config: boom"));
}

// yaml-cpp 0.7 never returns on some text with a line starting with ','
// (found by the fuzzer); such text is refused before it reaches yaml-cpp,
// and commas that are legal (in flow collections, quotes, comments) pass.
TEST(LoadOneYamlDocumentTest, LineStartingWithCommaIsRefusedNotHung) {
  absl::StatusOr<YAML::Node> config =
      LoadOneYamlDocument("a: 1\n\xC2\x96 x\n  ,a:b, 1\n", "tqs1.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "tqs1.yaml:3: invalid YAML: a line cannot start with ',' outside "
            "[] or {}");
  for (const char* fine :
       {"never_block: [10.0.0.1\n  , 10.0.0.2]\n",
        "never_block: [\"a\n  ,b\"]\n", "# x\n# ,y\nnever_block: []\n"}) {
    SCOPED_TRACE(fine);
    absl::StatusOr<YAML::Node> parsed = LoadOneYamlDocument(fine, "tqs1.yaml");
    EXPECT_EQ(parsed.status().message().find("cannot start with ','"),
              absl::string_view::npos)
        << parsed.status();
  }
}

// Stray commas elsewhere made yaml-cpp 0.7's LoadAll() loop and eat memory
// too (found by the fuzzer: a directive line holding '{' before a line
// starting with ','). Wherever yaml-cpp's parser stops advancing, the
// text is refused with the place of the token it cannot read.
TEST(LoadOneYamlDocumentTest, TokenThatStopsTheParserIsRefusedNotHung) {
  const struct {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"%X {\n,\n", "tqs1.yaml:2:1: invalid YAML: unexpected ','"},
      {"{} ,", "tqs1.yaml:1:4: invalid YAML: unexpected ','"},
      {"[a] , b", "tqs1.yaml:1:5: invalid YAML: unexpected ','"},
      {"\"x\" ,", "tqs1.yaml:1:5: invalid YAML: unexpected ','"},
      {"--- ,", "tqs1.yaml:1:5: invalid YAML: unexpected ','"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    absl::StatusOr<YAML::Node> config =
        LoadOneYamlDocument(c.yaml, "tqs1.yaml");
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(config.status().message(), c.message);
  }
}

}  // namespace
}  // namespace tqs1::config

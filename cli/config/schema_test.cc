#include "cli/config/schema.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace tqs1::config {
namespace {

constexpr absl::string_view kKeys[] = {"enabled", "password_env",
                                       "password_file", "page_size"};

Located Root(const std::string& yaml) {
  return Located{YAML::Load(yaml), "rule", 3};
}

TEST(SuggestTest, ClosestKeyWithinTypoDistance) {
  EXPECT_EQ(Suggest("enabeld", kKeys).value_or("-"), "enabled");
  EXPECT_EQ(Suggest("PAGE_SIZE", kKeys).value_or("-"), "page_size");
  EXPECT_EQ(Suggest("pagesize", kKeys).value_or("-"), "page_size");
  EXPECT_FALSE(Suggest("colour", kKeys).has_value());
}

TEST(QuoteTest, EscapesAndCuts) {
  EXPECT_EQ(Quote("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(Quote(std::string(61, 'x')), "\"" + std::string(60, 'x') + "...\"");
}

TEST(SchemaReaderTest, ReadMapNamesUnknownAndDuplicateKeys) {
  const SchemaReader reader("c.yaml");
  absl::StatusOr<MapView> m = reader.ReadMap(Root("enabled: true\n"), kKeys);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_NE(m->Find("enabled"), nullptr);
  EXPECT_EQ(m->Find("enabled")->value.path, "rule.enabled");
  EXPECT_EQ(m->Find("page_size"), nullptr);

  const struct {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"enabeld: true\n",
       "c.yaml:1: unknown key \"enabeld\" in rule (did you mean "
       "\"enabled\"?)"},
      {"colour: red\n",
       "c.yaml:1: unknown key \"colour\" in rule (expected one of: enabled, "
       "password_env, password_file, page_size)"},
      {"password: hunter2\n",
       "c.yaml:1: rule.password: secrets may not be written in the config "
       "file; reference one with password_env or password_file"},
      {"enabled: true\nenabled: false\n",
       "c.yaml:2: duplicate key \"enabled\" in rule (first at line 1)"},
      {"[a]\n", "c.yaml:3: rule: expected a map of keys, got a list"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(reader.ReadMap(Root(c.yaml), kKeys).status(),
              absl::InvalidArgumentError(c.message));
  }
}

TEST(SchemaReaderTest, TypedReads) {
  const SchemaReader reader("c.yaml");
  EXPECT_EQ(reader.ReadUint(Root("42"), 1, 100).value_or(0), 42u);
  EXPECT_EQ(reader.ReadUint(Root("+42"), 1, 100).status(),
            absl::InvalidArgumentError("c.yaml:3: rule: expected a whole "
                                       "number from 1 to 100, got \"+42\""));
  EXPECT_EQ(reader.ReadUint(Root("0"), 1, kMaxUint64).status(),
            absl::InvalidArgumentError("c.yaml:3: rule: expected a whole "
                                       "number of at least 1, got \"0\""));
  EXPECT_TRUE(reader.ReadBool(Root("FALSE")).ok());
  EXPECT_EQ(reader.ReadFraction(Root("0.5")).value_or(0), 0.5);
  EXPECT_EQ(reader.Require(MapView{"rule", 7, {}}, "site").status(),
            absl::InvalidArgumentError(
                "c.yaml:7: rule: missing required key \"site\""));
  absl::StatusOr<std::vector<Located>> list = reader.ReadList(Root("[a, b]"));
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].path, "rule[1]");
}

}  // namespace
}  // namespace tqs1::config

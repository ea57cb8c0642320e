#include "cli/check/raw_rules.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::check {
namespace {

using ::testing::HasSubstr;

TEST(RawRulesTest, AffectedOfReadsCountsOnly) {
  struct Case {
    const char* body;
    std::optional<int64_t> affected;
  } cases[] = {
      {R"({"data":{"affected":1}})", 1},
      {R"({"data":{"affected":0}})", 0},
      {R"({"data":{"affected":"1"}})", 1},
      {R"({"data":{"affected":"one"}})", std::nullopt},
      {R"({"data":{}})", std::nullopt},
      {R"({"data":null})", std::nullopt},
      {"<html>", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    EXPECT_EQ(AffectedOf({200, c.body}), c.affected);
  }
}

TEST(RawRulesTest, RuleIdOfTakesStringOrIntegerIds) {
  EXPECT_EQ(RuleIdOf({200, R"({"data":{"id":"225494730938400001"}})"}),
            "225494730938400001");
  EXPECT_EQ(RuleIdOf({200, R"({"data":{"id":17}})"}), "17");
  EXPECT_EQ(RuleIdOf({200, R"({"data":{}})"}), "");
  EXPECT_EQ(RuleIdOf({200, "not json"}), "");
}

TEST(RawRulesTest, SummarizeAnswerKeepsTheVendorsWords) {
  EXPECT_EQ(SummarizeAnswer({201, "{}"}), "HTTP 201");
  std::string refused = SummarizeAnswer(
      {400,
       R"({"errors":[{"code":4000010,"title":"Validation Error","detail":"Firewall rule name \"x\" already exists in this scope"}]})"});
  EXPECT_THAT(refused, HasSubstr("HTTP 400"));
  EXPECT_THAT(refused, HasSubstr("4000010"));
  EXPECT_THAT(refused, HasSubstr("already exists in this scope"));
}

TEST(RawRulesTest, CreateNeedsTransportUrlAndToken) {
  EXPECT_EQ(HttpRawRuleCalls::Create(nullptr, "https://c", "t").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tqs1::check

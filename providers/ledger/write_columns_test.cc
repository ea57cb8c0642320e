#include "providers/ledger/write_columns.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::ledger {
namespace {

using ::testing::SizeIs;

WrittenEntry V4(uint32_t first, uint32_t last) {
  WrittenEntry e;
  e.key = {4, first, last};
  return e;
}

struct Span {
  uint8_t family;
  uint64_t first, last;
  bool operator==(const Span& o) const {
    return family == o.family && first == o.first && last == o.last;
  }
};

std::vector<Span> Decode(const std::vector<KeySpan>& spans) {
  std::vector<Span> out;
  for (const KeySpan& s : spans) {
    uint64_t first = 0, last = 0;
    for (unsigned char c : s.first) first = (first << 8) | c;
    for (unsigned char c : s.last) last = (last << 8) | c;
    out.push_back({s.family, first, last});
  }
  return out;
}

TEST(WriteColumnsTest, SpansCutAtTheWidestGaps) {
  // An update: a removal low in the rule, additions far above it.
  const std::string removed = Keys({V4(100, 100), V4(120, 120)});
  const std::string added = Keys({V4(9000, 9000), V4(9001, 9255)});
  EXPECT_EQ(Decode(SpansOf(added, removed)),
            (std::vector<Span>{{4, 100, 100}, {4, 120, 120}, {4, 9000, 9255}}));

  // More clusters than spans: kMaxSpans, covering every key, the narrowest
  // gap left inside one.
  std::vector<WrittenEntry> many;
  for (uint32_t k = 0; k < 10; ++k) many.push_back(V4(k * 1000, k * 1000));
  many.push_back(V4(9001, 9001));  // 1 past 9000: the narrowest gap
  many.push_back(V4(5, 5));        // out of order
  const std::vector<Span> spans = Decode(SpansOf(Keys(many), ""));
  ASSERT_THAT(spans, SizeIs(kMaxSpans));
  EXPECT_EQ(spans.front().first, 0u);
  EXPECT_EQ(spans.back().last, 9001u);
  for (const WrittenEntry& e : many) {
    int covering = 0;
    for (const Span& s : spans) {
      covering += s.first <= e.key.first && e.key.last <= s.last;
    }
    EXPECT_EQ(covering, 1) << e.key.first;
  }

  // Families apart; entries that do not parse (family 0) span nothing.
  WrittenEntry v6;
  v6.key = {6, 0xfc00000000000000, ~uint64_t{0}};
  WrittenEntry unparsed;
  EXPECT_EQ(
      Decode(SpansOf(Keys({V4(7, 7), v6, unparsed}), "")),
      (std::vector<Span>{{4, 7, 7}, {6, 0xfc00000000000000, ~uint64_t{0}}}));
  EXPECT_TRUE(SpansOf("", "").empty());
}

}  // namespace
}  // namespace tqs1::ledger

#include "reconciler/normalize.h"

#include <algorithm>
#include <array>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tqs1::reconciler {
namespace {

struct BuiltIn {
  const char* prefix;
  const char* reason;
};

constexpr BuiltIn kBuiltIns[] = {
    {"0.0.0.0/8", "built-in: \"this network\" (unspecified)"},
    {"127.0.0.0/8", "built-in: loopback"},
    {"169.254.0.0/16", "built-in: link-local"},
    {"224.0.0.0/4", "built-in: multicast"},
    {"255.255.255.255", "built-in: broadcast"},
    {"::", "built-in: unspecified"},
    {"::1", "built-in: loopback"},
    {"fe80::/10", "built-in: link-local"},
    {"ff00::/8", "built-in: multicast"},
};

using ::tqs1::v1::InputCategory;

struct CategoryRange {
  const char* prefix;
  InputCategory category;
};

constexpr CategoryRange kCategoryRanges[] = {
    {"10.0.0.0/8", tqs1::v1::INPUT_CATEGORY_PRIVATE},
    {"172.16.0.0/12", tqs1::v1::INPUT_CATEGORY_PRIVATE},
    {"192.168.0.0/16", tqs1::v1::INPUT_CATEGORY_PRIVATE},
    {"100.64.0.0/10", tqs1::v1::INPUT_CATEGORY_CGNAT},
    {"192.0.2.0/24", tqs1::v1::INPUT_CATEGORY_DOCUMENTATION},
    {"198.51.100.0/24", tqs1::v1::INPUT_CATEGORY_DOCUMENTATION},
    {"203.0.113.0/24", tqs1::v1::INPUT_CATEGORY_DOCUMENTATION},
    {"2001:db8::/32", tqs1::v1::INPUT_CATEGORY_DOCUMENTATION},
    {"fc00::/7", tqs1::v1::INPUT_CATEGORY_UNIQUE_LOCAL},
};

struct ParsedRange {
  IpPrefix prefix;
  uint32_t bit;
};

// kCategoryRanges parsed once, and the IPv4 first octets that any of them
// starts with: an IPv4 prefix of /8 or longer whose first octet is not
// marked overlaps none of them.
struct CategoryTable {
  std::vector<ParsedRange> ranges;
  std::array<bool, 256> v4_first_octet{};

  CategoryTable() {
    for (const CategoryRange& r : kCategoryRanges) {
      IpPrefix prefix = *ParseIpPrefix(r.prefix);
      ranges.push_back({prefix, 1u << r.category});
      if (prefix.family() == IpPrefix::Family::kV4) {
        v4_first_octet[(prefix.low_bits() >> 24) & 0xff] = true;
      }
    }
  }
};

const CategoryTable& Categories() {
  static const CategoryTable* table = new CategoryTable();
  return *table;
}

// "private (RFC 1918) address", for rejection reasons.
std::string CategoryNoun(InputCategory category) {
  switch (category) {
    case tqs1::v1::INPUT_CATEGORY_PRIVATE:
      return "private (RFC 1918) address";
    case tqs1::v1::INPUT_CATEGORY_CGNAT:
      return "CGNAT (100.64.0.0/10) address";
    case tqs1::v1::INPUT_CATEGORY_DOCUMENTATION:
      return "documentation address (RFC 5737, RFC 3849)";
    case tqs1::v1::INPUT_CATEGORY_UNIQUE_LOCAL:
      return "unique-local IPv6 (fc00::/7) address";
    case tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX:
      return absl::StrCat("short prefix (IPv4 shorter than /", kShortIpv4Prefix,
                          ", IPv6 shorter than /", kShortIpv6Prefix, ")");
    default:
      return "value";
  }
}

// InputCategories() against a table the caller looked up once (the hot
// loop of NormalizeValues), inlined there.
inline uint32_t CategoriesIn(const CategoryTable& table,
                             const IpPrefix& prefix) {
  uint32_t mask = 0;
  if (prefix.family() == IpPrefix::Family::kV4) {
    if (prefix.length() < kShortIpv4Prefix) {
      mask |= 1u << tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX;
    } else if (!table.v4_first_octet[(prefix.low_bits() >> 24) & 0xff]) {
      return 0;  // the common case: one look-up
    }
  } else if (prefix.length() < kShortIpv6Prefix) {
    mask |= 1u << tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX;
  }
  for (const ParsedRange& r : table.ranges) {
    if (r.prefix.Overlaps(prefix)) mask |= r.bit;
  }
  return mask;
}

}  // namespace

uint32_t InputCategories(const IpPrefix& prefix) {
  return CategoriesIn(Categories(), prefix);
}

std::string InputCategoryKey(InputCategory category) {
  std::string name = tqs1::v1::InputCategory_Name(category);
  absl::string_view key = name;
  absl::ConsumePrefix(&key, "INPUT_CATEGORY_");
  return absl::AsciiStrToLower(key);
}

namespace {

constexpr int kCategories = tqs1::v1::InputCategory_ARRAYSIZE;

// What NormalizeValues learns about the categorized values (off its hot
// path: only values in some category get here).
struct CategoryTally {
  explicit CategoryTally(uint32_t refuse) : refuse(refuse) {}

  // For a value of the categories in `mask`: the reason it is refused, or
  // empty when it is blocked (then noted among the examples).
  ABSL_ATTRIBUTE_NOINLINE std::string Take(uint32_t mask,
                                           const IpPrefix& prefix) {
    if (const uint32_t hit = mask & refuse; hit != 0) {
      const int category = __builtin_ctz(hit);
      ++refused[category];
      if (refused_examples[category].size() < kMaxCategoryExamples) {
        refused_examples[category].push_back(prefix);
      }
      const auto c = static_cast<InputCategory>(category);
      return absl::StrCat(CategoryNoun(c),
                          ": refused (refuse: ", InputCategoryKey(c), ")");
    }
    seen |= mask;
    for (int c = 1; c < kCategories; ++c) {
      std::vector<IpPrefix>& e = examples[c];
      if ((mask & (1u << c)) != 0 && e.size() < kMaxCategoryExamples &&
          std::find(e.begin(), e.end(), prefix) == e.end()) {
        e.push_back(prefix);
      }
    }
    return "";
  }

  const uint32_t refuse;
  // Categories of blocked values seen.
  uint32_t seen = 0;
  // Per category: refused values and their first ones; the first distinct
  // blocked ones (input order).
  std::array<uint64_t, kCategories> refused{};
  std::array<std::vector<IpPrefix>, kCategories> refused_examples;
  std::array<std::vector<IpPrefix>, kCategories> examples;
};

}  // namespace

absl::StatusOr<NeverBlockList> NeverBlockList::Create(
    const tqs1::v1::DesiredState& desired) {
  NeverBlockList list;
  for (const BuiltIn& b : kBuiltIns) {
    list.entries_.push_back({*ParseIpPrefix(b.prefix), b.reason});
  }
  for (const tqs1::v1::NeverBlock& entry : desired.never_block()) {
    absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(entry.prefix());
    if (!prefix.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("never-block entry \"", entry.prefix(), "\" (",
                       entry.reason(), "): ", prefix.status().message()));
    }
    list.entries_.push_back({*prefix, entry.reason()});
  }
  const tqs1::v1::SyncConfig& sync = desired.sync();
  for (const std::string& value : sync.never_block()) {
    absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(value);
    if (!prefix.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("never_block entry \"", value, "\" of sync \"",
                       sync.name(), "\": ", prefix.status().message()));
    }
    list.entries_.push_back(
        {*prefix, absl::StrCat("never_block of sync \"", sync.name(), "\"")});
  }
  return list;
}

const NeverBlockList::Entry* NeverBlockList::Find(
    const IpPrefix& prefix) const {
  for (const Entry& entry : entries_) {
    if (entry.prefix.Overlaps(prefix)) return &entry;
  }
  return nullptr;
}

GuardSettings GuardSettings::FromProto(const tqs1::v1::Guards& guards) {
  GuardSettings s;
  if (guards.min_desired_addresses() > 0) {
    s.min_desired_addresses = guards.min_desired_addresses();
  }
  if (guards.max_unblock_fraction() > 0) {
    s.max_unblock_fraction = guards.max_unblock_fraction();
  }
  if (guards.unblock_floor() > 0) s.unblock_floor = guards.unblock_floor();
  if (guards.min_ipv4_prefix() > 0)
    s.min_ipv4_prefix = guards.min_ipv4_prefix();
  if (guards.min_ipv6_prefix() > 0)
    s.min_ipv6_prefix = guards.min_ipv6_prefix();
  return s;
}

NormalizedValues NormalizeValues(
    const google::protobuf::RepeatedPtrField<std::string>& values,
    const NeverBlockList& never_block, const GuardSettings& guards,
    const NormalizeOptions& options) {
  NormalizedValues out;
  tqs1::v1::InputReport& report = out.report;
  report.set_values(values.size());
  out.prefixes.reserve(values.size());
  const google::protobuf::RepeatedField<uint64_t>* ids =
      options.indicator_ids != nullptr &&
              options.indicator_ids->size() == values.size()
          ? options.indicator_ids
          : nullptr;

  auto reject = [&report, ids](int k, const std::string& value,
                               std::string reason) {
    if (report.rejected_size() < kMaxRejectedExamples) {
      tqs1::v1::RejectedValue* r = report.add_rejected();
      r->set_value(value);
      r->set_reason(std::move(reason));
      if (ids != nullptr) r->set_indicator_id(ids->Get(k));
    } else {
      report.set_rejected_truncated(report.rejected_truncated() + 1);
    }
  };

  CategoryTally tally(options.refuse);
  const CategoryTable& categories = Categories();

  int k = -1;
  for (const std::string& value : values) {
    ++k;
    absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(value);
    if (!prefix.ok()) {
      report.set_invalid(report.invalid() + 1);
      reject(k, value, std::string(prefix.status().message()));
      continue;
    }
    if (options.ipv6_off && prefix->family() == IpPrefix::Family::kV6) {
      report.set_refused(report.refused() + 1);
      reject(k, value, kIpv6OffReason);
      continue;
    }
    int min_length = prefix->family() == IpPrefix::Family::kV4
                         ? guards.min_ipv4_prefix
                         : guards.min_ipv6_prefix;
    if (prefix->length() < min_length) {
      report.set_invalid(report.invalid() + 1);
      reject(
          k, value,
          absl::StrCat("prefix /", prefix->length(),
                       " is too broad (shortest allowed: /", min_length, ")"));
      continue;
    }
    if (const NeverBlockList::Entry* hit = never_block.Find(*prefix)) {
      report.set_never_blocked(report.never_blocked() + 1);
      reject(k, value,
             absl::StrCat("never blocked: ", hit->prefix.ToString(), " (",
                          hit->reason, ")"));
      continue;
    }
    if (const uint32_t mask = CategoriesIn(categories, *prefix);
        ABSL_PREDICT_FALSE(mask != 0)) {
      std::string refusal = tally.Take(mask, *prefix);
      if (!refusal.empty()) {
        report.set_refused(report.refused() + 1);
        reject(k, value, std::move(refusal));
        continue;
      }
    }
    out.prefixes.push_back(*prefix);
  }

  if (!std::is_sorted(out.prefixes.begin(), out.prefixes.end())) {
    SortPrefixes(out.prefixes);
  }
  size_t valid = out.prefixes.size();
  out.prefixes.erase(std::unique(out.prefixes.begin(), out.prefixes.end()),
                     out.prefixes.end());
  out.prefixes.shrink_to_fit();
  report.set_duplicates(valid - out.prefixes.size());
  report.set_desired(out.prefixes.size());

  // Blocked values are counted once each: after deduplication.
  std::array<uint64_t, kCategories> blocked{};
  if (tally.seen != 0) {
    for (const IpPrefix& p : out.prefixes) {
      uint32_t mask = CategoriesIn(categories, p);
      for (int c = 1; c < kCategories; ++c) {
        if ((mask & (1u << c)) != 0) ++blocked[c];
      }
    }
  }
  for (int c = 1; c < kCategories; ++c) {
    if (blocked[c] > 0) {
      tqs1::v1::InputWarning* w = report.add_warnings();
      w->set_category(static_cast<InputCategory>(c));
      w->set_count(blocked[c]);
      for (const IpPrefix& p : tally.examples[c]) w->add_examples(p.ToString());
    }
    if (tally.refused[c] > 0) {
      tqs1::v1::InputWarning* w = report.add_warnings();
      w->set_category(static_cast<InputCategory>(c));
      w->set_count(tally.refused[c]);
      w->set_refused(true);
      for (const IpPrefix& p : tally.refused_examples[c]) {
        w->add_examples(p.ToString());
      }
    }
  }
  return out;
}

NormalizedValues NormalizeValues(const tqs1::v1::DesiredState& desired,
                                 const NeverBlockList& never_block,
                                 const GuardSettings& guards) {
  NormalizeOptions options;
  options.indicator_ids = &desired.indicator_ids();
  for (int category : desired.sync().refuse()) {
    if (category > 0 && category < tqs1::v1::InputCategory_ARRAYSIZE) {
      options.refuse |= 1u << category;
    }
  }
  options.ipv6_off = desired.sync().ipv6() == tqs1::v1::IPV6_MODE_OFF;
  return NormalizeValues(desired.values(), never_block, guards, options);
}

}  // namespace tqs1::reconciler

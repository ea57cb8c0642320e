#include "reconciler/normalize.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

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
    const NeverBlockList& never_block, const GuardSettings& guards) {
  NormalizedValues out;
  tqs1::v1::InputReport& report = out.report;
  report.set_values(values.size());
  out.prefixes.reserve(values.size());

  auto reject = [&report](const std::string& value, std::string reason) {
    if (report.rejected_size() < kMaxRejectedExamples) {
      tqs1::v1::RejectedValue* r = report.add_rejected();
      r->set_value(value);
      r->set_reason(std::move(reason));
    } else {
      report.set_rejected_truncated(report.rejected_truncated() + 1);
    }
  };

  for (const std::string& value : values) {
    absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(value);
    if (!prefix.ok()) {
      report.set_invalid(report.invalid() + 1);
      reject(value, std::string(prefix.status().message()));
      continue;
    }
    int min_length = prefix->family() == IpPrefix::Family::kV4
                         ? guards.min_ipv4_prefix
                         : guards.min_ipv6_prefix;
    if (prefix->length() < min_length) {
      report.set_invalid(report.invalid() + 1);
      reject(value, absl::StrCat("prefix /", prefix->length(),
                                 " is too broad (shortest allowed: /",
                                 min_length, ")"));
      continue;
    }
    if (const NeverBlockList::Entry* hit = never_block.Find(*prefix)) {
      report.set_never_blocked(report.never_blocked() + 1);
      reject(value, absl::StrCat("never blocked: ", hit->prefix.ToString(),
                                 " (", hit->reason, ")"));
      continue;
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
  return out;
}

}  // namespace tqs1::reconciler

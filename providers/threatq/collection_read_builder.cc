#include "providers/threatq/collection_read_builder.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tqs1::threatq {

std::vector<std::string> DefaultBlockStatuses() { return {"Active"}; }

bool IsIpIndicatorType(absl::string_view type) {
  return absl::EqualsIgnoreCase(type, "IP Address") ||
         absl::EqualsIgnoreCase(type, "IPv6 Address") ||
         absl::EqualsIgnoreCase(type, "CIDR Block");
}

CollectionReadBuilder::CollectionReadBuilder(
    std::vector<std::string> block_statuses)
    : block_statuses_(std::move(block_statuses)) {
  block_statuses_.erase(
      std::remove_if(block_statuses_.begin(), block_statuses_.end(),
                     [](const std::string& status) {
                       return absl::EqualsIgnoreCase(status,
                                                     kNeverBlockedStatus);
                     }),
      block_statuses_.end());
}

void CollectionReadBuilder::Add(absl::string_view value, absl::string_view type,
                                absl::string_view status,
                                uint64_t indicator_id) {
  tqs1::v1::SourceReport& report = read_.report;
  report.set_indicators_read(report.indicators_read() + 1);
  if (!IsIpIndicatorType(type)) {
    (*report.mutable_skipped_types())[std::string(type)]++;
    if (MayBeAddress(value)) SetAside(value, type, status, indicator_id);
    return;
  }
  const bool block = std::any_of(
      block_statuses_.begin(), block_statuses_.end(),
      [&](const std::string& s) { return absl::EqualsIgnoreCase(status, s); });
  if (!block) {
    (*report.mutable_skipped_statuses())[std::string(status)]++;
    SetAside(value, type, status, indicator_id);
    return;
  }
  read_.values.emplace_back(value);
  read_.indicator_ids.push_back(indicator_id);
  // The last origin is almost always the one again: a collection holds a
  // few distinct (type, status) pairs.
  if (read_.origins.empty() || read_.origins[last_origin_].type != type ||
      read_.origins[last_origin_].status != status) {
    auto found = std::find_if(read_.origins.begin(), read_.origins.end(),
                              [&](const CollectionRead::Origin& o) {
                                return o.type == type && o.status == status;
                              });
    if (found == read_.origins.end()) {
      read_.origins.push_back({std::string(type), std::string(status)});
      found = read_.origins.end() - 1;
    }
    last_origin_ = static_cast<uint32_t>(found - read_.origins.begin());
  }
  read_.origin_of.push_back(last_origin_);
}

void CollectionReadBuilder::SetAside(absl::string_view value,
                                     absl::string_view type,
                                     absl::string_view status,
                                     uint64_t indicator_id) {
  read_.set_aside.push_back({std::string(value), indicator_id,
                             std::string(type), std::string(status)});
}

bool MayBeAddress(absl::string_view value) {
  if (value.empty() || value.size() > 64) return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == '.' ||
           c == ':' || c == '/';
  });
}

CollectionRead CollectionReadBuilder::Finish() && { return std::move(read_); }

std::vector<std::string> NearMatches(absl::string_view wanted,
                                     const std::vector<std::string>& names,
                                     size_t max) {
  const std::string lower_wanted = absl::AsciiStrToLower(wanted);
  std::vector<std::string> out;
  for (const std::string& name : names) {
    if (out.size() >= max) break;
    if (name == wanted) continue;
    const std::string lower = absl::AsciiStrToLower(name);
    if (lower.empty() || lower_wanted.empty()) continue;
    if (absl::StrContains(lower, lower_wanted) ||
        absl::StrContains(lower_wanted, lower)) {
      if (std::find(out.begin(), out.end(), name) == out.end()) {
        out.push_back(name);
      }
    }
  }
  return out;
}

absl::Status NoSuchCollectionError(absl::string_view wanted,
                                   const std::vector<std::string>& names) {
  std::vector<std::string> near = NearMatches(wanted, names);
  std::string message =
      absl::StrCat("ThreatQ: no data collection is named exactly \"", wanted,
                   "\" (", names.size(),
                   " visible to this user; a collection must be owned by or "
                   "shared with the API user)");
  if (!near.empty()) {
    absl::StrAppend(&message, "; near matches: \"",
                    absl::StrJoin(near, "\", \""), "\"");
  }
  return absl::NotFoundError(message);
}

absl::Status DuplicateCollectionError(absl::string_view wanted, int count) {
  return absl::FailedPreconditionError(
      absl::StrCat("ThreatQ: ", count, " data collections are named \"", wanted,
                   "\"; rename all but one so the name is unique"));
}

}  // namespace tqs1::threatq

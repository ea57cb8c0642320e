#include "providers/ledger/write_columns.h"

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tqs1::ledger {
namespace {

// Little-endian, whatever the machine's order.
void PutU64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
uint64_t GetU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::string Keys(const std::vector<WrittenEntry>& entries) {
  std::string out(entries.size() * kKeyBytes, '\0');
  char* p = out.data();
  for (const WrittenEntry& e : entries) {
    p[0] = static_cast<char>(e.key.family);
    PutU64(p + 1, e.key.first);
    PutU64(p + 9, e.key.last);
    p += kKeyBytes;
  }
  return out;
}

EntryKey KeyAt(const unsigned char* p) {
  return {p[0], GetU64(p + 1), GetU64(p + 9)};
}

std::string BigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[7 - i] = static_cast<char>(v >> (8 * i));
  return out;
}

std::vector<KeySpan> SpansOf(absl::string_view a, absl::string_view b) {
  std::vector<KeySpan> out;
  for (uint8_t family : {uint8_t{4}, uint8_t{6}}) {
    std::vector<std::pair<uint64_t, uint64_t>> keys;  // first, last
    for (absl::string_view column : {a, b}) {
      const auto* p = reinterpret_cast<const unsigned char*>(column.data());
      for (size_t i = 0; i + kKeyBytes <= column.size(); i += kKeyBytes) {
        const EntryKey k = KeyAt(p + i);
        if (k.family == family) keys.emplace_back(k.first, k.last);
      }
    }
    if (keys.empty()) continue;
    if (!std::is_sorted(keys.begin(), keys.end())) {
      std::sort(keys.begin(), keys.end());
    }
    // The gaps between keys (addresses no key holds, after key i); the
    // kMaxSpans - 1 widest are the cuts.
    std::vector<std::pair<uint64_t, size_t>> gaps;  // width, after key i
    uint64_t reach = keys[0].second;
    for (size_t i = 1; i < keys.size(); ++i) {
      if (keys[i].first > reach + 1) {
        gaps.emplace_back(keys[i].first - reach - 1, i - 1);
      }
      reach = std::max(reach, keys[i].second);
    }
    const size_t cuts = std::min(gaps.size(), kMaxSpans - 1);
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<ptrdiff_t>(cuts),
                     gaps.end(), std::greater<>());
    std::vector<size_t> ends;  // the last key of each span but the last
    for (size_t c = 0; c < cuts; ++c) ends.push_back(gaps[c].second);
    std::sort(ends.begin(), ends.end());
    ends.push_back(keys.size() - 1);
    size_t begin = 0;
    for (size_t end : ends) {
      uint64_t last = keys[begin].second;
      for (size_t i = begin; i <= end; ++i)
        last = std::max(last, keys[i].second);
      out.push_back({family, BigEndian(keys[begin].first), BigEndian(last)});
      begin = end + 1;
    }
  }
  return out;
}

std::string Texts(const std::vector<WrittenEntry>& entries) {
  size_t size = 0;
  for (const WrittenEntry& e : entries) size += e.text.size() + 1;
  std::string out;
  out.reserve(size);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out.push_back('\n');
    out.append(entries[i].text);
  }
  return out;
}

std::vector<std::string> Lines(absl::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, '\n');
}

std::string Sources(const std::vector<WrittenEntry>& entries) {
  std::vector<std::pair<absl::string_view, absl::string_view>> origins;
  std::string lines;
  for (size_t i = 0; i < entries.size(); ++i) {
    for (const Source& s : entries[i].sources) {
      size_t origin = 0;
      while (origin < origins.size() && (origins[origin].first != s.type ||
                                         origins[origin].second != s.status)) {
        ++origin;
      }
      if (origin == origins.size()) origins.emplace_back(s.type, s.status);
      absl::StrAppend(&lines, i, "\t", s.indicator_id, "\t", origin, "\t");
      if (s.value != entries[i].text) {
        absl::StrAppend(&lines, absl::CEscape(s.value));
      }
      lines.push_back('\n');
    }
  }
  std::string out;
  for (const auto& [type, status] : origins) {
    absl::StrAppend(&out, "@\t", absl::CEscape(type), "\t",
                    absl::CEscape(status), "\n");
  }
  out.append(lines);
  return out;
}

WriteKind KindFromName(absl::string_view name) {
  for (WriteKind k :
       {WriteKind::kCreate, WriteKind::kUpdate, WriteKind::kDelete,
        WriteKind::kObserved, WriteKind::kBaseline}) {
    if (WriteKindName(k) == name) return k;
  }
  return WriteKind::kObserved;
}

absl::StatusOr<std::vector<WrittenEntry>> EntriesOf(absl::string_view texts,
                                                    absl::string_view keys,
                                                    absl::string_view where) {
  std::vector<std::string> lines = Lines(texts);
  if (keys.size() != lines.size() * kKeyBytes) {
    return absl::DataLossError(absl::StrCat(where, ": ", lines.size(),
                                            " entries but ", keys.size(),
                                            " bytes of keys"));
  }
  std::vector<WrittenEntry> out(lines.size());
  const auto* p = reinterpret_cast<const unsigned char*>(keys.data());
  for (size_t i = 0; i < lines.size(); ++i) {
    out[i].text = std::move(lines[i]);
    out[i].key = KeyAt(p + i * kKeyBytes);
  }
  return out;
}

// Fills the sources of `added` from a row's sources column.
absl::Status ParseSources(absl::string_view text,
                          std::vector<WrittenEntry>& added,
                          absl::string_view where) {
  std::vector<std::pair<std::string, std::string>> origins;
  auto malformed = [&]() {
    return absl::DataLossError(
        absl::StrCat(where, ": a malformed source line"));
  };
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    if (f[0] == "@") {
      std::pair<std::string, std::string>& o = origins.emplace_back();
      if (f.size() != 3 || !absl::CUnescape(f[1], &o.first) ||
          !absl::CUnescape(f[2], &o.second)) {
        return malformed();
      }
      continue;
    }
    size_t index = 0, origin = 0;
    Source s;
    if (f.size() != 4 || !absl::SimpleAtoi(f[0], &index) ||
        index >= added.size() || !absl::SimpleAtoi(f[1], &s.indicator_id) ||
        !absl::SimpleAtoi(f[2], &origin) || origin >= origins.size() ||
        !absl::CUnescape(f[3], &s.value)) {
      return malformed();
    }
    if (s.value.empty()) s.value = added[index].text;
    s.type = origins[origin].first;
    s.status = origins[origin].second;
    added[index].sources.push_back(std::move(s));
  }
  return absl::OkStatus();
}

}  // namespace tqs1::ledger

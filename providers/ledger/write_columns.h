// How a write's entries are stored in the columns of the ledger's
// `writes` table (providers/ledger/sqlite_ledger.h): the texts one per
// line, the keys 17 bytes each (family, then first and last as
// little-endian 64-bit numbers), and the sources of the added entries as
// text. Encoding and decoding side by side, so that the two cannot drift.
//
//   const std::string keys = Keys(write.added);     // the *_keys column
//   ASSIGN_OR_RETURN(std::vector<WrittenEntry> added,
//                    EntriesOf(texts, keys, "ledger f, apply 3, write 0"));
//   RETURN_IF_ERROR(ParseSources(sources, added, where));
#ifndef TQS1_PROVIDERS_LEDGER_WRITE_COLUMNS_H_
#define TQS1_PROVIDERS_LEDGER_WRITE_COLUMNS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "providers/ledger/ledger.h"

namespace tqs1::ledger {

// The bytes of one key in a *_keys column.
inline constexpr size_t kKeyBytes = 17;

// The *_keys column of `entries`.
std::string Keys(const std::vector<WrittenEntry>& entries);
// The key at `p` (kKeyBytes bytes of a *_keys column).
EntryKey KeyAt(const unsigned char* p);
// The `added`/`removed` column: the entries' texts, one per line.
std::string Texts(const std::vector<WrittenEntry>& entries);
// The lines of a texts column (none for an empty one).
std::vector<std::string> Lines(absl::string_view text);
// The `sources` column of `entries`: first one line per distinct (type,
// status) pair, "@\t<type>\t<status>", then one line per source,
// "<entry index>\t<indicator id>\t<pair index>\t<value>", the value empty
// when it is the entry's own text. Strings are C-escaped.
std::string Sources(const std::vector<WrittenEntry>& entries);
// A span of a write's keys of one family: from the lowest first to the
// highest last address of some of its keys, as 8-byte big-endian blobs
// (SQLite compares blobs as bytes: in unsigned order). The `write_spans`
// table holds a few per write and family, so that a search reads only the
// writes that may hold an entry overlapping the query.
struct KeySpan {
  uint8_t family = 0;
  std::string first;
  std::string last;
};
// At most this many spans a write and family.
inline constexpr size_t kMaxSpans = 8;
// The spans of the keys in the *_keys columns `a` and `b` (entries of
// family 0 overlap nothing and span nothing): per family, the keys in
// address order cut at their kMaxSpans - 1 widest gaps. One span would
// cover a whole site for an update that removes an address low in a rule
// and adds one far above it; the cuts keep such a write out of searches
// between the two.
std::vector<KeySpan> SpansOf(absl::string_view a, absl::string_view b);
// `v` as an 8-byte big-endian blob, for comparing with a KeySpan's.
std::string BigEndian(uint64_t v);

// The kind a `kind` column names (WriteKindName()); kObserved for an
// unknown name.
WriteKind KindFromName(absl::string_view name);

// The entries of a texts column and its keys column. kDataLoss naming
// `where` when their counts differ.
absl::StatusOr<std::vector<WrittenEntry>> EntriesOf(absl::string_view texts,
                                                    absl::string_view keys,
                                                    absl::string_view where);
// Fills the sources of `added` from a `sources` column. kDataLoss naming
// `where` for a malformed line.
absl::Status ParseSources(absl::string_view text,
                          std::vector<WrittenEntry>& added,
                          absl::string_view where);

}  // namespace tqs1::ledger

#endif  // TQS1_PROVIDERS_LEDGER_WRITE_COLUMNS_H_

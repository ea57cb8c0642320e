// The ledger: a record of every apply, kept in the state folder, so that
// "why is this address blocked?" has an answer after the run that blocked it
// is long gone (`tqs1 why`, `tqs1 history`, `tqs1 plan --restore`).
// SqliteLedger (sqlite_ledger.h) implements it in an SQLite file.
//
//   ASSIGN_OR_RETURN(int64_t id, ledger.BeginApply(apply));  // "running"
//   ... after each write that reached SentinelOne:
//   RETURN_IF_ERROR(ledger.RecordWrite(id, write));
//   apply.id = id; apply.outcome = kOutcomeApplied; ...
//   RETURN_IF_ERROR(ledger.FinishApply(apply));
//
// The ledger never parses an address: the caller gives each entry its text
// (canonical, as tqs1 writes it to SentinelOne) and its EntryKey (the range
// it covers), and queries by range. The core's parser stays in the core.
//
// One writer at a time: the apply that holds the apply lock. Readers
// (`tqs1 why`, `tqs1 history`) may read while it writes.
#ifndef TQS1_PROVIDERS_LEDGER_LEDGER_H_
#define TQS1_PROVIDERS_LEDGER_LEDGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tqs1::ledger {

// The range of addresses an entry covers, for overlap queries. IPv4
// (family 4): the first and the last address of the prefix, as 32-bit
// numbers. IPv6 (family 6): the first and the last /64 network of the
// prefix (the top 64 bits of its first and last address); an IPv6 address
// or a prefix longer than /64 is its one /64. Two entries can share
// addresses only when their keys overlap (same family, first <= other.last,
// last >= other.first); for IPv6 the caller checks exactly.
struct EntryKey {
  uint8_t family = 0;  // 4 or 6
  uint64_t first = 0;
  uint64_t last = 0;

  bool Overlaps(const EntryKey& other) const {
    return family == other.family && first <= other.last && last >= other.first;
  }
  friend bool operator==(const EntryKey& a, const EntryKey& b) {
    return a.family == b.family && a.first == b.first && a.last == b.last;
  }
};

// Where a blocked entry came from: one ThreatQ indicator. Several
// indicators can normalize to one entry ("203.0.113.7" and
// "203.0.113.7/32").
struct Source {
  uint64_t indicator_id = 0;  // 0: unknown
  std::string value;          // as written in ThreatQ
  std::string type;           // "IP Address", "IPv6 Address", "CIDR Block"
  std::string status;         // e.g. "Active"
  friend bool operator==(const Source& a, const Source& b) {
    return a.indicator_id == b.indicator_id && a.value == b.value &&
           a.type == b.type && a.status == b.status;
  }
};

// One entry a write added to a rule or removed from it.
struct WrittenEntry {
  std::string text;  // canonical, e.g. "203.0.113.7", "198.51.100.0/24"
  EntryKey key;
  // Added entries: the indicators it came from at that apply (may be empty
  // when unknown, e.g. a restore). Removed entries: always empty.
  std::vector<Source> sources;
};

// What a ledger write row records.
enum class WriteKind {
  kCreate,    // a CREATE of the plan: `rule_id` is the new rule's id
  kUpdate,    // an UPDATE of the plan
  kDelete,    // a DELETE of the plan: `removed` lists every entry it held
  kObserved,  // not a write of tqs1: a difference between what the ledger
              // says a managed rule holds and what the site showed before
              // this apply's first write (a console edit, or a write whose
              // record a killed process never made)
  kBaseline,  // what a rule held when older applies were pruned (Prune())
};

// "create", "update", "delete", "observed", "baseline".
absl::string_view WriteKindName(WriteKind kind);

// One write: what reached SentinelOne in one request, or a difference found
// on the site (kObserved), or a pruning baseline (kBaseline).
struct WriteRecord {
  WriteKind kind = WriteKind::kCreate;
  // The action's 0-based index in the plan; -1 for kObserved and kBaseline.
  int action = -1;
  std::string rule_id;
  std::string rule_name;
  std::vector<WrittenEntry> added;
  std::vector<WrittenEntry> removed;
};

// Outcomes of an apply, as stored.
inline constexpr absl::string_view kOutcomeRunning = "running";
inline constexpr absl::string_view kOutcomeApplied = "applied";
inline constexpr absl::string_view kOutcomeFailed = "failed";
inline constexpr absl::string_view kOutcomeInterrupted = "interrupted";
inline constexpr absl::string_view kOutcomeDeclined = "declined";
inline constexpr absl::string_view kOutcomeGuardBlocked = "guard-blocked";
// "running" found by a later BeginApply() of the same sync: the process
// ended (SIGKILL, power loss) before it could say how the apply ended.
inline constexpr absl::string_view kOutcomeEnded = "ended";

// One apply of one sync.
struct ApplyRecord {
  int64_t id = 0;  // set by BeginApply()
  absl::Time started = absl::UnixEpoch();
  absl::Time finished = absl::UnixEpoch();  // == started while running
  std::string host;                         // the machine tqs1 ran on
  std::string user;                         // the OS user it ran as
  std::string version;                      // tqs1's version
  std::string run_id;                       // the log lines' run_id
  std::string sync;
  std::string collection;
  std::string site_id;
  std::string site_name;
  std::string fingerprint;  // the plan's observed_fingerprint
  std::string outcome = std::string(kOutcomeRunning);
  uint32_t created = 0;
  uint32_t updated = 0;
  uint32_t deleted = 0;
  uint64_t blocked = 0;    // `add` entries written
  uint64_t unblocked = 0;  // `remove` entries written
  uint64_t duration_ms = 0;
  // The apply whose address set this one restores (`plan --restore`); 0
  // for a normal apply.
  int64_t restore_of = 0;
  std::string error;  // why it failed, was refused or stopped; empty if not
};

// Which applies ListApplies() returns.
struct ApplyFilter {
  std::string sync;                         // empty: every sync
  absl::Time since = absl::InfinitePast();  // started at or after
  size_t limit = 0;                         // 0: no limit; newest kept
};

// A write row, with the apply it belongs to (for replay and queries).
struct StoredWrite {
  int64_t apply_id = 0;
  int seq = 0;  // order within the apply, from 0
  WriteRecord write;
};

// An entry of a write that overlaps a query (FindEntries()).
struct EntryHit {
  int64_t apply_id = 0;
  int seq = 0;
  WriteKind kind = WriteKind::kCreate;
  std::string rule_id;
  std::string rule_name;
  bool added = false;  // false: removed
  WrittenEntry entry;  // with its sources when added
};

// What the ledger says one rule holds (HeldBy()).
struct HeldRule {
  std::string name;
  std::set<std::string> entries;
  // The apply that last added each entry (its most recent "blocked"),
  // for the baseline of a prune.
  std::map<std::string, int64_t> added_by;
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  // Records the start of an apply (outcome "running", finished == started)
  // and returns its id (increasing, from 1). Every earlier apply of the same
  // sync still "running" becomes "ended": the caller holds the apply lock,
  // so no other process is running it.
  virtual absl::StatusOr<int64_t> BeginApply(const ApplyRecord& apply) = 0;

  // Appends one write to apply `apply_id`, durably (committed before it
  // returns), after the writes recorded before it. kNotFound for an
  // unknown apply.
  virtual absl::Status RecordWrite(int64_t apply_id,
                                   const WriteRecord& write) = 0;

  // Stores how apply `apply.id` ended: finished, outcome, counts, duration,
  // error (other fields as given to BeginApply() stay). kNotFound for an
  // unknown apply.
  virtual absl::Status FinishApply(const ApplyRecord& apply) = 0;

  // The applies `filter` selects, oldest first.
  virtual absl::StatusOr<std::vector<ApplyRecord>> ListApplies(
      const ApplyFilter& filter) = 0;

  // One apply, or kNotFound ("no apply 12 in the ledger <file>").
  virtual absl::StatusOr<ApplyRecord> GetApply(int64_t id) = 0;

  // The writes of apply `id`, in order, with their entries and sources.
  virtual absl::StatusOr<std::vector<WriteRecord>> WritesOf(int64_t id) = 0;

  // What the ledger says each rule of `sync` at site `site_id` held after
  // apply `up_to` (0: after the latest): every write of that sync and site
  // replayed in order (an added entry is held, a removed one is not; a
  // kDelete drops the rule). Keyed by rule id.
  virtual absl::StatusOr<std::map<std::string, HeldRule>> HeldBy(
      absl::string_view sync, absl::string_view site_id, int64_t up_to = 0) = 0;

  // Every entry of every write whose key overlaps `query`, oldest first
  // (by apply, then write, then entry order). `sync` empty: every sync.
  virtual absl::StatusOr<std::vector<EntryHit>> FindEntries(
      const EntryKey& query, absl::string_view sync = "") = 0;

  // Forgets the applies that started before `cutoff`, keeping what
  // HeldBy() and FindEntries() need for the addresses still held: for each
  // sync and site, the newest apply before the cutoff is kept (its record
  // and counts) but its writes are replaced by kBaseline writes, one per
  // rule, holding what the rule held after it (each entry with the sources
  // of the write that last added it); every older apply of that sync and
  // site is deleted with its writes. A "running" apply and the newest apply
  // of a sync are never touched. Returns how many applies were deleted.
  virtual absl::StatusOr<int> Prune(absl::Time cutoff) = 0;
};

}  // namespace tqs1::ledger

#endif  // TQS1_PROVIDERS_LEDGER_LEDGER_H_

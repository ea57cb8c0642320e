// The ledger (ledger.h) in an SQLite file (Debian's libsqlite3), in the
// state folder: "<name>.ledger.sqlite".
//
//   ASSIGN_OR_RETURN(std::unique_ptr<SqliteLedger> ledger,
//                    SqliteLedger::Open(paths.LedgerFile(),
//                                       SqliteLedger::Mode::kReadWrite));
//   ASSIGN_OR_RETURN(int64_t id, ledger->BeginApply(apply));
//
// The file is created mode 0600 (whatever the umask; an existing file that
// group or others may read is tightened). WAL journal, so `tqs1 why` and
// `tqs1 history` read while an apply writes; synchronous=NORMAL, so each
// committed record survives a killed process (a power cut may lose the
// last ones, which the next apply records again as "observed"). The schema
// has a version (PRAGMA user_version) and migrations from version 0, an
// empty file; a file of a newer schema is refused, never rewritten.
//
// Tables (readable with the sqlite3 shell):
//   applies  one row per apply (times in Unix milliseconds, UTC)
//   writes   one row per write of an apply: its entries as text (one per
//            line), their keys (17 bytes each: family, then first and last
//            as little-endian 64-bit numbers), and the sources of the added
//            entries (a line "@\t<type>\t<status>" per distinct pair, then
//            "<entry index>\t<indicator id>\t<pair index>\t<value>" per
//            source, the value empty when it is the entry's text; strings
//            C-escaped)
//   write_spans  per write and address family, up to 8 spans of its keys
//            (lowest first, highest last address, 8-byte big-endian
//            blobs; write_columns.h): a search reads only the writes with
//            a span that overlaps it (schema 2)
//   meta     when and by which schema the file was made
//
// Errors name the file: kDataLoss for a file that is not a readable SQLite
// database (or a malformed row), kUnavailable when another process holds
// it locked past the busy timeout, kFailedPrecondition for a newer schema,
// kNotFound for a missing file opened read-only.
//
// Thread-safe: calls from several threads take turns on the one connection
// (the syncs of a parallel apply record into one ledger).
#ifndef TQS1_PROVIDERS_LEDGER_SQLITE_LEDGER_H_
#define TQS1_PROVIDERS_LEDGER_SQLITE_LEDGER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "providers/ledger/ledger.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tqs1::ledger {

class SqliteLedger final : public Ledger {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // The schema this build writes and reads.
  static constexpr int kSchemaVersion = 2;

  static absl::StatusOr<std::unique_ptr<SqliteLedger>> Open(
      const std::string& path, Mode mode,
      absl::Duration busy_timeout = absl::Seconds(5));

  ~SqliteLedger() override;
  SqliteLedger(const SqliteLedger&) = delete;
  SqliteLedger& operator=(const SqliteLedger&) = delete;

  const std::string& path() const { return path_; }

  // Ledger.
  absl::StatusOr<int64_t> BeginApply(const ApplyRecord& apply) override;
  absl::Status RecordWrite(int64_t apply_id, const WriteRecord& write) override;
  absl::Status FinishApply(const ApplyRecord& apply) override;
  absl::StatusOr<std::vector<ApplyRecord>> ListApplies(
      const ApplyFilter& filter) override;
  absl::StatusOr<ApplyRecord> GetApply(int64_t id) override;
  absl::StatusOr<std::vector<WriteRecord>> WritesOf(int64_t id) override;
  absl::StatusOr<std::map<std::string, HeldRule>> HeldBy(
      absl::string_view sync, absl::string_view site_id,
      int64_t up_to = 0) override;
  absl::StatusOr<std::vector<EntryHit>> FindEntries(
      const EntryKey& query, absl::string_view sync = "") override;
  absl::StatusOr<int> Prune(absl::Time cutoff) override;

 private:
  class Statement;
  struct Replayed;

  SqliteLedger(std::string path, sqlite3* db, absl::Duration busy_timeout);

  // `what` failed with SQLite result `rc`: a status naming the file.
  absl::Status Error(int rc, absl::string_view what) const;
  absl::Status Exec(const char* sql, absl::string_view what);
  absl::Status Migrate();
  absl::StatusOr<int> UserVersion();
  // RecordWrite() inside a transaction the caller holds.
  absl::Status InsertWrite(int64_t apply_id, const WriteRecord& write);
  // The write_spans rows of write (apply_id, seq) with these keys columns.
  absl::Status InsertSpans(int64_t apply_id, int64_t seq,
                           absl::string_view added_keys,
                           absl::string_view removed_keys);
  // The schema 1 -> 2 step: spans for every write recorded.
  absl::Status FillSpans();
  absl::Status InTransaction(absl::string_view what,
                             const std::function<absl::Status()>& body);
  // Replays the writes of `sync` at `site_id` up to apply `up_to` (0: all).
  absl::StatusOr<Replayed> Replay(absl::string_view sync,
                                  absl::string_view site_id, int64_t up_to,
                                  bool with_sources);

  const std::string path_;
  // One connection; each public method holds mu_ for its statements and
  // transaction, so the syncs of a parallel apply take turns on it.
  absl::Mutex mu_;
  sqlite3* db_;
  const absl::Duration busy_timeout_;
};

}  // namespace tqs1::ledger

#endif  // TQS1_PROVIDERS_LEDGER_SQLITE_LEDGER_H_

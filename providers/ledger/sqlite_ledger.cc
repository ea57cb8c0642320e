#include "providers/ledger/sqlite_ledger.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "providers/ledger/write_columns.h"

namespace tqs1::ledger {
namespace {

// Migrations: kMigrations[i] takes the schema from version i to i + 1.
constexpr const char* kMigrations[] = {
    // 0 -> 1: the first schema.
    R"sql(
CREATE TABLE applies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  host TEXT NOT NULL,
  user TEXT NOT NULL,
  version TEXT NOT NULL,
  run_id TEXT NOT NULL,
  sync TEXT NOT NULL,
  collection TEXT NOT NULL,
  site_id TEXT NOT NULL,
  site_name TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  outcome TEXT NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  blocked INTEGER NOT NULL,
  unblocked INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  restore_of INTEGER NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX applies_by_sync ON applies (sync, id);
CREATE INDEX applies_by_time ON applies (started_ms);
CREATE TABLE writes (
  apply_id INTEGER NOT NULL REFERENCES applies (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  action INTEGER NOT NULL,
  rule_id TEXT NOT NULL,
  rule_name TEXT NOT NULL,
  added TEXT NOT NULL,
  removed TEXT NOT NULL,
  added_keys BLOB NOT NULL,
  removed_keys BLOB NOT NULL,
  sources TEXT NOT NULL,
  PRIMARY KEY (apply_id, seq)
) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
    // 1 -> 2: the spans of each write's keys per family (write_columns.h),
    // so that a search (tqs1 why) reads only the writes that may hold what
    // it looks for. Migrate() fills it for the writes already recorded.
    R"sql(
CREATE TABLE write_spans (
  apply_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  part INTEGER NOT NULL,
  family INTEGER NOT NULL,
  first BLOB NOT NULL,
  last BLOB NOT NULL,
  PRIMARY KEY (apply_id, seq, part),
  FOREIGN KEY (apply_id, seq) REFERENCES writes (apply_id, seq)
    ON DELETE CASCADE
) WITHOUT ROWID;
)sql",
};
constexpr int kMigrationCount =
    static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));
static_assert(kMigrationCount == SqliteLedger::kSchemaVersion);

// A ledger of a newer schema than this build's: refused, never rewritten.
absl::Status NewerSchema(absl::string_view path, int version) {
  return absl::FailedPreconditionError(
      absl::StrCat("ledger ", path, " has schema version ", version,
                   "; this tqs1 reads up to ", SqliteLedger::kSchemaVersion,
                   " (a newer tqs1 wrote it)"));
}

int64_t Millis(absl::Time t) { return absl::ToUnixMillis(t); }
absl::Time FromMillis(int64_t ms) { return absl::FromUnixMillis(ms); }

}  // namespace

// A prepared statement, finalized on destruction.
class SqliteLedger::Statement {
 public:
  Statement(const SqliteLedger& ledger, const char* sql, absl::string_view what)
      : ledger_(ledger), what_(what) {
    rc_ = sqlite3_prepare_v2(ledger.db_, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  absl::Status status() const {
    return rc_ == SQLITE_OK ? absl::OkStatus() : ledger_.Error(rc_, what_);
  }
  Statement& Bind(int i, int64_t v) {
    if (ok()) rc_ = sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, absl::string_view v) {
    if (ok()) {
      rc_ = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                              SQLITE_STATIC);
    }
    return *this;
  }
  Statement& BindBlob(int i, absl::string_view v) {
    if (ok()) {
      rc_ = sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                              SQLITE_STATIC);
    }
    return *this;
  }
  // The next row: true, false at the end, or an error.
  absl::StatusOr<bool> Step() {
    if (!ok()) return status();
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    rc_ = rc;
    return status();
  }
  absl::Status Run() { return Step().status(); }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      sqlite3_column_bytes(stmt_, col));
  }
  absl::string_view Blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    return p == nullptr ? absl::string_view()
                        : absl::string_view(static_cast<const char*>(p),
                                            sqlite3_column_bytes(stmt_, col));
  }

 private:
  bool ok() const { return rc_ == SQLITE_OK; }
  const SqliteLedger& ledger_;
  std::string what_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

struct SqliteLedger::Replayed {
  struct Entry {
    EntryKey key;
    std::vector<Source> sources;
    int64_t added_by = 0;
  };
  struct Rule {
    std::string name;
    std::map<std::string, Entry> entries;
  };
  std::map<std::string, Rule> rules;
};

namespace {

constexpr char kApplyColumns[] =
    "id, started_ms, finished_ms, host, user, version, run_id, sync, "
    "collection, site_id, site_name, fingerprint, outcome, created, updated, "
    "deleted, blocked, unblocked, duration_ms, restore_of, error";

}  // namespace

SqliteLedger::SqliteLedger(std::string path, sqlite3* db,
                           absl::Duration busy_timeout)
    : path_(std::move(path)), db_(db), busy_timeout_(busy_timeout) {}

SqliteLedger::~SqliteLedger() { sqlite3_close_v2(db_); }

absl::Status SqliteLedger::Error(int rc, absl::string_view what) const {
  const std::string message =
      db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(absl::StrCat(
          "ledger ", path_, " is locked by another process (waited ",
          absl::FormatDuration(busy_timeout_), ")"));
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::DataLossError(absl::StrCat(
          "ledger ", path_, " is not a readable SQLite database: ", message,
          "; move it aside to start a new ledger (nothing is lost on "
          "SentinelOne)"));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(
          absl::StrCat("ledger ", path_, ": ", what, ": ", message));
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(
          absl::StrCat("ledger ", path_, ": ", what, ": ", message));
    case SQLITE_IOERR:
      return absl::UnavailableError(
          absl::StrCat("ledger ", path_, ": ", what, ": ", message));
    default:
      return absl::InternalError(
          absl::StrCat("ledger ", path_, ": ", what, ": ", message));
  }
}

absl::Status SqliteLedger::Exec(const char* sql, absl::string_view what) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : Error(rc, what);
}

absl::StatusOr<int> SqliteLedger::UserVersion() {
  Statement s(*this, "PRAGMA user_version", "reading the schema version");
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? static_cast<int>(s.Int(0)) : 0;
}

absl::Status SqliteLedger::InTransaction(
    absl::string_view what, const std::function<absl::Status()>& body) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", what));
  absl::Status s = body();
  if (s.ok()) s = Exec("COMMIT", what);
  if (!s.ok()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}

absl::Status SqliteLedger::Migrate() {
  ASSIGN_OR_RETURN(int version, UserVersion());
  if (version > kSchemaVersion) return NewerSchema(path_, version);
  for (; version < kSchemaVersion; ++version) {
    const int to = version + 1;
    RETURN_IF_ERROR(InTransaction("migrating the schema", [&]() {
      RETURN_IF_ERROR(Exec(kMigrations[version], "migrating the schema"));
      if (version == 1) RETURN_IF_ERROR(FillSpans());
      if (version == 0) {
        Statement meta(*this,
                       "INSERT INTO meta (key, value) VALUES ('created_at', "
                       "?1), ('created_schema', ?2)",
                       "writing the ledger's creation");
        const std::string now = absl::FormatTime(
            "%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
        const std::string schema = absl::StrCat(to);
        RETURN_IF_ERROR(meta.Bind(1, now).Bind(2, schema).Run());
      }
      return Exec(absl::StrCat("PRAGMA user_version = ", to).c_str(),
                  "migrating the schema");
    }));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SqliteLedger>> SqliteLedger::Open(
    const std::string& path, Mode mode, absl::Duration busy_timeout) {
  const bool write = mode == Mode::kReadWrite;
  if (write) {
    // Owner-only whatever the umask: create the file before SQLite does.
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "ledger ", path, ": cannot open it: ", std::strerror(errno)));
    }
    struct stat st {};
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) fchmod(fd, 0600);
    close(fd);
  } else if (access(path.c_str(), F_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        "no ledger at ", path, ": no apply has been recorded yet"));
  }
  sqlite3* db = nullptr;
  const int flags = (write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteLedger> ledger(
      new SqliteLedger(path, db, busy_timeout));
  if (rc != SQLITE_OK) return ledger->Error(rc, "opening it");
  sqlite3_busy_timeout(
      db, static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
  sqlite3_extended_result_codes(db, 1);
  if (write) {
    RETURN_IF_ERROR(ledger->Exec("PRAGMA journal_mode = WAL", "opening it"));
    RETURN_IF_ERROR(ledger->Exec("PRAGMA synchronous = NORMAL", "opening it"));
    RETURN_IF_ERROR(ledger->Exec("PRAGMA foreign_keys = ON", "opening it"));
    RETURN_IF_ERROR(ledger->Migrate());
    // The WAL and shared-memory files SQLite makes beside it: owner-only
    // like the ledger (they hold the same records).
    for (const char* suffix : {"-wal", "-shm"}) {
      chmod(absl::StrCat(path, suffix).c_str(), 0600);
    }
    return ledger;
  }
  ASSIGN_OR_RETURN(int version, ledger->UserVersion());
  if (version > kSchemaVersion) return NewerSchema(path, version);
  if (version < kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("ledger ", path, " has schema version ", version,
                     "; run an apply (which upgrades it to ", kSchemaVersion,
                     ") before reading it"));
  }
  return ledger;
}

absl::StatusOr<int64_t> SqliteLedger::BeginApply(const ApplyRecord& a) {
  absl::MutexLock lock(&mu_);
  int64_t id = 0;
  RETURN_IF_ERROR(InTransaction("recording the start of an apply", [&]() {
    Statement ended(*this,
                    "UPDATE applies SET outcome = 'ended' WHERE sync = ?1 AND "
                    "outcome = 'running'",
                    "recording the start of an apply");
    RETURN_IF_ERROR(ended.Bind(1, a.sync).Run());
    Statement insert(
        *this,
        "INSERT INTO applies (started_ms, finished_ms, host, user, version, "
        "run_id, sync, collection, site_id, site_name, fingerprint, outcome, "
        "created, updated, deleted, blocked, unblocked, duration_ms, "
        "restore_of, error) VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, 'running', 0, 0, 0, 0, 0, 0, ?11, '')",
        "recording the start of an apply");
    RETURN_IF_ERROR(insert.Bind(1, Millis(a.started))
                        .Bind(2, a.host)
                        .Bind(3, a.user)
                        .Bind(4, a.version)
                        .Bind(5, a.run_id)
                        .Bind(6, a.sync)
                        .Bind(7, a.collection)
                        .Bind(8, a.site_id)
                        .Bind(9, a.site_name)
                        .Bind(10, a.fingerprint)
                        .Bind(11, a.restore_of)
                        .Run());
    id = sqlite3_last_insert_rowid(db_);
    return absl::OkStatus();
  }));
  return id;
}

absl::Status SqliteLedger::InsertWrite(int64_t apply_id, const WriteRecord& w) {
  const std::string added = Texts(w.added);
  const std::string removed = Texts(w.removed);
  const std::string added_keys = Keys(w.added);
  const std::string removed_keys = Keys(w.removed);
  const std::string sources = Sources(w.added);
  Statement next(*this,
                 "SELECT (SELECT COUNT(*) FROM applies WHERE id = ?1), "
                 "COALESCE((SELECT MAX(seq) + 1 FROM writes WHERE apply_id "
                 "= ?1), 0)",
                 "recording a write");
  ASSIGN_OR_RETURN(bool row, next.Bind(1, apply_id).Step());
  if (!row || next.Int(0) == 0) {
    return absl::NotFoundError(
        absl::StrCat("no apply ", apply_id, " in the ledger ", path_));
  }
  const int64_t seq = next.Int(1);
  Statement insert(*this,
                   "INSERT INTO writes (apply_id, seq, kind, action, "
                   "rule_id, rule_name, added, removed, added_keys, "
                   "removed_keys, sources) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                   "?7, ?8, ?9, ?10, ?11)",
                   "recording a write");
  RETURN_IF_ERROR(insert.Bind(1, apply_id)
                      .Bind(2, seq)
                      .Bind(3, WriteKindName(w.kind))
                      .Bind(4, static_cast<int64_t>(w.action))
                      .Bind(5, w.rule_id)
                      .Bind(6, w.rule_name)
                      .Bind(7, added)
                      .Bind(8, removed)
                      .BindBlob(9, added_keys)
                      .BindBlob(10, removed_keys)
                      .Bind(11, sources)
                      .Run());
  return InsertSpans(apply_id, seq, added_keys, removed_keys);
}

absl::Status SqliteLedger::InsertSpans(int64_t apply_id, int64_t seq,
                                       absl::string_view added_keys,
                                       absl::string_view removed_keys) {
  int64_t part = 0;
  for (const KeySpan& span : SpansOf(added_keys, removed_keys)) {
    Statement insert(*this,
                     "INSERT INTO write_spans (apply_id, seq, part, family, "
                     "first, last) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                     "recording a write");
    RETURN_IF_ERROR(insert.Bind(1, apply_id)
                        .Bind(2, seq)
                        .Bind(3, part++)
                        .Bind(4, static_cast<int64_t>(span.family))
                        .BindBlob(5, span.first)
                        .BindBlob(6, span.last)
                        .Run());
  }
  return absl::OkStatus();
}

absl::Status SqliteLedger::FillSpans() {
  Statement s(*this,
              "SELECT apply_id, seq, added_keys, removed_keys FROM writes",
              "migrating the schema");
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return absl::OkStatus();
    RETURN_IF_ERROR(InsertSpans(s.Int(0), s.Int(1), s.Blob(2), s.Blob(3)));
  }
}

absl::Status SqliteLedger::RecordWrite(int64_t apply_id, const WriteRecord& w) {
  absl::MutexLock lock(&mu_);
  return InTransaction("recording a write",
                       [&]() { return InsertWrite(apply_id, w); });
}

absl::Status SqliteLedger::FinishApply(const ApplyRecord& a) {
  absl::MutexLock lock(&mu_);
  Statement update(
      *this,
      "UPDATE applies SET finished_ms = ?2, outcome = ?3, created = ?4, "
      "updated = ?5, deleted = ?6, blocked = ?7, unblocked = ?8, "
      "duration_ms = ?9, error = ?10 WHERE id = ?1",
      "recording the end of an apply");
  RETURN_IF_ERROR(update.Bind(1, a.id)
                      .Bind(2, Millis(a.finished))
                      .Bind(3, a.outcome)
                      .Bind(4, static_cast<int64_t>(a.created))
                      .Bind(5, static_cast<int64_t>(a.updated))
                      .Bind(6, static_cast<int64_t>(a.deleted))
                      .Bind(7, static_cast<int64_t>(a.blocked))
                      .Bind(8, static_cast<int64_t>(a.unblocked))
                      .Bind(9, static_cast<int64_t>(a.duration_ms))
                      .Bind(10, a.error)
                      .Run());
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(
        absl::StrCat("no apply ", a.id, " in the ledger ", path_));
  }
  return absl::OkStatus();
}

namespace {

// An ApplyRecord from a row selected with kApplyColumns.
template <typename Row>
ApplyRecord ApplyFromRow(const Row& r) {
  ApplyRecord a;
  a.id = r.Int(0);
  a.started = FromMillis(r.Int(1));
  a.finished = FromMillis(r.Int(2));
  a.host = r.Text(3);
  a.user = r.Text(4);
  a.version = r.Text(5);
  a.run_id = r.Text(6);
  a.sync = r.Text(7);
  a.collection = r.Text(8);
  a.site_id = r.Text(9);
  a.site_name = r.Text(10);
  a.fingerprint = r.Text(11);
  a.outcome = r.Text(12);
  a.created = static_cast<uint32_t>(r.Int(13));
  a.updated = static_cast<uint32_t>(r.Int(14));
  a.deleted = static_cast<uint32_t>(r.Int(15));
  a.blocked = static_cast<uint64_t>(r.Int(16));
  a.unblocked = static_cast<uint64_t>(r.Int(17));
  a.duration_ms = static_cast<uint64_t>(r.Int(18));
  a.restore_of = r.Int(19);
  a.error = r.Text(20);
  return a;
}

}  // namespace

absl::StatusOr<std::vector<ApplyRecord>> SqliteLedger::ListApplies(
    const ApplyFilter& filter) {
  absl::MutexLock lock(&mu_);
  const std::string sql = absl::StrCat(
      "SELECT ", kApplyColumns,
      " FROM applies WHERE (?1 = '' OR sync = ?1) AND started_ms >= ?2 "
      "ORDER BY id DESC LIMIT ?3");
  Statement s(*this, sql.c_str(), "listing applies");
  const int64_t since = filter.since == absl::InfinitePast()
                            ? std::numeric_limits<int64_t>::min()
                            : Millis(filter.since);
  s.Bind(1, filter.sync)
      .Bind(2, since)
      .Bind(3, filter.limit == 0 ? int64_t{-1}
                                 : static_cast<int64_t>(filter.limit));
  std::vector<ApplyRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ApplyFromRow(s));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

absl::StatusOr<ApplyRecord> SqliteLedger::GetApply(int64_t id) {
  absl::MutexLock lock(&mu_);
  const std::string sql =
      absl::StrCat("SELECT ", kApplyColumns, " FROM applies WHERE id = ?1");
  Statement s(*this, sql.c_str(), "reading an apply");
  ASSIGN_OR_RETURN(bool row, s.Bind(1, id).Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("no apply ", id, " in the ledger ", path_));
  }
  return ApplyFromRow(s);
}

absl::StatusOr<std::vector<WriteRecord>> SqliteLedger::WritesOf(int64_t id) {
  absl::MutexLock lock(&mu_);
  Statement s(*this,
              "SELECT seq, kind, action, rule_id, rule_name, added, removed, "
              "added_keys, removed_keys, sources FROM writes WHERE apply_id = "
              "?1 ORDER BY seq",
              "reading the writes of an apply");
  s.Bind(1, id);
  std::vector<WriteRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    const std::string where =
        absl::StrCat("ledger ", path_, ", apply ", id, ", write ", s.Int(0));
    WriteRecord& w = out.emplace_back();
    w.kind = KindFromName(s.Text(1));
    w.action = static_cast<int>(s.Int(2));
    w.rule_id = s.Text(3);
    w.rule_name = s.Text(4);
    ASSIGN_OR_RETURN(w.added, EntriesOf(s.Text(5), s.Blob(7), where));
    ASSIGN_OR_RETURN(w.removed, EntriesOf(s.Text(6), s.Blob(8), where));
    RETURN_IF_ERROR(ParseSources(s.Text(9), w.added, where));
  }
  return out;
}

absl::StatusOr<SqliteLedger::Replayed> SqliteLedger::Replay(
    absl::string_view sync, absl::string_view site_id, int64_t up_to,
    bool with_sources) {
  Statement s(*this,
              "SELECT w.apply_id, w.seq, w.kind, w.rule_id, w.rule_name, "
              "w.added, w.removed, w.added_keys, w.removed_keys, w.sources "
              "FROM writes w JOIN applies a ON a.id = w.apply_id WHERE a.sync "
              "= ?1 AND a.site_id = ?2 AND (?3 = 0 OR w.apply_id <= ?3) ORDER "
              "BY w.apply_id, w.seq",
              "replaying the ledger");
  s.Bind(1, sync).Bind(2, site_id).Bind(3, up_to);
  Replayed replayed;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    const int64_t apply_id = s.Int(0);
    const std::string where = absl::StrCat("ledger ", path_, ", apply ",
                                           apply_id, ", write ", s.Int(1));
    const WriteKind kind = KindFromName(s.Text(2));
    const std::string rule_id = s.Text(3);
    Replayed::Rule& rule = replayed.rules[rule_id];
    rule.name = s.Text(4);
    ASSIGN_OR_RETURN(std::vector<WrittenEntry> added,
                     EntriesOf(s.Text(5), s.Blob(7), where));
    if (with_sources) RETURN_IF_ERROR(ParseSources(s.Text(9), added, where));
    for (absl::string_view text : Lines(s.Text(6))) {
      rule.entries.erase(std::string(text));
    }
    for (WrittenEntry& e : added) {
      Replayed::Entry& held = rule.entries[e.text];
      held.key = e.key;
      held.sources = std::move(e.sources);
      held.added_by = apply_id;
    }
    if (kind == WriteKind::kDelete || rule.entries.empty()) {
      replayed.rules.erase(rule_id);
    }
  }
  return replayed;
}

absl::StatusOr<std::map<std::string, HeldRule>> SqliteLedger::HeldBy(
    absl::string_view sync, absl::string_view site_id, int64_t up_to) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Replayed replayed, Replay(sync, site_id, up_to, false));
  std::map<std::string, HeldRule> out;
  for (auto& [id, rule] : replayed.rules) {
    HeldRule& held = out[id];
    held.name = rule.name;
    for (const auto& [text, entry] : rule.entries) {
      held.entries.insert(held.entries.end(), text);
      held.added_by[text] = entry.added_by;
    }
  }
  return out;
}

absl::StatusOr<std::vector<EntryHit>> SqliteLedger::FindEntries(
    const EntryKey& query, absl::string_view sync) {
  absl::MutexLock lock(&mu_);
  // Only the writes whose span overlaps the query: their keys are read
  // and scanned, the others' never leave the disk.
  Statement s(*this,
              "SELECT w.apply_id, w.seq, w.kind, w.rule_id, w.rule_name, "
              "w.added_keys, w.removed_keys FROM (SELECT DISTINCT apply_id, "
              "seq FROM write_spans WHERE family = ?2 AND first <= ?4 AND "
              "last >= ?3) p JOIN writes w ON w.apply_id = p.apply_id AND "
              "w.seq = p.seq JOIN applies a ON a.id = w.apply_id WHERE (?1 = "
              "'' OR a.sync = ?1) ORDER BY w.apply_id, w.seq",
              "searching the ledger");
  const std::string first = BigEndian(query.first);
  const std::string last = BigEndian(query.last);
  s.Bind(1, sync)
      .Bind(2, static_cast<int64_t>(query.family))
      .BindBlob(3, first)
      .BindBlob(4, last);
  struct RowHits {
    int64_t apply_id;
    int seq;
    WriteKind kind;
    std::string rule_id, rule_name;
    std::vector<size_t> added, removed;
  };
  std::vector<RowHits> rows;
  auto scan = [&query](absl::string_view keys, std::vector<size_t>& hits) {
    const auto* p = reinterpret_cast<const unsigned char*>(keys.data());
    const size_t n = keys.size() / kKeyBytes;
    for (size_t i = 0; i < n; ++i) {
      const unsigned char* k = p + i * kKeyBytes;
      if (k[0] != query.family) continue;
      if (KeyAt(k).Overlaps(query)) hits.push_back(i);
    }
  };
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    RowHits r{s.Int(0),
              static_cast<int>(s.Int(1)),
              KindFromName(s.Text(2)),
              "",
              "",
              {},
              {}};
    scan(s.Blob(5), r.added);
    scan(s.Blob(6), r.removed);
    if (r.added.empty() && r.removed.empty()) continue;
    r.rule_id = s.Text(3);
    r.rule_name = s.Text(4);
    rows.push_back(std::move(r));
  }
  std::vector<EntryHit> out;
  for (const RowHits& r : rows) {
    Statement t(*this,
                "SELECT added, removed, added_keys, removed_keys, sources FROM "
                "writes WHERE apply_id = ?1 AND seq = ?2",
                "searching the ledger");
    ASSIGN_OR_RETURN(bool row, t.Bind(1, r.apply_id).Bind(2, r.seq).Step());
    if (!row) continue;
    const std::string where = absl::StrCat("ledger ", path_, ", apply ",
                                           r.apply_id, ", write ", r.seq);
    ASSIGN_OR_RETURN(std::vector<WrittenEntry> added,
                     EntriesOf(t.Text(0), t.Blob(2), where));
    RETURN_IF_ERROR(ParseSources(t.Text(4), added, where));
    ASSIGN_OR_RETURN(std::vector<WrittenEntry> removed,
                     EntriesOf(t.Text(1), t.Blob(3), where));
    for (const auto& [indices, entries, is_added] :
         {std::make_tuple(&r.added, &added, true),
          std::make_tuple(&r.removed, &removed, false)}) {
      for (size_t i : *indices) {
        EntryHit& hit = out.emplace_back();
        hit.apply_id = r.apply_id;
        hit.seq = r.seq;
        hit.kind = r.kind;
        hit.rule_id = r.rule_id;
        hit.rule_name = r.rule_name;
        hit.added = is_added;
        hit.entry = (*entries)[i];
      }
    }
  }
  return out;
}

absl::StatusOr<int> SqliteLedger::Prune(absl::Time cutoff) {
  absl::MutexLock lock(&mu_);
  // The (sync, site) pairs with applies before the cutoff, and each sync's
  // newest apply (never touched).
  Statement groups(*this,
                   "SELECT sync, site_id, MAX(id) FROM applies WHERE "
                   "started_ms < ?1 AND outcome != 'running' AND id NOT IN "
                   "(SELECT MAX(id) FROM applies GROUP BY sync) GROUP BY "
                   "sync, site_id",
                   "pruning the ledger");
  groups.Bind(1, Millis(cutoff));
  struct Group {
    std::string sync, site_id;
    int64_t keep;
  };
  std::vector<Group> found;
  while (true) {
    ASSIGN_OR_RETURN(bool row, groups.Step());
    if (!row) break;
    found.push_back({groups.Text(0), groups.Text(1), groups.Int(2)});
  }
  int deleted = 0;
  for (const Group& g : found) {
    ASSIGN_OR_RETURN(Replayed replayed,
                     Replay(g.sync, g.site_id, g.keep, /*with_sources=*/true));
    RETURN_IF_ERROR(InTransaction("pruning the ledger", [&]() {
      Statement drop_writes(
          *this,
          "DELETE FROM writes WHERE apply_id IN (SELECT id FROM applies WHERE "
          "sync = ?1 AND site_id = ?2 AND id <= ?3 AND outcome != 'running')",
          "pruning the ledger");
      RETURN_IF_ERROR(
          drop_writes.Bind(1, g.sync).Bind(2, g.site_id).Bind(3, g.keep).Run());
      Statement drop_applies(*this,
                             "DELETE FROM applies WHERE sync = ?1 AND site_id "
                             "= ?2 AND id < ?3 AND outcome != 'running'",
                             "pruning the ledger");
      RETURN_IF_ERROR(drop_applies.Bind(1, g.sync)
                          .Bind(2, g.site_id)
                          .Bind(3, g.keep)
                          .Run());
      deleted += sqlite3_changes(db_);
      // What the rules held after the kept apply, one baseline row each.
      for (auto& [rule_id, rule] : replayed.rules) {
        WriteRecord w;
        w.kind = WriteKind::kBaseline;
        w.rule_id = rule_id;
        w.rule_name = rule.name;
        for (auto& [text, entry] : rule.entries) {
          w.added.push_back({text, entry.key, std::move(entry.sources)});
        }
        RETURN_IF_ERROR(InsertWrite(g.keep, w));
      }
      return absl::OkStatus();
    }));
  }
  return deleted;
}

}  // namespace tqs1::ledger

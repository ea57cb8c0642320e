#include "providers/ledger/sqlite_ledger.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::ledger {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string TempPath(absl::string_view name) {
  std::string path = absl::StrCat(::testing::TempDir(), "/", name, ".sqlite");
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  return path;
}

std::unique_ptr<SqliteLedger> OpenOrDie(const std::string& path) {
  auto ledger = SqliteLedger::Open(path, SqliteLedger::Mode::kReadWrite);
  EXPECT_TRUE(ledger.ok()) << ledger.status();
  return ledger.ok() ? *std::move(ledger) : nullptr;
}

// An IPv4 entry: its key from four octets and a length.
WrittenEntry V4(const std::string& text, uint32_t a, int length = 32,
                std::vector<Source> sources = {}) {
  WrittenEntry e;
  e.text = text;
  e.key.family = 4;
  e.key.first = a;
  e.key.last = a | ((uint64_t{1} << (32 - length)) - 1);
  e.sources = std::move(sources);
  return e;
}
constexpr uint32_t Ip(int a, int b, int c, int d) {
  return (static_cast<uint32_t>(a) << 24) | (b << 16) | (c << 8) | d;
}

ApplyRecord Apply(const std::string& sync, absl::Time started,
                  const std::string& site = "100") {
  ApplyRecord a;
  a.started = started;
  a.finished = started;
  a.host = "h";
  a.user = "u";
  a.version = "1.0";
  a.run_id = "r";
  a.sync = sync;
  a.collection = "C2";
  a.site_id = site;
  a.site_name = "HQ";
  a.fingerprint = "sha256:ab";
  return a;
}

WriteRecord Write(WriteKind kind, const std::string& rule,
                  std::vector<WrittenEntry> added,
                  std::vector<WrittenEntry> removed = {}) {
  WriteRecord w;
  w.kind = kind;
  w.action = 0;
  w.rule_id = rule;
  w.rule_name = absl::StrCat("C2 (", rule, ")");
  w.added = std::move(added);
  w.removed = std::move(removed);
  return w;
}

std::vector<std::string> Entries(const std::map<std::string, HeldRule>& held) {
  std::vector<std::string> out;
  for (const auto& [id, rule] : held) {
    for (const std::string& e : rule.entries) out.push_back(id + ":" + e);
  }
  return out;
}

const absl::Time kT0 = absl::FromUnixSeconds(1780000000);

TEST(SqliteLedgerTest, RoundTripOfAnApplyAndItsWrites) {
  const std::string path = TempPath("roundtrip");
  auto ledger = OpenOrDie(path);
  ApplyRecord a = Apply("s", kT0);
  a.restore_of = 7;
  auto id = ledger->BeginApply(a);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 1);
  Source odd{1207, "203.0.113.7\t\n\xff", "IP Address", "Active"};
  ASSERT_TRUE(ledger
                  ->RecordWrite(*id, Write(WriteKind::kCreate, "1",
                                           {V4("203.0.113.7",
                                               Ip(203, 0, 113, 7), 32, {odd})}))
                  .ok());
  a.id = *id;
  a.outcome = std::string(kOutcomeApplied);
  a.finished = kT0 + absl::Seconds(3);
  a.created = 1;
  a.blocked = 1;
  a.duration_ms = 3000;
  a.error = "";
  ASSERT_TRUE(ledger->FinishApply(a).ok());

  auto got = ledger->GetApply(*id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->outcome, "applied");
  EXPECT_EQ(got->started, kT0);
  EXPECT_EQ(got->finished, kT0 + absl::Seconds(3));
  EXPECT_EQ(got->restore_of, 7);
  EXPECT_EQ(got->created, 1u);
  EXPECT_EQ(got->site_name, "HQ");
  auto writes = ledger->WritesOf(*id);
  ASSERT_TRUE(writes.ok()) << writes.status();
  ASSERT_THAT(*writes, SizeIs(1));
  ASSERT_THAT((*writes)[0].added, SizeIs(1));
  EXPECT_EQ((*writes)[0].added[0].key, V4("", Ip(203, 0, 113, 7)).key);
  EXPECT_THAT((*writes)[0].added[0].sources, ElementsAre(odd));

  EXPECT_EQ(ledger->RecordWrite(99, Write(WriteKind::kCreate, "1", {})).code(),
            absl::StatusCode::kNotFound);
  a.id = 99;
  EXPECT_EQ(ledger->FinishApply(a).code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(ledger->GetApply(99).status().message()),
              HasSubstr(path));
}

TEST(SqliteLedgerTest, ARunningApplyOfTheSameSyncEndsAtTheNextBegin) {
  auto ledger = OpenOrDie(TempPath("ended"));
  ASSERT_TRUE(ledger->BeginApply(Apply("s", kT0)).ok());
  ASSERT_TRUE(ledger->BeginApply(Apply("other", kT0)).ok());
  ASSERT_TRUE(ledger->BeginApply(Apply("s", kT0)).ok());
  auto applies = ledger->ListApplies({});
  ASSERT_TRUE(applies.ok());
  ASSERT_THAT(*applies, SizeIs(3));
  EXPECT_EQ((*applies)[0].outcome, "ended");
  EXPECT_EQ((*applies)[1].outcome, "running");
  EXPECT_EQ((*applies)[2].outcome, "running");
}

TEST(SqliteLedgerTest, HeldByReplaysMovesDeletesAndObservedRows) {
  auto ledger = OpenOrDie(TempPath("held"));
  const int64_t one = *ledger->BeginApply(Apply("s", kT0));
  ASSERT_TRUE(ledger
                  ->RecordWrite(one, Write(WriteKind::kCreate, "1",
                                           {V4("10.0.0.1", Ip(10, 0, 0, 1)),
                                            V4("10.0.0.2", Ip(10, 0, 0, 2))}))
                  .ok());
  ASSERT_TRUE(ledger
                  ->RecordWrite(one, Write(WriteKind::kCreate, "2",
                                           {V4("10.0.0.3", Ip(10, 0, 0, 3))}))
                  .ok());
  const int64_t two = *ledger->BeginApply(Apply("s", kT0 + absl::Hours(1)));
  // 10.0.0.2 moves from rule 1 to rule 2; rule 2's other entry is removed
  // in the console (observed); then rule 1 is deleted.
  ASSERT_TRUE(ledger
                  ->RecordWrite(two, Write(WriteKind::kObserved, "2", {},
                                           {V4("10.0.0.3", Ip(10, 0, 0, 3))}))
                  .ok());
  ASSERT_TRUE(ledger
                  ->RecordWrite(two, Write(WriteKind::kUpdate, "2",
                                           {V4("10.0.0.2", Ip(10, 0, 0, 2))}))
                  .ok());
  ASSERT_TRUE(ledger
                  ->RecordWrite(two, Write(WriteKind::kDelete, "1", {},
                                           {V4("10.0.0.1", Ip(10, 0, 0, 1)),
                                            V4("10.0.0.2", Ip(10, 0, 0, 2))}))
                  .ok());
  auto after_one = ledger->HeldBy("s", "100", one);
  ASSERT_TRUE(after_one.ok());
  EXPECT_THAT(Entries(*after_one),
              ElementsAre("1:10.0.0.1", "1:10.0.0.2", "2:10.0.0.3"));
  auto now = ledger->HeldBy("s", "100");
  ASSERT_TRUE(now.ok());
  EXPECT_THAT(Entries(*now), ElementsAre("2:10.0.0.2"));
  EXPECT_EQ(now->at("2").added_by.at("10.0.0.2"), two);
  EXPECT_THAT(Entries(*ledger->HeldBy("s", "other-site")), IsEmpty());
}

TEST(SqliteLedgerTest, FindEntriesByOverlap) {
  auto ledger = OpenOrDie(TempPath("find"));
  const int64_t id = *ledger->BeginApply(Apply("s", kT0));
  Source src{5, "198.51.100.0/24", "CIDR Block", "Active"};
  ASSERT_TRUE(
      ledger
          ->RecordWrite(
              id, Write(WriteKind::kCreate, "1",
                        {V4("198.51.100.0/24", Ip(198, 51, 100, 0), 24, {src}),
                         V4("203.0.113.9", Ip(203, 0, 113, 9))}))
          .ok());
  const int64_t other = *ledger->BeginApply(Apply("t", kT0));
  ASSERT_TRUE(
      ledger
          ->RecordWrite(other, Write(WriteKind::kCreate, "2",
                                     {V4("198.51.100.7", Ip(198, 51, 100, 7))}))
          .ok());
  // An address inside the stored /24.
  auto inside = ledger->FindEntries(V4("", Ip(198, 51, 100, 7)).key, "s");
  ASSERT_TRUE(inside.ok()) << inside.status();
  ASSERT_THAT(*inside, SizeIs(1));
  EXPECT_EQ((*inside)[0].entry.text, "198.51.100.0/24");
  EXPECT_TRUE((*inside)[0].added);
  EXPECT_THAT((*inside)[0].entry.sources, ElementsAre(src));
  // Every sync.
  EXPECT_THAT(*ledger->FindEntries(V4("", Ip(198, 51, 100, 7)).key), SizeIs(2));
  // A /8 query holds nothing of 10/8 ... but 203/8 holds one.
  EXPECT_THAT(*ledger->FindEntries(V4("", Ip(10, 0, 0, 0), 8).key), IsEmpty());
  EXPECT_THAT(*ledger->FindEntries(V4("", Ip(203, 0, 0, 0), 8).key), SizeIs(1));
  // IPv6 keys never match IPv4 ones.
  EntryKey v6{6, 0x20010db800000000, 0x20010db8ffffffff};
  EXPECT_THAT(*ledger->FindEntries(v6), IsEmpty());
}

TEST(SqliteLedgerTest, ListAppliesFilters) {
  auto ledger = OpenOrDie(TempPath("list"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        ledger->BeginApply(Apply(i % 2 ? "odd" : "even", kT0 + absl::Hours(i)))
            .ok());
  }
  ApplyFilter f;
  f.sync = "even";
  auto even = ledger->ListApplies(f);
  ASSERT_TRUE(even.ok());
  ASSERT_THAT(*even, SizeIs(3));
  EXPECT_EQ((*even)[0].id, 1);  // oldest first
  f.limit = 2;
  EXPECT_EQ((*ledger->ListApplies(f))[0].id, 3);  // the newest kept
  ApplyFilter since;
  since.since = kT0 + absl::Hours(3);
  EXPECT_THAT(*ledger->ListApplies(since), SizeIs(2));
}

TEST(SqliteLedgerTest, PruneKeepsWhatIsStillHeldWithItsSources) {
  auto ledger = OpenOrDie(TempPath("prune"));
  Source src{11, "10.0.0.1", "IP Address", "Active"};
  const int64_t one = *ledger->BeginApply(Apply("s", kT0));
  ASSERT_TRUE(
      ledger
          ->RecordWrite(one, Write(WriteKind::kCreate, "1",
                                   {V4("10.0.0.1", Ip(10, 0, 0, 1), 32, {src}),
                                    V4("10.0.0.2", Ip(10, 0, 0, 2))}))
          .ok());
  const int64_t two = *ledger->BeginApply(Apply("s", kT0 + absl::Hours(24)));
  ASSERT_TRUE(ledger
                  ->RecordWrite(two, Write(WriteKind::kUpdate, "1", {},
                                           {V4("10.0.0.2", Ip(10, 0, 0, 2))}))
                  .ok());
  const int64_t three = *ledger->BeginApply(Apply("s", kT0 + absl::Hours(48)));
  ASSERT_TRUE(ledger
                  ->RecordWrite(three, Write(WriteKind::kUpdate, "1",
                                             {V4("10.0.0.3", Ip(10, 0, 0, 3))}))
                  .ok());
  const auto before = Entries(*ledger->HeldBy("s", "100"));

  auto pruned = ledger->Prune(kT0 + absl::Hours(30));
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 1);  // apply 1 gone; 2 kept as the baseline
  EXPECT_EQ(ledger->GetApply(one).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(ledger->GetApply(two).ok());
  EXPECT_EQ(Entries(*ledger->HeldBy("s", "100")), before);
  auto hit = ledger->FindEntries(V4("", Ip(10, 0, 0, 1)).key);
  ASSERT_TRUE(hit.ok());
  ASSERT_THAT(*hit, SizeIs(1));
  EXPECT_EQ((*hit)[0].kind, WriteKind::kBaseline);
  EXPECT_THAT((*hit)[0].entry.sources, ElementsAre(src));
  // The newest apply of a sync is never pruned, and the baseline apply
  // before it stays.
  EXPECT_EQ(*ledger->Prune(kT0 + absl::Hours(1000)), 0);
  EXPECT_TRUE(ledger->GetApply(three).ok());
  EXPECT_EQ(Entries(*ledger->HeldBy("s", "100")), before);
}

TEST(SqliteLedgerTest, TheFileIsOwnerOnly) {
  const std::string path = TempPath("mode");
  const mode_t old = umask(0);
  auto ledger = OpenOrDie(path);
  umask(old);
  ASSERT_TRUE(ledger->BeginApply(Apply("s", kT0)).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ledger.reset();
  chmod(path.c_str(), 0644);
  ledger = OpenOrDie(path);
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((path + "-wal").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SqliteLedgerTest, SchemaFromEmptyAndFromTheFirstVersion) {
  const std::string path = TempPath("schema");
  { std::ofstream(path).flush(); }  // an empty file
  auto ledger = OpenOrDie(path);
  ASSERT_NE(ledger, nullptr);
  ASSERT_TRUE(ledger->BeginApply(Apply("s", kT0)).ok());
  ledger.reset();
  ledger = OpenOrDie(path);  // the current version opens as it is
  EXPECT_THAT(*ledger->ListApplies({}), SizeIs(1));
  auto reader = SqliteLedger::Open(path, SqliteLedger::Mode::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_THAT(*(*reader)->ListApplies({}), SizeIs(1));
  ledger.reset();
  reader->reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version = 9", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto newer = SqliteLedger::Open(path, SqliteLedger::Mode::kReadWrite);
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(newer.status().message(),
            absl::StrCat("ledger ", path,
                         " has schema version 9; this tqs1 reads up to 2 (a "
                         "newer tqs1 wrote it)"));
}

// A first-version ledger is today's without its spans: made by taking
// them away, it is migrated by the next writer (the spans filled from the
// writes recorded) and refused by a reader until then.
TEST(SqliteLedgerTest, MigratesTheFirstVersionFillingTheSpans) {
  const std::string path = TempPath("v1");
  // fc00::/7: above 2^63, where a signed comparison would go wrong.
  WrittenEntry v6;
  v6.text = "fc00::/7";
  v6.key = {6, 0xfc00000000000000, ~uint64_t{0}};
  {
    auto ledger = OpenOrDie(path);
    const int64_t id = *ledger->BeginApply(Apply("s", kT0));
    ASSERT_TRUE(
        ledger
            ->RecordWrite(
                id, Write(WriteKind::kCreate, "1",
                          {V4("203.0.113.7", Ip(203, 0, 113, 7)),
                           V4("203.0.113.200", Ip(203, 0, 113, 200)), v6}))
            .ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE write_spans; PRAGMA user_version = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto reader = SqliteLedger::Open(path, SqliteLedger::Mode::kReadOnly);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(reader.status().message()),
              HasSubstr("has schema version 1; run an apply"));

  auto ledger = OpenOrDie(path);
  auto v4 = ledger->FindEntries(V4("", Ip(203, 0, 113, 0), 24).key);
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_THAT(*v4, SizeIs(2));
  // Inside the write's span but on no entry: read, and nothing found.
  EXPECT_THAT(*ledger->FindEntries(V4("", Ip(203, 0, 113, 8)).key), IsEmpty());
  // Outside it.
  EXPECT_THAT(*ledger->FindEntries(V4("", Ip(198, 51, 100, 1)).key), IsEmpty());
  EntryKey inside_v6{6, 0xfd00000000000000, 0xfd00000000000000};
  auto found = ledger->FindEntries(inside_v6);
  ASSERT_THAT(*found, SizeIs(1));
  EXPECT_EQ((*found)[0].entry.text, "fc00::/7");
  EntryKey below_v6{6, 0x20010db800000000, 0x20010db8ffffffff};
  EXPECT_THAT(*ledger->FindEntries(below_v6), IsEmpty());
  // A write recorded after the migration has its span too.
  const int64_t next = *ledger->BeginApply(Apply("s", kT0 + absl::Hours(1)));
  ASSERT_TRUE(
      ledger
          ->RecordWrite(next, Write(WriteKind::kUpdate, "1", {},
                                    {V4("203.0.113.7", Ip(203, 0, 113, 7))}))
          .ok());
  EXPECT_THAT(*ledger->FindEntries(V4("", Ip(203, 0, 113, 7)).key), SizeIs(2));
}

TEST(SqliteLedgerTest, ErrorsNameTheFile) {
  const std::string garbage = TempPath("garbage");
  std::ofstream(garbage) << std::string(4096, 'x');
  auto bad = SqliteLedger::Open(garbage, SqliteLedger::Mode::kReadWrite);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(garbage));

  const std::string missing = TempPath("missing");
  auto none = SqliteLedger::Open(missing, SqliteLedger::Mode::kReadOnly);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr(missing));
}

TEST(SqliteLedgerTest, ReadersReadWhileAWriterWritesAndWritersWait) {
  const std::string path = TempPath("busy");
  auto writer = OpenOrDie(path);
  ASSERT_TRUE(writer->BeginApply(Apply("s", kT0)).ok());
  // Another process's open write transaction.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto reader = SqliteLedger::Open(path, SqliteLedger::Mode::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_THAT(*(*reader)->ListApplies({}), SizeIs(1));
  auto second = SqliteLedger::Open(path, SqliteLedger::Mode::kReadWrite,
                                   absl::Milliseconds(100));
  ASSERT_TRUE(second.ok()) << second.status();
  auto blocked = (*second)->BeginApply(Apply("s", kT0));
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(blocked.status().message(),
            absl::StrCat("ledger ", path,
                         " is locked by another process (waited 100ms)"));
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
}

}  // namespace
}  // namespace tqs1::ledger

// `tqs1 why`, `tqs1 history` and `plan --restore` as a user runs them: the
// real binary against the emulators, the ledger in the config's folder.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

constexpr char kCollection[] = "Known C2 IPs";

class WhyHistoryTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    collection_ = env().tq().AddCollection(kCollection, Ipv4Indicators(0, 10));
    site_ = env().AddSite("HQ");
    dir_ =
        WriteConfig("c", env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""}}));
  }

  std::string Ledger() const { return dir_ + "/tqs1.ledger.sqlite"; }

  nlohmann::json Json(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r;
    return nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  }

  int collection_ = 0;
  std::string site_;
  std::string dir_;
};

TEST_F(WhyHistoryTest, WhyHistoryAndRestoreOnTheEmulators) {
  const std::vector<std::string> all = Ipv4Addresses(0, 10);
  RunResult first = Run({"apply", "--auto-approve", "-c", dir_});
  ASSERT_EQ(first.exit_code, 0) << first;
  struct stat st {};
  ASSERT_EQ(stat(Ledger().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Blocked: by which rule, since which apply, from which indicator.
  RunResult why = Run({"why", all[0], "-c", dir_});
  EXPECT_EQ(why.exit_code, 0) << why;
  EXPECT_TRUE(Contains(
      why.out, all[0] + ": blocked by rule \"" + kCollection + "\" (id "))
      << why;
  EXPECT_TRUE(Contains(why.out, "since apply 1 (")) << why;
  EXPECT_TRUE(Contains(why.out, "in the collection as indicator 100000 \"" +
                                    all[0] + "\" (IP Address, Active)"))
      << why;

  // Five leave the collection; the second apply unblocks them.
  std::vector<threatq::Indicator> kept = Ipv4Indicators(5, 5);
  ASSERT_TRUE(env().tq().SetIndicators(collection_, kept));
  RunResult second = Run({"apply", "--auto-approve", "-c", dir_});
  ASSERT_EQ(second.exit_code, 0) << second;

  RunResult offline = Run({"why", "--offline", all[0], "-c", dir_});
  EXPECT_EQ(offline.exit_code, 0) << offline;
  EXPECT_TRUE(Contains(offline.out, all[0] +
                                        ": not blocked, as the ledger knows: "
                                        "unblocked by apply 2 ("))
      << offline;
  nlohmann::json why_json =
      Json(Run({"why", "--offline", "--json", all[7], "-c", dir_}));
  ASSERT_TRUE(why_json.is_object()) << why_json;
  EXPECT_EQ(why_json["format"], "tqs1.why.v1");
  const nlohmann::json& entry = why_json["syncs"][0]["entries"][0];
  EXPECT_EQ(entry["entry"], all[7]);
  EXPECT_EQ(entry["blocked"], true);
  EXPECT_EQ(entry["ledger"]["since_apply"], 1);
  EXPECT_EQ(entry["ledger"]["sources"][0]["indicator_id"], 100007);

  // History: two applies, and the address's timeline.
  nlohmann::json history = Json(Run({"history", "--json", "-c", dir_}));
  ASSERT_EQ(history["applies"].size(), 2u) << history;
  EXPECT_EQ(history["applies"][0]["outcome"], "applied");
  EXPECT_EQ(history["applies"][0]["addresses_blocked"], 10);
  EXPECT_EQ(history["applies"][1]["addresses_unblocked"], 5);
  RunResult timeline = Run({"history", "--address", all[0], "-c", dir_});
  EXPECT_EQ(timeline.exit_code, 0) << timeline;
  EXPECT_TRUE(Contains(timeline.out,
                       "apply 1 (sync \"c2-hq\", applied)  "
                       "blocked " +
                           all[0]))
      << timeline;
  EXPECT_TRUE(Contains(timeline.out,
                       "apply 2 (sync \"c2-hq\", applied)  "
                       "unblocked " +
                           all[0]))
      << timeline;
  RunResult show = Run({"history", "show", "1", "-c", dir_});
  EXPECT_EQ(show.exit_code, 0) << show;
  EXPECT_TRUE(Contains(show.out,
                       "create rule \"" + std::string(kCollection) + "\" (id "))
      << show;
  RunResult missing = Run({"history", "show", "99", "-c", dir_});
  EXPECT_EQ(missing.exit_code, 1) << missing;
  EXPECT_TRUE(Contains(missing.err, "no apply 99 in the ledger " + Ledger()))
      << missing;

  // Restore the set of apply 1: a reviewed, signed plan file.
  const std::string file = dir() + "/restore.json";
  RunResult plan = Run({"plan", "--restore", "1", "--out", file, "-c", dir_});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  EXPECT_TRUE(Contains(plan.out,
                       "RESTORE: this plan makes the site hold "
                       "what it held after apply 1"))
      << plan;
  RunResult restored = Run({"apply", file, "-c", dir_});
  ASSERT_EQ(restored.exit_code, 0) << restored;
  EXPECT_EQ(env().BlockedAddresses(site_).size(), 10u);
  history = Json(Run({"history", "--json", "-c", dir_}));
  ASSERT_EQ(history["applies"].size(), 3u) << history;
  EXPECT_EQ(history["applies"][2]["restore_of"], 1);
}

TEST_F(WhyHistoryTest, ACorruptLedgerStopsTheApplyAndNamesTheFile) {
  { std::ofstream(Ledger()) << std::string(4096, 'x'); }
  const int writes = env().ApiWrites();
  RunResult r = Run({"apply", "--auto-approve", "-c", dir_});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(
      r.err, "ledger " + Ledger() + " is not a readable SQLite database"))
      << r;
  EXPECT_TRUE(Contains(r.err, "nothing applied")) << r;
  EXPECT_EQ(env().ApiWrites(), writes);
  // A plan never reads the ledger, so a broken one does not stop it.
  RunResult plan = Run({"plan", "-c", dir_});
  EXPECT_EQ(plan.exit_code, 0) << plan;
  // Its readers refuse it, naming it.
  RunResult history = Run({"history", "-c", dir_});
  EXPECT_EQ(history.exit_code, 1) << history;
  EXPECT_TRUE(Contains(history.err, Ledger())) << history;
}

}  // namespace
}  // namespace tqs1::e2e

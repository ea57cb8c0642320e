#include "cli/init.h"

#include <sys/stat.h>

#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/config/config_loader.h"
#include "gtest/gtest.h"

namespace tqs1::cli {
namespace {

struct Terminal {
  std::ostringstream out, err;
  std::deque<std::string> answers;
  std::vector<std::pair<std::string, bool>> asked;

  Io MakeIo() {
    Io io;
    io.out = &out;
    io.err = &err;
    io.interactive = true;
    io.ask = [this](const std::string& prompt,
                    bool hidden) -> std::optional<std::string> {
      asked.emplace_back(prompt, hidden);
      if (answers.empty()) return std::nullopt;
      std::string a = answers.front();
      answers.pop_front();
      return a;
    };
    return io;
  }
};

std::string FreshDir(const std::string& name) {
  std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  mkdir(dir.c_str(), 0700);
  return dir;
}

int Mode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(RunInitTest, WritesAPrivateConfigThatLoads) {
  const std::string dir = FreshDir("init_ok");
  Terminal t;
  t.answers = {"tq.example.net",
               "client-123",
               "svc@example.net",
               "s3cret pw",
               "usea1.sentinelone.net",
               "tok-456",
               "HQ",
               "Known C2 IPs"};
  CommandLine cl;
  cl.command = "init";
  cl.config = dir;
  ASSERT_EQ(RunInit(cl, t.MakeIo()), kExitOk) << t.err.str();

  // The password and the token were asked without echo; nothing else was.
  ASSERT_EQ(t.asked.size(), 8u);
  for (size_t k = 0; k < t.asked.size(); ++k) {
    EXPECT_EQ(t.asked[k].second, k == 3 || k == 5) << t.asked[k].first;
  }
  const std::string config = dir + "/tqs1.yaml";
  EXPECT_EQ(Mode(config), 0600);
  EXPECT_EQ(Mode(dir + "/tqs1.threatq-password"), 0600);
  EXPECT_EQ(Mode(dir + "/tqs1.s1-token"), 0600);
  EXPECT_EQ(Slurp(dir + "/tqs1.threatq-password"), "s3cret pw");
  EXPECT_EQ(Slurp(dir + "/tqs1.s1-token"), "tok-456");
  std::string yaml = Slurp(config);
  EXPECT_EQ(yaml.find("s3cret"), std::string::npos);
  EXPECT_EQ(yaml.find("tok-456"), std::string::npos);

  absl::StatusOr<tqs1::v1::Config> loaded = config::LoadConfigFile(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->threatq().url(), "https://tq.example.net");
  EXPECT_EQ(loaded->threatq().client_id(), "client-123");
  EXPECT_EQ(loaded->sentinelone().url(), "https://usea1.sentinelone.net");
  ASSERT_EQ(loaded->syncs_size(), 1);
  EXPECT_EQ(loaded->syncs(0).collection(), "Known C2 IPs");
  EXPECT_EQ(loaded->syncs(0).site(), "HQ");
  for (const std::string& printed : {t.out.str(), t.err.str()}) {
    EXPECT_EQ(printed.find("s3cret"), std::string::npos);
    EXPECT_EQ(printed.find("tok-456"), std::string::npos);
  }

  // A second init never overwrites.
  Terminal again;
  again.answers = t.answers;
  EXPECT_EQ(RunInit(cl, again.MakeIo()), kExitError);
  EXPECT_NE(again.err.str().find("exists already"), std::string::npos);
}

TEST(RunInitTest, EndOfInputWritesNothing) {
  const std::string dir = FreshDir("init_eof");
  Terminal t;
  t.answers = {"tq.example.net", "client-123"};
  CommandLine cl;
  cl.command = "init";
  cl.config = dir;
  EXPECT_EQ(RunInit(cl, t.MakeIo()), kExitError);
  EXPECT_EQ(Mode(dir + "/tqs1.yaml"), -1);
  EXPECT_EQ(Mode(dir + "/tqs1.threatq-password"), -1);
}

}  // namespace
}  // namespace tqs1::cli

// Tests of the end-to-end harness itself: a test that cannot fail is a
// defect, so the secret scan and the process runner are checked here.
#include "tests/e2e_harness.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tqs1::e2e {
namespace {

namespace fs = std::filesystem;

TEST(FilesWithSecretsTest, FindsEitherSecretAnywhere) {
  const fs::path root = fs::path(std::getenv("TEST_TMPDIR")) / "scan";
  fs::create_directories(root / "logs");
  std::ofstream(root / "clean.txt") << "nothing here";
  std::ofstream(root / "logs" / "tqs1.log") << "Bearer " << kToken << "\n";
  std::ofstream(root / "out") << "password=" << kPassword;
  std::vector<std::string> found = FilesWithSecrets(root.string());
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{(root / "logs/tqs1.log").string(),
                                             (root / "out").string()}));
}

TEST(ProcessTest, RunsTheBinaryWithCapturedOutput) {
  const std::string scratch = std::getenv("TEST_TMPDIR");
  absl::StatusOr<Process> p = Process::Spawn({"version"}, {}, scratch);
  ASSERT_TRUE(p.ok()) << p.status();
  RunResult r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out.rfind("tqs1 ", 0), 0u) << r;
  EXPECT_EQ(r.err, "");

  absl::StatusOr<Process> bad = Process::Spawn({"--no-such-flag"}, {}, scratch);
  ASSERT_TRUE(bad.ok()) << bad.status();
  r = bad->Wait();
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("unknown option"), std::string::npos) << r;
}

}  // namespace
}  // namespace tqs1::e2e

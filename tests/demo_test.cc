// End-to-end: `tqs1 demo`, the README's first command, runs the main job on
// its built-in emulators and ends in sync.
#include "gtest/gtest.h"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

class DemoTest : public E2eTest {};

TEST_F(DemoTest, EndsInSync) {
  RunResult r = Run({"demo"});
  EXPECT_EQ(r.exit_code, 0) << r;
  for (const char* fragment : {
           "──── $ tqs1 plan\n",
           "──── $ tqs1 apply --auto-approve --adopt\n",
           // Two IPv4 rules and one IPv6 rule (they never share one).
           "Apply complete for \"Known C2 IPs -> HQ\": 3 created, 1 updated, "
           "0 deleted;",
           "No changes. The site blocks the collection's ",
           "(exit code 0: in sync)\n",
           "The hand-made and inherited rules were never touched.\n",
       }) {
    EXPECT_TRUE(Contains(r.out, fragment)) << fragment << "\n" << r;
  }
  EXPECT_FALSE(Contains(r.out, "\033[")) << "colour without a terminal";
  EXPECT_EQ(r.err, "");
}

TEST_F(DemoTest, HelpAndVersion) {
  RunResult help = Run({"help"});
  EXPECT_EQ(help.exit_code, 0) << help;
  EXPECT_TRUE(Contains(help.out, "Usage: tqs1 COMMAND [options]\n")) << help;
  RunResult apply_help = Run({"apply", "--help"});
  EXPECT_EQ(apply_help.exit_code, 0) << apply_help;
  EXPECT_TRUE(Contains(apply_help.out, "--lock-timeout D")) << apply_help;
  RunResult version = Run({"version"});
  EXPECT_EQ(version.exit_code, 0) << version;
  EXPECT_EQ(version.out.rfind("tqs1 ", 0), 0u) << version;
  RunResult bad = Run({"plna"});
  EXPECT_EQ(bad.exit_code, 1) << bad;
  EXPECT_EQ(
      bad.err.rfind("Error: unknown command \"plna\"; commands: apply, ", 0),
      0u)
      << bad;
}

}  // namespace
}  // namespace tqs1::e2e

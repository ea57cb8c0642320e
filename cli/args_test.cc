#include "cli/args.h"

#include "gtest/gtest.h"

namespace tqs1::cli {
namespace {

TEST(ParseCommandLineTest, OldConnectorCronLine) {
  absl::StatusOr<CommandLine> cl =
      ParseCommandLine({"apply", "--auto-approve", "-c", "/etc/tq_labs/", "-ll",
                        "/var/log/tq_labs/", "-v3"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, "apply");
  EXPECT_TRUE(cl->auto_approve);
  EXPECT_EQ(cl->config, "/etc/tq_labs/");
  EXPECT_EQ(cl->log_location, "/var/log/tq_labs/");
  EXPECT_EQ(cl->verbosity, 3);
}

TEST(ParseCommandLineTest, OptionsInEveryForm) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine(
      {"plan", "--config=/etc/x.yaml", "--verbosity", "2", "-n", "prod",
       "--sync", "a", "--sync=b", "--json", "--out", "p.json",
       "--detailed-exitcode", "--adopt", "--allow-empty",
       "--allow-mass-unblock", "--no-color", "--show-addresses", "4"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config, "/etc/x.yaml");
  EXPECT_EQ(cl->verbosity, 2);
  EXPECT_EQ(cl->name, "prod");
  EXPECT_EQ(cl->syncs, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(cl->json && cl->detailed_exitcode && cl->adopt &&
              cl->allow_empty && cl->allow_mass_unblock && cl->no_color);
  EXPECT_EQ(cl->out, "p.json");
  EXPECT_EQ(cl->show_addresses, 4);
}

TEST(ParseCommandLineTest, ApplyTakesAPlanFile) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine({"apply", "plan.json"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->positional, (std::vector<std::string>{"plan.json"}));
  EXPECT_EQ(ParseCommandLine({}).value().command, "help");
}

TEST(ParseCommandLineTest, ErrorsNameTheArgument) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"plna"},
       "unknown command \"plna\"; commands: apply, demo, help, init, plan, "
       "version (see `tqs1 help`)"},
      {{"plan", "--jsn"}, "unknown option \"--jsn\" (see `tqs1 help`)"},
      {{"plan", "-c"}, "option -c needs a value (see `tqs1 help`)"},
      {{"plan", "-v4"}, "verbosity \"4\" is not 1, 2 or 3 (see `tqs1 help`)"},
      {{"plan", "--json=yes"},
       "option --json takes no value (see `tqs1 help`)"},
      {{"plan", "extra"},
       "unexpected argument \"extra\" for plan (see `tqs1 help`)"},
      {{"apply", "a.json", "b.json"},
       "unexpected argument \"b.json\" for apply (see `tqs1 help`)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    absl::StatusOr<CommandLine> cl = ParseCommandLine(c.args);
    ASSERT_FALSE(cl.ok());
    EXPECT_EQ(cl.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(cl.status().message(), c.message);
  }
}

TEST(HelpTextTest, DocumentsExitCodes) {
  std::string help = HelpText("plan");
  EXPECT_NE(help.find("2  with --detailed-exitcode: changes pending"),
            std::string::npos);
  EXPECT_NE(help.find("3  a guard blocks a plan"), std::string::npos);
}

}  // namespace
}  // namespace tqs1::cli

#include "cli/args.h"

#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

TEST(ParseCommandLineTest, AllowDisabledFirewall) {
  absl::StatusOr<CommandLine> cl =
      ParseCommandLine({"apply", "--allow-disabled-firewall"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_TRUE(cl->allow_disabled_firewall);
  EXPECT_FALSE(cl->allow_mass_unblock);
}

TEST(ParseCommandLineTest, OptionsInEveryForm) {
  absl::StatusOr<CommandLine> cl =
      ParseCommandLine({"plan",
                        "--config=/etc/x.yaml",
                        "--verbosity",
                        "2",
                        "-n",
                        "prod",
                        "--sync",
                        "a",
                        "--sync=b",
                        "--json",
                        "--out",
                        "p.json",
                        "--detailed-exitcode",
                        "--adopt",
                        "--allow-empty",
                        "--allow-mass-unblock",
                        "--no-color",
                        "--show-addresses",
                        "4",
                        "--state-dir=/var/lib/tqs1"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->state_dir, "/var/lib/tqs1");
  EXPECT_EQ(cl->config, "/etc/x.yaml");
  EXPECT_EQ(cl->verbosity, 2);
  EXPECT_EQ(cl->name, "prod");
  EXPECT_EQ(cl->syncs, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(cl->json && cl->detailed_exitcode && cl->adopt &&
              cl->allow_empty && cl->allow_mass_unblock && cl->no_color);
  EXPECT_EQ(cl->out, "p.json");
  EXPECT_EQ(cl->show_addresses, 4);
}

TEST(ParseCommandLineTest, CheckConfigOnly) {
  absl::StatusOr<CommandLine> cl =
      ParseCommandLine({"check", "--config-only", "-c", "/etc/tqs1"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_TRUE(cl->config_only);
  EXPECT_FALSE(cl->write_probe);
  for (const char* other : {"--write-probe", "--demo"}) {
    cl = ParseCommandLine({"check", "--config-only", other});
    ASSERT_FALSE(cl.ok()) << other;
    EXPECT_EQ(cl.status().message(),
              absl::StrCat("--config-only cannot be combined with ", other,
                           " (see `tqs1 help`)"));
  }
  EXPECT_EQ(ParseCommandLine({"plan", "--state-dir="}).status().message(),
            "option --state-dir is empty (see `tqs1 help`)");
}

TEST(ParseCommandLineTest, ShowRejected) {
  EXPECT_EQ(ParseCommandLine({"plan"})->show_rejected, 0);
  EXPECT_EQ(ParseCommandLine({"plan", "--show-rejected", "20"})->show_rejected,
            20);
  EXPECT_EQ(ParseCommandLine({"apply", "--show-rejected=all"})->show_rejected,
            std::numeric_limits<int>::max());
  for (const char* bad : {"-1", "lots", ""}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<CommandLine> cl =
        ParseCommandLine({"plan", absl::StrCat("--show-rejected=", bad)});
    ASSERT_FALSE(cl.ok());
    EXPECT_EQ(cl.status().message(),
              absl::StrCat("--show-rejected \"", bad,
                           "\" is not a number or \"all\" (see `tqs1 "
                           "help`)"));
  }
}

TEST(ParseCommandLineTest, LockTimeout) {
  struct Case {
    std::vector<std::string> args;
    absl::Duration want;
  };
  const Case cases[] = {
      {{"apply"}, absl::Seconds(30)},
      {{"apply", "--lock-timeout", "0s"}, absl::ZeroDuration()},
      {{"apply", "--lock-timeout=500ms"}, absl::Milliseconds(500)},
      {{"apply", "--lock-timeout", "2m"}, absl::Minutes(2)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args.back());
    absl::StatusOr<CommandLine> cl = ParseCommandLine(c.args);
    ASSERT_TRUE(cl.ok()) << cl.status();
    EXPECT_EQ(cl->lock_timeout, c.want);
  }
}

TEST(ParseCommandLineTest, ApplyTakesAPlanFile) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine({"apply", "plan.json"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->positional, (std::vector<std::string>{"plan.json"}));
  // No command is not help (see NoCommandIsNotHelp).
  EXPECT_EQ(ParseCommandLine({}).value().command, "");
}

TEST(ParseCommandLineTest, ErrorsNameTheArgument) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"plna"},
       "unknown command \"plna\"; commands: apply, check, demo, drift, help, "
       "history, init, plan, serve, version, why; did you mean \"plan\"? (see `tqs1 help`)"},
      {{"xyzzy"},
       "unknown command \"xyzzy\"; commands: apply, check, demo, drift, help, "
       "history, init, plan, serve, version, why (see `tqs1 help`)"},
      {{"help", "nosuch"},
       "unknown command \"nosuch\"; commands: apply, check, demo, drift, help, "
       "history, init, plan, serve, version, why (see `tqs1 help`)"},
      {{"aply", "--auto-approve"},
       "unknown command \"aply\"; commands: apply, check, demo, drift, help, "
       "history, init, plan, serve, version, why; did you mean \"apply\"? (see `tqs1 help`)"},
      {{"apply", "--auto-aprove"},
       "unknown option \"--auto-aprove\"; did you mean \"--auto-approve\"? "
       "(see `tqs1 help`)"},
      {{"plan", "--detailed-exit-code"},
       "unknown option \"--detailed-exit-code\"; did you mean "
       "\"--detailed-exitcode\"? (see `tqs1 help`)"},
      {{"plan", "--frobnicate"},
       "unknown option \"--frobnicate\" (see `tqs1 help`)"},
      {{"--version=1"}, "option --version takes no value (see `tqs1 help`)"},
      {{"plan", "--jsn"},
       "unknown option \"--jsn\"; did you mean \"--json\"? (see `tqs1 "
       "help`)"},
      {{"plan", "-c"}, "option -c needs a value (see `tqs1 help`)"},
      {{"plan", "-v4"}, "verbosity \"4\" is not 1, 2 or 3 (see `tqs1 help`)"},
      {{"apply", "--lock-timeout", "soon"},
       "--lock-timeout \"soon\" is not a duration such as 30s or 500ms (see "
       "`tqs1 help`)"},
      {{"apply", "--lock-timeout", "-1s"},
       "--lock-timeout \"-1s\" is not a duration such as 30s or 500ms (see "
       "`tqs1 help`)"},
      {{"apply", "--lock-timeout", "inf"},
       "--lock-timeout \"inf\" is not a duration such as 30s or 500ms (see "
       "`tqs1 help`)"},
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

TEST(ParseCommandLineTest, ServeAndRemoteOptions) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine(
      {"serve", "--listen", "0.0.0.0:50051", "--interval=90s", "--apply",
       "--tls-cert", "s.pem", "--tls-key", "s.key", "--tls-client-ca", "ca.pem",
       "--token-file", "/etc/tq_labs/token", "--metrics-listen",
       "127.0.0.1:9464"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, "serve");
  EXPECT_EQ(cl->listen, "0.0.0.0:50051");
  EXPECT_EQ(cl->interval, absl::Seconds(90));
  EXPECT_TRUE(cl->apply_on_schedule);
  EXPECT_EQ(cl->tls_cert, "s.pem");
  EXPECT_EQ(cl->tls_key, "s.key");
  EXPECT_EQ(cl->tls_client_ca, "ca.pem");
  EXPECT_EQ(cl->token_file, "/etc/tq_labs/token");
  EXPECT_EQ(cl->metrics_listen, "127.0.0.1:9464");

  cl = ParseCommandLine({"drift", "--server", "h:1", "--watch", "--json",
                         "--tls-ca", "ca.pem", "--token-env", "TOK"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->server, "h:1");
  EXPECT_TRUE(cl->watch);
  EXPECT_TRUE(cl->json);
  EXPECT_EQ(cl->tls_ca, "ca.pem");
  EXPECT_EQ(cl->token_env, "TOK");

  cl = ParseCommandLine({"serve"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->listen, "127.0.0.1:50051");
  EXPECT_EQ(cl->interval, absl::Minutes(5));
  EXPECT_FALSE(cl->apply_on_schedule);

  EXPECT_EQ(ParseCommandLine({"serve", "--interval", "often"}).status(),
            absl::InvalidArgumentError(
                "--interval \"often\" is not a duration such as 5m or 90s "
                "(see `tqs1 help`)"));
  EXPECT_EQ(
      ParseCommandLine({"drift", "--server="}).status(),
      absl::InvalidArgumentError("option --server is empty (see `tqs1 help`)"));
}

TEST(ParseCommandLineTest, NoCommandIsNotHelp) {
  // The old connector's cron line with only the program name swapped.
  const std::vector<std::string> old = {"-c", "/etc/tq_labs/", "-ll",
                                        "/var/log/tq_labs/", "-v3"};
  absl::StatusOr<CommandLine> cl = ParseCommandLine(old);
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, "");
  EXPECT_FALSE(cl->help);
  const std::string text = MissingCommandText(old);
  EXPECT_TRUE(absl::StartsWith(text, "Error: no command given")) << text;
  EXPECT_NE(text.find("\n  tqs1 apply --auto-approve -c /etc/tq_labs/ -ll "
                      "/var/log/tq_labs/ -v3\n"),
            std::string::npos)
      << text;

  // No arguments at all: short usage and the same hint.
  const std::string bare = MissingCommandText({});
  EXPECT_NE(bare.find("Usage: tqs1 COMMAND [options]"), std::string::npos);
  EXPECT_NE(bare.find("\n  tqs1 apply --auto-approve\n"), std::string::npos)
      << bare;

  // --auto-approve already given is not repeated; odd values are quoted.
  EXPECT_NE(MissingCommandText({"--auto-approve", "-c", "/etc/my conf"})
                .find("\n  tqs1 apply --auto-approve -c '/etc/my conf'\n"),
            std::string::npos);
}

TEST(ParseCommandLineTest, VersionFlags) {
  for (const char* flag : {"--version", "-V"}) {
    SCOPED_TRACE(flag);
    absl::StatusOr<CommandLine> cl = ParseCommandLine({flag});
    ASSERT_TRUE(cl.ok()) << cl.status();
    EXPECT_TRUE(cl->version);
    EXPECT_EQ(cl->command, "");
  }
  absl::StatusOr<CommandLine> cl = ParseCommandLine({"help", "apply"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->positional, (std::vector<std::string>{"apply"}));
}

TEST(LegacyCommandLineTest, ProgramName) {
  EXPECT_TRUE(IsLegacyProgramName("tq-conn-sentinelone"));
  EXPECT_TRUE(IsLegacyProgramName("/usr/bin/tq-conn-sentinelone"));
  EXPECT_FALSE(IsLegacyProgramName("/usr/bin/tqs1"));
  EXPECT_FALSE(IsLegacyProgramName("/opt/tq-conn-sentinelone/tqs1"));
  EXPECT_FALSE(IsLegacyProgramName("tq-conn-sentinelone.sh"));
}

TEST(LegacyCommandLineTest, TheOldCronLineIsApplyAutoApprove) {
  struct Case {
    std::vector<std::string> args;
    std::string config, log_location, name;
    int verbosity;
  };
  const Case cases[] = {
      {{"-c", "/etc/tq_labs/", "-ll", "/var/log/tq_labs/", "-v3"},
       "/etc/tq_labs/",
       "/var/log/tq_labs/",
       "",
       3},
      {{"--config=/etc/x", "--loglocation", "stdout", "--verbosity", "2",
        "--name", "prod"},
       "/etc/x",
       "stdout",
       "prod",
       2},
      {{"-n", "b", "-v", "1"}, ".", "stdout", "b", 1},
      {{}, ".", "stdout", "", 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ShellJoin(c.args));
    absl::StatusOr<CommandLine> cl = ParseLegacyCommandLine(c.args);
    ASSERT_TRUE(cl.ok()) << cl.status();
    EXPECT_EQ(cl->command, "apply");
    EXPECT_TRUE(cl->auto_approve);
    EXPECT_TRUE(cl->positional.empty());
    EXPECT_EQ(cl->config, c.config);
    EXPECT_EQ(cl->log_location, c.log_location);
    EXPECT_EQ(cl->name, c.name);
    EXPECT_EQ(cl->verbosity, c.verbosity);
  }
  absl::StatusOr<CommandLine> help = ParseLegacyCommandLine({"-h"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_TRUE(help->help);
}

TEST(LegacyCommandLineTest, OnlyTheOldFlags) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"plan", "-c", "/etc/tq_labs/"},
       "tq-conn-sentinelone takes only the old connector's flags (-c, -ll, "
       "-v, -n); for \"plan\" run `tqs1 plan` instead"},
      {{"-c", "/etc/tq_labs/", "apply"},
       "tq-conn-sentinelone takes only the old connector's flags (-c, -ll, "
       "-v, -n); for \"apply\" run `tqs1 apply` instead"},
      {{"plan.json"},
       "tq-conn-sentinelone takes only the old connector's flags (-c, -ll, "
       "-v, -n); unexpected argument \"plan.json\""},
      {{"--json"},
       "tq-conn-sentinelone takes only the old connector's flags (-c, -ll, "
       "-v, -n); \"--json\" is not one of them (run `tqs1 apply "
       "--auto-approve ...` to use tqs1's own options)"},
      {{"-v4"},
       "tq-conn-sentinelone takes only the old connector's flags (-c, -ll, "
       "-v, -n); \"-v4\" is not one of them (run `tqs1 apply --auto-approve "
       "...` to use tqs1's own options)"},
      {{"-c"}, "option -c needs a value (see `tqs1 help`)"},
      {{"-v", "7"}, "verbosity \"7\" is not 1, 2 or 3 (see `tqs1 help`)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    absl::StatusOr<CommandLine> cl = ParseLegacyCommandLine(c.args);
    ASSERT_FALSE(cl.ok());
    EXPECT_EQ(cl.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(cl.status().message(), c.message);
  }
}

TEST(ShellJoinTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(ShellJoin({"-c", "/etc/tq_labs/", "--sync=a-b", "-v3"}),
            "-c /etc/tq_labs/ --sync=a-b -v3");
  EXPECT_EQ(ShellJoin({"--sync", "Known C2", "it's", ""}),
            "--sync 'Known C2' 'it'\\''s' ''");
}

TEST(EditDistanceTest, Table) {
  struct Case {
    const char* a;
    const char* b;
    size_t want;
  };
  const Case cases[] = {
      {"", "", 0},         {"apply", "apply", 0}, {"aply", "apply", 1},
      {"plna", "plan", 1}, {"", "abc", 3},        {"kitten", "sitting", 3},
      {"ca", "abc", 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.a, " / ", c.b));
    EXPECT_EQ(EditDistance(c.a, c.b), c.want);
    EXPECT_EQ(EditDistance(c.b, c.a), c.want);
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

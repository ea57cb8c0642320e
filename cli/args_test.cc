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
  EXPECT_EQ(ParseCommandLine({}).value().command, "help");
}

TEST(ParseCommandLineTest, ErrorsNameTheArgument) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"plna"},
       "unknown command \"plna\"; commands: apply, demo, drift, help, init, "
       "plan, serve, version (see `tqs1 help`)"},
      {{"plan", "--jsn"}, "unknown option \"--jsn\" (see `tqs1 help`)"},
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

TEST(HelpTextTest, DocumentsExitCodes) {
  std::string help = HelpText("plan");
  EXPECT_NE(help.find("2  with --detailed-exitcode: changes pending"),
            std::string::npos);
  EXPECT_NE(help.find("3  a guard blocks a plan"), std::string::npos);
}

}  // namespace
}  // namespace tqs1::cli

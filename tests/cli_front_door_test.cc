// End-to-end: the ways into tqs1 that a migrating connector user meets
// first, run as the real binary against the emulators: the old cron line
// without a command, the old program name (a symlink), help and typos, what
// the log file says, secrets with stray whitespace, credentials a server
// rejects, and `serve` on a port that is in use.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "reconciler/ownership.h"
#include "testing/vendors_env.h"
#include "tests/e2e_harness.h"

namespace tqs1::e2e {
namespace {

namespace fs = std::filesystem;

using ::tqs1::testing::kCollection;
constexpr char kLegacyName[] = "tq-conn-sentinelone";

// Runs `binary` (any path, e.g. a symlink to tqs1: argv[0] is that path)
// with the harness's environment, outputs in `scratch`.
RunResult RunBinary(const std::string& binary,
                    const std::vector<std::string>& args,
                    const std::string& scratch) {
  static int counter = 0;
  fs::create_directories(scratch);
  const std::string stem = absl::StrCat(scratch, "/run-", ++counter);
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = {
      "PATH=/usr/bin:/bin", "TZ=UTC", "NO_COLOR=1",
      absl::StrCat("TQS1_THREATQ_PASSWORD=", kPassword),
      absl::StrCat("TQS1_S1_TOKEN=", kToken)};
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                   (stem + ".stdout").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
                                   (stem + ".stderr").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr,
                             argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  RunResult r;
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << binary << ": " << rc;
    return r;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(stem + ".stdout");
  r.err = ReadFile(stem + ".stderr");
  return r;
}

// A folder outside the test's own (which is scanned for secrets file by
// file) holding `name` -> the tqs1 binary.
std::string LinkToTqs1(const std::string& name) {
  static int counter = 0;
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/links-",
                                       getpid(), "-", ++counter);
  fs::create_directories(dir);
  const std::string link = absl::StrCat(dir, "/", name);
  fs::create_symlink(fs::absolute(Tqs1Path()), link);
  return link;
}

// The lines of `text` that contain `part`.
std::vector<std::string> LinesWith(const std::string& text,
                                   const std::string& part) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, part)) out.emplace_back(line);
  }
  return out;
}

class FrontDoorTest : public E2eTest {
 protected:
  // A collection of `n` addresses, the site "HQ" and a config with the sync
  // "c2-hq" (secrets from TQS1_THREATQ_PASSWORD and TQS1_S1_TOKEN). Returns
  // the config folder.
  std::string FreshSite(int n) {
    env().tq().AddCollection(kCollection, Ipv4Indicators(0, n));
    site_ = env().AddSite("HQ");
    return WriteConfig("c",
                       env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""}}));
  }

  // The addresses tqs1's rules of the site block.
  int ManagedAddresses() {
    int n = 0;
    for (const tqs1::v1::Rule& rule : env().SiteRules(site_)) {
      if (reconciler::HasOwnershipMarker(rule.description())) {
        n += AddressCount(rule);
      }
    }
    return n;
  }

  std::string site_;
};

TEST_F(FrontDoorTest, TheOldCronLineWithoutACommandFailsAndSaysTheNewLine) {
  const std::string config = FreshSite(20);
  const std::string logs = MakeDir("logs");
  RunResult r = Run({"-c", config + "/", "-ll", logs + "/", "-v3"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "Error: no command given, so nothing was done"))
      << r;
  EXPECT_TRUE(Contains(r.err, absl::StrCat("\n  tqs1 apply --auto-approve -c ",
                                           config, "/ -ll ", logs, "/ -v3\n")))
      << r;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(env().ApiWrites(), 0);

  // The line it prints does the job.
  r = Run({"apply", "--auto-approve", "-c", config + "/", "-ll", logs + "/",
           "-v3"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(ManagedAddresses(), 20);

  // No arguments at all: exit 1 too, with the usage and the hint.
  r = Run({});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "Usage: tqs1 COMMAND [options]")) << r;
  EXPECT_TRUE(Contains(r.err, "\n  tqs1 apply --auto-approve\n")) << r;
}

TEST_F(FrontDoorTest, UnderTheOldProgramNameTheOldCronLineApplies) {
  const std::string config = FreshSite(30);
  const std::string logs = MakeDir("logs");
  const std::string legacy = LinkToTqs1(kLegacyName);
  const std::string scratch = dir() + "/legacy-runs";

  // The connector's documented cron line, unchanged.
  RunResult r = RunBinary(
      legacy, {"-c", config + "/", "-ll", logs + "/", "-v3"}, scratch);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(ManagedAddresses(), 30);
  const std::string log = ReadFile(logs + "/tqs1.log");
  EXPECT_EQ(LinesWith(log, " I start: tqs1 ").size(), 1u) << log;
  EXPECT_TRUE(Contains(log, absl::StrCat("as ", kLegacyName, " -c ", config,
                                         "/ -ll ", logs, "/ -v3")))
      << log;
  EXPECT_EQ(LinesWith(log, " I end: tqs1 ").size(), 1u) << log;
  EXPECT_TRUE(Contains(log, "apply, exit 0 (success)")) << log;

  // In sync now: a second run writes nothing.
  const int writes = env().ApiWrites();
  r = RunBinary(legacy, {"--config", config, "-v", "1"}, scratch);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(env().ApiWrites(), writes);

  // Only the old flags: a command word or a tqs1 option is refused.
  r = RunBinary(legacy, {"plan", "-c", config}, scratch);
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err,
                       "Error: tq-conn-sentinelone takes only the old "
                       "connector's flags (-c, -ll, -v, -n); for \"plan\" "
                       "run `tqs1 plan` instead"))
      << r;
  r = RunBinary(legacy, {"-c", config, "--json"}, scratch);
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "\"--json\" is not one of them")) << r;
  EXPECT_EQ(env().ApiWrites(), writes);

  r = RunBinary(legacy, {"-h"}, scratch);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Usage: tq-conn-sentinelone [-c DIR]")) << r;
}

TEST_F(FrontDoorTest, HelpTyposAndVersion) {
  RunResult r = Run({"help", "nosuch"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "unknown command \"nosuch\"")) << r;

  r = Run({"aply", "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "did you mean \"apply\"?")) << r;

  r = Run({"apply", "--auto-aprove"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "did you mean \"--auto-approve\"?")) << r;

  const RunResult version = Run({"version"});
  ASSERT_EQ(version.exit_code, 0) << version;
  EXPECT_TRUE(absl::StartsWith(version.out, "tqs1 ")) << version;
  // The version and the commit it was built from (stamped at build time).
  EXPECT_TRUE(Contains(version.out, " (commit ")) << version;
  for (const char* flag : {"--version", "-V"}) {
    SCOPED_TRACE(flag);
    r = Run({flag});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out, version.out);
  }
  r = Run({"help", "apply"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Usage: tqs1 apply")) << r;
}

TEST_F(FrontDoorTest, TheLogFileSaysEveryRunAndItsErrorsAtEveryLevel) {
  const std::string config = FreshSite(10);
  const std::string logs = MakeDir("logs");
  const mode_t saved = umask(022);

  // A rejected token, at -v1 (errors and warnings only).
  RunResult r = Run({"apply", "--auto-approve", "-c", config, "-ll", logs},
                    {{"TQS1_S1_TOKEN", "not-the-token"}});
  umask(saved);
  EXPECT_EQ(r.exit_code, 1) << r;
  const std::string rejected =
      "the API token from $TQS1_S1_TOKEN was rejected by the console (HTTP "
      "401)";
  EXPECT_TRUE(Contains(r.err, rejected)) << r;
  std::string log = ReadFile(logs + "/tqs1.log");
  ASSERT_EQ(LinesWith(log, " I start: tqs1 ").size(), 1u) << log;
  EXPECT_TRUE(
      Contains(LinesWith(log, " I start: tqs1 ")[0],
               absl::StrCat(" apply, config ", config, "/tqs1.yaml, pid ")))
      << log;
  EXPECT_EQ(LinesWith(log, rejected).size(), 1u) << log;
  EXPECT_TRUE(absl::StrContains(LinesWith(log, rejected)[0], "Z E ")) << log;
  ASSERT_EQ(LinesWith(log, " I end: tqs1 ").size(), 1u) << log;
  EXPECT_TRUE(Contains(LinesWith(log, " I end: tqs1 ")[0],
                       " apply, exit 1 (error) after "))
      << log;
  struct stat st;
  ASSERT_EQ(stat((logs + "/tqs1.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640);

  // A config folder that does not exist: the log still says so.
  r = Run({"plan", "-c", dir() + "/nowhere", "-ll", logs, "-n", "lost"});
  EXPECT_EQ(r.exit_code, 1) << r;
  log = ReadFile(logs + "/lost.log");
  EXPECT_EQ(LinesWith(log, " I start: tqs1 ").size(), 1u) << log;
  EXPECT_EQ(LinesWith(log, " E ").size(), 1u) << log;
  EXPECT_TRUE(Contains(log, dir() + "/nowhere")) << log;
  EXPECT_EQ(LinesWith(log, "exit 1 (error)").size(), 1u) << log;

  // A run that succeeds, at -v1: start and end, nothing else.
  r = Run({"apply", "--auto-approve", "-c", config, "-ll", logs, "-n", "tqs1",
           "-v1"});
  EXPECT_EQ(r.exit_code, 0) << r;
  log = ReadFile(logs + "/tqs1.log");
  EXPECT_EQ(LinesWith(log, " I start: tqs1 ").size(), 2u) << log;
  EXPECT_EQ(LinesWith(log, "apply, exit 0 (success)").size(), 1u) << log;

  // -ll stdout: the console as before, no start or end line at -v1.
  r = Run({"plan", "-c", config});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(Contains(r.err, "start: tqs1")) << r;
  EXPECT_TRUE(Contains(r.out, "No changes.")) << r;
}

TEST_F(FrontDoorTest, SecretsWithStrayWhitespace) {
  const std::string config = FreshSite(10);
  const std::string logs = MakeDir("logs");

  // A trailing newline (`export TQS1_S1_TOKEN=$(cat file)` keeps none, but
  // a systemd EnvironmentFile or a copy and paste may): trimmed, said.
  RunResult r =
      Run({"apply", "--auto-approve", "-c", config, "-ll", logs},
          {{"TQS1_S1_TOKEN", absl::StrCat(kToken, "\n")},
           {"TQS1_THREATQ_PASSWORD", absl::StrCat(" ", kPassword, "\t")}});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(ManagedAddresses(), 10);
  const std::string log = ReadFile(logs + "/tqs1.log");
  EXPECT_EQ(LinesWith(log,
                      "W environment variable TQS1_S1_TOKEN "
                      "(sentinelone.api_token_env) has whitespace")
                .size(),
            1u)
      << log;
  EXPECT_EQ(LinesWith(log,
                      "W environment variable TQS1_THREATQ_PASSWORD "
                      "(threatq.password_env) has whitespace")
                .size(),
            1u)
      << log;

  // A newline inside: refused, naming the variable; nothing is sent.
  const int writes = env().ApiWrites();
  r = Run({"apply", "--auto-approve", "-c", config},
          {{"TQS1_S1_TOKEN", absl::StrCat(kToken, "\nsecond")}});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err,
                       "Error: environment variable TQS1_S1_TOKEN "
                       "(sentinelone.api_token_env) holds a newline or "
                       "another control character inside the secret"))
      << r;
  EXPECT_EQ(env().ApiWrites(), writes);

  // A password file rejected by ThreatQ says which file.
  const std::string pw = dir() + "/tq.pw";
  std::ofstream(pw) << "wrong-password\n";
  chmod(pw.c_str(), 0600);
  std::string yaml = env().ConfigYaml({{"c2-hq", kCollection, "HQ", ""}});
  const std::string env_line = "  password_env: TQS1_THREATQ_PASSWORD\n";
  ASSERT_NE(yaml.find(env_line), std::string::npos);
  yaml.replace(yaml.find(env_line), env_line.size(),
               absl::StrCat("  password_file: ", pw, "\n"));
  const std::string file_config = WriteConfig("f", yaml);
  r = Run({"plan", "-c", file_config});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, absl::StrCat("the ThreatQ password from file ",
                                           pw, " was rejected (HTTP 400)")))
      << r;
}

TEST_F(FrontDoorTest, ServeOnAPortInUseFails) {
  // A listener that allows port sharing, as a running `tqs1 serve` did:
  // a second one joined it and the kernel split the clients between them.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  const int one = 1;
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string listen_on =
      absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));

  const std::string logs = MakeDir("logs");
  Process serve = Start({"serve", "--demo", "--listen", listen_on, "--interval",
                         "0s", "-ll", logs});
  RunResult r = serve.Wait(absl::Seconds(20));
  close(fd);
  EXPECT_EQ(r.exit_code, 1) << r;
  const std::string error =
      absl::StrCat("cannot listen on ", listen_on, ": the address is in use");
  EXPECT_TRUE(Contains(r.err, absl::StrCat("Error: ", error))) << r;
  EXPECT_TRUE(
      Contains(ReadFile(logs + "/tqs1.log"), absl::StrCat(" E ", error)))
      << ReadFile(logs + "/tqs1.log");
}

TEST_F(FrontDoorTest, ServeLogsItsStartAndEnd) {
  const std::string logs = MakeDir("logs");
  Process serve = Start({"serve", "--demo", "--listen", "127.0.0.1:0",
                         "--interval", "0s", "-ll", logs});
  const std::string log_file = logs + "/tqs1.log";
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!Contains(ReadFile(log_file), "start: tqs1 ") &&
         absl::Now() < deadline && !serve.Exited()) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  serve.Signal(SIGTERM);
  RunResult r = serve.Wait(absl::Seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r;
  const std::string log = ReadFile(log_file);
  EXPECT_TRUE(Contains(log, " serve on 127.0.0.1:")) << log;
  EXPECT_TRUE(Contains(log, " serve, stopped on SIGTERM after ")) << log;
}

TEST_F(FrontDoorTest, APackagedLayoutKeepsTheStateOutOfTheConfigFolder) {
  // As the Debian package runs it: the config in one folder (/etc/tqs1),
  // the state in another (/var/lib/tqs1).
  const std::string config = FreshSite(40);
  const std::string state = MakeDir("state");
  const std::string plan_file = dir() + "/reviewed.json";
  RunResult r =
      Run({"plan", "-c", config, "--state-dir", state, "--out", plan_file});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "apply it with `tqs1 apply -c " + config +
                                  " --state-dir " + state + " " + plan_file +
                                  "`"))
      << r;
  r = Run({"apply", "-c", config, "--state-dir", state, plan_file});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(ManagedAddresses(), 40);
  for (const char* file : {"tqs1.plan-key", "tqs1.last-run.json"}) {
    EXPECT_TRUE(fs::exists(absl::StrCat(state, "/", file))) << file;
    EXPECT_FALSE(fs::exists(absl::StrCat(config, "/", file))) << file;
  }
  // The plan key is the state folder's: without --state-dir, the same file
  // is another instance's plan.
  r = Run({"apply", "-c", config, plan_file});
  EXPECT_EQ(r.exit_code, 1) << r;

  r = Run({"plan", "-c", config, "--state-dir", dir() + "/nowhere"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "Error: state folder " + dir() +
                                  "/nowhere (--state-dir) does not exist"))
      << r;
}

TEST_F(FrontDoorTest, CheckConfigOnlyValidatesWithoutContactingTheVendors) {
  const std::string config = FreshSite(5);
  const std::string state = MakeDir("state");
  env().tq().server().ClearRequests();
  env().s1().server().ClearRequests();
  RunResult r =
      Run({"check", "--config-only", "-c", config, "--state-dir", state});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Config " + config +
                                  "/tqs1.yaml is valid: 1 sync (\"c2-hq\"), "
                                  "credentials found, state in " +
                                  state + "."))
      << r;
  // A missing secret is what a service must not start with.
  r = Run({"check", "--config-only", "-c", config},
          {{::tqs1::testing::kTokenEnv, std::nullopt}});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err, ::tqs1::testing::kTokenEnv)) << r;
  EXPECT_TRUE(env().tq().server().Requests().empty());
  EXPECT_TRUE(env().s1().server().Requests().empty());

  r = Run({"check", "--config-only", "--write-probe", "-c", config});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_TRUE(Contains(r.err,
                       "--config-only cannot be combined with "
                       "--write-probe"))
      << r;
}

}  // namespace
}  // namespace tqs1::e2e

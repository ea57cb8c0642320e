// A harness for end-to-end tests of the real `tqs1` binary: it starts the
// ThreatQ and SentinelOne emulators in-process (testing/vendors_env.h,
// unseeded: 127.0.0.1, ephemeral ports), writes config files into the test's
// temporary folder, and runs the binary as a subprocess with a controlled
// environment, returning its exit code and what it printed.
//
//   class MyTest : public E2eTest {};
//   TEST_F(MyTest, FreshSite) {
//     env().tq().AddCollection("Known C2 IPs", Ipv4Indicators(0, 12000));
//     env().AddSite("HQ");
//     std::string dir = WriteConfig("c", env().ConfigYaml(
//         {{"c2-hq", "Known C2 IPs", "HQ"}}));
//     RunResult r = Run({"plan", "--detailed-exitcode", "-c", dir});
//     EXPECT_EQ(r.exit_code, 2) << r;
//   }
//
// Every run passes the two secrets through TQS1_THREATQ_PASSWORD and
// TQS1_S1_TOKEN (unless the test overrides them). E2eTest checks that
// neither secret appears in any run's output, nor in any file under the
// test's folder (logs, plans, state), and fails the test otherwise.
#ifndef TQS1_TESTS_E2E_HARNESS_H_
#define TQS1_TESTS_E2E_HARNESS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "proto/state.pb.h"
#include "providers/threatq/collection_read_builder.h"
#include "testing/vendors_env.h"

namespace tqs1::e2e {

// The secrets of every run; no output or file may contain them.
inline constexpr char kPassword[] = "e2e-tq-Pa55w0rd-7f3c91";
inline constexpr char kToken[] = "e2e-s1-T0ken-0d9a2b64c1";

// What one run of the binary did.
struct RunResult {
  int exit_code = -1;  // -1: killed by a signal or the timeout
  std::string out;
  std::string err;
};
// For failure messages: the exit code and both streams.
std::ostream& operator<<(std::ostream& os, const RunResult& r);

// The path of the `tqs1` binary in the test's runfiles.
std::string Tqs1Path();

// The environment of a run: NAME -> value; a nullopt value removes NAME.
using EnvOverrides = std::map<std::string, std::optional<std::string>>;

// A running `tqs1` process (see Spawn()).
class Process {
 public:
  // Starts `tqs1 args...` with stdin from /dev/null and stdout/stderr to
  // files in `scratch_dir`. The environment holds only PATH, TZ=UTC,
  // NO_COLOR=1, the two secrets and `env`.
  static absl::StatusOr<Process> Spawn(const std::vector<std::string>& args,
                                       const EnvOverrides& env,
                                       const std::string& scratch_dir);
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  // Kills the process if it is still running.
  ~Process();

  // Whether it has exited (polls without blocking).
  bool Exited();
  // What it has written to standard output so far.
  std::string OutputSoFar() const;
  // Sends `signo` (e.g. SIGTERM) to the process.
  void Signal(int signo);
  // Waits for the exit, at most `timeout` (then kills it: exit_code -1).
  RunResult Wait(absl::Duration timeout = absl::Seconds(50));

 private:
  Process(pid_t pid, std::string out_file, std::string err_file)
      : pid_(pid),
        out_file_(std::move(out_file)),
        err_file_(std::move(err_file)) {}
  RunResult Collect();

  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
  std::string out_file_;
  std::string err_file_;
};

// `n` distinct public IPv4 addresses from 45.0.0.0 up, starting with the
// `first`-th, as active "IP Address" indicators.
std::vector<threatq::Indicator> Ipv4Indicators(int first, int n);
// The same as plain strings.
std::vector<std::string> Ipv4Addresses(int first, int n);

// The number of addresses of a rule (all its host sets).
int AddressCount(const tqs1::v1::Rule& rule);

// The fixture: emulators, a scratch folder, runs and the secret check.
class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Both emulators, unseeded: the test adds collections and sites.
  ::tqs1::testing::VendorsEnv& env() { return *env_; }
  // The test's own folder under TEST_TMPDIR.
  const std::string& dir() const { return dir_; }

  // Writes `yaml` to dir()/<folder>/tqs1.yaml (creating the folder) and
  // returns the folder.
  std::string WriteConfig(const std::string& folder, const std::string& yaml);
  // Creates dir()/<folder> and returns it.
  std::string MakeDir(const std::string& folder);

  // Runs tqs1 to completion; `env` overrides the default environment.
  RunResult Run(const std::vector<std::string>& args,
                const EnvOverrides& env = {});
  // Starts tqs1 without waiting.
  Process Start(const std::vector<std::string>& args,
                const EnvOverrides& env = {});

 private:
  std::unique_ptr<::tqs1::testing::VendorsEnv> env_;
  std::string dir_;
  int runs_ = 0;
};

// The regular files under `dir` (recursively) that contain kPassword or
// kToken.
std::vector<std::string> FilesWithSecrets(const std::string& dir);

// Whether `text` contains `part`.
bool Contains(const std::string& text, const std::string& part);

// The text of a file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

}  // namespace tqs1::e2e

#endif  // TQS1_TESTS_E2E_HARNESS_H_

#include "tests/e2e_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "testing/builders.h"

namespace tqs1::e2e {
namespace {

namespace fs = std::filesystem;

std::string Getenv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// A folder for this test under TEST_TMPDIR.
std::string TestDir() {
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = absl::StrCat(info->test_suite_name(), ".", info->name());
  name = absl::StrReplaceAll(name, {{"/", "_"}});
  std::string root = Getenv("TEST_TMPDIR");
  if (root.empty()) root = fs::temp_directory_path().string();
  fs::path dir = fs::path(root) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const RunResult& r) {
  return os << "exit code " << r.exit_code << "\n--- stdout:\n"
            << r.out << "\n--- stderr:\n"
            << r.err << "\n---";
}

std::string Tqs1Path() {
  std::vector<std::string> candidates;
  const std::string srcdir = Getenv("TEST_SRCDIR");
  if (!srcdir.empty()) {
    std::string workspace = Getenv("TEST_WORKSPACE");
    if (workspace.empty()) workspace = "tqs1";
    candidates.push_back(absl::StrCat(srcdir, "/", workspace, "/cli/tqs1"));
  }
  candidates.push_back("cli/tqs1");
  for (const std::string& path : candidates) {
    if (access(path.c_str(), X_OK) == 0) return fs::absolute(path).string();
  }
  return candidates.front();
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// --- Process -----------------------------------------------------------

absl::StatusOr<Process> Process::Spawn(const std::vector<std::string>& args,
                                       const EnvOverrides& env,
                                       const std::string& scratch_dir) {
  static int counter = 0;
  const std::string stem =
      absl::StrCat(scratch_dir, "/run-", getpid(), "-", ++counter);
  std::string out_file = stem + ".stdout";
  std::string err_file = stem + ".stderr";

  std::map<std::string, std::string> vars = {
      {"PATH", "/usr/bin:/bin"}, {"TZ", "UTC"},
      {"NO_COLOR", "1"},         {"TQS1_THREATQ_PASSWORD", kPassword},
      {"TQS1_S1_TOKEN", kToken},
  };
  for (const auto& [name, value] : env) {
    if (value.has_value()) {
      vars[name] = *value;
    } else {
      vars.erase(name);
    }
  }
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : vars) {
    env_strings.push_back(absl::StrCat(name, "=", value));
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  const std::string binary = Tqs1Path();
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(),
                       envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::ErrnoToStatus(rc, absl::StrCat("cannot start ", binary));
  }
  return Process(pid, std::move(out_file), std::move(err_file));
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_),
      status_(other.status_),
      exited_(other.exited_),
      out_file_(std::move(other.out_file_)),
      err_file_(std::move(other.err_file_)) {
  other.pid_ = -1;
}

Process::~Process() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
}

void Process::Signal(int signo) {
  if (pid_ > 0 && !exited_) kill(pid_, signo);
}

bool Process::Exited() {
  if (pid_ <= 0 || exited_) return true;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
  return exited_;
}

RunResult Process::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!Exited()) {
    if (absl::Now() > deadline) {
      ADD_FAILURE() << "tqs1 did not finish within "
                    << absl::FormatDuration(timeout) << "; killed";
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
      exited_ = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));  // bounded polling
  }
  return Collect();
}

std::string Process::OutputSoFar() const { return ReadFile(out_file_); }

RunResult Process::Collect() {
  RunResult r;
  r.exit_code = WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  r.out = ReadFile(out_file_);
  r.err = ReadFile(err_file_);
  return r;
}

std::vector<std::string> Ipv4Addresses(int first, int n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (int k = first; k < first + n; ++k) {
    const uint32_t ip = (45u << 24) + static_cast<uint32_t>(k) + 1;
    out.push_back(absl::StrCat(ip >> 24, ".", (ip >> 16) & 255, ".",
                               (ip >> 8) & 255, ".", ip & 255));
  }
  return out;
}

std::vector<threatq::Indicator> Ipv4Indicators(int first, int n) {
  return ::tqs1::testing::IpIndicators(Ipv4Addresses(first, n));
}

int AddressCount(const tqs1::v1::Rule& rule) {
  int n = 0;
  for (const tqs1::v1::HostSet& hosts : rule.remote_hosts()) {
    n += hosts.values_size();
  }
  return n;
}

// --- E2eTest -----------------------------------------------------------

void E2eTest::SetUp() {
  ::tqs1::testing::VendorsEnvOptions options;
  options.password = kPassword;
  options.api_token = kToken;
  options.seed = false;
  absl::StatusOr<std::unique_ptr<::tqs1::testing::VendorsEnv>> env =
      ::tqs1::testing::VendorsEnv::Start(options);
  ASSERT_TRUE(env.ok()) << env.status();
  env_ = *std::move(env);
  dir_ = TestDir();
  fs::create_directories(dir_ + "/runs");
}

void E2eTest::TearDown() {
  // No secret in any output or file of this test: run outputs, logs, plans,
  // state files.
  EXPECT_EQ(FilesWithSecrets(dir_), std::vector<std::string>{});
  int outputs = 0;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(dir_ + "/runs")) {
    outputs += entry.is_regular_file();
  }
  EXPECT_EQ(outputs, 2 * runs_) << "run outputs missing from the secret scan";
}

std::vector<std::string> FilesWithSecrets(const std::string& dir) {
  std::vector<std::string> out;
  for (const fs::directory_entry& entry :
       fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string text = ReadFile(entry.path().string());
    if (Contains(text, kPassword) || Contains(text, kToken)) {
      out.push_back(entry.path().string());
    }
  }
  return out;
}

std::string E2eTest::MakeDir(const std::string& folder) {
  std::string path = absl::StrCat(dir_, "/", folder);
  fs::create_directories(path);
  return path;
}

std::string E2eTest::WriteConfig(const std::string& folder,
                                 const std::string& yaml) {
  std::string path = MakeDir(folder);
  std::ofstream(path + "/tqs1.yaml") << yaml;
  return path;
}

Process E2eTest::Start(const std::vector<std::string>& args,
                       const EnvOverrides& env) {
  ++runs_;
  absl::StatusOr<Process> p = Process::Spawn(args, env, dir_ + "/runs");
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    std::abort();
  }
  return *std::move(p);
}

RunResult E2eTest::Run(const std::vector<std::string>& args,
                       const EnvOverrides& env) {
  RunResult r = Start(args, env).Wait();
  for (const char* secret : {kPassword, kToken}) {
    EXPECT_FALSE(Contains(r.out, secret) || Contains(r.err, secret))
        << "a secret leaked: " << r;
  }
  return r;
}

}  // namespace tqs1::e2e

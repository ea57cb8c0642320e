#include "emulators/self_signed_cert.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tqs1::emulator {
namespace {

// Runs `argv` (argv[0] looked up on PATH) with stdout/stderr discarded.
absl::Status Run(absl::string_view step, const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat(step, ": fork failed"));
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
    }
    execvp(args[0], args.data());
    _exit(127);
  }
  int wstatus = 0;
  if (waitpid(pid, &wstatus, 0) < 0 || !WIFEXITED(wstatus) ||
      WEXITSTATUS(wstatus) != 0) {
    return absl::InternalError(absl::StrCat(
        "generating test certificates: `openssl` failed at step '", step,
        "' (exit ", WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TestCertificates> GenerateTestCertificates(
    absl::string_view dir) {
  const std::string d(dir);
  TestCertificates certs;
  certs.ca_file = d + "/ca.pem";
  certs.cert_file = d + "/server.pem";
  certs.key_file = d + "/server.key";
  const std::string ca_key = d + "/ca.key";
  const std::string csr = d + "/server.csr";
  const std::string ext = d + "/server.ext";
  {
    std::ofstream out(ext);
    out << "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
           "basicConstraints=CA:FALSE\n"
           "keyUsage=digitalSignature,keyEncipherment\n"
           "extendedKeyUsage=serverAuth\n";
    if (!out) {
      return absl::InternalError(
          absl::StrCat("generating test certificates: cannot write ", ext));
    }
  }
  const std::vector<std::string> ec_key = {
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  std::vector<std::string> ca = {"openssl", "req", "-x509"};
  ca.insert(ca.end(), ec_key.begin(), ec_key.end());
  ca.insert(ca.end(), {"-keyout", ca_key, "-out", certs.ca_file, "-days", "2",
                       "-subj", "/CN=tqs1 test CA"});
  if (absl::Status s = Run("create CA", ca); !s.ok()) return s;
  std::vector<std::string> req = {"openssl", "req"};
  req.insert(req.end(), ec_key.begin(), ec_key.end());
  req.insert(req.end(), {"-keyout", certs.key_file, "-out", csr, "-subj",
                         "/CN=localhost"});
  if (absl::Status s = Run("create server key", req); !s.ok()) return s;
  if (absl::Status s =
          Run("sign server certificate",
              {"openssl", "x509", "-req", "-in", csr, "-CA", certs.ca_file,
               "-CAkey", ca_key, "-CAcreateserial", "-out", certs.cert_file,
               "-days", "2", "-extfile", ext});
      !s.ok()) {
    return s;
  }
  return certs;
}

}  // namespace tqs1::emulator

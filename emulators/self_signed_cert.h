// Generates a throwaway certificate authority and a server certificate for
// 127.0.0.1 / ::1 / localhost, so an EmulatorServer can serve HTTPS that a
// client verifies for real (against the CA file), without any network.
// Runs the `openssl` command-line tool (Debian package `openssl`).
//
//   ASSIGN_OR_RETURN(TestCertificates certs, GenerateTestCertificates(dir));
//   ServerOptions options;
//   options.cert_file = certs.cert_file;
//   options.key_file = certs.key_file;
//   // client side: CurlTransportOptions::ca_bundle_file = certs.ca_file
#ifndef TQS1_EMULATORS_SELF_SIGNED_CERT_H_
#define TQS1_EMULATORS_SELF_SIGNED_CERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tqs1::emulator {

struct TestCertificates {
  std::string ca_file;    // PEM: the CA to trust
  std::string cert_file;  // PEM: the server certificate, signed by the CA
  std::string key_file;   // PEM: the server's private key (unencrypted)
};

// Writes ca.pem, ca.key, server.pem and server.key into the existing
// directory `dir` (P-256 keys, valid for 2 days). Errors: kInternal when
// `openssl` fails or is missing (the message names the failing step).
// Thread-compatible; each call should use its own directory.
absl::StatusOr<TestCertificates> GenerateTestCertificates(
    absl::string_view dir);

}  // namespace tqs1::emulator

#endif  // TQS1_EMULATORS_SELF_SIGNED_CERT_H_

#include "reconciler/plan_file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace tqs1::reconciler {
namespace {

constexpr absl::string_view kSignaturePrefix = "hmac-sha256:";

absl::Status CheckKey(absl::string_view key) {
  if (key.size() < kMinPlanKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the plan key has ", key.size(), " bytes; at least ",
                     kMinPlanKeyBytes, " are needed"));
  }
  return absl::OkStatus();
}

// The bytes the signature covers: the file without its signature,
// serialized deterministically (map entries sorted).
std::string CanonicalContent(const tqs1::v1::PlanFile& file) {
  tqs1::v1::PlanFile unsigned_file = file;
  unsigned_file.clear_signature();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    unsigned_file.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
       &length);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(out), length));
}

}  // namespace

std::string PlanKeyId(absl::string_view key) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(key.data(), key.size(), out, &length, EVP_sha256(), nullptr);
  return absl::StrCat(
      "sha256:",
      absl::BytesToHexString(
          absl::string_view(reinterpret_cast<const char*>(out), length))
          .substr(0, 16));
}

absl::Status SignPlanFile(absl::string_view key, tqs1::v1::PlanFile& file) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  file.set_key_id(PlanKeyId(key));
  file.set_signature(
      absl::StrCat(kSignaturePrefix, Hmac(key, CanonicalContent(file))));
  return absl::OkStatus();
}

absl::Status VerifyPlanFile(absl::string_view key,
                            const tqs1::v1::PlanFile& file,
                            absl::string_view source) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  const std::string what = absl::StrCat("plan file \"", source, "\"");
  if (file.signature().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        " is not signed; only a plan saved by `tqs1 plan --out` (or "
        "--json) of this instance can be applied"));
  }
  const std::string our_id = PlanKeyId(key);
  if (file.key_id() != our_id) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " was made by another tqs1 instance (key ", file.key_id(),
        ", this instance's is ", our_id,
        "); make the plan with this instance's config and state folder"));
  }
  const std::string expected =
      absl::StrCat(kSignaturePrefix, Hmac(key, CanonicalContent(file)));
  if (expected.size() != file.signature().size() ||
      CRYPTO_memcmp(expected.data(), file.signature().data(),
                    expected.size()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        " was changed since tqs1 wrote it (its signature does not match "
        "its content); nothing applied: run plan again"));
  }
  return absl::OkStatus();
}

}  // namespace tqs1::reconciler

#include "reconciler/fingerprint.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "reconciler/ownership.h"

namespace tqs1::reconciler {
namespace {

// Feeds length-prefixed fields to SHA-256, so that no two different field
// sequences hash the same bytes. The fields are gathered and hashed in
// large blocks: a site's fields are mostly addresses of a dozen bytes, and
// a digest call for each was most of a fingerprint's time.
class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
    pending_.reserve(kBlock);
  }

  void Add(absl::string_view field) {
    AddNumber(field.size());
    if (pending_.size() + field.size() > kBlock) Flush();
    if (field.size() > kBlock) {
      EVP_DigestUpdate(ctx_.get(), field.data(), field.size());
    } else {
      pending_.append(field.data(), field.size());
    }
  }

  void AddNumber(uint64_t n) {
    if (pending_.size() + 8 > kBlock) Flush();
    for (int k = 0; k < 8; ++k) pending_.push_back((n >> (8 * k)) & 0xff);
  }

  std::string Finish() {
    Flush();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_.get(), out, &length);
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(out), length));
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;

  void Flush() {
    EVP_DigestUpdate(ctx_.get(), pending_.data(), pending_.size());
    pending_.clear();
  }

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  std::string pending_;
};

// One (type, value) entry of a rule, with the key that orders it.
struct Entry {
  uint64_t key;
  absl::string_view type;
  absl::string_view value;

  bool operator<(const Entry& other) const {
    return std::tie(key, type, value) <
           std::tie(other.key, other.type, other.value);
  }
};

// FNV-1a (64 bits) of `type`, a NUL and `value`: the same in every build
// and on every machine, as a plan file's fingerprint must be.
uint64_t EntryKey(absl::string_view type, absl::string_view value) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (char c : type) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : value) mix(static_cast<unsigned char>(c));
  return h;
}

}  // namespace

std::string ObservedFingerprint(const tqs1::v1::ObservedState& observed) {
  std::vector<const tqs1::v1::Rule*> rules;
  rules.reserve(observed.rules_size());
  for (const tqs1::v1::Rule& rule : observed.rules()) rules.push_back(&rule);
  std::sort(rules.begin(), rules.end(),
            [](const tqs1::v1::Rule* a, const tqs1::v1::Rule* b) {
              return std::tie(a->id(), a->name()) <
                     std::tie(b->id(), b->name());
            });

  Digest digest;
  digest.Add(observed.site_id());
  // An account's id never equals a site's, but the scope is part of what
  // was read (a site's fingerprint is as it was before accounts).
  if (TargetScope(observed) != tqs1::v1::RULE_SCOPE_SITE) {
    digest.Add(ScopeNoun(TargetScope(observed)));
  }
  digest.AddNumber(rules.size());
  for (const tqs1::v1::Rule* rule : rules) {
    digest.Add(rule->id());
    digest.Add(rule->name());
    digest.Add(rule->description());
    digest.AddNumber(rule->action());
    digest.AddNumber(rule->enabled());
    digest.AddNumber(rule->direction());
    // Sets, not lists: the order in which a console lists OS types and
    // values (or splits values into host sets) is no change.
    std::vector<int> os(rule->os_types().begin(), rule->os_types().end());
    std::sort(os.begin(), os.end());
    digest.AddNumber(os.size());
    for (int type : os) digest.AddNumber(type);
    digest.AddNumber(rule->scope());
    digest.Add(rule->scope_id());
    digest.AddNumber(rule->read_only());
    digest.Add(rule->unreadable());
    // A set: hashed in a canonical order, by a cheap key first (sorting a
    // million string pairs is most of a plan's time on a large site) and
    // by the text on a tie. Every byte of every entry is still digested.
    std::vector<Entry> entries;
    for (const tqs1::v1::HostSet& hosts : rule->remote_hosts()) {
      for (const std::string& value : hosts.values()) {
        entries.push_back({EntryKey(hosts.type(), value), hosts.type(), value});
      }
    }
    std::sort(entries.begin(), entries.end());
    digest.AddNumber(entries.size());
    for (const Entry& entry : entries) {
      digest.Add(entry.type);
      digest.Add(entry.value);
    }
  }
  return absl::StrCat("sha256:", digest.Finish());
}

}  // namespace tqs1::reconciler

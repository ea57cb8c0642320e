#include "cli/config/config_loader.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/net.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/config.pb.h"

namespace tqs1::config {
namespace {

using ::google::protobuf::TextFormat;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::tqs1::v1::Config;

Config ParseTextProto(const std::string& text) {
  Config config;
  EXPECT_TRUE(TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

void ExpectProtoEq(const Config& actual, const Config& expected) {
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(expected, actual)) << diff << "\nactual:\n"
                                                     << actual.DebugString();
}

// The config of issue 4, verbatim.
constexpr char kIssueExample[] = R"(threatq:
  url: https://threatq.example.net      # http:// allowed for loopback only
  client_id: "..."
  username: svc-tqs1@example.net
  password_env: TQS1_THREATQ_PASSWORD   # or password_file: PATH
  ca_file: /etc/ssl/certs/tq.pem        # optional
sentinelone:
  url: https://usea1.sentinelone.net
  api_token_env: TQS1_S1_TOKEN          # or api_token_file: PATH
syncs:
  - collection: "Known C2 IPs"
    site: "HQ"
    rule:
      description: "Blocked by ThreatQ"
      direction: any                    # any | inbound | outbound
      os_types: [windows, macos, linux]
      enabled: true
)";

TEST(ParseConfigYamlTest, IssueExample) {
  absl::StatusOr<Config> config = ParseConfigYaml(kIssueExample, "tqs1.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ExpectProtoEq(*config, ParseTextProto(R"pb(
    threatq {
      url: "https://threatq.example.net"
      client_id: "..."
      username: "svc-tqs1@example.net"
      password { env: "TQS1_THREATQ_PASSWORD" }
      tls { ca_file: "/etc/ssl/certs/tq.pem" }
    }
    sentinelone {
      url: "https://usea1.sentinelone.net"
      api_token { env: "TQS1_S1_TOKEN" }
    }
    syncs {
      name: "Known C2 IPs -> HQ"
      collection: "Known C2 IPs"
      site: "HQ"
      rule {
        description: "Blocked by ThreatQ"
        direction: DIRECTION_ANY
        os_types: [ OS_TYPE_WINDOWS, OS_TYPE_MACOS, OS_TYPE_LINUX ]
        enabled: true
      }
    }
  )pb"));
}

TEST(ParseConfigYamlTest, EveryKey) {
  constexpr char kYaml[] = R"(
threatq:
  url: http://127.0.0.1:8443/tq/
  client_id: cid
  client_secret_file: /run/secrets/tq
  ca_file: tq.pem
  insecure_skip_verify: TRUE
  block_statuses: [Active, Review]
  page_size: 500
  max_in_flight: 1
sentinelone:
  url: "http://[::1]:9000"
  api_token_file: s1.token
  insecure_skip_verify: false
  rule_page_size: 100
  writes_per_second: 0.5
  max_in_flight: 32
never_block: [192.0.2.10, "2001:DB8::/32"]
parallelism: 64
syncs:
  - name: c2-hq
    collection: Known C2 IPs
    site: HQ
    account: ACME
    ipv6: OFF
    rule:
      description: ""
      direction: Outbound
      os_types:
        - windows_legacy
        - linux
      enabled: false
    never_block:
      - 198.51.100.0/24
    guards:
      min_desired_addresses: 50
      max_unblock_fraction: 0.5
      unblock_floor: 10
      min_ipv4_prefix: 16
      min_ipv6_prefix: 48
  - collection: Botnet
    site: Branch
  - collection: Botnet
    site_id: 225494730938493804
)";
  absl::StatusOr<Config> config = ParseConfigYaml(kYaml, "all.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ExpectProtoEq(*config, ParseTextProto(R"pb(
    threatq {
      url: "http://127.0.0.1:8443/tq/"
      client_id: "cid"
      client_secret { file: "/run/secrets/tq" }
      tls { ca_file: "tq.pem" insecure_skip_verify: true }
      block_statuses: [ "Active", "Review" ]
      page_size: 500
      max_in_flight: 1
    }
    sentinelone {
      url: "http://[::1]:9000"
      api_token { file: "s1.token" }
      rule_page_size: 100
      writes_per_second: 0.5
      max_in_flight: 32
    }
    never_block: [ "192.0.2.10", "2001:db8::/32" ]
    parallelism: 64
    syncs {
      name: "c2-hq"
      collection: "Known C2 IPs"
      site: "HQ"
      account: "ACME"
      ipv6: IPV6_MODE_OFF
      rule {
        direction: DIRECTION_OUTBOUND
        os_types: [ OS_TYPE_WINDOWS_LEGACY, OS_TYPE_LINUX ]
        enabled: false
      }
      never_block: "198.51.100.0/24"
      guards {
        min_desired_addresses: 50
        max_unblock_fraction: 0.5
        unblock_floor: 10
        min_ipv4_prefix: 16
        min_ipv6_prefix: 48
      }
    }
    syncs {
      name: "Botnet -> Branch"
      collection: "Botnet"
      site: "Branch"
      rule { enabled: true }
    }
    syncs {
      name: "Botnet -> site 225494730938493804"
      collection: "Botnet"
      site_id: "225494730938493804"
      rule { enabled: true }
    }
  )pb"));
}

// Lines 1-8: valid vendor sections.
constexpr char kThreatQ[] = R"(threatq:
  url: https://tq.example.net
  client_id: cid
  username: svc@example.net
  password_env: TQ_PASSWORD
)";
constexpr char kSentinelOne[] = R"(sentinelone:
  url: https://s1.example.net
  api_token_env: S1_TOKEN
)";
// Lines 9-11 after the two sections above.
constexpr char kOneSync[] = R"(syncs:
  - collection: C2
    site: HQ
)";

std::string Vendors() { return absl::StrCat(kThreatQ, kSentinelOne); }

// Lines 6-15 after kThreatQ: two named consoles.
constexpr char kTwoConsoles[] = R"(sentinelone:
  eu:
    url: https://eu.example.net
    api_token_env: S1_EU_TOKEN
    writes_per_second: 4
  us:
    url: https://us.example.net
    api_token_file: us.token
    ca_file: us-ca.pem
)";
// Lines 1-10: two named ThreatQ instances.
constexpr char kTwoInstances[] = R"(threatq:
  emea:
    url: https://tq-emea.example.net
    client_id: cid
    username: svc@example.net
    password_env: TQ_EMEA_PASSWORD
  us:
    url: https://tq-us.example.net
    client_id: cid2
    client_secret_env: TQ_US_SECRET
)";

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string message;
};

std::vector<ErrorCase> ErrorCases() {
  const std::string v = Vendors();
  const std::string sync_head = "syncs:\n  - collection: C2\n    site: HQ\n";
  return {
      // Keys.
      {"misspelled key",
       absl::StrReplaceAll(v, {{"password_env", "pasword_env"}}) + kOneSync,
       "tqs1.yaml:5: unknown key \"pasword_env\" in threatq (did you mean "
       "\"password_env\"?)"},
      {"misspelled top-level key",
       v + "synks:\n  - collection: C2\n    site: HQ\n",
       "tqs1.yaml:9: unknown key \"synks\" at the top level (did you mean "
       "\"syncs\"?)"},
      {"unknown key, nothing close",
       v + sync_head + "    rule:\n      colour: red\n",
       "tqs1.yaml:13: unknown key \"colour\" in syncs[0].rule (expected one "
       "of: description, direction, os_types, enabled)"},
      {"inline secret",
       absl::StrReplaceAll(
           v, {{"password_env: TQ_PASSWORD", "password: hunter2"}}) +
           kOneSync,
       "tqs1.yaml:5: threatq.password: secrets may not be written in the "
       "config file; reference one with password_env or password_file"},
      {"inline token",
       absl::StrReplaceAll(
           v, {{"api_token_env: S1_TOKEN", "api_token: hunter2"}}) +
           kOneSync,
       "tqs1.yaml:8: sentinelone.api_token: secrets may not be written in "
       "the config file; reference one with api_token_env or "
       "api_token_file"},
      {"duplicate key", v + sync_head + "    site: Branch\n",
       "tqs1.yaml:12: duplicate key \"site\" in syncs[0] (first at line 11)"},
      // Types and values.
      {"bool", v + sync_head + "    rule:\n      enabled: yes please\n",
       "tqs1.yaml:13: syncs[0].rule.enabled: expected true or false, got "
       "\"yes please\""},
      {"bool, yaml 1.1 yes", v + sync_head + "    rule:\n      enabled: yes\n",
       "tqs1.yaml:13: syncs[0].rule.enabled: expected true or false, got "
       "\"yes\""},
      {"empty bool", v + sync_head + "    rule:\n      enabled:\n",
       "tqs1.yaml:13: syncs[0].rule.enabled: expected true or false, got "
       "nothing"},
      {"direction", v + sync_head + "    rule:\n      direction: both\n",
       "tqs1.yaml:13: syncs[0].rule.direction: unknown value \"both\"; "
       "expected one of: any, inbound, outbound"},
      {"os type",
       v + sync_head + "    rule:\n      os_types: [windows, beos]\n",
       "tqs1.yaml:13: syncs[0].rule.os_types[1]: unknown value \"beos\"; "
       "expected one of: windows, windows_legacy, macos, linux"},
      {"os types not a list",
       v + sync_head + "    rule:\n      os_types: linux\n",
       "tqs1.yaml:13: syncs[0].rule.os_types: expected a list, got "
       "\"linux\""},
      {"os types empty", v + sync_head + "    rule:\n      os_types: []\n",
       "tqs1.yaml:13: syncs[0].rule.os_types: expected at least one of: "
       "windows, windows_legacy, macos, linux"},
      {"os type twice",
       v + sync_head + "    rule:\n      os_types: [linux, Linux]\n",
       "tqs1.yaml:13: syncs[0].rule.os_types[1]: duplicate value \"Linux\""},
      {"string expected", v + "syncs:\n  - collection: [a, b]\n    site: HQ\n",
       "tqs1.yaml:10: syncs[0].collection: expected a string, got a list"},
      {"empty string", v + "syncs:\n  - collection: C2\n    site: \"\"\n",
       "tqs1.yaml:11: syncs[0].site: must not be empty"},
      {"section not a map", "threatq: tq.example.net\n",
       "tqs1.yaml:1: threatq: expected a map of keys, got "
       "\"tq.example.net\""},
      {"page size",
       absl::StrReplaceAll(v, {{"  password_env",
                                "  page_size: lots\n"
                                "  password_env"}}) +
           kOneSync,
       "tqs1.yaml:5: threatq.page_size: expected a whole number from 1 to "
       "100000, got \"lots\""},
      {"negative floor",
       v + sync_head + "    guards:\n      unblock_floor: -1\n",
       "tqs1.yaml:13: syncs[0].guards.unblock_floor: expected a whole "
       "number of at least 1, got \"-1\""},
      {"fraction above 1",
       v + sync_head + "    guards:\n      max_unblock_fraction: 1.5\n",
       "tqs1.yaml:13: syncs[0].guards.max_unblock_fraction: expected a "
       "number greater than 0 and at most 1, got \"1.5\""},
      {"fraction 0",
       v + sync_head + "    guards:\n      max_unblock_fraction: 0\n",
       "tqs1.yaml:13: syncs[0].guards.max_unblock_fraction: expected a "
       "number greater than 0 and at most 1, got \"0\""},
      {"ipv4 prefix",
       v + sync_head + "    guards:\n      min_ipv4_prefix: 33\n",
       "tqs1.yaml:13: syncs[0].guards.min_ipv4_prefix: expected a whole "
       "number from 1 to 32, got \"33\""},
      {"refuse: unknown category", v + "refuse: [private, privat]\n" + kOneSync,
       "tqs1.yaml:9: refuse[1]: unknown value \"privat\"; expected one of: "
       "private, cgnat, documentation, unique_local, short_prefix"},
      {"refuse: unknown category of a sync",
       v + sync_head + "    refuse:\n      - cgnat\n      - loopback\n",
       "tqs1.yaml:14: syncs[0].refuse[1]: unknown value \"loopback\"; "
       "expected one of: private, cgnat, documentation, unique_local, "
       "short_prefix"},
      {"refuse: duplicate", v + "refuse: [cgnat, CGNAT]\n" + kOneSync,
       "tqs1.yaml:9: refuse[1]: duplicate value \"CGNAT\""},
      {"refuse: not a list", v + "refuse: {private: true}\n" + kOneSync,
       "tqs1.yaml:9: refuse: expected a list, got a map"},
      {"never block",
       v + "never_block:\n  - 192.0.2.1\n  - 10.0.0.5/8\n" + kOneSync,
       "tqs1.yaml:11: never_block[1]: \"10.0.0.5/8\" is not an IP address "
       "or CIDR prefix: host bits set: the network is 10.0.0.0/8"},
      // Required keys.
      {"no threatq url",
       absl::StrReplaceAll(v, {{"  url: https://tq.example.net\n", ""}}) +
           kOneSync,
       "tqs1.yaml:1: threatq: missing required key \"url\""},
      {"no sentinelone", absl::StrCat(kThreatQ, kOneSync),
       "tqs1.yaml:1: missing required key \"sentinelone\""},
      {"no sentinelone url",
       absl::StrReplaceAll(v, {{"  url: https://s1.example.net\n", ""}}) +
           kOneSync,
       "tqs1.yaml:6: sentinelone: missing required key \"url\""},
      {"no threatq credential",
       absl::StrReplaceAll(v, {{"  password_env: TQ_PASSWORD\n", ""}}) +
           kOneSync,
       "tqs1.yaml:1: threatq: missing credential: set password_env or "
       "password_file (with username), or client_secret_env or "
       "client_secret_file"},
      {"no sentinelone credential",
       absl::StrReplaceAll(v, {{"  api_token_env: S1_TOKEN\n", ""}}) + kOneSync,
       "tqs1.yaml:6: sentinelone: missing credential: set api_token_env or "
       "api_token_file"},
      {"no client id",
       absl::StrReplaceAll(v, {{"  client_id: cid\n", ""}}) + kOneSync,
       "tqs1.yaml:1: threatq: missing required key \"client_id\""},
      {"no username with a password",
       absl::StrReplaceAll(v, {{"  username: svc@example.net\n", ""}}) +
           kOneSync,
       "tqs1.yaml:1: threatq: missing required key \"username\" (the "
       "password's user)"},
      {"no syncs", v, "tqs1.yaml:1: missing required key \"syncs\""},
      {"empty syncs", v + "syncs: []\n",
       "tqs1.yaml:9: syncs: expected at least one sync"},
      {"no collection", v + "syncs:\n  - site: HQ\n",
       "tqs1.yaml:10: syncs[0]: missing required key \"collection\""},
      {"no site", v + "syncs:\n  - name: x\n    collection: C2\n",
       "tqs1.yaml:10: syncs[0]: missing required key \"site\" (the "
       "SentinelOne site's name), \"site_id\", \"sites\" (a list of "
       "site names), \"account_scope\" (an account's own rules) or "
       "\"global: true\" (the console's global rules)"},
      {"global and site",
       v + "syncs:\n  - collection: C2\n    global: true\n    site: HQ\n",
       "tqs1.yaml:11: syncs[0]: set global or site, not both (global: keeps "
       "the console's global rules, which every account and site inherits)"},
      {"global false", v + "syncs:\n  - collection: C2\n    global: false\n",
       "tqs1.yaml:11: syncs[0].global: only true is meaningful (leave "
       "global: out for a site's or an account's rules)"},
      // An account's own rules.
      {"account_scope and site",
       v + "syncs:\n  - collection: C2\n    site: HQ\n"
           "    account_scope: ACME\n",
       "tqs1.yaml:12: syncs[0]: set account_scope or site, not both "
       "(account_scope: keeps the account's own rules, which every site of it "
       "inherits)"},
      {"account_scope and sites",
       v + "syncs:\n  - collection: C2\n    account_scope: ACME\n"
           "    sites: [HQ]\n",
       "tqs1.yaml:11: syncs[0]: set account_scope or sites, not both "
       "(account_scope: keeps the account's own rules, which every site of it "
       "inherits)"},
      {"account_scope empty",
       v + "syncs:\n  - collection: C2\n    account_scope: \"\"\n",
       "tqs1.yaml:11: syncs[0].account_scope: must not be empty"},
      {"account_scope twice for one collection",
       v + "syncs:\n  - collection: C2\n    account_scope: ACME\n"
           "  - name: again\n    collection: C2\n    account_scope: acme\n",
       "tqs1.yaml:12: syncs[1]: collection \"C2\" is already synced to "
       "account \"acme\" by syncs[0] (line 10)"},
      // A group of a site.
      {"group without a site",
       v + "syncs:\n  - collection: C2\n    site_id: \"1758952600032266153\"\n"
           "  - collection: C2\n    group: Lab\n",
       "tqs1.yaml:13: syncs[1]: group needs site or site_id (the site the "
       "group is in)"},
      {"group and sites",
       v + "syncs:\n  - collection: C2\n    sites: [HQ]\n    group: Lab\n",
       "tqs1.yaml:12: syncs[0]: set group or sites, not both (group: keeps "
       "the rules of one group of one site)"},
      {"group and account_scope",
       v + "syncs:\n  - collection: C2\n    account_scope: ACME\n"
           "    group: Lab\n",
       "tqs1.yaml:11: syncs[0]: set account_scope or group, not both "
       "(account_scope: keeps the account's own rules, which every site of it "
       "inherits)"},
      {"group twice for one collection",
       v + "syncs:\n  - collection: C2\n    site: HQ\n    group: Lab\n"
           "  - name: again\n    collection: C2\n    site: hq\n"
           "    group: Lab\n",
       "tqs1.yaml:13: syncs[1]: collection \"C2\" is already synced to "
       "group \"Lab\" of site \"hq\" by syncs[0] (line 10)"},
      // Several sites.
      {"site and sites",
       v + "syncs:\n  - collection: C2\n    site: HQ\n    sites: [Lab]\n",
       "tqs1.yaml:12: syncs[0]: set site, site_id or sites, not more than "
       "one"},
      {"sites not a list", v + "syncs:\n  - collection: C2\n    sites: HQ\n",
       "tqs1.yaml:11: syncs[0].sites: expected a list of site names, got "
       "\"HQ\""},
      {"sites empty", v + "syncs:\n  - collection: C2\n    sites: []\n",
       "tqs1.yaml:11: syncs[0].sites: expected at least one site name"},
      {"a site twice",
       v + "syncs:\n  - collection: C2\n    sites:\n      - HQ\n"
           "      - Lab\n      - hq\n",
       "tqs1.yaml:14: syncs[0].sites[2]: \"hq\" is listed twice (also "
       "syncs[0].sites[0])"},
      {"a site of sites synced already",
       v + "syncs:\n  - collection: C2\n    site: Lab\n"
           "  - collection: C2\n    sites: [HQ, LAB]\n",
       "tqs1.yaml:13: syncs[1].sites[1]: collection \"C2\" is already synced "
       "to site \"LAB\" by syncs[0] (line 10)"},
      {"rollout without sites",
       v + "syncs:\n  - collection: C2\n    site: HQ\n"
           "    rollout: {first: [HQ]}\n",
       "tqs1.yaml:12: syncs[0]: rollout is for an entry with sites: (which "
       "sites go first)"},
      {"rollout of a site not listed",
       v + "syncs:\n  - collection: C2\n    sites: [HQ, Lab]\n"
           "    rollout: {first: [Branch]}\n",
       "tqs1.yaml:12: syncs[0].rollout.first[0]: \"Branch\" is not one of "
       "this entry's sites"},
      {"rollout of every site",
       v + "syncs:\n  - collection: C2\n    sites: [HQ, Lab]\n"
           "    rollout: {first: [lab, HQ]}\n",
       "tqs1.yaml:12: syncs[0].rollout.first: every site goes first: leave at "
       "least one for after them"},
      {"rollout then",
       v + "syncs:\n  - collection: C2\n    sites: [HQ, Lab]\n"
           "    rollout: {first: [Lab], then: all}\n",
       "tqs1.yaml:12: syncs[0].rollout.then: \"all\": the only value is "
       "\"rest\" (the other sites)"},
      {"an unknown console",
       std::string(kThreatQ) + kTwoConsoles +
           "syncs:\n  - collection: C2\n    site: HQ\n"
           "    sentinelone: ap\n",
       "tqs1.yaml:18: syncs[0].sentinelone: unknown console \"ap\"; the "
       "config's consoles are \"eu\", \"us\""},
      {"no console of several", std::string(kThreatQ) + kTwoConsoles + kOneSync,
       "tqs1.yaml:16: syncs[0]: missing required key \"sentinelone\": the "
       "config has several consoles (\"eu\", \"us\")"},
      {"a console of an unnamed one",
       v + "syncs:\n  - collection: C2\n    site: HQ\n"
           "    sentinelone: eu\n",
       "tqs1.yaml:12: syncs[0].sentinelone: the config's sentinelone is one "
       "unnamed console; name them (sentinelone: {NAME: {url: ...}}) to "
       "choose one"},
      {"an unknown ThreatQ instance",
       std::string(kTwoInstances) + kSentinelOne +
           "syncs:\n  - collection: C2\n    site: HQ\n"
           "    threatq: apac\n",
       "tqs1.yaml:17: syncs[0].threatq: unknown ThreatQ instance \"apac\"; "
       "the config's ThreatQ instances are \"emea\", \"us\""},
      {"a console named twice",
       std::string(kThreatQ) +
           "sentinelone:\n  eu: {url: https://a.example.net, api_token_env: "
           "A}\n  EU: {url: https://b.example.net, api_token_env: B}\n" +
           kOneSync,
       "tqs1.yaml:8: sentinelone: console \"EU\" is named twice (first at "
       "line 7)"},
      {"a console name with a space",
       std::string(kThreatQ) +
           "sentinelone:\n  \"e u\": {url: https://a.example.net, "
           "api_token_env: A}\n" +
           kOneSync,
       "tqs1.yaml:7: sentinelone: console name \"e u\" must be 1-64 "
       "letters, digits, '-', '_' or '.'"},
      {"a named console without a token",
       std::string(kThreatQ) +
           "sentinelone:\n  eu: {url: https://a.example.net}\n" + kOneSync,
       "tqs1.yaml:7: sentinelone.eu: missing credential: set api_token_env "
       "or api_token_file"},
      {"one site of two consoles twice",
       std::string(kThreatQ) + kTwoConsoles +
           "syncs:\n  - collection: C2\n    sentinelone: us\n"
           "    site: HQ\n  - collection: C2\n    sentinelone: us\n"
           "    site: hq\n",
       "tqs1.yaml:19: syncs[1]: collection \"C2\" is already synced to site "
       "\"hq\" by syncs[0] (line 16)"},
      {"every site without all",
       v + "syncs:\n  - collection: C2\n    sites: {account: ACME}\n",
       "tqs1.yaml:11: syncs[0].sites: set all: true to use every active "
       "site of the account (new sites included), or list the sites: sites: "
       "[HQ, Branch]"},
      {"every site with all false",
       v + "syncs:\n  - collection: C2\n"
           "    sites: {account: ACME, all: false}\n",
       "tqs1.yaml:11: syncs[0].sites: set all: true to use every active "
       "site of the account (new sites included), or list the sites: sites: "
       "[HQ, Branch]"},
      {"every site and account",
       v + "syncs:\n  - collection: C2\n    account: ACME\n"
           "    sites: {account: ACME, all: true}\n",
       "tqs1.yaml:11: syncs[0]: the account is sites: {account: ...}'s; "
       "leave account: out"},
      {"every site excluding one twice",
       v + "syncs:\n  - collection: C2\n"
           "    sites: {account: ACME, all: true, exclude: [Lab, lab]}\n",
       "tqs1.yaml:11: syncs[0].sites.exclude[1]: \"lab\" is listed twice "
       "(also syncs[0].sites.exclude[0])"},
      {"the name of sites is a sync's",
       v + "syncs:\n  - name: C2 -> HQ\n    collection: A\n    site: HQ\n"
           "  - name: C2 -> HQ\n    collection: C2\n    sites: [Lab]\n",
       "tqs1.yaml:13: syncs[1]: the name \"C2 -> HQ\" of these sites' syncs "
       "is also the name of the sync at syncs[0] (line 10); --sync could not "
       "tell them apart"},
      {"sync not a map", v + "syncs:\n  - C2 to HQ\n",
       "tqs1.yaml:10: syncs[0]: expected a map with the keys collection, "
       "site and rule, got \"C2 to HQ\""},
      // Exclusive keys.
      {"password env and file",
       absl::StrReplaceAll(v, {{"  password_env: TQ_PASSWORD\n",
                                "  password_env: TQ_PASSWORD\n"
                                "  password_file: /run/tq\n"}}) +
           kOneSync,
       "tqs1.yaml:6: threatq: set password_env or password_file, not both"},
      {"token env and file",
       absl::StrReplaceAll(v, {{"  api_token_env: S1_TOKEN\n",
                                "  api_token_file: /run/s1\n"
                                "  api_token_env: S1_TOKEN\n"}}) +
           kOneSync,
       "tqs1.yaml:9: sentinelone: set api_token_env or api_token_file, not "
       "both"},
      {"password and client secret",
       absl::StrReplaceAll(v, {{"  password_env: TQ_PASSWORD\n",
                                "  password_env: TQ_PASSWORD\n"
                                "  client_secret_env: TQ_SECRET\n"}}) +
           kOneSync,
       "tqs1.yaml:1: threatq: set a password (password_env or "
       "password_file) or a client secret (client_secret_env or "
       "client_secret_file), not both"},
      // Syncs against each other.
      {"duplicate names",
       v + "syncs:\n  - name: main\n    collection: A\n    site: HQ\n"
           "  - name: main\n    collection: B\n    site: HQ\n",
       "tqs1.yaml:13: syncs[1]: duplicate sync name \"main\" (also "
       "syncs[0], line 10)"},
      {"duplicate default names",
       v + "syncs:\n  - name: C2 -> HQ\n    collection: A\n    site: HQ\n"
           "  - collection: C2\n    site: HQ\n",
       "tqs1.yaml:13: syncs[1]: duplicate sync name \"C2 -> HQ\" (also "
       "syncs[0], line 10)"},
      {"same collection and site",
       v + "syncs:\n  - collection: C2\n    site: HQ\n"
           "  - name: again\n    collection: C2\n    site: HQ\n",
       "tqs1.yaml:12: syncs[1]: collection \"C2\" is already synced to site "
       "\"HQ\" by syncs[0] (line 10)"},
      // URLs.
      {"http to a remote host",
       absl::StrReplaceAll(
           v, {{"https://tq.example.net", "http://tq.example.net"}}) +
           kOneSync,
       "tqs1.yaml:2: threatq.url: \"http://tq.example.net\" uses http://, "
       "which sends credentials in clear text; use https:// (http:// is "
       "allowed only to localhost, 127.0.0.0/8 and ::1)"},
      {"credentials in a url",
       absl::StrReplaceAll(v, {{"https://s1.example.net",
                                "https://admin:hunter2@s1.example.net"}}) +
           kOneSync,
       "tqs1.yaml:7: sentinelone.url: the URL embeds credentials "
       "(user:password@host); remove them and reference secrets with the "
       "*_env or *_file keys"},
      // Sites and statuses.
      {"site id not digits", v + sync_head + "    site_id: HQ-1\n",
       "tqs1.yaml:12: syncs[0].site_id: \"HQ-1\" is not a SentinelOne site "
       "id (digits, e.g. \"1234567890123456789\")"},
      {"site id and account",
       v + sync_head + "    site_id: 12\n    account: ACME\n",
       "tqs1.yaml:13: syncs[0]: set site_id or account, not both (a site id "
       "names one site already)"},
      {"same site by id twice",
       v + "syncs:\n  - collection: C2\n    site_id: 12\n"
           "  - collection: C2\n    site_id: \"12\"\n    site: HQ\n",
       "tqs1.yaml:12: syncs[1]: collection \"C2\" is already synced to site "
       "\"HQ\" (id 12) by syncs[0] (line 10)"},
      {"never_block_statuses migrates",
       absl::StrCat(kThreatQ, "  never_block_statuses: [Whitelisted]\n",
                    kSentinelOne, kOneSync),
       "tqs1.yaml:6: threatq.never_block_statuses: never_block_statuses (a "
       "list of statuses never blocked) was replaced by block_statuses, the "
       "statuses that are blocked (default [Active]); list the statuses to "
       "block instead, e.g. block_statuses: [Active, Review]"},
      {"whitelisted is never blocked",
       absl::StrCat(kThreatQ, "  block_statuses: [Active, whitelisted]\n",
                    kSentinelOne, kOneSync),
       "tqs1.yaml:6: threatq.block_statuses[1]: \"Whitelisted\" indicators "
       "are never blocked: ThreatQ means them never to be deployed"},
      {"empty block statuses",
       absl::StrCat(kThreatQ, "  block_statuses: []\n", kSentinelOne, kOneSync),
       "tqs1.yaml:6: threatq.block_statuses: expected at least one status "
       "(e.g. Active); an empty list would block nothing"},
      {"rule page size",
       absl::StrCat(kThreatQ, kSentinelOne, "  rule_page_size: 5000\n",
                    kOneSync),
       "tqs1.yaml:9: sentinelone.rule_page_size: expected a whole number "
       "from 1 to 1000, got \"5000\""},
      {"no writes a second",
       absl::StrCat(kThreatQ, kSentinelOne, "  writes_per_second: 0\n",
                    kOneSync),
       "tqs1.yaml:9: sentinelone.writes_per_second: expected a number "
       "greater than 0 and at most 1000, got \"0\""},
      {"too many console requests at once",
       absl::StrCat(kThreatQ, kSentinelOne, "  max_in_flight: 33\n", kOneSync),
       "tqs1.yaml:9: sentinelone.max_in_flight: expected a whole number "
       "from 1 to 32, got \"33\""},
      {"no ThreatQ requests at once",
       absl::StrCat(kThreatQ, "  max_in_flight: 0\n", kSentinelOne, kOneSync),
       "tqs1.yaml:6: threatq.max_in_flight: expected a whole number from 1 "
       "to 32, got \"0\""},
      {"no syncs at once",
       absl::StrCat(Vendors(), "parallelism: 0\n", kOneSync),
       "tqs1.yaml:9: parallelism: expected a whole number from 1 to 64, got "
       "\"0\""},
      {"unknown ipv6 mode",
       absl::StrCat(Vendors(), kOneSync, "    ipv6: maybe\n"),
       "tqs1.yaml:12: syncs[0].ipv6: unknown value \"maybe\"; expected one "
       "of: auto, on, off"},
      // Document shape and syntax.
      {"empty document", "# nothing yet\n",
       "tqs1.yaml:1: the config is empty; expected the keys threatq, "
       "sentinelone and syncs"},
      {"root is a list", "- threatq\n",
       "tqs1.yaml:1: expected a map with the keys threatq, sentinelone and "
       "syncs, got a list"},
      {"two documents", v + kOneSync + "---\nthreatq: {}\n",
       "tqs1.yaml:13: expected one YAML document, found 2"},
      {"syntax", v + "syncs: [\n",
       "tqs1.yaml:10:1: invalid YAML: end of sequence flow not found"},
      {"bad indentation", "threatq:\n  url: x\n client_id: y\n",
       "tqs1.yaml:3:2: invalid YAML: end of map not found"},
  };
}

TEST(ParseConfigYamlTest, RefuseListsAreMergedIntoEverySync) {
  const std::string yaml =
      absl::StrCat(Vendors(), "refuse: [private, Short_Prefix]\n",
                   "syncs:\n"
                   "  - collection: C2\n"
                   "    site: HQ\n"
                   "    refuse: [cgnat, private]\n"
                   "  - collection: C2\n"
                   "    site: Lab\n");
  absl::StatusOr<Config> config = ParseConfigYaml(yaml, "tqs1.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->refuse(),
              ElementsAre(tqs1::v1::INPUT_CATEGORY_PRIVATE,
                          tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX));
  EXPECT_THAT(config->syncs(0).refuse(),
              ElementsAre(tqs1::v1::INPUT_CATEGORY_CGNAT,
                          tqs1::v1::INPUT_CATEGORY_PRIVATE,
                          tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX));
  EXPECT_THAT(config->syncs(1).refuse(),
              ElementsAre(tqs1::v1::INPUT_CATEGORY_PRIVATE,
                          tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX));
}

TEST(ParseConfigYamlTest, ConcurrencyDefaultsWhenUnset) {
  absl::StatusOr<Config> config =
      ParseConfigYaml(absl::StrCat(Vendors(), kOneSync), "tqs1.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(Parallelism(*config), kDefaultParallelism);
  EXPECT_EQ(MaxInFlight(config->sentinelone()), kDefaultConsoleInFlight);
  EXPECT_EQ(MaxInFlight(config->threatq()), kDefaultThreatQInFlight);
  config->set_parallelism(1);
  config->mutable_sentinelone()->set_max_in_flight(9);
  EXPECT_EQ(Parallelism(*config), 1);
  EXPECT_EQ(MaxInFlight(config->sentinelone()), 9);
}

TEST(ParseConfigYamlTest, Errors) {
  for (const ErrorCase& c : ErrorCases()) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Config> config = ParseConfigYaml(c.yaml, "tqs1.yaml");
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(config.status().message(), c.message) << c.yaml;
    EXPECT_THAT(config.status().message(), Not(HasSubstr("hunter2")));
  }
}

TEST(ParseConfigYamlTest, AccountScopeKeepsTheAccountsOwnRules) {
  absl::StatusOr<Config> config =
      ParseConfigYaml(Vendors() +
                          "syncs:\n"
                          "  - collection: C2\n"
                          "    account_scope: ACME\n"
                          "  - collection: C2\n"
                          "    site: HQ\n",
                      "tqs1.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->syncs_size(), 2);
  EXPECT_EQ(config->syncs(0).name(), "C2 -> account ACME");
  EXPECT_TRUE(config->syncs(0).account_scope());
  EXPECT_EQ(config->syncs(0).account(), "ACME");
  EXPECT_EQ(config->syncs(0).site(), "");
  EXPECT_FALSE(config->syncs(1).account_scope());
  EXPECT_EQ(SiteLabel(config->syncs(0)), "account \"ACME\"");

  absl::StatusOr<Config> global = ParseConfigYaml(
      Vendors() + "syncs:\n  - collection: C2\n    global: true\n",
      "tqs1.yaml");
  ASSERT_TRUE(global.ok()) << global.status();
  EXPECT_EQ(global->syncs(0).name(), "C2 -> global");
  EXPECT_TRUE(global->syncs(0).global());
  EXPECT_EQ(SiteLabel(global->syncs(0)), "the global scope");
}

// A group's sync is its own target beside its site's.
TEST(ParseConfigYamlTest, GroupKeepsTheRulesOfOneGroupOfASite) {
  absl::StatusOr<Config> config = ParseConfigYaml(Vendors() +
                                                      "syncs:\n"
                                                      "  - collection: C2\n"
                                                      "    site: HQ\n"
                                                      "    group: Lab\n"
                                                      "  - collection: C2\n"
                                                      "    site: HQ\n",
                                                  "tqs1.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->syncs_size(), 2);
  EXPECT_EQ(config->syncs(0).name(), "C2 -> HQ group Lab");
  EXPECT_EQ(config->syncs(0).site(), "HQ");
  EXPECT_EQ(config->syncs(0).group(), "Lab");
  EXPECT_EQ(config->syncs(1).group(), "");
  EXPECT_EQ(SiteLabel(config->syncs(0)), "group \"Lab\" of site \"HQ\"");
}

TEST(ParseConfigYamlTest, SitesMakeOneSyncEach) {
  const std::string yaml = Vendors() +
                           "syncs:\n"
                           "  - collection: C2\n"
                           "    sites: [HQ, Branch]\n"
                           "    rule: {enabled: false}\n"
                           "  - name: Scanners everywhere\n"
                           "    collection: Scanners\n"
                           "    account: ACME\n"
                           "    sites: [HQ]\n";
  absl::StatusOr<Config> config = ParseConfigYaml(yaml, "tqs1.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->syncs_size(), 3);
  EXPECT_EQ(config->syncs(0).name(), "C2 -> HQ");
  EXPECT_EQ(config->syncs(0).site(), "HQ");
  EXPECT_EQ(config->syncs(0).fleet(), "C2");
  EXPECT_FALSE(config->syncs(0).rule().enabled());
  EXPECT_EQ(config->syncs(1).name(), "C2 -> Branch");
  EXPECT_EQ(config->syncs(1).site(), "Branch");
  EXPECT_EQ(config->syncs(1).fleet(), "C2");
  EXPECT_FALSE(config->syncs(1).rule().enabled());
  EXPECT_EQ(config->syncs(2).name(), "Scanners everywhere -> ACME/HQ");
  EXPECT_EQ(config->syncs(2).account(), "ACME");
  EXPECT_EQ(config->syncs(2).fleet(), "Scanners everywhere");
  EXPECT_FALSE(config->syncs(0).canary());

  absl::StatusOr<Config> rollout = ParseConfigYaml(
      Vendors() +
          "syncs:\n  - collection: C2\n    sites: [HQ, Lab, Branch]\n"
          "    rollout: {first: [lab]}\n",
      "tqs1.yaml");
  ASSERT_TRUE(rollout.ok()) << rollout.status();
  EXPECT_FALSE(rollout->syncs(0).canary());
  EXPECT_TRUE(rollout->syncs(1).canary());
  EXPECT_FALSE(rollout->syncs(2).canary());
}

TEST(ParseConfigYamlTest, EverySiteOfAnAccountIsListedOnceConnected) {
  absl::StatusOr<Config> config = ParseConfigYaml(
      Vendors() +
          "syncs:\n"
          "  - name: Everywhere\n"
          "    collection: C2\n"
          "    sites: {account: ACME, all: true, exclude: [Lab]}\n"
          "    rollout: {first: [Pilot]}\n"
          "  - collection: C2\n"
          "    site: Other\n",
      "tqs1.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->syncs_size(), 2);
  // The entry stays one until its console lists the account's sites.
  const tqs1::v1::SyncConfig& entry = config->syncs(0);
  EXPECT_EQ(entry.name(), "Everywhere");
  EXPECT_EQ(entry.fleet(), "Everywhere");
  EXPECT_EQ(entry.site(), "");
  EXPECT_EQ(entry.all_sites().account(), "ACME");
  EXPECT_THAT(entry.all_sites().exclude(), ElementsAre("Lab"));
  EXPECT_THAT(entry.all_sites().first(), ElementsAre("pilot"));
  EXPECT_EQ(config->syncs(1).name(), "C2 -> Other");
}

TEST(ParseConfigYamlTest, NamedConsolesAndInstancesAreChosenBySync) {
  const std::string yaml = std::string(kTwoInstances) + kTwoConsoles +
                           "syncs:\n"
                           "  - collection: C2\n"
                           "    threatq: emea\n"
                           "    sentinelone: eu\n"
                           "    sites: [HQ, Branch]\n"
                           "  - collection: C2\n"
                           "    threatq: us\n"
                           "    sentinelone: us\n"
                           "    site: HQ\n";
  absl::StatusOr<Config> config = ParseConfigYaml(yaml, "tqs1.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->has_threatq());
  EXPECT_FALSE(config->has_sentinelone());
  ASSERT_EQ(config->threatq_instances_size(), 2);
  EXPECT_EQ(config->threatq_instances(0).name(), "emea");
  EXPECT_EQ(config->threatq_instances(0).password().env(), "TQ_EMEA_PASSWORD");
  EXPECT_EQ(config->threatq_instances(1).name(), "us");
  EXPECT_EQ(config->threatq_instances(1).client_secret().env(), "TQ_US_SECRET");
  ASSERT_EQ(config->sentinelone_consoles_size(), 2);
  EXPECT_EQ(config->sentinelone_consoles(0).name(), "eu");
  EXPECT_EQ(config->sentinelone_consoles(0).writes_per_second(), 4);
  EXPECT_EQ(config->sentinelone_consoles(1).url(), "https://us.example.net");
  ASSERT_EQ(config->syncs_size(), 3);
  // Site names repeat across consoles: the default names say which.
  EXPECT_EQ(config->syncs(0).name(), "C2 -> eu:HQ");
  EXPECT_EQ(config->syncs(1).name(), "C2 -> eu:Branch");
  EXPECT_EQ(config->syncs(2).name(), "C2 -> us:HQ");
  EXPECT_EQ(config->syncs(0).threatq(), "emea");
  EXPECT_EQ(config->syncs(1).sentinelone(), "eu");
  EXPECT_EQ(config->syncs(2).threatq(), "us");
  EXPECT_EQ(config->syncs(2).sentinelone(), "us");
  EXPECT_EQ(&ThreatQOf(*config, config->syncs(2)),
            &config->threatq_instances(1));
  EXPECT_EQ(&SentinelOneOf(*config, config->syncs(0)),
            &config->sentinelone_consoles(0));
  EXPECT_EQ(SentinelOneConsoles(*config).size(), 2u);

  // One named console is every sync's without saying so; the names stay
  // "<collection> -> <site>".
  absl::StatusOr<Config> one =
      ParseConfigYaml(std::string(kThreatQ) +
                          "sentinelone:\n  eu: {url: https://eu.example.net, "
                          "api_token_env: T}\n" +
                          kOneSync,
                      "tqs1.yaml");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->syncs(0).sentinelone(), "eu");
  EXPECT_EQ(one->syncs(0).name(), "C2 -> HQ");
  EXPECT_EQ(one->syncs(0).threatq(), "");
  EXPECT_EQ(&ThreatQOf(*one, one->syncs(0)), &one->threatq());
}

TEST(ParseConfigYamlTest, SecretLikeValuesAreNeverEchoed) {
  constexpr char kSecret[] = "S3cr3t-Value";
  const std::string v = Vendors();
  const std::vector<std::string> yamls = {
      absl::StrReplaceAll(v, {{"TQ_PASSWORD", kSecret}}) + kOneSync,
      absl::StrReplaceAll(v, {{"S1_TOKEN", "\"S3cr3t-Value with spaces\""}}) +
          kOneSync,
      absl::StrReplaceAll(
          v, {{"password_env: TQ_PASSWORD", "password: S3cr3t-Value"}}) +
          kOneSync,
      absl::StrReplaceAll(v,
                          {{"client_id: cid", "client_secret: S3cr3t-Value"}}) +
          kOneSync,
      absl::StrReplaceAll(v, {{"https://tq.example.net",
                               "https://u:S3cr3t-Value@tq.example.net"}}) +
          kOneSync,
      absl::StrReplaceAll(
          v, {{"https://tq.example.net", "u:S3cr3t-Value@tq.example.net"}}) +
          kOneSync,
      absl::StrReplaceAll(v, {{"https://s1.example.net",
                               "https://s1.example.net/?token=S3cr3t-Value"}}) +
          kOneSync,
      absl::StrReplaceAll(v, {{"https://s1.example.net",
                               "http://s1.example.net/#S3cr3t-Value"}}) +
          kOneSync,
  };
  for (size_t i = 0; i < yamls.size(); ++i) {
    SCOPED_TRACE(i);
    absl::StatusOr<Config> config = ParseConfigYaml(yamls[i], "tqs1.yaml");
    ASSERT_FALSE(config.ok()) << yamls[i];
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(config.status().message(), Not(HasSubstr(kSecret)));
    EXPECT_THAT(config.status().message(), Not(HasSubstr("S3cr3t")));
  }
}

TEST(ValidateApiUrlTest, Accepts) {
  for (const char* url : {
           "https://tq.example.net",
           "https://tq.example.net:8443/api/",
           "HTTPS://TQ.EXAMPLE.NET",
           "https://192.0.2.1",
           "https://[2001:db8::1]:443",
           "http://localhost",
           "http://LOCALHOST:8080/",
           "http://127.0.0.1",
           "http://127.10.20.30:9",
           "http://[::1]:8080/tq",
       }) {
    SCOPED_TRACE(url);
    EXPECT_TRUE(ValidateApiUrl(url).ok()) << ValidateApiUrl(url);
  }
}

TEST(ValidateApiUrlTest, Rejects) {
  const std::string http_reason =
      " uses http://, which sends credentials in clear text; use https:// "
      "(http:// is allowed only to localhost, 127.0.0.0/8 and ::1)";
  struct Case {
    std::string url;
    std::string message;
  };
  const Case kCases[] = {
      {"", "must not be empty"},
      {"tq.example.net",
       "\"tq.example.net\" has no scheme; write \"https://tq.example.net\""},
      {"ftp://tq.example.net",
       "\"ftp://tq.example.net\" has the unsupported scheme \"ftp\"; use "
       "https://"},
      {"http://tq.example.net", "\"http://tq.example.net\"" + http_reason},
      {"http://128.0.0.1", "\"http://128.0.0.1\"" + http_reason},
      {"http://[::2]", "\"http://[::2]\"" + http_reason},
      {"http://localhost.", "\"http://localhost.\"" + http_reason},
      {"http://localhost.example.net",
       "\"http://localhost.example.net\"" + http_reason},
      {"http://127.0.0.1.example.net",
       "\"http://127.0.0.1.example.net\"" + http_reason},
      {"https://user:pw@tq.example.net",
       "the URL embeds credentials (user:password@host); remove them and "
       "reference secrets with the *_env or *_file keys"},
      {"https://tq.example.net/?a=b",
       "\"https://tq.example.net/\" must be a base URL, without a query "
       "(?...) or fragment (#...)"},
      {"https://tq.example.net/a b",
       "\"https://tq.example.net/a b\" contains whitespace or control "
       "characters"},
      {"https://", "\"https://\" has no host"},
      {"https://:443", "\"https://:443\" has no host"},
      {"https://tq.example.net:",
       "\"https://tq.example.net:\" has an "
       "invalid port"},
      {"https://tq.example.net:99999",
       "\"https://tq.example.net:99999\" has an invalid port"},
      {"https://tq.example.net:https",
       "\"https://tq.example.net:https\" has an invalid port"},
      {"https://2001:db8::1/",
       "\"https://2001:db8::1/\": write IPv6 addresses in brackets, e.g. "
       "https://[2001:db8::1]/"},
      {"https://[2001:db8::1",
       "\"https://[2001:db8::1\" has an unterminated "
       "[IPv6] host"},
      {"https://[example]",
       "\"https://[example]\" has an invalid IPv6 "
       "address in brackets"},
      {"https://tq_example!.net",
       "\"https://tq_example!.net\" has an "
       "invalid host name"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.url);
    const absl::Status status = ValidateApiUrl(c.url);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), c.message);
  }
}

// http:// passes validation exactly for the hosts the transports then let
// through: one IsLoopbackHost. "localhost." used to pass here and be refused
// by every request.
TEST(ValidateApiUrlTest, PlainHttpHostsAreTheTransportsLoopbackHosts) {
  for (const char* host : {"localhost", "LocalHost", "localhost.", "127.0.0.1",
                           "127.1.2.3", "[::1]", "[::2]", "128.0.0.1",
                           "tq.example.net", "localhost.example.net"}) {
    const std::string url = absl::StrCat("http://", host, ":8080");
    SCOPED_TRACE(url);
    const absl::StatusOr<net::ParsedUrl> parsed = net::ParseUrl(url);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(
        ValidateApiUrl(url).ok(),
        net::CheckPlainHttpPolicy("GET", url, parsed->scheme, parsed->host,
                                  /*allow_plain_http=*/false)
            .ok());
  }
}

// The yaml-cpp guards (yaml_guards_test.cc) stand in front of every config.
TEST(ParseConfigYamlTest, TextYamlCppWouldLoopOnIsRefused) {
  EXPECT_EQ(ParseConfigYaml("a: 1\n  ,b\n", "tqs1.yaml").status(),
            absl::InvalidArgumentError(
                "tqs1.yaml:2: invalid YAML: a line cannot start with ',' "
                "outside [] or {}"));
  EXPECT_EQ(ParseConfigYaml("{} ,", "tqs1.yaml").status(),
            absl::InvalidArgumentError(
                "tqs1.yaml:1:4: invalid YAML: unexpected ','"));
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(LoadConfigFileTest, ReadsTheFileAndRebasesRelativePaths) {
  const std::string path = absl::StrCat(TempDir(), "/rebase.yaml");
  {
    std::ofstream out(path);
    out << R"(threatq:
  url: https://tq.example.net
  client_id: cid
  username: svc@example.net
  password_file: secrets/tq.password
  ca_file: /etc/ssl/tq.pem
sentinelone:
  url: https://s1.example.net
  api_token_file: s1.token
  ca_file: s1.pem
syncs:
  - collection: C2
    site: HQ
)";
  }
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->threatq().password().file(),
            TempDir() + "/secrets/tq.password");
  EXPECT_EQ(config->threatq().tls().ca_file(), "/etc/ssl/tq.pem");
  EXPECT_EQ(config->sentinelone().api_token().file(), TempDir() + "/s1.token");
  EXPECT_EQ(config->sentinelone().tls().ca_file(), TempDir() + "/s1.pem");

  // Each named console's too.
  const std::string named = absl::StrCat(TempDir(), "/named.yaml");
  {
    std::ofstream out(named);
    out << kThreatQ << kTwoConsoles
        << "syncs:\n  - collection: C2\n    sentinelone: us\n"
           "    site: HQ\n";
  }
  absl::StatusOr<Config> consoles = LoadConfigFile(named);
  ASSERT_TRUE(consoles.ok()) << consoles.status();
  EXPECT_EQ(consoles->sentinelone_consoles(1).api_token().file(),
            TempDir() + "/us.token");
  EXPECT_EQ(consoles->sentinelone_consoles(1).tls().ca_file(),
            TempDir() + "/us-ca.pem");
  EXPECT_FALSE(consoles->sentinelone_consoles(0).has_tls());
}

TEST(LoadConfigFileTest, ErrorsNameTheFile) {
  const std::string bad = absl::StrCat(TempDir(), "/bad.yaml");
  {
    std::ofstream out(bad);
    out << "threatq:\n  urll: https://tq.example.net\n";
  }
  absl::StatusOr<Config> config = LoadConfigFile(bad);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            bad +
                ":2: unknown key \"urll\" in threatq (did you mean "
                "\"url\"?)");

  const std::string missing = absl::StrCat(TempDir(), "/missing.yaml");
  config = LoadConfigFile(missing);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(config.status().message(),
            "config file " + missing + " does not exist");

  config = LoadConfigFile(TempDir());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(config.status().message(),
            "config file " + TempDir() + " is not a regular file");
}

}  // namespace
}  // namespace tqs1::config

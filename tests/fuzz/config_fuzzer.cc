// Fuzzes the config loader (cli/config/config_loader.h): any text must give
// a Config or a kInvalidArgument that starts with the source name and a
// line number, never a crash, a hang or an escaped exception. A Config
// that loads must have a name for every sync and at least one sync.
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "cli/config/config_loader.h"
#include "proto/config.pb.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tqs1::fuzz::Check;
  absl::StatusOr<tqs1::v1::Config> config = tqs1::config::ParseConfigYaml(
      tqs1::fuzz::AsText(data, size), "fuzz.yaml");
  if (!config.ok()) {
    Check(config.status().code() == absl::StatusCode::kInvalidArgument,
          "config errors are kInvalidArgument", config.status().ToString());
    Check(absl::StartsWith(config.status().message(), "fuzz.yaml"),
          "config errors start with the source name",
          config.status().message());
    return 0;
  }
  Check(config->syncs_size() > 0, "a loaded config has a sync");
  for (const tqs1::v1::SyncConfig& sync : config->syncs()) {
    Check(!sync.name().empty(), "every loaded sync has a name");
    Check(!sync.collection().empty() && !sync.site().empty(),
          "every loaded sync has a collection and a site");
  }
  return 0;
}

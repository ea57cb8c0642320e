// What this binary is: tqs1's version and the git commit it was built from
// (stamped at build time by tools/workspace_status.sh; "unknown" outside a
// git checkout, "-dirty" after uncommitted changes).
#ifndef TQS1_CLI_BUILD_INFO_H_
#define TQS1_CLI_BUILD_INFO_H_

#include "cli/build_stamp.h"
#include "cli/version.h"

namespace tqs1::cli {

inline constexpr char kCommit[] = TQS1_GIT_COMMIT;

}  // namespace tqs1::cli

#endif  // TQS1_CLI_BUILD_INFO_H_

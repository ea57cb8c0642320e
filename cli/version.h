// tqs1's version, printed by `tqs1 version` and sent in the User-Agent.
#ifndef TQS1_CLI_VERSION_H_
#define TQS1_CLI_VERSION_H_

namespace tqs1::cli {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace tqs1::cli

#endif  // TQS1_CLI_VERSION_H_

// Signals during an apply: the first SIGINT or SIGTERM asks it to stop
// before its next write; a second one ends the process at once (the default
// action). Internal to //cli:app.
#ifndef TQS1_CLI_STOP_SIGNALS_H_
#define TQS1_CLI_STOP_SIGNALS_H_

#include <signal.h>

#include <atomic>

namespace tqs1::cli {

// The first SIGINT or SIGTERM during an apply asks it to stop before its
// next write; a second one ends the process at once (the default action).
// One apply at a time per process installs it.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal received, or 0.
  int received() const { return received_.load(); }

 private:
  static void OnSignal(int signo);

  static std::atomic<int> received_;
  struct sigaction saved_int_ {};
  struct sigaction saved_term_ {};
};

// 130 for SIGINT, 143 for SIGTERM: the shell's convention.
int ExitForSignal(int signo);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_STOP_SIGNALS_H_

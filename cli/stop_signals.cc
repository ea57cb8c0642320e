#include "cli/stop_signals.h"

namespace tqs1::cli {

std::atomic<int> StopSignals::received_{0};

StopSignals::StopSignals() {
  received_.store(0);
  struct sigaction action {};
  action.sa_handler = &StopSignals::OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a pending prompt returns
  sigaction(SIGINT, &action, &saved_int_);
  sigaction(SIGTERM, &action, &saved_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &saved_int_, nullptr);
  sigaction(SIGTERM, &saved_term_, nullptr);
}

void StopSignals::OnSignal(int signo) {
  int none = 0;
  if (!received_.compare_exchange_strong(none, signo)) {
    signal(signo, SIG_DFL);
    raise(signo);
  }
}

int ExitForSignal(int signo) { return 128 + signo; }

}  // namespace tqs1::cli

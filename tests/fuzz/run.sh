#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (in an output base
# of their own, so the normal gcc build's cache is left alone) and fuzzes
# each for a while, starting from its committed corpus.
#
#   tests/fuzz/run.sh                   # every target, 45 s each
#   tests/fuzz/run.sh 3600 config       # one target for an hour
#   TQS1_FUZZ_JOBS=2 tests/fuzz/run.sh 86400   # longer, 2 processes each
#   TQS1_FUZZ_SEED=7 tests/fuzz/run.sh 25      # libFuzzer's -seed (CI sets one)
#
# New interesting inputs go to a scratch folder (printed), never into the
# committed corpus. On a crash it stops with exit code 1 and prints the
# input that crashed: fix the bug, then commit the input under
# tests/fuzz/corpus/<target>/ so the replay test keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"

seconds="${1:-45}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(address threatq_page sentinelone_page config plan_file)
fi
output_base="${TQS1_FUZZ_OUTPUT_BASE:-${HOME}/.cache/tqs1-fuzz}"
work="${TQS1_FUZZ_WORKDIR:-$(mktemp -d /tmp/tqs1-fuzz.XXXXXX)}"
jobs="${TQS1_FUZZ_JOBS:-1}"
flags=()
# A fixed seed makes a run explore the same inputs again (as far as its time
# allows); without one libFuzzer picks a seed and prints it ("INFO: Seed:").
if [[ -n "${TQS1_FUZZ_SEED:-}" ]]; then flags+=(-seed="${TQS1_FUZZ_SEED}"); fi
if ((jobs > 1)); then
  # libFuzzer writes fuzz-<n>.log per job into the current folder.
  flags+=(-jobs="${jobs}" -workers="${jobs}")
fi

labels=()
for t in "${targets[@]}"; do labels+=("//tests/fuzz:${t}_fuzzer"); done
bazel --output_base="${output_base}" build --config=fuzz "${labels[@]}"
bin="$(bazel --output_base="${output_base}" info --config=fuzz bazel-bin)"

failed=0
for t in "${targets[@]}"; do
  mkdir -p "${work}/${t}/corpus" "${work}/${t}/artifacts"
  echo "fuzz: ${t} for ${seconds}s (new inputs in ${work}/${t}/corpus)"
  if ! (cd "${work}" && "${bin}/tests/fuzz/${t}_fuzzer" \
      -max_total_time="${seconds}" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 "${flags[@]}" \
      -artifact_prefix="${work}/${t}/artifacts/" \
      "${work}/${t}/corpus" "${repo}/tests/fuzz/corpus/${t}" \
      > "${work}/${t}/log" 2>&1); then
    failed=1
    echo "fuzz: ${t} FOUND A CRASH; last lines of ${work}/${t}/log:"
    tail -40 "${work}/${t}/log"
    ls -l "${work}/${t}/artifacts/"
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" \
      "${work}/${t}/log" | sed "s/^/fuzz: ${t}: /"
  fi
done
if ((failed)); then
  echo "fuzz: crash inputs are in ${work}/*/artifacts/"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"

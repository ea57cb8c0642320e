#!/usr/bin/env bash
# Measures tqs1's figures and writes them, with the machine, date and
# commands, to BENCHMARKS.md at the repository root.
#
#   tools/bench/run.sh            # build, measure, write BENCHMARKS.md
#
# Planning time at 10k/100k/1M/2M addresses (0.1% churn) comes from
# //reconciler:planner_benchmark, peak memory from /usr/bin/time -v on one
# run per size. Run it on an otherwise idle machine: the figures are only
# as quiet as the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

out="BENCHMARKS.md"
bazel build //reconciler:planner_benchmark
bin="$(bazel info bazel-bin)/reconciler/planner_benchmark"
tmp="$(mktemp -d /tmp/tqs1-bench.XXXXXX)"

"${bin}" --benchmark_format=csv --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true > "${tmp}/plan.csv" 2>/dev/null

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
cores="$(nproc)"
mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
os="$(. /etc/os-release && echo "${PRETTY_NAME}")"
gcc_version="$(gcc -dumpfullversion)"

{
  echo "# tqs1 benchmarks"
  echo
  echo "Written by \`tools/bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: ${cpu}, ${cores} cores, ${mem}, ${os}, gcc ${gcc_version}"
  echo "(-O2, \`--compilation_mode=opt\`)."
  echo
  echo "## Planning (0.1% churn: half removals, half additions)"
  echo
  echo "Command: \`bazel-bin/reconciler/planner_benchmark\` (median of 3);"
  echo "peak memory: \`/usr/bin/time -v planner_benchmark"
  echo "--benchmark_filter='BM_PlanWithChurn/N/'\` (whole process, inputs"
  echo "included)."
  echo
  echo "| addresses | plan time | writes | peak memory |"
  echo "|---:|---:|---:|---:|"
  for n in 10000 100000 1000000 2000000; do
    line="$(grep "BM_PlanWithChurn/${n}/.*_median" "${tmp}/plan.csv" || true)"
    # CSV: name,iterations,real_time,cpu_time,time_unit,...,counters
    time_ms="$(awk -F, '{ u = $5; t = $3;
      if (u == "ns") t /= 1e6; else if (u == "us") t /= 1e3;
      else if (u == "s") t *= 1e3; printf "%.1f ms", t }' <<<"${line}")"
    writes="$(awk -F, '{ print $NF }' <<<"${line}")"
    /usr/bin/time -v "${bin}" --benchmark_filter="BM_PlanWithChurn/${n}/" \
      > /dev/null 2> "${tmp}/time.txt"
    peak="$(awk -F: '/Maximum resident/ {printf "%.0f MB", $2 / 1024}' \
      "${tmp}/time.txt")"
    printf '| %s | %s | %s | %s |\n' "$(printf "%'d" "${n}")" "${time_ms}" \
      "${writes}" "${peak}"
  done
  echo
  echo "Targets: 1M addresses planned in under 0.5 s and 250 MB."
} > "${out}"
echo "bench: wrote ${out}"
cat "${out}"

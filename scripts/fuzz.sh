#!/bin/bash
# fuzz.sh [SECONDS [TARGET...]] — builds the libFuzzer targets of fuzz/
# (Debian's clang, ASan + UBSan, in build-fuzz/) and runs each for
# SECONDS (default 60) of wall time on one core, starting from its seed
# corpus (fuzz/corpus/TARGET/, read only) and what earlier runs of this
# script kept (build-fuzz/corpus/TARGET/). Prints each target's
# executions, coverage and corpus; a crash, leak, hang or invariant
# broken leaves its input in build-fuzz/findings/ and fails the run (exit
# 1) — turn it into a regression test and a seed. Targets: fuzz_frame,
# fuzz_sim, fuzz_tcp_opts, fuzz_http, fuzz_pcap, fuzz_scenario.
#
#   bash scripts/fuzz.sh 3600 fuzz_frame     an hour on one target
#   bash scripts/fuzz.sh 20                  every target, 20 s each (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_frame fuzz_sim fuzz_tcp_opts fuzz_http fuzz_pcap
                                     fuzz_scenario)
command -v clang >/dev/null || { echo "fuzz: clang is not installed (scripts/deps.sh)"; exit 1; }
CC=clang cmake -S . -B build-fuzz -DFINACK_FUZZ=ON -DFINACK_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}" > /dev/null
mkdir -p build-fuzz/findings
fail=0
for t in "${targets[@]}"; do
    kept=build-fuzz/corpus/$t
    mkdir -p "$kept"
    log=build-fuzz/$t.log
    # -timeout: an input taking 10 s is a hang; -rss_limit_mb: a leak or a
    # blow-up; -close_fd_mask=2: the parsers' own messages on stderr go.
    status=0
    timeout $((secs + 120)) "build-fuzz/fuzz/$t" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -close_fd_mask=2 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/findings/$t-" "$kept" "fuzz/corpus/$t" \
        > "$log" 2>&1 || status=$?
    last=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 || true)
    execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
    echo "$t: ${secs} s, ${execs:-?} executions; ${last:-no coverage line}"
    if [ $status -ne 0 ]; then
        echo "FAIL: $t found something (exit $status):"
        grep -E 'ERROR|SUMMARY|invariant broken|Test unit written' "$log" | head -8 | sed 's/^/   /'
        fail=1
    fi
done
exit $fail

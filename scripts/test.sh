#!/bin/bash
# test.sh — installs dependencies, then builds and runs every test twice:
# a plain build (-Werror, optimised) and an AddressSanitizer +
# UndefinedBehaviorSanitizer build; then runs each libFuzzer target for
# 20 s (scripts/fuzz.sh). Kernel tests need root; as another user they
# report "skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
start=$(date +%s)
for variant in plain sanitize; do
    dir=build-$variant
    san=OFF
    [ $variant = sanitize ] && san=ON
    echo "=== $variant build"
    cmake -S . -B "$dir" -DFINACK_SANITIZE=$san -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$dir" -j "$jobs"
    echo "=== $variant tests"
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest -j "$jobs" --output-on-failure --timeout 300)
done
# The libFuzzer targets (fuzz/), each for a short, bounded time from its
# seed corpus: a crash, leak, hang or broken invariant fails the run.
echo "=== fuzz targets, 20 s each"
bash scripts/fuzz.sh 20
echo "=== all tests passed in $(( $(date +%s) - start )) s"

#!/bin/bash
# demo.sh — builds finack, starts it on a TAP device inside a fresh
# network namespace, lets the kernel find it by ARP and ping it, prints
# finack's counters and the first frames of the capture, and cleans up.
# Nothing leaves the namespace. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build-plain -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-plain -j "$(nproc)" >/dev/null
exec bash scripts/demo-run.sh build-plain

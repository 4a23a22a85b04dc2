#!/bin/bash
# TSO is invisible on the wire: the same seeds (2,000, or SEEDS) of the transfer family
# (loss, reordering, duplication, corruption) with both hosts' NICs
# cutting TSO super-frames (finack-sim --tso, the simulator's software
# GSO) and without must put the very same frames on the wire at the very
# same times — the digest of every frame sent and delivered is equal —
# and the TSO sweep must have cut super-frames.
# Usage: sim_tso_diff.sh FINACK_SIM [SEEDS]
set -euo pipefail
sim=$1
seeds=${2:-2000}
plain=$("$sim" sweep --seeds "$seeds" --wire-digest)
tso=$("$sim" sweep --seeds "$seeds" --wire-digest --tso)
echo "$plain"
echo "$tso"
d1=$(awk '/^wire digest/ { print $3 }' <<< "$plain")
d2=$(awk '/^wire digest/ { print $3 }' <<< "$tso")
cut=$(awk '/^wire digest/ { gsub(/\(/, "", $4); print $4 }' <<< "$tso")
grep -q ' 0 failed' <<< "$plain" && grep -q ' 0 failed' <<< "$tso" || { echo "FAIL: a sweep failed"; exit 1; }
[ -n "$d1" ] && [ "$d1" = "$d2" ] || { echo "FAIL: the wire differs with TSO ($d1 vs $d2)"; exit 1; }
[ "${cut:-0}" -gt $((seeds / 2)) ] || { echo "FAIL: only ${cut:-0} super-frames were cut"; exit 1; }
echo "ok: the same wire with and without TSO; $cut super-frames cut"

#!/bin/bash
# sim_goodput_bounded.sh SIM_GOODPUT — congestion control's aggressiveness,
# in virtual time (deterministic: no timing): 300 simulated seconds of
# bulk transfer at 0.1 %, 1 %, 3 %, 10 % and bursty loss, CUBIC and
# NewReno, each between 0.4 and 2.5 times the Mathis bound printed beside
# it. A sender that halved SACKed bytes as flight ran NewReno at 8.9 x the
# bound at 10 % loss (it had run at 34 x while it also resent beyond cwnd);
# one that stalls falls below.
set -eu
out=$("$1" 300)
echo "$out"
echo "$out" | awk '
    /%/ && NF >= 4 {
        m = $NF
        for (i = NF - 2; i < NF; i++) {
            if ($i !~ /^[0-9.]+$/) continue
            r = $i / m
            if (r > 2.5 || r < 0.4) { printf "FAIL: %s %% loss: %s Mbit/s at %.2f x the Mathis bound\n", $1, $i, r; bad = 1 }
        }
        rows++
    }
    END { if (rows < 5) { print "FAIL: expected 5 rows"; exit 1 } exit bad }'

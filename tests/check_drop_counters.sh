#!/bin/sh
# check_drop_counters.sh SRC_DIR — every counter counters.h marks "drop"
# must be asserted by some unit test: a line in tests/unit/*.c that
# names FA_CNT_<NAME> inside an assert, or a row of test_bad_input.c's
# table of cases (each row's counter is asserted by that test). A new
# drop reason cannot go untested.
set -eu
src=$1
missing=0
for name in $(sed -n 's/^ *X(\([A-Z0-9_]*\), drop,.*/\1/p' "$src/include/finack/counters.h"); do
    if ! grep -h "FA_CNT_$name\b" "$src"/tests/unit/*.c | grep -q assert &&
       ! grep -q "^ *{ \".*\", [a-z0-9_]*, FA_CNT_$name," "$src/tests/unit/test_bad_input.c"; then
        echo "drop counter $name: no unit test asserts it"
        missing=$((missing + 1))
    fi
done
echo "$missing drop counters without a test"
[ "$missing" -eq 0 ]

#!/bin/sh
# check_exports.sh LIB INCLUDE_DIR — fails if the shared library exports
# a function or object that no public header in INCLUDE_DIR declares:
# internal names (fa_tcp_alloc, fa_ip_send, ...) must stay inside.
set -eu
lib=$1; inc=$2
names=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ { print $3 }' | sort -u)
[ -n "$names" ] || { echo "no exported names found in $lib"; exit 1; }
bad=0; count=0
for n in $names; do
    count=$((count + 1))
    case $n in _init|_fini|_edata|_end|__bss_start) continue ;; esac
    if ! grep -qw "$n" "$inc"/*.h; then
        echo "exported but in no public header: $n"
        bad=$((bad + 1))
    fi
done
echo "$count names exported, $bad not declared in $inc"
[ "$bad" -eq 0 ]

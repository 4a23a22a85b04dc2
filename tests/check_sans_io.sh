#!/bin/sh
# The core is sans-I/O: its object files may reference only these
# external symbols (memory and string helpers, allocation at creation,
# the compiler's stack protector and sanitizer runtime). Any other
# undefined symbol (read, write, clock_gettime, printf, ...) fails.
set -eu
allowed='^(memcpy|memmove|memset|memcmp|memchr|strlen|calloc|malloc|aligned_alloc|free|__stack_chk_fail|__asan_.*|__ubsan_.*|__sanitizer_.*|_GLOBAL_OFFSET_TABLE_|fa_.*)$'
bad=$(nm -u "$@" | awk 'NF==2 {print $2}' | sort -u | grep -Ev "$allowed" || true)
if [ -n "$bad" ]; then
    echo "core objects call outside the allowed set:"; echo "$bad"; exit 1
fi
echo "core objects: $(nm -u "$@" | awk 'NF==2 {print $2}' | sort -u | grep -Evc '^fa_') external symbols, all allowed"

#!/bin/sh
# Installs the build into a scratch prefix, then compiles and runs an
# example with nothing but `cc app.c $(pkg-config --cflags --libs finack)`,
# and checks that the installed finack-run finds its library.
set -eu
build=$1; src=$2
prefix=$(mktemp -d /tmp/finack-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name finack.pc -exec dirname {} \;)
export PKG_CONFIG_PATH="$libdir"
cc -Wall -Wextra -Werror "$src/examples/ping_pair.c" -o "$prefix/ping_pair" \
   $(pkg-config --cflags --libs finack)
LD_LIBRARY_PATH="$(dirname "$libdir")" "$prefix/ping_pair"
cc "$src/examples/ping_pair.c" -o "$prefix/ping_pair_static" \
   $(pkg-config --cflags finack) "$(dirname "$libdir")/libfinack.a"
"$prefix/ping_pair_static"
# The installed finack-run finds the installed libfinack-preload.so (it
# then says finackd is not running, not that the library is missing).
out=$("$prefix/bin/finack-run" --control "$prefix/none.sock" true 2>&1 || true)
case $out in *"finackd is not running"*) ;; *) echo "finack-run: $out"; exit 1 ;; esac

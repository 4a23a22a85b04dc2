#!/bin/sh
# Installs the build into a scratch prefix, then compiles and runs an
# example with nothing but `cc app.c $(pkg-config --cflags --libs finack)`.
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

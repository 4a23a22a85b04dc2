#!/bin/bash
# deps.sh — installs what building, testing and the demo need, from
# Debian's packages only. Skips apt entirely when all are present.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcmocka-dev iproute2 iputils-ping
      tshark procps liblwip-dev python3 nftables socat curl wrk ethtool
      netcat-openbsd nginx-light redis-server redis-tools iperf3 liburing-dev
      libpcap-dev chromium clang libclang-rt-14-dev nmap hping3)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs what costroute needs to build and test, from Debian 12's
# packages, when it is missing. Needs root (or sudo) only if something is.
set -euo pipefail
packages=(g++ cmake ninja-build pkg-config
          libabsl-dev libeigen3-dev libsimdjson-dev libutf8proc-dev
          catch2 libbenchmark-dev
          python3 python3-sklearn python3-scipy python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"

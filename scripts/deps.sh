#!/usr/bin/env bash
# Installs the Debian packages callq needs to build, run and test, if missing.
set -euo pipefail
PKGS=(build-essential pkg-config libsofia-sip-ua-dev libortp-dev libsndfile1-dev libsqlite3-dev
      libpcre2-dev libcmocka-dev libmicrohttpd-dev libsrtp2-dev openssl sip-tester python3 espeak-ng sox
      clang libclang-rt-14-dev
      baresip-core linphone-cli kamailio tmux
      groff-base mandoc systemd
      chromium chromium-driver python3-selenium)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

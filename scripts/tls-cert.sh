#!/usr/bin/env bash
# Makes a self-signed certificate for SIP over TLS in DIR (default run/tls) if
# it has none: DIR/agent.pem (key + certificate, as Sofia-SIP wants it),
# DIR/cafile.pem (the certificate, which phones are told to trust), and
# DIR/cert.pem, DIR/key.pem. Usage: scripts/tls-cert.sh [DIR] [HOST]
set -euo pipefail
dir=${1:-run/tls}
host=${2:-127.0.0.1}
[ -s "$dir/agent.pem" ] && [ -s "$dir/cafile.pem" ] && exit 0
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
case "$host" in
	*[!0-9.]*) san="DNS:$host" ;;
	*) san="IP:$host" ;;
esac
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$host" \
	-addext "subjectAltName=$san" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
cat "$dir/key.pem" "$dir/cert.pem" >"$dir/agent.pem"
cp "$dir/cert.pem" "$dir/cafile.pem"
echo "tls: made a self-signed certificate for $host in $dir"

#!/usr/bin/env bash
# `make run`: starts callqd in the foreground on the demo configuration.
# callqd creates run/callq.db from the schema compiled in from db/ and seeds
# the demo data into it when it is empty (seed_demo = yes in etc/callq.conf).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p run/recordings
scripts/tls-cert.sh run/tls 127.0.0.1
echo "callqd: SIP 127.0.0.1:5060 (TLS 5061), control run/callq.sock (try: build/callqctl -s run/callq.sock help)"
exec build/callqd -c etc/callq.conf "$@"

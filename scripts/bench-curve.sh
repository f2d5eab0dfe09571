#!/usr/bin/env bash
# bench-curve.sh — the cost curve: callqd's CPU and RSS at 1x, 2x, 4x, 8x a base
# load, for two loads:
#   held callers   HOLD_BASE x 1,2,4,8   (default 250: 250 500 1000 2000; scripts/bench-hold.sh)
#   call rate      RATE_BASE x 1,2,4,8   (default 25: 25 50 100 200 calls/s; scripts/bench-callrate.sh,
#                                         CURVE_DURATION s per step, default 15, no overload step)
# and per row the cost per unit of load relative to 1x (1.00 = linear, below 1 = better than linear).
# CPU: 100% = one core. RSS of the call-rate rows is one callqd going through the steps in turn.
# A benchmark, not a test: it prints figures and fails only if it cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
HOLD_BASE=${HOLD_BASE:-250}
RATE_BASE=${RATE_BASE:-25}
CURVE_DURATION=${CURVE_DURATION:-15}
TMP=$(mktemp -d /tmp/callq-curve-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
M=(1 2 4 8)

table() { # title unit file(rows: load cpu% rss_mib)
	echo "$1"
	printf '  %-4s %8s %6s %13s %8s %13s\n' x "$2" "CPU%" "CPU/unit rel" "RSS MiB" "RSS/unit rel"
	awk 'NR == 1 {l1 = $1; c1 = ($2 > 0 ? $2 : 1) / $1; r1 = $3 / $1}
	     {printf "  %-4s %8s %6s %13.2f %8s %13.2f\n", $1 / l1 "x", $1, $2, ($2 / $1) / c1, $3, ($3 / $1) / r1}' "$3"
}

echo "# bench-curve: held callers ${HOLD_BASE}x{1,2,4,8}, call rate ${RATE_BASE}x{1,2,4,8} calls/s"
scripts/bench-hold.sh $(for m in "${M[@]}"; do echo $((HOLD_BASE * m)); done) > "$TMP/hold.out" 2>&1 || true
sed 's/^/  | /' "$TMP/hold.out"
# N=250   ... callqd CPU 12%  RSS 30 MiB (x KiB per caller)
sed -nE 's/^N=([0-9]+) .*callqd CPU ([0-9]+)%  RSS ([0-9]+) MiB.*/\1 \2 \3/p' "$TMP/hold.out" > "$TMP/hold.rows"

DURATION=$CURVE_DURATION OVERLOAD=0 scripts/bench-callrate.sh $(for m in "${M[@]}"; do echo $((RATE_BASE * m)); done) \
	> "$TMP/rate.out" 2>&1 || true
sed 's/^/  | /' "$TMP/rate.out"
# step cps placed done fail shed handled missed p50 p99 max peak cqCPU% main/oth% RSSMiB left
awk '$1 ~ /^r[0-9]+$/ {print $2, $13, $15}' "$TMP/rate.out" > "$TMP/rate.rows"

echo
echo "# cost curve (rel = cost per unit of load relative to 1x: 1.00 linear, < 1 better than linear)"
[ -s "$TMP/hold.rows" ] && table "held callers (bench-hold.sh; a fresh callqd per row)" callers "$TMP/hold.rows"
[ -s "$TMP/rate.rows" ] && table "call rate (bench-callrate.sh, ring 1 s + talk 2 s; one callqd through all steps, RSS at each step's end)" "calls/s" "$TMP/rate.rows"
true

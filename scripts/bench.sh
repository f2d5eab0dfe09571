#!/usr/bin/env bash
# `make bench`: runs every benchmark program (build/bench/*) and script
# (scripts/bench-*.sh) in turn, each printing its own figures, and notes the
# machine, since figures from different machines do not compare.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# callq benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for b in build/bench/*; do
	[ -x "$b" ] || continue
	echo "## $(basename "$b")"
	"$b"
done
for s in scripts/bench-*.sh; do
	[ -x "$s" ] || continue
	echo "## $(basename "$s" .sh)"
	"$s"
done

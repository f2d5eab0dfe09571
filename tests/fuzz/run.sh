#!/usr/bin/env bash
# tests/fuzz/run.sh — runs each libFuzzer target (built by `make fuzz-build` into build/fuzz/) for SECONDS from its committed
# seed corpus tests/fuzz/corpus/NAME/, keeping new inputs in build/fuzz/corpus/NAME/ and crash inputs in
# build/fuzz/crash/. Prints one summary line per target; exit 1 if any target found a crash.
#   tests/fuzz/run.sh SECONDS NAME...
set -u
cd "$(dirname "$0")/../.."
secs=${1:-60}; shift
B=${B:-build}
failed=0
for name in "$@"; do
	bin=$B/fuzz/$name
	seeds=tests/fuzz/corpus/$name
	work=$B/fuzz/corpus/$name
	crash=$B/fuzz/crash/$name
	mkdir -p "$work" "$crash" "$seeds"
	log=$B/fuzz/$name.log
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-artifact_prefix="$crash/" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $name: ok, ${execs:-?} execs in ${secs}s (${rate:-?}/s), ${cov:-cov: ?}"
	else
		failed=1
		echo "fuzz $name: FAILED (exit $rc), crash inputs in $crash/; log $log:"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20
	fi
done
[ "$failed" -eq 0 ]

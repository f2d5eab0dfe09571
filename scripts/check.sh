#!/usr/bin/env bash
# Runs every unit test binary (cmocka) and the integration suite, then prints the totals as the last line:
# "N passed, N failed, N skipped". Exit status 1 on any failure and on any skip that is not allowed.
#
# Every tests/unit/test_X.c must have an executable build/tests/test_X: a missing one is a failure. Each binary
# runs under `timeout $UNIT_TIMEOUT` (a timeout is a failure). cmocka's skipped tests count as skipped and fail
# the run. Integration tests that raise harness.Skip count as skipped; run.py exits 2 when one of them was not
# allowed (only a hardware or kernel limit of this machine is: Skip(..., allowed=True)), and that fails the run.
# CALLQ_SKIP_INTEGRATION=1 does not run the integration suite: its tests count as skipped and the run fails.
set -u
cd "$(dirname "$0")/.."
UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}
passed=0 failed=0 skipped=0 refused=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { sed -n "s/^\[  $1 *\] \([0-9]*\) test.*/\1/p" "$log" | tail -1; }

for src in tests/unit/test_*.c; do
	t=build/tests/$(basename "$src" .c)
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		echo "unit: $t missing or not executable (for $src)"
		failed=$((failed + 1))
		continue
	fi
	timeout "$UNIT_TIMEOUT" "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(count PASSED) f=$(count FAILED) s=$(count SKIPPED)
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -eq 124 ]; then
		echo "unit: $t timed out after $UNIT_TIMEOUT s"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# A binary that crashed or exited non-zero without reporting counts as one failure.
		echo "unit: $t exited $rc"
		f=1
	fi
	[ "$s" -eq 0 ] || { echo "unit: $t skipped $s test(s)"; refused=$((refused + s)); }
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

if [ "${CALLQ_SKIP_INTEGRATION:-0}" = 1 ]; then
	n=$(python3 tests/integration/run.py --list | grep -c '^test_')
	echo "integration: CALLQ_SKIP_INTEGRATION=1: $n tests not run, counted as skipped"
	skipped=$((skipped + n)) refused=$((refused + n))
else
	python3 tests/integration/run.py 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)
	p=$(echo "$line" | sed -n 's/^integration: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped$/\1/p')
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -eq 2 ] && [ "$f" -eq 0 ]; then
		echo "integration: a test was skipped for a reason that is not allowed (see SKIP lines above)"
		refused=$((refused + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "integration: runner exited $rc"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$refused" -eq 0 ]

#!/usr/bin/env bash
# Runs every unit test binary (cmocka) and the integration suite, then prints
# the totals as the last line: "N passed, N failed". Exit status 1 on any failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	p=${p:-0} f=${f:-0}
	# A binary that crashed or exited non-zero without reporting counts as one failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "unit: $t exited $rc"; fi
	passed=$((passed + p)) failed=$((failed + f))
done

if [ "${CALLQ_SKIP_INTEGRATION:-0}" != 1 ]; then
	python3 tests/integration/run.py 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	p=$(echo "$line" | sed -n 's/^integration: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "integration: runner exited $rc"; fi
	passed=$((passed + p)) failed=$((failed + f))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

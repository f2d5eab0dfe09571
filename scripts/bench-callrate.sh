#!/usr/bin/env bash
# bench-callrate.sh [RATE...] — call rate into one queue (default rates 50 100 200,
# then one overload step). One private callqd (demo data, temporary config and
# database) with AGENTS extra agents (member.add + queue.assign support
# active=yes + agent.login through callqctl), all registered with digest auth
# (tests/bench/scenarios/register_many.xml) to a few sipp UAS processes
# (agent_uas.xml: ring RING s, answer, talk TALK s, hang up). For each RATE,
# sipp callers (caller_queue.xml) ring 6000 at RATE calls/s for DURATION s and
# wait on hold until the agent's hang-up reaches them. All RTP goes to one
# build/bench/udp_drain port.
#
# Prints per step: calls placed, completed, failed, shed (503, each checked to
# carry Retry-After), the queue's handled/missed deltas (every call offered and
# answered means handled = completed and missed = 0), INVITE->200 of the caller
# leg p50/p99/max (sipp response time, 1 ms resolution), callqd's CPU over the
# steady part of the step (100% = one core; main thread and the others
# separately), its RSS, and what is left after the step drains: calls in
# `calls support`, waiting/busy in `stats support`, members of support not
# idle, RTP legs of the media engine (/metrics callq_media_legs). A step passes ("ok") with zero failed, zero shed, handled = completed,
# missed = 0 and nothing left over; the overload step passes ("clean") when
# every call either completed or got a 503 with Retry-After and nothing is
# left over.
#
# Environment: DURATION (s, default 20), RING (s, 1), TALK (s, 2),
# MAX_CALLS (callqd's max_calls; default 1.3 x the calls in progress at the
# highest RATE), AGENTS (default MAX_CALLS + 20), OVERLOAD (calls/s of the
# overload step; default 3 x the highest RATE, 0 = none), OVERLOAD_DURATION
# (s, default 15), UAS (agent sipp processes, default 2), MEDIA_THREADS (callqd's
# media_threads; default: callqd's own, one per core but one).
# A benchmark, not a test: it prints figures and fails only if it cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CALLQD=${CALLQD:-$ROOT/build/callqd}
CTL=${CTL:-$ROOT/build/callqctl}
DRAIN=${DRAIN:-$ROOT/build/bench/udp_drain}
SCN=$ROOT/tests/bench/scenarios
DURATION=${DURATION:-20}
RING=${RING:-1}
TALK=${TALK:-2}
UAS=${UAS:-2}
OVERLOAD_DURATION=${OVERLOAD_DURATION:-15}
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(50 100 200)
TOP=0
for r in "${RATES[@]}"; do [ "$r" -gt "$TOP" ] && TOP=$r; done
INPROG=$(awk -v r="$TOP" -v d="$((RING + TALK))" 'BEGIN {printf "%d", r * (d + 0.3) + 0.999}')
MAX_CALLS=${MAX_CALLS:-$(( (INPROG * 13 + 9) / 10 ))}
AGENTS=${AGENTS:-$((MAX_CALLS + 20))}
OVERLOAD=${OVERLOAD:-$((3 * TOP))}

[ -x "$CALLQD" ] || { echo "bench-callrate: $CALLQD missing (make all)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "bench-callrate: sipp missing (scripts/deps.sh)" >&2; exit 1; }
. scripts/bench-lib.sh
bench_tmp callrate
if [ ! -x "$DRAIN" ]; then          # not built by `make bench`: it is self-contained
	cc -std=gnu11 -O2 -D_GNU_SOURCE -o "$TMP/udp_drain" tests/bench/udp_drain.c
	DRAIN=$TMP/udp_drain
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

ctl() { "$CTL" -s "$TMP/callq.sock" "$@"; }
# RTP legs alive in callqd's media engine, given 10 s to reach 0 (a leg may
# wait for its last SIP transaction); legs outliving their calls show here
media_legs() {
	local n
	for _ in $(seq 20); do
		n=$(curl -s "http://127.0.0.1:$HTTP/metrics" | awk '$1 == "callq_media_legs" {print $2; f = 1} END {if (!f) print "?"}')
		[ "$n" = 0 ] && break
		sleep 0.5
	done
	echo "$n"
}
kv() { sed -nE "s/(^|.*[[:space:]])$1=([^[:space:]]*).*/\\2/p" | head -1; }   # kv KEY < row
thread_ticks() { # main thread, all threads
	local main all=0 t
	main=$(awk '{print $14 + $15}' "/proc/$1/task/$1/stat")
	for t in /proc/"$1"/task/*/stat; do all=$((all + $(awk '{print $14 + $15}' "$t" 2>/dev/null || echo 0))); done
	echo "$main $all"
}
sipp_ticks() { # CPU of every sipp of this run (callers and agent phones)
	local t=0 p
	for p in $(pgrep -x sipp); do
		grep -q "$TMP" "/proc/$p/cmdline" 2>/dev/null || continue
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# ---- callqd, agents, phones
SIP=$(free_port)
HTTP=$(free_port)
# RTP: 2 legs per call, 2 ports per leg, below the ranges bench-hold.sh (10000 up) and the integration
# tests (20000 up) use and below the ephemeral ports (32768 up) that sipp and free_port take.
RTP_MIN=2000
RTP_MAX=$((RTP_MIN + 4 * MAX_CALLS + 400))
[ "$RTP_MAX" -lt 10000 ] || { RTP_MIN=10000; RTP_MAX=$((RTP_MIN + 4 * MAX_CALLS + 400)); }
[ "$RTP_MAX" -lt 32000 ] || { echo "bench-callrate: MAX_CALLS=$MAX_CALLS needs more RTP ports than 2000-32000" >&2; exit 1; }
bench_conf "$TMP" "$SIP" "$RTP_MIN" "$RTP_MAX" "$MAX_CALLS" "http_port=$HTTP" ${MEDIA_THREADS:+"media_threads=$MEDIA_THREADS"}
"$CALLQD" -c "$TMP/callq.conf" > "$TMP/callqd.log" 2>&1 &
QPID=$!
PIDS+=("$QPID")
for _ in $(seq 100); do ctl whoami >/dev/null 2>&1 && break; sleep 0.1; done
ctl whoami >/dev/null || { echo "bench-callrate: callqd did not start:"; cat "$TMP/callqd.log"; exit 1; }
ctl queue.set support recovery=0 >/dev/null            # no wrap-up: an agent is free again at hang-up

echo "# bench-callrate: $(nproc) cores; ring ${RING}s, talk ${TALK}s, steps of ${DURATION}s; max_calls $MAX_CALLS; $AGENTS agents on $UAS sipp UAS"
t0=$(date +%s)
for ((i = 0; i < AGENTS; i++)); do
	l=$((20000 + i))
	echo "member.add $l name=B$l password=s$l role=agent"
	echo "queue.assign support $l active=yes"
	echo "agent.login $l"
done | ctl > "$TMP/agents.out"
bad=$(grep -vc '^OK' "$TMP/agents.out" || true)
[ "$bad" -eq 0 ] || { echo "bench-callrate: $bad agent set-up requests failed:"; grep -v '^OK' "$TMP/agents.out" | head -3; exit 1; }

MPORT=$(free_port)
"$DRAIN" 127.0.0.1 "$MPORT" > "$TMP/drain.out" 2>&1 &
DPID=$!
PIDS+=("$DPID")
UPORTS=()
UPIDS=()
for ((u = 0; u < UAS; u++)); do
	p=$(free_port)
	UPORTS+=("$p")
	sipp 127.0.0.1:"$SIP" -sf "$SCN/agent_uas.xml" -i 127.0.0.1 -p "$p" -mp "$(media_port)" \
	     -key ring_ms $((RING * 1000)) -key talk_ms $((TALK * 1000)) -key rtpport "$MPORT" -key codec 0 \
	     -nostdin -trace_err -error_file "$TMP/uas$u.err" -trace_stat -stf "$TMP/uas$u.csv" -fd 1 \
	     > "$TMP/uas$u.out" 2>&1 &
	UPIDS+=($!)
	PIDS+=($!)
done
sleep 1
for p in "${UPIDS[@]}"; do
	kill -0 "$p" 2>/dev/null || { echo "bench-callrate: an agent sipp did not start:"; cat "$TMP"/uas*.err; exit 1; }
done
{ echo SEQUENTIAL; for ((i = 0; i < AGENTS; i++)); do
	l=$((20000 + i)); echo "$l;[authentication username=$l password=s$l];${UPORTS[$((i % UAS))]}"; done; } > "$TMP/agents.csv"
sipp 127.0.0.1:"$SIP" -sf "$SCN/register_many.xml" -inf "$TMP/agents.csv" -i 127.0.0.1 -p "$(free_port)" \
     -mp "$(media_port)" -r 200 -m "$AGENTS" -nostdin -timeout 120s -trace_err -error_file "$TMP/reg.err" \
     > "$TMP/reg.out" 2>&1 || { echo "bench-callrate: registrations failed:"; tail -5 "$TMP/reg.err"; exit 1; }
ready=$(ctl stats support | kv ready)
echo "# set-up: $AGENTS agents added, logged in, registered in $(( $(date +%s) - t0 ))s; support ready=$ready"

# ---- one step
# csv_field FILE NAME: the last row's value of column NAME in a sipp stat CSV
agent_answered() { # calls the agent phones completed so far
	local t=0 u
	for ((u = 0; u < UAS; u++)); do
		[ -f "$TMP/uas$u.csv" ] && t=$((t + $(csv_field "$TMP/uas$u.csv" 'SuccessfulCall(C)')))
	done
	echo "$t"
}
printf '%-8s %4s %6s %6s %5s %5s %7s %6s %6s %5s %5s %8s %9s %9s %7s %s\n' step cps placed done fail shed handled missed \
       p50ms p99ms maxms peakcalls "cqCPU%" "main/oth%" RSSMiB "left(calls/wait/busy/notidle/legs)"
NSTEP=0
step() {
	local name=$1 rate=$2 dur=$3 n dir=$TMP/$1.$((++NSTEP)) s0 s1 h0 h1 m0 m1
	n=$((rate * dur))
	mkdir -p "$dir"
	kill -0 "$QPID" 2>/dev/null || { echo "$name: callqd is gone"; return 1; }
	local sc0; sc0=$(sipp_ticks)
	local a0; a0=$(agent_answered)
	local t_start; t_start=$(date +%s.%N)
	# sipp's own -timeout does not end it while calls it gave up on are still
	# retransmitting; `timeout` makes sure a collapsed step ends
	(cd "$dir" && exec timeout $((dur + RING + TALK + 120)) sipp 127.0.0.1:"$SIP" -sf "$SCN/caller_queue.xml" -s 6000 -i 127.0.0.1 -p "$(free_port)" \
	     -mp "$(media_port)" -key mport "$MPORT" -r "$rate" -m "$n" -l $((rate * (RING + TALK + 30) + 100)) \
	     -nostdin -timeout $((dur + RING + TALK + 90))s -trace_err -error_file "$dir/err.log" \
	     -trace_rtt -rtt_freq 1 -trace_stat -stf "$dir/stat.csv" -fd 1 -trace_logs -log_file "$dir/events.log" \
	     > "$dir/sipp.out" 2>&1) &
	local cpid=$!
	PIDS+=("$cpid")
	s0=$(ctl stats support window=86400 || true)
	h0=$(echo "$s0" | kv handled); h0=${h0:-0}
	m0=$(echo "$s0" | kv missed); m0=${m0:-0}
	# measure the steady part: after calls in progress have built up, until the last call is placed
	local warm=$((RING + TALK + 1)) win peak=0 cur
	[ $((dur - warm)) -ge 5 ] || warm=2
	win=$((dur - warm))
	sleep "$warm"
	local c0 c1
	c0=$(thread_ticks "$QPID" || echo "0 0")
	sc0=$(sipp_ticks)
	for ((k = 0; k < win; k++)); do
		sleep 1
		# `calls` is cheap (engine state): the peak of calls in progress
		cur=$( (ctl calls support || true) | awk 'NR == 1 {print $2 + 0}')
		[ "$cur" -gt "$peak" ] && peak=$cur
	done
	c1=$(thread_ticks "$QPID" || echo "0 0")
	local rss; rss=$(rss_kib "$QPID" || echo 0)
	local sc; sc=$(sipp_ticks)
	wait "$cpid" || true
	# drain: every call ends with the agent's BYE; wait until the queue is empty and nobody is busy
	local s w b
	for _ in $(seq 60); do
		s=$(ctl stats support window=60 || true)
		w=$(echo "$s" | kv waiting); b=$(echo "$s" | kv busy)
		[ "$w" = 0 ] && [ "$b" = 0 ] && break
		sleep 0.5
	done
	# handled/missed of this step: the difference of the 24-hour counters before and after it
	s1=$(ctl stats support window=86400 || true)
	h1=$(echo "$s1" | kv handled); h1=${h1:--1}
	m1=$(echo "$s1" | kv missed); m1=${m1:--1}
	sleep 1.2                                   # the agents' stat files are written every second
	local ans=$(( $(agent_answered) - a0 ))
	if [ "$h1" = -1 ]; then                     # stats failed: count answers at the agents' phones
		echo "    callqd: \`stats support window=86400\` -> $s1; handled below = calls the agent phones completed"
		h0=0; h1=$ans; m0=0; m1=0
	fi
	local left notidle legs
	left=$( (ctl calls support || true) | head -1 | awk '{print $2}')
	notidle=$( (ctl queue.members support || true) | grep -E '^login=2' | grep -cvE 'activity=idle call=0 ' || true)
	legs=$(media_legs)
	local ok fail shed p50 p99 mx
	ok=$(csv_field "$dir/stat.csv" 'SuccessfulCall(C)')
	fail=$(csv_field "$dir/stat.csv" 'FailedCall(C)')
	shed=$(grep -c '^SHED [0-9]' "$dir/events.log" 2>/dev/null || true)
	ok=$((ok - shed))
	read -r p50 p99 mx < <(awk -F';' 'NR > 1 && $3 == 1 {print $2}' "$dir"/*_rtt.csv 2>/dev/null | sort -n |
		awk '{v[NR] = $1} END {if (!NR) {print "- - -"; exit} a = int(NR * 0.5 + 0.5); b = int(NR * 0.99 + 0.5); if (a < 1) a = 1; if (b < 1) b = 1; print v[a], v[b], v[NR]}')
	local main_d all_d
	main_d=$(( ${c1% *} - ${c0% *} ))
	all_d=$(( ${c1#* } - ${c0#* } ))
	printf '%-8s %4s %6s %6s %5s %5s %7s %6s %6s %5s %5s %8s %9s %9s %7s %s\n' "$name" "$rate" "$n" "$ok" "$fail" "$shed" \
	       $((h1 - h0)) $((m1 - m0)) "$p50" "$p99" "$mx" "$peak" "$(pct "$all_d" "$win")" \
	       "$(pct "$main_d" "$win")/$(pct $((all_d - main_d)) "$win")" $((rss / 1024)) "$left/$w/$b/$notidle/$legs"
	local verdict
	if [ "$name" = overload ]; then
		[ "$fail" = 0 ] && [ $((ok + shed)) = "$n" ] && [ "$left" = 0 ] && [ "$w" = 0 ] && [ "$b" = 0 ] && [ "$notidle" = 0 ] && [ "$legs" = 0 ] &&
			[ $((h1 - h0)) = "$ok" ] && verdict=clean || verdict=NOT-CLEAN
	else
		[ "$fail" = 0 ] && [ "$shed" = 0 ] && [ "$ok" = "$n" ] && [ $((h1 - h0)) = "$n" ] && [ $((m1 - m0)) = 0 ] &&
			[ "$left" = 0 ] && [ "$w" = 0 ] && [ "$b" = 0 ] && [ "$notidle" = 0 ] && [ "$legs" = 0 ] && verdict=ok || verdict=FAILED
	fi
	echo "    -> $verdict  (agent phones completed $ans; sipp CPU $(pct $((sc - sc0)) "$win")%; callqd RSS after the drain $(( $(rss_kib "$QPID" || echo 0) / 1024 )) MiB; $(grep -c . "$dir/err.log" 2>/dev/null || echo 0) sipp error lines)"
	if [ "$verdict" != ok ] && [ "$verdict" != clean ]; then
		grep -m3 -E 'Aborting|unexpected|timeout' "$dir/err.log" 2>/dev/null | cut -c1-200 | sed 's/^/    sipp: /' || true
	fi
	sleep 2
}

for r in "${RATES[@]}"; do step "r$r" "$r" "$DURATION"; done
[ "$OVERLOAD" -gt 0 ] && step overload "$OVERLOAD" "$OVERLOAD_DURATION"

# ---- after all steps
kill -0 "$QPID" 2>/dev/null || { echo "bench-callrate: callqd DIED"; tail -5 "$TMP/callqd.log"; }
ufail=0
for ((u = 0; u < UAS; u++)); do
	[ -f "$TMP/uas$u.csv" ] && ufail=$((ufail + $(csv_field "$TMP/uas$u.csv" 'FailedCall(C)')))
done
echo "# after: stats support (1 h window): $(ctl stats support | tail -1 || true)"
echo "# agent phones: $ufail failed calls; callqd log: $(grep -ciE 'error' "$TMP/callqd.log" || true) error lines, $(grep -ci 'warn' "$TMP/callqd.log" || true) warnings; RTP drained: $(kill -TERM "$DPID" 2>/dev/null; sleep 0.3; tail -1 "$TMP/drain.out")"
grep -m3 -iE 'error|warn' "$TMP/callqd.log" | sed 's/^/    callqd: /' || true

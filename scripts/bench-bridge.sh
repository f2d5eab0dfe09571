#!/usr/bin/env bash
# bench-bridge.sh [N...] — N simultaneous bridged calls, both phones talking
# (default N: 250 500 1000), then a burst of short calls for memory.
#
# Talking calls: for each N a private server (callqd with demo data, or the
# peer below) with N + 10 agents on the queue 6000, registered to two sipp
# UAS processes: one answers PCMU, the other PCMA (XCODE percent of the
# agents, default 50: those calls are transcoded); RECORD percent of the
# agents (default 25) have record=yes. sipp callers (caller_queue.xml) ring
# 6000 at RATE calls/s; the agents answer after 0.2 s and talk until the
# window is over. Every caller and agent SDP names one port of
# build/bench/rtp_gen, which sends each leg 50 packets/s stamped with their
# send time and measures what comes back relayed from the other phone:
# packets/s against expected (N x 2 x 50), one-way delay added by the
# server (kernel arrival minus send stamp), inter-arrival deviation from
# 20 ms, relay jitter, and its own CPU. Printed with the server's CPU over
# the same window (all threads, and callqd's media threads alone; 100% = one
# core), its RSS, and the server CPU per relayed packet.
#
# Burst (callqd only; BURST=0 skips it): a fresh callqd, agents registered,
# then BURST calls (default 6000) at BURST_RATE/s (300), ring 1 s, talk 2 s,
# RTP from rtp_gen both ways, 25% recorded. RSS before the burst, at its peak,
# and SETTLE s (60) after the last call ended; the step fails (exit 1) when
# RSS is then more than 20% above the figure before the burst.
#
# Environment: RATE (calls/s of the ramp, 100), WARMUP (s after the last call
# answered, 5), WINDOW (s measured, 20), XCODE, RECORD (percent, above),
# BURST, BURST_RATE, SETTLE, MEDIA_THREADS (callqd's media_threads; default one
# per core: every call here is talking), PEER (an Asterisk 22 install prefix, e.g.
# /opt/asterisk: the talking-calls steps run against $PEER/sbin/asterisk
# instead of callqd, configured here with PJSIP, direct_media=no so media
# flows through it, Dial() to the agent phones and MixMonitor for RECORD
# percent of the calls).
# A benchmark: it prints figures; it fails only if it cannot run or the
# burst's memory check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CALLQD=${CALLQD:-$ROOT/build/callqd}
CTL=${CTL:-$ROOT/build/callqctl}
GEN=${GEN:-$ROOT/build/bench/rtp_gen}
SCN=$ROOT/tests/bench/scenarios
RATE=${RATE:-100}
WARMUP=${WARMUP:-5}
WINDOW=${WINDOW:-20}
XCODE=${XCODE:-50}
RECORD=${RECORD:-25}
BURST=${BURST:-6000}
BURST_RATE=${BURST_RATE:-300}
SETTLE=${SETTLE:-60}
PEER=${PEER:-}
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(250 500 1000)

[ -x "$CALLQD" ] || { echo "bench-bridge: $CALLQD missing (make all)" >&2; exit 1; }
[ -x "$GEN" ] || make -s --no-print-directory "build/bench/rtp_gen" >&2
command -v sipp >/dev/null || { echo "bench-bridge: sipp missing (scripts/deps.sh)" >&2; exit 1; }
if [ -n "$PEER" ] && [ ! -x "$PEER/sbin/asterisk" ]; then
	echo "bench-bridge: PEER=$PEER has no sbin/asterisk" >&2
	exit 1
fi
. scripts/bench-lib.sh
bench_tmp bridge
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

sys_ticks() { awk '{print $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
media_ticks() { # callqd's media threads (named media0, media1, ...)
	local t=0 d
	for d in /proc/"$1"/task/*; do
		grep -q '^media[0-9]' "$d/comm" 2>/dev/null && t=$((t + $(awk '{print $14 + $15}' "$d/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
# pick I PERCENT: whether item I is among the first PERCENT of every hundred, spread evenly
pick() { [ $(( ($1 + 1) * $2 / 100 )) -gt $(( $1 * $2 / 100 )) ]; }

SPID=        # the server's PID
SDIR=        # its directory
SIP=         # its SIP port
UPORTS=()    # agent phones: UAS 0 answers PCMU, UAS 1 PCMA

start_callqd() { # DIR MAX_CALLS
	local dir=$1 max=$2 rtp_min=2000
	local rtp_max=$((rtp_min + 4 * max + 400))
	[ "$rtp_max" -lt 32000 ] || { echo "bench-bridge: $max calls need more RTP ports than 2000-32000" >&2; exit 1; }
	bench_conf "$dir" "$SIP" "$rtp_min" "$rtp_max" "$max" "media_threads=${MEDIA_THREADS:-$(nproc)}"
	mkdir -p "$dir/recordings"
	"$CALLQD" -c "$dir/callq.conf" > "$dir/callqd.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	for _ in $(seq 100); do "$CTL" -s "$dir/callq.sock" whoami >/dev/null 2>&1 && break; sleep 0.1; done
	"$CTL" -s "$dir/callq.sock" whoami >/dev/null || { echo "bench-bridge: callqd did not start:"; cat "$dir/callqd.log"; exit 1; }
	"$CTL" -s "$dir/callq.sock" queue.set support recovery=0 >/dev/null
}

start_peer() { # DIR: Asterisk with PJSIP on $SIP, dialing the agent phones directly
	local dir=$1 a=$1/ast
	mkdir -p "$a/etc" "$a/run" "$a/log" "$a/spool/monitor" "$a/lib"
	cat > "$a/etc/asterisk.conf" <<CONF
[directories]
astetcdir => $a/etc
astmoddir => $PEER/lib/asterisk/modules
astvarlibdir => $a/lib
astdbdir => $a/lib
astkeydir => $a/lib
astdatadir => $PEER/var/lib/asterisk
astagidir => $a/lib
astspooldir => $a/spool
astrundir => $a/run
astlogdir => $a/log
[options]
nocolor = yes
CONF
	printf '[general]\n[logfiles]\nmessages => error,warning\n' > "$a/etc/logger.conf"
	printf '[general]\nrtpstart=2000\nrtpend=31999\n' > "$a/etc/rtp.conf"
	printf '[modules]\nautoload=yes\nnoload => chan_sip.so\n' > "$a/etc/modules.conf"
	cat > "$a/etc/pjsip.conf" <<CONF
[udp]
type=transport
protocol=udp
bind=127.0.0.1:$SIP
[trunk]
type=endpoint
context=bench
disallow=all
allow=ulaw,alaw
direct_media=no
[trunk]
type=identify
endpoint=trunk
match=127.0.0.1
[agent0]
type=aor
contact=sip:agent@127.0.0.1:${UPORTS[0]}
[agent0]
type=endpoint
aors=agent0
context=bench
disallow=all
allow=ulaw
direct_media=no
[agent8]
type=aor
contact=sip:agent@127.0.0.1:${UPORTS[1]}
[agent8]
type=endpoint
aors=agent8
context=bench
disallow=all
allow=alaw
direct_media=no
CONF
	cat > "$a/etc/extensions.conf" <<CONF
[bench]
exten => 6000,1,Answer()
 same => n,Set(A=\${IF(\$[\${RAND(0,99)} < $XCODE]?agent8:agent0)})
 same => n,ExecIf(\$[\${RAND(0,99)} < $RECORD]?MixMonitor($a/spool/monitor/\${UNIQUEID}.wav))
 same => n,Dial(PJSIP/\${A},60)
 same => n,Hangup()
CONF
	"$PEER/sbin/asterisk" -f -C "$a/etc/asterisk.conf" > "$dir/asterisk.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	sleep 5
	kill -0 "$SPID" 2>/dev/null || { echo "bench-bridge: asterisk did not start:"; tail -5 "$dir/asterisk.log"; exit 1; }
}

start_phones() { # DIR GEN_PORT RING_MS TALK_MS
	local dir=$1 u codec
	UPORTS=()
	for u in 0 1; do
		codec=$((u * 8))
		UPORTS+=("$(free_port)")
		sipp 127.0.0.1:"$SIP" -sf "$SCN/agent_uas.xml" -i 127.0.0.1 -p "${UPORTS[$u]}" -mp "$(media_port)" \
		     -key ring_ms "$3" -key talk_ms "$4" -key rtpport "$2" -key codec "$codec" \
		     -nostdin -trace_err -error_file "$dir/uas$u.err" > "$dir/uas$u.out" 2>&1 &
		PIDS+=($!)
	done
}

add_agents() { # DIR COUNT
	local dir=$1 n=$2 i l
	for ((i = 0; i < n; i++)); do
		l=$((20000 + i))
		echo "member.add $l name=B$l password=s$l role=agent"
		pick "$i" "$RECORD" && echo "member.set $l record=yes"
		echo "queue.assign support $l active=yes"
		echo "agent.login $l"
	done | "$CTL" -s "$dir/callq.sock" > "$dir/agents.out"
	local bad; bad=$(grep -vc '^OK' "$dir/agents.out" || true)
	[ "$bad" -eq 0 ] || { echo "bench-bridge: $bad agent set-up requests failed:"; grep -v '^OK' "$dir/agents.out" | head -3; exit 1; }
	{ echo SEQUENTIAL; for ((i = 0; i < n; i++)); do
		l=$((20000 + i)); u=0; pick "$i" "$XCODE" && u=1
		echo "$l;[authentication username=$l password=s$l];${UPORTS[$u]}"; done; } > "$dir/agents.csv"
	sipp 127.0.0.1:"$SIP" -sf "$SCN/register_many.xml" -inf "$dir/agents.csv" -i 127.0.0.1 -p "$(free_port)" \
	     -mp "$(media_port)" -r 200 -m "$n" -nostdin -timeout 120s -trace_err -error_file "$dir/reg.err" \
	     > "$dir/reg.out" 2>&1 || { echo "bench-bridge: registrations failed:"; tail -5 "$dir/reg.err"; exit 1; }
}

callers() { # DIR GEN_PORT COUNT RATE: sipp callers in the background, PID in CPID
	local dir=$1
	(cd "$dir" && exec sipp 127.0.0.1:"$SIP" -sf "$SCN/caller_queue.xml" -s 6000 -i 127.0.0.1 -p "$(free_port)" \
	     -mp "$(media_port)" -key mport "$2" -r "$4" -m "$3" -l "$3" -nostdin -timeout 200s \
	     -trace_err -error_file "$dir/callers.err" -trace_stat -stf "$dir/callers.csv" -fd 1 > "$dir/callers.out" 2>&1) &
	CPID=$!
	PIDS+=("$CPID")
}


run_talking() { # N
	local n=$1 dir=$TMP/n$1 gport
	mkdir -p "$dir"
	SIP=$(free_port)
	gport=$(free_port)
	local ramp=$(( (n + RATE - 1) / RATE )) ring_ms=200
	local lead=$((ramp + 1 + WARMUP))
	local talk_ms=$(( (lead + WINDOW + 3) * 1000 ))
	[ "$talk_ms" -lt 58000 ] || { echo "N=$n: ramp + warm-up + window must stay under 55 s (raise RATE)"; return; }
	start_phones "$dir" "$gport" "$ring_ms" "$talk_ms"
	if [ -n "$PEER" ]; then start_peer "$dir"; else start_callqd "$dir" $((n + 100)); add_agents "$dir" $((n + 10)); fi
	"$GEN" 127.0.0.1 "$gport" $((2 * n)) "$lead" "$WINDOW" > "$dir/gen.out" 2>&1 &
	local gpid=$!
	PIDS+=("$gpid")
	for _ in $(seq 50); do grep -q ready "$dir/gen.out" 2>/dev/null && break; sleep 0.1; done
	callers "$dir" "$gport" "$n" "$RATE"
	sleep "$lead"
	local c0 m0 c1 m1 k0 k1
	c0=$(ticks "$SPID"); m0=$(media_ticks "$SPID"); k0=$(sys_ticks "$SPID")
	sleep "$WINDOW"
	c1=$(ticks "$SPID"); m1=$(media_ticks "$SPID"); k1=$(sys_ticks "$SPID")
	local rss; rss=$(rss_kib "$SPID")
	wait "$gpid" || true
	wait "$CPID" || true
	local line ok fail
	line=$(grep -m1 '^legs' "$dir/gen.out" || echo "rtp_gen: no figures")
	ok=$(csv_field "$dir/callers.csv" 'SuccessfulCall(C)')
	fail=$(csv_field "$dir/callers.csv" 'FailedCall(C)')
	local rate_s; rate_s=$(echo "$line" | sed -nE 's/.*relayed ([0-9]+)\/s.*/\1/p')
	local cpu; cpu=$(pct $((c1 - c0)) "$WINDOW")
	printf 'N=%-5s calls ok %s failed %s  %s\n' "$n" "$ok" "$fail" "$line"
	printf '        %s CPU %s%% (media threads %s%%, in the kernel %s%%)  RSS %s MiB  %s us of server CPU per relayed packet\n' \
	       "${PEER:+asterisk}${PEER:-callqd}" "$cpu" "$(pct $((m1 - m0)) "$WINDOW")" "$(pct $((k1 - k0)) "$WINDOW")" $((rss / 1024)) \
	       "$(awk -v c="$cpu" -v r="${rate_s:-0}" 'BEGIN {if (r > 0) printf "%.2f", c / 100 * 1e6 / r; else print "-"}')"
	[ -n "$PEER" ] || grep -m3 -iE 'error|warn' "$dir/callqd.log" | sed 's/^/    callqd: /' || true
	cleanup
	sleep 1
}

run_burst() {
	local dir=$TMP/burst gport
	mkdir -p "$dir"
	SIP=$(free_port)
	gport=$(free_port)
	local inprog=$(( BURST_RATE * 33 / 10 + 1 ))
	local max=$(( inprog * 13 / 10 ))
	start_phones "$dir" "$gport" 1000 2000
	start_callqd "$dir" "$max"
	add_agents "$dir" $((max + 20))
	"$GEN" 127.0.0.1 "$gport" 0 0 0 $(( BURST / BURST_RATE + 30 + SETTLE )) > "$dir/gen.out" 2>&1 &
	PIDS+=($!)
	sleep 2
	local rss0; rss0=$(rss_kib "$SPID")
	callers "$dir" "$gport" "$BURST" "$BURST_RATE"
	wait "$CPID" || true
	local ok fail
	ok=$(csv_field "$dir/callers.csv" 'SuccessfulCall(C)')
	fail=$(csv_field "$dir/callers.csv" 'FailedCall(C)')
	local left
	for _ in $(seq 30); do                  # the last BYEs may still be on their way
		left=$("$CTL" -s "$dir/callq.sock" calls support | grep -c 'call=' || true)
		[ "$left" = 0 ] && break
		sleep 0.5
	done
	local peak; peak=$(hwm_kib "$SPID")
	local rss_end; rss_end=$(rss_kib "$SPID")
	sleep "$SETTLE"
	local rss1; rss1=$(rss_kib "$SPID")
	local verdict=ok
	[ "$rss1" -le $((rss0 * 12 / 10)) ] || verdict=FAILED
	printf 'burst: %s calls at %s/s: ok %s failed %s, left %s;  RSS before %s MiB, peak %s MiB, at the end %s MiB, %ss later %s MiB (%+d%%) -> %s\n' \
	       "$BURST" "$BURST_RATE" "$ok" "$fail" "${left:-?}" $((rss0 / 1024)) $((peak / 1024)) $((rss_end / 1024)) \
	       "$SETTLE" $((rss1 / 1024)) $(( (rss1 - rss0) * 100 / rss0 )) "$verdict"
	grep -m3 -iE 'error|warn' "$dir/callqd.log" | sed 's/^/    callqd: /' || true
	cleanup
	[ "$verdict" = ok ]
}

echo "# bench-bridge: $(nproc) cores; ${PEER:+peer $PEER; }ramp $RATE calls/s, warm-up ${WARMUP}s, window ${WINDOW}s;" \
     "$XCODE% of agents answer PCMA (transcoded), $RECORD% record"
for n in "${COUNTS[@]}"; do run_talking "$n"; done
[ -n "$PEER" ] || [ "$BURST" -eq 0 ] || run_burst

#!/usr/bin/env bash
# bench-attack.sh — held callers and talking calls while a peer misbehaves.
#
# Two runs one after the other, each on a fresh callqd (demo data) with the
# same load: HELD callers on hold in the queue sales (6001, no agent to take
# them; each caller's hold music measured at its own port of
# build/bench/rtp_sink, as in bench-hold.sh) and BRIDGED talking calls in the
# queue support (6000, BRIDGED + 10 agents on two sipp UAS, half answering
# PCMA, a quarter recorded, both phones being build/bench/rtp_gen, as in
# bench-bridge.sh), plus PROBE_RATE probe calls/s into sales over the window
# (set-up time = INVITE -> 200, sipp response time, 1 ms resolution).
#
#   quiet    the load alone;
#   attacked the same load and, from before the window to its end:
#     - a do-not-disturb agent phone: a member of sales, logged in, whose
#       phone (tests/bench/scenarios/agent_dnd.xml) answers every offer 486
#       at once: callqd must rest it retry_rejected (RETRY s) between offers;
#     - a stranger spraying RTP (build/bench/rtp_spray) from 127.0.0.9, an
#       address no call uses, at SPRAY_PPS packets/s to random even ports of
#       callqd's whole RTP range: dropped, counted in
#       callq_media_rx_foreign_total, heard by no call;
#     - a REGISTER flood with wrong passwords (register_bad.xml) from
#       127.0.0.8 at FLOOD_RATE/s over FLOOD_LOGINS logins (half the real
#       agents' logins, half unknown names): every one refused (403), the
#       guard shutting the source out (callq_sip_shut_out_total,
#       callq_sip_guarded_total), the real agents untouched.
#
# Printed per run: held streams heard, packets/s per stream, inter-arrival
# deviation p50/p99; bridged packets relayed/s of expected, inter-arrival
# deviation p50/p99; probe set-up p99; callqd CPU (100% = one core) and RSS
# over the window; for the attacked run, what the attackers did and what
# callqd refused (from /metrics), and the offers the DND phone got.
#
# Verdict ("attack: ok" or "attack: FAILED (...)"). Tolerances, the attacked
# run against the quiet one, chosen as what an operator would not hear or
# would accept paying for an attack:
#   - held: every stream heard, packets/s per stream within 1% of quiet,
#     deviation p99 at most quiet + TOL_DEV_MS (2 ms: a jitter buffer's
#     20 ms frame absorbs it);
#   - bridged: relayed packets/s within 1% of quiet, deviation p99 at most
#     quiet + TOL_DEV_MS, no call failed;
#   - probes: every probe answered, set-up p99 at most quiet + TOL_SETUP_MS
#     (50 ms: a caller does not notice 50 ms more before the greeting);
#   - callqd: CPU at most quiet + TOL_CPU points (25: the attack's packets
#     and digests cost something, but bounded), RSS at most quiet + 20% +
#     TOL_RSS_MIB (64 MiB: SIP keeps an answered REGISTER's transaction for
#     32 s, timer J, so a flood costs memory in proportion to its rate;
#     measured alone, 200 guesses/s level off at +65 MiB after 32 s);
#   - refused: no REGISTER of the flood accepted, the guard shut the source
#     out, rx_foreign counted the spray, the DND phone offered at most once
#     per RETRY s (smallest gap between two offers >= RETRY - 0.5 s).
# The script exits 1 when the verdict fails, 0 otherwise.
#
# Environment: HELD (500), BRIDGED (100), RATE (bridged calls/s of the ramp,
# 100), HOLD_RATE (held calls/s, 200), WARMUP (s after the ramps, 5), WINDOW
# (s measured, 20), PROBE_RATE (probe calls/s, 2), SPRAY_PPS (3000),
# FLOOD_RATE (REGISTER/s, 200), FLOOD_LOGINS (500), DND (1; 0 = no DND
# phone; SPRAY_PPS=0 or FLOOD_RATE=0 leave out those attackers too, to tell
# which one costs what), RETRY (sales'
# retry_rejected, 5), MEDIA_THREADS (default one per core), TOL_DEV_MS,
# TOL_SETUP_MS, TOL_CPU, TOL_RSS_MIB; RTP_MIN (10000: callqd's RTP ports
# from there, the held callers' sink ports above them, all under 32768);
# KEEP=1 keeps the run's files.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/build/bench
CALLQD=${CALLQD:-$ROOT/build/callqd}
CTL=${CTL:-$ROOT/build/callqctl}
SCN=$ROOT/tests/bench/scenarios
HELD=${HELD:-500}
BRIDGED=${BRIDGED:-100}
RATE=${RATE:-100}
HOLD_RATE=${HOLD_RATE:-200}
WARMUP=${WARMUP:-5}
WINDOW=${WINDOW:-20}
PROBE_RATE=${PROBE_RATE:-2}
SPRAY_PPS=${SPRAY_PPS:-3000}
FLOOD_RATE=${FLOOD_RATE:-200}
FLOOD_LOGINS=${FLOOD_LOGINS:-500}
RETRY=${RETRY:-5}
DND=${DND:-1}
TOL_DEV_MS=${TOL_DEV_MS:-2}
TOL_SETUP_MS=${TOL_SETUP_MS:-50}
TOL_CPU=${TOL_CPU:-25}
TOL_RSS_MIB=${TOL_RSS_MIB:-64}

[ -x "$CALLQD" ] || { echo "bench-attack: $CALLQD missing (make all)" >&2; exit 1; }
for p in rtp_sink rtp_gen rtp_spray udp_drain; do
	[ -x "$B/$p" ] || make -s --no-print-directory "build/bench/$p" >&2
done
command -v sipp >/dev/null || { echo "bench-attack: sipp missing (scripts/deps.sh)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench-attack: curl missing" >&2; exit 1; }
RTP_MIN=${RTP_MIN:-10000}
RTP_MAX=$((RTP_MIN + 4 * (HELD + 2 * BRIDGED + PROBE_RATE * 4) + 400))
SINK_BASE=$((RTP_MAX + 2))
[ $((SINK_BASE + 2 * HELD)) -lt 32768 ] || { echo "bench-attack: HELD/BRIDGED need more ports than $RTP_MIN-32767" >&2; exit 1; }
. scripts/bench-lib.sh
bench_tmp attack
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

pick() { [ $(( ($1 + 1) * $2 / 100 )) -gt $(( $1 * $2 / 100 )) ]; }
metric() { # FILE NAME: a process counter from a /metrics snapshot
	awk -v n="$2" '$1 == n {print $2; f = 1} END {if (!f) print 0}' "$1"
}
ctl() { "$CTL" -s "$DIR/callq.sock" "$@"; }

DIR=    # the run's directory
SIP=    # callqd's SIP port
HTTP=   # its HTTP port (/metrics)
QPID=

start_callqd() {
	bench_conf "$DIR" "$SIP" "$RTP_MIN" "$RTP_MAX" $((HELD + BRIDGED + PROBE_RATE * 4 + 100)) \
		"http_port=$HTTP" "media_threads=${MEDIA_THREADS:-$(nproc)}"
	mkdir -p "$DIR/recordings"
	"$CALLQD" -c "$DIR/callq.conf" > "$DIR/callqd.log" 2>&1 &
	QPID=$!
	PIDS+=("$QPID")
	for _ in $(seq 100); do ctl whoami >/dev/null 2>&1 && break; sleep 0.1; done
	ctl whoami >/dev/null || { echo "bench-attack: callqd did not start:"; cat "$DIR/callqd.log"; exit 1; }
	{
		echo "queue.set support recovery=0"
		echo "queue.set sales recovery=0 retry_rejected=$RETRY hold=position,pause:2,file:music.wav,wait,repeat"
	} | ctl > "$DIR/queues.out"
	! grep -v '^OK' "$DIR/queues.out" || { echo "bench-attack: queue set-up failed"; exit 1; }
}

uas() { # NAME SCENARIO ARGS...: a sipp UAS in the background; its port in UPORT
	local name=$1 scn=$2
	shift 2
	UPORT=$(free_port)
	(cd "$DIR" && exec sipp 127.0.0.1:"$SIP" -sf "$scn" -i 127.0.0.1 -p "$UPORT" -mp "$(media_port)" "$@" \
	     -nostdin -trace_err -error_file "$DIR/$name.err" > "$DIR/$name.out" 2>&1) &
	PIDS+=($!)
}

register() { # CSV COUNT NAME: digest REGISTERs of the agents in CSV (register_many.xml)
	sipp 127.0.0.1:"$SIP" -sf "$SCN/register_many.xml" -inf "$1" -i 127.0.0.1 -p "$(free_port)" \
	     -mp "$(media_port)" -r 200 -m "$2" -nostdin -timeout 120s -trace_err -error_file "$DIR/$3.err" \
	     > "$DIR/$3.out" 2>&1 || { echo "bench-attack: registrations failed:"; tail -5 "$DIR/$3.err"; exit 1; }
}

add_agents() { # PORT_PCMU PORT_PCMA: BRIDGED + 10 agents of support, logged in and registered
	local n=$((BRIDGED + 10)) i l u
	for ((i = 0; i < n; i++)); do
		l=$((20000 + i))
		echo "member.add $l name=B$l password=s$l role=agent"
		pick "$i" 25 && echo "member.set $l record=yes"
		echo "queue.assign support $l active=yes"
		echo "agent.login $l"
	done | ctl > "$DIR/agents.out"
	! grep -v '^OK' "$DIR/agents.out" | head -3 | grep . || { echo "bench-attack: agent set-up failed"; exit 1; }
	{ echo SEQUENTIAL; for ((i = 0; i < n; i++)); do
		l=$((20000 + i)); u=$1; pick "$i" 50 && u=$2
		echo "$l;[authentication username=$l password=s$l];$u"; done; } > "$DIR/agents.csv"
	register "$DIR/agents.csv" "$n" reg
}

add_dnd() { # PORT: the DND phone's member 30000, in sales only
	printf '%s\n' "member.add 30000 name=DND password=s30000 role=agent" \
	       "queue.assign sales 30000 active=yes" "agent.login 30000" | ctl > "$DIR/dnd.out"
	! grep -v '^OK' "$DIR/dnd.out" || { echo "bench-attack: DND agent set-up failed"; exit 1; }
	printf 'SEQUENTIAL\n30000;[authentication username=30000 password=s30000];%s\n' "$1" > "$DIR/dnd.csv"
	register "$DIR/dnd.csv" 1 regdnd
}

flood() { # SECONDS: wrong passwords from 127.0.0.8
	local i l
	{ echo SEQUENTIAL; for ((i = 0; i < FLOOD_LOGINS; i++)); do
		if [ $((i % 2)) = 0 ] && [ $((i / 2)) -lt "$BRIDGED" ]; then l=$((20000 + i / 2)); else l=guess$i; fi
		echo "$l;[authentication username=$l password=wrong$i]"; done; } > "$DIR/flood.csv"
	(cd "$DIR" && exec sipp 127.0.0.1:"$SIP" -sf "$SCN/register_bad.xml" -inf "$DIR/flood.csv" -i 127.0.0.8 \
	     -p "$(free_port)" -r "$FLOOD_RATE" -m $((FLOOD_RATE * $1)) -nostdin -timeout $(($1 + 30))s \
	     -trace_err -error_file "$DIR/flood.err" -trace_stat -stf "$DIR/flood.stat" -fd 1 \
	     > "$DIR/flood.out" 2>&1) &
	FPID=$!
	PIDS+=("$FPID")
}

# One run: prints its figures and leaves them in the variables R_<name>_<mode>.
run() { # MODE (quiet|attacked)
	local mode=$1
	DIR=$TMP/$mode
	mkdir -p "$DIR"
	SIP=$(free_port)
	HTTP=$(free_port)
	local gport dport
	gport=$(free_port)
	dport=$(free_port)
	local ramp_b=$(( (BRIDGED + RATE - 1) / RATE )) ramp_h=$(( (HELD + HOLD_RATE - 1) / HOLD_RATE ))
	local ramp=$(( ramp_b > ramp_h ? ramp_b : ramp_h ))
	local lead=$((ramp + 1 + WARMUP))
	local talk_ms=$(( (lead + WINDOW + 3) * 1000 ))
	[ "$talk_ms" -lt 58000 ] || { echo "bench-attack: ramp + warm-up + window must stay under 55 s (raise RATE)"; exit 1; }

	uas uas0 "$SCN/agent_uas.xml" -key ring_ms 200 -key talk_ms "$talk_ms" -key rtpport "$gport" -key codec 0
	local u0=$UPORT
	uas uas1 "$SCN/agent_uas.xml" -key ring_ms 200 -key talk_ms "$talk_ms" -key rtpport "$gport" -key codec 8
	local u1=$UPORT
	start_callqd
	add_agents "$u0" "$u1"
	if [ "$mode" = attacked ] && [ "$DND" = 1 ]; then
		uas dnd "$SCN/agent_dnd.xml" -trace_logs -log_file "$DIR/dnd.log"
		add_dnd "$UPORT"
	fi

	"$B/rtp_sink" 127.0.0.1 "$SINK_BASE" "$HELD" "$lead" "$WINDOW" > "$DIR/sink.out" 2>&1 &
	local spid=$!
	PIDS+=("$spid")
	"$B/rtp_gen" 127.0.0.1 "$gport" $((2 * BRIDGED)) "$lead" "$WINDOW" > "$DIR/gen.out" 2>&1 &
	local gpid=$!
	PIDS+=("$gpid")
	"$B/udp_drain" 127.0.0.1 "$dport" > "$DIR/drain.out" 2>&1 &
	PIDS+=($!)
	for f in sink gen drain; do
		for _ in $(seq 50); do grep -q ready "$DIR/$f.out" 2>/dev/null && break; sleep 0.1; done
		grep -q ready "$DIR/$f.out" || { echo "bench-attack: $f did not start: $(tail -1 "$DIR/$f.out")"; exit 1; }
	done

	{ echo SEQUENTIAL; for ((i = 0; i < HELD; i++)); do echo "$((SINK_BASE + 2 * i))"; done; } > "$DIR/held.csv"
	printf 'SEQUENTIAL\n%s\n' "$dport" > "$DIR/probe.csv"
	(cd "$DIR" && exec sipp 127.0.0.1:"$SIP" -sf "$SCN/caller_hold.xml" -inf "$DIR/held.csv" -s 6001 -i 127.0.0.1 \
	     -p "$(free_port)" -mp "$(media_port)" -r "$HOLD_RATE" -l "$HELD" -m "$HELD" \
	     -d $(( (lead + WINDOW + 4) * 1000 )) -max_socket $((HELD + 100)) -nostdin -trace_err \
	     -error_file "$DIR/held.err" -trace_stat -stf "$DIR/held.stat" -fd 1 > "$DIR/held.out" 2>&1) &
	PIDS+=($!)
	(cd "$DIR" && exec sipp 127.0.0.1:"$SIP" -sf "$SCN/caller_queue.xml" -s 6000 -i 127.0.0.1 -p "$(free_port)" \
	     -mp "$(media_port)" -key mport "$gport" -r "$RATE" -m "$BRIDGED" -l "$BRIDGED" -nostdin -timeout 200s \
	     -trace_err -error_file "$DIR/bridged.err" -trace_stat -stf "$DIR/bridged.stat" -fd 1 \
	     > "$DIR/bridged.out" 2>&1) &
	local bpid=$!
	PIDS+=("$bpid")

	sleep $((lead - 2))
	local attack_s=$((WINDOW + 4)) spraypid= FPID=
	if [ "$mode" = attacked ]; then
		curl -s "http://127.0.0.1:$HTTP/metrics" > "$DIR/metrics0"
		echo "rtp_spray: none" > "$DIR/spray.out"
		if [ "$SPRAY_PPS" != 0 ]; then
			"$B/rtp_spray" 127.0.0.9 127.0.0.1 "$RTP_MIN" "$RTP_MAX" "$SPRAY_PPS" "$attack_s" > "$DIR/spray.out" 2>&1 &
			spraypid=$!
			PIDS+=("$spraypid")
		fi
		[ "$FLOOD_RATE" = 0 ] || flood "$attack_s"
	fi
	sleep 2
	local nprobe=$((PROBE_RATE * WINDOW)) ppid
	(cd "$DIR" && exec sipp 127.0.0.1:"$SIP" -sf "$SCN/caller_hold.xml" -inf "$DIR/probe.csv" -s 6001 -i 127.0.0.1 \
	     -p "$(free_port)" -mp "$(media_port)" -r "$PROBE_RATE" -m "$nprobe" -d 2000 -nostdin -timeout $((WINDOW + 30))s \
	     -trace_err -error_file "$DIR/probe.err" -trace_rtt -rtt_freq 1 -trace_stat -stf "$DIR/probe.stat" -fd 1 \
	     > "$DIR/probe.out" 2>&1) &
	ppid=$!
	PIDS+=("$ppid")
	local c0 c1 rss a0=0 a1=0 p
	c0=$(ticks "$QPID")
	for p in $spraypid $FPID; do a0=$((a0 + $(ticks "$p"))); done
	sleep "$WINDOW"
	c1=$(ticks "$QPID")
	for p in $spraypid $FPID; do a1=$((a1 + $(ticks "$p"))); done
	rss=$(rss_kib "$QPID")
	wait "$spid" || true
	wait "$gpid" || true
	wait "$ppid" || true
	local cpu; cpu=$(pct $((c1 - c0)) "$WINDOW")

	# held: "streams H/N  packets/s X  deviation p50 A ms  p99 B ms  max C ms"
	local sl heard pps p50 p99
	sl=$(tail -1 "$DIR/sink.out")
	grep -q '^streams' "$DIR/sink.out" || { echo "bench-attack: $mode: no figures from rtp_sink: $sl"; exit 1; }
	grep -q '^legs' "$DIR/gen.out" || { echo "bench-attack: $mode: no figures from rtp_gen: $(tail -1 "$DIR/gen.out")"; exit 1; }
	read -r heard pps p50 p99 < <(echo "$sl" | sed -nE 's/^streams ([0-9]+)\/[0-9]+ +packets\/s ([0-9.]+) +deviation p50 ([0-9.]+) ms +p99 ([0-9.]+) ms.*/\1 \2 \3 \4/p') || true
	local per; per=$(awk -v p="${pps:-0}" -v n="$HELD" 'BEGIN {printf "%.2f", n ? p / n : 0}')
	# bridged: rtp_gen's line
	local gl rel relp bp50 bp99
	gl=$(grep -m1 '^legs' "$DIR/gen.out" || echo "")
	rel=$(echo "$gl" | sed -nE 's/.*relayed ([0-9]+)\/s.*/\1/p')
	relp=$(echo "$gl" | sed -nE 's/.*expected \(([0-9.]+)%\).*/\1/p')
	read -r bp50 bp99 < <(echo "$gl" | sed -nE 's/.*inter-arrival dev p50\/p99\/max ([0-9.]+)\/([0-9.]+)\/.*/\1 \2/p') || true
	# probes: INVITE -> 200 of every probe
	local pok pfail sp99
	pok=$(csv_field "$DIR/probe.stat" 'SuccessfulCall(C)')
	pfail=$(csv_field "$DIR/probe.stat" 'FailedCall(C)')
	sp99=$(awk -F';' 'NR > 1 && $3 == 1 {print $2}' "$DIR"/*_rtt.csv 2>/dev/null | sort -n |
	       awk '{v[NR] = $1} END {if (NR) {i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; printf "%.0f", v[i]} else print "-"}')

	printf '%-8s held %s/%s heard, %s packets/s per stream, dev p50/p99 %s/%s ms | bridged %s/s relayed (%s%% of expected), dev p50/p99 %s/%s ms | probes %s ok %s failed, set-up p99 %s ms | callqd CPU %s%% RSS %s MiB\n' \
	       "$mode" "${heard:-0}" "$HELD" "$per" "${p50:--}" "${p99:--}" "${rel:-0}" "${relp:-0}" "${bp50:--}" "${bp99:--}" \
	       "$pok" "$pfail" "$sp99" "$cpu" $((rss / 1024))
	eval "R_heard_$mode=${heard:-0} R_per_$mode=$per R_p99_$mode=${p99:-999} R_rel_$mode=${rel:-0}"
	eval "R_bp99_$mode=${bp99:-999} R_pok_$mode=$pok R_pfail_$mode=$pfail R_sp99_$mode=${sp99/-/99999}"
	eval "R_cpu_$mode=$cpu R_rss_$mode=$rss"

	if [ "$mode" = attacked ]; then
		[ -z "$spraypid" ] || wait "$spraypid" || true
		[ -z "$FPID" ] || wait "$FPID" || true
		curl -s "http://127.0.0.1:$HTTP/metrics" > "$DIR/metrics1"
		local m d
		for m in callq_media_rx_foreign_total callq_sip_refused_total callq_sip_shut_out_total callq_sip_guarded_total; do
			d=$(( $(metric "$DIR/metrics1" $m) - $(metric "$DIR/metrics0" $m) ))
			eval "R_$m=$d"
		done
		local fok ffail
		fok=$(csv_field "$DIR/flood.stat" 'SuccessfulCall(C)')
		ffail=$(csv_field "$DIR/flood.stat" 'FailedCall(C)')
		R_flood_ok=$fok R_flood_fail=$ffail
		# offers to the DND phone: "OFFER <sipp clock ms>" lines
		local offers gap
		touch "$DIR/dnd.log"
		offers=$(grep -c '^OFFER' "$DIR/dnd.log" || true)
		gap=$(awk '/^OFFER/ {t = $2 / 1000; if (n++) {g = t - last; if (min == "" || g < min) min = g} last = t}
		           END {if (min == "") print "-"; else printf "%.2f", min}' "$DIR/dnd.log")
		R_offers=${offers:-0} R_gap=$gap
		local run_s=$(( lead - 2 + 2 + WINDOW ))
		printf '         attack: %s | REGISTER flood %s refused as expected, %s not (accepted or unanswered) | DND phone: %s offers in ~%s s, smallest gap %s s (retry_rejected %s s) | sprayer + flood CPU %s%%\n' \
		       "$(cat "$DIR/spray.out")" "$fok" "$ffail" "$R_offers" "$run_s" "$gap" "$RETRY" "$(pct $((a1 - a0)) "$WINDOW")"
		printf '         refused by callqd (during the attack): rx_foreign %s, sip_refused %s, shut_out %s, guarded (403 while shut out) %s\n' \
		       "$R_callq_media_rx_foreign_total" "$R_callq_sip_refused_total" "$R_callq_sip_shut_out_total" "$R_callq_sip_guarded_total"
	fi
	grep -m3 -iE 'error|warn' "$DIR/callqd.log" | sed 's/^/    callqd: /' || true
	cleanup
	sleep 1
}

echo "# bench-attack: $(nproc) cores; $HELD held + $BRIDGED bridged, window ${WINDOW}s; attack: DND phone," \
     "RTP spray $SPRAY_PPS/s from 127.0.0.9, REGISTER flood $FLOOD_RATE/s over $FLOOD_LOGINS logins from 127.0.0.8"
run quiet
run attacked

bad=()
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; }
[ "$R_heard_attacked" -eq "$HELD" ] || bad+=("held streams heard $R_heard_attacked/$HELD")
le "$R_per_quiet" "$(awk -v a="$R_per_attacked" 'BEGIN {print a * 1.01}')" || bad+=("held packets/s per stream $R_per_attacked < 99% of $R_per_quiet")
le "$R_p99_attacked" "$(awk -v a="$R_p99_quiet" -v t="$TOL_DEV_MS" 'BEGIN {print a + t}')" || bad+=("held p99 $R_p99_attacked > $R_p99_quiet + $TOL_DEV_MS ms")
le "$R_rel_quiet" "$(awk -v a="$R_rel_attacked" 'BEGIN {print a * 1.01}')" || bad+=("relayed $R_rel_attacked/s < 99% of $R_rel_quiet/s")
le "$R_bp99_attacked" "$(awk -v a="$R_bp99_quiet" -v t="$TOL_DEV_MS" 'BEGIN {print a + t}')" || bad+=("bridged p99 $R_bp99_attacked > $R_bp99_quiet + $TOL_DEV_MS ms")
[ "$R_pfail_attacked" -eq 0 ] && [ "$R_pok_attacked" -gt 0 ] || bad+=("probes: $R_pok_attacked ok, $R_pfail_attacked failed")
le "$R_sp99_attacked" "$(awk -v a="$R_sp99_quiet" -v t="$TOL_SETUP_MS" 'BEGIN {print a + t}')" || bad+=("probe set-up p99 $R_sp99_attacked > $R_sp99_quiet + $TOL_SETUP_MS ms")
le "$R_cpu_attacked" $((R_cpu_quiet + TOL_CPU)) || bad+=("CPU $R_cpu_attacked% > $R_cpu_quiet% + $TOL_CPU")
le "$R_rss_attacked" $((R_rss_quiet * 12 / 10 + TOL_RSS_MIB * 1024)) || bad+=("RSS $((R_rss_attacked / 1024)) MiB > 120% of $((R_rss_quiet / 1024)) MiB + $TOL_RSS_MIB MiB")
if [ "$FLOOD_RATE" != 0 ]; then
	[ "$R_flood_fail" -eq 0 ] && [ "$R_flood_ok" -gt 0 ] || bad+=("REGISTER flood: $R_flood_ok refused, $R_flood_fail otherwise")
	[ "$R_callq_sip_shut_out_total" -gt 0 ] && [ "$R_callq_sip_guarded_total" -gt 0 ] || bad+=("the guard shut nobody out")
fi
[ "$SPRAY_PPS" = 0 ] || [ "$R_callq_media_rx_foreign_total" -gt 0 ] || bad+=("rx_foreign counted no sprayed packet")
if [ "$DND" = 1 ]; then
	[ "$R_offers" -gt 0 ] || bad+=("the DND phone was never offered a call")
	[ "$R_gap" = - ] || le "$(awk -v r="$RETRY" 'BEGIN {print r - 0.5}')" "$R_gap" || bad+=("DND offers $R_gap s apart < retry_rejected $RETRY s")
fi
printf 'tolerances: held and bridged packets/s within 1%%, deviation p99 +%s ms, probe set-up p99 +%s ms, CPU +%s points, RSS +20%% +%s MiB\n' \
       "$TOL_DEV_MS" "$TOL_SETUP_MS" "$TOL_CPU" "$TOL_RSS_MIB"
if [ ${#bad[@]} -eq 0 ]; then
	echo "attack: ok (the figures under attack are within the tolerances of the quiet run; every attack refused)"
else
	echo "attack: FAILED ($(IFS=';'; echo "${bad[*]}"))"
	exit 1
fi

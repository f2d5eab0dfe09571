#!/usr/bin/env bash
# bench-hold.sh [N...] — N concurrent callers on hold (default 250 500 1000
# 2000). For each N: a private callqd (demo data, no agent logged in, temporary
# config and database), sipp placing N calls to the demo queue 6000 whose SDP
# sends each caller's RTP to its own port of build/bench/rtp_sink, which
# measures every stream's inter-arrival deviation from 20 ms on kernel
# timestamps. Prints per N: streams heard, packets/s, p50/p99/max deviation,
# callqd's CPU over the measuring window (100% = one core), and its RSS.
# MEDIA_THREADS sets callqd's media_threads (default: callqd's own).
# A benchmark, not a test: it prints figures and fails only if it cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CALLQD=${CALLQD:-$ROOT/build/callqd}
SINK=${SINK:-$ROOT/build/bench/rtp_sink}
RATE=${RATE:-200}          # new calls per second
WARMUP=${WARMUP:-3}        # seconds after the last call before measuring
WINDOW=${WINDOW:-10}       # seconds measured
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(250 500 1000 2000)

[ -x "$CALLQD" ] || { echo "bench-hold: $CALLQD missing (make all)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "bench-hold: sipp missing (scripts/deps.sh)" >&2; exit 1; }
. scripts/bench-lib.sh
bench_tmp hold
if [ ! -x "$SINK" ]; then           # not built by `make bench`: it is self-contained
	cc -std=gnu11 -O2 -D_GNU_SOURCE -o "$TMP/rtp_sink" tests/bench/rtp_sink.c
	SINK=$TMP/rtp_sink
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for n in "${COUNTS[@]}"; do
	[ $((10000 + 12 * n / 5 + 2 * n + 204)) -lt 32768 ] || { echo "bench-hold: N=$n needs more ports than 10000-32767" >&2; exit 1; }
done


cat > "$TMP/caller.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- Caller on hold: media goes to the port in field 0 of the injection file. -->
<scenario name="bench-caller">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Bench" <sip:bench[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:bench@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=bench 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [field0] RTP/AVP 0
      a=sendrecv

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Bench" <sip:bench[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <pause/>
  <send retrans="500"><![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Bench" <sip:bench[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200"/>
</scenario>
XML


run_one() {
	# Fixed ranges stay under the ephemeral ports (32768 up) that free_port
	# and sipp's own sockets take: callqd's RTP first, the sink's above it.
	local n=$1 dir=$TMP/n$1 sip mp rtp_min=10000
	local rtp_max=$((rtp_min + 12 * n / 5 + 200))   # 1.2 even ports per leg: room for random draws
	local sink_base=$((rtp_max + 2))
	mkdir -p "$dir"
	sip=$(free_port)
	mp=$(free_port)
	bench_conf "$dir" "$sip" "$rtp_min" "$rtp_max" $((n + 100)) ${MEDIA_THREADS:+"media_threads=$MEDIA_THREADS"}
	{ echo SEQUENTIAL; for ((i = 0; i < n; i++)); do echo "$((sink_base + 2 * i))"; done; } > "$dir/ports.csv"
	local ramp=$(( (n + RATE - 1) / RATE ))
	local hold_ms=$(( (ramp + WARMUP + WINDOW + 4) * 1000 ))

	"$CALLQD" -c "$dir/callq.conf" > "$dir/callqd.log" 2>&1 &
	local qpid=$!
	PIDS+=("$qpid")
	for _ in $(seq 50); do [ -S "$dir/callq.sock" ] && break; sleep 0.1; done
	[ -S "$dir/callq.sock" ] || { echo "N=$n: callqd did not start:"; cat "$dir/callqd.log"; cleanup; return; }
	local rss0; rss0=$(rss_kib "$qpid")

	"$SINK" 127.0.0.1 "$sink_base" "$n" $((ramp + WARMUP)) "$WINDOW" > "$dir/sink.out" 2>&1 &
	local spid=$!
	PIDS+=("$spid")
	for _ in $(seq 50); do grep -q ready "$dir/sink.out" 2>/dev/null && break; sleep 0.1; done

	sipp 127.0.0.1:"$sip" -sf "$TMP/caller.xml" -inf "$dir/ports.csv" -s 6000 -i 127.0.0.1 \
	     -p "$(free_port)" -mp "$mp" -r "$RATE" -l "$n" -m "$n" -d "$hold_ms" \
	     -max_socket $((n + 100)) -nostdin -trace_err -error_file "$dir/sipp.err" \
	     > "$dir/sipp.log" 2>&1 &
	PIDS+=($!)

	sleep $((ramp + WARMUP))
	local c0 c1 rss
	c0=$(ticks "$qpid")
	sleep "$WINDOW"
	c1=$(ticks "$qpid")
	rss=$(rss_kib "$qpid")
	wait "$spid" || true
	local hz; hz=$(getconf CLK_TCK)
	printf 'N=%-5s %s  callqd CPU %s%%  RSS %s MiB (%s KiB per caller)\n' "$n" \
	       "$(tail -1 "$dir/sink.out")" \
	       "$(awk -v d=$((c1 - c0)) -v hz="$hz" -v w="$WINDOW" 'BEGIN {printf "%.0f", 100 * d / hz / w}')" \
	       "$((rss / 1024))" "$(( (rss - rss0) / n ))"
	grep -m3 -iE 'error|warn' "$dir/callqd.log" | sed 's/^/    callqd: /' || true
	cleanup
	sleep 1                              # let the ports go before the next round
}

echo "# bench-hold: $(nproc) cores; rate $RATE calls/s, warm-up ${WARMUP}s, window ${WINDOW}s"
for n in "${COUNTS[@]}"; do run_one "$n"; done

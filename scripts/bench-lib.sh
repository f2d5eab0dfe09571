# bench-lib.sh — what the bench-*.sh scripts share; sourced, never run.
#
# bench_tmp NAME: a private folder in $TMP (/tmp/callq-NAME-XXXXXX), removed
# at exit unless KEEP is set; processes added to PIDS are killed at exit.
# free_port, media_port: free loopback UDP ports; ticks, rss_kib, hwm_kib:
# a process's CPU ticks (user + system) and memory; pct TICKS SECONDS: CPU in
# percent of one core; csv_field FILE NAME: the last value of a sipp stat CSV
# column; bench_conf DIR SIP_PORT RTP_MIN RTP_MAX MAX_CALLS [KEY=VALUE...]:
# DIR/callq.conf for a private callqd (demo data, no RTP timeout, no
# per-source cap), then each KEY=VALUE as a line.

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
}
bench_tmp() {
	TMP=$(mktemp -d "/tmp/callq-$1-XXXXXX")
	trap 'cleanup; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
}

free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
media_port() { # a port free with port+2 (sipp's -mp binds audio there and video at +2)
	python3 -c '
import socket
def ok(p):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try: s.bind(("127.0.0.1", p)); return True
        except OSError: return False
for _ in range(100):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    if p + 2 < 65536 and ok(p + 2): print(p); break'
}

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
pct() { awk -v d="$1" -v hz="$hz" -v w="$2" 'BEGIN {printf "%.0f", 100 * d / hz / w}'; }

csv_field() {
	[ -f "$1" ] || { echo 0; return; }
	awk -F';' -v n="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == n) c = i; next} {v = $c} END {print v + 0}' "$1"
}

bench_conf() {
	local dir=$1 kv
	cat > "$dir/callq.conf" <<CONF
sip_listen   = 127.0.0.1
sip_port     = $2
rtp_ip       = 127.0.0.1
rtp_port_min = $3
rtp_port_max = $4
db           = $dir/callq.db
control      = $dir/callq.sock
recordings   = $dir/recordings
media        = $ROOT/media
log_level    = warn
seed_demo    = yes
rtp_timeout  = 0
max_calls    = $5
# the load generator stands for one trunk: one source address
max_calls_per_source = 0
CONF
	shift 5
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}" >> "$dir/callq.conf"; done
}
